//! Fleets against the simulator, on SQLite and on PostgreSQL: a budget approved once keeps N spot
//! servers running, refilled when Tencent reclaims them, never more than N and never above the bid.

use crate::on_both_backends;
use crate::support::app::{alice, bob};
use crate::support::sim::{IMAGE, TYPE, ZONE};
use crate::workers::rig::{REQUEST_CHANNEL, Rig, card_message};
use cvmbot::desk::{Ballot, DeskError, Origin, RequestView};
use cvmbot::domain::{BillingKind, GuildId, Person, PurchaseForm, RequestId, RequestState, VoteVia};
use cvmbot::sim::{Failure, Reclaim};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::time::Duration;

/// Fleets back off 10 s after a refusal that may pass (no stock, a market above the bid).
const FLEETS: &str = r#"
[submitter]
keep_trying_interval = "10s"
keep_trying_max_interval = "20s"
"#;

const FALLBACK: &str = "SA2.MEDIUM4";

fn price(text: &str) -> Decimal {
    text.parse().expect("a price")
}

/// `/cvm fleet create name:ci count:N max-price:0.2` in the test zone.
fn fleet_form(count: u32) -> PurchaseForm {
    PurchaseForm::new(BillingKind::Spot)
        .with("zone", ZONE)
        .with("type", TYPE)
        .with("image", IMAGE)
        .with("max-price", "0.2")
        .with("name", "ci")
        .with("count", count.to_string())
        .with("reason", "CI runners")
}

fn approve() -> Ballot {
    Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: VoteVia::Console,
    }
}

fn origin() -> Origin {
    Origin {
        guild_id: Some(GuildId::new(1)),
        channel_id: Some(REQUEST_CHANNEL),
    }
}

/// Starts a rig whose spot market sits at 0.1 CNY/h, below the fleets' bid of 0.2.
async fn rig(backend: crate::support::app::Backend) -> Option<Rig> {
    let rig = Rig::start(backend, FLEETS).await?;
    for kind in [TYPE, FALLBACK] {
        rig.t
            .sim
            .set_spot_price(ZONE, kind, price("0.1"))
            .expect("a spot market");
    }
    Some(rig)
}

/// Alice files the fleet, bob approves it, and it starts.
async fn start_fleet(rig: &Rig, form: &PurchaseForm) -> RequestId {
    let view = rig.desk().create_fleet(&alice(), form, origin()).await.expect("filed");
    let id = view.record.id;
    rig.desk()
        .attach_message(id, REQUEST_CHANNEL, card_message(id), None)
        .await
        .expect("card attached");
    rig.desk().vote(id, &bob(), &approve()).await.expect("approved");
    rig.desk().submit_due().await.expect("carried out");
    assert_eq!(rig.state(id).await, RequestState::Active, "the fleet runs");
    id
}

/// Spot servers the simulator runs or is starting (not reclaimed, not terminated).
fn alive(rig: &Rig) -> usize {
    rig.t
        .sim
        .instances()
        .iter()
        .filter(|i| i.ended.is_none() && matches!(i.state.as_str(), "PENDING" | "RUNNING"))
        .count()
}

/// Runs fleet passes, tracker rounds and deliveries, `step` of time each, until `done` or
/// `limit`; checks at every step that the simulator never runs more than `most` of them.
async fn tend_until(
    rig: &Rig,
    most: usize,
    step: Duration,
    limit: Duration,
    what: &str,
    done: impl AsyncFn(&Rig) -> bool,
) {
    let tracker = rig.tracker();
    let dispatcher = rig.dispatcher();
    let mut elapsed = Duration::ZERO;
    loop {
        rig.desk().fleets_due().await.expect("a fleets pass");
        assert!(
            alive(rig) <= most,
            "{} servers at the simulator, more than {most}",
            alive(rig)
        );
        tracker.round().await.expect("a tracker round");
        dispatcher.run_once().await.expect("a dispatcher pass");
        if done(rig).await {
            return;
        }
        assert!(elapsed < limit, "timed out waiting for {what}");
        rig.advance(step);
        elapsed += step;
    }
}

