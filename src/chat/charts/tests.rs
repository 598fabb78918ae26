//! The charts drawn from real series: the PNG's size and opacity, what the words on it say, and
//! the tables adding up.

use super::canvas::test_support::decode;
use super::*;
use crate::domain::{BalanceHistory, DaySpend, Payment, SpendGroup, SpendSeries};
use crate::money::{Fen, Yuan};
use time::macros::{date, datetime};
use time::{Date, Duration};

fn yuan(text: &str) -> Yuan {
    text.parse().expect("an amount")
}

/// Fourteen days of eight requesters, the last two days estimated (the bills are not in yet).
fn fortnight() -> SpendSeries {
    let days: Vec<Date> = (0..14).map(|i| date!(2026 - 11 - 01) + Duration::days(i)).collect();
    let names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
    let groups = names
        .iter()
        .enumerate()
        .map(|(g, name)| SpendGroup {
            name: (*name).into(),
            per_day: (0..days.len())
                .map(|d| {
                    let amount = yuan(&format!("{}.{:02}37", 40 / (g + 1) + d % 5, (g * 7 + d * 3) % 100));
                    if d >= 12 {
                        DaySpend {
                            estimated: amount,
                            ..DaySpend::NONE
                        }
                    } else {
                        DaySpend {
                            billed: amount,
                            ..DaySpend::NONE
                        }
                    }
                })
                .collect(),
        })
        .collect();
    SpendSeries {
        title: "Spend 2026-11-01 – 2026-11-14 by requester".into(),
        days,
        groups,
    }
}

fn all_billed(mut series: SpendSeries) -> SpendSeries {
    for day in series.groups.iter_mut().flat_map(|g| &mut g.per_day) {
        *day = DaySpend {
            billed: day.amount(),
            ..DaySpend::NONE
        };
    }
    series
}

/// Three weeks of readings four times a day, 45.60 CNY a day of burn and two renewals ahead.
fn three_weeks() -> BalanceHistory {
    let start = datetime!(2026-11-02 00:00 UTC);
    let readings = (0..84)
        .map(|i| {
            (
                start + Duration::hours(6 * i),
                Fen::new(300_000 - 1_140 * i - (i % 3) * 250),
            )
        })
        .collect();
    BalanceHistory {
        readings,
        burn_per_day: yuan("45.60"),
        payments: vec![
            Payment {
                at: datetime!(2026-11-28 09:00 UTC),
                amount: Fen::new(30_000),
                what: "renewal of ins-abc (request #12)".into(),
            },
            Payment {
                at: datetime!(2026-12-10 09:00 UTC),
                amount: Fen::new(45_050),
                what: "renewal of ins-def (request #19)".into(),
            },
        ],
        // 2,048.80 CNY at the last reading, less both renewals, lasts 1,298.30 / 45.60 days more.
        runs_out_at: Some(datetime!(2026-12-21 05:18 UTC)),
    }
}

fn assert_documented_opaque_png(png: &[u8]) -> Vec<u8> {
    let (width, height, color, pixels) = decode(png);
    assert_eq!((width, height), (WIDTH, HEIGHT));
    assert_eq!(color, png::ColorType::Rgb, "no alpha channel: the chart is opaque");
    assert!(
        png.len() < 1024 * 1024,
        "a chart is {} bytes, far under any attachment limit",
        png.len()
    );
    pixels
}

#[test]
fn the_spend_chart_is_an_opaque_png_of_the_documented_size_saying_the_exact_total() {
    let series = fortnight();
    let drawn = spend::draw(&series).expect("a chart");
    let pixels = assert_documented_opaque_png(&drawn.png);
    assert!(pixels.chunks(3).any(|p| p != [0xfa, 0xfa, 0xfb]), "something is drawn");
    let total = format!("Total {}", series.total());
    assert_eq!(
        total, "Total 1,755.6944 CNY",
        "the exact decimal, fractions of a fen and all"
    );
    assert!(drawn.words.contains(&total), "{:?}", drawn.words);
    assert!(
        drawn.words.iter().any(|w| w == "other (3 groups)"),
        "the smallest groups are folded"
    );
    assert_eq!(
        drawn.words.iter().filter(|w| w.ends_with("Nov")).count(),
        7,
        "a date every other day"
    );
}

