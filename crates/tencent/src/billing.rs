//! Billing 2018-07-09: the account balance. Every amount is in fen (分); `Balance` is an integer,
//! the others are JSON numbers that are read exactly and rounded to whole fen.

use crate::client::{Answer, TencentClient};
use crate::endpoint::Service;
use crate::error::ApiError;
use crate::money::Fen;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// DescribeAccountBalance input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeAccountBalanceRequest {
    /// Also report the temporary credit line.
    pub temp_credit: Option<bool>,
}

/// DescribeAccountBalance output, as on the wire (amounts in fen). The members cvmbot reads are
/// required: an answer without them is unreadable, never a balance of zero.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeAccountBalanceResponse {
    /// Same as RealBalance, as an integer (kept by Tencent for compatibility).
    #[serde(default)]
    pub balance: i64,
    #[serde(default)]
    pub uin: u64,
    #[serde(with = "rust_decimal::serde::float")]
    pub real_balance: Decimal,
    #[serde(with = "rust_decimal::serde::float", default)]
    pub cash_account_balance: Decimal,
    #[serde(with = "rust_decimal::serde::float", default)]
    pub income_into_account_balance: Decimal,
    #[serde(with = "rust_decimal::serde::float", default)]
    pub present_account_balance: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub freeze_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub owe_amount: Decimal,
    #[serde(default)]
    pub is_allow_arrears: bool,
    #[serde(default)]
    pub is_credit_limited: bool,
    #[serde(with = "rust_decimal::serde::float")]
    pub credit_amount: Decimal,
    #[serde(with = "rust_decimal::serde::float", default)]
    pub credit_balance: Decimal,
    #[serde(with = "rust_decimal::serde::float")]
    pub real_credit_balance: Decimal,
    #[serde(
        with = "rust_decimal::serde::float_option",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub temp_credit: Option<Decimal>,
}

/// The account's money, in fen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccountBalance {
    /// Available cash: cash + income + gifts − frozen − owed.
    pub real_balance: Fen,
    /// Frozen, e.g. the one-hour hold of pay-as-you-go purchases.
    pub freeze: Fen,
    /// Owed. Above zero, Tencent will reclaim pay-as-you-go servers.
    pub owe: Fen,
    /// The credit limit.
    pub credit_amount: Fen,
    /// Available with credit: real balance + credit − frozen.
    pub real_credit_balance: Fen,
}

impl AccountBalance {
    /// What can be spent now: the credit balance on a credit account, the real balance otherwise.
    pub fn spendable(&self) -> Fen {
        if self.credit_amount > Fen::ZERO {
            self.real_credit_balance
        } else {
            self.real_balance
        }
    }

    /// True for an account with a credit line.
    pub fn has_credit(&self) -> bool {
        self.credit_amount > Fen::ZERO
    }
}

impl From<&DescribeAccountBalanceResponse> for AccountBalance {
    fn from(wire: &DescribeAccountBalanceResponse) -> Self {
        AccountBalance {
            real_balance: Fen::from_api(wire.real_balance),
            freeze: Fen::from_api(wire.freeze_amount),
            owe: Fen::from_api(wire.owe_amount),
            credit_amount: Fen::from_api(wire.credit_amount),
            real_credit_balance: Fen::from_api(wire.real_credit_balance),
        }
    }
}

impl TencentClient {
    /// DescribeAccountBalance (no region).
    pub async fn describe_account_balance(&self) -> Result<Answer<AccountBalance>, ApiError> {
        let answer: Answer<DescribeAccountBalanceResponse> = self
            .call(
                Service::Billing,
                "DescribeAccountBalance",
                None,
                &DescribeAccountBalanceRequest::default(),
            )
            .await?;
        Ok(Answer {
            data: AccountBalance::from(&answer.data),
            request_id: answer.request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_reads_as_fen_and_a_credit_account_spends_its_credit() {
        let json = r#"{"Balance":0,"CashAccountBalance":0,"CreditAmount":10000000000,"CreditBalance":10000000000,
            "FreezeAmount":0,"IncomeIntoAccountBalance":0,"IsAllowArrears":true,"IsCreditLimited":true,"OweAmount":0,
            "PresentAccountBalance":0,"RealBalance":0,"RealCreditBalance":10000000000,
            "TempAmountInfoList":[{"EndTime":"2026-11-16 00:00:00","StartTime":"2025-11-01 00:00:00","TempAmount":200000,"Uin":"600000561284"}],
            "TempCredit":0,"Uin":600000561284,"RequestId":"8590441d-6e17-4afe-8ca4-f75cec86e290"}"#;
        let wire: DescribeAccountBalanceResponse = serde_json::from_str(json).expect("reads");
        let balance = AccountBalance::from(&wire);
        assert_eq!(balance.spendable(), Fen::new(10_000_000_000));
        assert_eq!(balance.spendable().to_string(), "100,000,000.00 CNY");
    }

    #[test]
    fn an_answer_without_the_balance_is_unreadable_not_zero() {
        let error = crate::client::parse_envelope::<DescribeAccountBalanceResponse>(
            br#"{"Response":{"Uin":1,"RequestId":"r"}}"#,
        )
        .expect_err("no RealBalance");
        assert_eq!(error.kind, crate::ErrorKind::Unreadable);
    }

    #[test]
    fn fractional_fen_round_to_the_nearest_fen() {
        let json = r#"{"Balance":12346,"RealBalance":12345.6,"FreezeAmount":0.4,"OweAmount":0,"CreditAmount":0,"RealCreditBalance":0}"#;
        let balance =
            AccountBalance::from(&serde_json::from_str::<DescribeAccountBalanceResponse>(json).expect("reads"));
        assert_eq!(balance.spendable(), Fen::new(12_346));
        assert_eq!(balance.freeze, Fen::ZERO);
    }
}