async fn fleet(rig: &Rig, id: RequestId) -> cvmbot::desk::FleetView {
    rig.desk().view(id).await.expect("view").fleet.expect("a fleet")
}

async fn running(rig: &Rig, id: RequestId, n: u32) -> bool {
    fleet(rig, id).await.running == n
}

/// The RunInstances calls the simulator received: (ClientToken, instance type, max price).
fn launches(rig: &Rig) -> Vec<(String, String, String)> {
    rig.t
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances" && r.params.get("DryRun").and_then(|d| d.as_bool()) != Some(true))
        .map(|r| {
            let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&r.params["ClientToken"]),
                text(&r.params["InstanceType"]),
                text(&r.params["InstanceMarketOptions"]["SpotOptions"]["MaxPrice"]),
            )
        })
        .collect()
}

const STEP: Duration = Duration::from_secs(5);
const LIMIT: Duration = Duration::from_secs(900);

on_both_backends! {
    async fn a_fleet_of_ten_with_thirty_percent_reclaimed_is_back_at_ten(backend) {
        let Some(rig) = rig(backend).await else { return };
        let id = start_fleet(&rig, &fleet_form(10)).await;
        tend_until(&rig, 10, STEP, LIMIT, "ten running", async |rig| running(rig, id, 10).await).await;

        let reclaimed = rig.t.sim.reclaim_spot(Some(ZONE), Some(TYPE), Reclaim::Percent(30)).expect("reclaimed");
        assert_eq!(reclaimed.len(), 3);
        // Told once the fleet is whole again.
        tend_until(&rig, 10, STEP, LIMIT, "ten running again, and told", async |rig| {
            running(rig, id, 10).await
                && fleet(rig, id).await.record.reclaimed_total == 3
                && rig.texts_in(REQUEST_CHANNEL).iter().any(|t| t.contains("reclaimed or gone"))
        })
        .await;

        assert_eq!(alive(&rig), 10, "ten servers at the simulator");
        let tokens: BTreeSet<String> = launches(&rig).into_iter().map(|(token, ..)| token).collect();
        assert_eq!(tokens.len(), 13, "ten launches and three refills, each with its own ClientToken");
        let view = fleet(&rig, id).await;
        assert!(view.record.last_refill_at.is_some() && view.record.last_reclaim_at.is_some());
        let told = rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("3 reclaimed or gone")).count();
        assert_eq!(told, 1, "one summary for the three reclamations: {:?}", rig.texts_in(REQUEST_CHANNEL));
        let per_server = rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("is RUNNING")).count();
        assert_eq!(per_server, 0, "no message per server");
    }
}

on_both_backends! {
    async fn a_market_above_the_bid_makes_the_fleet_wait_say_so_and_refill_when_it_falls(backend) {
        let Some(rig) = rig(backend).await else { return };
        let id = start_fleet(&rig, &fleet_form(4)).await;
        tend_until(&rig, 4, STEP, LIMIT, "four running", async |rig| running(rig, id, 4).await).await;

        // The market rises above the bid: every server is reclaimed, and refills can't launch.
        rig.t.sim.set_spot_price(ZONE, TYPE, price("0.5")).expect("market");
        tend_until(&rig, 4, STEP, LIMIT, "the fleet to wait", async |rig| {
            fleet(rig, id).await.record.waiting.is_some()
        })
        .await;
        for _ in 0..6 {
            rig.advance(STEP);
            rig.desk().fleets_due().await.expect("a pass");
            rig.dispatcher().run_once().await.expect("delivery");
        }
        let waits = |rig: &Rig| {
            rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("cannot refill now")).count()
        };
        assert_eq!(waits(&rig), 1, "the wait is told once: {:?}", rig.texts_in(REQUEST_CHANNEL));
        assert_eq!(alive(&rig), 0);

        // It falls again: the fleet refills by itself.
        rig.t.sim.set_spot_price(ZONE, TYPE, price("0.1")).expect("market");
        tend_until(&rig, 4, STEP, LIMIT, "four running again", async |rig| running(rig, id, 4).await).await;
        assert_eq!(fleet(&rig, id).await.record.waiting, None);
        assert!(
            launches(&rig).iter().all(|(_, _, bid)| bid == "0.2"),
            "never a bid above the approved max: {:?}",
            launches(&rig)
        );
    }
}

