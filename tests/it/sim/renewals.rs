//! Keeping prepaid instances: InquiryPriceRenewInstances, RenewInstances (paid from the balance,
//! out of the recycle bin too) and ModifyInstancesRenewFlag, which the expiry then follows.

use crate::support::sim::*;
use cvmbot::sim::{DEFAULT_SECRET_ID, Simulator};
use cvmbot::tencent::cvm::Instance;
use cvmbot::tencent::enums::{InstanceState, OperationState, RenewFlag};
use cvmbot::tencent::money::Fen;
use rust_decimal::Decimal;
use std::time::Duration;

const DAY: u64 = 24 * 3600;

async fn buy(sim: &Simulator, request: &cvmbot::tencent::cvm::RunInstancesRequest) -> Vec<String> {
    client(sim)
        .run_instances(REGION, request)
        .await
        .expect("bought")
        .data
        .instance_id_set
}

async fn describe(sim: &Simulator, ids: &[String]) -> Instance {
    let found = client(sim).describe_instances(REGION, ids).await.expect("described");
    found.into_iter().next().expect("listed")
}

fn yuan(text: &str) -> Option<Decimal> {
    Some(text.parse().expect("decimal"))
}

#[tokio::test]
async fn renewing_pays_the_quoted_price_and_moves_the_expiry_by_the_period() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &prepaid(1)).await;
    sim.advance(Duration::from_secs(60));
    let price = client(&sim)
        .inquiry_price_renew_instances(REGION, &ids, 3)
        .await
        .expect("quoted")
        .data;
    // Three months of (157 + 50 GiB × 0.35) and of 5 Mbps × 23, without a discount below a year.
    let instance = price.instance_price.expect("instance price");
    assert_eq!(
        (instance.original_price, instance.discount_price),
        (yuan("523.5"), yuan("523.5"))
    );
    let bandwidth = price.bandwidth_price.expect("bandwidth price");
    assert_eq!(bandwidth.discount_price, yuan("345"));

    let before = cash(&sim);
    let answer = client(&sim).renew_instances(REGION, &ids, 3).await.expect("renewed");
    assert_eq!(before - cash(&sim), 86_850, "the quote was charged");
    let renewed = describe(&sim, &ids).await;
    assert_eq!(renewed.expired_time.as_deref(), Some("2025-05-01T00:00:00Z"));
    assert_eq!(renewed.latest_operation.as_deref(), Some("RenewInstances"));
    assert_eq!(renewed.latest_operation_state, Some(OperationState::Success));
    assert_eq!(
        renewed.latest_operation_request_id.as_deref(),
        Some(answer.request_id.as_str())
    );
    sim.advance(Duration::from_secs(95 * DAY));
    assert_eq!(
        describe(&sim, &ids).await.instance_state,
        Some(InstanceState::Running),
        "still running past the old expiry"
    );
}

#[tokio::test]
async fn a_renewal_the_account_cannot_pay_for_changes_nothing() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &prepaid(1)).await;
    sim.advance(Duration::from_secs(60));
    sim.set_balance(DEFAULT_SECRET_ID, Fen::new(100)).expect("set");
    let error = client(&sim)
        .renew_instances(REGION, &ids, 1)
        .await
        .expect_err("too poor");
    assert_eq!(error.code, "InvalidAccount.InsufficientBalance");
    assert_eq!(cash(&sim), 100);
    let seen = describe(&sim, &ids).await;
    assert_eq!(seen.expired_time.as_deref(), Some("2025-02-01T00:00:00Z"));
    assert_eq!(seen.latest_operation.as_deref(), Some("RunInstances"));
}

