//! Tracker figures at scale: `cargo bench --bench tracker` prints them (a program, not a timed
//! test). Options: `-- --instances 10000 --speed 1`, and the tracker's cadence
//! (`--initial 1s --waiting 1s --max 60s --backoff 1.5`; config/default.toml's when left out), so
//! the scaling and the effect of the cadence can be rerun.
//!
//! `--instances` pay-as-you-go instances with public IPs are bought through the engine (requests
//! of 100: filed, approved, submitted by the running workers) from `cvmbot sim` in a child
//! process, with the simulator's rate limits at Tencent's documented values (DescribeInstances
//! 40/s, RunInstances 10/s) and cvmbot's own client limiter on. The workers run as production runs
//! them (`Workers::spawn`, the system clock). The simulator runs at `--speed`× (1 by default: its
//! public IPs appear 1–5 minutes after purchase, and the tracker's cadence is wall-clock too, so a
//! faster simulator would flatter the delays). Every delay is wall time on both sides (the
//! simulator notes the wall time at which each IP became visible): the delay a user would see.
//!
//! Printed, each figure with its sample count and the load average when it was taken: the delay
//! from an IP becoming visible to its notice being recorded and posted (a message carrying several
//! instances' news counts for each of them); DescribeInstances calls per sweep once every instance
//! backed off to the longest interval, and per round with every instance due at once, next to what
//! a naive poller (one call per instance) would need; RequestLimitExceeded answers of the run;
//! memory: the live heap (every allocation counted by the bench's allocator, freed memory not
//! included) and the resident set (VmHWM, reset at each phase), before buying, while tracking and
//! steady, with the bytes per tracked instance. The bench's own checks while it waits are counts
//! through a connection of its own, so its reading does not weigh on the figures; it reads the
//! outbox and the simulator's instances only after the memory is measured.

#[path = "tracker/support.rs"]
mod support;

use anyhow::Context;
use clap::Parser;
use cvmbot::app::App;
use cvmbot::chat::console::person;
use cvmbot::chat::render::TimeStyle;
use cvmbot::clock::Clock;
use cvmbot::config::Config;
use cvmbot::desk::{Ballot, Desk, Origin};
use cvmbot::domain::{BillingKind, ChannelId, GuildId, MessageId, PurchaseForm};
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, InstanceView, LoggedRequest};
use cvmbot::workers::Tracker;
use futures_util::{StreamExt, TryStreamExt, stream};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Control, Counting, SimProcess, TimingNotifier, load_average, peak_kib, quantile, rss_kib};
use time::OffsetDateTime;

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const PER_REQUEST: usize = 100;
const ZONES: [&str; 4] = ["ap-guangzhou-3", "ap-guangzhou-4", "ap-guangzhou-6", "ap-guangzhou-7"];
const TYPE: &str = "S5.MEDIUM4";
const IMAGE: &str = "img-487zeit5";
const CHANNEL: ChannelId = ChannelId::new(10);
/// Tencent's documented DescribeInstances limit, calls per second.
const DESCRIBE_LIMIT: usize = 40;

/// The tracker bench's options.
#[derive(Parser, Clone)]
struct Args {
    /// Instances to buy and track (in requests of 100).
    #[arg(long, default_value_t = 10_000)]
    instances: usize,
    /// Simulated seconds per wall second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// `tracker.initial_interval` (the default configuration's when left out).
    #[arg(long)]
    initial: Option<String>,
    /// `tracker.waiting_interval`.
    #[arg(long)]
    waiting: Option<String>,
    /// `tracker.max_interval`.
    #[arg(long)]
    max: Option<String>,
    /// `tracker.backoff`.
    #[arg(long)]
    backoff: Option<f64>,
    /// Given by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.instances >= PER_REQUEST && args.instances.is_multiple_of(PER_REQUEST),
        "--instances must be a multiple of {PER_REQUEST}"
    );
    let dir = tempfile::tempdir()?;
    let sim_config = dir.path().join("sim.toml");
    // Quotas above the instances bought, so no purchase is refused for them.
    let per_zone = args.instances.div_ceil(ZONES.len()) + PER_REQUEST;
    std::fs::write(&sim_config, format!("[quota]\npostpaid_per_zone = {per_zone}\n"))?;
    let sim = SimProcess::start(args.speed, 7, &sim_config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let figures = runtime.block_on(run(&args, &sim.url, dir.path()))?;
    let sim_peak = sim.peak_kib();
    drop(sim);
    figures.print(&args, sim_peak);
    Ok(())
}

