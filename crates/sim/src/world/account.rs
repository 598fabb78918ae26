//! An account's money, in integer fen. Pay-as-you-go costs accrue exactly: the account keeps
//! Σ(rate in yuan/hour × milliseconds), and the whole fen of that sum are charged as they complete,
//! so splitting time into more or fewer steps never changes a bill.

use cvmbot_tencent::billing::DescribeAccountBalanceResponse;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use crate::clock::SimMs;

/// yuan/hour × ms → fen: × 100 / 3,600,000.
const MS_YUAN_PER_FEN: i64 = 36_000;

/// One account: balances, the pay-as-you-go rate running now and what has accrued.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    /// The API key this account answers to.
    pub secret_id: String,
    /// The account id.
    pub uin: u64,
    /// Cash, fen (never below zero: a shortfall becomes debt).
    pub cash: i64,
    /// Income sub-account, fen.
    pub income: i64,
    /// Gift sub-account, fen.
    pub present: i64,
    /// Frozen, fen (one hour of every pay-as-you-go instance).
    pub freeze: i64,
    /// Owed, fen.
    pub owe: i64,
    /// Credit limit, fen.
    pub credit: i64,
    /// `IsAllowArrears`.
    pub allow_arrears: bool,
    /// Yuan per hour of every running instance's fixed hourly parts.
    pub fixed_rate: Decimal,
    /// Running spot instances per `zone/type` (billed at that market's price).
    pub spot_counts: BTreeMap<String, u32>,
    /// Σ yuan/hour × ms accrued.
    pub accrued: Decimal,
    /// Fen charged out of `accrued` so far.
    pub charged: i64,
    /// Accrued up to this instant.
    pub accrued_until: SimMs,
    /// When the debt first exceeded the credit limit (arrears), if it does now.
    pub arrears_since: Option<SimMs>,
    /// True once this spell of arrears has reclaimed the account's servers.
    pub arrears_handled: bool,
}

impl Account {
    /// A new account with `cash` fen, accruing from `now`.
    pub fn new(secret_id: &str, uin: u64, cash: i64, credit: i64, allow_arrears: bool, now: SimMs) -> Self {
        Account {
            secret_id: secret_id.to_owned(),
            uin,
            cash,
            income: 0,
            present: 0,
            freeze: 0,
            owe: 0,
            credit,
            allow_arrears,
            fixed_rate: Decimal::ZERO,
            spot_counts: BTreeMap::new(),
            accrued: Decimal::ZERO,
            charged: 0,
            accrued_until: now,
            arrears_since: None,
            arrears_handled: false,
        }
    }

    /// Cash + income + gifts − frozen − owed.
    pub fn real_balance(&self) -> i64 {
        self.cash + self.income + self.present - self.freeze - self.owe
    }

    /// Cash + income + gifts + credit − owed.
    pub fn credit_balance(&self) -> i64 {
        self.cash + self.income + self.present + self.credit - self.owe
    }

    /// Credit balance − frozen.
    pub fn real_credit_balance(&self) -> i64 {
        self.credit_balance() - self.freeze
    }

    /// What a purchase may use: RealCreditBalance on a credit account, RealBalance otherwise.
    pub fn spendable(&self) -> i64 {
        if self.credit > 0 {
            self.real_credit_balance()
        } else {
            self.real_balance()
        }
    }

    /// Takes `fen` from cash; what cash cannot cover becomes debt.
    pub fn pay(&mut self, fen: i64) {
        let from_cash = fen.min(self.cash.max(0));
        self.cash -= from_cash;
        self.owe += fen - from_cash;
    }

    /// Gives `fen` back: first against debt, the rest to cash.
    pub fn refund(&mut self, fen: i64) {
        let against_debt = fen.min(self.owe);
        self.owe -= against_debt;
        self.cash += fen - against_debt;
    }

    /// Re-derives the arrears spell after balances changed by hand or by a refund.
    pub fn recheck_arrears(&mut self, now: SimMs) {
        if self.owe > self.credit {
            self.arrears_since.get_or_insert(now);
        } else {
            self.arrears_since = None;
            self.arrears_handled = false;
        }
    }

