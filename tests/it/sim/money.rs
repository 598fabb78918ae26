//! Money: prepaid pays at once, pay-as-you-go freezes an hour and bills by the second, debt grows
//! past zero and servers of accounts in arrears are reclaimed.

use crate::support::sim::*;
use cvmbot::money::Fen;
use cvmbot::sim::DEFAULT_SECRET_ID;
use cvmbot::tencent::cvm::RunInstancesRequest;
use cvmbot::tencent::enums::RenewFlag;
use rust_decimal::Decimal;
use std::time::Duration;

fn fen(value: i64) -> Decimal {
    Decimal::from(value)
}

#[tokio::test]
async fn prepaid_pays_the_discounted_period_at_once() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let before = cash(&sim);
    client.run_instances(REGION, &prepaid(12)).await.expect("bought");
    // (157 + 50 GiB × 0.35 + 5 Mbps × 23) × 12 months × 0.83 = 289.5 × 12 × 0.83 = 2883.42 yuan.
    assert_eq!(before - cash(&sim), 288_342);
    let balance = client.describe_account_balance().await.expect("balance").data;
    assert_eq!(balance.real_balance, Fen::new(before - 288_342));
    assert_eq!(balance.freeze, Fen::ZERO);
}

#[tokio::test]
async fn pay_as_you_go_freezes_an_hour_and_bills_by_the_second() {
    let sim = start(test_config()).await;
    let before = cash(&sim);
    // 0.41 yuan/hour + 50 GiB × 0.0005 = 0.435 yuan/hour: 43.5 fen, 44 frozen.
    client(&sim)
        .run_instances(REGION, &postpaid_private())
        .await
        .expect("bought");
    let frozen = sim.account(DEFAULT_SECRET_ID).expect("account");
    assert_eq!(frozen.freeze_amount, fen(44));
    assert_eq!(frozen.real_balance, fen(before - 44));
    sim.advance(Duration::from_secs(30));
    assert_eq!(cash(&sim), before, "nothing is billed while PENDING");
    sim.advance(Duration::from_secs(3600));
    assert_eq!(cash(&sim), before - 43, "43.5 fen accrued, whole fen charged");
    sim.advance(Duration::from_secs(1800));
    assert_eq!(cash(&sim), before - 65, "1.5 hours: 65.25 fen");
    let balance = sim.account(DEFAULT_SECRET_ID).expect("account");
    assert_eq!(
        balance.real_balance,
        balance.cash_account_balance - balance.freeze_amount - balance.owe_amount
    );
    assert_eq!(balance.balance, before - 65 - 44);
}

#[tokio::test]
async fn debt_grows_past_zero_and_arrears_reclaim_the_servers() {
    let mut config = test_config();
    config.billing.arrears_grace_secs = 3600;
    config.lifecycle.terminating_secs = 7200;
    let sim = start(config).await;
    sim.set_balance(DEFAULT_SECRET_ID, Fen::new(100)).expect("set");
    let client = client(&sim);
    client
        .run_instances(REGION, &postpaid_private())
        .await
        .expect("44 fen frozen");
    let prepaid_box = RunInstancesRequest { ..prepaid(1) };
    assert!(
        client.run_instances(REGION, &prepaid_box).await.is_err(),
        "1 yuan buys no month"
    );
    sim.advance(Duration::from_secs(30 + 3 * 3600));
    let owing = sim.account(DEFAULT_SECRET_ID).expect("account");
    // 3 hours × 43.5 fen = 130.5: 100 from cash, 30 owed.
    assert_eq!(owing.cash_account_balance, fen(0));
    assert_eq!(owing.owe_amount, fen(30));
    assert_eq!(sim.instances()[0].state, "RUNNING", "still within the grace period");
    sim.advance(Duration::from_secs(3600));
    let view = &sim.instances()[0];
    assert_eq!(view.state, "TERMINATING");
    assert!(view.ended.as_ref().is_some_and(|e| e.reason.contains("arrears")));
    let after = sim.account(DEFAULT_SECRET_ID).expect("account");
    assert_eq!(after.freeze_amount, fen(0));
    sim.advance(Duration::from_secs(7200));
    assert_eq!(
        sim.account(DEFAULT_SECRET_ID).expect("account").owe_amount,
        after.owe_amount,
        "billing stopped"
    );
}

