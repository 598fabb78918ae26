//! Exactly-once submission: concurrent approvals, lost answers, a process killed mid-purchase,
//! refusals explained, spot keep-trying, and re-quotes.

use crate::on_both_backends;
use crate::support::app::{
    TestApp, alice, bob, file_as_alice, file_with_an_old_cheap_quote, payg_form, spawn_app, spot_form,
};
use crate::support::sim::{TYPE, ZONE};
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, Origin};
use cvmbot::domain::{Person, RequestId, RequestState, RoleId, UserId};
use cvmbot::sim::{DEFAULT_SECRET_ID, Failure, LoggedRequest};
use std::time::Duration;

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Button,
    }
}

fn approver(n: u64) -> Person {
    Person {
        id: UserId::new(5000 + n),
        name: format!("approver-{n}"),
        roles: vec![RoleId::new(900)],
    }
}

/// Purchases the simulator received (dry runs excluded).
fn purchases(app: &TestApp) -> Vec<LoggedRequest> {
    app.sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances" && r.params.get("DryRun").is_none())
        .collect()
}

async fn file_and_approve(app: &TestApp, form: &cvmbot::domain::PurchaseForm) -> RequestId {
    let id = app
        .desk()
        .create(&alice(), form, Origin::default())
        .await
        .expect("filed")
        .record
        .id;
    let outcome = app.desk().vote(id, &bob(), &approve()).await.expect("approved");
    assert_eq!(outcome.decided, Some(RequestState::Approved));
    id
}

on_both_backends! {
    async fn fifty_concurrent_approvals_buy_exactly_once(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file_as_alice(app.desk(), &spot_form()).await;
        let votes = (0..50).map(|n| {
            let desk = app.desk().clone();
            tokio::spawn(async move { desk.vote(id, &approver(n), &approve()).await.map(|o| o.decided) })
        });
        let results: Vec<_> = futures_util::future::join_all(votes).await.into_iter().map(|r| r.expect("task")).collect();
        let decisive = results.iter().filter(|r| matches!(r, Ok(Some(RequestState::Approved)))).count();
        assert_eq!(decisive, 1, "exactly one vote approves: {results:?}");
        let submitters = (0..8).map(|_| {
            let desk = app.desk().clone();
            tokio::spawn(async move { desk.submit_due().await })
        });
        futures_util::future::join_all(submitters).await;
        let bought = purchases(&app);
        assert_eq!(bought.len(), 1, "one RunInstances reached Tencent: {bought:?}");
        assert!(bought[0].client_token.as_deref().is_some_and(|t| t.starts_with(&format!("cvmbot-{id}-1-"))));
        assert_eq!(app.sim.instances().len(), 1);
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Submitted);
        assert_eq!(view.instances.len(), 1);
    }
}

on_both_backends! {
    async fn a_lost_answer_is_resent_with_the_same_token_and_buys_nothing_new(backend) {
        let Some(app) = spawn_app(backend, "[tencent]\nmax_attempts = 1").await else { return };
        let id = file_and_approve(&app, &spot_form()).await;
        app.sim.fail_next("RunInstances", Failure::DropAfterProcessing, 1);
        let first = app.desk().submit(id).await.expect("pass");
        assert_eq!(first, cvmbot::desk::SubmitOutcome::WillResend);
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Submitting);
        assert_eq!(app.sim.instances().len(), 1, "Tencent did buy it; only the answer was lost");
        // The next pass (after resend_after, or at start-up) resends the same purchase.
        app.desk().recover_submissions().await.expect("recover");
        assert_eq!(app.desk().submit_due().await.expect("pass"), 1);
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Submitted);
        let bought = purchases(&app);
        assert_eq!(bought.len(), 2, "sent twice");
        assert_eq!(bought[0].client_token, bought[1].client_token, "with one ClientToken");
        assert_eq!(app.sim.instances().len(), 1, "bought once");
        assert_eq!(view.instances[0].instance_id, app.sim.instances()[0].instance_id);
    }
}

on_both_backends! {
    async fn a_process_killed_after_sending_is_recovered_on_restart_without_a_second_purchase(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file_and_approve(&app, &spot_form()).await;
        // Tencent takes a while to answer; the process dies after RunInstances was received.
        let mut faults = cvmbot::sim::config::FaultConfig::default();
        faults.actions.insert("RunInstances".into(), cvmbot::sim::config::FaultRates { latency_ms: 5_000, ..Default::default() });
        app.sim.set_faults(faults);
        let desk = app.desk().clone();
        let doomed = tokio::spawn(async move { desk.submit(id).await });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while purchases(&app).is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "RunInstances never arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        doomed.abort();
        let _ = doomed.await;
        app.sim.set_faults(cvmbot::sim::config::FaultConfig::default());
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Submitting, "the answer was never stored");

        let restarted = app.restart(Clock::System).await;
        restarted.desk.recover_submissions().await.expect("recover");
        restarted.desk.submit_due().await.expect("resend");
        let view = restarted.desk.view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Submitted);
        let bought = purchases(&app);
        assert_eq!(bought.len(), 2);
        assert_eq!(bought[0].client_token, bought[1].client_token);
        assert_eq!(app.sim.instances().len(), 1, "the same instance, no second purchase");
        assert_eq!(view.instances[0].instance_id, app.sim.instances()[0].instance_id);
    }
}

