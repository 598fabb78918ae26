//! Renewing prepaid servers: priced by InquiryPriceRenewInstances, approved by the cost tiers,
//! RenewInstances exactly once (a lost answer is never paid twice), and automatic renewal.

use crate::on_both_backends;
use crate::support::app::{TestApp, alice, bob, bought_by_alice, carol, dave, payg_form, prepaid_form, spawn_app};
use crate::support::sim::{cash, client};
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, DeskError, Origin, SubmitOutcome};
use cvmbot::domain::{Quote, RequestState, VoteVia};
use cvmbot::sim::{Failure, Garble};
use cvmbot::tencent::enums::RenewFlag;

/// Two approvals above 10 CNY per month-equivalent: every prepaid server here needs two.
const TWO_APPROVALS: &str = r#"
[policy]
tiers = [
    { up_to = "10", approvals = 1 },
    { up_to = "100000", approvals = 2 },
]
"#;

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: VoteVia::Button,
    }
}

async fn expiry(app: &TestApp, instance: &str) -> String {
    let seen = client(&app.sim)
        .describe_instances("ap-guangzhou", &[instance.to_owned()])
        .await
        .expect("described");
    seen[0].expired_time.clone().expect("a prepaid instance expires")
}

fn renewals(app: &TestApp) -> usize {
    app.sim
        .requests()
        .iter()
        .filter(|r| r.action == "RenewInstances")
        .count()
}

on_both_backends! {
    async fn a_renewal_is_priced_and_needs_the_approvals_of_its_cost_tier_then_renews_once(backend) {
        let Some(app) = spawn_app(backend, TWO_APPROVALS).await else { return };
        let (purchase, ids) = bought_by_alice(&app, &prepaid_form(1)).await;
        let before = expiry(&app, &ids[0]).await;
        let filed = app.desk().renew(&alice(), purchase, 2, &[], Origin::default()).await.expect("filed");
        let Quote::Prepaid { total, months, .. } = filed.record.quote else { panic!("{:?}", filed.record.quote) };
        assert_eq!(months, 2);
        assert!(total > cvmbot::money::Yuan::ZERO);
        assert_eq!(filed.record.approvals_needed, 2, "the tier of its month-equivalent");
        let id = filed.record.id;
        app.desk().vote(id, &bob(), &approve()).await.expect("counted");
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Pending, "one is not enough");
        app.desk().vote(id, &carol(), &approve()).await.expect("approved");
        let cash_before = cash(&app.sim);
        app.desk().submit_due().await.expect("renewed");
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Done);
        assert_eq!(renewals(&app), 1);
        assert_ne!(expiry(&app, &ids[0]).await, before, "ExpiredTime moved");
        assert_eq!(cash_before - cash(&app.sim), total.to_fen_ceil().get(), "paid what was quoted, once");
    }
}

on_both_backends! {
    async fn a_renewal_whose_answer_is_lost_is_not_paid_twice(backend) {
        let Some(app) = spawn_app(backend, "[tencent]\nmax_attempts = 3").await else { return };
        let (purchase, ids) = bought_by_alice(&app, &prepaid_form(1)).await;
        let filed = app.desk().renew(&alice(), purchase, 1, &[], Origin::default()).await.expect("filed");
        app.desk().vote(filed.record.id, &bob(), &approve()).await.expect("approved");
        let before = expiry(&app, &ids[0]).await;
        let cash_before = cash(&app.sim);
        app.sim.fail_next("RenewInstances", Failure::GarbleAfterProcessing(Garble::Html), 1);
        assert_eq!(app.desk().submit(filed.record.id).await.expect("pass"), SubmitOutcome::WillResend);
        assert_eq!(renewals(&app), 1, "the client did not send it again by itself");
        let paid = cash_before - cash(&app.sim);
        assert!(paid > 0, "Tencent renewed it; only the answer was lost");

        let restarted = app.restart(Clock::System).await;
        restarted.desk.recover_submissions().await.expect("recover");
        restarted.desk.submit_due().await.expect("resend");
        assert_eq!(restarted.desk.view(filed.record.id).await.expect("view").record.state, RequestState::Done);
        assert_eq!(renewals(&app), 1, "the resend looked at ExpiredTime and sent nothing");
        assert_eq!(cash_before - cash(&app.sim), paid, "paid once");
        assert_ne!(expiry(&app, &ids[0]).await, before);
    }
}

on_both_backends! {
    async fn only_prepaid_servers_renew_and_only_their_buyer_or_an_admin_asks(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let (payg, _) = bought_by_alice(&app, &payg_form()).await;
        let refused = app.desk().renew(&alice(), payg, 1, &[], Origin::default()).await;
        assert!(matches!(&refused, Err(DeskError::Invalid(e)) if e.0[0].field == "request"), "{refused:?}");
        let (prepaid, ids) = bought_by_alice(&app, &prepaid_form(1)).await;
        let refused = app.desk().renew(&dave(), prepaid, 1, &[], Origin::default()).await;
        assert!(matches!(refused, Err(DeskError::Refused(_))), "{refused:?}");
        let refused = app.desk().renew(&alice(), prepaid, 13, &[], Origin::default()).await;
        assert!(matches!(&refused, Err(DeskError::Invalid(e)) if e.0[0].field == "months"), "{refused:?}");

        app.desk().set_auto_renew(&alice(), prepaid, true).await.expect("on");
        let seen = client(&app.sim).describe_instances("ap-guangzhou", &ids).await.expect("described");
        assert_eq!(seen[0].renew_flag, Some(RenewFlag::NotifyAndAutoRenew));
        app.desk().set_auto_renew(&alice(), prepaid, false).await.expect("off");
        let seen = client(&app.sim).describe_instances("ap-guangzhou", &ids).await.expect("described");
        assert_eq!(seen[0].renew_flag, Some(RenewFlag::NotifyAndManualRenew));
        assert!(app.desk().set_auto_renew(&dave(), prepaid, true).await.is_err());
        assert_eq!(renewals(&app), 0);
    }
}
