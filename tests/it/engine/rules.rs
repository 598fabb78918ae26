//! The approval rules as a table, and the policy's other refusals, on both backends.

use crate::on_both_backends;
use crate::support::app::{TestApp, alice, bob, carol, dave, erin, spawn_app, spot_form};
use crate::support::sim::{IMAGE, ZONE};
use cvmbot::desk::{Ballot, Origin};
use cvmbot::domain::{BillingKind, PurchaseForm, RequestId, RequestState};
use cvmbot::store::ListFilter;

fn approve(via: &str) -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::parse(via).expect("a way to vote"),
    }
}

async fn file(app: &TestApp, form: &PurchaseForm) -> RequestId {
    app.desk()
        .create(&alice(), form, Origin::default())
        .await
        .expect("filed")
        .record
        .id
}

async fn submissions(app: &TestApp) -> usize {
    app.sim
        .requests()
        .iter()
        .filter(|r| r.action == "RunInstances" && r.params.get("DryRun").is_none())
        .count()
}

on_both_backends! {
    async fn refused_votes_are_explained_and_change_nothing(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file(&app, &spot_form()).await;
        let outdated = Ballot { seen_hash: Some("000000000000".into()), ..approve("button") };
        let table: &[(&str, cvmbot::domain::Person, Ballot, &str)] = &[
            ("self-approval", alice(), approve("button"), "your own request"),
            ("self-rejection", alice(), Ballot { approve: false, ..approve("reaction") }, "your own request"),
            ("non-approver", dave(), approve("reaction"), "Only approvers"),
            ("changed spec", bob(), outdated, "changed since"),
        ];
        for (case, voter, ballot, expected) in table {
            let error = app.desk().vote(id, voter, ballot).await.expect_err(case);
            assert!(error.user_message().contains(expected), "{case}: {}", error.user_message());
        }
        let view = app.desk().view(id).await.expect("view");
        assert_eq!(view.record.state, RequestState::Pending);
        assert!(view.votes.is_empty(), "no refused vote was recorded");
        assert_eq!(submissions(&app).await, 0);
    }
}

on_both_backends! {
    async fn each_person_counts_once_and_a_decided_request_takes_no_more_votes(backend) {
        let Some(app) = spawn_app(backend, "[policy]\ntiers = [{ up_to = \"100000\", approvals = 2 }]").await else { return };
        let id = file(&app, &spot_form()).await;
        let first = app.desk().vote(id, &bob(), &approve("button")).await.expect("counted");
        assert_eq!(first.decided, None);
        assert_eq!(first.view.approvals(), 1);
        let again = app.desk().vote(id, &bob(), &approve("reaction")).await.expect_err("twice");
        assert!(again.user_message().contains("already voted"), "{}", again.user_message());
        let second = app.desk().vote(id, &carol(), &approve("reaction")).await.expect("counted");
        assert_eq!(second.decided, Some(RequestState::Approved));
        let late = app.desk().vote(id, &erin(), &approve("button")).await.expect_err("decided");
        assert!(late.user_message().contains("already approved"), "{}", late.user_message());
    }
}

on_both_backends! {
    async fn an_expired_request_takes_no_votes_and_expires(backend) {
        let Some(app) = spawn_app(backend, "[policy]\nrequest_expiry = \"1s\"").await else { return };
        let id = file(&app, &spot_form()).await;
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let error = app.desk().vote(id, &bob(), &approve("button")).await.expect_err("expired");
        assert!(error.user_message().contains("expired"), "{}", error.user_message());
        assert_eq!(app.desk().expire_due().await.expect("expiry"), 1);
        assert_eq!(app.desk().view(id).await.expect("view").record.state, RequestState::Expired);
        let notices = app.app.store().session().await.expect("session").notifications(Some(id)).await.expect("notices");
        assert!(notices.iter().any(|n| n.body.contains("\"expired\"")), "the requester is told: {notices:?}");
    }
}

on_both_backends! {
    async fn a_rejection_with_a_reason_ends_the_request(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file(&app, &spot_form()).await;
        let reject = Ballot { approve: false, reason: Some("too expensive".into()), seen_hash: None, via: cvmbot::domain::VoteVia::Button };
        let outcome = app.desk().vote(id, &bob(), &reject).await.expect("counted");
        assert_eq!(outcome.decided, Some(RequestState::Rejected));
        assert_eq!(outcome.view.record.note.as_deref(), Some("too expensive"));
        assert_eq!(outcome.view.record.decided_by.as_deref(), Some("bob"));
        assert!(app.desk().vote(id, &carol(), &approve("button")).await.is_err());
        assert_eq!(submissions(&app).await, 0);
    }
}

on_both_backends! {
    async fn the_cost_tier_decides_how_many_approvals_and_above_the_last_is_refused(backend) {
        let tiers = "[policy]\nmax_count = 50\ntiers = [{ up_to = \"500\", approvals = 1 }, { up_to = \"3000\", approvals = 2 }]";
        let Some(app) = spawn_app(backend, tiers).await else { return };
        let small = app.desk().create(&alice(), &spot_form().with("max-price", "0.3"), Origin::default()).await.expect("small");
        assert_eq!(small.record.approvals_needed, 1, "0.3 × 730 h plus bandwidth is under 500 CNY");
        let medium = app.desk().create(&alice(), &spot_form().with("count", "3"), Origin::default()).await.expect("medium");
        assert_eq!(medium.record.approvals_needed, 2);
        let error = app.desk().create(&alice(), &spot_form().with("count", "20"), Origin::default()).await.expect_err("large");
        assert!(error.user_message().contains("above the 3,000.00 CNY limit"), "{}", error.user_message());
        assert_eq!(app.desk().list(ListFilter::All, 100).await.expect("list").len(), 2, "the refused one wrote nothing");
    }
}

