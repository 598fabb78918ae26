//! Tracker figures at scale: `cargo bench --bench tracker` prints them (a program, not a timed test).
//!
//! 10,000 pay-as-you-go instances with public IPs are bought through the engine (100 requests of
//! 100: filed, approved, submitted by the running workers) from `cvmbot sim` in a child process,
//! with the simulator's rate limits at Tencent's documented values (DescribeInstances 40/s) and
//! cvmbot's own client limiter on. The workers run as production runs them (`Workers::spawn`, the
//! system clock, the default cadence of config/default.toml). The simulator's clock runs at
//! [`SPEED`]× so launches and public IPs (1–5 simulated minutes after purchase) arrive within a
//! minute of wall time; every delay below is measured in wall time on both sides (the simulator
//! notes the wall time at which each IP became visible), so it is the delay a user would see.
//!
//! Printed: DescribeInstances calls per round (all 10,000 due at once, and per sweep once every
//! instance has backed off to the longest interval), the delay from an IP becoming visible to its
//! notice being recorded and posted (median, p99), and the peak memory of cvmbot and of the
//! simulator. Peak memory depends on the allocator: glibc keeps freed memory in per-thread arenas
//! (run with `MALLOC_ARENA_MAX=2` to see roughly the live data).

#[path = "tracker/support.rs"]
mod support;

use anyhow::Context;
use cvmbot::app::App;
use cvmbot::chat::console::person;
use cvmbot::chat::render::TimeStyle;
use cvmbot::clock::Clock;
use cvmbot::config::Config;
use cvmbot::desk::{Ballot, Desk, Origin};
use cvmbot::domain::{BillingKind, ChannelId, GuildId, MessageId, PurchaseForm};
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, InstanceView, LoggedRequest};
use cvmbot::store::InstanceRecord;
use cvmbot::workers::Tracker;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Control, SimProcess, TimingNotifier, peak_kib, quantile};
use time::OffsetDateTime;

const INSTANCES: usize = 10_000;
const PER_REQUEST: usize = 100;
/// Simulated seconds per wall second.
const SPEED: f64 = 10.0;
const ZONES: [&str; 4] = ["ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7"];
const TYPE: &str = "S5.MEDIUM4";
const IMAGE: &str = "img-487zeit5";
const CHANNEL: ChannelId = ChannelId::new(10);

fn main() -> anyhow::Result<()> {
    let sim = SimProcess::start(SPEED, 7)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let figures = runtime.block_on(run(&sim.url))?;
    let sim_peak = sim.peak_kib();
    drop(sim);
    let own_peak = peak_kib("/proc/self/status");
    figures.print(own_peak, sim_peak);
    Ok(())
}

/// What the run measured.
struct Figures {
    buying: Duration,
    settling: Duration,
    full_round_calls: usize,
    full_round_logged: usize,
    full_round_largest: usize,
    full_round_time: Duration,
    sweep_calls: usize,
    sweep_polls: usize,
    sweep_window: Duration,
    recorded: Vec<i64>,
    posted: Vec<i64>,
    posts: usize,
    edits: usize,
    limited: BTreeMap<String, usize>,
    /// VmHWM once everything was bought, KiB.
    peak_bought: Option<u64>,
    /// VmHWM once every IP was seen and posted, KiB.
    peak_tracking: Option<u64>,
}

