//! Billing 2018-07-09 bills: the wire types of DescribeBillDetail, DescribeBillResourceSummary and
//! DescribeCostSummaryByResource, shared by the client and the simulator, and the typed records
//! cvmbot reads out of them. Amounts are strings of yuan with up to 8 decimals on the wire; times
//! are `yyyy-mm-dd hh:mm:ss` in Beijing time (UTC+8).

use crate::error::{ApiError, ErrorKind};
use crate::money::Yuan;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset, format_description::FormatItem, macros::format_description};

/// The offset bills are written in: Beijing time.
pub const BILL_OFFSET: UtcOffset = match UtcOffset::from_hms(8, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};
const BILL_TIME: &[FormatItem<'static>] = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// DescribeBillDetail input. `Month`, or `BeginTime` and `EndTime` in one month, choose the month.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeBillDetailRequest {
    pub offset: u64,
    pub limit: u64,
    pub period_type: Option<String>,
    pub month: Option<String>,
    pub begin_time: Option<String>,
    pub end_time: Option<String>,
    pub need_record_num: Option<i64>,
    pub product_code: Option<String>,
    pub pay_mode: Option<String>,
    pub resource_id: Option<String>,
    pub action_type: Option<String>,
    pub project_id: Option<i64>,
    pub business_code: Option<String>,
    pub context: Option<String>,
    pub payer_uin: Option<String>,
}

/// DescribeBillDetail output.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeBillDetailResponse {
    pub detail_set: Vec<BillDetail>,
    pub total: Option<u64>,
    pub context: Option<String>,
}

/// A bill tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct BillTagInfo {
    pub tag_key: String,
    #[serde(default)]
    pub tag_value: String,
}

/// A name and value describing a component's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct BillDetailComponentConfig {
    pub name: String,
    pub value: String,
}

/// The name under which the simulator lists a line's CVM instance type among a component's
/// `ComponentConfig`.
pub const CONFIG_INSTANCE_TYPE: &str = "实例规格";

/// One priced component of a bill line.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct BillDetailComponent {
    pub component_code_name: Option<String>,
    pub item_code_name: Option<String>,
    pub single_price: Option<String>,
    pub price_unit: Option<String>,
    pub used_amount: Option<String>,
    pub used_amount_unit: Option<String>,
    pub time_span: Option<String>,
    pub time_unit_name: Option<String>,
    pub cost: Option<String>,
    pub discount: Option<String>,
    /// The cost after discounts: what this component charged.
    pub real_cost: String,
    pub voucher_pay_amount: Option<String>,
    pub cash_pay_amount: Option<String>,
    pub incentive_pay_amount: Option<String>,
    pub transfer_pay_amount: Option<String>,
    pub item_code: Option<String>,
    pub component_code: Option<String>,
    pub contract_price: Option<String>,
    pub instance_type: Option<String>,
    pub blended_discount: Option<String>,
    #[serde(default)]
    pub component_config: Vec<BillDetailComponentConfig>,
}

/// One bill line (`BillDetail`). The members cvmbot reads are required.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct BillDetail {
    pub business_code_name: Option<String>,
    pub product_code_name: Option<String>,
    pub pay_mode_name: String,
    pub project_name: Option<String>,
    pub region_name: Option<String>,
    pub zone_name: Option<String>,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub action_type_name: String,
    pub order_id: Option<String>,
    pub bill_id: String,
    pub pay_time: Option<String>,
    pub fee_begin_time: String,
    pub fee_end_time: String,
    pub component_set: Vec<BillDetailComponent>,
    pub payer_uin: Option<String>,
    pub owner_uin: Option<String>,
    pub operate_uin: Option<String>,
    #[serde(default)]
    pub tags: Vec<BillTagInfo>,
    pub business_code: Option<String>,
    pub product_code: Option<String>,
    pub action_type: Option<String>,
    pub region_id: Option<String>,
    pub project_id: Option<i64>,
    pub bill_day: Option<String>,
    pub bill_month: Option<String>,
    pub id: Option<String>,
    pub region_type: Option<String>,
    pub region_type_name: Option<String>,
}

