//! What cvmbot's servers cost, as the charts draw it: spend per day stacked by a group (who asked,
//! a tag, the type, the zone, the fleet), each figure an exact decimal amount of yuan (bill lines
//! carry fractions of a fen) and marked billed (from
//! Tencent's bills) or estimated (from cvmbot's own records); and the balance over time with its
//! projected runway. Pure values: the desk fills them, the chat draws them.

use crate::money::{Fen, Yuan};
use rust_decimal::Decimal;
use time::{Date, OffsetDateTime};

/// Where a figure comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Tencent's bill for the resource and day.
    Billed,
    /// cvmbot's own record: the quoted price × the running time (prepaid spread over its months,
    /// spot at the market price paid), for days or resources the bills do not cover (yet).
    Estimated,
}

/// One day's spend of one group: what Tencent billed, and what cvmbot estimated for the time
/// the bills do not cover (yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySpend {
    /// From Tencent's bills.
    pub billed: Yuan,
    /// cvmbot's estimate.
    pub estimated: Yuan,
}

impl DaySpend {
    /// Nothing spent.
    pub const NONE: DaySpend = DaySpend {
        billed: Yuan::ZERO,
        estimated: Yuan::ZERO,
    };

    /// Billed and estimated together.
    pub fn amount(&self) -> Yuan {
        Yuan::new(self.billed.amount() + self.estimated.amount())
    }

    /// True when part of it is an estimate (an estimate of nothing is none).
    pub fn is_estimated(&self) -> bool {
        !self.estimated.amount().is_zero()
    }
}

/// One group's spend, a figure per day of the series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendGroup {
    /// The group's name as shown (`alice`, `project=web`, `S5.MEDIUM4`, `ap-guangzhou-3`, `ci`).
    pub name: String,
    /// Per day, in the order of [`SpendSeries::days`].
    pub per_day: Vec<DaySpend>,
}

impl SpendGroup {
    /// The group's total over the series.
    pub fn total(&self) -> Yuan {
        Yuan::new(self.per_day.iter().map(|d| d.amount().amount()).sum())
    }
}

/// Spend per day, stacked by group: what `/cvm spend` and the digest draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendSeries {
    /// What it shows, e.g. `Spend 2026-11-01 – 2026-11-30 by requester`.
    pub title: String,
    /// Consecutive days, oldest first.
    pub days: Vec<Date>,
    /// The groups, biggest total first.
    pub groups: Vec<SpendGroup>,
}

impl SpendSeries {
    /// Everything spent over the series.
    pub fn total(&self) -> Yuan {
        Yuan::new(self.groups.iter().map(|g| g.total().amount()).sum())
    }

    /// What was spent on day `index` (of [`SpendSeries::days`]), all groups together.
    pub fn day_total(&self, index: usize) -> Yuan {
        Yuan::new(
            self.groups
                .iter()
                .filter_map(|g| g.per_day.get(index))
                .map(|d| d.amount().amount())
                .sum::<Decimal>(),
        )
    }

    /// True when any figure is an estimate.
    pub fn has_estimates(&self) -> bool {
        self.groups.iter().flat_map(|g| &g.per_day).any(DaySpend::is_estimated)
    }
}

/// A payment the balance will make on a known day (a prepaid renewal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// When.
    pub at: OffsetDateTime,
    /// How much.
    pub amount: Fen,
    /// What for, e.g. `renewal of ins-abc (request #12)`.
    pub what: String,
}

/// The balance over the last weeks and where today's burn takes it: what `/cvm balance` and the
/// low-balance alert draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceHistory {
    /// Readings, oldest first.
    pub readings: Vec<(OffsetDateTime, Fen)>,
    /// Today's burn per day (hourly servers), for the projection.
    pub burn_per_day: Yuan,
    /// Known payments ahead (prepaid renewals).
    pub payments: Vec<Payment>,
    /// When the projection reaches zero, if it does.
    pub runs_out_at: Option<OffsetDateTime>,
}

/// Tencent bills by the day in China Standard Time, so the charts' days are those days too.
pub const BILLING_OFFSET: time::UtcOffset = match time::UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => panic!("UTC+8 is an offset"),
};

/// How `/cvm spend` groups the spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpendBy {
    /// Who asked for the servers.
    Requester,
    /// The servers' tags (all of a server's tags together, so nothing counts twice).
    Tag,
    /// The instance type.
    Type,
    /// The availability zone.
    Zone,
    /// The fleet the servers keep up (or none).
    Fleet,
}

impl SpendBy {
    /// The names `by:` takes.
    pub const NAMES: &[&str] = &["requester", "tag", "type", "zone", "fleet"];