#[test]
fn estimated_figures_change_the_picture_and_the_note_says_how_much_is_estimated() {
    let estimated = spend::draw(&fortnight()).expect("a chart");
    let billed = spend::draw(&all_billed(fortnight())).expect("a chart");
    assert_ne!(
        decode(&estimated.png).3,
        decode(&billed.png).3,
        "estimates are drawn differently"
    );
    let note = estimated
        .words
        .iter()
        .find(|w| w.starts_with("Solid: billed"))
        .expect("a note");
    assert!(
        note.contains(&spend::estimated_total(&fortnight()).to_string()),
        "{note}"
    );
    assert!(
        estimated.words.contains(&"estimated".to_owned()),
        "the legend has a key for estimates"
    );
    assert!(billed.words.contains(&"Every figure is billed by Tencent.".to_owned()));
}

#[test]
fn an_empty_series_draws_a_chart_that_says_there_is_no_spend() {
    let empty = SpendSeries {
        title: "Spend 2026-11 by tag".into(),
        days: vec![date!(2026 - 11 - 01)],
        groups: Vec::new(),
    };
    let drawn = spend::draw(&empty).expect("a chart");
    assert_documented_opaque_png(&drawn.png);
    assert!(
        drawn.words.contains(&"No spend in this period".to_owned()),
        "{:?}",
        drawn.words
    );
    assert_eq!(spend_table(&empty), "Spend 2026-11 by tag: no spend in this period.");
}

#[test]
fn the_spend_table_totals_equal_the_series_total_and_each_day_sum() {
    let series = fortnight();
    let table = spend_table(&series);
    assert!(
        table.chars().count() <= ALT_TEXT_LIMIT,
        "{} characters",
        table.chars().count()
    );
    assert!(table.contains(&format!("{} in total", series.total())), "{table}");
    for (i, day) in series.days.iter().enumerate() {
        assert!(
            table.contains(&format!("{day} {}", series.day_total(i))),
            "{day} missing in {table}"
        );
    }
    let group_sum = spend::shown_groups(&series).iter().map(|g| g.total().amount()).sum();
    assert_eq!(Yuan::new(group_sum), series.total());
    assert!(table.contains("other (3 groups)"), "{table}");
}

#[test]
fn a_long_spend_table_folds_its_oldest_days_into_one_sum_and_still_adds_up() {
    let mut series = fortnight();
    let days: Vec<Date> = (0..92).map(|i| date!(2026 - 09 - 01) + Duration::days(i)).collect();
    for group in &mut series.groups {
        group.per_day = (0..days.len()).map(|d| group.per_day[d % 14]).collect();
    }
    series.days = days;
    let table = spend_table(&series);
    assert!(
        table.chars().count() <= ALT_TEXT_LIMIT,
        "{} characters",
        table.chars().count()
    );
    let by_day = table
        .lines()
        .find(|l| l.starts_with("By day: "))
        .expect("a line of days");
    let folded = by_day.split("; ").next().expect("a first entry");
    let cut: usize = folded
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count");
    let folded_sum = Yuan::new((0..cut).map(|i| series.day_total(i).amount()).sum());
    assert!(folded.starts_with("By day: 2026-09-01 to "), "{folded}");
    assert!(
        folded.ends_with(&folded_sum.to_string()),
        "{folded} should carry {folded_sum}"
    );
    let listed = Yuan::new((cut..series.days.len()).map(|i| series.day_total(i).amount()).sum());
    assert_eq!(folded_sum.plus(listed), series.total());
    let last = series.days.len() - 1;
    assert!(table.contains(&format!("{} {}", series.days[last], series.day_total(last))));
}

