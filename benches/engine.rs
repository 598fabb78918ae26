//! Engine throughput: purchase requests through create → approve → submit against the
//! simulator, on SQLite and (when `POSTGRES_TEST_URL` is set) PostgreSQL. Prints the
//! throughput and p50/p99 per step with their sample counts and the load average, and checks at
//! the simulator that none was lost or bought twice.
//!
//! Run: `cargo bench --bench engine -- --requests 1000 --limited 1000` (release; those are the
//! defaults). The store runs with the default pool (8 connections) and is warmed up with
//! `--in-flight` requests first (not counted), so no figure is a connection being opened.
//!
//! Two ceilings are printed. cvmbot's own: the simulator's and the client's rate limits lifted.
//! Tencent's: on SQLite, `--limited` requests with the simulator and the client at Tencent's
//! documented limits (RunInstances 10/s, and the dry run at filing is a RunInstances call too, so
//! about 5 purchases a second is all an account gets; `--limited 0` skips it).

use clap::Parser;
use cvmbot::app::App;
use cvmbot::clock::Clock;
use cvmbot::config::Config;
use cvmbot::desk::{Ballot, Desk, Origin};
use cvmbot::domain::{BillingKind, Person, PurchaseForm, RequestState, RoleId, UserId};
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, SimConfig, Simulator};
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

/// The engine bench's options.
#[derive(Parser, Clone, Copy)]
struct Args {
    /// Requests per backend with the rate limits lifted.
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 32)]
    in_flight: usize,
    /// Requests on SQLite at Tencent's rate limits (0: skip).
    #[arg(long, default_value_t = 1000)]
    limited: usize,
    /// Given by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Which limits the run is under.
#[derive(Clone, Copy, PartialEq)]
enum Limits {
    /// None: cvmbot's own ceiling.
    Lifted,
    /// Tencent's documented ones, at the simulator and in the client.
    Tencent,
}

/// The load average over the last minute.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn config(sim_url: &str, db_url: &str, limits: Limits) -> Config {
    let lifted = match limits {
        Limits::Lifted => {
            "rate_limits = { RunInstances = 0, InquiryPriceRunInstances = 0, DescribeInstances = 0, \
             DescribeAccountBalance = 0, default = 0 }"
        }
        Limits::Tencent => "",
    };
    let text = format!(
        r#"
[database]
url = "{db_url}"
[tencent]
endpoint = "{sim_url}"
{lifted}
[policy]
approvers = {{ roles = [900] }}
max_count = 10
tiers = [{{ up_to = "1000000", approvals = 1 }}]
"#
    );
    let env = BTreeMap::from([
        ("TENCENTCLOUD_SECRET_ID".to_owned(), DEFAULT_SECRET_ID.to_owned()),
        ("TENCENTCLOUD_SECRET_KEY".to_owned(), DEFAULT_SECRET_KEY.to_owned()),
    ]);
    Config::load_layered(&[("the bench settings", &text)], None, &env).expect("bench configuration")
}

struct Timings {
    create: Vec<Duration>,
    approve: Vec<Duration>,
    submit: Vec<Duration>,
}

async fn one(desk: Desk, n: usize) -> (Duration, Duration, Duration) {
    let requester = Person {
        id: UserId::new(10_000 + n as u64),
        name: format!("requester-{n}"),
        roles: vec![],
    };
    let approver = Person {
        id: UserId::new(1),
        name: "approver".into(),
        roles: vec![RoleId::new(900)],
    };
    let form = PurchaseForm::new(BillingKind::PayAsYouGo)
        .with("zone", "ap-guangzhou-3")
        .with("type", "S5.SMALL2")
        .with("image", "img-487zeit5");
    let started = Instant::now();
    let view = desk.create(&requester, &form, Origin::default()).await.expect("filed");
    let created = started.elapsed();
    let id = view.record.id;
    let started = Instant::now();
    let ballot = Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Console,
    };
    let outcome = desk.vote(id, &approver, &ballot).await.expect("approved");
    assert_eq!(outcome.decided, Some(RequestState::Approved));
    let approved = started.elapsed();
    let started = Instant::now();
    let submitted = desk.submit(id).await.expect("submitted");
    assert!(
        matches!(submitted, cvmbot::desk::SubmitOutcome::Submitted(_)),
        "{submitted:?}"
    );
    (created, approved, started.elapsed())
}

