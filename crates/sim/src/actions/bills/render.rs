//! Bill lines as the Billing API writes them: product and action names from the spec's examples,
//! amounts as strings of yuan with 8 decimals, times in Beijing time, a fee end as its last second.

use super::{bill_time_of, line_month, tags_of};
use crate::ledger::BillLine;
use crate::world::World;
use cvmbot_tencent::bills::{
    BillAction, BillDetail, BillDetailComponent, BillDetailComponentConfig, BillMonth, BillResourceSummary,
    CONFIG_INSTANCE_TYPE, ConditionBusiness, ConditionPayMode, ConditionProject, ConditionRegion, ConditionValues,
    ConsumptionResourceSummaryDataItem, format_amount,
};
use rust_decimal::Decimal;

/// The product code of CVM.
pub const BUSINESS_CODE: &str = "p_cvm";
const BUSINESS_NAME: &str = "云服务器CVM";
const PROJECT_NAME: &str = "默认项目";

/// Tencent's numeric id of a region (0 for one the table does not know).
pub fn region_id(region: &str) -> i64 {
    REGIONS
        .iter()
        .find(|(name, ..)| *name == region)
        .map_or(0, |(_, id, _)| *id)
}

fn region_name(region: &str) -> String {
    REGIONS
        .iter()
        .find(|(name, ..)| *name == region)
        .map_or_else(|| region.to_owned(), |(.., label)| (*label).to_owned())
}

const REGIONS: &[(&str, i64, &str)] = &[
    ("ap-guangzhou", 1, "华南地区（广州）"),
    ("ap-shanghai", 4, "华东地区（上海）"),
    ("ap-hongkong", 5, "港澳台地区（香港）"),
    ("ap-beijing", 8, "华北地区（北京）"),
    ("ap-singapore", 9, "东南亚地区（新加坡）"),
    ("ap-chengdu", 16, "西南地区（成都）"),
];

fn zone_name(world: &World, zone: &str) -> String {
    world
        .cat
        .zone(zone)
        .map_or_else(|| zone.to_owned(), |z| z.zone.name.clone())
}

/// `S5` of `S5.MEDIUM4`, lower-cased for the product code.
fn family(instance_type: &str) -> &str {
    instance_type.split('.').next().unwrap_or(instance_type)
}

fn product_code(line: &BillLine) -> String {
    format!("sp_cvm_{}", family(&line.instance_type).to_lowercase())
}

fn product_name(line: &BillLine) -> String {
    let family = family(&line.instance_type);
    let kind = match family.chars().next() {
        Some('S') => "标准型",
        Some('M') => "内存型",
        Some('C') => "计算型",
        _ => "",
    };
    format!("{BUSINESS_NAME}-{kind}{family}")
}

fn fee_end(line: &BillLine) -> String {
    bill_time_of((line.fee_end - 1000).max(line.fee_begin))
}

fn yuan(fen: i64) -> String {
    format_amount(Decimal::new(fen, 2))
}

fn action_code(line: &BillLine) -> String {
    BillAction::from_name(&line.action).code().to_owned()
}