/// DescribeBillResourceSummary input.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeBillResourceSummaryRequest {
    pub offset: u64,
    pub limit: u64,
    pub month: String,
    pub period_type: Option<String>,
    pub need_record_num: Option<i64>,
    pub action_type: Option<String>,
    pub resource_id: Option<String>,
    pub pay_mode: Option<String>,
    pub business_code: Option<String>,
    pub payer_uin: Option<String>,
    pub tag_key: Option<String>,
    pub tag_value: Option<String>,
}

/// DescribeBillResourceSummary output.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeBillResourceSummaryResponse {
    pub resource_summary_set: Vec<BillResourceSummary>,
    pub total: Option<i64>,
}

/// One resource's bill in a month for one action type (`BillResourceSummary`).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct BillResourceSummary {
    pub business_code_name: Option<String>,
    pub product_code_name: Option<String>,
    pub pay_mode_name: String,
    pub project_name: Option<String>,
    pub region_name: Option<String>,
    pub zone_name: Option<String>,
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub action_type_name: String,
    pub order_id: Option<String>,
    pub pay_time: Option<String>,
    pub fee_begin_time: String,
    pub fee_end_time: String,
    pub config_desc: Option<String>,
    pub total_cost: Option<String>,
    pub discount: Option<String>,
    pub reduce_type: Option<String>,
    pub real_total_cost: String,
    pub voucher_pay_amount: Option<String>,
    pub cash_pay_amount: Option<String>,
    pub incentive_pay_amount: Option<String>,
    pub transfer_pay_amount: Option<String>,
    #[serde(default)]
    pub tags: Vec<BillTagInfo>,
    pub payer_uin: Option<String>,
    pub owner_uin: Option<String>,
    pub operate_uin: Option<String>,
    pub business_code: Option<String>,
    pub product_code: Option<String>,
    pub region_id: Option<i64>,
    pub instance_type: Option<String>,
    pub bill_month: Option<String>,
}

/// DescribeCostSummaryByResource's filters (`Conditions`).
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct Conditions {
    pub time_range: Option<u64>,
    pub business_code: Option<String>,
    pub project_id: Option<i64>,
    pub region_id: Option<i64>,
    pub pay_mode: Option<String>,
    pub resource_keyword: Option<String>,
    pub business_codes: Option<Vec<String>>,
    pub product_codes: Option<Vec<String>>,
    pub region_ids: Option<Vec<i64>>,
    pub project_ids: Option<Vec<i64>>,
    pub pay_modes: Option<Vec<String>>,
    pub action_types: Option<Vec<String>>,
    pub hide_free_cost: Option<i64>,
    pub order_by_cost: Option<String>,
    pub bill_ids: Option<Vec<String>>,
    pub component_codes: Option<Vec<String>>,
    pub file_ids: Option<Vec<String>>,
    pub file_types: Option<Vec<String>>,
    pub status: Option<Vec<u64>>,
}

/// DescribeCostSummaryByResource input: `BeginTime` and `EndTime` are one month, `yyyy-mm`.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeCostSummaryByResourceRequest {
    pub begin_time: String,
    pub end_time: String,
    pub limit: u64,
    pub offset: u64,
    pub payer_uin: Option<String>,
    pub need_record_num: Option<u64>,
    pub need_condition_value: Option<u64>,
    pub conditions: Option<Conditions>,
    pub tag_key: Option<String>,
    pub tag_value: Option<String>,
}

/// The total of a cost summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct ConsumptionSummaryTotal {
    pub real_total_cost: String,
}

/// A code and its name, as the filter values of a cost summary list them.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct ConditionValues {
    pub business: Vec<ConditionBusiness>,
    pub project: Vec<ConditionProject>,
    pub region: Vec<ConditionRegion>,
    pub pay_mode: Vec<ConditionPayMode>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