on_both_backends! {
    async fn a_fallback_type_is_used_when_the_first_has_no_stock(backend) {
        let Some(rig) = rig(backend).await else { return };
        rig.t.sim.set_spot_capacity(ZONE, TYPE, 0).expect("no spot stock");
        let id = start_fleet(&rig, &fleet_form(5).with("fallbacks", FALLBACK)).await;
        tend_until(&rig, 5, STEP, LIMIT, "five running", async |rig| running(rig, id, 5).await).await;

        let kinds: BTreeSet<String> = rig.t.sim.instances().into_iter().map(|i| i.instance_type).collect();
        assert_eq!(kinds, BTreeSet::from([FALLBACK.to_owned()]));
        let first_choice = launches(&rig).into_iter().filter(|(_, kind, _)| kind == TYPE).count();
        assert_eq!(first_choice, 1, "the first choice cost one refused launch, not one per server");
        let view = fleet(&rig, id).await;
        assert_eq!(view.by_placement, vec![(format!("{FALLBACK} in {ZONE}"), 5)]);
    }
}

on_both_backends! {
    async fn a_lost_launch_answer_and_a_restart_never_run_more_servers_than_the_fleet_keeps(backend) {
        let Some(mut rig) = rig(backend).await else { return };
        let id = start_fleet(&rig, &fleet_form(3)).await;
        // The first launch happens at Tencent, but its answer is lost.
        rig.t.sim.fail_next("RunInstances", Failure::DropAfterProcessing, 1);
        rig.desk().fleets_due().await.expect("a pass");
        assert!(alive(&rig) <= 3);
        rig.restart().await;
        tend_until(&rig, 3, STEP, LIMIT, "three running", async |rig| running(rig, id, 3).await).await;

        assert_eq!(rig.t.sim.instances().len(), 3, "three servers ever bought");
        let tokens: Vec<String> = launches(&rig).into_iter().map(|(token, ..)| token).collect();
        let distinct: BTreeSet<&String> = tokens.iter().collect();
        assert_eq!(distinct.len(), 3, "the lost launch was sent again with its own token: {tokens:?}");
        assert!(tokens.len() > 3, "and it was sent again");
    }
}

async fn scale(rig: &Rig, who: &Person, count: Option<u32>) -> Result<RequestView, DeskError> {
    rig.desk()
        .change_fleet(who, "ci", count, Some("load changed"), origin())
        .await
}

