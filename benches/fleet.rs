//! Fleet figures under steady reclamation: `cargo bench --bench fleet` prints them (a program,
//! not a timed test). Options: `-- --servers 500 --hours 24 --every 10m --percent 10` (the
//! defaults).
//!
//! In one process: the simulator (seed 7, its clock moved only by the bench, its rate limits at
//! Tencent's documented values: RunInstances 10/s, DescribeInstances 40/s), cvmbot built by
//! `App::build` on a SQLite file in a temporary directory, with its own client limiter on as in
//! production, on a manual clock that moves with the simulator's. Alice files a fleet of
//! `--servers` spot servers bidding 0.2 CNY/h, bob approves it, and it is tended until every
//! server is RUNNING. The market is set to 0.1 CNY/h and the simulator's random walk (±5% every
//! 5 minutes) is capped at 80% of the bid, so the market never outbids the fleet: every loss is
//! a reclaim the bench makes. Then, for `--hours` of simulated time, every `--every` the
//! simulator reclaims `--percent` of the fleet's running and pending servers.
//!
//! A step runs, at one simulated instant: the reclaims due, a tracker round, a fleets pass (after
//! the tracker, as the tracker's wake-up starts one at once in production) and a dispatcher pass
//! to a recording chat; then both clocks move on. While a slot is not filled or a server is
//! PENDING at the simulator, steps are at most the fleets worker's interval (5 s) and end sooner
//! at the tracker's next poll, a reclaim or a fleet's retry; otherwise the step jumps straight to
//! the next of those. No step is shorter than 1 s (the tracker's longest sleep). Simulated time
//! stands still while a pass runs, so every latency below is simulated time: the wall time the
//! passes take (RunInstances is paced at 10 per 1.1 s) is printed apart and would add to it.
//!
//! Printed: the time from cvmbot seeing a server gone (`gone_at`) and from the simulator
//! reclaiming it to the replacement in the same slot seen RUNNING (`running_at`); Tencent calls
//! per refill from the simulator's request log; the most servers running or pending at the
//! simulator at any step against the fleet's size; the day's charges at the simulator against the
//! budget and cvmbot's own estimate; chat posts and card edits; wall time of the run, of the
//! fleets and dispatcher passes and of the fleet's view; the load average; peak memory (VmHWM,
//! cvmbot and the simulator together).

#[path = "fleet/drive.rs"]
mod drive;
#[path = "fleet/figures.rs"]
mod figures;
#[path = "fleet/report.rs"]
mod report;
#[path = "fleet/setup.rs"]
mod setup;

use anyhow::{Context, ensure};
use clap::Parser;
use cvmbot::app::App;
use cvmbot::chat::render::TimeStyle;
use cvmbot::chat::{Dispatcher, RecordingNotifier};
use cvmbot::clock::Clock;
use cvmbot::sim::{DEFAULT_SECRET_ID, Simulator};
use cvmbot::workers::Tracker;
use drive::{Driver, Schedule, Seen};
use report::{Day, Launch, Money, Report};
use rust_decimal::Decimal;
use setup::{Market, START};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The fleet bench's options.
#[derive(Parser)]
struct Args {
    /// Servers the fleet keeps.
    #[arg(long, default_value_t = 500)]
    servers: u32,
    /// Simulated hours of reclamation.
    #[arg(long, default_value_t = 24.0)]
    hours: f64,
    /// Simulated time between reclaims (30s, 10m, 1h).
    #[arg(long, default_value = "10m", value_parser = cvmbot::domain::duration::parse_duration)]
    every: Duration,
    /// Share of the fleet's servers each reclaim takes, percent (rounded down).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
    percent: u32,
    /// Given by `cargo bench`.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.servers >= 1, "--servers must be at least 1");
    // cvmbot's estimate is the fleet's spend since the start of the calendar month.
    ensure!(
        args.hours.is_finite() && args.hours > 0.0 && args.hours <= 720.0,
        "--hours must be a number above 0 and at most 720 (the run stays within one month)"
    );
    ensure!(!args.every.is_zero(), "--every must be longer than 0");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(run(&args))?;
    report.print();
    Ok(())
}

