//! Budgets: a threshold reached by the forecast, then by the spend, is told once each in the
//! alert channel with the scope's spend chart, across a restart; a request over a budget is
//! refused (nothing stored) or needs one more approval, as the budget says.

use crate::on_both_backends;
use crate::support::app::{alice, bob, carol, payg_form};
use crate::workers::rig::{ALERT_CHANNEL, Rig, count, posts};
use cvmbot::desk::{Ballot, Origin};
use cvmbot::domain::{ChannelId, GuildId, RequestState};
use cvmbot::store::ListFilter;
use std::time::Duration;

/// alice's budget of `monthly` CNY with thresholds 50 and 100 %, `over` as given.
fn budget(monthly: &str, over: &str) -> String {
    format!(
        "[[budgets]]\nname = \"alice\"\nrequester = \"{}\"\nmonthly = \"{monthly}\"\nthresholds = [50, 100]\nover = \"{over}\"\n",
        alice().id
    )
}

const FORECAST_100: &str = "budget:alice:2025-01:100:forecast";
const ACTUAL_50: &str = "budget:alice:2025-01:50:actual";

/// Files a pay-as-you-go server as alice (over her budget, so it needs one more approval than
/// its tier), has bob and carol approve it and submits it.
async fn buy_over_budget(rig: &Rig) {
    let id = rig.file(&payg_form()).await;
    for approver in [bob(), carol()] {
        let ballot = Ballot {
            approve: true,
            reason: None,
            seen_hash: None,
            via: cvmbot::domain::VoteVia::Console,
        };
        rig.desk().vote(id, &approver, &ballot).await.expect("a vote");
    }
    assert_eq!(rig.state(id).await, RequestState::Approved, "two approvals");
    rig.desk().submit_due().await.expect("submitted");
    assert_eq!(rig.state(id).await, RequestState::Submitted);
}

/// A monitor pass and a dispatcher pass.
async fn watch(rig: &Rig) {
    rig.monitor().run_once().await.expect("a monitor pass");
    rig.dispatcher().run_once().await.expect("a dispatcher pass");
}

fn origin() -> Origin {
    Origin {
        guild_id: Some(GuildId::new(1)),
        channel_id: Some(ChannelId::new(10)),
    }
}

on_both_backends! {
    async fn the_forecast_then_the_spend_reaching_a_threshold_is_told_once_each_with_the_chart_across_a_restart(backend) {
        let Some(mut rig) = Rig::start(backend, &budget("2", "approval")).await else { return };
        buy_over_budget(&rig).await;
        rig.drive(Duration::from_secs(600), Duration::from_secs(300)).await;
        watch(&rig).await;
        let keys = rig.posted_keys();
        assert_eq!(count(&keys, FORECAST_100), 1, "the month's forecast is far over 2 CNY: {keys:?}");
        assert_eq!(count(&keys, ACTUAL_50), 0, "nothing near 1 CNY spent yet: {keys:?}");

        let mut hours = 0;
        while count(&rig.posted_keys(), ACTUAL_50) == 0 {
            hours += 1;
            assert!(hours < 200, "1 CNY is spent within 200 hours");
            rig.drive(Duration::from_secs(3600), Duration::from_secs(3600)).await;
            watch(&rig).await;
        }
        let keys = rig.posted_keys();
        let at = |key: &str| keys.iter().position(|k| k == key).expect(key);
        assert!(at(FORECAST_100) < at(ACTUAL_50), "the forecast was told first: {keys:?}");

        rig.restart().await;
        watch(&rig).await;
        let keys = rig.posted_keys();
        assert_eq!(count(&keys, FORECAST_100), 1, "not told again after the restart: {keys:?}");
        assert_eq!(count(&keys, ACTUAL_50), 1, "not told again after the restart: {keys:?}");
        // The forecast passed 50 % and 100 % in one look: each is a crossing of its own.
        assert_eq!(count(&keys, "budget:alice:2025-01:50:forecast"), 1, "{keys:?}");
        assert_eq!(keys.iter().filter(|k| k.starts_with("budget:")).count(), 3, "one post per crossing: {keys:?}");

        let alerts: Vec<_> = posts(&rig.t.notifier)
            .into_iter()
            .filter(|(channel, m)| *channel == ALERT_CHANNEL && m.dedupe_key.as_deref() == Some(ACTUAL_50))
            .collect();
        let [(_, message)] = alerts.as_slice() else { panic!("one actual alert: {alerts:?}") };
        let text = message.text.as_deref().unwrap_or_default();
        assert!(
            text.contains("Budget \"alice\"") && text.contains("50 %") && text.contains("2.00 CNY") && text.contains("spent so far"),
            "{text}"
        );
        let [chart] = message.attachments.as_slice() else { panic!("the spend chart attached") };
        assert_eq!(chart.filename, "cvmbot-spend.png");
        assert!(chart.bytes.starts_with(b"\x89PNG"), "a PNG");
    }
}

