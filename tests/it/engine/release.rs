//! Releasing what cvmbot bought: who may, who must approve, and TerminateInstances exactly once:
//! a prepaid server goes to Tencent's recycle bin first and is never destroyed by a resend.

use crate::on_both_backends;
use crate::support::app::{
    TestApp, alice, bob, bought_by_alice, dave, erin, payg_form, prepaid_form, spawn_app, spot_form,
};
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, DeskError, Origin, RequestView, SubmitOutcome};
use cvmbot::domain::{Person, PurchaseForm, Quote, RequestId, RequestState, VoteRefusal, VoteVia};
use cvmbot::sim::{Failure, Garble, LoggedRequest};
use std::time::Duration;

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: VoteVia::Button,
    }
}

/// TerminateInstances calls the simulator received.
fn terminations(app: &TestApp) -> Vec<LoggedRequest> {
    app.sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "TerminateInstances")
        .collect()
}

/// The simulated state of an instance ("absent" once destroyed and forgotten).
fn sim_state(app: &TestApp, instance_id: &str) -> String {
    app.sim
        .instances()
        .into_iter()
        .find(|i| i.instance_id == instance_id)
        .map(|i| if i.ended.is_some() { "ENDED".to_owned() } else { i.state })
        .unwrap_or_else(|| "absent".to_owned())
}

async fn release(app: &TestApp, who: &Person, purchase: RequestId, ids: &[String]) -> Result<RequestView, DeskError> {
    app.desk()
        .release(who, purchase, ids, Some("load test over"), Origin::default())
        .await
}

/// What happened to a release when it was asked for.
#[derive(Debug, PartialEq)]
enum Went {
    AtOnce,
    AwaitingApproval,
    Refused,
}

on_both_backends! {
    async fn the_release_policy_decides_who_may_release_and_who_must_approve(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let table: [(&str, PurchaseForm, Person, Went); 6] = [
            ("the buyer's own pay-as-you-go", payg_form(), alice(), Went::AtOnce),
            ("the buyer's own spot", spot_form(), alice(), Went::AtOnce),
            ("the buyer's own prepaid", prepaid_form(1), alice(), Went::AwaitingApproval),
            ("an admin's release of someone else's", payg_form(), erin(), Went::AwaitingApproval),
            ("an approver's release of someone else's", payg_form(), bob(), Went::Refused),
            ("a stranger's release of someone else's", spot_form(), dave(), Went::Refused),
        ];
        for (case, form, who, expected) in table {
            let (purchase, ids) = bought_by_alice(&app, &form).await;
            let went = match release(&app, &who, purchase, &[]).await {
                Err(DeskError::Refused(refusal)) => {
                    assert!(refusal.0.contains("Only the person who bought these servers"), "{case}: {refusal}");
                    Went::Refused
                }
                Err(other) => panic!("{case}: {other}"),
                Ok(view) if view.record.state == RequestState::Approved => Went::AtOnce,
                Ok(view) => {
                    assert_eq!(view.record.state, RequestState::Pending, "{case}");
                    assert_eq!(view.record.approvals_needed, 1, "{case}");
                    Went::AwaitingApproval
                }
            };
            assert_eq!(went, expected, "{case}");
            if went == Went::AtOnce {
                app.desk().submit_due().await.expect("released");
                for id in &ids {
                    assert_eq!(sim_state(&app, id), "ENDED", "{case}: {id} was destroyed");
                }
                let view = app.desk().view(purchase).await.expect("view");
                assert!(view.instances.iter().all(|i| i.released_at.is_some() && i.gone_at.is_some() && !i.watching), "{case}");
            } else {
                for id in &ids {
                    assert_eq!(sim_state(&app, id), "RUNNING", "{case}: {id} is untouched");
                }
            }
        }
        assert_eq!(terminations(&app).len(), 2, "one TerminateInstances per release carried out");
    }
}

