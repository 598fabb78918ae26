//! Giving instances back: the refund InquiryPriceTerminateInstances quotes, the recycle bin a
//! prepaid instance goes to first, the data disks that outlive their instance, and a
//! TerminateInstances whose answer is lost.

use crate::support::sim::*;
use cvmbot::sim::{Failure, Garble, Simulator};
use cvmbot::tencent::cvm::{DataDisk, Instance, RunInstancesRequest, TerminateInstancesRequest};
use cvmbot::tencent::enums::{InstanceState, OperationState};
use rust_decimal::Decimal;
use std::time::Duration;

/// Half of January 2025 (31 days), in seconds.
const HALF_A_MONTH: u64 = 31 * 24 * 3600 / 2;

async fn buy(sim: &Simulator, request: &RunInstancesRequest) -> Vec<String> {
    client(sim)
        .run_instances(REGION, request)
        .await
        .expect("bought")
        .data
        .instance_id_set
}

async fn describe(sim: &Simulator, id: &str) -> Instance {
    let found = client(sim)
        .describe_instances(REGION, &[id.to_owned()])
        .await
        .expect("described");
    found.into_iter().next().expect("listed")
}

async fn refund(sim: &Simulator, ids: &[String]) -> Vec<Decimal> {
    let refunds = client(sim)
        .inquiry_price_terminate_instances(REGION, ids)
        .await
        .expect("quoted")
        .data;
    refunds.into_iter().map(|r| r.refunds).collect()
}

fn yuan(text: &str) -> Decimal {
    text.parse().expect("decimal")
}

#[tokio::test]
async fn a_prepaid_instance_goes_to_the_recycle_bin_first_with_its_unused_half_refunded() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &prepaid(1)).await;
    let paid = cash(&sim);
    sim.advance(Duration::from_secs(HALF_A_MONTH));
    // 289.50 yuan paid for January; half of it is unused.
    assert_eq!(refund(&sim, &ids).await, [yuan("144.75")]);

    let answer = client(&sim).terminate_instances(REGION, &ids).await.expect("returned");
    assert_eq!(cash(&sim), paid + 14_475, "the unused half came back");
    let recycled = describe(&sim, &ids[0]).await;
    assert_eq!(recycled.instance_state, Some(InstanceState::Shutdown));
    assert_eq!(recycled.isolated_source.as_deref(), Some("MANMADE"));
    assert_eq!(recycled.restrict_state.as_deref(), Some("NORMAL"));
    assert_eq!(recycled.latest_operation.as_deref(), Some("TerminateInstances"));
    assert_eq!(recycled.latest_operation_state, Some(OperationState::Success));
    assert_eq!(
        recycled.latest_operation_request_id.as_deref(),
        Some(answer.request_id.as_str())
    );
    assert_eq!(refund(&sim, &ids).await, [Decimal::ZERO], "nothing more to give back");

    client(&sim).terminate_instances(REGION, &ids).await.expect("destroyed");
    assert_eq!(cash(&sim), paid + 14_475, "destroying refunds nothing more");
    assert_eq!(sim.instances()[0].state, "TERMINATING");
}

#[tokio::test]
async fn pay_as_you_go_is_refunded_nothing_and_the_quote_checks_ids_as_terminate_does() {
    let sim = start(test_config()).await;
    let hourly = buy(&sim, &postpaid()).await;
    let monthly = buy(&sim, &prepaid(1)).await;
    sim.advance(Duration::from_secs(60));
    assert_eq!(refund(&sim, &hourly).await, [Decimal::ZERO]);
    let code = |ids: Vec<String>| {
        let sim = &sim;
        async move {
            client(sim)
                .inquiry_price_terminate_instances(REGION, &ids)
                .await
                .expect_err("refused")
                .code
        }
    };
    let both = [hourly.clone(), monthly.clone()].concat();
    assert_eq!(code(both).await, "UnsupportedOperation.InstanceMixedPricingModel");
    assert_eq!(code(vec!["ins-zzzzzzzz".into()]).await, "InvalidInstanceId.NotFound");
    assert_eq!(code(vec!["i-1".into()]).await, "InvalidInstanceId.Malformed");
    assert_eq!(code(vec![]).await, "MissingParameter");
    assert_eq!(code(vec![hourly[0].clone(); 2]).await, "InvalidParameterValue");
    let many: Vec<String> = (0..101).map(|n| format!("ins-{n:08}")).collect();
    assert_eq!(code(many).await, "InvalidParameterValue.LimitExceeded");

    client(&sim)
        .terminate_instances(REGION, &hourly)
        .await
        .expect("destroyed");
    assert_eq!(sim.instances()[0].state, "TERMINATING", "at once, no recycle bin");
    assert_eq!(code(hourly).await, "InvalidInstance.NotSupported");
}