/// A product among the filter values.
pub struct ConditionBusiness {
    pub business_code: String,
    pub business_code_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
/// A project among the filter values.
pub struct ConditionProject {
    pub project_id: String,
    pub project_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
/// A region among the filter values.
pub struct ConditionRegion {
    pub region_id: String,
    pub region_name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
/// A pay mode among the filter values.
pub struct ConditionPayMode {
    pub pay_mode: String,
    pub pay_mode_name: String,
}

/// DescribeCostSummaryByResource output.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct DescribeCostSummaryByResourceResponse {
    pub ready: u64,
    pub total: Option<ConsumptionSummaryTotal>,
    pub condition_value: Option<ConditionValues>,
    pub record_num: Option<u64>,
    #[serde(default)]
    pub data: Vec<ConsumptionResourceSummaryDataItem>,
}

/// One resource's cost over the month asked for.
#[serde_with::skip_serializing_none]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(
    missing_docs,
    reason = "Tencent's member names, documented in the API spec (reference/tccli-specs)"
)]
pub struct ConsumptionResourceSummaryDataItem {
    pub resource_id: String,
    pub resource_name: Option<String>,
    pub real_total_cost: String,
    pub cash_pay_amount: Option<String>,
    pub project_id: Option<String>,
    pub project_name: Option<String>,
    pub region_id: Option<String>,
    pub region_name: Option<String>,
    pub pay_mode: String,
    pub pay_mode_name: Option<String>,
    pub business_code: Option<String>,
    pub business_code_name: Option<String>,
    pub consumption_type_name: Option<String>,
    pub real_cost: Option<String>,
    pub fee_begin_time: String,
    pub fee_end_time: String,
    pub day_diff: Option<String>,
    pub daily_total_cost: Option<String>,
    pub order_id: Option<String>,
    pub voucher_pay_amount: Option<String>,
    pub incentive_pay_amount: Option<String>,
    pub transfer_pay_amount: Option<String>,
    pub payer_uin: Option<String>,
    pub owner_uin: Option<String>,
    pub operate_uin: Option<String>,
    pub product_code: Option<String>,
    pub product_code_name: Option<String>,
    pub region_type: Option<String>,
    pub region_type_name: Option<String>,
    pub instance_type: Option<String>,
    pub instance_type_name: Option<String>,
    pub pay_time: Option<String>,
    pub zone_name: Option<String>,
    pub component_config: Option<String>,
    pub tags: Option<String>,
}

/// How a resource is paid for: `prePay` (包年包月, monthly) or `postPay` (按量计费, by usage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PayMode {
    /// Paid in advance for months.
    Prepaid,
    /// Billed for what was used (pay-as-you-go and spot).
    Postpaid,
}

impl PayMode {
    /// The API's code: `prePay` or `postPay`.
    pub fn code(self) -> &'static str {
        match self {
            PayMode::Prepaid => "prePay",
            PayMode::Postpaid => "postPay",
        }
    }

    /// The API's name, `PayModeName`.
    pub fn name(self) -> &'static str {
        match self {
            PayMode::Prepaid => "包年包月",
            PayMode::Postpaid => "按量计费",
        }
    }

    /// Reads a code (`prePay`) or a name (`包年包月`).
    pub fn parse(text: &str) -> Option<PayMode> {
        [PayMode::Prepaid, PayMode::Postpaid]
            .into_iter()
            .find(|mode| mode.code() == text || mode.name() == text)
    }
}

/// What a bill line is for, by Tencent's `ActionTypeName`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BillAction {
    /// 包年包月新购: a prepaid purchase.
    NewPurchase,
    /// 包年包月续费: a prepaid renewal.
    Renewal,
    /// 包年包月退款: a prepaid refund (a negative amount).
    Refund,
    /// 按量计费小时结: an hour of pay-as-you-go.
    HourlySettlement,
    /// 竞价实例小时结: an hour of a spot instance.
    SpotHourlySettlement,
    /// Any other action type, by its name.
    Other(String),
}

impl BillAction {
    /// Tencent's `ActionTypeName`.
    pub fn name(&self) -> &str {
        match self {
            BillAction::NewPurchase => "包年包月新购",
            BillAction::Renewal => "包年包月续费",
            BillAction::Refund => "包年包月退款",
            BillAction::HourlySettlement => "按量计费小时结",
            BillAction::SpotHourlySettlement => "竞价实例小时结",
            BillAction::Other(name) => name,
        }
    }

    /// Tencent's `ActionType` code. Spot hours share pay-as-you-go's hourly code: the examples
    /// name no separate one.
    pub fn code(&self) -> &str {
        match self {
            BillAction::NewPurchase => "prepay_purchase",
            BillAction::Renewal => "prepay_renew",
            BillAction::Refund => "prepay_return",
            BillAction::HourlySettlement | BillAction::SpotHourlySettlement => "postpay_deduct_h",
            BillAction::Other(name) => name,
        }
    }