on_both_backends! {
    async fn a_prepaid_release_shows_the_refund_waits_for_an_approver_and_goes_to_the_recycle_bin(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let (purchase, ids) = bought_by_alice(&app, &prepaid_form(3)).await;
        let filed = release(&app, &alice(), purchase, &[]).await.expect("filed");
        let Quote::Refund { total } = filed.record.quote else { panic!("a refund quote: {:?}", filed.record.quote) };
        assert!(total > cvmbot::money::Yuan::ZERO, "three months paid, one used at most: a refund ({total})");
        let own = app.desk().vote(filed.record.id, &alice(), &approve()).await;
        assert!(matches!(own, Err(DeskError::Vote(VoteRefusal::OwnRequest))), "{own:?}");
        assert!(terminations(&app).is_empty(), "nothing is released before approval");

        app.desk().vote(filed.record.id, &bob(), &approve()).await.expect("approved");
        app.desk().submit_due().await.expect("released");
        assert_eq!(app.desk().view(filed.record.id).await.expect("view").record.state, RequestState::Done);
        assert_eq!(sim_state(&app, &ids[0]), "SHUTDOWN", "a prepaid server goes to the recycle bin");
        let sent = terminations(&app);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].params["ReleasePrepaidDataDisks"], true, "its prepaid data disks go with it");
        let instance = &app.desk().view(purchase).await.expect("view").instances[0];
        assert!(instance.released_at.is_some() && instance.gone_at.is_none(), "released, not gone: {instance:?}");
        assert_eq!(instance.release_request, Some(filed.record.id));

        // Destroying it for good takes naming it: a bare release (or an old button) does not.
        let Err(DeskError::Refused(refusal)) = release(&app, &alice(), purchase, &[]).await else { panic!("no silent destroy") };
        assert!(refusal.0.contains("destroyed for good only when named"), "{refusal}");
        // Named, a second release destroys it from the recycle bin, approved again.
        let destroy = release(&app, &alice(), purchase, &ids).await.expect("filed");
        assert_eq!(destroy.record.state, RequestState::Pending);
        assert_eq!(destroy.record.quote, Quote::Refund { total: cvmbot::money::Yuan::ZERO });
        app.desk().vote(destroy.record.id, &bob(), &approve()).await.expect("approved");
        app.desk().submit_due().await.expect("destroyed");
        assert_eq!(sim_state(&app, &ids[0]), "ENDED");
        assert_eq!(terminations(&app).len(), 2);
        let instance = &app.desk().view(purchase).await.expect("view").instances[0];
        assert!(instance.gone_at.is_some());
        assert!(matches!(release(&app, &alice(), purchase, &[]).await, Err(DeskError::Refused(_))), "nothing is left");
    }
}

on_both_backends! {
    async fn a_prepaid_release_whose_answer_is_lost_is_retried_into_the_recycle_bin_never_destroyed(backend) {
        let Some(app) = spawn_app(backend, "[tencent]\nmax_attempts = 1").await else { return };
        let (purchase, ids) = bought_by_alice(&app, &prepaid_form(1)).await;
        let filed = release(&app, &alice(), purchase, &[]).await.expect("filed");
        app.desk().vote(filed.record.id, &bob(), &approve()).await.expect("approved");
        app.sim.fail_next("TerminateInstances", Failure::GarbleAfterProcessing(Garble::Html), 1);
        assert_eq!(app.desk().submit(filed.record.id).await.expect("pass"), SubmitOutcome::WillResend);
        assert_eq!(sim_state(&app, &ids[0]), "SHUTDOWN", "Tencent did it; only the answer was lost");

        let restarted = app.restart(Clock::System).await;
        restarted.desk.recover_submissions().await.expect("recover");
        restarted.desk.submit_due().await.expect("resend");
        let view = restarted.desk.view(filed.record.id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Done);
        assert_eq!(terminations(&app).len(), 1, "the resend looked first and sent nothing");
        assert_eq!(sim_state(&app, &ids[0]), "SHUTDOWN", "still in the recycle bin, recoverable");
    }
}

