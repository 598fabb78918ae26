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

/// One day's spend of one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySpend {
    /// What was spent.
    pub amount: Yuan,
    /// Where the figure comes from (`Estimated` if any part of it is).
    pub source: Source,
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
        Yuan::new(self.per_day.iter().map(|d| d.amount.amount()).sum())
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
                .map(|d| d.amount.amount())
                .sum::<Decimal>(),
        )
    }

    /// True when any figure is an estimate.
    pub fn has_estimates(&self) -> bool {
        self.groups
            .iter()
            .flat_map(|g| &g.per_day)
            .any(|d| d.source == Source::Estimated && !d.amount.amount().is_zero())
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn day(amount: &str, source: Source) -> DaySpend {
        DaySpend {
            amount: amount.parse().expect("an amount"),
            source,
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
}
