//! Promises at the edges: a re-quote is judged by the whole policy, an approver votes again on a
//! new price, the monthly caps hold under concurrency, and an answer that can't be read never
//! loses a bought server.

use crate::on_both_backends;
use crate::support::app::{
    TestApp, alice, bob, carol, file_as_alice, file_with_an_old_cheap_quote, payg_form, spawn_app, spot_form,
};
use cvmbot::desk::{Ballot, Origin, SubmitOutcome};
use cvmbot::domain::{Person, RequestState, UserId};
use cvmbot::money::{Fen, Yuan};
use cvmbot::sim::{Failure, Garble, LoggedRequest};

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Button,
    }
}

fn purchases(app: &TestApp) -> Vec<LoggedRequest> {
    app.sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances" && r.params.get("DryRun").is_none())
        .collect()
}

/// What a pay-as-you-go request of the test form costs per month-equivalent today.
async fn monthly_price_today(app: &TestApp) -> Yuan {
    let view = app
        .desk()
        .create(&alice(), &payg_form(), Origin::default())
        .await
        .expect("filed");
    app.desk()
        .cancel(view.record.id, &alice(), None)
        .await
        .expect("withdrawn");
    view.record.quote.monthly_equivalent()
}

fn tiers(up_to: &[(Yuan, u32)]) -> String {
    let tiers: Vec<String> = up_to
        .iter()
        .map(|(limit, approvals)| format!("{{ up_to = \"{}\", approvals = {approvals} }}", limit.amount()))
        .collect();
    format!("[policy]\nrequote_after = \"1h\"\ntiers = [{}]\n", tiers.join(", "))
}

on_both_backends! {
    async fn a_price_that_rose_into_a_dearer_tier_needs_that_tiers_approvals(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let today = monthly_price_today(&app).await;
        let half = Yuan::new(today.amount() / rust_decimal::Decimal::from(2));
        let id = file_with_an_old_cheap_quote(&app.app).await;
        let app2 = app.replica(&tiers(&[(half, 1), (today.times(2), 2)])).await;
        assert_eq!(app2.desk.vote(id, &bob(), &approve()).await.expect("vote").decided, Some(RequestState::Approved));

        assert_eq!(app2.desk.submit(id).await.expect("pass"), SubmitOutcome::Requoted);
        let view = app2.desk.view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Pending);
        assert_eq!(view.record.approvals_needed, 2, "the new price is in the two-approval tier");
        assert_eq!(app2.desk.vote(id, &bob(), &approve()).await.expect("bob again").decided, None, "one of two");
        assert_eq!(app2.desk.vote(id, &carol(), &approve()).await.expect("carol").decided, Some(RequestState::Approved));
        assert!(matches!(app2.desk.submit(id).await.expect("pass"), SubmitOutcome::Submitted(_)), "bought at the new price");
        assert_eq!(purchases(&app).len(), 1);
    }
}

on_both_backends! {
    async fn a_price_that_rose_above_the_last_tier_is_refused_and_nothing_is_bought(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let today = monthly_price_today(&app).await;
        let half = Yuan::new(today.amount() / rust_decimal::Decimal::from(2));
        let id = file_with_an_old_cheap_quote(&app.app).await;
        let app2 = app.replica(&tiers(&[(half, 1)])).await;
        app2.desk.vote(id, &bob(), &approve()).await.expect("approved");

        assert_eq!(app2.desk.submit(id).await.expect("pass"), SubmitOutcome::Refused);
        let view = app2.desk.view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Refused);
        assert!(view.record.note.as_deref().is_some_and(|n| n.contains("above the")), "{:?}", view.record.note);
        assert!(purchases(&app).is_empty(), "nothing was bought");
        assert_eq!(app2.desk.submit_due().await.expect("pass"), 0, "and nothing is left to submit");
        let notices = app.app.store().session().await.expect("session").notifications(Some(id)).await.expect("notices");
        assert!(notices.iter().any(|n| n.dedupe_key == format!("request:{id}:refused-on-requote")), "{notices:?}");
    }
}

