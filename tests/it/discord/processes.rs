//! The real binary as an operator runs it: SIGTERM stops it cleanly and hands the lease over; a
//! process killed with `kill -9` and started again takes the workers over at once; the token
//! never reaches the log, whatever RUST_LOG says; and a process killed at any step of filing,
//! approving, submitting or posting leaves, after a restart, exactly one card, one purchase and
//! every notice once.

use crate::support::discord_app::{ALICE, BOB, button_ids, card_title, spot_options};
use crate::support::fake_discord::MessageView;
use crate::support::process::{BotProcess, Deployment, PROCESS_WAIT};
use cvmbot::domain::RequestId;
use sqlx::Row;
use std::time::Duration;

/// Who holds the workers lease now (a lease given up names nobody).
async fn lease_holder(deployment: &Deployment) -> Option<String> {
    let pool = sqlx::SqlitePool::connect(&deployment.database_url())
        .await
        .expect("the database");
    let row = sqlx::query("SELECT holder FROM leases WHERE name = 'workers' AND expires_at > 0")
        .fetch_optional(&pool)
        .await
        .expect("the lease");
    pool.close().await;
    row.map(|r| r.get::<String, _>("holder"))
}

/// The bot's own messages in `channel` whose text contains `needle` (ephemeral ones left out).
fn posts_with(deployment: &Deployment, channel: u64, needle: &str) -> Vec<MessageView> {
    let bot = deployment.fake.bot_user_id();
    deployment
        .fake
        .messages(channel)
        .into_iter()
        .filter(|m| m.author_id == bot && !m.is_ephemeral() && m.text().contains(needle))
        .collect()
}

