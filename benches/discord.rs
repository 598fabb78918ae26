//! Figures for the Discord adapter under a burst: 500 concurrent `/cvm buy spot` interactions
//! sent through the fake Discord to a real `cvmbot run --simulate` process. Prints the time
//! from gateway dispatch to the interaction callback the fake received (p50, p99, max; Discord
//! allows 3,000 ms, the target is p99 ≤ 50 ms), how long the whole burst took to be filed and
//! posted, and the bot's peak resident memory (VmHWM from /proc). Not a timed test: a program.
//!
//! Two bursts: "live", injected one by one while the bot is connected (the fake's own work of
//! building and checking 500 interactions then shares the two cores with the bot), and "back to
//! back", all 500 queued before the gateway sends the first, so the frames reach the bot one
//! after the other with the fake otherwise idle.
//!
//! `cargo bench --bench discord` (release), or `cargo test --bench discord` for a debug run.

use fake_discord::{FakeDiscord, InteractionHandle};
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BURST: usize = 500;
const REQUESTER: u64 = 101;
const APPROVER: u64 = 102;

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

/// Starts `cvmbot run --simulate` against the fake, configured only through the environment.
fn spawn_bot(fake: &FakeDiscord, approver_role: u64, database: &std::path::Path) -> anyhow::Result<Child> {
    let child = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
        .args(["run", "--simulate"])
        .env("DISCORD_TOKEN", fake.token())
        .env("CVMBOT_DISCORD__API_BASE", fake.rest_url())
        .env("CVMBOT_DISCORD__GUILD_IDS", format!("[\"{}\"]", fake.guild_id()))
        .env("CVMBOT_DATABASE__URL", format!("sqlite://{}", database.display()))
        .env(
            "CVMBOT_POLICY__APPROVERS",
            format!("{{ roles = [\"{approver_role}\"] }}"),
        )
        .env("CVMBOT_LOG__LEVEL", "error")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(child)
}