on_both_backends! {
    async fn a_request_over_a_refusing_budget_is_refused_naming_it_and_nothing_is_stored(backend) {
        let Some(rig) = Rig::start(backend, &budget("1", "refuse")).await else { return };
        let error = rig.desk().create(&alice(), &payg_form(), origin()).await.expect_err("over budget");
        let words = error.user_message();
        assert!(words.contains("budget \"alice\"") && words.contains("over its 1.00 CNY"), "{words}");
        assert!(words.contains("Nothing was filed"), "{words}");
        assert!(rig.desk().list(ListFilter::All, 10).await.expect("the list").is_empty(), "nothing stored");
        assert!(rig.outbox().await.is_empty(), "no card queued");
    }
}

on_both_backends! {
    async fn a_request_over_an_approval_budget_needs_one_more_approval_than_its_tier(backend) {
        let Some(rig) = Rig::start(backend, &budget("1", "approval")).await else { return };
        let view = rig.desk().create(&alice(), &payg_form(), origin()).await.expect("filed");
        let tier = rig
            .desk()
            .settings()
            .policy
            .approvals_needed(view.record.quote.monthly_equivalent())
            .expect("a tier");
        assert_eq!(view.record.approvals_needed, tier + 1);

        let Some(roomy) = Rig::start(backend, &budget("100000", "approval")).await else { return };
        let view = roomy.desk().create(&alice(), &payg_form(), origin()).await.expect("filed");
        assert_eq!(view.record.approvals_needed, tier, "within the budget, the tier alone");
    }
}

on_both_backends! {
    async fn a_second_request_counts_the_first_one_still_waiting_for_approval(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let first = rig.desk().create(&alice(), &payg_form(), origin()).await.expect("filed");
        let monthly = first.record.quote.monthly_equivalent();
        drop(rig);
        // Room for one request's month-equivalent and a little, not two.
        let room = monthly.plus("0.01".parse().expect("yuan"));
        let Some(rig) = Rig::start(backend, &budget(&room.plain(), "refuse")).await else { return };
        rig.desk().create(&alice(), &payg_form(), origin()).await.expect("the first fits");
        let error = rig.desk().create(&alice(), &payg_form(), origin()).await.expect_err("the second does not");
        assert!(error.user_message().contains("requested but not bought yet"), "{}", error.user_message());
        assert_eq!(rig.desk().list(ListFilter::All, 10).await.expect("the list").len(), 1);
    }
}

on_both_backends! {
    async fn a_tag_budget_counts_only_the_servers_bought_with_its_tag(backend) {
        let extra = "[[budgets]]\nname = \"web\"\ntag = \"project=web\"\nmonthly = \"100000\"\nthresholds = [1]\n";
        let Some(rig) = Rig::start(backend, extra).await else { return };
        rig.buy(&payg_form().with("tags", "project=web,owner=alice")).await;
        rig.buy(&payg_form().with("tags", "project=api")).await;
        rig.drive(Duration::from_secs(7200), Duration::from_secs(600)).await;
        let budget = rig.desk().budget("web").expect("configured").clone();
        let figures = rig.desk().budget_spend(&budget).await.expect("the budget's spend");
        let all = rig
            .desk()
            .spend(&cvmbot::domain::SpendPeriod::parse("month", time::macros::date!(2025 - 01 - 01)).expect("a period"), cvmbot::domain::SpendBy::Tag)
            .await
            .expect("the spend");
        let groups: Vec<&str> = figures.spend.series.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(groups, vec!["owner=alice, project=web"], "only the tagged server's group");
        assert!(figures.spent > cvmbot::money::Yuan::ZERO);
        assert!(figures.spent < all.series.total(), "the other server is not the budget's");
        let per_hour = rig.instances(cvmbot::domain::RequestId::new(1)).await[0].hourly_price;
        assert_eq!(figures.burn_per_hour, per_hour, "one running server's burn");
        assert!(figures.forecast > figures.spent);
    }
}

