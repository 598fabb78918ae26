//! RunInstances through our client: each charge type, dry runs, idempotency, retries that reuse
//! the ClientToken, and the documented refusals.

use crate::support::sim::*;
use cvmbot::sim::{DEFAULT_SECRET_ID, Failure};
use cvmbot::tencent::ErrorKind;
use cvmbot::tencent::cvm::{InstanceChargePrepaid, LoginSettings, Placement, RunInstancesRequest};
use cvmbot::tencent::enums::{ChargeType, InternetChargeType};

#[tokio::test]
async fn each_charge_type_buys_pending_instances() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    for request in [postpaid(), prepaid(1), spot(Some("1.0"))] {
        let bought = client.run_instances(REGION, &request).await.expect("bought");
        assert_eq!(bought.data.instance_id_set.len(), 1);
        assert!(bought.data.instance_id_set[0].starts_with("ins-"));
    }
    let charge_types: Vec<String> = sim.instances().iter().map(|i| i.charge_type.clone()).collect();
    assert_eq!(charge_types, ["POSTPAID_BY_HOUR", "PREPAID", "SPOTPAID"]);
    assert!(sim.instances().iter().all(|i| i.state == "PENDING"));
}

#[tokio::test]
async fn a_dry_run_checks_everything_and_buys_nothing() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let before = cash(&sim);
    client
        .dry_run_instances(REGION, &prepaid(12))
        .await
        .expect("the dry run passes");
    assert!(sim.instances().is_empty());
    assert_eq!(cash(&sim), before);
    assert_eq!(sim.requests().last().expect("logged").response, "DryRunOperation");

    sim.set_stock(ZONE, TYPE, 0, 0).expect("stock set");
    let refused = client
        .dry_run_instances(REGION, &postpaid())
        .await
        .expect_err("no stock");
    assert_eq!(refused.code, "ResourcesSoldOut.SpecifiedInstanceType");
}

#[tokio::test]
async fn a_repeated_client_token_buys_nothing_new() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let request = RunInstancesRequest {
        client_token: Some("purchase-42".into()),
        instance_count: Some(2),
        ..prepaid(1)
    };
    let first = client.run_instances(REGION, &request).await.expect("bought");
    let paid = cash(&sim);
    let second = client.run_instances(REGION, &request).await.expect("answered");
    assert_eq!(first.data.instance_id_set, second.data.instance_id_set);
    assert_ne!(first.request_id, second.request_id);
    assert_eq!(sim.instances().len(), 2);
    assert_eq!(cash(&sim), paid, "charged once");
    let calls = sim
        .requests()
        .iter()
        .filter(|r| r.client_token.as_deref() == Some("purchase-42"))
        .count();
    assert_eq!(calls, 2);
}

#[tokio::test]
async fn a_lost_answer_is_retried_with_the_same_token_and_buys_once() {
    let sim = start(test_config()).await;
    sim.fail_next("RunInstances", Failure::DropAfterProcessing, 1);
    let request = RunInstancesRequest {
        client_token: Some("lost-answer".into()),
        ..postpaid()
    };
    let bought = client(&sim)
        .run_instances(REGION, &request)
        .await
        .expect("the retry answers");
    let instances = sim.instances();
    assert_eq!(instances.len(), 1, "one purchase");
    assert_eq!(bought.data.instance_id_set, [instances[0].instance_id.clone()]);
    let log: Vec<(String, Option<String>)> = sim
        .requests()
        .into_iter()
        .map(|r| (r.response, r.client_token))
        .collect();
    assert_eq!(
        log,
        [
            ("dropped after ok".to_owned(), Some("lost-answer".to_owned())),
            ("ok".to_owned(), Some("lost-answer".to_owned()))
        ]
    );
}

