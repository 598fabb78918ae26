//! Health, readiness and metrics as an operator's probes and Prometheus see them: `/healthz`,
//! `/readyz` before and after the gateway is READY, on a standby and with the database gone, and
//! `/metrics` after purchases and releases, in process (both backends) and from the real binary
//! (counts that belong to that process alone).

use crate::on_both_backends;
use crate::support::app::{TestApp, alice, bought_by_alice, file_as_alice, payg_form, spawn_app, test_db};
use crate::support::discord_app::{ALICE, BOB, FAST_WORKERS, button_ids, spot_options};
use crate::support::fake_discord::{FakeConfig, FakeDiscord, WAIT};
use crate::support::process::{Deployment, PROCESS_WAIT};
use cvmbot::desk::Origin;
use cvmbot::ops::{Listener, ServiceState};
use cvmbot::secret::Secret;
use serde_json::Value;
use std::time::Duration;

/// A GET against a listener: the status and the body.
async fn get(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

/// `/readyz`: the status and the JSON answer.
async fn readyz(base: &str) -> (u16, Value) {
    let (status, body) = get(base, "/readyz").await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("/readyz is not JSON ({e}): {body}"));
    (status, json)
}

/// The named check of a `/readyz` answer.
fn check<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name} in {answer}"))
}

/// The value of the sample `series` (name and labels exactly as written) in a scrape.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter_map(|line| line.rsplit_once(' '))
        .find(|(name, _)| *name == series)
        .map(|(_, value)| value.parse().expect("a number"))
}

/// A listener on a free loopback port, answering from `state`.
async fn listen(state: ServiceState) -> (Listener, String) {
    let listener = Listener::start("127.0.0.1:0".parse().expect("an address"), state)
        .await
        .expect("the listener starts");
    let base = format!("http://{}", listener.address());
    (listener, base)
}

/// The app on `backend` for the fake Discord's guild, and the fake (quick heartbeats).
async fn app_for_discord(backend: crate::support::app::Backend) -> Option<(FakeDiscord, TestApp)> {
    let fake = FakeDiscord::start_with(FakeConfig {
        heartbeat_interval: Duration::from_millis(200),
        ..FakeConfig::default()
    })
    .await;
    let approver = fake.add_role("approver", 0);
    fake.add_member(ALICE, "alice", &[]);
    fake.add_member(BOB, "bob", &[approver]);
    let settings = format!(
        "[discord]\napi_base = \"{}\"\nguild_ids = [\"{}\"]\n\n[policy]\napprovers = {{ roles = [\"{approver}\"] }}\n{FAST_WORKERS}",
        fake.rest_url(),
        fake.guild_id()
    );
    let test = spawn_app(backend, &settings).await?;
    Some((fake, test))
}