async fn run(backend: &str, db_url: String, args: Args, limits: Limits, requests: usize) {
    let mut sim_config = SimConfig {
        seed: Some(1),
        speed: 0.0,
        ..SimConfig::default()
    };
    sim_config.rate_limits.enabled = limits == Limits::Tencent;
    // Room for every request and the warm-up, whatever their number.
    let wanted = u32::try_from(requests + args.in_flight).expect("a count that fits");
    sim_config.quota.postpaid_per_zone = sim_config.quota.postpaid_per_zone.max(wanted);
    let sim = Simulator::start(sim_config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("simulator");
    sim.control()
        .set_stock("ap-guangzhou-3", "S5.SMALL2", wanted, 0)
        .expect("stock");
    let app = App::build(config(sim.url(), &db_url, limits), Clock::System)
        .await
        .expect("app");
    let desk = app.desk.clone();
    // Warm-up: the pool's connections opened and the statements prepared, not counted.
    stream::iter(requests..requests + args.in_flight)
        .map(|n| one(desk.clone(), n))
        .buffer_unordered(args.in_flight)
        .collect::<Vec<_>>()
        .await;
    sim.control().clear_requests();
    let started = Instant::now();
    let results: Vec<(Duration, Duration, Duration)> = stream::iter(0..requests)
        .map(|n| one(desk.clone(), n))
        .buffer_unordered(args.in_flight)
        .collect()
        .await;
    let total = started.elapsed();
    let load = load_average();
    let mut t = Timings {
        create: vec![],
        approve: vec![],
        submit: vec![],
    };
    for (c, a, s) in results {
        t.create.push(c);
        t.approve.push(a);
        t.submit.push(s);
    }
    let purchases: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances" && r.params.get("DryRun").is_none())
        .collect();
    let limited = sim
        .requests()
        .iter()
        .filter(|r| r.response.starts_with("RequestLimitExceeded"))
        .count();
    let tokens: HashSet<_> = purchases.iter().filter_map(|r| r.client_token.clone()).collect();
    let instances = sim.instances().len() - args.in_flight;
    let under = match limits {
        Limits::Lifted => "rate limits lifted: cvmbot's own ceiling".to_owned(),
        Limits::Tencent => {
            "at Tencent's rate limits (RunInstances 10/s, a dry run at filing and the purchase)".to_owned()
        }
    };
    println!(
        "engine/{backend}, {under}: {requests} requests, {} in flight, in {:.2} s = {:.1} requests/s; load {load}",
        args.in_flight,
        total.as_secs_f64(),
        requests as f64 / total.as_secs_f64()
    );
    for (step, mut times) in [("create", t.create), ("approve", t.approve), ("submit", t.submit)] {
        times.sort();
        println!(
            "  {step:<8} p50 {:>8.1} ms   p99 {:>8.1} ms   ({} samples)",
            percentile(&times, 0.50).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0,
            times.len()
        );
    }
    println!(
        "  at the simulator: {} RunInstances purchases, {} distinct ClientTokens, {} instances (expected {requests} each: none lost, none twice)",
        purchases.len(),
        tokens.len(),
        instances
    );
    println!("  RequestLimitExceeded answers (retried): {limited}");
    assert_eq!(
        (purchases.len(), tokens.len(), instances),
        (requests, requests, requests)
    );
    app.store().close().await;
    sim.shutdown().await;
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        run("sqlite", sqlite("bench.db"), args, Limits::Lifted, args.requests).await;
        match std::env::var("POSTGRES_TEST_URL") {
            Ok(server) => {
                let schema = format!("cvmbot_bench_{:08x}", cvmbot::random::entropy() as u32);
                let pool = sqlx::PgPool::connect(&server).await.expect("PostgreSQL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&pool)
                    .await
                    .expect("schema");
                let separator = if server.contains('?') { '&' } else { '?' };
                run(
                    "postgres",
                    format!("{server}{separator}options=-c%20search_path%3D{schema}"),
                    args,
                    Limits::Lifted,
                    args.requests,
                )
                .await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&pool)
                    .await
                    .expect("drop");
            }
            Err(_) => println!("engine/postgres: skipped (set POSTGRES_TEST_URL to run it)"),
        }
        if args.limited > 0 {
            run("sqlite", sqlite("limited.db"), args, Limits::Tencent, args.limited).await;
        }
    });
}
