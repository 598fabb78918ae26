//! A price quote for an operation, in the terms each billing mode is paid in (or what a release
//! gives back), and the figures the policy and the balance check reason with.

use crate::money::{HOURS_PER_MONTH, Yuan};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What a purchase costs, for all its instances together.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Quote {
    /// Pay-as-you-go.
    Hourly {
        /// Instances and hourly bandwidth, per hour.
        per_hour: Yuan,
        /// Traffic-billed bandwidth, per GB (on top of `per_hour`).
        traffic_per_gb: Option<Yuan>,
    },
    /// Spot.
    Spot {
        /// At today's market price, per hour.
        market_per_hour: Yuan,
        /// At the bid (the most it can cost), per hour.
        ceiling_per_hour: Yuan,
        /// Traffic-billed bandwidth, per GB.
        traffic_per_gb: Option<Yuan>,
    },
    /// Prepaid.
    Prepaid {
        /// The whole period, paid at purchase.
        total: Yuan,
        /// The period.
        months: u32,
        /// Bandwidth billed by the hour on top (0 when bandwidth is prepaid too).
        extra_per_hour: Yuan,
        /// Traffic-billed bandwidth, per GB.
        traffic_per_gb: Option<Yuan>,
    },
    /// A release: nothing to pay, and what Tencent gives back.
    Refund {
        /// Returned to the account (0 for pay-as-you-go and spot).
        total: Yuan,
    },
    /// A longer time to live: the servers keep burning what they burn.
    Extension {
        /// What they burn per hour.
        per_hour: Yuan,
        /// How many more hours they run.
        hours: u64,
    },
}

impl Quote {
    /// The cost per month-equivalent (730 hours), the unit of tiers and caps. Spot counts at its
    /// bid: the most it can cost.
    pub fn monthly_equivalent(&self) -> Yuan {
        match self {
            Quote::Hourly { per_hour, .. } => per_hour.times(HOURS_PER_MONTH),
            Quote::Spot { ceiling_per_hour, .. } => ceiling_per_hour.times(HOURS_PER_MONTH),
            Quote::Prepaid {
                total,
                months,
                extra_per_hour,
                ..
            } => {
                let per_month = total.amount() / Decimal::from(*months.max(&1));
                Yuan::new(per_month.round_dp(2)).plus(extra_per_hour.times(HOURS_PER_MONTH))
            }
            // Counted as the purchase was; the tier of an extension is judged by its burn.
            Quote::Refund { .. } | Quote::Extension { .. } => Yuan::ZERO,
        }
    }

    /// What the account must have at purchase: the prepaid total, or the one hour Tencent freezes
    /// for pay-as-you-go and spot.
    pub fn up_front(&self) -> Yuan {
        match self {
            Quote::Hourly { per_hour, .. } => *per_hour,
            Quote::Spot { market_per_hour, .. } => *market_per_hour,
            Quote::Prepaid {
                total, extra_per_hour, ..
            } => total.plus(*extra_per_hour),
            Quote::Refund { .. } | Quote::Extension { .. } => Yuan::ZERO,
        }
    }

    /// What running it burns per hour once bought (the prepaid part is already paid).
    pub fn hourly_burn(&self) -> Yuan {
        match self {
            Quote::Hourly { per_hour, .. } => *per_hour,
            Quote::Spot { market_per_hour, .. } => *market_per_hour,
            Quote::Prepaid { extra_per_hour, .. } => *extra_per_hour,
            Quote::Refund { .. } | Quote::Extension { .. } => Yuan::ZERO,
        }
    }

    /// Per-GB traffic price, when bandwidth is billed by traffic.
    pub fn traffic_per_gb(&self) -> Option<Yuan> {
        match self {
            Quote::Hourly { traffic_per_gb, .. }
            | Quote::Spot { traffic_per_gb, .. }
            | Quote::Prepaid { traffic_per_gb, .. } => *traffic_per_gb,
            Quote::Refund { .. } | Quote::Extension { .. } => None,
        }
    }

    /// True when `other` costs more than this quote in any term that was approved.
    pub fn rose_above(&self, approved: &Quote) -> bool {
        self.monthly_equivalent() > approved.monthly_equivalent() || self.up_front() > approved.up_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(text: &str) -> Yuan {
        text.parse().expect("amount")
    }

    #[test]
    fn month_equivalents_are_730_hours_or_the_prepaid_total_spread_over_its_months() {
        let hourly = Quote::Hourly {
            per_hour: yuan("0.52"),
            traffic_per_gb: None,
        };
        assert_eq!(hourly.monthly_equivalent(), yuan("379.60"));
        assert_eq!(hourly.up_front(), yuan("0.52"));
        let prepaid = Quote::Prepaid {
            total: yuan("1804.9"),
            months: 12,
            extra_per_hour: yuan("0"),
            traffic_per_gb: None,
        };
        assert_eq!(prepaid.monthly_equivalent(), yuan("150.41"));
        assert_eq!(prepaid.up_front(), yuan("1804.9"));
        let spot = Quote::Spot {
            market_per_hour: yuan("0.1"),
            ceiling_per_hour: yuan("0.6"),
            traffic_per_gb: None,
        };
        assert_eq!(spot.monthly_equivalent(), yuan("438"), "spot is budgeted at its bid");
        assert_eq!(spot.up_front(), yuan("0.1"));
    }
}