on_both_backends! {
    async fn monthly_caps_count_what_is_already_committed(backend) {
        let caps = "[policy]\nrequester_monthly_cap = \"900\"\nteam_monthly_cap = \"1000\"";
        let Some(app) = spawn_app(backend, caps).await else { return };
        let first = app.desk().create(&alice(), &spot_form(), Origin::default()).await.expect("alice's first");
        let monthly = first.record.monthly_fen;
        let mut session = app.app.store().session().await.expect("session");
        let since = cvmbot::clock::month_start(time::OffsetDateTime::now_utc());
        assert_eq!(session.committed_since(alice().id, since, true, None).await.expect("sum"), (monthly, monthly));
        assert_eq!(session.committed_since(dave().id, since, true, None).await.expect("sum"), (0, monthly));
        drop(session);
        let error = app.desk().create(&alice(), &spot_form(), Origin::default()).await.expect_err("over alice's cap");
        assert!(error.user_message().contains("your cap of 900.00 CNY"), "{}", error.user_message());
        let error = app.desk().create(&dave(), &spot_form(), Origin::default()).await.expect_err("over the team's cap");
        assert!(error.user_message().contains("team cap of 1,000.00 CNY"), "{}", error.user_message());
        let dave_first = app.desk().create(&dave(), &spot_form().with("max-price", "0.1").with("bandwidth", "0"), Origin::default()).await.expect("a small one fits");
        assert_eq!(dave_first.record.state, RequestState::Pending);
    }
}

on_both_backends! {
    async fn requests_outside_the_policy_or_refused_by_tencent_write_nothing(backend) {
        let policy = "[policy]\nallowed_zones = [\"ap-guangzhou-3\"]\nallowed_charge_types = [\"SPOTPAID\", \"POSTPAID_BY_HOUR\"]";
        let Some(app) = spawn_app(backend, policy).await else { return };
        let cases: Vec<(&str, PurchaseForm, &str)> = vec![
            ("zone not allowed", spot_form().with("zone", "ap-shanghai-2"), "allowed zones: ap-guangzhou-3"),
            ("billing not allowed", PurchaseForm::new(BillingKind::Prepaid).with("zone", ZONE).with("type", "S5.MEDIUM4").with("image", IMAGE).with("months", "1"), "allowed: spot, payg"),
            ("type not sold in the zone", spot_form().with("type", "GN7.2XLARGE32"), "`type`: GN7.2XLARGE32 is not sold in ap-guangzhou-3"),
            ("unknown image", spot_form().with("image", "img-00000000"), "does not know this image"),
        ];
        for (case, form, expected) in cases {
            let error = app.desk().create(&alice(), &form, Origin::default()).await.expect_err(case);
            assert!(error.user_message().contains(expected), "{case}: {}", error.user_message());
        }
        assert!(app.desk().list(ListFilter::All, 100).await.expect("list").is_empty());
        let mut session = app.app.store().session().await.expect("session");
        assert!(session.audit_since(time::OffsetDateTime::UNIX_EPOCH).await.expect("audit").is_empty());
    }
}

on_both_backends! {
    async fn a_balance_that_cannot_cover_the_purchase_blocks_it_or_warns(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        app.sim.set_balance(cvmbot::sim::DEFAULT_SECRET_ID, cvmbot::money::Fen::new(100)).expect("balance");
        let prepaid = crate::support::app::prepaid_form(12);
        let error = app.desk().create(&alice(), &prepaid, Origin::default()).await.expect_err("blocked");
        assert!(error.user_message().contains("can't cover"), "{}", error.user_message());
        assert!(error.user_message().contains("1.00 CNY"), "the balance is shown in CNY: {}", error.user_message());
        assert!(app.desk().list(ListFilter::All, 10).await.expect("list").is_empty());
        drop(app);
        let Some(app) = spawn_app(backend, "[policy]\nbalance_check = \"warn\"").await else { return };
        app.sim.set_balance(cvmbot::sim::DEFAULT_SECRET_ID, cvmbot::money::Fen::new(100)).expect("balance");
        let view = app.desk().create(&alice(), &prepaid, Origin::default()).await.expect("warned");
        assert!(view.record.balance_warning.as_deref().is_some_and(|w| w.contains("can't cover")), "{:?}", view.record.balance_warning);
    }
}

on_both_backends! {
    async fn a_rejection_racing_a_cancellation_cannot_both_win(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        for _ in 0..5 {
            let id = file(&app, &spot_form()).await;
            let reject = Ballot { approve: false, reason: Some("no".into()), seen_hash: None, via: cvmbot::domain::VoteVia::Button };
            let (bob, alice) = (bob(), alice());
            let (voted, cancelled) =
                tokio::join!(app.desk().vote(id, &bob, &reject), app.desk().cancel(id, &alice, Some("changed my mind")));
            assert!(voted.is_ok() != cancelled.is_ok(), "exactly one wins: {:?} / {:?}", voted.map(|o| o.decided), cancelled.map(|v| v.record.state));
            let state = app.desk().view(id).await.expect("view").record.state;
            assert!(matches!(state, RequestState::Rejected | RequestState::Cancelled), "{state:?}");
        }
    }
}

on_both_backends! {
    async fn only_the_requester_or_an_admin_may_cancel(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let id = file(&app, &spot_form()).await;
        let error = app.desk().cancel(id, &bob(), None).await.expect_err("not bob");
        assert!(error.user_message().contains("Only the requester or an admin"), "{}", error.user_message());
        let view = app.desk().cancel(id, &erin(), Some("duplicate")).await.expect("admin");
        assert_eq!(view.record.state, RequestState::Cancelled);
        assert_eq!(view.record.decided_by.as_deref(), Some("erin"));
    }
}
