//! Rate limits per SecretId and action, random faults, and scale.

use crate::support::sim::*;
use cvmbot::sim::config::{FaultConfig, FaultRates, RateLimitConfig};
use cvmbot::tencent::cvm::RunInstancesRequest;
use futures_util::future::join_all;
use std::collections::BTreeMap;

#[tokio::test]
async fn the_rate_limit_refuses_calls_beyond_the_limit_per_second() {
    let sim = start(test_config()).await;
    sim.set_rate_limits(RateLimitConfig {
        enabled: true,
        default: 10,
        actions: BTreeMap::from([("DescribeZones".to_owned(), 3)]),
    });
    let client = client_with(&sim, cvmbot::sim::DEFAULT_SECRET_ID, cvmbot::sim::DEFAULT_SECRET_KEY, 1);
    let answers = join_all((0..12).map(|_| client.describe_zones(REGION))).await;
    let refused = answers
        .iter()
        .filter(|a| a.as_ref().is_err_and(|e| e.code == "RequestLimitExceeded"))
        .count();
    let accepted = answers.iter().filter(|a| a.is_ok()).count();
    // Twelve calls land in one or, at a second's edge, two wall-clock seconds: 3 or 6 pass.
    assert!(accepted <= 6 && refused >= 6, "accepted {accepted}, refused {refused}");
    assert_eq!(accepted + refused, 12);

    sim.set_rate_limits(RateLimitConfig {
        enabled: false,
        ..RateLimitConfig::default()
    });
    let answers = join_all((0..30).map(|_| client.describe_zones(REGION))).await;
    assert!(answers.iter().all(Result::is_ok), "lifted for benchmarks");
}

#[tokio::test]
async fn injected_internal_errors_are_retried_by_the_client_until_it_gives_up() {
    let sim = start(test_config()).await;
    sim.set_faults(FaultConfig {
        all: FaultRates::default(),
        actions: BTreeMap::from([(
            "DescribeZones".to_owned(),
            FaultRates {
                internal_error_per_million: 1_000_000,
                latency_ms: 5,
                ..FaultRates::default()
            },
        )]),
    });
    let error = client(&sim).describe_zones(REGION).await.expect_err("always failing");
    assert_eq!(error.code, "InternalError");
    let faults: Vec<Option<String>> = sim.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(faults, vec![Some("InternalError".to_owned()); 4], "4 attempts");
    client(&sim)
        .describe_images(REGION, &Default::default())
        .await
        .expect("other actions are spared");
}

#[tokio::test]
async fn ten_thousand_instances_and_a_thousand_concurrent_purchases() {
    let mut config = test_config();
    config.rate_limits.enabled = false;
    config.accounts[0].cash_fen = 1_000_000_000;
    let sim = start(config).await;
    sim.set_stock(ZONE, TYPE, 9_000, 0).expect("stock set");
    sim.set_stock("ap-guangzhou-4", TYPE, 1_000, 0).expect("stock set");
    let client = client(&sim);
    let batch = RunInstancesRequest {
        instance_count: Some(500),
        ..postpaid_private()
    };
    let mut ids = Vec::new();
    for _ in 0..18 {
        ids.extend(
            client
                .run_instances(REGION, &batch)
                .await
                .expect("bought")
                .data
                .instance_id_set,
        );
    }
    let singles = join_all((0..1000).map(|i| {
        let client = client.clone();
        let request = RunInstancesRequest {
            client_token: Some(format!("single-{i}")),
            placement: Some(cvmbot::tencent::cvm::Placement {
                zone: "ap-guangzhou-4".into(),
                project_id: None,
            }),
            ..postpaid_private()
        };
        async move { client.run_instances(REGION, &request).await }
    }))
    .await;
    for answer in singles {
        ids.extend(answer.expect("bought").data.instance_id_set);
    }
    assert_eq!(ids.len(), 10_000);
    assert_eq!(sim.instances().len(), 10_000);
    let some: Vec<String> = ids.iter().rev().step_by(97).take(100).cloned().collect();
    let described = client.describe_instances(REGION, &some).await.expect("described");
    assert_eq!(described.len(), 100);
    // 10,000 instances each froze 44 fen.
    let balance = sim.account(cvmbot::sim::DEFAULT_SECRET_ID).expect("account");
    assert_eq!(balance.freeze_amount, rust_decimal::Decimal::from(440_000));
    assert_eq!(
        sim.stock("ap-guangzhou-4", TYPE).expect("stock").regular,
        0,
        "every unit sold once"
    );
}