#[test]
fn the_runway_chart_is_an_opaque_png_labelling_the_day_it_runs_out_and_each_renewal() {
    let history = three_weeks();
    let drawn = runway::draw(&history).expect("a chart");
    assert_documented_opaque_png(&drawn.png);
    assert!(drawn.words.contains(&"runs out 21 Dec".to_owned()), "{:?}", drawn.words);
    assert!(
        drawn
            .words
            .contains(&"At today's burn it runs out on 2026-12-21.".to_owned())
    );
    assert!(drawn.words.contains(&"−300.00 CNY".to_owned()), "{:?}", drawn.words);
    assert!(drawn.words.contains(&"−450.50 CNY".to_owned()), "{:?}", drawn.words);
    assert!(drawn.words.contains(&"at today's burn of 45.60 CNY a day".to_owned()));
}

#[test]
fn the_runway_table_names_the_day_it_runs_out_and_totals_the_renewals() {
    let history = three_weeks();
    let table = runway_table(&history);
    assert!(
        table.chars().count() <= ALT_TEXT_LIMIT,
        "{} characters",
        table.chars().count()
    );
    assert!(table.contains("it runs out on 2026-12-21"), "{table}");
    assert!(table.contains("Renewals ahead: 2, 750.50 CNY in total"), "{table}");
    assert!(
        table.contains("2026-11-28 300.00 CNY renewal of ins-abc (request #12)"),
        "{table}"
    );
    let last = history.readings.last().expect("a reading").1;
    assert!(
        table.contains(&format!("2026-11-22 {last}")),
        "the day's last reading: {table}"
    );
    assert!(!table.contains("not listed"), "three weeks fit: {table}");

    let mut long = history;
    let start = datetime!(2026-09-01 23:00 UTC);
    long.readings = (0..90)
        .map(|i| (start + Duration::days(i), Fen::new(900_000 - 4_560 * i)))
        .collect();
    let table = runway_table(&long);
    assert!(
        table.chars().count() <= ALT_TEXT_LIMIT,
        "{} characters",
        table.chars().count()
    );
    assert!(table.contains("earlier days not listed; "), "{table}");
    assert!(
        table.contains("2026-11-29 4,941.60 CNY."),
        "the newest day is kept: {table}"
    );
    assert!(
        table.contains("2026-12-10 450.50 CNY renewal of ins-def"),
        "renewals go before readings: {table}"
    );
}

#[test]
fn a_runway_that_does_not_run_out_says_so_and_no_readings_draw_a_chart_that_says_so() {
    let mut history = three_weeks();
    history.runs_out_at = None;
    history.burn_per_day = Yuan::ZERO;
    history.payments.clear();
    let drawn = runway::draw(&history).expect("a chart");
    assert!(drawn.words.contains(&"At today's burn it does not run out.".to_owned()));
    assert!(runway_table(&history).contains("it does not run out"));
    history.readings.clear();
    let empty = runway::draw(&history).expect("a chart");
    assert_documented_opaque_png(&empty.png);
    assert!(empty.words.contains(&"No balance readings yet".to_owned()));
}

#[test]
fn the_gallery_charts_are_written_to_a_temporary_directory() {
    let dir = std::env::var_os("CVMBOT_CHART_DIR").map_or_else(std::env::temp_dir, Into::into);
    let spend = spend_png(&fortnight()).expect("a spend chart");
    let runway = runway_png(&three_weeks()).expect("a runway chart");
    for (name, png) in [("spend.png", &spend), ("runway.png", &runway)] {
        let path = dir.join(format!("cvmbot-{name}"));
        std::fs::write(&path, png).expect("writing a chart");
        assert_eq!(decode(&std::fs::read(&path).expect("reading it back")).0, WIDTH);
    }
}
