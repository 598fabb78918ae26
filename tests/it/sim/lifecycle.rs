//! Instances through their lives: PENDING → RUNNING → public IP, failed launches, termination,
//! spot reclamation, and the Describe calls that show them.

use crate::support::sim::*;
use cvmbot::sim::{DEFAULT_SECRET_ID, SimConfig};
use cvmbot::tencent::cvm::{DescribeInstancesRequest, Filter, RunInstancesRequest, Tag, TagSpecification};
use cvmbot::tencent::enums::{InstanceState, OperationState};
use std::time::Duration;

#[tokio::test]
async fn an_instance_runs_and_gets_its_public_ip_as_the_clock_advances() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let ids = client
        .run_instances(REGION, &postpaid())
        .await
        .expect("bought")
        .data
        .instance_id_set;
    let seen = client.describe_instances(REGION, &ids).await.expect("described");
    assert_eq!(seen[0].instance_state, Some(InstanceState::Pending));
    assert_eq!(seen[0].latest_operation.as_deref(), Some("RunInstances"));
    assert_eq!(seen[0].latest_operation_state, Some(OperationState::Operating));
    assert!(seen[0].private_ip_addresses[0].starts_with("10."));
    assert_eq!(seen[0].public_ip_addresses, None, "null until assigned");
    assert_eq!(seen[0].created_time.as_deref(), Some("2025-01-01T00:00:00Z"));
    assert_eq!(
        seen[0].expired_time.as_deref(),
        Some(""),
        "pay-as-you-go instances do not expire, and the member is never null"
    );
    assert_eq!(seen[0].isolated_source.as_deref(), Some("NOTISOLATED"));

    sim.advance(Duration::from_secs(30));
    let running = &client.describe_instances(REGION, &ids).await.expect("described")[0];
    assert_eq!(running.instance_state, Some(InstanceState::Running));
    assert_eq!(running.latest_operation_state, Some(OperationState::Success));
    let status = client.describe_instances_status(REGION, &ids).await.expect("status");
    assert_eq!(
        status.data.instance_status_set[0].instance_state,
        Some(InstanceState::Running)
    );

    sim.advance(Duration::from_secs(300));
    let with_ip = &client.describe_instances(REGION, &ids).await.expect("described")[0];
    let ip = with_ip.public_ip_addresses.clone().expect("an IP within 5 minutes");
    let view = &sim.instances()[0];
    assert_eq!(view.public_ip.as_ref(), Some(&ip[0]));
    let running_at = view.running_visible.expect("RUNNING recorded").sim_ms;
    let ip_at = view.public_ip_visible.expect("IP recorded").sim_ms;
    let start = 1_735_689_600_000;
    assert_eq!(running_at, start + 30_000);
    assert!((start + 60_000..=start + 300_000).contains(&ip_at), "{ip_at}");
}

#[tokio::test]
async fn describe_instances_filters_pages_and_refuses_what_the_documentation_forbids() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let tagged = RunInstancesRequest {
        instance_count: Some(3),
        instance_name: Some("web-{R:1}".into()),
        tag_specification: Some(vec![TagSpecification {
            resource_type: "instance".into(),
            tags: vec![Tag {
                key: "team".into(),
                value: "blue".into(),
            }],
        }]),
        ..postpaid()
    };
    client.run_instances(REGION, &tagged).await.expect("bought");
    client.run_instances(REGION, &prepaid(1)).await.expect("bought");
    let page = |filters: Vec<Filter>, limit: Option<i64>| DescribeInstancesRequest {
        filters: Some(filters),
        limit,
        ..DescribeInstancesRequest::default()
    };
    let answer = |request: DescribeInstancesRequest| {
        let client = client.clone();
        async move {
            client
                .describe_instances_page(REGION, &request)
                .await
                .expect("described")
                .data
        }
    };
    let blue = answer(page(vec![Filter::new("tag:team", ["blue"])], None)).await;
    assert_eq!(blue.total_count, 3);
    let names: Vec<_> = blue
        .instance_set
        .iter()
        .map(|i| i.instance_name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names, ["web-1", "web-2", "web-3"]);
    let prepaid_only = answer(page(vec![Filter::new("instance-charge-type", ["PREPAID"])], None)).await;
    assert_eq!(prepaid_only.total_count, 1);
    let second_page = answer(DescribeInstancesRequest {
        offset: Some(2),
        ..page(vec![Filter::new("zone", [ZONE])], Some(1))
    })
    .await;
    assert_eq!((second_page.total_count, second_page.instance_set.len()), (4, 1));
    assert_eq!(second_page.instance_set[0].instance_name.as_deref(), Some("web-3"));

    let ids: Vec<String> = (0..101).map(|i| format!("ins-{i:08}")).collect();
    let refused = [
        (
            DescribeInstancesRequest {
                instance_ids: Some(ids[..1].to_vec()),
                ..page(vec![Filter::new("zone", [ZONE])], None)
            },
            "InvalidParameter",
        ),
        (
            DescribeInstancesRequest {
                instance_ids: Some(ids.clone()),
                ..DescribeInstancesRequest::default()
            },
            "InvalidParameterValue.LimitExceeded",
        ),
        (page(vec![Filter::new("colour", ["red"])], None), "InvalidFilter"),
        (
            page(vec![Filter::new("zone", ["a", "b", "c", "d", "e", "f"])], None),
            "InvalidFilterValue.LimitExceeded",
        ),
        (
            page(vec![Filter::new("zone", [ZONE]); 11], None),
            "InvalidParameterValue.LimitExceeded",
        ),
        (page(vec![], Some(101)), "InvalidParameterValue"),
    ];
    for (request, expected) in refused {
        let error = client
            .describe_instances_page(REGION, &request)
            .await
            .expect_err(expected);
        assert_eq!(error.code, expected);
    }
    let unknown = client
        .describe_instances(REGION, &["ins-zzzzzzzz".to_owned()])
        .await
        .expect("answered");
    assert!(unknown.is_empty(), "unknown ids are simply absent");
}