on_both_backends! {
    async fn a_refusal_is_stored_explained_and_buys_nothing(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file_and_approve(&app, &spot_form().with("max-price", "0.2")).await;
        app.sim.set_spot_price(ZONE, TYPE, "0.52".parse().expect("price")).expect("market moves");
        assert_eq!(app.desk().submit(id).await.expect("pass"), cvmbot::desk::SubmitOutcome::Failed);
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Failed);
        let failure = view.record.failure.expect("a stored failure");
        assert_eq!(failure.code, "InvalidParameterValue.InsufficientPrice");
        assert_eq!(failure.explanation, "Spot bid 0.20 is below the market price 0.52 CNY/h in ap-guangzhou-3.");
        assert!(failure.request_id.is_some(), "Tencent's RequestId is kept");
        assert!(app.sim.instances().is_empty());
        let notices = app.app.store().session().await.expect("session").notifications(Some(id)).await.expect("notices");
        assert!(notices.iter().any(|n| n.body.contains("Spot bid 0.20 is below the market price 0.52")), "{notices:?}");
    }
}

on_both_backends! {
    async fn insufficient_balance_at_purchase_is_a_plain_failure(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file_and_approve(&app, &payg_form()).await;
        app.sim.set_balance(DEFAULT_SECRET_ID, cvmbot::money::Fen::new(5)).expect("balance");
        app.desk().submit_due().await.expect("pass");
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Failed);
        let failure = view.record.failure.expect("failure");
        assert_eq!(failure.code, "InvalidAccount.InsufficientBalance");
        assert!(failure.explanation.contains("balance is too low"), "{}", failure.explanation);
    }
}

on_both_backends! {
    async fn spot_keep_trying_retries_with_a_new_token_until_stock_returns(backend) {
        let extra = "[submitter]\nkeep_trying_interval = \"1s\"\nkeep_trying_max_interval = \"1s\"";
        let Some(app) = spawn_app(backend, extra).await else { return };
        let id = file_and_approve(&app, &spot_form().with("keep-trying", "1h")).await;
        app.sim.set_stock(ZONE, TYPE, 2000, 0).expect("no spot stock");
        assert_eq!(app.desk().submit(id).await.expect("pass"), cvmbot::desk::SubmitOutcome::WillRetry);
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Approved);
        assert_eq!(view.record.attempt, 2);
        app.sim.set_stock(ZONE, TYPE, 2000, 10).expect("stock returns");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(app.desk().submit_due().await.expect("pass"), 1);
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Submitted);
        let tokens: Vec<Option<String>> = purchases(&app).into_iter().map(|r| r.client_token).collect();
        assert_eq!(tokens.len(), 2);
        assert_ne!(tokens[0], tokens[1], "a deliberate new attempt has its own token");
        let notices = app.app.store().session().await.expect("session").notifications(Some(id)).await.expect("notices");
        assert!(notices.iter().any(|n| n.dedupe_key == format!("request:{id}:retry:1")), "{notices:?}");
    }
}

on_both_backends! {
    async fn a_price_that_rose_since_approval_needs_approval_again(backend) {
        let Some(app) = spawn_app(backend, "[policy]\nrequote_after = \"0s\"").await else { return };
        // Pretend the request was quoted, and approved, when the price was lower than today's.
        let id = file_with_an_old_cheap_quote(&app.app).await;
        assert_eq!(app.desk().vote(id, &bob(), &approve()).await.expect("approved").decided, Some(RequestState::Approved));
        let old_votes = app.desk().view(id).await.expect("view").votes;
        assert_eq!(app.desk().submit(id).await.expect("pass"), cvmbot::desk::SubmitOutcome::Requoted);
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Pending);
        assert_eq!(view.approvals(), 0, "the approval was for the old price: {old_votes:?}");
        assert!(purchases(&app).is_empty(), "nothing bought at the new price without approval");
        let again = app.desk().vote(id, &cvmbot::chat::console::person("carol"), &approve()).await.expect("approved again");
        assert_eq!(again.decided, Some(RequestState::Approved));
    }
}

on_both_backends! {
    async fn every_transition_is_in_the_audit_log_with_its_actor_and_tencent_request_id(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file_and_approve(&app, &spot_form()).await;
        app.desk().submit_due().await.expect("pass");
        let audit = app.app.store().session().await.expect("session").audit_of(id).await.expect("audit");
        let steps: Vec<(String, String, Option<String>)> =
            audit.iter().map(|e| (e.action.clone(), e.actor_name.clone(), e.to_state.clone())).collect();
        assert_eq!(
            steps,
            vec![
                ("created".into(), "alice".into(), Some("pending".into())),
                ("vote:approve:button".into(), "bob".into(), Some("approved".into())),
                ("submitting".into(), "cvmbot".into(), Some("submitting".into())),
                ("submitted".into(), "cvmbot".into(), Some("submitted".into())),
            ]
        );
        let submitted = audit.last().expect("submitted");
        let bought = purchases(&app);
        assert_eq!(submitted.tencent_request_id.as_deref(), Some(bought[0].request_id.as_str()));
    }
}
