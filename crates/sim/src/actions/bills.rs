//! Billing DescribeBillDetail, DescribeBillResourceSummary and DescribeCostSummaryByResource,
//! answered from the [`crate::ledger`]. A line shows once it is written: an hour of usage after
//! the hour ends (or the server stops), a prepaid charge at once. Months are Beijing time; a usage
//! line belongs to the month its usage began in, a prepaid line to the month it was paid in.

use super::{ApiFailure, Ctx, fail, output};
use crate::ledger::BillLine;
use crate::world::World;
use cvmbot_tencent::bills::{
    BillMonth, BillTagInfo, DescribeBillDetailRequest, DescribeBillResourceSummaryRequest,
    DescribeCostSummaryByResourceRequest, PayMode, format_amount, format_bill_time, parse_bill_time,
};
use serde_json::Value;
use time::OffsetDateTime;

mod render;

/// How far back bills go: the spec's "近18个月".
const MONTHS_KEPT: i64 = 18;

/// DescribeBillDetail: the lines of one month, at most 300 a page.
pub fn describe_bill_detail(
    world: &mut World,
    ctx: &Ctx,
    request: DescribeBillDetailRequest,
) -> Result<Value, ApiFailure> {
    let (offset, limit) = page(request.offset, request.limit, 300)?;
    let month = match (&request.begin_time, &request.end_time) {
        (Some(begin), Some(end)) => {
            let (begin, end) = (bill_time("BeginTime", begin)?, bill_time("EndTime", end)?);
            if BillMonth::of(begin) != BillMonth::of(end) {
                return Err(fail(
                    "InvalidParameterValue",
                    "BeginTime and EndTime must be in the same month: bills are not queried across months.",
                ));
            }
            BillMonth::of(begin)
        }
        (Some(_), None) => return Err(missing("EndTime")),
        (None, Some(_)) => return Err(missing("BeginTime")),
        (None, None) => match &request.month {
            Some(month) => bill_month("Month", month)?,
            None => return Err(missing("Month` or `BeginTime` and `EndTime")),
        },
    };
    check_kept(world, month)?;
    let pay_mode = pay_mode_filter(request.pay_mode.as_deref())?;
    let uin = payer(ctx, request.payer_uin.as_deref())?;
    let lines: Vec<&BillLine> = lines_of(world, uin, month)
        .filter(|l| pay_mode.is_none_or(|mode| l.pay_mode() == mode))
        .filter(|l| request.resource_id.as_ref().is_none_or(|id| &l.resource_id == id))
        .filter(|l| request.action_type.as_ref().is_none_or(|name| &l.action == name))
        .filter(|_| request.project_id.is_none_or(|id| id == 0))
        .filter(|_| {
            request
                .business_code
                .as_ref()
                .is_none_or(|code| code == render::BUSINESS_CODE)
        })
        .collect();
    let total = lines.len() as u64;
    let detail_set = lines
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|line| render::detail(world, line))
        .collect();
    output(&cvmbot_tencent::bills::DescribeBillDetailResponse {
        detail_set,
        total: (request.need_record_num == Some(1)).then_some(total),
        context: None,
    })
}

/// DescribeBillResourceSummary: one row per resource and action type in a month, at most 1000 a
/// page.
pub fn describe_bill_resource_summary(
    world: &mut World,
    ctx: &Ctx,
    request: DescribeBillResourceSummaryRequest,
) -> Result<Value, ApiFailure> {
    let (offset, limit) = page(request.offset, request.limit, 1000)?;
    let month = bill_month("Month", &request.month)?;
    check_kept(world, month)?;
    let pay_mode = pay_mode_filter(request.pay_mode.as_deref())?;
    let uin = payer(ctx, request.payer_uin.as_deref())?;
    let lines: Vec<&BillLine> = lines_of(world, uin, month)
        .filter(|l| pay_mode.is_none_or(|mode| l.pay_mode() == mode))
        .filter(|l| request.resource_id.as_ref().is_none_or(|id| &l.resource_id == id))
        .filter(|l| request.action_type.as_ref().is_none_or(|name| &l.action == name))
        .filter(|_| {
            request
                .business_code
                .as_ref()
                .is_none_or(|code| code == render::BUSINESS_CODE)
        })
        .filter(|l| tagged(l, request.tag_key.as_deref(), request.tag_value.as_deref()))
        .collect();
    let groups = render::group(&lines, |l| (l.resource_id.clone(), l.action.clone()));
    let total = groups.len() as i64;
    let set = groups
        .iter()
        .skip(offset)
        .take(limit)
        .map(|group| render::resource_summary(world, group, month))
        .collect();
    output(&cvmbot_tencent::bills::DescribeBillResourceSummaryResponse {
        resource_summary_set: set,
        total: (request.need_record_num == Some(1)).then_some(total),
    })
}