    /// Reads an `ActionTypeName`.
    pub fn from_name(name: &str) -> BillAction {
        [
            BillAction::NewPurchase,
            BillAction::Renewal,
            BillAction::Refund,
            BillAction::HourlySettlement,
            BillAction::SpotHourlySettlement,
        ]
        .into_iter()
        .find(|action| action.name() == name)
        .unwrap_or_else(|| BillAction::Other(name.to_owned()))
    }
}

/// Formats an instant as a bill time, `yyyy-mm-dd hh:mm:ss` in Beijing time.
pub fn format_bill_time(at: OffsetDateTime) -> String {
    at.to_offset(BILL_OFFSET).format(BILL_TIME).unwrap_or_default()
}

/// Reads a bill time, `yyyy-mm-dd hh:mm:ss` in Beijing time.
pub fn parse_bill_time(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text.trim(), BILL_TIME)
        .ok()
        .map(|local| local.assume_offset(BILL_OFFSET))
}

/// Reads a bill amount, a decimal string of yuan.
pub fn parse_amount(text: &str) -> Option<Decimal> {
    text.trim().parse().ok()
}

/// Writes a bill amount of yuan with 8 decimals, as Tencent does.
pub fn format_amount(yuan: Decimal) -> String {
    let mut amount = yuan.round_dp(8);
    amount.rescale(8);
    amount.to_string()
}

fn unreadable(what: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::transport(ErrorKind::Unreadable, "ClientParseError", format!("{what}: {detail}"))
}

fn time_of(what: &str, text: &str) -> Result<OffsetDateTime, ApiError> {
    parse_bill_time(text).ok_or_else(|| unreadable(what, format!("`{text}` is not a bill time")))
}

fn amount_of(what: &str, text: &str) -> Result<Yuan, ApiError> {
    parse_amount(text)
        .map(Yuan::new)
        .ok_or_else(|| unreadable(what, format!("`{text}` is not an amount")))
}

fn pay_mode_of(what: &str, text: &str) -> Result<PayMode, ApiError> {
    PayMode::parse(text).ok_or_else(|| unreadable(what, format!("`{text}` is not a pay mode")))
}

fn tags_of(tags: &[BillTagInfo]) -> Vec<(String, String)> {
    tags.iter().map(|t| (t.tag_key.clone(), t.tag_value.clone())).collect()
}

/// One bill line as cvmbot reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct BillLine {
    /// The settlement's id (`BillId`).
    pub bill_id: String,
    /// The instance (or other resource) billed.
    pub resource_id: String,
    /// When the usage billed began.
    pub fee_begin: OffsetDateTime,
    /// The last second of the usage billed (inclusive, as Tencent writes it).
    pub fee_end: OffsetDateTime,
    /// What the line charged, after discounts: the sum of its components' `RealCost`. A refund is
    /// negative.
    pub cost: Yuan,
    /// Prepaid or by usage.
    pub pay_mode: PayMode,
    /// Purchase, renewal, refund, hourly settlement...
    pub action: BillAction,
    /// The zone's name, as the bill writes it.
    pub zone: Option<String>,
    /// The CVM instance type, where the bill names it.
    pub instance_type: Option<String>,
    /// The resource's tags: (key, value).
    pub tags: Vec<(String, String)>,
}

impl TryFrom<&BillDetail> for BillLine {
    type Error = ApiError;

    fn try_from(wire: &BillDetail) -> Result<Self, ApiError> {
        let what = "a bill line";
        let mut cost = Yuan::ZERO;
        for component in &wire.component_set {
            cost = cost.plus(amount_of(what, &component.real_cost)?);
        }
        let instance_type = wire
            .component_set
            .iter()
            .flat_map(|c| &c.component_config)
            .find(|c| c.name == CONFIG_INSTANCE_TYPE)
            .map(|c| c.value.clone());
        Ok(BillLine {
            bill_id: wire.bill_id.clone(),
            resource_id: wire.resource_id.clone(),
            fee_begin: time_of(what, &wire.fee_begin_time)?,
            fee_end: time_of(what, &wire.fee_end_time)?,
            cost,
            pay_mode: pay_mode_of(what, &wire.pay_mode_name)?,
            action: BillAction::from_name(&wire.action_type_name),
            zone: wire.zone_name.clone(),
            instance_type,
            tags: tags_of(&wire.tags),
        })
    }
}

