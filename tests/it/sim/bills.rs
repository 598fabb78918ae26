//! The bills: every charge the engine makes is a bill line, and the bill actions answer from them.

use crate::support::sim::*;
use cvmbot::sim::{DEFAULT_SECRET_ID, Simulator};
use cvmbot::tencent::billing::month_bounds;
use cvmbot::tencent::bills::{BillAction, BillMonth, PayMode};
use rust_decimal::Decimal;
use std::collections::HashSet;
use std::time::Duration;

/// Cash minus debt of the default account, fen: what the engine has not yet taken.
fn held(sim: &Simulator) -> Decimal {
    let account = sim.account(DEFAULT_SECRET_ID).expect("account");
    account.cash_account_balance - account.owe_amount
}

fn january() -> BillMonth {
    BillMonth::parse("2025-01").expect("month")
}

/// Buys a pay-as-you-go, a spot and a prepaid server, runs them some hours, releases them all.
async fn a_few_hours_of_servers(sim: &Simulator) {
    let client = client(sim);
    let mut ids = Vec::new();
    for request in [postpaid_private(), spot(None), prepaid(1)] {
        let bought = client.run_instances(REGION, &request).await.expect("bought").data;
        ids.push(bought.instance_id_set[0].clone());
    }
    sim.advance(Duration::from_secs(30 + 3 * 3600 + 1234));
    for id in &ids {
        // A spot server may already be gone, reclaimed by the market.
        if let Err(e) = client.terminate_instances(REGION, std::slice::from_ref(id)).await {
            assert_eq!(e.code, "InvalidInstanceId.NotFound", "{e:?}");
        }
    }
    sim.advance(Duration::from_secs(2 * 3600));
}

#[tokio::test]
async fn the_bill_lines_sum_exactly_to_what_the_balance_fell_by() {
    let sim = start(test_config()).await;
    let before = held(&sim);
    a_few_hours_of_servers(&sim).await;
    let lines = client(&sim).all_bill_lines(january()).await.expect("lines");
    let billed: Decimal = lines.iter().map(|l| l.cost.amount()).sum();
    assert_eq!(billed * Decimal::from(100), before - held(&sim));
    let kinds: HashSet<BillAction> = lines.iter().map(|l| l.action.clone()).collect();
    for kind in [
        BillAction::NewPurchase,
        BillAction::Refund,
        BillAction::HourlySettlement,
        BillAction::SpotHourlySettlement,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
    let refund = lines.iter().find(|l| l.action == BillAction::Refund).expect("refund");
    assert!(refund.cost.is_negative() && refund.pay_mode == PayMode::Prepaid);
    let hourly: Vec<_> = lines
        .iter()
        .filter(|l| l.action == BillAction::HourlySettlement)
        .collect();
    assert_eq!(hourly.len(), 4, "three whole hours and the part of the fourth it ran");
    assert!(
        hourly
            .iter()
            .all(|l| l.fee_end - l.fee_begin < time::Duration::hours(1))
    );
    assert_eq!(hourly[0].instance_type.as_deref(), Some(TYPE));
    let summary = client(&sim).all_resource_bills(january()).await.expect("summary");
    let summed: Decimal = summary.iter().map(|b| b.cost.amount()).sum();
    assert_eq!(summed, billed);
    let costs = client(&sim).all_resource_costs(january()).await.expect("costs");
    assert_eq!(costs.len(), 3, "one row per server");
    assert_eq!(costs.iter().map(|c| c.cost.amount()).sum::<Decimal>(), billed);
}

#[tokio::test]
async fn an_hour_shows_on_the_bill_only_once_it_has_ended() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    client.run_instances(REGION, &postpaid_private()).await.expect("bought");
    sim.advance(Duration::from_secs(1800));
    assert!(client.all_bill_lines(january()).await.expect("lines").is_empty());
    sim.advance(Duration::from_secs(1800));
    let lines = client.all_bill_lines(january()).await.expect("lines");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].pay_mode, PayMode::Postpaid);
}

#[tokio::test]
async fn paging_returns_every_line_once() {
    let sim = start(test_config()).await;
    a_few_hours_of_servers(&sim).await;
    let client = client(&sim);
    let (begin, end) = month_bounds(january());
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let page = client
            .describe_bill_detail(begin, end, offset, 3)
            .await
            .expect("page")
            .data;
        let got = page.items.len() as u64;
        assert!(got <= 3);
        seen.extend(page.items.into_iter().map(|l| l.bill_id));
        offset += 3;
        if got < 3 {
            assert_eq!(page.total, Some(seen.len() as u64));
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len());
    assert!(seen.len() > 6, "enough lines to need several pages: {}", seen.len());
}

async fn refusal(sim: &Simulator, action: &str, body: &str) -> String {
    let raw = Raw {
        action,
        version: "2018-07-09",
        region: None,
        service: "billing",
        body_signed: body,
        body_sent: body,
        ..Raw::describe_zones()
    };
    code(&raw.send(sim).await)
}

#[tokio::test]
async fn bad_parameters_are_refused_with_the_specs_codes() {
    let sim = start(test_config()).await;
    let cases = [
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":301,"Month":"2025-01"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeBillDetail",
            r#"{"Limit":10,"Month":"2025-01"}"#,
            "MissingParameter",
        ),
        ("DescribeBillDetail", r#"{"Offset":0,"Limit":10}"#, "MissingParameter"),
        (
            "DescribeBillDetail",
            r#"{"Offset":-1,"Limit":10,"Month":"2025-01"}"#,
            "InvalidParameter",
        ),
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"Month":"2025-1"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"Month":"2023-01"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"BeginTime":"2025-01-31 00:00:00","EndTime":"2025-02-01 00:00:00"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"BeginTime":"2025-01-01 00:00:00"}"#,
            "MissingParameter",
        ),
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"Month":"2025-01","PayMode":"monthly"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"Month":"2025-01","Monthh":"x"}"#,
            "UnknownParameter",
        ),
        (
            "DescribeBillResourceSummary",
            r#"{"Offset":0,"Limit":1001,"Month":"2025-01"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeBillResourceSummary",
            r#"{"Offset":0,"Limit":10}"#,
            "MissingParameter",
        ),
        (
            "DescribeCostSummaryByResource",
            r#"{"Offset":0,"Limit":101,"BeginTime":"2025-01","EndTime":"2025-01"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeCostSummaryByResource",
            r#"{"Offset":0,"Limit":10,"BeginTime":"2025-01","EndTime":"2025-02"}"#,
            "InvalidParameterValue",
        ),
        (
            "DescribeCostSummaryByResource",
            r#"{"Offset":0,"Limit":10,"BeginTime":"2025-01"}"#,
            "MissingParameter",
        ),
    ];
    for (action, body, expected) in cases {
        assert_eq!(refusal(&sim, action, body).await, expected, "{action} {body}");
    }
    assert_eq!(
        refusal(
            &sim,
            "DescribeBillDetail",
            r#"{"Offset":0,"Limit":10,"Month":"2025-01"}"#
        )
        .await,
        "ok"
    );
}
