//! Two replicas of the real binary on one PostgreSQL database, each in a PID namespace of its own
//! as on two machines: only the lease holder is connected to Discord; killed with `kill -9` in
//! the middle of a purchase, its standby takes over when the lease runs out, catches up with what
//! happened while nobody was connected, and nothing is bought or posted twice; a clean stop hands
//! over at once; and a leader paused past its lease wakes up as a standby that does nothing.

use crate::support::discord_app::{ALICE, BOB, button_ids, card_title, spot_options};
use crate::support::fake_discord::MessageView;
use crate::support::process::{BotProcess, Deployment, PROCESS_WAIT};
use cvmbot::sim::config::{FaultConfig, FaultRates};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The bot's own posts in `#general` (ephemeral answers left out).
fn posts(d: &Deployment) -> Vec<MessageView> {
    let bot = d.fake.bot_user_id();
    d.fake
        .messages(d.channel)
        .into_iter()
        .filter(|m| m.author_id == bot && !m.is_ephemeral())
        .collect()
}

/// The cards of request `id` in `#general`.
fn cards(d: &Deployment, id: u64) -> Vec<MessageView> {
    let title = format!("Request #{id}:");
    posts(d)
        .into_iter()
        .filter(|m| card_title(m).starts_with(&title))
        .collect()
}

/// The posts (not cards) whose text contains `needle`.
fn notices(d: &Deployment, needle: &str) -> usize {
    posts(d)
        .iter()
        .filter(|m| !card_title(m).starts_with("Request #") && m.text().contains(needle))
        .count()
}

async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + PROCESS_WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Starts the leader and waits until it is connected and has registered `/cvm`.
async fn leader(d: &Deployment, env: &[(&str, &str)]) -> BotProcess {
    let mark = d.fake.connection_mark();
    let bot = d.spawn_replica(env);
    d.fake.wait_until_reconnected(mark, PROCESS_WAIT).await;
    d.fake.wait_for_commands(Some(d.fake.guild_id()), PROCESS_WAIT).await;
    bot
}

/// Starts a standby and waits until it says it stands by; it must not connect to Discord.
async fn standby(d: &Deployment, env: &[(&str, &str)]) -> BotProcess {
    let mark = d.fake.connection_mark();
    let bot = d.spawn_replica(env);
    until("the second replica to stand by", || bot.log().contains("standing by")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        d.fake.connection_mark(),
        mark,
        "a standby does not connect to the gateway:\n{}",
        bot.log()
    );
    bot
}

/// Files a spot purchase as alice and waits for its card.
async fn file(d: &Deployment, id: u64) -> MessageView {
    d.fake.slash_command(ALICE, d.channel, "cvm buy spot", &spot_options());
    until(&format!("request #{id}'s card"), || !cards(d, id).is_empty()).await;
    cards(d, id).remove(0)
}

fn approve_button(card: &MessageView, id: u64) -> String {
    button_ids(card)
        .into_iter()
        .find(|b| b.starts_with(&format!("cvm:approve:{id}:")))
        .expect("an Approve button")
}