    /// Reads `by:`; the error names the option and its allowed values.
    pub fn parse(text: &str) -> Result<SpendBy, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "requester" => Ok(SpendBy::Requester),
            "tag" => Ok(SpendBy::Tag),
            "type" => Ok(SpendBy::Type),
            "zone" => Ok(SpendBy::Zone),
            "fleet" => Ok(SpendBy::Fleet),
            other => Err(format!("by: `{other}` is not one of {}", SpendBy::NAMES.join(", "))),
        }
    }

    /// As `by:` names it.
    pub fn name(self) -> &'static str {
        match self {
            SpendBy::Requester => "requester",
            SpendBy::Tag => "tag",
            SpendBy::Type => "type",
            SpendBy::Zone => "zone",
            SpendBy::Fleet => "fleet",
        }
    }
}

/// The days a spend chart covers, first to last (inclusive), in Tencent's billing days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpendPeriod {
    /// The first day.
    pub first: Date,
    /// The last day.
    pub last: Date,
}

impl SpendPeriod {
    /// Reads `period:` as of `today`: `7d` and `30d` (the last so many days, today included),
    /// `month` (this month so far) or `YYYY-MM` (that month, up to today if it is this one). The
    /// error names the option and the allowed forms.
    pub fn parse(text: &str, today: Date) -> Result<SpendPeriod, String> {
        let text = text.trim().to_ascii_lowercase();
        let allowed = "7d, 30d, month or a month as YYYY-MM";
        let last_days = |n: i64| SpendPeriod {
            first: today - time::Duration::days(n - 1),
            last: today,
        };
        match text.as_str() {
            "" | "30d" => return Ok(last_days(30)),
            "7d" => return Ok(last_days(7)),
            "month" => {
                return Ok(SpendPeriod {
                    first: today.replace_day(1).expect("the first of a month"),
                    last: today,
                });
            }
            _ => {}
        }
        let month = text
            .split_once('-')
            .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u8>().ok()?)))
            .filter(|(y, m)| (2000..=9999).contains(y) && text.len() == 7 && (1..=12).contains(m));
        let Some((year, month)) = month else {
            return Err(format!("period: `{text}` is not one of {allowed}"));
        };
        let month = time::Month::try_from(month).expect("1 to 12");
        let first = Date::from_calendar_date(year, month, 1).expect("a month's first day");
        if first > today {
            return Err(format!("period: {text} has not begun yet"));
        }
        let end = Date::from_calendar_date(year, month, month.length(year)).expect("a month's last day");
        Ok(SpendPeriod {
            first,
            last: end.min(today),
        })
    }

    /// Its days, oldest first.
    pub fn days(&self) -> Vec<Date> {
        let mut days = Vec::new();
        let mut day = self.first;
        while day <= self.last {
            days.push(day);
            day = day.next_day().expect("a next day");
        }
        days
    }

    /// `2026-11-01 – 2026-11-30`.
    pub fn label(&self) -> String {
        format!("{} – {}", self.first, self.last)
    }

    /// When its first day begins and its last ends.
    pub fn bounds(&self) -> (OffsetDateTime, OffsetDateTime) {
        let start = self.first.midnight().assume_offset(BILLING_OFFSET);
        let end = self
            .last
            .next_day()
            .expect("a next day")
            .midnight()
            .assume_offset(BILLING_OFFSET);
        (start, end)
    }
}

/// What cvmbot knows one server cost: when, in which group, at what rate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spending {
    /// Tencent's resource id (`ins-…`), as its bill lines name it.
    pub resource: String,
    /// Its group's name.
    pub group: String,
    /// From when it cost money (its purchase).
    pub from: OffsetDateTime,
    /// Until when (it was released or gone, or now).
    pub until: OffsetDateTime,
    /// At what rate.
    pub rate: Rate,
}

/// How a server's cost accrues.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rate {
    /// Pay-as-you-go and spot: so much per hour it runs, by the second.
    PerHour(Yuan),
    /// Prepaid: `total` spread evenly over its period.
    Spread {
        /// What the period cost.
        total: Yuan,
        /// When the period began.
        from: OffsetDateTime,
        /// When it ends.
        until: OffsetDateTime,
    },
}

/// One line of Tencent's bill for a resource: what its fee period cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillLine {
    /// The resource (`ins-…`).
    pub resource: String,
    /// The fee period's start.
    pub from: OffsetDateTime,
    /// Its end.
    pub until: OffsetDateTime,
    /// What Tencent charged for it (negative for a refund).
    pub cost: Yuan,
}

/// Decimal places the spend keeps (bills carry 8).
const PLACES: u32 = 8;

