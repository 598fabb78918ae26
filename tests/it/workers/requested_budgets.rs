//! Budgets that count what was requested (month-equivalents, as the monthly caps do) rather than
//! what was spent: a request that would take one over is refused though nothing was bought, or
//! needs one more approval; what was approved reaching a threshold is told once; and requests
//! filed at once never pass one together.

use crate::on_both_backends;
use crate::support::app::{alice, bob, carol, dave, payg_form, spawn_app};
use crate::workers::rig::{ALERT_CHANNEL, Rig, count, posts};
use cvmbot::desk::{Ballot, Origin};
use cvmbot::domain::{ChannelId, GuildId, Person, RequestId, RequestState, UserId};
use cvmbot::money::Yuan;
use cvmbot::store::ListFilter;

/// alice's budget counting requests, with room for `requests` of the test form's month-equivalent
/// `each` (and a fen to spare), thresholds 50 and 100 %, `over` as given.
fn requested(each: Yuan, requests: &str, over: &str) -> String {
    let room =
        each.amount() * requests.parse::<rust_decimal::Decimal>().expect("a number") + rust_decimal::Decimal::new(1, 2);
    format!(
        "[[budgets]]\nname = \"alice\"\nrequester = \"{}\"\ncounts = \"requested\"\nmonthly = \"{}\"\nthresholds = [50, 100]\nover = \"{over}\"\n",
        alice().id,
        room
    )
}

/// What a pay-as-you-go request of the test form costs per month-equivalent, from a filing on a
/// rig of its own.
async fn each(backend: crate::support::app::Backend) -> Option<Yuan> {
    let rig = Rig::start(backend, "").await?;
    let view = rig
        .desk()
        .create(&alice(), &payg_form(), origin())
        .await
        .expect("filed");
    Some(view.record.quote.monthly_equivalent())
}

fn origin() -> Origin {
    Origin {
        guild_id: Some(GuildId::new(1)),
        channel_id: Some(ChannelId::new(10)),
    }
}

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Console,
    }
}

async fn file(rig: &Rig, who: &Person) -> RequestId {
    rig.desk()
        .create(who, &payg_form(), origin())
        .await
        .expect("filed")
        .record
        .id
}

async fn record(rig: &Rig, id: RequestId) -> cvmbot::store::RequestRecord {
    rig.desk().view(id).await.expect("the request").record
}

/// A monitor pass and a dispatcher pass.
async fn watch(rig: &Rig) {
    rig.monitor().run_once().await.expect("a monitor pass");
    rig.dispatcher().run_once().await.expect("a dispatcher pass");
}

on_both_backends! {
    async fn a_budget_counting_requests_refuses_the_one_that_would_take_them_over_though_nothing_was_spent(backend) {
        let Some(each) = each(backend).await else { return };
        let Some(rig) = Rig::start(backend, &requested(each, "2", "refuse")).await else { return };
        file(&rig, &alice()).await;
        file(&rig, &alice()).await;
        let error = rig.desk().create(&alice(), &payg_form(), origin()).await.expect_err("a third is over");
        let words = error.user_message();
        assert!(words.contains("budget \"alice\"") && words.contains("requested this month"), "{words}");
        assert!(words.contains("Nothing was filed"), "{words}");
        assert_eq!(rig.desk().list(ListFilter::All, 10).await.expect("the list").len(), 2, "the third was not stored");
        let budget = rig.desk().budget("alice").expect("configured").clone();
        assert_eq!(rig.desk().budget_spend(&budget).await.expect("figures").spent, Yuan::ZERO, "nothing was bought");
        file(&rig, &dave()).await;
    }
}

on_both_backends! {
    async fn a_budget_counting_requests_asks_one_more_approval_and_at_approval_counts_only_what_was_approved(backend) {
        let Some(each) = each(backend).await else { return };
        let Some(rig) = Rig::start(backend, &requested(each, "1.5", "approval")).await else { return };
        let first = file(&rig, &alice()).await;
        let second = file(&rig, &alice()).await;
        assert_eq!(record(&rig, first).await.approvals_needed, 1, "one request fits");
        assert_eq!(record(&rig, second).await.approvals_needed, 2, "the two together do not: one more approval");

        // Approved first, the second's request is the only one approved: within the budget.
        let outcome = rig.desk().vote(second, &bob(), &approve()).await.expect("counted");
        assert_eq!(outcome.decided, None, "its two approvals stand");
        assert_eq!(rig.desk().vote(second, &carol(), &approve()).await.expect("counted").decided, Some(RequestState::Approved));
        // Now the first would take what was approved over: it asks one more approval.
        let outcome = rig.desk().vote(first, &bob(), &approve()).await.expect("counted");
        assert_eq!((outcome.decided, outcome.view.record.approvals_needed), (None, 2));
        let outcome = rig.desk().vote(first, &carol(), &approve()).await.expect("counted");
        assert_eq!(outcome.decided, Some(RequestState::Approved));
    }
}