fn cards(deployment: &Deployment, id: RequestId) -> Vec<MessageView> {
    let title = format!("Request #{id}:");
    let bot = deployment.fake.bot_user_id();
    deployment
        .fake
        .messages(deployment.channel)
        .into_iter()
        .filter(|m| m.author_id == bot && !m.is_ephemeral() && card_title(m).starts_with(&title))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_bot_cleanly_and_hands_the_workers_lease_over() {
    let deployment = Deployment::start().await;
    let mut bot = deployment.spawn(&[]).await;
    assert!(
        lease_holder(&deployment).await.is_some(),
        "the running bot holds the lease"
    );
    bot.signal("TERM");
    let status = bot.wait_exit(PROCESS_WAIT).await.expect("SIGTERM stops the bot");
    assert!(status.success(), "a clean stop exits 0: {status:?}\n{}", bot.log());
    assert!(bot.log().contains("stopping (SIGTERM)"), "{}", bot.log());
    assert_eq!(lease_holder(&deployment).await, None, "the lease was handed over");
    deployment.fake.wait_until_disconnected(PROCESS_WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_killed_with_kill_9_and_started_again_takes_the_workers_over_at_once() {
    let deployment = Deployment::start().await;
    let mut first = deployment.spawn(&[]).await;
    let held = lease_holder(&deployment).await.expect("a holder");
    assert!(held.contains(&format!("/{}/", first.pid())), "{held}");
    first.kill9().await;
    assert_eq!(
        lease_holder(&deployment).await,
        Some(held),
        "a killed process leaves its lease behind"
    );

    let second = deployment.spawn(&[]).await;
    let now = lease_holder(&deployment).await.expect("a holder");
    assert!(
        now.contains(&format!("/{}/", second.pid())),
        "the restarted process holds the lease without waiting for it to expire: {now}\n{}",
        second.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_discord_token_never_reaches_the_log_even_at_trace_level() {
    let deployment = Deployment::start().await;
    let mut bot = deployment.spawn(&[("RUST_LOG", "trace")]).await;
    let filing = deployment
        .fake
        .slash_command(ALICE, deployment.channel, "cvm buy spot", &spot_options());
    deployment.fake.interaction_response(&filing, PROCESS_WAIT).await;
    deployment
        .fake
        .wait_for_message(
            deployment.channel,
            |m| card_title(m).starts_with("Request #1:"),
            PROCESS_WAIT,
        )
        .await;
    bot.signal("TERM");
    bot.wait_exit(PROCESS_WAIT).await.expect("the bot stops");
    let log = bot.log();
    assert!(log.contains("TRACE"), "the log was at trace level");
    let token = deployment.fake.token();
    let hex: String = token.bytes().map(|b| format!("{b:02x}")).collect();
    let bytes = token.bytes().map(|b| b.to_string()).collect::<Vec<_>>().join(", ");
    for (form, needle) in [
        ("as text", token.as_str()),
        ("in hex", hex.as_str()),
        ("as bytes", bytes.as_str()),
    ] {
        assert!(!log.contains(needle), "the token is in the log {form}");
    }
}

/// Files request #1 (a spot purchase) as alice and has bob approve it.
async fn buy_request_one(d: &Deployment) {
    d.fake.slash_command(ALICE, d.channel, "cvm buy spot", &spot_options());
    approve_request_one(d).await;
}

/// Waits for request #1's card to offer Approve, and has bob click it.
async fn approve_request_one(d: &Deployment) {
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    let card = loop {
        let bot = d.fake.bot_user_id();
        let pending = d
            .fake
            .messages(d.channel)
            .into_iter()
            .rev()
            .find(|m| m.author_id == bot && button_ids(m).iter().any(|b| b.starts_with("cvm:approve:1:")));
        if let Some(card) = pending {
            break card;
        }
        assert!(tokio::time::Instant::now() < deadline, "no card for request #1");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let approve = button_ids(&card)
        .into_iter()
        .find(|b| b.starts_with("cvm:approve:1:"))
        .expect("approve");
    d.fake.click_button(BOB, card.id, &approve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_installation_posting_request_one_again_is_not_taken_for_a_repeat() {
    let d = Deployment::start().await;
    let mut first = d.spawn(&[]).await;
    buy_request_one(&d).await;
    d.fake
        .wait_for_message(
            d.channel,
            |m| m.text().contains("was submitted to Tencent Cloud"),
            PROCESS_WAIT,
        )
        .await;
    first.signal("TERM");
    first.wait_exit(PROCESS_WAIT).await.expect("stopped");

    d.delete_database();
    let _second = d.spawn(&[]).await;
    buy_request_one(&d).await;
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    while posts_with(&d, d.channel, "Request #1 (")
        .iter()
        .filter(|m| m.text().contains("was submitted"))
        .count()
        < 2
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second installation's notice was swallowed as a repeat"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        cards(&d, RequestId::new(1)).len(),
        2,
        "each installation posted its own card #1"
    );
}

/// Drives one purchase to its public IP against bots started with `CVMBOT_CRASH_AT=point`,
/// starting a bot without it whenever one stops; then checks that the crash happened and that
/// everything was done exactly once.
async fn a_purchase_survives_a_crash_at(point: &str) {
    let d = Deployment::start().await;
    let mut crashes = 0;
    let mut bot = d.spawn(&[("CVMBOT_CRASH_AT", point)]).await;
    let expected = format!("crash point {point} reached");

    // Waits until `done`, restarting the bot (without the crash point) whenever it died; `again`
    // is done once more after a restart (a click the dead bot never saw).
    async fn until(
        d: &Deployment,
        bot: &mut BotProcess,
        crashes: &mut u32,
        expected: &str,
        what: &str,
        again: impl Fn(&Deployment),
        done: impl Fn(&Deployment) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
        while !done(d) {
            if let Some(status) = bot.exited() {
                assert!(!status.success(), "the bot stopped by itself while waiting for {what}");
                assert!(
                    bot.log().contains(expected),
                    "it died, but not at the crash point:\n{}",
                    bot.log()
                );
                *crashes += 1;
                *bot = d.spawn(&[]).await;
                again(d);
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let nothing = |_: &Deployment| {};

    // Filed once: a repeat would be a second request.
    d.fake.slash_command(ALICE, d.channel, "cvm buy spot", &spot_options());
    until(&d, &mut bot, &mut crashes, &expected, "the card", nothing, |d| {
        !cards(d, RequestId::new(1)).is_empty()
    })
    .await;
    // Clicks Approve while the card offers it (not once the request is approved).
    let approve = |d: &Deployment| {
        let card = cards(d, RequestId::new(1)).remove(0);
        if let Some(id) = button_ids(&card).into_iter().find(|b| b.starts_with("cvm:approve:1:")) {
            // The card may lose its buttons between this look and the click (the approval went
            // through); Discord would not send that click, and neither does the fake.
            let _ = d.fake.try_click_button(BOB, card.id, &id);
        }
    };
    // The card may be up while its process is dying: wait a moment for the bot to settle.
    tokio::time::sleep(Duration::from_millis(300)).await;
    until(
        &d,
        &mut bot,
        &mut crashes,
        &expected,
        "the card to be linked",
        nothing,
        |_| true,
    )
    .await;
    approve(&d);
    until(&d, &mut bot, &mut crashes, &expected, "the purchase", approve, |d| {
        !posts_with(d, d.channel, "was submitted to Tencent Cloud").is_empty()
    })
    .await;
    d.sim.advance(Duration::from_secs(40));
    until(&d, &mut bot, &mut crashes, &expected, "RUNNING", nothing, |d| {
        !posts_with(d, d.channel, "is RUNNING").is_empty()
    })
    .await;
    d.sim.advance(Duration::from_secs(300));
    until(&d, &mut bot, &mut crashes, &expected, "the public IP", nothing, |d| {
        !posts_with(d, d.channel, "has its public IP").is_empty()
    })
    .await;
    until(
        &d,
        &mut bot,
        &mut crashes,
        &expected,
        "the card to say active",
        nothing,
        |d| {
            cards(d, RequestId::new(1))
                .first()
                .is_some_and(|c| c.text().contains("Active"))
        },
    )
    .await;

    assert_eq!(crashes, 1, "the bot crashed once, at {point}");
    assert_eq!(cards(&d, RequestId::new(1)).len(), 1, "one card");
    let purchases: Vec<_> = d
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances" && r.params["DryRun"] != serde_json::json!(true))
        .collect();
    assert!(!purchases.is_empty());
    assert!(
        purchases.iter().all(|p| p.client_token == purchases[0].client_token),
        "one ClientToken"
    );
    assert_eq!(d.sim.instances().len(), 1, "one server bought");
    for notice in ["was submitted to Tencent Cloud", "is RUNNING", "has its public IP"] {
        assert_eq!(posts_with(&d, d.channel, notice).len(), 1, "`{notice}` posted once");
    }
}

macro_rules! crash_tests {
    ($($name:ident => $point:literal),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                a_purchase_survives_a_crash_at($point).await;
            }
        )*

        #[test]
        fn every_crash_point_has_a_test() {
            let tested = [$($point),*];
            assert_eq!(tested.as_slice(), cvmbot::crashpoint::POINTS);
        }
    };
}

crash_tests! {
    a_crash_after_the_request_is_stored_still_posts_its_card => "filing:stored",
    a_crash_after_the_card_is_posted_links_that_card => "card:posted",
    a_crash_after_the_card_is_linked_keeps_it => "card:linked",
    a_crash_after_the_approval_still_buys_once => "vote:approved",
    a_crash_after_claiming_the_purchase_buys_once => "submit:claimed",
    a_crash_after_sending_the_purchase_buys_once => "submit:sent",
    a_crash_after_storing_the_purchase_announces_it_once => "submit:stored",
    a_crash_after_posting_a_notice_posts_it_once => "notice:posted",
}

/// A release is where a resend would do harm (TerminateInstances has no ClientToken): a bot
/// killed right after sending it leaves, after a restart, one TerminateInstances and the release
/// done, because the restarted bot looks at the server before sending anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_killed_right_after_sending_a_release_finishes_it_on_restart_without_a_second_terminate() {
    let d = Deployment::start().await;
    let mut bot = d.spawn(&[]).await;
    buy_request_one(&d).await;
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    while posts_with(&d, d.channel, "was submitted to Tencent Cloud").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "not bought");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    d.sim.advance(Duration::from_secs(60));
    bot.signal("TERM");
    bot.wait_exit(PROCESS_WAIT).await.expect("a clean stop");

    // The next bot dies the moment TerminateInstances has been sent.
    let mut doomed = d.spawn(&[("CVMBOT_CRASH_AT", "submit:sent")]).await;
    d.fake.slash_command(
        ALICE,
        d.channel,
        "cvm release",
        &[("request", serde_json::json!(1)), ("reason", serde_json::json!("done"))],
    );
    let exit = doomed
        .wait_exit(PROCESS_WAIT)
        .await
        .expect("it crashed at the crash point");
    assert!(!exit.success());
    assert!(
        doomed.log().contains("crash point submit:sent reached"),
        "{}",
        doomed.log()
    );
    let terminations = || {
        d.sim
            .requests()
            .iter()
            .filter(|r| r.action == "TerminateInstances")
            .count()
    };
    assert_eq!(terminations(), 1, "sent before the crash");

    let _bot = d.spawn(&[]).await;
    // The notice itself (the card's status line says it too).
    let notices = || {
        posts_with(&d, d.channel, "were destroyed")
            .into_iter()
            .filter(|m| m.content.contains("were destroyed"))
            .count()
    };
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    while notices() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the release was never finished");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(terminations(), 1, "the restarted bot looked and sent nothing more");
    assert_eq!(notices(), 1, "told once");
}

/// A fleet's launch is where a crash could buy a slot twice. A bot killed the moment a refill's
/// slot is marked `launching` (nothing sent yet), or the moment its RunInstances was answered
/// (before it stored the answer), leaves after a restart the fleet at its count with nothing
/// bought twice: the restarted bot sends the slot's launch with the same ClientToken, and Tencent
/// answers a repeat with the same server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_killed_in_the_middle_of_a_fleets_refill_never_runs_more_servers_than_the_fleet_keeps() {
    a_fleet_survives_a_crash_at("fleet:sent", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_killed_before_a_fleets_refill_is_sent_sends_it_once_after_a_restart() {
    a_fleet_survives_a_crash_at("fleet:launching", 0).await;
}

#[test]
fn every_fleet_crash_point_has_a_test() {
    assert_eq!(cvmbot::crashpoint::FLEET_POINTS, ["fleet:launching", "fleet:sent"]);
}

/// A fleet of four, two reclaimed, and a bot that dies at `point` while refilling them, having
/// bought `bought_before` of the refills; then a bot that finishes the refill.
async fn a_fleet_survives_a_crash_at(point: &str, bought_before: usize) {
    use crate::support::sim::{IMAGE, TYPE, ZONE};
    let d = Deployment::start().await;
    d.sim
        .set_spot_price(ZONE, TYPE, "0.1".parse().expect("price"))
        .expect("a market");
    let quick = ("CVMBOT_WORKERS__FLEETS_INTERVAL", "200ms");
    let alive = || {
        d.sim
            .instances()
            .iter()
            .filter(|i| i.ended.is_none() && matches!(i.state.as_str(), "PENDING" | "RUNNING"))
            .count()
    };
    // Moves the simulator on slowly (the tracker sees a reclaimed server while it is TERMINATING)
    // until `done`, checking that the fleet never runs more than its four.
    let until = async |what: &str, done: &dyn Fn() -> bool| {
        let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
        while !done() {
            assert!(alive() <= 4, "{} servers running for a fleet of 4", alive());
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            d.sim.advance(Duration::from_secs(2));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };

    let mut bot = d.spawn(&[quick]).await;
    let options = [
        ("name", serde_json::json!("ci")),
        ("count", serde_json::json!(4)),
        ("max-price", serde_json::json!("0.2")),
        ("zone", serde_json::json!(ZONE)),
        ("type", serde_json::json!(TYPE)),
        ("image", serde_json::json!(IMAGE)),
    ];
    d.fake.slash_command(ALICE, d.channel, "cvm fleet create", &options);
    approve_request_one(&d).await;
    until("four servers", &|| alive() == 4).await;
    bot.signal("TERM");
    bot.wait_exit(PROCESS_WAIT).await.expect("a clean stop");

    // Tencent reclaims two; the next bot dies the moment its first refill is answered.
    d.sim
        .reclaim_spot(Some(ZONE), Some(TYPE), cvmbot::sim::Reclaim::Count(2))
        .expect("reclaimed");
    let mut doomed = d.spawn(&[quick, ("CVMBOT_CRASH_AT", point)]).await;
    let reached = format!("crash point {point} reached");
    until("the crash", &|| doomed.log().contains(&reached)).await;
    let exit = doomed.wait_exit(PROCESS_WAIT).await.expect("it crashed");
    assert!(!exit.success());
    assert_eq!(
        d.sim.instances().len(),
        4 + bought_before,
        "four launches and what the refill bought before the crash"
    );

    let _bot = d.spawn(&[quick]).await;
    until("the fleet back at four", &|| {
        alive() == 4 && d.sim.instances().len() == 6
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(alive(), 4);
    assert_eq!(
        d.sim.instances().len(),
        6,
        "four launches and two refills: the crashed refill was not bought twice"
    );
}

/// The in-process simulator's URL, from the log of a bot run with `--simulate`.
fn sandbox_url(bot: &BotProcess) -> String {
    let log = bot.log();
    let line = log
        .lines()
        .find(|l| l.contains("running against the in-process simulator"))
        .unwrap_or_else(|| panic!("no simulator in the log:\n{log}"));
    let start = line.find("http://127.0.0.1:").expect("the simulator's URL");
    let url: String = line[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.'))
        .collect();
    url
}

/// The instance ids the simulator at `url` knows.
async fn sandbox_instances(url: &str) -> Vec<String> {
    let listed: serde_json::Value = reqwest::get(format!("{url}/_sim/instances"))
        .await
        .expect("the simulator answers")
        .json()
        .await
        .expect("JSON");
    listed
        .as_array()
        .expect("a list of instances")
        .iter()
        .map(|i| i["instance_id"].as_str().expect("an instance id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_simulate_with_a_state_file_keeps_the_sandbox_servers_across_a_restart() {
    let d = Deployment::start().await;
    let state = d.file("sandbox.json");
    let state = state.to_str().expect("a UTF-8 path");
    let sandbox = ["--simulate", "--state", state];
    let mut first = d.spawn_with_args(&sandbox, &[]).await;
    buy_request_one(&d).await;
    d.fake
        .wait_for_message(
            d.channel,
            |m| m.text().contains("was submitted to Tencent Cloud"),
            PROCESS_WAIT,
        )
        .await;
    let bought = sandbox_instances(&sandbox_url(&first)).await;
    assert_eq!(bought.len(), 1, "the sandbox bought one server: {bought:?}");
    first.signal("TERM");
    let status = first.wait_exit(PROCESS_WAIT).await.expect("stopped");
    assert!(status.success(), "{status:?}\n{}", first.log());
    assert!(first.log().contains("simulator state saved"), "{}", first.log());

    let second = d.spawn_with_args(&sandbox, &[]).await;
    assert_eq!(
        sandbox_instances(&sandbox_url(&second)).await,
        bought,
        "the restarted sandbox still has the server"
    );
}