/// One line as `BillDetail`: one component carrying the whole amount and the instance's type.
pub fn detail(world: &World, line: &BillLine) -> BillDetail {
    let amount = yuan(line.fen);
    let uin = line.uin.to_string();
    let (hours, price) = if line.prepaid {
        (None, None)
    } else {
        let ms = Decimal::from(line.fee_end - line.fee_begin);
        let hours = ms / Decimal::from(crate::ledger::HOUR_MS);
        let rate = if ms.is_zero() { Decimal::ZERO } else { line.usage / ms };
        (
            Some(hours.round_dp(8).normalize().to_string()),
            Some(format_amount(rate)),
        )
    };
    let component = BillDetailComponent {
        component_code_name: Some("运算组件".into()),
        item_code_name: Some(format!("运算组件-{}", line.instance_type)),
        single_price: price.clone(),
        price_unit: price.as_ref().map(|_| "元/小时".into()),
        time_span: hours,
        time_unit_name: Some(if line.prepaid { "月" } else { "小时" }.into()),
        cost: Some(amount.clone()),
        discount: Some("1".into()),
        real_cost: amount.clone(),
        voucher_pay_amount: Some(yuan(0)),
        cash_pay_amount: Some(amount.clone()),
        incentive_pay_amount: Some(yuan(0)),
        transfer_pay_amount: Some(yuan(0)),
        item_code: Some(format!(
            "virtual_v_cvm_compute_{}",
            family(&line.instance_type).to_lowercase()
        )),
        component_code: Some("virtual_v_cvm_compute".into()),
        contract_price: price,
        instance_type: line.spot.then(|| "spot".into()),
        blended_discount: Some("1.00000000".into()),
        component_config: vec![
            BillDetailComponentConfig {
                name: "主机".into(),
                value: line.resource_id.clone(),
            },
            BillDetailComponentConfig {
                name: "可用区".into(),
                value: zone_name(world, &line.zone),
            },
            BillDetailComponentConfig {
                name: CONFIG_INSTANCE_TYPE.into(),
                value: line.instance_type.clone(),
            },
        ],
        ..Default::default()
    };
    let month = line_month(line);
    BillDetail {
        business_code_name: Some(BUSINESS_NAME.into()),
        product_code_name: Some(product_name(line)),
        pay_mode_name: line.pay_mode().name().into(),
        project_name: Some(PROJECT_NAME.into()),
        region_name: Some(region_name(&line.region)),
        zone_name: Some(zone_name(world, &line.zone)),
        resource_id: line.resource_id.clone(),
        resource_name: Some(line.resource_name.clone()),
        action_type_name: line.action.clone(),
        order_id: line.prepaid.then(|| order_id(line)),
        bill_id: bill_id(line),
        pay_time: Some(bill_time_of(line.pay_time)),
        fee_begin_time: bill_time_of(line.fee_begin),
        fee_end_time: fee_end(line),
        component_set: vec![component],
        payer_uin: Some(uin.clone()),
        owner_uin: Some(uin.clone()),
        operate_uin: Some(uin),
        tags: tags_of(line),
        business_code: Some(BUSINESS_CODE.into()),
        product_code: Some(product_code(line)),
        action_type: Some(action_code(line)),
        region_id: Some(region_id(&line.region).to_string()),
        project_id: Some(0),
        bill_day: Some(format!("{} 00:00:00", &bill_time_of(line.fee_begin)[..10])),
        bill_month: Some(format!("{month}-01 00:00:00")),
        id: Some(line.id.to_string()),
        region_type: Some("domestic".into()),
        region_type_name: Some("国内".into()),
    }
}

fn bill_id(line: &BillLine) -> String {
    format!(
        "{}{:012}",
        &bill_time_of(line.pay_time).replace(['-', ' ', ':'], "")[..8],
        line.id
    )
}

fn order_id(line: &BillLine) -> String {
    format!(
        "{}4{:011}",
        &bill_time_of(line.pay_time).replace(['-', ' ', ':'], "")[..8],
        line.id
    )
}