#[tokio::test]
async fn only_prepaid_instances_are_renewed_and_only_for_sold_periods() {
    let sim = start(test_config()).await;
    let hourly = buy(&sim, &postpaid()).await;
    let monthly = buy(&sim, &prepaid(1)).await;
    let client = client(&sim);
    assert_eq!(
        client
            .renew_instances(REGION, &monthly, 1)
            .await
            .expect_err("pending")
            .code,
        "UnsupportedOperation.InstanceStatePending"
    );
    sim.advance(Duration::from_secs(60));
    assert_eq!(
        client
            .renew_instances(REGION, &hourly, 1)
            .await
            .expect_err("hourly")
            .code,
        "UnsupportedOperation.InstanceChargeType"
    );
    assert_eq!(
        client
            .inquiry_price_renew_instances(REGION, &hourly, 1)
            .await
            .expect_err("hourly")
            .code,
        "InvalidInstance.NotSupported"
    );
    assert_eq!(
        client
            .modify_instances_renew_flag(REGION, &hourly, RenewFlag::NotifyAndAutoRenew)
            .await
            .expect_err("hourly")
            .code,
        "InvalidInstance.NotSupported"
    );
    assert_eq!(
        client
            .renew_instances(REGION, &monthly, 13)
            .await
            .expect_err("13 months")
            .code,
        "InvalidPeriod"
    );
    assert_eq!(
        client
            .renew_instances(REGION, &["ins-zzzzzzzz".to_owned()], 1)
            .await
            .expect_err("unknown")
            .code,
        "InvalidInstanceId.NotFound"
    );
    assert_eq!(
        client
            .modify_instances_renew_flag(REGION, &monthly, RenewFlag::Unknown("ALWAYS".into()))
            .await
            .expect_err("no such flag")
            .code,
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn an_expired_instance_renewed_out_of_the_recycle_bin_runs_again() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &prepaid(1)).await;
    sim.advance(Duration::from_secs(32 * DAY));
    let expired = describe(&sim, &ids).await;
    assert_eq!(expired.instance_state, Some(InstanceState::Shutdown));
    assert_eq!(expired.restrict_state.as_deref(), Some("EXPIRED"));
    assert_eq!(expired.isolated_source.as_deref(), Some("EXPIRE"));

    let before = cash(&sim);
    client(&sim).renew_instances(REGION, &ids, 1).await.expect("renewed");
    assert_eq!(before - cash(&sim), 28_950);
    let back = describe(&sim, &ids).await;
    assert_eq!(back.instance_state, Some(InstanceState::Running));
    assert_eq!(back.restrict_state.as_deref(), Some("NORMAL"));
    assert_eq!(back.isolated_source.as_deref(), Some("NOTISOLATED"));
    // Renewed on 2025-02-02: a month from then.
    assert_eq!(back.expired_time.as_deref(), Some("2025-03-02T00:00:00Z"));
    sim.advance(Duration::from_secs(20 * DAY));
    assert_eq!(sim.instances()[0].state, "RUNNING", "no longer released with the bin");
}

#[tokio::test]
async fn switching_auto_renew_on_makes_the_expiry_renew_a_month() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &prepaid(1)).await;
    sim.advance(Duration::from_secs(60));
    assert_eq!(
        describe(&sim, &ids).await.renew_flag,
        Some(RenewFlag::NotifyAndManualRenew)
    );
    let answer = client(&sim)
        .modify_instances_renew_flag(REGION, &ids, RenewFlag::NotifyAndAutoRenew)
        .await
        .expect("modified");
    let flagged = describe(&sim, &ids).await;
    assert_eq!(flagged.renew_flag, Some(RenewFlag::NotifyAndAutoRenew));
    assert_eq!(flagged.latest_operation.as_deref(), Some("ModifyInstancesRenewFlag"));
    assert_eq!(
        flagged.latest_operation_request_id.as_deref(),
        Some(answer.request_id.as_str())
    );
    let before = cash(&sim);
    sim.advance(Duration::from_secs(32 * DAY));
    let renewed = describe(&sim, &ids).await;
    assert_eq!(renewed.instance_state, Some(InstanceState::Running));
    assert_eq!(renewed.expired_time.as_deref(), Some("2025-03-01T00:00:00Z"));
    assert_eq!(before - cash(&sim), 28_950, "one month at the one-month price");

    client(&sim)
        .modify_instances_renew_flag(REGION, &ids, RenewFlag::DisableNotifyAndManualRenew)
        .await
        .expect("modified");
    sim.advance(Duration::from_secs(29 * DAY));
    let lapsed = describe(&sim, &ids).await;
    assert_eq!(
        lapsed.instance_state,
        Some(InstanceState::Shutdown),
        "no renewal after it was switched off"
    );
    assert_eq!(lapsed.renew_flag, Some(RenewFlag::DisableNotifyAndManualRenew));
}

#[tokio::test]
async fn a_pay_as_you_go_instance_reports_the_default_renew_flag_and_an_empty_expiry() {
    let sim = start(test_config()).await;
    let ids = buy(&sim, &postpaid()).await;
    let seen = describe(&sim, &ids).await;
    assert_eq!(seen.renew_flag, Some(RenewFlag::NotifyAndManualRenew));
    assert_eq!(seen.expired_time.as_deref(), Some(""));
}