on_both_backends! {
    async fn the_approver_of_the_old_price_can_approve_the_new_one(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file_with_an_old_cheap_quote(&app.app).await;
        let app2 = app.replica("[policy]\nrequote_after = \"1h\"").await;
        app2.desk.vote(id, &bob(), &approve()).await.expect("approved");
        assert_eq!(app2.desk.submit(id).await.expect("pass"), SubmitOutcome::Requoted);

        let again = app2.desk.vote(id, &bob(), &approve()).await.expect("bob may vote on the new price");
        assert_eq!(again.decided, Some(RequestState::Approved));
        let error = app2.desk.vote(id, &bob(), &approve()).await.expect_err("but only once per price");
        assert!(error.user_message().contains("already"), "{}", error.user_message());
    }
}

on_both_backends! {
    async fn eight_requests_filed_at_once_never_pass_the_team_cap_together(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let each = monthly_price_today(&app).await;
        // Room for three requests, not four.
        let cap = Yuan::new(each.amount() * rust_decimal::Decimal::from(3) + rust_decimal::Decimal::ONE);
        let capped = app.replica(&format!("[policy]\nteam_monthly_cap = \"{}\"\n", cap.amount())).await;
        let filings = (0..8u64).map(|n| {
            let desk = capped.desk.clone();
            let person = Person { id: UserId::new(7000 + n), name: format!("requester-{n}"), roles: vec![] };
            tokio::spawn(async move { desk.create(&person, &payg_form(), Origin::default()).await })
        });
        let results: Vec<_> = futures_util::future::join_all(filings).await.into_iter().map(|r| r.expect("task")).collect();
        let filed = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(filed, 3, "exactly as many as fit under the cap: {:?}", results.iter().map(|r| r.as_ref().err().map(|e| e.user_message())).collect::<Vec<_>>());
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(refused.user_message().contains("team cap"), "{}", refused.user_message());
        }
    }
}

on_both_backends! {
    async fn approvals_at_the_same_instant_never_pass_a_cap_together(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let mut ids = Vec::new();
        for _ in 0..6 {
            ids.push(app.desk().create(&alice(), &payg_form(), Origin::default()).await.expect("filed").record);
        }
        // A cap with room for one of them, set after all were filed.
        let cap = Yuan::new(Fen::new(ids[0].monthly_fen).to_yuan().amount() + rust_decimal::Decimal::ONE);
        let capped = app.replica(&format!("[policy]\nrequester_monthly_cap = \"{}\"\n", cap.amount())).await;
        let votes = ids.iter().map(|record| {
            let (desk, id) = (capped.desk.clone(), record.id);
            tokio::spawn(async move { desk.vote(id, &bob(), &approve()).await })
        });
        let results: Vec<_> = futures_util::future::join_all(votes).await.into_iter().map(|r| r.expect("task")).collect();
        let approved = results.iter().filter(|r| matches!(r, Ok(o) if o.decided == Some(RequestState::Approved))).count();
        assert_eq!(approved, 1, "{:?}", results.iter().map(|r| r.as_ref().map(|o| o.decided).map_err(|e| e.user_message())).collect::<Vec<_>>());
    }
}

/// Has Tencent buy the request and then answer it with `garble`; the submitter must keep the
/// request `submitting` and find the bought server with the same ClientToken.
async fn a_garbled_answer_is_resolved_by_resending(backend: crate::support::app::Backend, garble: Garble) {
    let Some(app) = spawn_app(backend, "[tencent]\nmax_attempts = 1").await else {
        return;
    };
    let id = file_as_alice(app.desk(), &spot_form()).await;
    app.desk().vote(id, &bob(), &approve()).await.expect("approved");
    app.sim
        .fail_next("RunInstances", Failure::GarbleAfterProcessing(garble.clone()), 1);

    assert_eq!(
        app.desk().submit(id).await.expect("pass"),
        SubmitOutcome::WillResend,
        "{garble:?}"
    );
    let view = app.desk().view(id).await.expect("view");
    assert_eq!(
        view.record.state,
        RequestState::Submitting,
        "not failed, not submitted without instances: {garble:?}"
    );
    assert_eq!(app.sim.instances().len(), 1, "Tencent did buy it");

    app.desk().recover_submissions().await.expect("recover");
    app.desk().submit_due().await.expect("pass");
    let view = app.desk().view(id).await.expect("view");
    assert_eq!(view.record.state, RequestState::Submitted, "{garble:?}");
    assert_eq!(view.instances.len(), 1);
    assert_eq!(
        view.instances[0].instance_id,
        app.sim.instances()[0].instance_id,
        "the bought server is tracked"
    );
    let bought = purchases(&app);
    assert_eq!(bought.len(), 2);
    assert_eq!(
        bought[0].client_token, bought[1].client_token,
        "resent with the same ClientToken"
    );
    assert_eq!(app.sim.instances().len(), 1, "and bought once");
}