/// Groups lines by `key`, groups in the order their first line was written.
pub fn group<'a, K: PartialEq>(lines: &[&'a BillLine], key: impl Fn(&BillLine) -> K) -> Vec<Vec<&'a BillLine>> {
    let mut groups: Vec<(K, Vec<&BillLine>)> = Vec::new();
    for line in lines {
        let k = key(line);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(line),
            None => groups.push((k, vec![line])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

fn span(group: &[&BillLine]) -> (String, String) {
    let begin = group.iter().map(|l| l.fee_begin).min().unwrap_or_default();
    let last = group.iter().max_by_key(|l| l.fee_end).copied();
    (bill_time_of(begin), last.map(fee_end).unwrap_or_default())
}

/// A resource's lines of one action type in `month` as `BillResourceSummary`.
pub fn resource_summary(world: &World, group: &[&BillLine], month: BillMonth) -> BillResourceSummary {
    let first = group[0];
    let amount = yuan(group.iter().map(|l| l.fen).sum());
    let (begin, end) = span(group);
    let uin = first.uin.to_string();
    BillResourceSummary {
        business_code_name: Some(BUSINESS_NAME.into()),
        product_code_name: Some(product_name(first)),
        pay_mode_name: first.pay_mode().name().into(),
        project_name: Some(PROJECT_NAME.into()),
        region_name: Some(region_name(&first.region)),
        zone_name: Some(zone_name(world, &first.zone)),
        resource_id: first.resource_id.clone(),
        resource_name: Some(first.resource_name.clone()),
        action_type_name: first.action.clone(),
        order_id: first.prepaid.then(|| order_id(first)),
        pay_time: group.iter().map(|l| l.pay_time).max().map(bill_time_of),
        fee_begin_time: begin,
        fee_end_time: end,
        config_desc: Some(format!("{}: {}", CONFIG_INSTANCE_TYPE, first.instance_type)),
        total_cost: Some(amount.clone()),
        discount: Some("1".into()),
        reduce_type: Some("折扣".into()),
        real_total_cost: amount.clone(),
        voucher_pay_amount: Some(yuan(0)),
        cash_pay_amount: Some(amount),
        incentive_pay_amount: Some(yuan(0)),
        transfer_pay_amount: Some(yuan(0)),
        tags: tags_of(first),
        payer_uin: Some(uin.clone()),
        owner_uin: Some(uin.clone()),
        operate_uin: Some(uin),
        business_code: Some(BUSINESS_CODE.into()),
        product_code: Some(product_code(first)),
        region_id: Some(region_id(&first.region)),
        instance_type: first.spot.then(|| "spot".into()),
        bill_month: Some(month.to_string()),
    }
}

/// A resource's lines over a month as `ConsumptionResourceSummaryDataItem`.
pub fn cost_item(world: &World, group: &[&BillLine]) -> ConsumptionResourceSummaryDataItem {
    let first = group[0];
    let fen: i64 = group.iter().map(|l| l.fen).sum();
    let (begin, end) = span(group);
    let days = group
        .iter()
        .map(|l| bill_time_of(l.fee_begin)[..10].to_owned())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let uin = first.uin.to_string();
    let actions: Vec<&str> = group.iter().map(|l| l.action.as_str()).fold(Vec::new(), |mut seen, a| {
        if !seen.contains(&a) {
            seen.push(a);
        }
        seen
    });
    ConsumptionResourceSummaryDataItem {
        resource_id: first.resource_id.clone(),
        resource_name: Some(first.resource_name.clone()),
        real_total_cost: yuan(fen),
        cash_pay_amount: Some(yuan(fen)),
        project_id: Some("0".into()),
        project_name: Some(PROJECT_NAME.into()),
        region_id: Some(region_id(&first.region).to_string()),
        region_name: Some(region_name(&first.region)),
        pay_mode: first.pay_mode().code().into(),
        pay_mode_name: Some(first.pay_mode().name().into()),
        business_code: Some(BUSINESS_CODE.into()),
        business_code_name: Some(BUSINESS_NAME.into()),
        consumption_type_name: Some(actions.join(",")),
        real_cost: Some(yuan(fen)),
        fee_begin_time: begin,
        fee_end_time: end,
        day_diff: Some(days.to_string()),
        daily_total_cost: Some(format_amount(Decimal::new(fen, 2) / Decimal::from(days.max(1) as i64))),
        order_id: first.prepaid.then(|| order_id(first)),
        voucher_pay_amount: Some(yuan(0)),
        incentive_pay_amount: Some(yuan(0)),
        transfer_pay_amount: Some(yuan(0)),
        payer_uin: Some(uin.clone()),
        owner_uin: Some(uin.clone()),
        operate_uin: Some(uin),
        product_code: Some(product_code(first)),
        product_code_name: Some(product_name(first)),
        region_type: Some("domestic".into()),
        region_type_name: Some("国内".into()),
        instance_type: first.spot.then(|| "spot".into()),
        instance_type_name: first.spot.then(|| "竞价实例".into()),
        pay_time: group.iter().map(|l| l.pay_time).max().map(bill_time_of),
        zone_name: Some(zone_name(world, &first.zone)),
        component_config: Some(format!("{}: {}", CONFIG_INSTANCE_TYPE, first.instance_type)),
        tags: Some(
            first
                .tags
                .iter()
                .map(|(k, v)| format!("{k}:{v}"))
                .collect::<Vec<_>>()
                .join(";"),
        ),
    }
}

/// The filter values the lines offer.
pub fn condition_values(lines: &[&BillLine]) -> ConditionValues {
    let mut regions: Vec<ConditionRegion> = Vec::new();
    let mut modes: Vec<ConditionPayMode> = Vec::new();
    for line in lines {
        let region = ConditionRegion {
            region_id: region_id(&line.region).to_string(),
            region_name: region_name(&line.region),
        };
        if !regions.contains(&region) {
            regions.push(region);
        }
        let mode = ConditionPayMode {
            pay_mode: line.pay_mode().code().into(),
            pay_mode_name: line.pay_mode().name().into(),
        };
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    let any = !lines.is_empty();
    ConditionValues {
        business: any
            .then(|| ConditionBusiness {
                business_code: BUSINESS_CODE.into(),
                business_code_name: BUSINESS_NAME.into(),
            })
            .into_iter()
            .collect(),
        project: any
            .then(|| ConditionProject {
                project_id: "0".into(),
                project_name: PROJECT_NAME.into(),
            })
            .into_iter()
            .collect(),
        region: regions,
        pay_mode: modes,
    }
}