#[tokio::test]
async fn a_credit_account_spends_its_credit_line() {
    let sim = start(test_config()).await;
    sim.patch_account(
        DEFAULT_SECRET_ID,
        cvmbot::sim::AccountPatch {
            cash_fen: Some(0),
            credit_amount_fen: Some(1_000_000),
            ..Default::default()
        },
    )
    .expect("set");
    let client = client(&sim);
    client
        .run_instances(REGION, &prepaid(1))
        .await
        .expect("bought on credit");
    let balance = client.describe_account_balance().await.expect("balance").data;
    assert_eq!(balance.owe, Fen::new(28_950));
    assert_eq!(balance.real_credit_balance, Fen::new(1_000_000 - 28_950));
    assert_eq!(balance.spendable(), balance.real_credit_balance);
}

/// A prepaid purchase for one month with `flag`.
fn monthly(flag: RenewFlag) -> RunInstancesRequest {
    let mut request = prepaid(1);
    if let Some(prepaid) = request.instance_charge_prepaid.as_mut() {
        prepaid.renew_flag = Some(flag);
    }
    request
}

async fn the_instance(sim: &cvmbot::sim::Simulator) -> cvmbot::tencent::cvm::Instance {
    let id = sim.instances()[0].instance_id.clone();
    let found = client(sim).describe_instances(REGION, &[id]).await.expect("described");
    found.into_iter().next().expect("still listed")
}

const DAY: u64 = 24 * 3600;

#[tokio::test]
async fn an_auto_renewing_prepaid_instance_pays_another_month_when_it_expires() {
    let sim = start(test_config()).await;
    let before = cash(&sim);
    client(&sim)
        .run_instances(REGION, &monthly(RenewFlag::NotifyAndAutoRenew))
        .await
        .expect("bought");
    let month = before - cash(&sim);
    // (157 + 50 GiB × 0.35 + 5 Mbps × 23) × 1 month, no discount for one month.
    assert_eq!(month, 28_950);
    assert_eq!(
        the_instance(&sim).await.expired_time.as_deref(),
        Some("2025-02-01T00:00:00Z")
    );
    sim.advance(Duration::from_secs(30 * DAY));
    assert_eq!(before - cash(&sim), month, "nothing more before ExpiredTime");
    sim.advance(Duration::from_secs(2 * DAY));
    assert_eq!(
        before - cash(&sim),
        2 * month,
        "one month renewed at the one-month price"
    );
    let renewed = the_instance(&sim).await;
    assert_eq!(
        renewed.instance_state.map(|s| s.to_string()).as_deref(),
        Some("RUNNING")
    );
    assert_eq!(renewed.expired_time.as_deref(), Some("2025-03-01T00:00:00Z"));
    assert_eq!(renewed.restrict_state.as_deref(), Some("NORMAL"));
}

#[tokio::test]
async fn a_prepaid_instance_not_renewed_is_isolated_at_expiry_then_released() {
    let mut config = test_config();
    config.lifecycle.expired_retention_secs = 7 * DAY;
    let sim = start(config).await;
    client(&sim)
        .run_instances(REGION, &monthly(RenewFlag::NotifyAndManualRenew))
        .await
        .expect("bought");
    let paid = cash(&sim);
    sim.advance(Duration::from_secs(32 * DAY));
    let isolated = the_instance(&sim).await;
    assert_eq!(
        isolated.instance_state.map(|s| s.to_string()).as_deref(),
        Some("SHUTDOWN")
    );
    assert_eq!(isolated.restrict_state.as_deref(), Some("EXPIRED"));
    assert_eq!(cash(&sim), paid, "a manual-renew instance is never charged again");
    // Expired on day 31 (2025-02-01), kept isolated for 7 days: released on day 38.
    sim.advance(Duration::from_secs(6 * DAY - 60));
    assert_eq!(sim.instances()[0].state, "SHUTDOWN", "still in the recycle bin");
    sim.advance(Duration::from_secs(70));
    let view = &sim.instances()[0];
    assert_eq!(view.state, "TERMINATING");
    assert!(
        view.ended
            .as_ref()
            .is_some_and(|e| e.reason.contains("without renewal")),
        "{view:?}"
    );
}

#[tokio::test]
async fn an_auto_renewing_instance_the_account_cannot_pay_for_is_isolated() {
    let sim = start(test_config()).await;
    client(&sim)
        .run_instances(REGION, &monthly(RenewFlag::NotifyAndAutoRenew))
        .await
        .expect("bought");
    sim.set_balance(DEFAULT_SECRET_ID, Fen::new(100)).expect("set");
    sim.advance(Duration::from_secs(32 * DAY));
    let isolated = the_instance(&sim).await;
    assert_eq!(isolated.restrict_state.as_deref(), Some("EXPIRED"));
    assert_eq!(cash(&sim), 100, "no renewal was charged");
}