on_both_backends! {
    async fn readiness_follows_the_gateway_the_database_and_the_role(backend) {
        let Some((fake, test)) = app_for_discord(backend).await else { return };
        let state = test.app.service_state();
        let (listener, base) = listen(state.clone()).await;
        assert_eq!(get(&base, "/healthz").await, (200, "ok\n".to_owned()));
        assert_eq!(get(&base, "/nowhere").await.0, 404);
        let (status, before) = readyz(&base).await;
        assert_eq!((status, &before["role"]), (200, &Value::from("standby")), "not leading yet, its database answers: {before}");

        let service = test.app.discord(&Secret::new(fake.token())).await.expect("the bot is built");
        service.report_to(&state);
        assert!(!service.is_leader(), "the lease is taken when the service runs");
        let (status, built) = readyz(&base).await;
        assert_eq!((status, &built["role"]), (200, &Value::from("standby")), "{built}");
        assert_eq!(check(&built, "discord")["required"], false, "a standby has no gateway: {built}");

        let mut ready = service.readiness();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(service.run_until(async move {
            let _ = stopped.await;
        }));
        tokio::time::timeout(WAIT, ready.wait_for(|r| *r)).await.expect("READY in time").expect("a bot");
        let (status, leading) = readyz(&base).await;
        assert_eq!(status, 200, "{leading}");
        assert_eq!(leading["role"], "leader");
        for name in ["database", "discord", "tencent"] {
            assert_eq!(check(&leading, name)["ok"], true, "{name}: {leading}");
        }

        fake.wait_for_heartbeats(2, WAIT).await;
        let (_, scrape) = get(&base, "/metrics").await;
        assert_eq!(sample(&scrape, "cvmbot_leader"), Some(1.0));
        assert_eq!(sample(&scrape, "cvmbot_discord_gateway_ready"), Some(1.0));
        assert!(sample(&scrape, "cvmbot_discord_heartbeat_latency_seconds").is_some(), "{scrape}");

        // A second replica on the same database stands by, ready with its database alone.
        let replica = test.replica("").await;
        let (replica_listener, replica_base) = listen(replica.service_state()).await;
        let (status, standby) = readyz(&replica_base).await;
        assert_eq!((status, &standby["role"]), (200, &Value::from("standby")), "{standby}");
        assert_eq!(check(&standby, "discord")["required"], false);
        replica_listener.stop().await;
        replica.store().close().await;

        let _ = stop.send(());
        running.await.expect("the bot task").expect("the bot stops cleanly");
        test.app.store().close().await;
        let (status, gone) = readyz(&base).await;
        assert_eq!(status, 503, "{gone}");
        assert_eq!(check(&gone, "database")["ok"], false, "{gone}");
        assert_eq!(get(&base, "/healthz").await.0, 200, "the process is still alive");
        let (status, scrape) = get(&base, "/metrics").await;
        assert_eq!(status, 200, "the process's own metrics are still served");
        assert_eq!(sample(&scrape, "cvmbot_database_reachable"), Some(0.0));
        assert_eq!(sample(&scrape, "cvmbot_outbox_depth"), None, "nothing is read from a database that is gone");
        listener.stop().await;
        fake.assert_no_problems();
    }
}