/// A purchase with one 100 GiB data disk.
fn with_data_disk(request: RunInstancesRequest, delete_with_instance: bool) -> RunInstancesRequest {
    RunInstancesRequest {
        data_disks: Some(vec![DataDisk {
            disk_size: 100,
            disk_type: None,
            delete_with_instance: Some(delete_with_instance),
        }]),
        ..request
    }
}

#[tokio::test]
async fn prepaid_data_disks_are_kept_unless_released_with_their_instance() {
    let sim = start(test_config()).await;
    let kept = buy(&sim, &with_data_disk(prepaid(1), true)).await;
    let released = buy(&sim, &with_data_disk(prepaid(1), true)).await;
    let hourly_kept = buy(&sim, &with_data_disk(postpaid(), false)).await;
    sim.advance(Duration::from_secs(60));
    let client = client(&sim);
    client.terminate_instances(REGION, &kept).await.expect("recycled");
    client.terminate_instances(REGION, &kept).await.expect("destroyed");
    let release = TerminateInstancesRequest {
        instance_ids: released.clone(),
        release_prepaid_data_disks: Some(true),
        ..TerminateInstancesRequest::default()
    };
    client
        .terminate(REGION, &release)
        .await
        .expect("recycled with its disks");
    client.terminate_instances(REGION, &released).await.expect("destroyed");
    client
        .terminate_instances(REGION, &hourly_kept)
        .await
        .expect("destroyed");
    let disks: Vec<(String, i64)> = sim
        .kept_disks()
        .into_iter()
        .map(|d| (d.instance_id, d.disk.size))
        .collect();
    assert_eq!(disks, [(kept[0].clone(), 100), (hourly_kept[0].clone(), 100)]);
}

#[tokio::test]
async fn a_terminate_whose_answer_is_lost_changes_the_world_once() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &prepaid(1)).await;
    sim.advance(Duration::from_secs(HALF_A_MONTH));
    let paid = cash(&sim);
    sim.clear_requests();
    sim.fail_next("TerminateInstances", Failure::GarbleAfterProcessing(Garble::Html), 1);
    let lost = client(&sim)
        .terminate_instances(REGION, &ids)
        .await
        .expect_err("the answer was lost");
    assert_eq!(lost.code, "ClientParseError");
    let calls: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "TerminateInstances")
        .collect();
    assert_eq!(calls.len(), 1, "a lost terminate is not sent again by itself");
    let seen = describe(&sim, &ids[0]).await;
    assert_eq!(
        seen.instance_state,
        Some(InstanceState::Shutdown),
        "in the bin, not destroyed"
    );
    assert_eq!(
        seen.latest_operation_request_id.as_deref(),
        Some(calls[0].request_id.as_str())
    );
    assert_eq!(cash(&sim), paid + 14_475, "refunded exactly once");

    sim.fail_next("TerminateInstances", Failure::DropAfterProcessing, 1);
    client(&sim)
        .terminate_instances(REGION, &ids)
        .await
        .expect_err("the answer was cut off");
    assert_eq!(sim.instances()[0].state, "TERMINATING", "the second call destroyed it");
    assert_eq!(cash(&sim), paid + 14_475);
}