/// DescribeCostSummaryByResource: one row per resource over one month (`BeginTime` and `EndTime`
/// are that month, `yyyy-mm`), at most 100 a page.
pub fn describe_cost_summary_by_resource(
    world: &mut World,
    ctx: &Ctx,
    request: DescribeCostSummaryByResourceRequest,
) -> Result<Value, ApiFailure> {
    let (offset, limit) = page(request.offset, request.limit, 100)?;
    let begin = bill_month("BeginTime", &request.begin_time)?;
    let end = bill_month("EndTime", &request.end_time)?;
    if begin != end {
        return Err(fail(
            "InvalidParameterValue",
            "BeginTime and EndTime must be the same month: costs are not queried across months.",
        ));
    }
    check_kept(world, begin)?;
    let conditions = request.conditions.clone().unwrap_or_default();
    let mut modes: Vec<PayMode> = Vec::new();
    for text in conditions
        .pay_modes
        .iter()
        .flatten()
        .chain(conditions.pay_mode.as_ref())
    {
        modes.extend(pay_mode_filter(Some(text))?);
    }
    let order = match conditions.order_by_cost.as_deref() {
        None => None,
        Some("desc") => Some(true),
        Some("asc") => Some(false),
        Some(other) => {
            return Err(fail(
                "InvalidParameterValue",
                format!("Conditions.OrderByCost must be `desc` or `asc`, not `{other}`."),
            ));
        }
    };
    let uin = payer(ctx, request.payer_uin.as_deref())?;
    let keyword = conditions.resource_keyword.as_deref().unwrap_or_default();
    let lines: Vec<&BillLine> = lines_of(world, uin, begin)
        .filter(|l| modes.is_empty() || modes.contains(&l.pay_mode()))
        .filter(|l| l.resource_id.contains(keyword) || l.resource_name.contains(keyword))
        .filter(|l| tagged(l, request.tag_key.as_deref(), request.tag_value.as_deref()))
        .filter(|l| {
            let region = render::region_id(&l.region);
            conditions.region_ids.as_ref().is_none_or(|ids| ids.contains(&region))
                && conditions.region_id.is_none_or(|id| id == region)
        })
        .filter(|_| conditions.project_ids.as_ref().is_none_or(|ids| ids.contains(&0)))
        .collect();
    let mut groups = render::group(&lines, |l| l.resource_id.clone());
    if conditions.hide_free_cost == Some(1) {
        groups.retain(|group| group.iter().map(|l| l.fen).sum::<i64>() != 0);
    }
    if let Some(descending) = order {
        groups.sort_by_key(|group| {
            let fen: i64 = group.iter().map(|l| l.fen).sum();
            if descending { -fen } else { fen }
        });
    }
    let total_fen: i64 = groups.iter().flatten().map(|l| l.fen).sum();
    let record_num = groups.len() as u64;
    let data = groups
        .iter()
        .skip(offset)
        .take(limit)
        .map(|group| render::cost_item(world, group))
        .collect();
    output(&cvmbot_tencent::bills::DescribeCostSummaryByResourceResponse {
        ready: 1,
        total: Some(cvmbot_tencent::bills::ConsumptionSummaryTotal {
            real_total_cost: format_amount(rust_decimal::Decimal::new(total_fen, 2)),
        }),
        condition_value: (request.need_condition_value == Some(1)).then(|| render::condition_values(&lines)),
        record_num: (request.need_record_num == Some(1)).then_some(record_num),
        data,
    })
}