on_both_backends! {
    async fn the_metrics_read_requests_the_audit_log_the_outbox_and_the_balance_from_the_database(backend) {
        let limited = "[tencent]\nrate_limits = { InquiryPriceRunInstances = 1 }";
        let Some(app) = spawn_app(backend, limited).await else { return };
        let (listener, base) = listen(app.app.service_state()).await;
        // Two quotes within a second: the second waits for the rate limit.
        for _ in 0..2 {
            file_as_alice(app.desk(), &payg_form()).await;
        }
        let (purchase, _) = bought_by_alice(&app, &payg_form()).await;
        let release = app
            .desk()
            .release(&alice(), purchase, &[], Some("done with it"), Origin::default())
            .await
            .expect("released at once");
        app.desk().submit(release.record.id).await.expect("terminated");
        cvmbot::workers::BalanceMonitor::new(app.desk().clone(), Vec::new(), Duration::ZERO, None)
            .run_once()
            .await
            .expect("the balance is read");

        let (status, scrape) = get(&base, "/metrics").await;
        assert_eq!(status, 200);
        assert_eq!(sample(&scrape, "cvmbot_requests{kind=\"buy\",state=\"submitted\"}"), Some(1.0), "{scrape}");
        assert_eq!(sample(&scrape, "cvmbot_requests{kind=\"release\",state=\"done\"}"), Some(1.0));
        assert_eq!(sample(&scrape, "cvmbot_requests{kind=\"buy\",state=\"pending\"}"), Some(2.0));
        assert_eq!(sample(&scrape, "cvmbot_requests{kind=\"renew\",state=\"done\"}"), Some(0.0));
        assert_eq!(sample(&scrape, "cvmbot_purchases_total"), Some(1.0));
        assert_eq!(sample(&scrape, "cvmbot_releases_total"), Some(1.0));
        assert_eq!(sample(&scrape, "cvmbot_renewals_total"), Some(0.0));
        let unsent = app
            .desk()
            .outbox(None)
            .await
            .expect("the outbox")
            .iter()
            .filter(|n| n.sent_at.is_none())
            .count();
        assert!(unsent > 0, "nothing delivers here, so the notices wait");
        assert_eq!(sample(&scrape, "cvmbot_outbox_depth"), Some(unsent as f64));
        assert!(sample(&scrape, "cvmbot_outbox_oldest_age_seconds").is_some_and(|age| age >= 0.0));
        let watch = app
            .app
            .store()
            .session()
            .await
            .expect("a session")
            .balance_watch()
            .await
            .expect("the watch")
            .expect("a reading");
        assert_eq!(sample(&scrape, "cvmbot_balance_yuan"), Some(watch.spendable.get() as f64 / 100.0));
        assert_eq!(
            sample(&scrape, "cvmbot_balance_runway_seconds"),
            Some(f64::INFINITY),
            "the only server was released, so nothing burns"
        );
        assert_eq!(sample(&scrape, "cvmbot_leader"), Some(0.0), "no workers run here");
        assert!(
            sample(&scrape, "cvmbot_tencent_calls_total{action=\"RunInstances\",code=\"ok\"}").is_some_and(|n| n >= 1.0),
            "{scrape}"
        );
        assert!(scrape.contains("cvmbot_tencent_call_duration_seconds_bucket{action=\"TerminateInstances\",le=\"+Inf\"}"));
        assert!(scrape.contains("# TYPE cvmbot_tencent_call_duration_seconds histogram"));
        // Only this test limits quotes, so every wait counted comes from it (from both backends'
        // halves when they run at once).
        let waits = "cvmbot_tencent_rate_limit_waits_total{action=\"InquiryPriceRunInstances\"}";
        assert!(sample(&scrape, waits).is_some_and(|n| n >= 1.0), "{scrape}");
        let waited = "cvmbot_tencent_rate_limit_wait_seconds_total{action=\"InquiryPriceRunInstances\"}";
        assert!(sample(&scrape, waited).is_some_and(|s| s >= 1.0), "the window is 1.1 s: {scrape}");
        listener.stop().await;
    }
}