on_both_backends! {
    async fn a_budget_that_refuses_refuses_at_the_approval_and_at_a_price_rise_too(backend) {
        use crate::support::app::{file_with_an_old_cheap_quote, spawn_app};
        let Some(app) = spawn_app(backend, "[policy]\nrequote_after = \"0s\"").await else { return };
        let approve = Ballot { approve: true, reason: None, seen_hash: None, via: cvmbot::domain::VoteVia::Console };

        // Filed at today's price before the budget existed; approved once it does: refused.
        let dear = app.desk().create(&alice(), &payg_form(), Origin::default()).await.expect("filed").record;
        let room = cvmbot::money::Fen::new(dear.monthly_fen - 100).to_yuan();
        let budgeted = app.replica(&format!("[policy]\nrequote_after = \"0s\"\n{}", budget(&room.amount().to_string(), "refuse"))).await;
        let refused = budgeted.desk.vote(dear.id, &bob(), &approve).await.expect_err("over the budget");
        assert!(refused.user_message().contains("budget \"alice\""), "{}", refused.user_message());
        assert_eq!(budgeted.desk.view(dear.id).await.expect("view").record.state, RequestState::Pending);
        budgeted.desk.cancel(dear.id, &alice(), None).await.expect("cancelled");

        // Quoted cheaply, approved within the budget, then re-quoted at today's price: refused.
        let cheap = file_with_an_old_cheap_quote(&app.app).await;
        let outcome = budgeted.desk.vote(cheap, &bob(), &approve).await.expect("within the budget");
        assert_eq!(outcome.decided, Some(RequestState::Approved));
        budgeted.desk.submit(cheap).await.expect("a pass");
        let view = budgeted.desk.view(cheap).await.expect("view");
        assert_eq!(view.record.state, RequestState::Refused, "the new price is over the budget");
        assert!(app.sim.instances().is_empty(), "nothing bought");
    }
}

on_both_backends! {
    async fn a_budget_gone_over_since_filing_asks_one_more_approval_when_approved(backend) {
        use crate::support::app::spawn_app;
        let Some(app) = spawn_app(backend, "").await else { return };
        let approve = Ballot { approve: true, reason: None, seen_hash: None, via: cvmbot::domain::VoteVia::Console };
        // Filed before the budget existed, with the one approval its tier asks.
        let record = app.desk().create(&alice(), &payg_form(), Origin::default()).await.expect("filed").record;
        assert_eq!(record.approvals_needed, 1);
        let room = cvmbot::money::Fen::new(record.monthly_fen - 100).to_yuan();
        let budgeted = app.replica(&budget(&room.amount().to_string(), "approval")).await;
        let first = budgeted.desk.vote(record.id, &bob(), &approve).await.expect("counted");
        assert_eq!(first.decided, None, "over the budget now: one more approval");
        assert_eq!(first.view.record.approvals_needed, 2);
        let second = budgeted.desk.vote(record.id, &carol(), &approve).await.expect("counted");
        assert_eq!(second.decided, Some(RequestState::Approved));
    }
}

on_both_backends! {
    async fn thresholds_reached_together_are_each_told_once_the_forecasts_first_lowest_first(backend) {
        let extra = format!(
            "[[budgets]]\nname = \"alice\"\nrequester = \"{}\"\nmonthly = \"0.01\"\nthresholds = [50, 80, 100]\nover = \"approval\"\n",
            alice().id
        );
        let Some(mut rig) = Rig::start(backend, &extra).await else { return };
        buy_over_budget(&rig).await;
        // Three hours of a running server before the first look: every threshold of 0.01 CNY is behind.
        rig.drive(Duration::from_secs(3 * 3600), Duration::from_secs(600)).await;
        watch(&rig).await;
        let expected: Vec<String> = ["50:forecast", "80:forecast", "100:forecast", "50:actual", "80:actual", "100:actual"]
            .iter()
            .map(|crossing| format!("budget:alice:2025-01:{crossing}"))
            .collect();
        let told = |rig: &Rig| -> Vec<String> { rig.posted_keys().into_iter().filter(|k| k.starts_with("budget:")).collect() };
        assert_eq!(told(&rig), expected, "each crossing its own post, in order");

        rig.restart().await;
        watch(&rig).await;
        assert_eq!(told(&rig), expected, "none told again after a restart");
        let texts = rig.texts_in(ALERT_CHANNEL);
        assert!(texts.iter().any(|t| t.contains("is forecast to reach 80 %")), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("has reached 50 %")), "{texts:?}");
    }
}