/// The lines an account paid in `month`, in the order written.
fn lines_of(world: &World, uin: u64, month: BillMonth) -> impl Iterator<Item = &BillLine> {
    world
        .ledger
        .lines
        .iter()
        .filter(move |l| l.uin == uin && line_month(l) == month)
}

/// The month a line belongs to.
pub(super) fn line_month(line: &BillLine) -> BillMonth {
    BillMonth::of(instant(if line.prepaid { line.pay_time } else { line.fee_begin }))
}

/// A simulated instant as a date-time.
pub(super) fn instant(at: crate::clock::SimMs) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A simulated instant as a bill time.
pub(super) fn bill_time_of(at: crate::clock::SimMs) -> String {
    format_bill_time(instant(at))
}

fn tagged(line: &BillLine, key: Option<&str>, value: Option<&str>) -> bool {
    let Some(key) = key else {
        return true;
    };
    let value = value.unwrap_or_default();
    let found = line.tags.iter().find(|(k, _)| k == key);
    if value.is_empty() {
        // An empty TagValue asks for the records without a value under that key.
        found.is_none_or(|(_, v)| v.is_empty())
    } else {
        found.is_some_and(|(_, v)| v == value)
    }
}

fn page(offset: u64, limit: u64, max: u64) -> Result<(usize, usize), ApiFailure> {
    if limit > max {
        return Err(fail(
            "InvalidParameterValue",
            format!("Limit must be at most {max}, not {limit}."),
        ));
    }
    Ok((usize::try_from(offset).unwrap_or(usize::MAX), limit as usize))
}

fn missing(name: &str) -> ApiFailure {
    fail(
        "MissingParameter",
        format!("The request is missing the required parameter `{name}`."),
    )
}

fn bill_time(name: &str, text: &str) -> Result<OffsetDateTime, ApiFailure> {
    parse_bill_time(text).ok_or_else(|| {
        fail(
            "InvalidParameterValue",
            format!("{name} must be a time written yyyy-mm-dd hh:ii:ss, not `{text}`."),
        )
    })
}

fn bill_month(name: &str, text: &str) -> Result<BillMonth, ApiFailure> {
    BillMonth::parse(text).ok_or_else(|| {
        fail(
            "InvalidParameterValue",
            format!("{name} must be a month written yyyy-mm, not `{text}`."),
        )
    })
}

/// Refuses a month older than the 18 kept; a future month simply has no bills yet.
fn check_kept(world: &World, month: BillMonth) -> Result<(), ApiFailure> {
    let now = BillMonth::of(instant(world.now));
    if month.months_until(now) > MONTHS_KEPT {
        return Err(fail(
            "InvalidParameterValue",
            format!("Bills are kept for the last {MONTHS_KEPT} months; {month} is older."),
        ));
    }
    Ok(())
}

fn pay_mode_filter(text: Option<&str>) -> Result<Option<PayMode>, ApiFailure> {
    let Some(text) = text else {
        return Ok(None);
    };
    [PayMode::Prepaid, PayMode::Postpaid]
        .into_iter()
        .find(|mode| mode.code() == text)
        .map(Some)
        .ok_or_else(|| {
            fail(
                "InvalidParameterValue",
                format!("PayMode must be `prePay` or `postPay`, not `{text}`."),
            )
        })
}

/// The account whose bills are read: the caller's, or the PayerUin given, which must be it (the
/// simulator has no organisations).
fn payer(ctx: &Ctx, payer_uin: Option<&str>) -> Result<u64, ApiFailure> {
    match payer_uin {
        None => Ok(ctx.uin),
        Some(text) if text.trim().parse::<u64>().ok() == Some(ctx.uin) => Ok(ctx.uin),
        Some(text) => Err(fail(
            "UnauthorizedOperation",
            format!("PayerUin `{text}` is not this account, and the account manages no others."),
        )),
    }
}

/// A line's tags on the wire.
pub(super) fn tags_of(line: &BillLine) -> Vec<BillTagInfo> {
    line.tags
        .iter()
        .map(|(key, value)| BillTagInfo {
            tag_key: key.clone(),
            tag_value: value.clone(),
        })
        .collect()
}