#[tokio::test]
async fn a_failed_launch_refunds_the_purchase_and_says_why() {
    let mut config = test_config();
    config.lifecycle.launch_failure_per_million = 1_000_000;
    let sim = start(config).await;
    let client = client(&sim);
    let before = cash(&sim);
    let ids = client
        .run_instances(REGION, &prepaid(3))
        .await
        .expect("bought")
        .data
        .instance_id_set;
    assert!(cash(&sim) < before, "prepaid is paid at once");
    let stock = sim.stock(ZONE, TYPE).expect("stock").regular;
    sim.advance(Duration::from_secs(30));
    let failed = &client.describe_instances(REGION, &ids).await.expect("described")[0];
    assert_eq!(failed.instance_state, Some(InstanceState::LaunchFailed));
    assert_eq!(failed.latest_operation_state, Some(OperationState::Failed));
    assert!(
        failed
            .latest_operation_error_msg
            .as_deref()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(cash(&sim), before, "refunded in full");
    assert_eq!(sim.stock(ZONE, TYPE).expect("stock").regular, stock + 1);
    let balance = sim.account(DEFAULT_SECRET_ID).expect("account");
    assert_eq!(balance.freeze_amount, 0.into());
}

#[tokio::test]
async fn terminating_destroys_pay_as_you_go_and_recycles_prepaid_first() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let hourly = client
        .run_instances(REGION, &postpaid())
        .await
        .expect("bought")
        .data
        .instance_id_set;
    let monthly = client
        .run_instances(REGION, &prepaid(1))
        .await
        .expect("bought")
        .data
        .instance_id_set;
    assert_eq!(
        client
            .terminate_instances(REGION, &hourly)
            .await
            .expect_err("still pending")
            .code,
        "UnsupportedOperation.InstanceStatePending"
    );
    sim.advance(Duration::from_secs(60));
    let both = [hourly.clone(), monthly.clone()].concat();
    assert_eq!(
        client.terminate_instances(REGION, &both).await.expect_err("mixed").code,
        "UnsupportedOperation.InstanceMixedPricingModel"
    );
    assert_eq!(
        client
            .terminate_instances(REGION, &["ins-zzzzzzzz".to_owned()])
            .await
            .expect_err("unknown")
            .code,
        "InvalidInstanceId.NotFound"
    );
    let stock = sim.stock(ZONE, TYPE).expect("stock").regular;
    client.terminate_instances(REGION, &hourly).await.expect("terminated");
    client.terminate_instances(REGION, &monthly).await.expect("recycled");
    let states = |sim: &cvmbot::sim::Simulator| sim.instances().iter().map(|i| i.state.clone()).collect::<Vec<_>>();
    assert_eq!(states(&sim), ["TERMINATING", "SHUTDOWN"]);
    assert_eq!(sim.account(DEFAULT_SECRET_ID).expect("account").freeze_amount, 0.into());
    assert_eq!(sim.stock(ZONE, TYPE).expect("stock").regular, stock + 1);
    client.terminate_instances(REGION, &monthly).await.expect("destroyed");
    assert_eq!(states(&sim), ["TERMINATING", "TERMINATING"]);
    sim.advance(Duration::from_secs(60));
    assert!(sim.instances().is_empty(), "gone after a while");
    assert!(
        client
            .describe_instances(REGION, &both)
            .await
            .expect("described")
            .is_empty()
    );
}

#[tokio::test]
async fn a_spot_instance_is_reclaimed_when_the_market_passes_its_bid() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let market = sim.spot_price(ZONE, TYPE).expect("a spot market");
    let bid = market + rust_decimal::Decimal::new(1, 2);
    let ids = client
        .run_instances(REGION, &spot(Some(&bid.to_string())))
        .await
        .expect("bought")
        .data
        .instance_id_set;
    sim.advance(Duration::from_secs(30));
    sim.set_spot_price(ZONE, TYPE, bid + rust_decimal::Decimal::new(1, 2))
        .expect("price set");
    let view = &sim.instances()[0];
    assert_eq!(view.state, "TERMINATING");
    assert!(
        view.ended.as_ref().is_some_and(|e| e.reason.contains("bid")),
        "{view:?}"
    );
    sim.advance(Duration::from_secs(60));
    assert!(
        client
            .describe_instances(REGION, &ids)
            .await
            .expect("described")
            .is_empty()
    );
}

#[tokio::test]
async fn the_spot_market_drifts_within_its_bounds_and_repeats_with_the_seed() {
    let mut prices = Vec::new();
    for _ in 0..2 {
        let sim = start(SimConfig { ..test_config() }).await;
        let mut seen = Vec::new();
        for _ in 0..50 {
            sim.advance(Duration::from_secs(300));
            seen.push(sim.spot_price(ZONE, TYPE).expect("price"));
        }
        prices.push(seen);
    }
    assert_eq!(prices[0], prices[1]);
    let hourly = rust_decimal::Decimal::new(41, 2);
    assert!(
        prices[0]
            .iter()
            .all(|p| *p >= hourly / rust_decimal::Decimal::TEN && *p <= hourly)
    );
    assert!(prices[0].windows(2).any(|w| w[0] != w[1]), "it moves");
}