impl Figures {
    fn print(mut self, own_peak: Option<u64>, sim_peak: Option<u64>) {
        let secs = |ms: i64| ms as f64 / 1000.0;
        let mib = |kib: Option<u64>| kib.map_or("unknown".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        println!(
            "cvmbot tracker bench: {INSTANCES} instances in {} requests",
            INSTANCES / PER_REQUEST
        );
        println!("  simulator at {SPEED}x, its rate limits on (DescribeInstances 40/s); cvmbot's limiter on (40/s)");
        println!("  default cadence: 3s after a change, x1.5 per quiet poll, up to 10s while waiting, 60s after");
        println!(
            "bought through the engine in {:.1} s; all IPs seen and posted {:.1} s later",
            self.buying.as_secs_f64(),
            self.settling.as_secs_f64()
        );
        println!(
            "DescribeInstances per round, all {INSTANCES} due: {} calls (simulator log: {}, at most {} ids each), round took {:.2} s",
            self.full_round_calls,
            self.full_round_logged,
            self.full_round_largest,
            self.full_round_time.as_secs_f64()
        );
        println!(
            "DescribeInstances per sweep at the 60 s interval: {} calls for {} instance polls in {:.0} s (ideal {})",
            self.sweep_calls,
            self.sweep_polls,
            self.sweep_window.as_secs_f64(),
            INSTANCES.div_ceil(100)
        );
        println!(
            "RequestLimitExceeded answers during the whole run (retried): {:?}",
            self.limited
        );
        let n = self.recorded.len();
        let (r50, r99, rmax) = (
            quantile(&mut self.recorded, 0.5),
            quantile(&mut self.recorded, 0.99),
            quantile(&mut self.recorded, 1.0),
        );
        let (p50, p99, pmax) = (
            quantile(&mut self.posted, 0.5),
            quantile(&mut self.posted, 0.99),
            quantile(&mut self.posted, 1.0),
        );
        println!(
            "public IP visible -> notice recorded ({n} IPs): median {:.2} s, p99 {:.2} s, max {:.2} s",
            secs(r50),
            secs(r99),
            secs(rmax)
        );
        println!(
            "public IP visible -> notice posted: median {:.2} s, p99 {:.2} s, max {:.2} s",
            secs(p50),
            secs(p99),
            secs(pmax)
        );
        println!("posts {}, card edits {}", self.posts, self.edits);
        println!(
            "peak memory (VmHWM): cvmbot {} after buying, {} after tracking every IP and posting 20,000 notices, \
             {} at the end (with the bench's own measuring); simulator {}",
            mib(self.peak_bought),
            mib(self.peak_tracking),
            mib(own_peak),
            mib(sim_peak)
        );
    }
}

async fn run(url: &str) -> anyhow::Result<Figures> {
    let control = Control::new(url);
    control
        .post(
            &format!("accounts/{DEFAULT_SECRET_ID}"),
            json!({ "cash_fen": 10_000_000_000i64 }),
        )
        .await?;
    for zone in ZONES {
        control
            .post("stock", json!({ "zone": zone, "instance_type": TYPE, "stock": 5000 }))
            .await?;
    }
    let dir = tempfile::tempdir()?;
    let config = config(url, &dir.path().join("cvmbot.db").display().to_string())?;
    let app = App::build(config.clone(), Clock::System).await?;
    let settings = config.workers.clone();
    let notifier = Arc::new(TimingNotifier::default());
    let workers = app.start(notifier.clone(), TimeStyle::Utc).await;

    let started = Instant::now();
    buy(&app.desk).await?;
    let buying = started.elapsed();
    let peak_bought = peak_kib("/proc/self/status");
    eprintln!(
        "bought {INSTANCES} instances in {:.1} s; waiting for their IPs",
        buying.as_secs_f64()
    );
    wait_until(
        "every IP seen and every notice posted",
        Duration::from_secs(900),
        || async {
            let rows = tracked(&app.desk).await?;
            let unsent = app.desk.outbox(None).await?.iter().any(|n| n.sent_at.is_none());
            Ok(rows.len() == INSTANCES && rows.iter().all(|r| r.public_ip_at.is_some()) && !unsent)
        },
    )
    .await?;
    let settling = started.elapsed() - buying;
    // Before the bench loads the outbox, the simulator's instances and its request log to measure.
    let peak_tracking = peak_kib("/proc/self/status");
    let (recorded, posted) = ip_delays(&app.desk, &control, &notifier).await?;

    eprintln!("waiting for every instance to reach the longest interval");
    let longest = settings.tracker.max;
    wait_until(
        "every instance at the longest interval",
        Duration::from_secs(600),
        || async { Ok(tracked(&app.desk).await?.iter().all(|r| r.poll_interval >= longest)) },
    )
    .await?;
    let mut limited = BTreeMap::new();
    rate_limited(&control, &mut limited).await?;
    control.clear_requests().await?;
    tokio::time::sleep(longest).await;
    let sweep = describe_calls(&control).await?;
    rate_limited(&control, &mut limited).await?;
    workers.shutdown().await;

    control.clear_requests().await?;
    let later = Clock::manual(OffsetDateTime::now_utc() + Duration::from_secs(3600));
    let desk = App::with_store(config, app.store().clone(), later).await?.desk;
    let round_started = Instant::now();
    let full_round_calls = Tracker::new(desk, settings.tracker.clone()).round().await?;
    let full_round_time = round_started.elapsed();
    let full = describe_calls(&control).await?;
    rate_limited(&control, &mut limited).await?;
    Ok(Figures {
        buying,
        settling,
        full_round_calls,
        full_round_logged: full.len(),
        full_round_largest: full.iter().copied().max().unwrap_or(0),
        full_round_time,
        sweep_calls: sweep.len(),
        sweep_polls: sweep.iter().sum(),
        sweep_window: longest,
        recorded,
        posted,
        posts: notifier.post_count(),
        edits: notifier.edit_count(),
        limited,
        peak_bought,
        peak_tracking,
    })
}

fn config(sim_url: &str, db_path: &str) -> anyhow::Result<Config> {
    let text = format!(
        r#"
[database]
url = "sqlite://{db_path}"
[tencent]
endpoint = "{sim_url}"
[policy]
requesters = {{ anyone = true }}
approvers = {{ roles = [900] }}
max_count = {PER_REQUEST}
tiers = [{{ up_to = "100000000", approvals = 1 }}]
"#
    );
    let env = BTreeMap::from([
        ("TENCENTCLOUD_SECRET_ID".to_owned(), DEFAULT_SECRET_ID.to_owned()),
        ("TENCENTCLOUD_SECRET_KEY".to_owned(), DEFAULT_SECRET_KEY.to_owned()),
    ]);
    Ok(Config::load_layered(&[("the bench settings", &text)], None, &env)?)
}

/// Files, shows and approves every request; the running submitter buys them.
async fn buy(desk: &Desk) -> anyhow::Result<()> {
    let requests = INSTANCES / PER_REQUEST;
    stream::iter(0..requests)
        .map(|n| async move {
            let form = PurchaseForm::new(BillingKind::PayAsYouGo)
                .with("zone", ZONES[n % ZONES.len()])
                .with("type", TYPE)
                .with("image", IMAGE)
                .with("bandwidth", "1")
                .with("count", PER_REQUEST.to_string());
            let origin = Origin {
                guild_id: Some(GuildId::new(1)),
                channel_id: Some(CHANNEL),
            };
            let id = desk.create(&person("alice"), &form, origin).await?.record.id;
            desk.attach_message(id, CHANNEL, MessageId::new(100_000 + id.get() as u64), None)
                .await?;
            let ballot = Ballot {
                approve: true,
                reason: None,
                seen_hash: None,
                via: cvmbot::domain::VoteVia::Console,
            };
            desk.vote(id, &person("bob"), &ballot).await?;
            Ok::<(), cvmbot::desk::DeskError>(())
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .context("filing and approving")?;
    wait_until("every request bought", Duration::from_secs(600), || async {
        Ok(tracked(desk).await?.len() == INSTANCES)
    })
    .await
}

/// Every watched instance.
async fn tracked(desk: &Desk) -> anyhow::Result<Vec<InstanceRecord>> {
    Ok(desk.due_instances(far_future(), 1_000_000).await?)
}

fn far_future() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::from_secs(365 * 86_400)
}

/// For each instance: from the wall time its IP became visible in the simulator to the notice
/// that carried it being recorded (its observation time) and being posted, ms.
async fn ip_delays(desk: &Desk, control: &Control, notifier: &TimingNotifier) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let visible: HashMap<String, i64> = control
        .get::<Vec<InstanceView>>("instances")
        .await?
        .into_iter()
        .filter_map(|i| Some((i.instance_id, i.public_ip_visible?.wall_ms)))
        .collect();
    let posted = notifier.posted();
    let (mut recorded_delays, mut posted_delays) = (Vec::new(), Vec::new());
    for row in desk.outbox(None).await? {
        let body: serde_json::Value = serde_json::from_str(&row.body)?;
        let carries_ip = match body["kind"].as_str() {
            Some("public_ip") => true,
            Some("running") => body["public_ips"].as_array().is_some_and(|ips| !ips.is_empty()),
            _ => false,
        };
        let instance = body["instance_id"].as_str().unwrap_or_default();
        let (true, Some(shown)) = (carries_ip, visible.get(instance)) else {
            continue;
        };
        recorded_delays.push(cvmbot::store::to_ms(row.created_at) - shown);
        if let Some(at) = posted.get(&row.dedupe_key) {
            posted_delays.push(at - shown);
        }
    }
    Ok((recorded_delays, posted_delays))
}

/// The number of ids of each DescribeInstances call in the simulator's log.
async fn describe_calls(control: &Control) -> anyhow::Result<Vec<usize>> {
    let log: Vec<LoggedRequest> = control.get("requests").await?;
    Ok(log
        .iter()
        .filter(|r| r.action == "DescribeInstances")
        .map(|r| r.params["InstanceIds"].as_array().map_or(0, Vec::len))
        .collect())
}

/// Counts, per action, the calls in the simulator's log refused for going over a rate limit.
async fn rate_limited(control: &Control, counts: &mut BTreeMap<String, usize>) -> anyhow::Result<()> {
    let log: Vec<LoggedRequest> = control.get("requests").await?;
    for request in log.iter().filter(|r| r.response.starts_with("RequestLimitExceeded")) {
        *counts.entry(request.action.clone()).or_default() += 1;
    }
    Ok(())
}

/// Checks `done` every second until it holds; fails after `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, done: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    while !done().await? {
        anyhow::ensure!(started.elapsed() < limit, "gave up after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}
