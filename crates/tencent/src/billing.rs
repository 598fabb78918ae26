//! Billing 2018-07-09: the account balance and the bills. Every balance amount is in fen (分);
//! `Balance` is an integer, the others are JSON numbers that are read exactly and rounded to whole
//! fen. Bills are read from [`crate::bills`]' wire types into typed records in exact yuan.

use crate::bills::{
    BillLine, BillMonth, DescribeBillDetailRequest, DescribeBillDetailResponse, DescribeBillResourceSummaryRequest,
    DescribeBillResourceSummaryResponse, DescribeCostSummaryByResourceRequest, DescribeCostSummaryByResourceResponse,
    ResourceBill, ResourceCost, format_bill_time,
};
use crate::client::{Answer, TencentClient};
use crate::endpoint::Service;
use crate::error::ApiError;
use crate::money::Fen;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::future::Future;
use time::OffsetDateTime;

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

    /// DescribeBillDetail: one page of the bill lines of the month that holds `begin` (Tencent
    /// answers for the whole month; `begin` and `end` must be in the same month, Beijing time).
    /// At most 300 lines a page.
    pub async fn describe_bill_detail(
        &self,
        begin: OffsetDateTime,
        end: OffsetDateTime,
        offset: u64,
        limit: u64,
    ) -> Result<Answer<Page<BillLine>>, ApiError> {
        let request = DescribeBillDetailRequest {
            offset,
            limit,
            begin_time: Some(format_bill_time(begin)),
            end_time: Some(format_bill_time(end)),
            need_record_num: Some(1),
            ..Default::default()
        };
        let answer: Answer<DescribeBillDetailResponse> = self
            .call(Service::Billing, "DescribeBillDetail", None, &request)
            .await?;
        let items = answer
            .data
            .detail_set
            .iter()
            .map(BillLine::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Answer {
            data: Page {
                items,
                total: answer.data.total,
            },
            request_id: answer.request_id,
        })
    }

    /// DescribeBillResourceSummary: one page of the month's bills per resource and action type.
    /// At most 1000 a page.
    pub async fn describe_bill_resource_summary(
        &self,
        month: BillMonth,
        offset: u64,
        limit: u64,
    ) -> Result<Answer<Page<ResourceBill>>, ApiError> {
        let request = DescribeBillResourceSummaryRequest {
            offset,
            limit,
            month: month.to_string(),
            need_record_num: Some(1),
            ..Default::default()
        };
        let answer: Answer<DescribeBillResourceSummaryResponse> = self
            .call(Service::Billing, "DescribeBillResourceSummary", None, &request)
            .await?;
        let items = answer
            .data
            .resource_summary_set
            .iter()
            .map(ResourceBill::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Answer {
            data: Page {
                items,
                total: answer.data.total.and_then(|t| u64::try_from(t).ok()),
            },
            request_id: answer.request_id,
        })
    }

    /// DescribeCostSummaryByResource: one page of each resource's cost over `month`. At most 100
    /// a page.
    pub async fn describe_cost_summary_by_resource(
        &self,
        month: BillMonth,
        offset: u64,
        limit: u64,
    ) -> Result<Answer<Page<ResourceCost>>, ApiError> {
        let request = DescribeCostSummaryByResourceRequest {
            begin_time: month.to_string(),
            end_time: month.to_string(),
            limit,
            offset,
            need_record_num: Some(1),
            ..Default::default()
        };
        let answer: Answer<DescribeCostSummaryByResourceResponse> = self
            .call(Service::Billing, "DescribeCostSummaryByResource", None, &request)
            .await?;
        let items = answer
            .data
            .data
            .iter()
            .map(ResourceCost::try_from)
            .collect::<Result<_, _>>()?;
        Ok(Answer {
            data: Page {
                items,
                total: answer.data.record_num,
            },
            request_id: answer.request_id,
        })
    }

    /// Every bill line of `month`, paging 300 at a time.
    pub async fn all_bill_lines(&self, month: BillMonth) -> Result<Vec<BillLine>, ApiError> {
        let (begin, end) = month_bounds(month);
        all_pages(300, |offset, limit| async move {
            Ok(self.describe_bill_detail(begin, end, offset, limit).await?.data)
        })
        .await
    }

    /// Every resource bill of `month`, paging 1000 at a time.
    pub async fn all_resource_bills(&self, month: BillMonth) -> Result<Vec<ResourceBill>, ApiError> {
        all_pages(1000, |offset, limit| async move {
            Ok(self.describe_bill_resource_summary(month, offset, limit).await?.data)
        })
        .await
    }

    /// Every resource's cost over `month`, paging 100 at a time.
    pub async fn all_resource_costs(&self, month: BillMonth) -> Result<Vec<ResourceCost>, ApiError> {
        all_pages(100, |offset, limit| async move {
            Ok(self.describe_cost_summary_by_resource(month, offset, limit).await?.data)
        })
        .await
    }
}

/// One page of an answer and the total Tencent reports (which it caches for up to a day, so it
/// may be short of the real count).
#[derive(Clone, Debug, PartialEq)]
pub struct Page<T> {
    /// The records on this page.
    pub items: Vec<T>,
    /// The total Tencent reported, if it did.
    pub total: Option<u64>,
}

/// The first and last second of `month`, Beijing time.
pub fn month_bounds(month: BillMonth) -> (OffsetDateTime, OffsetDateTime) {
    let first = |year: i32, month: u8| {
        time::Month::try_from(month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(year, m, 1).ok())
            .map(|date| date.midnight().assume_offset(crate::bills::BILL_OFFSET))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let begin = first(month.year(), month.month());
    let next = if month.month() == 12 {
        first(month.year() + 1, 1)
    } else {
        first(month.year(), month.month() + 1)
    };
    (begin, next - time::Duration::seconds(1))
}

/// Asks for pages of `limit` until one comes back short. The reported total is not trusted to
/// end the loop, since Tencent says it may lag.
pub async fn all_pages<T, F, Fut>(limit: u64, mut page: F) -> Result<Vec<T>, ApiError>
where
    F: FnMut(u64, u64) -> Fut,
    Fut: Future<Output = Result<Page<T>, ApiError>>,
{
    let mut all = Vec::new();
    loop {
        let got = page(all.len() as u64, limit).await?;
        let short = (got.items.len() as u64) < limit;
        all.extend(got.items);
        if short {
            return Ok(all);
        }
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