on_both_backends! {
    async fn scaling_within_the_budget_is_at_once_and_above_it_needs_approval(backend) {
        let Some(rig) = rig(backend).await else { return };
        let id = start_fleet(&rig, &fleet_form(4)).await;
        tend_until(&rig, 4, STEP, LIMIT, "four running", async |rig| running(rig, id, 4).await).await;

        // Down to two: the newest two go, at once (one's own spot servers).
        let down = scale(&rig, &alice(), Some(2)).await.expect("filed");
        assert_eq!(down.record.approvals_needed, 0);
        rig.desk().submit_due().await.expect("carried out");
        tend_until(&rig, 4, STEP, LIMIT, "two running", async |rig| alive(rig) == 2).await;
        assert_eq!(fleet(&rig, id).await.record.desired, 2);

        // Back up to four: within what was approved, at once.
        let up = scale(&rig, &alice(), Some(4)).await.expect("filed");
        assert_eq!(up.record.approvals_needed, 0);
        rig.desk().submit_due().await.expect("carried out");
        tend_until(&rig, 4, STEP, LIMIT, "four running", async |rig| running(rig, id, 4).await).await;

        // Up to six: beyond the approved budget, so it waits for an approver.
        let beyond = scale(&rig, &alice(), Some(6)).await.expect("filed");
        assert_eq!(beyond.record.state, RequestState::Pending);
        assert!(beyond.record.approvals_needed >= 1);
        rig.desk().submit_due().await.expect("nothing due");
        rig.desk().fleets_due().await.expect("a pass");
        assert_eq!(fleet(&rig, id).await.record.desired, 4, "nothing changes before the approval");
        rig.desk().vote(beyond.record.id, &bob(), &approve()).await.expect("approved");
        rig.desk().submit_due().await.expect("carried out");
        tend_until(&rig, 6, STEP, LIMIT, "six running", async |rig| running(rig, id, 6).await).await;
        assert_eq!(fleet(&rig, id).await.record.approved, 6);

        // Someone else's fleet is not bob's to change.
        assert!(matches!(scale(&rig, &bob(), Some(1)).await, Err(DeskError::Refused(_))));
        // A release of more servers than `bulk_at_once` waits for an approver, even the owner's.
        let release = scale(&rig, &alice(), None).await.expect("filed");
        assert_eq!(release.record.state, RequestState::Pending);
        rig.desk().vote(release.record.id, &bob(), &approve()).await.expect("approved");
        rig.desk().submit_due().await.expect("carried out");
        tend_until(&rig, 6, STEP, LIMIT, "every server given back", async |rig| {
            alive(rig) == 0 && fleet(rig, id).await.record.state == cvmbot::store::FleetState::Ended
        })
        .await;
    }
}

on_both_backends! {
    async fn a_fleets_time_to_live_gives_its_servers_back_and_a_change_filed_before_is_refused(backend) {
        let Some(rig) = rig(backend).await else { return };
        let id = start_fleet(&rig, &fleet_form(3).with("ttl", "1h")).await;
        tend_until(&rig, 3, STEP, LIMIT, "three running", async |rig| running(rig, id, 3).await).await;
        let record = fleet(&rig, id).await.record;
        assert_eq!(record.ends_at, Some(record.created_at + Duration::from_secs(3600)));

        // A rise waits for an approver while the time to live runs out.
        let rise = scale(&rig, &alice(), Some(9)).await.expect("filed");
        assert_eq!(rise.record.state, RequestState::Pending);
        rig.advance(Duration::from_secs(3600));
        tend_until(&rig, 3, STEP, LIMIT, "the fleet's end", async |rig| {
            alive(rig) == 0 && fleet(rig, id).await.record.state == cvmbot::store::FleetState::Ended
        })
        .await;
        let ended = rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("end of its time to live")).count();
        assert_eq!(ended, 1);

        // Approved after the end, the rise changes nothing.
        rig.desk().vote(rise.record.id, &bob(), &approve()).await.expect("approved");
        rig.desk().submit_due().await.expect("carried out");
        assert_eq!(rig.state(rise.record.id).await, RequestState::Failed);
        rig.desk().fleets_due().await.expect("a pass");
        assert_eq!(alive(&rig), 0);
        assert_eq!(fleet(&rig, id).await.record.desired, 0);
    }
}

