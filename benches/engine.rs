//! Engine throughput: 1,000 purchase requests through create → approve → submit against the
//! simulator, on SQLite and (when `POSTGRES_TEST_URL` is set) PostgreSQL. Prints the
//! throughput and p50/p99 per step, and checks at the simulator that none was lost or bought twice.
//!
//! Run: `cargo bench --bench engine` (release). Tencent's real per-action limits (RunInstances
//! 10/s, and a dry run is a RunInstances call too) would cap a real account at about 5 purchases/s;
//! the simulator's and the client's limits are lifted here to measure cvmbot itself.

use cvmbot::app::App;
use cvmbot::clock::Clock;
use cvmbot::config::Config;
use cvmbot::desk::{Ballot, Desk, Origin};
use cvmbot::domain::{BillingKind, Person, PurchaseForm, RequestState, RoleId, UserId};
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, SimConfig, Simulator};
use futures_util::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

const REQUESTS: usize = 1000;
const IN_FLIGHT: usize = 32;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn config(sim_url: &str, db_url: &str) -> Config {
    let text = format!(
        r#"
[database]
url = "{db_url}"
max_connections = 16
[tencent]
endpoint = "{sim_url}"
rate_limits = {{ RunInstances = 0, InquiryPriceRunInstances = 0, DescribeInstances = 0, DescribeAccountBalance = 0, default = 0 }}
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

async fn run(backend: &str, db_url: String) {
    let mut sim_config = SimConfig {
        seed: Some(1),
        speed: 0.0,
        ..SimConfig::default()
    };
    sim_config.rate_limits.enabled = false;
    let sim = Simulator::start(sim_config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("simulator");
    let app = App::build(config(sim.url(), &db_url), Clock::System)
        .await
        .expect("app");
    let desk = app.desk.clone();
    let started = Instant::now();
    let results: Vec<(Duration, Duration, Duration)> = stream::iter(0..REQUESTS)
        .map(|n| one(desk.clone(), n))
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    let total = started.elapsed();
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
    let tokens: HashSet<_> = purchases.iter().filter_map(|r| r.client_token.clone()).collect();
    let instances = sim.instances().len();
    println!(
        "engine/{backend}: {REQUESTS} requests, {IN_FLIGHT} in flight, in {:.2} s = {:.0} requests/s",
        total.as_secs_f64(),
        REQUESTS as f64 / total.as_secs_f64()
    );
    for (step, mut times) in [("create", t.create), ("approve", t.approve), ("submit", t.submit)] {
        times.sort();
        println!(
            "  {step:<8} p50 {:>7.1} ms   p99 {:>7.1} ms",
            percentile(&times, 0.50).as_secs_f64() * 1000.0,
            percentile(&times, 0.99).as_secs_f64() * 1000.0
        );
    }
    println!(
        "  at the simulator: {} RunInstances purchases, {} distinct ClientTokens, {} instances (expected {REQUESTS} each: none lost, none twice)",
        purchases.len(),
        tokens.len(),
        instances
    );
    assert_eq!(
        (purchases.len(), tokens.len(), instances),
        (REQUESTS, REQUESTS, REQUESTS)
    );
    app.store().close().await;
    sim.shutdown().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        run("sqlite", format!("sqlite://{}", dir.path().join("bench.db").display())).await;
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
                )
                .await;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&pool)
                    .await
                    .expect("drop");
            }
            Err(_) => println!("engine/postgres: skipped (set POSTGRES_TEST_URL to run it)"),
        }
    });
}