on_both_backends! {
    async fn an_html_page_answering_a_purchase_loses_no_server(backend) {
        a_garbled_answer_is_resolved_by_resending(backend, Garble::Html).await;
    }
}

on_both_backends! {
    async fn an_http_408_answering_a_purchase_loses_no_server(backend) {
        a_garbled_answer_is_resolved_by_resending(backend, Garble::Status(408)).await;
    }
}

on_both_backends! {
    async fn an_answer_without_instance_ids_loses_no_server(backend) {
        a_garbled_answer_is_resolved_by_resending(backend, Garble::Without("InstanceIdSet".into())).await;
    }
}

on_both_backends! {
    async fn a_trade_error_of_unknown_outcome_is_resent_not_failed(backend) {
        let Some(app) = spawn_app(backend, "[tencent]\nmax_attempts = 1").await else { return };
        let id = file_as_alice(app.desk(), &spot_form()).await;
        app.desk().vote(id, &bob(), &approve()).await.expect("approved");
        app.sim.fail_next("RunInstances", Failure::code("InternalError.TradeUnknownError"), 1);
        assert_eq!(app.desk().submit(id).await.expect("pass"), SubmitOutcome::WillResend);
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Submitting);
        app.desk().recover_submissions().await.expect("recover");
        app.desk().submit_due().await.expect("pass");
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Submitted);
    }
}

on_both_backends! {
    async fn answers_that_stay_unreadable_are_told_to_the_channel_and_the_alerts_once(backend) {
        let Some(app) = spawn_app(backend, "[tencent]\nmax_attempts = 1").await else { return };
        let id = file_as_alice(app.desk(), &spot_form()).await;
        app.desk().vote(id, &bob(), &approve()).await.expect("approved");
        app.sim.fail_next("RunInstances", Failure::GarbleAfterProcessing(Garble::Html), 5);
        for _ in 0..5 {
            app.desk().recover_submissions().await.expect("recover");
            assert_eq!(app.desk().submit_due().await.expect("pass"), 1);
        }
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Submitting);
        let notices = app.app.store().session().await.expect("session").notifications(Some(id)).await.expect("notices");
        let unresolved: Vec<_> = notices.iter().filter(|n| n.dedupe_key.contains(":unresolved:")).collect();
        assert_eq!(unresolved.len(), 2, "one in the request's channel, one in the alerts: {notices:?}");
        assert_eq!(unresolved.iter().filter(|n| n.target == "alert").count(), 1);
        assert_eq!(app.sim.instances().len(), 1, "five unreadable answers, one server");
        app.desk().recover_submissions().await.expect("recover");
        app.desk().submit_due().await.expect("pass");
        assert_eq!(app.desk().view(id).await.expect("view").instances.len(), 1, "found once Tencent answers plainly");
    }
}

on_both_backends! {
    async fn a_balance_that_cannot_be_read_blocks_filing_as_the_policy_says(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        app.sim.fail_next("DescribeAccountBalance", Failure::code("UnauthorizedOperation"), 1);
        let error = app.desk().create(&alice(), &spot_form(), Origin::default()).await.expect_err("blind: refused");
        let said = error.user_message();
        assert!(said.contains("could not read the Tencent Cloud balance") && said.contains("balance_check"), "{said}");
        let stored = app.app.store().session().await.expect("session").list_requests(cvmbot::store::ListFilter::All, 10).await.expect("list");
        assert!(stored.is_empty(), "nothing was filed");

        let warned = app.replica("[policy]\nbalance_check = \"warn\"").await;
        app.sim.fail_next("DescribeAccountBalance", Failure::code("UnauthorizedOperation"), 1);
        let view = warned.desk.create(&alice(), &spot_form(), Origin::default()).await.expect("filed with a warning");
        assert!(view.record.balance_warning.as_deref().is_some_and(|w| w.contains("could not read")), "{:?}", view.record.balance_warning);
    }
}