    /// Yuan per hour being accrued now, given each spot market's price.
    pub fn rate(&self, spot_price: impl Fn(&str) -> Decimal) -> Decimal {
        self.spot_counts.iter().fold(self.fixed_rate, |sum, (key, count)| {
            sum + spot_price(key) * Decimal::from(*count)
        })
    }

    /// Accrues from `accrued_until` to `to` at `rate` and charges the completed fen; notes the
    /// exact instant the debt first passed the credit limit.
    pub fn accrue(&mut self, to: SimMs, rate: Decimal) {
        let from = self.accrued_until;
        if to <= from {
            return;
        }
        self.accrued_until = to;
        if rate <= Decimal::ZERO {
            return;
        }
        let before = self.accrued;
        self.accrued += rate * Decimal::from(to - from);
        let total = (self.accrued / Decimal::from(MS_YUAN_PER_FEN))
            .floor()
            .to_i64()
            .unwrap_or(i64::MAX);
        let due = total - self.charged;
        if due <= 0 {
            return;
        }
        if self.arrears_since.is_none() {
            // Arrears start when the debt passes the credit limit: find the millisecond.
            let room = self.cash.max(0) + (self.credit - self.owe).max(0);
            if due > room {
                let target = Decimal::from((self.charged + room + 1) * MS_YUAN_PER_FEN);
                let ms = ((target - before) / rate).ceil().to_i64().unwrap_or(0);
                self.arrears_since = Some((from + ms).clamp(from, to));
            }
        }
        self.charged = total;
        self.pay(due);
    }

    /// The DescribeAccountBalance answer.
    pub fn to_response(&self) -> DescribeAccountBalanceResponse {
        let fen = Decimal::from;
        DescribeAccountBalanceResponse {
            balance: self.real_balance(),
            uin: self.uin,
            real_balance: fen(self.real_balance()),
            cash_account_balance: fen(self.cash),
            income_into_account_balance: fen(self.income),
            present_account_balance: fen(self.present),
            freeze_amount: fen(self.freeze),
            owe_amount: fen(self.owe),
            is_allow_arrears: self.allow_arrears,
            is_credit_limited: self.credit > 0,
            credit_amount: fen(self.credit),
            credit_balance: fen(self.credit_balance()),
            real_credit_balance: fen(self.real_credit_balance()),
            temp_credit: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    #[test]
    fn an_hour_at_one_yuan_costs_one_hundred_fen_however_it_is_split() {
        let mut whole = Account::new("a", 1, 10_000, 0, false, 0);
        whole.accrue(3_600_000, yuan("1"));
        let mut pieces = Account::new("a", 1, 10_000, 0, false, 0);
        for step in 1..=7 {
            pieces.accrue(3_600_000 * step / 7, yuan("1"));
        }
        assert_eq!(whole.cash, 9_900);
        assert_eq!(pieces.cash, 9_900);
    }

    #[test]
    fn cash_runs_out_into_debt_and_the_arrears_start_at_the_exact_millisecond() {
        let mut account = Account::new("a", 1, 50, 0, false, 0);
        account.accrue(3_600_000, yuan("1"));
        assert_eq!((account.cash, account.owe), (0, 50));
        // 51 fen at 1 yuan/hour are reached after 51/100 of an hour = 1,836,000 ms.
        assert_eq!(account.arrears_since, Some(1_836_000));
        assert_eq!(account.real_balance(), -50);
    }

    #[test]
    fn identities_of_the_balance_hold() {
        let mut account = Account::new("a", 1, 1_000, 500, true, 0);
        account.freeze = 100;
        account.owe = 20;
        let wire = account.to_response();
        assert_eq!(wire.real_balance, Decimal::from(1_000 - 100 - 20));
        assert_eq!(wire.credit_balance, Decimal::from(1_000 + 500 - 20));
        assert_eq!(wire.real_credit_balance, Decimal::from(1_000 + 500 - 20 - 100));
        assert_eq!(account.spendable(), 1_380);
    }
}