/// Waits until the simulator runs `n` servers and the channel has heard that each runs, then
/// checks that each of `requests` has one card and every notice was posted once.
async fn everything_once(d: &Deployment, n: usize, requests: &[u64]) {
    until("every purchase to be submitted", || {
        notices(d, "was submitted to Tencent Cloud") >= requests.len()
    })
    .await;
    d.sim.advance(Duration::from_secs(40));
    until("every server to run", || notices(d, "is RUNNING") >= requests.len()).await;
    // Give a second replica's duplicate, were there one, time to arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(d.sim.instances().len(), n, "servers bought");
    let tokens: BTreeSet<_> = d
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances" && r.params["DryRun"] != true)
        .filter_map(|r| r.client_token)
        .collect();
    assert_eq!(tokens.len(), n, "one ClientToken per purchase: {tokens:?}");
    for id in requests {
        assert_eq!(cards(d, *id).len(), 1, "request #{id} has one card");
    }
    let texts: Vec<String> = posts(d)
        .iter()
        .filter(|m| !card_title(m).starts_with("Request #"))
        .map(MessageView::text)
        .collect();
    let unique: BTreeSet<&String> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "a notice was posted twice: {texts:#?}");
    for id in requests {
        let submitted = format!("Request #{id} (");
        assert_eq!(
            texts
                .iter()
                .filter(|t| t.contains(&submitted) && t.contains("was submitted"))
                .count(),
            1,
            "request #{id} was announced once: {texts:#?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_after_the_leader_is_killed_mid_purchase_and_nothing_is_done_twice() {
    let Some(d) = Deployment::start_on_postgres().await else {
        return;
    };
    // RunInstances is carried out at once but answered slowly, so the leader can be killed
    // with the purchase made and its answer not yet read.
    let mut faults = FaultConfig::default();
    faults.actions.insert(
        "RunInstances".into(),
        FaultRates {
            latency_ms: 1500,
            ..FaultRates::default()
        },
    );
    d.sim.set_faults(faults);
    let mut first = leader(&d, &[]).await;
    let mut second = standby(&d, &[]).await;

    let one = file(&d, 1).await;
    let two = file(&d, 2).await;
    let connections = d.fake.connection_mark();
    d.fake.click_button(BOB, one.id, &approve_button(&one, 1));
    until("the leader's RunInstances (not a dry run)", || {
        d.sim
            .requests()
            .iter()
            .any(|r| r.action == "RunInstances" && r.params["DryRun"] != true)
    })
    .await;
    assert!(
        d.sim.instances().len() == 1 && notices(&d, "was submitted") == 0,
        "killed mid-purchase"
    );
    first.kill9().await;
    let killed = Instant::now();
    // While nobody is connected, bob approves #2 by reaction.
    d.fake.react_offline(BOB, d.channel, two.id, "✅");

    d.fake.wait_until_reconnected(connections, PROCESS_WAIT).await;
    let took_over = killed.elapsed();
    eprintln!("FIGURE failover after kill -9: {} ms", took_over.as_millis());
    assert!(
        second.log().contains("this process now runs the workers"),
        "{}",
        second.log()
    );
    everything_once(&d, 2, &[1, 2]).await;
    assert!(second.exited().is_none(), "the new leader runs on");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_hands_the_lease_to_the_standby_at_once() {
    let Some(d) = Deployment::start_on_postgres().await else {
        return;
    };
    let mut first = leader(&d, &[]).await;
    let second = standby(&d, &[]).await;
    let connections = d.fake.connection_mark();
    first.signal("TERM");
    let stopped = Instant::now();
    let status = first.wait_exit(PROCESS_WAIT).await.expect("SIGTERM stops the leader");
    assert!(status.success(), "a clean stop exits 0:\n{}", first.log());
    d.fake.wait_until_reconnected(connections, PROCESS_WAIT).await;
    eprintln!("FIGURE handover after SIGTERM: {} ms", stopped.elapsed().as_millis());
    assert!(first.log().contains("handed the workers lease over"), "{}", first.log());

    let card = file(&d, 1).await;
    d.fake.click_button(BOB, card.id, &approve_button(&card, 1));
    everything_once(&d, 1, &[1]).await;
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_paused_past_its_lease_wakes_up_as_a_standby_that_does_nothing() {
    let Some(d) = Deployment::start_on_postgres().await else {
        return;
    };
    let quick = [("CVMBOT_WORKERS__LEASE", "3s")];
    let first = leader(&d, &quick).await;
    let _second = standby(&d, &quick).await;
    let connections = d.fake.connection_mark();
    first.signal("STOP");
    d.fake.wait_until_reconnected(connections, PROCESS_WAIT).await;
    let card = file(&d, 1).await;

    first.signal("CONT");
    until("the paused leader to stand by", || {
        first.log().contains("lost the workers lease")
    })
    .await;
    d.fake.click_button(BOB, card.id, &approve_button(&card, 1));
    everything_once(&d, 1, &[1]).await;
    let log = first.log();
    assert_eq!(
        log.matches("this process now runs the workers").count(),
        1,
        "the woken leader did not lead again:\n{log}"
    );
}
