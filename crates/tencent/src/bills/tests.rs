use super::*;
use crate::client::parse_envelope;

const LINE: &str = r#"{"Response":{"DetailSet":[{
    "ActionType":"prepay_renew","ActionTypeName":"包年包月续费","BillId":"20230707400000442821061",
    "BusinessCode":"p_cvm","BusinessCodeName":"云服务器CVM","PayModeName":"包年包月",
    "ResourceId":"ins-wxf3fmq8","ZoneName":"广州二区",
    "FeeBeginTime":"2023-07-07 15:08:39","FeeEndTime":"2023-08-07 15:08:39",
    "ComponentSet":[
        {"ComponentCodeName":"运算组件","RealCost":"80.89000000","CashPayAmount":"80.43264806",
         "ComponentConfig":[{"Name":"实例规格","Value":"S2.MEDIUM4"}]},
        {"ComponentCodeName":"硬盘","RealCost":"0.00000001"}],
    "Tags":[{"TagKey":"team","TagValue":"web"}]}],
    "Total":1,"RequestId":"r"}}"#;

#[test]
fn a_documented_bill_line_reads_as_exact_yuan_in_beijing_time() {
    let answer = parse_envelope::<DescribeBillDetailResponse>(LINE.as_bytes()).expect("reads");
    let line = BillLine::try_from(&answer.data.detail_set[0]).expect("typed");
    assert_eq!(line.cost, Yuan::new("80.89000001".parse().expect("decimal")));
    assert_eq!(line.pay_mode, PayMode::Prepaid);
    assert_eq!(line.action, BillAction::Renewal);
    assert_eq!(line.instance_type.as_deref(), Some("S2.MEDIUM4"));
    assert_eq!(line.tags, vec![("team".to_owned(), "web".to_owned())]);
    assert_eq!(
        line.fee_begin.unix_timestamp(),
        1_688_713_719,
        "15:08:39 at UTC+8 is 07:08:39 UTC"
    );
    assert_eq!(answer.data.total, Some(1));
}

#[test]
fn an_amount_that_is_not_a_number_is_unreadable_not_zero() {
    let text = LINE.replace("\"80.89000000\"", "\"\"");
    let answer = parse_envelope::<DescribeBillDetailResponse>(text.as_bytes()).expect("reads");
    let error = BillLine::try_from(&answer.data.detail_set[0]).expect_err("no cost");
    assert_eq!(error.kind, ErrorKind::Unreadable);
}

#[test]
fn a_line_without_its_real_cost_or_resource_is_unreadable() {
    for missing in ["\"RealCost\":\"80.89000000\",", "\"ResourceId\":\"ins-wxf3fmq8\","] {
        let text = LINE.replace(missing, "");
        let error = parse_envelope::<DescribeBillDetailResponse>(text.as_bytes()).expect_err(missing);
        assert_eq!(error.kind, ErrorKind::Unreadable, "{missing}");
    }
}

#[test]
fn a_time_in_another_format_and_an_unknown_pay_mode_are_unreadable() {
    for (from, to) in [
        ("2023-07-07 15:08:39", "2023-07-07T15:08:39Z"),
        ("\"PayModeName\":\"包年包月\"", "\"PayModeName\":\"monthly\""),
    ] {
        let text = LINE.replacen(from, to, 1);
        let answer = parse_envelope::<DescribeBillDetailResponse>(text.as_bytes()).expect("reads");
        let error = BillLine::try_from(&answer.data.detail_set[0]).expect_err(to);
        assert_eq!(error.kind, ErrorKind::Unreadable, "{to}");
    }
}

#[test]
fn the_documented_resource_summary_reads() {
    let json = r#"{"Response":{"ResourceSummarySet":[{"PayModeName":"按量计费","ResourceId":"125391_sv_cdn_ux_AS1_1",
        "ActionTypeName":"按量计费小时结","FeeBeginTime":"2020-09-22 00:00:00","FeeEndTime":"2020-09-22 00:00:00",
        "RealTotalCost":"4.84660512","ZoneName":"其他","RegionId":1001,"Tags":[{"TagKey":"tk_1","TagValue":"tv_1"}]}],
        "Total":0,"RequestId":"r"}}"#;
    let answer = parse_envelope::<DescribeBillResourceSummaryResponse>(json.as_bytes()).expect("reads");
    let bill = ResourceBill::try_from(&answer.data.resource_summary_set[0]).expect("typed");
    assert_eq!(bill.cost, Yuan::new("4.84660512".parse().expect("decimal")));
    assert_eq!(bill.action, BillAction::HourlySettlement);
    assert_eq!(bill.pay_mode, PayMode::Postpaid);
}

#[test]
fn the_documented_cost_summary_reads() {
    let json = r#"{"Response":{"Ready":1,"RecordNum":4,"Total":{"RealTotalCost":"0.07"},"Data":[{
        "ResourceId":"r1","RealTotalCost":"0.07","PayMode":"postPay","FeeBeginTime":"2024-11-01 08:00:00",
        "FeeEndTime":"2024-11-17 19:59:59","ZoneName":"其他"}],"RequestId":"r"}}"#;
    let answer = parse_envelope::<DescribeCostSummaryByResourceResponse>(json.as_bytes()).expect("reads");
    let cost = ResourceCost::try_from(&answer.data.data[0]).expect("typed");
    assert_eq!(cost.cost, Yuan::new("0.07".parse().expect("decimal")));
    assert_eq!(cost.pay_mode, PayMode::Postpaid);
    assert_eq!(answer.data.record_num, Some(4));
}

#[test]
fn months_read_only_as_yyyy_mm() {
    assert_eq!(
        BillMonth::parse("2024-11").map(|m| m.to_string()).as_deref(),
        Some("2024-11")
    );
    for bad in ["2024-13", "2024-1", "24-11", "2024/11", "2024-11-01", ""] {
        assert_eq!(BillMonth::parse(bad), None, "{bad}");
    }
    let (a, b) = (
        BillMonth::parse("2023-11").expect("m"),
        BillMonth::parse("2025-05").expect("m"),
    );
    assert_eq!(a.months_until(b), 18);
}

#[test]
fn amounts_are_written_with_eight_decimals() {
    assert_eq!(format_amount(Decimal::new(-4350, 4)), "-0.43500000");
    assert_eq!(format_amount(Decimal::from(12)), "12.00000000");
}