/// The address a bot process logged for its health and metrics.
async fn logged_address(bot: &crate::support::process::BotProcess) -> String {
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    loop {
        let log = bot.log();
        let address = log
            .lines()
            .filter(|l| l.contains("serving /healthz, /readyz and /metrics"))
            .find_map(|l| l.split("address=").nth(1))
            .map(|rest| rest.split_whitespace().next().unwrap_or_default().to_owned());
        if let Some(address) = address {
            return format!("http://{address}");
        }
        assert!(tokio::time::Instant::now() < deadline, "no listener in the log:\n{log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asks `/readyz` until it answers 200, as an orchestrator's probe does; returns the answer.
async fn ready_within(base: &str, wait: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let (status, answer) = readyz(base).await;
        if status == 200 {
            return answer;
        }
        assert_eq!(status, 503, "{answer}");
        assert!(tokio::time::Instant::now() < deadline, "never ready: {answer}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Scrapes until `done` holds of the scrape, and returns it.
async fn scrape_until(base: &str, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
    loop {
        let (_, scrape) = get(base, "/metrics").await;
        if done(&scrape) {
            return scrape;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what} never showed:\n{scrape}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_backends! {
    async fn a_running_bot_counts_exactly_the_calls_acknowledgements_and_reconnects_of_one_purchase(backend) {
        let Some(db) = test_db(backend).await else { return };
        let d = Deployment::start().await;
        let bot = d
            .spawn(&[("CVMBOT_SERVICE__LISTEN", "127.0.0.1:0"), ("CVMBOT_DATABASE__URL", &db.url)])
            .await;
        let base = logged_address(&bot).await;
        assert_eq!(get(&base, "/healthz").await.0, 200);
        // The command is registered before READY is handled to the end (the catalogue, the votes
        // cast while offline): the probe says ready once it is.
        let ready = ready_within(&base, PROCESS_WAIT).await;
        assert_eq!(ready["role"], "leader", "{ready}");

        d.fake.slash_command(ALICE, d.channel, "cvm buy spot", &spot_options());
        let deadline = tokio::time::Instant::now() + PROCESS_WAIT;
        let (card, approve) = loop {
            let bot_user = d.fake.bot_user_id();
            let found = d.fake.messages(d.channel).into_iter().find_map(|m| {
                let approve = button_ids(&m).into_iter().find(|b| b.starts_with("cvm:approve:1:"));
                approve.filter(|_| m.author_id == bot_user).map(|a| (m.id, a))
            });
            if let Some(found) = found {
                break found;
            }
            assert!(tokio::time::Instant::now() < deadline, "no card for request #1");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        d.fake.click_button(BOB, card, &approve);
        d.fake
            .wait_for_message(d.channel, |m| m.text().contains("was submitted to Tencent Cloud"), PROCESS_WAIT)
            .await;
        d.sim.advance(Duration::from_secs(40));
        let active = "cvmbot_requests{kind=\"buy\",state=\"active\"}";
        let scrape = scrape_until(&base, "the purchase running and every notice delivered", |s| {
            sample(s, active) == Some(1.0) && sample(s, "cvmbot_outbox_depth") == Some(0.0)
        })
        .await;

        for (series, expected) in [
            ("cvmbot_tencent_calls_total{action=\"RunInstances\",code=\"DryRunOperation\"}", 1.0),
            ("cvmbot_tencent_calls_total{action=\"RunInstances\",code=\"ok\"}", 1.0),
            ("cvmbot_tencent_call_duration_seconds_count{action=\"RunInstances\"}", 2.0),
            ("cvmbot_tencent_call_duration_seconds_bucket{action=\"RunInstances\",le=\"+Inf\"}", 2.0),
            ("cvmbot_purchases_total", 1.0),
            ("cvmbot_discord_interaction_ack_duration_seconds_count{kind=\"command\"}", 1.0),
            ("cvmbot_discord_interaction_ack_duration_seconds_count{kind=\"button\"}", 1.0),
            ("cvmbot_tracker_instances", 1.0),
            ("cvmbot_leader", 1.0),
            ("cvmbot_database_reachable", 1.0),
            ("cvmbot_discord_gateway_ready", 1.0),
        ] {
            assert_eq!(sample(&scrape, series), Some(expected), "{series}:\n{scrape}");
        }
        let acked = sample(&scrape, "cvmbot_discord_interaction_ack_duration_seconds_bucket{kind=\"button\",le=\"3\"}");
        assert_eq!(acked, Some(1.0), "the approval was acknowledged within Discord's 3 s:\n{scrape}");
        assert!(sample(&scrape, "cvmbot_tracker_poll_duration_seconds_count").is_some_and(|n| n >= 1.0));
        assert!(
            sample(&scrape, "cvmbot_tencent_calls_total{action=\"DescribeInstances\",code=\"ok\"}").is_some_and(|n| n >= 1.0),
            "the tracker polled"
        );
        let holder = scrape
            .lines()
            .find(|l| l.starts_with("cvmbot_lease_holder{holder="))
            .unwrap_or_else(|| panic!("no lease holder:\n{scrape}"));
        assert!(holder.contains(&format!("/{}/", bot.pid())) && holder.ends_with(" 1"), "{holder}");
        assert_eq!(sample(&scrape, "cvmbot_discord_gateway_reconnects_total{kind=\"resume\"}"), None, "no reconnect yet");

        let mark = d.fake.disconnect();
        d.fake.wait_until_reconnected(mark, PROCESS_WAIT).await;
        let resumed = "cvmbot_discord_gateway_reconnects_total{kind=\"resume\"}";
        scrape_until(&base, "the resumed session", |s| sample(s, resumed) == Some(1.0)).await;
        ready_within(&base, PROCESS_WAIT).await;
        bot.signal("TERM");
    }
}
