//! Exact money. Tencent's Billing API counts balances in fen (分, 1/100 CNY) and quotes prices in
//! yuan (元) with up to a few decimals; neither is ever an `f64` here.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Hours in a month-equivalent, the unit cost tiers and caps are written in (365 × 24 / 12).
pub const HOURS_PER_MONTH: u32 = 730;

/// An amount in fen (分, 1/100 CNY). Balances, freezes and debts are kept in this unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fen(i64);

impl Fen {
    /// No money.
    pub const ZERO: Fen = Fen(0);

    /// An amount of `fen` fen.
    pub const fn new(fen: i64) -> Self {
        Fen(fen)
    }

    /// The number of fen.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// A Billing API amount (a JSON number in fen, possibly with a fraction) rounded to the nearest
    /// fen, half away from zero.
    pub fn from_api(amount: Decimal) -> Self {
        let rounded = amount.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        Fen(i64::try_from(rounded).unwrap_or(if amount.is_sign_negative() { i64::MIN } else { i64::MAX }))
    }

    /// The same amount in yuan.
    pub fn to_yuan(self) -> Yuan {
        Yuan(Decimal::new(self.0, 2))
    }

    /// Sum that saturates instead of overflowing.
    pub fn saturating_add(self, other: Fen) -> Fen {
        Fen(self.0.saturating_add(other.0))
    }

    /// Difference that saturates instead of overflowing.
    pub fn saturating_sub(self, other: Fen) -> Fen {
        Fen(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Fen {
    /// `1,234.56 CNY`: the currency is always shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_yuan())
    }
}

/// A price or cost in yuan (元), exact. Shown with at least two decimals and the currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Yuan(#[serde(with = "rust_decimal::serde::str")] Decimal);

impl Yuan {
    /// Zero yuan.
    pub const ZERO: Yuan = Yuan(Decimal::ZERO);

    /// Wraps a decimal amount of yuan.
    pub fn new(amount: Decimal) -> Self {
        Yuan(amount.normalize())
    }

    /// The amount as a decimal.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// Rounds up to whole fen: what must be available to pay this amount.
    pub fn to_fen_ceil(self) -> Fen {
        let fen = (self.0 * Decimal::ONE_HUNDRED).round_dp_with_strategy(0, RoundingStrategy::ToPositiveInfinity);
        Fen(i64::try_from(fen).unwrap_or(i64::MAX))
    }

    /// Rounds to the nearest fen (half away from zero): what a bill for this amount charges.
    pub fn to_fen_round(self) -> Fen {
        Fen::from_api(self.0 * Decimal::ONE_HUNDRED)
    }

    /// `self × factor`, exact.
    pub fn times(self, factor: u32) -> Yuan {
        Yuan::new(self.0 * Decimal::from(factor))
    }

    /// Sum of two amounts.
    pub fn plus(self, other: Yuan) -> Yuan {
        Yuan::new(self.0 + other.0)
    }

    /// True for a negative amount.
    pub fn is_negative(self) -> bool {
        self.0.is_sign_negative() && !self.0.is_zero()
    }

    /// The plain number with at least two decimals, no currency: `0.52`, `1234.5 → 1,234.50`.
    pub fn plain(self) -> String {
        let scale = self.0.normalize().scale().max(2);
        let text = format!("{:.*}", scale as usize, self.0);
        group_thousands(&text)
    }
}

impl fmt::Display for Yuan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} CNY", self.plain())
    }
}

/// Parses a user-typed amount of yuan such as `0.6`, `12`, `1,200.50` or `0.6 CNY`.
impl FromStr for Yuan {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let cleaned: String = text
            .trim()
            .trim_end_matches("CNY")
            .trim_end_matches("cny")
            .trim_start_matches('¥')
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        if cleaned.is_empty() || cleaned.contains(['e', 'E']) {
            return Err(format!("`{text}` is not an amount of yuan such as 0.6 or 1200"));
        }
        Decimal::from_str(&cleaned)
            .map(Yuan::new)
            .map_err(|_| format!("`{text}` is not an amount of yuan such as 0.6 or 1200"))
    }
}

fn group_thousands(text: &str) -> String {
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let (int, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(text: &str) -> Yuan {
        text.parse().expect("valid amount")
    }

    #[test]
    fn amounts_show_two_decimals_thousands_and_the_currency() {
        assert_eq!(Fen::new(123_456).to_string(), "1,234.56 CNY");
        assert_eq!(Fen::new(-5).to_string(), "-0.05 CNY");
        assert_eq!(yuan("0.52").to_string(), "0.52 CNY");
        assert_eq!(yuan("0.0115").to_string(), "0.0115 CNY");
        assert_eq!(yuan("1200").to_string(), "1,200.00 CNY");
    }

    #[test]
    fn yuan_parses_what_people_type_and_rejects_the_rest() {
        assert_eq!(yuan("0.6"), yuan("0.60"));
        assert_eq!(yuan("1,200.5 CNY"), yuan("1200.5"));
        assert_eq!(yuan("¥3"), yuan("3"));
        for bad in ["", "abc", "1e3", "0.6.1", "CNY"] {
            assert!(bad.parse::<Yuan>().is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn conversion_to_fen_is_exact_and_rounds_the_stated_way() {
        assert_eq!(yuan("0.52").to_fen_ceil(), Fen::new(52));
        assert_eq!(yuan("0.521").to_fen_ceil(), Fen::new(53));
        assert_eq!(yuan("0.525").to_fen_round(), Fen::new(53));
        assert_eq!(yuan("0.524").to_fen_round(), Fen::new(52));
        assert_eq!(Fen::from_api(Decimal::new(123_456, 1)), Fen::new(12_346));
        assert_eq!(yuan("0.1").plus(yuan("0.2")), yuan("0.3"));
        assert_eq!(yuan("0.52").times(HOURS_PER_MONTH), yuan("379.6"));
    }
}