on_both_backends! {
    async fn a_release_killed_after_sending_is_finished_on_restart_without_a_second_call(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let (purchase, ids) = bought_by_alice(&app, &payg_form()).await;
        let mut faults = cvmbot::sim::config::FaultConfig::default();
        faults.actions.insert("TerminateInstances".into(), cvmbot::sim::config::FaultRates { latency_ms: 5_000, ..Default::default() });
        app.sim.set_faults(faults);
        let filed = release(&app, &alice(), purchase, &[]).await.expect("filed at once");
        let desk = app.desk().clone();
        let id = filed.record.id;
        let doomed = tokio::spawn(async move { desk.submit(id).await });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while terminations(&app).is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "TerminateInstances never arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        doomed.abort();
        let _ = doomed.await;
        app.sim.set_faults(cvmbot::sim::config::FaultConfig::default());

        let restarted = app.restart(Clock::System).await;
        restarted.desk.recover_submissions().await.expect("recover");
        restarted.desk.submit_due().await.expect("finish");
        assert_eq!(restarted.desk.view(id).await.expect("view").record.state, RequestState::Done);
        assert_eq!(terminations(&app).len(), 1);
        assert_eq!(sim_state(&app, &ids[0]), "ENDED");
    }
}

on_both_backends! {
    async fn a_release_of_anything_cvmbot_did_not_buy_is_refused_naming_it(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let (purchase, ids) = bought_by_alice(&app, &payg_form()).await;
        let foreign = vec!["ins-notours1".to_owned()];
        let Err(DeskError::Invalid(errors)) = release(&app, &alice(), purchase, &foreign).await else { panic!("refused") };
        assert_eq!(errors.0[0].field, "instances");
        assert!(errors.0[0].problem.contains("`ins-notours1` was not bought by request"), "{errors}");
        assert!(errors.0[0].problem.contains(&ids[0]), "names what it did buy: {errors}");

        let no_reason = app.desk().release(&alice(), purchase, &[], Some("  "), Origin::default()).await;
        assert!(matches!(&no_reason, Err(DeskError::Invalid(e)) if e.0[0].field == "reason"), "{no_reason:?}");

        let missing = app.desk().release(&alice(), RequestId::new(999), &[], Some("gone"), Origin::default()).await;
        assert!(matches!(missing, Err(DeskError::NotFound(_))));

        // Erin's release waits for approval; a second one of the same server is refused.
        let first = release(&app, &erin(), purchase, &[]).await.expect("filed");
        let Err(DeskError::Refused(refusal)) = release(&app, &alice(), purchase, &ids).await else { panic!("overlap refused") };
        assert!(refusal.0.contains(&format!("release request #{}", first.record.id)), "{refusal}");
        let Err(DeskError::Invalid(errors)) = release(&app, &alice(), first.record.id, &[]).await else {
            panic!("a release of a release")
        };
        assert_eq!(errors.0[0].field, "request");
        assert!(terminations(&app).is_empty(), "nothing was sent");
        assert_eq!(sim_state(&app, &ids[0]), "RUNNING");
    }
}

on_both_backends! {
    async fn a_release_of_more_servers_than_the_bulk_limit_waits_for_an_approver_even_of_ones_own(backend) {
        let Some(app) = spawn_app(backend, "[policy.release]\nbulk_at_once = 1\n").await else { return };
        let (purchase, ids) = bought_by_alice(&app, &payg_form().with("count", "2")).await;
        assert_eq!(ids.len(), 2);
        let one = release(&app, &alice(), purchase, &ids[..1]).await.expect("filed");
        assert_eq!(one.record.state, RequestState::Approved, "one server: at once");
        let both = release(&app, &alice(), purchase, &ids[1..]).await.expect("filed");
        assert_eq!(both.record.state, RequestState::Approved);
        let (purchase, ids) = bought_by_alice(&app, &payg_form().with("count", "2")).await;
        let bulk = release(&app, &alice(), purchase, &ids).await.expect("filed");
        assert_eq!(bulk.record.state, RequestState::Pending, "two at once is bulk here");
        assert_eq!(bulk.record.approvals_needed, 1);
    }
}