/// Spreads `amount` over `[from, until)` by the second, as shares per billing day that add up to
/// `amount` exactly (the rounding is left on the last day).
fn spread(amount: Decimal, from: OffsetDateTime, until: OffsetDateTime) -> Vec<(Date, Decimal)> {
    let seconds = (until - from).whole_seconds();
    if seconds <= 0 {
        return vec![(from.to_offset(BILLING_OFFSET).date(), amount)];
    }
    let mut shares = Vec::new();
    let mut given = Decimal::ZERO;
    let mut at = from;
    while at < until {
        let day = at.to_offset(BILLING_OFFSET).date();
        let next = day
            .next_day()
            .expect("a next day")
            .midnight()
            .assume_offset(BILLING_OFFSET);
        let end = next.min(until);
        let share = if end == until {
            amount - given
        } else {
            (amount * Decimal::from((end - at).whole_seconds()) / Decimal::from(seconds)).round_dp(PLACES)
        };
        given += share;
        shares.push((day, share));
        at = end;
    }
    shares
}

/// The cost of `spending` over `[from, until)` by cvmbot's own record, per billing day.
fn estimate(spending: &Spending, from: OffsetDateTime, until: OffsetDateTime) -> Vec<(Date, Decimal)> {
    let (from, until) = (from.max(spending.from), until.min(spending.until));
    if from >= until {
        return Vec::new();
    }
    match &spending.rate {
        Rate::PerHour(per_hour) => {
            let hours = Decimal::from((until - from).whole_seconds()) / Decimal::from(3600);
            spread((per_hour.amount() * hours).round_dp(PLACES), from, until)
        }
        Rate::Spread {
            total,
            from: start,
            until: end,
        } => {
            let (from, until) = (from.max(*start), until.min(*end));
            let period = (*end - *start).whole_seconds();
            if from >= until || period <= 0 {
                return Vec::new();
            }
            let share = total.amount() * Decimal::from((until - from).whole_seconds()) / Decimal::from(period);
            spread(share.round_dp(PLACES), from, until)
        }
    }
}

/// Spend per day of `period` by group: each resource's bill lines, and cvmbot's estimate for its
/// time after the last of them (bills come in behind the time they bill); biggest groups first.
/// A prepaid line is spread over its fee period like the estimate of it. Lines of resources
/// cvmbot did not buy are not its spend.
pub fn series(title: String, period: &SpendPeriod, spendings: &[Spending], bills: &[BillLine]) -> SpendSeries {
    use std::collections::BTreeMap;
    let days = period.days();
    let index: BTreeMap<Date, usize> = days.iter().enumerate().map(|(i, d)| (*d, i)).collect();
    let (start, end) = period.bounds();
    let mut lines: BTreeMap<&str, Vec<&BillLine>> = BTreeMap::new();
    for line in bills {
        lines.entry(line.resource.as_str()).or_default().push(line);
    }
    let mut groups: BTreeMap<String, Vec<DaySpend>> = BTreeMap::new();
    let blank = || vec![DaySpend::NONE; days.len()];
    let mut add = |group: &str, day: Date, amount: Decimal, source: Source| {
        if let Some(i) = index.get(&day) {
            let cells = groups.entry(group.to_owned()).or_insert_with(blank);
            let cell = &mut cells[*i];
            let part = match source {
                Source::Billed => &mut cell.billed,
                Source::Estimated => &mut cell.estimated,
            };
            *part = Yuan::new(part.amount() + amount);
        }
    };
    for spending in spendings {
        let billed = lines.remove(spending.resource.as_str()).unwrap_or_default();
        // Bills come in behind the time they bill: everything up to the end of a resource's
        // last line is billed (an hour Tencent did not charge for cost nothing), and only the
        // time after it is estimated.
        let mut billed_until = None;
        for line in &billed {
            for (day, share) in spread(line.cost.amount(), line.from, line.until) {
                add(&spending.group, day, share, Source::Billed);
            }
            billed_until = billed_until.max(Some(line.until));
        }
        let from = billed_until.map_or(start, |until| until.max(start));
        if from < end {
            for (day, amount) in estimate(spending, from, end) {
                add(&spending.group, day, amount, Source::Estimated);
            }
        }
    }
    // Bill lines of resources cvmbot did not buy are not its spend; they are left out.
    let mut groups: Vec<SpendGroup> = groups
        .into_iter()
        .map(|(name, per_day)| SpendGroup { name, per_day })
        .collect();
    groups.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.name.cmp(&b.name)));
    SpendSeries { title, days, groups }
}