on_both_backends! {
    async fn what_was_approved_reaching_a_threshold_of_a_budget_counting_requests_is_told_once(backend) {
        const HALF: &str = "budget:alice:2025-01:50:actual";
        const FULL: &str = "budget:alice:2025-01:100:actual";
        let Some(each) = each(backend).await else { return };
        let Some(mut rig) = Rig::start(backend, &requested(each, "1.5", "approval")).await else { return };
        let first = file(&rig, &alice()).await;
        let second = file(&rig, &alice()).await;
        watch(&rig).await;
        assert!(!rig.posted_keys().iter().any(|k| k.starts_with("budget:")), "nothing approved yet: {:?}", rig.posted_keys());

        rig.desk().vote(first, &bob(), &approve()).await.expect("approved");
        watch(&rig).await;
        let keys = rig.posted_keys();
        assert_eq!((count(&keys, HALF), count(&keys, FULL)), (1, 0), "one request of 1.5 is 66 %: {keys:?}");

        for approver in [bob(), carol()] {
            rig.desk().vote(second, &approver, &approve()).await.expect("counted");
        }
        watch(&rig).await;
        rig.restart().await;
        watch(&rig).await;
        let keys = rig.posted_keys();
        assert_eq!((count(&keys, HALF), count(&keys, FULL)), (1, 1), "each told once: {keys:?}");
        assert!(!keys.iter().any(|k| k.ends_with(":forecast")), "requests have no forecast: {keys:?}");

        let alerts: Vec<_> = posts(&rig.t.notifier)
            .into_iter()
            .filter(|(channel, m)| *channel == ALERT_CHANNEL && m.dedupe_key.as_deref() == Some(FULL))
            .collect();
        let [(_, message)] = alerts.as_slice() else { panic!("one alert at 100 %: {alerts:?}") };
        let text = message.text.as_deref().unwrap_or_default();
        let both = cvmbot::money::Fen::new(record(&rig, first).await.monthly_fen + record(&rig, second).await.monthly_fen);
        assert!(text.contains("Budget \"alice\"") && text.contains("100 %") && text.contains("requested and approved"), "{text}");
        assert!(text.contains(&both.to_yuan().to_string()), "the two requests' month-equivalents: {text}");
    }
}

on_both_backends! {
    async fn requests_filed_at_once_never_pass_a_team_budget_counting_requests_together(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let probe = app.desk().create(&alice(), &payg_form(), Origin::default()).await.expect("filed").record;
        app.desk().cancel(probe.id, &alice(), None).await.expect("withdrawn");
        let each = probe.quote.monthly_equivalent();
        let team: Vec<String> = (0..8u64).map(|n| format!("\"{}\"", 7000 + n)).collect();
        // Room for three of the team's requests, not four.
        let room = Yuan::new(each.amount() * rust_decimal::Decimal::from(3) + rust_decimal::Decimal::ONE);
        let budget = format!(
            "[[budgets]]\nname = \"team\"\nteam = [{}]\ncounts = \"requested\"\nmonthly = \"{}\"\n",
            team.join(", "),
            room.amount()
        );
        let budgeted = app.replica(&budget).await;
        let filings = (0..8u64).map(|n| {
            let desk = budgeted.desk.clone();
            let person = Person { id: UserId::new(7000 + n), name: format!("requester-{n}"), roles: vec![] };
            tokio::spawn(async move { desk.create(&person, &payg_form(), Origin::default()).await })
        });
        let results: Vec<_> = futures_util::future::join_all(filings).await.into_iter().map(|r| r.expect("task")).collect();
        let refusals: Vec<String> = results.iter().filter_map(|r| r.as_ref().err()).map(|e| e.user_message()).collect();
        assert_eq!(results.len() - refusals.len(), 3, "exactly as many as fit: {refusals:?}");
        assert!(refusals.iter().all(|words| words.contains("budget \"team\"")), "{refusals:?}");
        budgeted.desk.create(&alice(), &payg_form(), Origin::default()).await.expect("alice is not of the team");
    }
}

on_both_backends! {
    async fn a_team_by_role_counts_the_requests_of_those_who_held_the_role_when_they_filed(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let ops = cvmbot::domain::RoleId::new(777);
        let person = |id: u64, roles: Vec<cvmbot::domain::RoleId>| Person { id: UserId::new(id), name: format!("p{id}"), roles };
        let (first, second, outsider) = (person(8001, vec![ops]), person(8002, vec![ops]), person(8003, vec![]));
        // Filed before the budget existed: the roles its requester held are stored with it.
        let filed = app.desk().create(&first, &payg_form(), Origin::default()).await.expect("filed").record;
        assert_eq!(filed.requester_roles, vec![ops]);
        let room = cvmbot::money::Fen::new(filed.monthly_fen - 100).to_yuan();
        let budget = format!("[[budgets]]\nname = \"ops\"\nteam_role = \"{ops}\"\ncounts = \"requested\"\nmonthly = \"{}\"\n", room.amount());
        let budgeted = app.replica(&budget).await;

        // Its approval is judged by the roles it was filed with (the approver holds none of them).
        let refused = budgeted.desk.vote(filed.id, &bob(), &approve()).await.expect_err("over the team's budget");
        assert!(refused.user_message().contains("budget \"ops\" (team <@&777>)"), "{}", refused.user_message());
        assert_eq!(budgeted.desk.view(filed.id).await.expect("view").record.state, RequestState::Pending);
        // The role's other holder is in the team's budget (their request alone is over it)...
        let refused = budgeted.desk.create(&second, &payg_form(), Origin::default()).await.expect_err("over");
        assert!(refused.user_message().contains("budget \"ops\""), "{}", refused.user_message());
        // ...and someone without the role is not of the team.
        let other = budgeted.desk.create(&outsider, &payg_form(), Origin::default()).await.expect("filed").record;
        assert!(other.requester_roles.is_empty());
    }
}