on_both_backends! {
    async fn servers_that_fail_to_launch_or_are_terminated_outside_cvmbot_are_replaced(backend) {
        let sim = crate::workers::rig::sim_with(|c| c.lifecycle.launch_failure_per_million = 300_000);
        let Some(rig) = Rig::start_with(backend, sim, FLEETS).await else { return };
        rig.t.sim.set_spot_price(ZONE, TYPE, price("0.1")).expect("a spot market");
        let id = start_fleet(&rig, &fleet_form(6)).await;
        tend_until(&rig, 6, STEP, LIMIT, "six running", async |rig| running(rig, id, 6).await).await;
        let failed = rig.t.sim.instances().iter().filter(|i| i.state == "LAUNCH_FAILED").count();
        assert!(failed > 0, "some launches failed (the simulator's seed fails about 30 %)");

        // Someone terminates one in Tencent's console.
        let victim = rig.t.sim.instances().into_iter().find(|i| i.state == "RUNNING").expect("a server").instance_id;
        crate::support::sim::client(&rig.t.sim).terminate_instances("ap-guangzhou", &[victim]).await.expect("terminated");
        tend_until(&rig, 6, STEP, LIMIT, "six running again", async |rig| {
            running(rig, id, 6).await && fleet(rig, id).await.record.reclaimed_total == 1
        })
        .await;
        assert_eq!(alive(&rig), 6);
        let tokens: Vec<Option<String>> = rig.t.sim.instances().into_iter().map(|i| i.client_token).collect();
        let distinct: BTreeSet<&Option<String>> = tokens.iter().collect();
        assert_eq!(distinct.len(), tokens.len(), "one server per launch token, never two");
        assert!(
            launches(&rig).len() > 7,
            "more launches than slots: the failures and the terminated one were replaced"
        );
    }
}

on_both_backends! {
    async fn a_carried_out_rise_keeps_counting_against_the_monthly_cap(backend) {
        // Each server's budget is 0.2 × 730 = 146 CNY per month-equivalent; the cap is 700.
        let extra = format!("{FLEETS}\n[policy]\nrequester_monthly_cap = \"700\"\n");
        let Some(rig) = Rig::start(backend, &extra).await else { return };
        rig.t.sim.set_spot_price(ZONE, TYPE, price("0.1")).expect("a spot market");
        let id = start_fleet(&rig, &fleet_form(2)).await;
        let rise = scale(&rig, &alice(), Some(4)).await.expect("filed");
        rig.desk().vote(rise.record.id, &bob(), &approve()).await.expect("approved");
        rig.desk().submit_due().await.expect("carried out");
        assert_eq!(rig.state(rise.record.id).await, RequestState::Done);
        assert_eq!(fleet(&rig, id).await.record.approved, 4);

        // 4 × 146 = 584 committed: one more server's 146 would pass the cap.
        let refused = rig.desk().create_fleet(&alice(), &fleet_form(1).with("name", "more"), origin()).await;
        assert!(
            matches!(&refused, Err(DeskError::Refused(r)) if r.0.contains("cap")),
            "{refused:?}"
        );
    }
}

on_both_backends! {
    async fn a_slot_given_back_while_its_launch_is_unknown_finds_its_server_by_tag_and_buys_nothing_more(backend) {
        let Some(rig) = rig(backend).await else { return };
        let id = start_fleet(&rig, &fleet_form(3)).await;
        // The first launch happens at Tencent, but its answer is lost: that slot stays `launching`.
        rig.t.sim.fail_next("RunInstances", Failure::DropAfterProcessing, 1);
        rig.desk().fleets_due().await.expect("a pass");
        let launched_before = launches(&rig).len();
        // Down to two before anything is resent: the unknown launch's slot is the one given back.
        let down = scale(&rig, &alice(), Some(2)).await.expect("filed");
        rig.desk().submit_due().await.expect("carried out");
        assert_eq!(rig.state(down.record.id).await, RequestState::Done);
        tend_until(&rig, 3, STEP, LIMIT, "two running and the third given back", async |rig| {
            running(rig, id, 2).await && alive(rig) == 2
        })
        .await;
        assert_eq!(rig.t.sim.instances().len(), 3, "the lost launch's server was found, not bought again");
        let resent = launches(&rig).len() - launched_before;
        assert_eq!(resent, 0, "nothing was launched after the scale-down");
    }
}