#[tokio::test]
async fn injected_errors_and_early_drops_are_retried_and_buy_once() {
    let sim = start(test_config()).await;
    sim.fail_next("RunInstances", Failure::code("InternalError"), 1);
    sim.fail_next("RunInstances", Failure::DropBeforeProcessing, 1);
    let request = RunInstancesRequest {
        client_token: Some("flaky".into()),
        ..postpaid()
    };
    client(&sim)
        .run_instances(REGION, &request)
        .await
        .expect("bought in the end");
    assert_eq!(sim.instances().len(), 1);
    let responses: Vec<String> = sim.requests().into_iter().map(|r| r.response).collect();
    assert_eq!(responses, ["InternalError", "dropped", "ok"]);
}

#[tokio::test]
async fn invalid_requests_get_the_documented_codes() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let zone = |zone: &str| {
        Some(Placement {
            zone: zone.into(),
            project_id: None,
        })
    };
    let cases: Vec<(&str, RunInstancesRequest)> = vec![
        (
            "MissingParameter",
            RunInstancesRequest {
                placement: None,
                ..postpaid()
            },
        ),
        (
            "MissingParameter",
            RunInstancesRequest {
                image_id: None,
                ..postpaid()
            },
        ),
        (
            "InvalidZone.MismatchRegion",
            RunInstancesRequest {
                placement: zone("ap-shanghai-2"),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterValue.ZoneNotSupported",
            RunInstancesRequest {
                placement: zone("ap-guangzhou-9"),
                ..postpaid()
            },
        ),
        (
            "InvalidInstanceType.Malformed",
            RunInstancesRequest {
                instance_type: Some("s5-medium".into()),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterValue.InstanceTypeNotFound",
            RunInstancesRequest {
                instance_type: Some("ZZ9.HUGE".into()),
                ..postpaid()
            },
        ),
        (
            "ResourceUnavailable.InstanceType",
            RunInstancesRequest {
                instance_type: Some("GN7.2XLARGE32".into()),
                ..postpaid()
            },
        ),
        (
            "InvalidImageId.Malformed",
            RunInstancesRequest {
                image_id: Some("ubuntu".into()),
                ..postpaid()
            },
        ),
        (
            "InvalidImageId.NotFound",
            RunInstancesRequest {
                image_id: Some("img-00000000".into()),
                ..postpaid()
            },
        ),
        ("InvalidPeriod", prepaid(13)),
        (
            "MissingParameter",
            RunInstancesRequest {
                instance_charge_prepaid: None,
                ..prepaid(1)
            },
        ),
        (
            "InvalidParameterValue",
            RunInstancesRequest {
                instance_charge_type: Some(ChargeType::Unknown("MONTHLY".into())),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterValue.Range",
            RunInstancesRequest {
                instance_count: Some(0),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterValue.Range",
            RunInstancesRequest {
                instance_count: Some(501),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterValue.InvalidParameterMinCount",
            RunInstancesRequest {
                min_count: Some(2),
                ..postpaid()
            },
        ),
        (
            "InvalidInstanceName.TooLong",
            RunInstancesRequest {
                instance_name: Some("n".repeat(61)),
                ..postpaid()
            },
        ),
        (
            "InvalidClientToken.TooLong",
            RunInstancesRequest {
                client_token: Some("t".repeat(65)),
                ..postpaid()
            },
        ),
        (
            "InvalidParameter.ParameterConflict",
            RunInstancesRequest {
                login_settings: Some(LoginSettings {
                    key_ids: Some(vec!["skey-abcd1234".into()]),
                    keep_image_login: Some("TRUE".into()),
                    password: None,
                }),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterCombination",
            RunInstancesRequest {
                internet_accessible: Some(cvmbot::tencent::cvm::InternetAccessible {
                    internet_charge_type: Some(InternetChargeType::BandwidthPrepaid),
                    internet_max_bandwidth_out: Some(5),
                    public_ip_assigned: None,
                }),
                ..postpaid()
            },
        ),
        (
            "InvalidParameterValue.CloudSsdDataDiskSizeTooSmall",
            RunInstancesRequest {
                data_disks: Some(vec![cvmbot::tencent::cvm::DataDisk {
                    disk_size: 50,
                    disk_type: Some(cvmbot::tencent::enums::DiskType::CloudSsd),
                    delete_with_instance: None,
                }]),
                ..postpaid()
            },
        ),
        ("InvalidParameterValue.InsufficientPrice", spot(Some("0.001"))),
        (
            "UnsupportedOperation.NoInstanceTypeSupportSpot",
            RunInstancesRequest {
                instance_type: Some("GN7.2XLARGE32".into()),
                placement: zone("ap-guangzhou-6"),
                ..spot(None)
            },
        ),
    ];
    for (expected, request) in cases {
        let error = client.run_instances(REGION, &request).await.expect_err(expected);
        assert_eq!(error.code, expected, "{request:?}");
    }
    assert!(sim.instances().is_empty());
}

#[tokio::test]
async fn an_account_that_cannot_pay_buys_nothing() {
    let sim = start(test_config()).await;
    sim.set_balance(DEFAULT_SECRET_ID, cvmbot::money::Fen::new(1_000))
        .expect("set");
    let client = client(&sim);
    let error = client
        .run_instances(REGION, &prepaid(1))
        .await
        .expect_err("10 yuan is not enough");
    assert_eq!(error.code, "InvalidAccount.InsufficientBalance");
    assert_eq!(error.kind, ErrorKind::InsufficientBalance);
    // One hour of pay-as-you-go (0.435 + 1.565 yuan) fits in 10 yuan; 6 of them do not.
    client
        .run_instances(REGION, &postpaid())
        .await
        .expect("one hour is covered");
    let many = RunInstancesRequest {
        instance_count: Some(6),
        ..postpaid()
    };
    assert_eq!(
        client.run_instances(REGION, &many).await.expect_err("too many").code,
        "InvalidAccount.InsufficientBalance"
    );
    assert_eq!(sim.instances().len(), 1);
    assert_eq!(cash(&sim), 1_000);
}

#[tokio::test]
async fn short_stock_refuses_or_partly_fills_with_min_count() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    sim.set_stock(ZONE, TYPE, 3, 0).expect("stock set");
    let four = RunInstancesRequest {
        instance_count: Some(4),
        ..postpaid()
    };
    assert_eq!(
        client.run_instances(REGION, &four).await.expect_err("short").code,
        "ResourceInsufficient.SpecifiedInstanceType"
    );
    assert_eq!(
        client
            .run_instances(REGION, &spot(None))
            .await
            .expect_err("no spot stock")
            .code,
        "InvalidParameterValue.InsufficientOffering"
    );
    let at_least_two = RunInstancesRequest {
        min_count: Some(2),
        ..four.clone()
    };
    let bought = client
        .run_instances(REGION, &at_least_two)
        .await
        .expect("partly filled");
    assert_eq!(bought.data.instance_id_set.len(), 3);
    assert_eq!(sim.stock(ZONE, TYPE).expect("stock").regular, 0);
    assert_eq!(
        client
            .run_instances(REGION, &postpaid())
            .await
            .expect_err("sold out")
            .code,
        "ResourcesSoldOut.SpecifiedInstanceType"
    );
}

#[tokio::test]
async fn the_same_seed_gives_the_same_ids() {
    let mut ids = Vec::new();
    for _ in 0..2 {
        let sim = start(test_config()).await;
        let request = RunInstancesRequest {
            instance_count: Some(3),
            ..prepaid(1)
        };
        ids.push(
            client(&sim)
                .run_instances(REGION, &request)
                .await
                .expect("bought")
                .data
                .instance_id_set,
        );
        sim.shutdown().await;
    }
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn a_prepaid_purchase_for_an_unsold_period_names_the_period() {
    let sim = start(test_config()).await;
    let request = RunInstancesRequest {
        instance_charge_prepaid: Some(InstanceChargePrepaid {
            period: 18,
            renew_flag: None,
        }),
        ..prepaid(1)
    };
    let error = client(&sim)
        .run_instances(REGION, &request)
        .await
        .expect_err("18 months");
    assert_eq!(error.code, "InvalidPeriod");
    assert!(error.message.contains("18"), "{}", error.message);
}