/// A field of /proc/<pid>/status in kB (VmHWM: peak resident set; VmRSS: now).
fn proc_status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn run() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let approver_role = fake.add_role("approver", 0);
    fake.add_member(REQUESTER, "alice", &[]);
    fake.add_member(APPROVER, "bob", &[approver_role]);
    let dir = tempfile::tempdir()?;
    let mut bot = spawn_bot(&fake, approver_role, &dir.path().join("bench.db"))?;
    let pid = bot.id();
    let result = bursts(&fake, pid).await;
    let peak = proc_status_kb(pid, "VmHWM:");
    let now = proc_status_kb(pid, "VmRSS:");
    bot.kill()?;
    bot.wait()?;
    let reports = result?;
    println!("discord burst: {BURST} concurrent /cvm buy spot through the fake Discord, twice");
    println!("  bot: a separate `cvmbot run --simulate` process (SQLite, in-process simulator)");
    for (label, report) in &reports {
        println!("  {label}:");
        println!(
            "    gateway frame written → callback arrived at the fake: {}  (Discord's limit 3,000 ms; \
             target p99 ≤ 50 ms)",
            report.bot
        );
        println!(
            "    interaction created → callback accepted by the fake: {}  (injection took {})",
            report.end_to_end,
            ms(report.injection)
        );
        println!(
            "    unanswered: {}; every request quoted, dry-run, filed and its card posted after {} (bounded by \
             the client-side Tencent rate limits, 10 quotes and 10 dry runs per second)",
            report.unanswered,
            ms(report.all_posted)
        );
    }
    println!(
        "  bot memory: peak {} MiB (VmHWM), {} MiB at the end (VmRSS)",
        peak.map_or("?".into(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
        now.map_or("?".into(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
    );
    fake.assert_no_problems();
    Ok(())
}

/// p50, p99 and max of some durations.
struct Spread {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

impl Spread {
    fn of(mut samples: Vec<Duration>) -> anyhow::Result<Spread> {
        anyhow::ensure!(!samples.is_empty(), "nothing to measure");
        samples.sort();
        Ok(Spread {
            p50: percentile(&samples, 50.0),
            p99: percentile(&samples, 99.0),
            max: *samples.last().unwrap_or(&Duration::ZERO),
        })
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50 {}  p99 {}  max {}", ms(self.p50), ms(self.p99), ms(self.max))
    }
}

struct Report {
    injection: Duration,
    bot: Spread,
    end_to_end: Spread,
    unanswered: usize,
    all_posted: Duration,
}

/// Warms the bot up with one request, then runs the live burst and the back-to-back burst.
async fn bursts(fake: &FakeDiscord, pid: u32) -> anyhow::Result<Vec<(&'static str, Report)>> {
    fake.wait_until_ready(Duration::from_secs(60)).await;
    fake.wait_for_commands(Some(fake.guild_id()), Duration::from_secs(60))
        .await;
    let warm = buy(fake, "warm-up");
    fake.interaction_response(&warm, Duration::from_secs(10)).await;
    fake.wait_for_interaction(&warm, "filed", |o| !o.thinking, Duration::from_secs(30))
        .await;
    println!(
        "  bot memory when idle after one request: {} MiB (VmRSS)",
        proc_status_kb(pid, "VmRSS:").map_or("?".into(), |kb| format!("{:.1}", kb as f64 / 1024.0))
    );
    let live = burst(fake, false).await?;
    let back_to_back = burst(fake, true).await?;
    Ok(vec![
        ("live (injected while connected)", live),
        ("back to back (all queued, then sent)", back_to_back),
    ])
}

/// One burst of [`BURST`] requests; `queued`: all queued before the first is sent.
async fn burst(fake: &FakeDiscord, queued: bool) -> anyhow::Result<Report> {
    let started = Instant::now();
    let handles: Vec<InteractionHandle> = if queued {
        let channel = fake.default_channel_id();
        let commands: Vec<_> = (0..BURST)
            .map(|i| (REQUESTER, channel, "cvm buy spot", buy_options(&format!("burst {i}"))))
            .collect();
        fake.slash_command_burst(&commands)
    } else {
        (0..BURST).map(|i| buy(fake, &format!("burst {i}"))).collect()
    };
    let injection = started.elapsed();
    // One wait for all (it fails if any callback came after Discord's 3 s); per-interaction
    // waits would make this process compete with the bot for the CPU while it is measured.
    fake.assert_interactions_answered(Duration::from_secs(60)).await;
    let end_to_end: Vec<Duration> = handles
        .iter()
        .filter_map(|h| fake.interaction(h).acknowledged_after)
        .collect();
    let unanswered = BURST - end_to_end.len();
    let bot = bot_latencies(fake, &handles);
    for handle in &handles {
        fake.wait_for_interaction(handle, "the filing answer", |o| !o.thinking, Duration::from_secs(300))
            .await;
    }
    Ok(Report {
        injection,
        bot: Spread::of(bot)?,
        end_to_end: Spread::of(end_to_end)?,
        unanswered,
        all_posted: started.elapsed(),
    })
}

/// For each interaction: from the moment its INTERACTION_CREATE frame was written to the bot's
/// socket to the moment the bot's first callback request arrived at the fake.
fn bot_latencies(fake: &FakeDiscord, handles: &[InteractionHandle]) -> Vec<Duration> {
    let written: HashMap<String, Duration> = fake
        .dispatches()
        .into_iter()
        .filter(|d| d.name == "INTERACTION_CREATE")
        .filter_map(|d| Some((d.d["id"].as_str()?.to_owned(), d.delivered_at?)))
        .collect();
    let mut arrived: HashMap<String, Duration> = HashMap::new();
    for request in fake.requests_to("POST /interactions/{interaction}/{token}/callback") {
        if let Some(id) = request.path.split('/').nth(4) {
            arrived.entry(id.to_owned()).or_insert(request.at);
        }
    }
    handles
        .iter()
        .filter_map(|h| {
            let id = h.id.to_string();
            Some(arrived.get(&id)?.saturating_sub(*written.get(&id)?))
        })
        .collect()
}

fn buy_options(reason: &str) -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("max-price", json!("0.6")),
        ("zone", json!("ap-guangzhou-3")),
        ("type", json!("S5.MEDIUM4")),
        ("image", json!("img-487zeit5")),
        ("reason", json!(reason)),
    ]
}

fn buy(fake: &FakeDiscord, reason: &str) -> InteractionHandle {
    fake.slash_command(
        REQUESTER,
        fake.default_channel_id(),
        "cvm buy spot",
        &buy_options(reason),
    )
}