/// When a balance of `spendable` at `from` reaches zero, burning `burn_per_day` by the second
/// and paying `payments` when they fall due; `None` if it lasts beyond `horizon` (or nothing
/// burns and nothing is due).
pub fn runs_out(
    spendable: Fen,
    from: OffsetDateTime,
    burn_per_day: Yuan,
    payments: &[Payment],
    horizon: time::Duration,
) -> Option<OffsetDateTime> {
    let end = from + horizon;
    let per_second = burn_per_day.amount() / Decimal::from(86_400);
    let mut balance = spendable.to_yuan().amount();
    if balance <= Decimal::ZERO {
        return Some(from);
    }
    let mut due: Vec<&Payment> = payments.iter().filter(|p| p.at >= from && p.at <= end).collect();
    due.sort_by_key(|p| p.at);
    let mut at = from;
    // The moment the burn alone empties `balance`, counting from `at`.
    let empties = |balance: Decimal, at: OffsetDateTime| -> Option<OffsetDateTime> {
        if per_second <= Decimal::ZERO {
            return None;
        }
        let seconds = (balance / per_second).ceil();
        let seconds = i64::try_from(seconds).ok()?;
        Some(at + time::Duration::seconds(seconds))
    };
    for payment in due {
        if let Some(zero) = empties(balance, at).filter(|zero| *zero <= payment.at) {
            return Some(zero);
        }
        balance -= per_second * Decimal::from((payment.at - at).whole_seconds()) + payment.amount.to_yuan().amount();
        at = payment.at;
        if balance <= Decimal::ZERO {
            return Some(at);
        }
    }
    empties(balance, at).filter(|zero| *zero <= end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn day(amount: &str, source: Source) -> DaySpend {
        let amount = amount.parse().expect("an amount");
        match source {
            Source::Billed => DaySpend {
                billed: amount,
                ..DaySpend::NONE
            },
            Source::Estimated => DaySpend {
                estimated: amount,
                ..DaySpend::NONE
            },
        }
    }

    #[test]
    fn totals_add_up_exactly_per_group_per_day_and_overall() {
        let series = SpendSeries {
            title: "test".into(),
            days: vec![date!(2026 - 11 - 01), date!(2026 - 11 - 02)],
            groups: vec![
                SpendGroup {
                    name: "alice".into(),
                    per_day: vec![day("1.00000001", Source::Billed), day("2.5", Source::Billed)],
                },
                SpendGroup {
                    name: "bob".into(),
                    per_day: vec![day("0.1", Source::Billed), day("0", Source::Estimated)],
                },
            ],
        };
        assert_eq!(series.groups[0].total(), "3.50000001".parse().expect("yuan"));
        assert_eq!(series.day_total(0), "1.10000001".parse().expect("yuan"));
        assert_eq!(series.day_total(1), "2.5".parse().expect("yuan"));
        assert_eq!(series.total(), "3.60000001".parse().expect("yuan"));
        assert!(!series.has_estimates(), "an estimate of nothing is no estimate");
    }

    fn yuan(text: &str) -> Yuan {
        text.parse().expect("yuan")
    }

    /// Midnight of `day` in Tencent's billing time, plus `hours`.
    fn at(day: Date, hours: i64) -> OffsetDateTime {
        day.midnight().assume_offset(BILLING_OFFSET) + time::Duration::hours(hours)
    }

    fn november() -> SpendPeriod {
        SpendPeriod::parse("2026-11", date!(2026 - 12 - 01)).expect("a month")
    }

    #[test]
    fn an_hourly_server_is_estimated_by_the_second_per_billing_day() {
        let first = date!(2026 - 11 - 01);
        let server = Spending {
            resource: "ins-1".into(),
            group: "alice".into(),
            from: at(first, 0),
            until: at(first, 36) + time::Duration::seconds(1),
            rate: Rate::PerHour(yuan("1.20")),
        };
        let series = series("t".into(), &november(), &[server], &[]);
        assert_eq!(series.days.len(), 30);
        let alice = &series.groups[0];
        assert_eq!(alice.per_day[0].estimated, yuan("28.80"));
        assert_eq!(alice.per_day[1].estimated, yuan("14.40033333"), "12 h and a second");
        assert_eq!(alice.per_day[0].billed, yuan("0"));
        assert_eq!(series.total(), yuan("43.20033333"));
    }

    #[test]
    fn billed_lines_replace_the_estimate_where_they_cover_the_servers_time() {
        let first = date!(2026 - 11 - 01);
        let server = Spending {
            resource: "ins-1".into(),
            group: "alice".into(),
            from: at(first, 0),
            until: at(first, 36),
            rate: Rate::PerHour(yuan("1.20")),
        };
        let bills: Vec<BillLine> = (0..24)
            .map(|h| BillLine {
                resource: "ins-1".into(),
                from: at(first, h),
                until: at(first, h + 1),
                cost: yuan("1.25000001"),
            })
            .chain(std::iter::once(BillLine {
                resource: "ins-someone-else".into(),
                from: at(first, 0),
                until: at(first, 1),
                cost: yuan("99"),
            }))
            .collect();
        let series = series("t".into(), &november(), &[server], &bills);
        let alice = &series.groups[0];
        assert_eq!(
            alice.per_day[0].billed,
            yuan("30.00000024"),
            "the sum of the bill lines"
        );
        assert!(!alice.per_day[0].is_estimated());
        assert_eq!(
            alice.per_day[1].estimated,
            yuan("14.40"),
            "the unbilled hours estimated"
        );
        assert_eq!(alice.per_day[1].billed, yuan("0"));
        assert_eq!(series.groups.len(), 1, "a resource cvmbot did not buy is not its spend");
    }

    #[test]
    fn a_prepaid_server_is_spread_over_its_period_and_its_bill_line_too() {
        let first = date!(2026 - 11 - 01);
        let server = |resource: &str| Spending {
            resource: resource.into(),
            group: "web".into(),
            from: at(first, 0),
            until: at(first, 24 * 45),
            rate: Rate::Spread {
                total: yuan("300"),
                from: at(first, 0),
                until: at(first, 24 * 30),
            },
        };
        let estimated = series("t".into(), &november(), &[server("ins-1")], &[]);
        assert!(estimated.groups[0].per_day.iter().all(|d| d.estimated == yuan("10")));
        let line = BillLine {
            resource: "ins-1".into(),
            from: at(first, 0),
            until: at(first, 24 * 30),
            cost: yuan("299.99"),
        };
        let billed = series("t".into(), &november(), &[server("ins-1")], &[line]);
        assert_eq!(
            billed.total(),
            yuan("299.99"),
            "the bill line, spread over its days exactly"
        );
        assert!(!billed.has_estimates());
    }

    #[test]
    fn the_runway_ends_where_the_burn_and_the_renewals_due_take_the_balance_to_zero() {
        let now = at(date!(2026 - 12 - 01), 0);
        let horizon = time::Duration::days(90);
        let burn = yuan("24");
        let out = runs_out(Fen::new(10_000), now, burn, &[], horizon).expect("it runs out");
        assert_eq!(
            out,
            now + time::Duration::days(4) + time::Duration::hours(4),
            "100 CNY at 1 CNY/h"
        );
        let renewal = Payment {
            at: now + time::Duration::days(1),
            amount: Fen::new(5_000),
            what: "renewal".into(),
        };
        let sooner = runs_out(Fen::new(10_000), now, burn, std::slice::from_ref(&renewal), horizon).expect("sooner");
        assert_eq!(
            sooner,
            now + time::Duration::days(2) + time::Duration::hours(2),
            "50 CNY less after a day"
        );
        let big = Payment {
            amount: Fen::new(20_000),
            ..renewal
        };
        assert_eq!(
            runs_out(Fen::new(10_000), now, burn, &[big], horizon),
            Some(now + time::Duration::days(1))
        );
        assert_eq!(
            runs_out(Fen::new(10_000), now, yuan("0"), &[], horizon),
            None,
            "nothing burns"
        );
        assert_eq!(
            runs_out(Fen::new(0), now, yuan("0"), &[], horizon),
            Some(now),
            "nothing left"
        );
    }

    #[test]
    fn periods_read_as_the_last_days_this_month_or_a_given_month_and_refuse_anything_else() {
        let today = date!(2026 - 12 - 15);
        let week = SpendPeriod::parse("7d", today).expect("7d");
        assert_eq!((week.first, week.last), (date!(2026 - 12 - 09), today));
        let month = SpendPeriod::parse("month", today).expect("month");
        assert_eq!((month.first, month.days().len()), (date!(2026 - 12 - 01), 15));
        let november = SpendPeriod::parse("2026-11", today).expect("a month");
        assert_eq!(
            (november.first, november.last),
            (date!(2026 - 11 - 01), date!(2026 - 11 - 30))
        );
        for bad in ["2026-13", "yesterday", "2026-1", "2027-01"] {
            let error = SpendPeriod::parse(bad, today).expect_err(bad);
            assert!(error.starts_with("period:"), "{error}");
        }
        assert!(
            SpendBy::parse("owner")
                .expect_err("owner")
                .contains("requester, tag, type, zone, fleet")
        );
        assert_eq!(SpendBy::parse("Zone"), Ok(SpendBy::Zone));
    }
}