/// A figure's load average and when it was taken.
struct Load(String);

impl Load {
    fn now() -> Load {
        Load(load_average())
    }
}

impl std::fmt::Display for Load {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "load {}", self.0)
    }
}

/// Memory at one moment: the live heap and the resident set (now and peak since the last reset).
struct Memory {
    live: usize,
    peak_live: usize,
    rss_kib: Option<u64>,
    hwm_kib: Option<u64>,
}

impl Memory {
    fn now() -> Memory {
        Memory {
            live: Counting::live(),
            peak_live: Counting::peak(),
            rss_kib: rss_kib("/proc/self/status"),
            hwm_kib: peak_kib("/proc/self/status"),
        }
    }

    /// Starts a new phase: the peaks are counted from here.
    fn reset() {
        Counting::reset_peak();
        // 5 resets the peak resident set (Linux ≥ 4.0).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

fn kib_mib(kib: Option<u64>) -> String {
    kib.map_or("unknown".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

/// What the run measured.
struct Figures {
    cadence: String,
    buying: Duration,
    settling: Duration,
    full_round_calls: usize,
    full_round_logged: Vec<usize>,
    full_round_time: Duration,
    full_round_load: Load,
    sweep: Vec<usize>,
    sweep_window: Duration,
    sweep_load: Load,
    recorded: Vec<i64>,
    posted: Vec<i64>,
    unposted: usize,
    delays_load: Load,
    posts: usize,
    notices: usize,
    edits: usize,
    limited: BTreeMap<String, usize>,
    before: Memory,
    tracking: Memory,
    tracking_load: Load,
    steady: Memory,
    full_round_memory: Memory,
}

impl Figures {
    fn print(mut self, args: &Args, sim_peak: Option<u64>) {
        let n = args.instances;
        let secs = |ms: i64| ms as f64 / 1000.0;
        println!("cvmbot tracker bench: {n} instances in {} requests", n / PER_REQUEST);
        println!(
            "  simulator at {}x, its rate limits on (DescribeInstances {DESCRIBE_LIMIT}/s, RunInstances 10/s); \
             cvmbot's limiter on",
            args.speed
        );
        println!("  cadence: {}", self.cadence);
        println!(
            "bought through the engine in {:.1} s; every IP seen and posted {:.1} s later",
            self.buying.as_secs_f64(),
            self.settling.as_secs_f64()
        );
        let spread = |values: &mut Vec<i64>| {
            let count = values.len();
            let (p50, p99, max) = (quantile(values, 0.5), quantile(values, 0.99), quantile(values, 1.0));
            format!(
                "median {:.2} s, p99 {:.2} s, max {:.2} s ({count} IPs)",
                secs(p50),
                secs(p99),
                secs(max)
            )
        };
        println!(
            "public IP visible -> notice recorded: {}; {}",
            spread(&mut self.recorded),
            self.delays_load
        );
        println!(
            "public IP visible -> notice posted:   {}; {}{}",
            spread(&mut self.posted),
            self.delays_load,
            if self.unposted > 0 {
                format!("; {} recorded notices were never posted", self.unposted)
            } else {
                String::new()
            }
        );
        println!(
            "  chat: {} messages carrying {} notices, {} card edits",
            self.posts, self.notices, self.edits
        );
        let sweep_polls: usize = self.sweep.iter().sum();
        println!(
            "DescribeInstances per sweep at the longest interval ({:.0} s): {} calls for {sweep_polls} instance polls \
             (ideal {}); a naive poller: {n} calls; {}",
            self.sweep_window.as_secs_f64(),
            self.sweep.len(),
            n.div_ceil(100),
            self.sweep_load
        );
        let largest = self.full_round_logged.iter().copied().max().unwrap_or(0);
        println!(
            "DescribeInstances for one round with all {n} due: {} calls ({} in the simulator's log, at most {largest} \
             ids each) in {:.2} s; a naive poller: {n} calls, {:.1} s at {DESCRIBE_LIMIT}/s; {}",
            self.full_round_calls,
            self.full_round_logged.len(),
            self.full_round_time.as_secs_f64(),
            n as f64 / DESCRIBE_LIMIT as f64,
            self.full_round_load
        );
        println!(
            "RequestLimitExceeded answers during the whole run: {}",
            if self.limited.is_empty() {
                "none".to_owned()
            } else {
                format!("{:?}", self.limited)
            }
        );
        let per = |bytes: usize| (bytes.saturating_sub(self.before.live)) / n;
        println!("memory of cvmbot (live heap counted by allocation; resident set from /proc):");
        println!(
            "  before buying: live {}, resident {}",
            mib(self.before.live),
            kib_mib(self.before.rss_kib)
        );
        println!(
            "  while the IPs came in and were posted: peak live {} ({} B per instance), peak resident {}; {}",
            mib(self.tracking.peak_live),
            per(self.tracking.peak_live),
            kib_mib(self.tracking.hwm_kib),
            self.tracking_load
        );
        println!(
            "  steady, every instance at the longest interval: live {} ({} B per instance), peak live {}, resident {}",
            mib(self.steady.live),
            per(self.steady.live),
            mib(self.steady.peak_live),
            kib_mib(self.steady.rss_kib)
        );
        println!(
            "  one round with every instance due: peak live {} ({} B per instance), peak resident {}",
            mib(self.full_round_memory.peak_live),
            per(self.full_round_memory.peak_live),
            kib_mib(self.full_round_memory.hwm_kib)
        );
        println!("simulator peak resident (VmHWM): {}", kib_mib(sim_peak));
    }
}

async fn run(args: &Args, url: &str, dir: &std::path::Path) -> anyhow::Result<Figures> {
    let n = args.instances;
    let control = Control::new(url);
    control
        .post(
            &format!("accounts/{DEFAULT_SECRET_ID}"),
            json!({ "cash_fen": 100_000_000_000i64 }),
        )
        .await?;
    for zone in ZONES {
        let stock = n.div_ceil(ZONES.len()) + PER_REQUEST;
        control
            .post("stock", json!({ "zone": zone, "instance_type": TYPE, "stock": stock }))
            .await?;
    }
    let db_path = dir.join("cvmbot.db").display().to_string();
    let config = config(args, url, &db_path)?;
    let app = App::build(config.clone(), Clock::System).await?;
    let settings = config.workers.clone();
    let cadence = format!(
        "{:?} after a purchase or a change, x{} per quiet poll, up to {:?} while waiting, {:?} after",
        settings.tracker.initial, settings.tracker.backoff, settings.tracker.waiting, settings.tracker.max
    );
    let counts = Counts::open(&db_path).await?;
    let notifier = Arc::new(TimingNotifier::default());
    let workers = app.start(notifier.clone(), TimeStyle::Utc).await;
    let before = Memory::now();

    let started = Instant::now();
    buy(&app.desk, &counts, n).await?;
    let buying = started.elapsed();
    eprintln!(
        "bought {n} instances in {:.1} s; waiting for their IPs",
        buying.as_secs_f64()
    );
    Memory::reset();
    wait_until(
        "every IP seen and every notice posted",
        Duration::from_secs(1800),
        || async { Ok(counts.without_ip().await? == 0 && counts.unsent().await? == 0) },
    )
    .await?;
    let settling = started.elapsed() - buying;
    let tracking = Memory::now();
    let tracking_load = Load::now();

    eprintln!("waiting for every instance to reach the longest interval");
    let longest = settings.tracker.max;
    wait_until(
        "every instance at the longest interval",
        Duration::from_secs(1200),
        || async { Ok(counts.polled_more_often_than(longest).await? == 0) },
    )
    .await?;
    let mut limited = BTreeMap::new();
    rate_limited(&control, &mut limited).await?;
    control.clear_requests().await?;
    Memory::reset();
    tokio::time::sleep(longest).await;
    let steady = Memory::now();
    let sweep_load = Load::now();
    let sweep = describe_calls(&control).await?;
    rate_limited(&control, &mut limited).await?;

    // Only now the bench reads the outbox and the simulator's instances.
    let delays_load = Load::now();
    let (recorded, posted, unposted) = ip_delays(&app.desk, &control, &notifier).await?;
    workers.shutdown().await;

    control.clear_requests().await?;
    let later = Clock::manual(OffsetDateTime::now_utc() + Duration::from_secs(3600));
    // A store of its own: the workers' store stopped writing when their lease was given up.
    let desk = App::build(config, later).await?.desk;
    Memory::reset();
    let round_started = Instant::now();
    let full_round_calls = Tracker::new(desk, settings.tracker.clone()).round().await?;
    let full_round_time = round_started.elapsed();
    let full_round_memory = Memory::now();
    let full_round_load = Load::now();
    let full_round_logged = describe_calls(&control).await?;
    rate_limited(&control, &mut limited).await?;
    Ok(Figures {
        cadence,
        buying,
        settling,
        full_round_calls,
        full_round_logged,
        full_round_time,
        full_round_load,
        sweep,
        sweep_window: longest,
        sweep_load,
        recorded,
        posted,
        unposted,
        delays_load,
        posts: notifier.post_count(),
        notices: notifier.notice_count(),
        edits: notifier.edit_count(),
        limited,
        before,
        tracking,
        tracking_load,
        steady,
        full_round_memory,
    })
}

fn config(args: &Args, sim_url: &str, db_path: &str) -> anyhow::Result<Config> {
    let mut text = format!(
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
[tracker]
"#
    );
    for (key, value) in [
        ("initial_interval", &args.initial),
        ("waiting_interval", &args.waiting),
        ("max_interval", &args.max),
    ] {
        if let Some(value) = value {
            text.push_str(&format!("{key} = {value:?}\n"));
        }
    }
    if let Some(backoff) = args.backoff {
        text.push_str(&format!("backoff = {backoff}\n"));
    }
    let env = BTreeMap::from([
        ("TENCENTCLOUD_SECRET_ID".to_owned(), DEFAULT_SECRET_ID.to_owned()),
        ("TENCENTCLOUD_SECRET_KEY".to_owned(), DEFAULT_SECRET_KEY.to_owned()),
    ]);
    Ok(Config::load_layered(&[("the bench settings", &text)], None, &env)?)
}

/// Files, shows and approves every request; the running submitter buys them.
async fn buy(desk: &Desk, counts: &Counts, instances: usize) -> anyhow::Result<()> {
    let requests = instances / PER_REQUEST;
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
    wait_until("every request bought", Duration::from_secs(1800), || async {
        Ok(counts.instances().await? == instances)
    })
    .await
}

/// The bench's own read-only connection to cvmbot's database, for counts while it waits.
struct Counts(sqlx::SqlitePool);

impl Counts {
    async fn open(db_path: &str) -> anyhow::Result<Counts> {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db_path)
            .read_only(true);
        let pool = sqlx::pool::PoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Counts(pool))
    }

    async fn count(&self, sql: &'static str) -> anyhow::Result<usize> {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.0).await?;
        Ok(n as usize)
    }

    async fn instances(&self) -> anyhow::Result<usize> {
        self.count("SELECT COUNT(*) FROM instances").await
    }

    async fn without_ip(&self) -> anyhow::Result<usize> {
        self.count("SELECT COUNT(*) FROM instances WHERE public_ip_at IS NULL")
            .await
    }

    async fn unsent(&self) -> anyhow::Result<usize> {
        self.count("SELECT COUNT(*) FROM notifications WHERE sent_at IS NULL")
            .await
    }

    async fn polled_more_often_than(&self, interval: Duration) -> anyhow::Result<usize> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM instances WHERE watching AND poll_interval_ms < ?")
            .bind(interval.as_millis() as i64)
            .fetch_one(&self.0)
            .await?;
        Ok(n as usize)
    }
}

/// For each instance: from the wall time its IP became visible in the simulator to the notice
/// that carried it being recorded (its observation time) and posted, ms; and how many recorded
/// notices carrying an IP were never posted.
async fn ip_delays(
    desk: &Desk,
    control: &Control,
    notifier: &TimingNotifier,
) -> anyhow::Result<(Vec<i64>, Vec<i64>, usize)> {
    let visible: HashMap<String, i64> = control
        .get::<Vec<InstanceView>>("instances")
        .await?
        .into_iter()
        .filter_map(|i| Some((i.instance_id, i.public_ip_visible?.wall_ms)))
        .collect();
    let (mut recorded_delays, mut posted_delays, mut unposted) = (Vec::new(), Vec::new(), 0);
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
        match notifier.posted_at(&row.dedupe_key) {
            Some(at) => posted_delays.push(at - shown),
            None => unposted += 1,
        }
    }
    Ok((recorded_delays, posted_delays, unposted))
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

/// Checks `done` every 200 ms until it holds; fails after `limit`.
async fn wait_until<F, Fut>(what: &str, limit: Duration, done: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    while !done().await? {
        anyhow::ensure!(started.elapsed() < limit, "gave up after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}