/// One resource's bill for one action type in a month.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceBill {
    /// The instance (or other resource) billed.
    pub resource_id: String,
    /// When the usage billed began.
    pub fee_begin: OffsetDateTime,
    /// The last second of the usage billed.
    pub fee_end: OffsetDateTime,
    /// What was charged, after discounts (`RealTotalCost`).
    pub cost: Yuan,
    /// Prepaid or by usage.
    pub pay_mode: PayMode,
    /// Purchase, renewal, refund, hourly settlement...
    pub action: BillAction,
    /// The zone's name.
    pub zone: Option<String>,
    /// The resource's tags: (key, value).
    pub tags: Vec<(String, String)>,
}

impl TryFrom<&BillResourceSummary> for ResourceBill {
    type Error = ApiError;

    fn try_from(wire: &BillResourceSummary) -> Result<Self, ApiError> {
        let what = "a resource bill";
        Ok(ResourceBill {
            resource_id: wire.resource_id.clone(),
            fee_begin: time_of(what, &wire.fee_begin_time)?,
            fee_end: time_of(what, &wire.fee_end_time)?,
            cost: amount_of(what, &wire.real_total_cost)?,
            pay_mode: pay_mode_of(what, &wire.pay_mode_name)?,
            action: BillAction::from_name(&wire.action_type_name),
            zone: wire.zone_name.clone(),
            tags: tags_of(&wire.tags),
        })
    }
}

/// One resource's cost over a month (DescribeCostSummaryByResource).
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceCost {
    /// The instance (or other resource).
    pub resource_id: String,
    /// The first usage in the month.
    pub fee_begin: OffsetDateTime,
    /// The last second of usage in the month.
    pub fee_end: OffsetDateTime,
    /// What it cost after discounts (`RealTotalCost`).
    pub cost: Yuan,
    /// Prepaid or by usage.
    pub pay_mode: PayMode,
    /// The zone's name.
    pub zone: Option<String>,
}

impl TryFrom<&ConsumptionResourceSummaryDataItem> for ResourceCost {
    type Error = ApiError;

    fn try_from(wire: &ConsumptionResourceSummaryDataItem) -> Result<Self, ApiError> {
        let what = "a resource's cost";
        Ok(ResourceCost {
            resource_id: wire.resource_id.clone(),
            fee_begin: time_of(what, &wire.fee_begin_time)?,
            fee_end: time_of(what, &wire.fee_end_time)?,
            cost: amount_of(what, &wire.real_total_cost)?,
            pay_mode: pay_mode_of(what, &wire.pay_mode)?,
            zone: wire.zone_name.clone(),
        })
    }
}

/// A month of bills, `yyyy-mm` on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct BillMonth {
    year: i32,
    month: u8,
}

impl BillMonth {
    /// Reads `yyyy-mm`.
    pub fn parse(text: &str) -> Option<BillMonth> {
        let (year, month) = text.split_once('-')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let (year, month) = (year.parse().ok()?, month.parse().ok()?);
        (1..=12).contains(&month).then_some(BillMonth { year, month })
    }

    /// The month (in Beijing time) that holds `at`.
    pub fn of(at: OffsetDateTime) -> BillMonth {
        let local = at.to_offset(BILL_OFFSET);
        BillMonth {
            year: local.year(),
            month: u8::from(local.month()),
        }
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The month after this one.
    pub fn next(self) -> BillMonth {
        match self.month {
            12 => BillMonth {
                year: self.year + 1,
                month: 1,
            },
            month => BillMonth {
                year: self.year,
                month: month + 1,
            },
        }
    }

    /// Months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: BillMonth) -> i64 {
        (i64::from(later.year) - i64::from(self.year)) * 12 + i64::from(later.month) - i64::from(self.month)
    }
}

impl std::fmt::Display for BillMonth {
    /// `yyyy-mm`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests;