async fn run(args: &Args) -> anyhow::Result<Report> {
    let load_at_start = figures::load_average();
    let started = Instant::now();
    let market = Market::chosen();
    let sim_config = setup::sim_config(&market)?;
    let sim_limits = sim_config.rate_limits.clone();
    let sim = Simulator::start(sim_config, "127.0.0.1:0".parse()?).await?;
    setup::provision(&sim, args.servers, &market)?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("cvmbot.db");
    let config = setup::config(sim.url(), &db.display().to_string(), args.servers)?;
    let start = OffsetDateTime::parse(START, &time::format_description::well_known::Rfc3339)?;
    let clock = Clock::manual(start);
    let app = App::build(config.clone(), clock.clone()).await?;
    let notifier = Arc::new(RecordingNotifier::default());
    let fleet = setup::start_fleet(&app.desk, args.servers, &market).await?;
    let mut driver = Driver {
        tracker: Tracker::new(app.desk.clone(), config.workers.tracker.clone()),
        dispatcher: Dispatcher::new(
            app.desk.clone(),
            notifier.clone(),
            config.chat.alert_channel,
            TimeStyle::Utc,
        ),
        busy_step: config.workers.fleets_interval,
        sim,
        app,
        clock,
        fleet,
        seen: Seen::default(),
    };

    let launch = launch(&mut driver, args.servers).await?;
    let day = day(&mut driver, args, &notifier).await?;
    let limiter = cvmbot::tencent::limiter::RateLimiter::new(&config.tencent.rate_limits);
    let client_limits = ["RunInstances", "DescribeInstances"].map(|a| (a, limiter.rate(a)));
    let sim_limits = ["RunInstances", "DescribeInstances"].map(|a| (a, sim_limits.limit_for(a).unwrap_or(0)));
    driver.app.store().close().await;
    let Driver { sim, seen, .. } = driver;
    sim.shutdown().await;
    Ok(Report {
        servers: args.servers,
        hours: args.hours,
        every: args.every,
        percent: args.percent,
        bid: market.bid,
        market_start: market.start,
        market_ceiling: market.ceiling,
        market_volatility: market.volatility,
        market_step_secs: market.step_secs,
        busy_step: config.workers.fleets_interval,
        client_limits,
        sim_limits,
        launch,
        day,
        seen,
        wall: started.elapsed(),
        load_at_start,
        load_at_end: figures::load_average(),
        peak_kib: figures::peak_kib(),
    })
}

/// Tends the new fleet until cvmbot sees every server RUNNING.
async fn launch(driver: &mut Driver, servers: u32) -> anyhow::Result<Launch> {
    let started = Instant::now();
    let from = driver.now();
    let limit = from + Duration::from_secs(3600);
    let mut none = Schedule::none(from);
    loop {
        let at = driver.now();
        driver.step(&mut none, limit).await?;
        let view = driver.app.desk.view(driver.fleet).await?;
        if view.fleet.context("the fleet's view")?.running == servers {
            let mut calls = BTreeMap::new();
            driver.drain_log(&mut calls);
            return Ok(Launch {
                took: Duration::try_from(at - from).unwrap_or_default(),
                wall: started.elapsed(),
                calls,
                passes: driver.seen.fleet_passes.len(),
                peak_kib: figures::peak_kib(),
            });
        }
        ensure!(driver.now() < limit, "the fleet was not whole within an hour");
    }
}

/// The simulated day of reclaims.
async fn day(driver: &mut Driver, args: &Args, notifier: &RecordingNotifier) -> anyhow::Result<Day> {
    let started = Instant::now();
    let from = driver.now();
    let until = from + Duration::from_secs_f64(args.hours * 3600.0);
    let before = driver
        .app
        .desk
        .view(driver.fleet)
        .await?
        .fleet
        .context("the fleet's view")?;
    let balance_before = balance(&driver.sim)?;
    let chat_before = notifier.recorded().len();
    let first_pass = driver.seen.fleet_passes.len();
    let mut schedule = Schedule {
        next: Some(from + args.every).filter(|at| *at < until),
        end: until,
        every: args.every,
        percent: args.percent,
    };
    let mut calls = BTreeMap::new();
    let (mut reclaims, mut hour) = (0, 1);
    while driver.now() < until {
        driver.step(&mut schedule, until).await?;
        if driver.seen.reclaims != reclaims {
            reclaims = driver.seen.reclaims;
            driver.drain_log(&mut calls);
        }
        if driver.now() >= from + Duration::from_secs(3600 * hour) {
            eprintln!(
                "simulated hour {hour}: {reclaims} reclaims so far, {:.0} s of wall time",
                started.elapsed().as_secs_f64()
            );
            hour += 1;
        }
    }
    driver.drain_log(&mut calls);
    let viewing = Instant::now();
    let view = driver.app.desk.view(driver.fleet).await?;
    let view_wall = viewing.elapsed();
    let after = view.fleet.clone().context("the fleet's view")?;
    // Every server the fleet ever had (its card shows only the ones it has now).
    let history = driver.app.store().session().await?.instances_of(driver.fleet).await?;
    let refills = figures::refills(&history, &driver.seen.reclaimed_at, from);
    Ok(Day {
        refills,
        calls,
        wall: started.elapsed(),
        first_pass,
        money: Money {
            charged_fen: balance_before - balance(&driver.sim)?,
            cvmbot_estimate: after.spent_this_month.amount() - before.spent_this_month.amount(),
            budget_per_month: after.budget_per_month.amount(),
        },
        chat: notifier.recorded().split_off(chat_before),
        before: before.record,
        after: after.record,
        running_at_end: after.running,
        view_wall,
        rows: view.instances.len(),
    })
}

/// Cash less debt of the default account, fen.
fn balance(sim: &Simulator) -> anyhow::Result<Decimal> {
    let account = sim.account(DEFAULT_SECRET_ID).context("the default account")?;
    Ok(account.cash_account_balance - account.owe_amount)
}
