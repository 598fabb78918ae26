//! The printed figures.

use super::drive::{MIN_STEP, Seen, Tally};
use super::figures::{Refills, calls, calls_line, clock_span, rate_limited, spread, wall_spread};
use super::setup::{SEED, TYPE, ZONE};
use cvmbot::chat::notifier::Recorded;
use cvmbot::store::FleetRecord;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::time::Duration;

/// Launching the fleet to full.
pub struct Launch {
    /// Simulated time from the approval to every server seen RUNNING.
    pub took: Duration,
    /// Wall time of that.
    pub wall: Duration,
    /// The calls it made, by action (the filing's price inquiry and dry run included).
    pub calls: BTreeMap<String, Tally>,
    /// Fleets passes it took.
    pub passes: usize,
    /// VmHWM once it was whole, KiB.
    pub peak_kib: Option<u64>,
}

/// Money over the day.
pub struct Money {
    /// What the simulator charged: the account's cash less its debt, before less after, fen.
    pub charged_fen: Decimal,
    /// cvmbot's `spent_this_month`, after less before, CNY.
    pub cvmbot_estimate: Decimal,
    /// The fleet's approved budget per month-equivalent, CNY.
    pub budget_per_month: Decimal,
}

/// The day of reclaims.
pub struct Day {
    /// Each reclamation and its replacement.
    pub refills: Refills,
    /// The calls the simulator received, by action.
    pub calls: BTreeMap<String, Tally>,
    /// Wall time.
    pub wall: Duration,
    /// The first of the day's fleets passes in [`Seen::fleet_passes`].
    pub first_pass: usize,
    /// Money.
    pub money: Money,
    /// What the chat was asked to do.
    pub chat: Vec<Recorded>,
    /// The fleet at the start of the day.
    pub before: FleetRecord,
    /// The fleet at the end.
    pub after: FleetRecord,
    /// Its servers cvmbot saw RUNNING at the end.
    pub running_at_end: u32,
    /// Wall time of the fleet's view (what its card shows) at the end.
    pub view_wall: Duration,
    /// The servers the fleet has now, as that view shows them (it also reads this month's runs
    /// for the spend).
    pub rows: usize,
}

/// Everything printed.
pub struct Report {
    /// Servers the fleet keeps.
    pub servers: u32,
    /// Simulated hours of reclamation.
    pub hours: f64,
    /// Between reclaims.
    pub every: Duration,
    /// Share of the servers each reclaim takes.
    pub percent: u32,
    /// The fleet's bid, CNY per hour.
    pub bid: Decimal,
    /// The market price set at the start.
    pub market_start: Decimal,
    /// The highest price the market's walk may reach.
    pub market_ceiling: Decimal,
    /// The walk's largest relative move per step.
    pub market_volatility: Decimal,
    /// Simulated seconds between its moves.
    pub market_step_secs: u64,
    /// The longest step while something launches.
    pub busy_step: Duration,
    /// cvmbot's client limits in force, per second.
    pub client_limits: [(&'static str, u32); 2],
    /// The simulator's limits in force, per second.
    pub sim_limits: [(&'static str, u32); 2],
    /// Launching to full.
    pub launch: Launch,
    /// The day of reclaims.
    pub day: Day,
    /// What the steps saw.
    pub seen: Seen,
    /// Wall time of the whole run.
    pub wall: Duration,
    /// The load average before anything started.
    pub load_at_start: String,
    /// The load average at the end.
    pub load_at_end: String,
    /// VmHWM at the end, KiB.
    pub peak_kib: Option<u64>,
}

/// A dedupe key's kind: its first part and its last word (`fleet:summary`, `request:card`).
fn kind_of(key: &str) -> String {
    let first = key.split(':').next().unwrap_or(key);
    let last = key.rsplit(':').find(|p| p.parse::<i64>().is_err()).unwrap_or(first);
    if last == first {
        first.to_owned()
    } else {
        format!("{first}:{last}")
    }
}

fn limits(limits: &[(&str, u32)]) -> String {
    limits
        .iter()
        .map(|(action, rate)| format!("{action} {rate}/s"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    /// Prints the figures.
    pub fn print(mut self) {
        println!(
            "cvmbot fleet bench: {} spot servers, {} simulated hours, {}% of them reclaimed every {}",
            self.servers,
            self.hours,
            self.percent,
            clock_span(self.every)
        );
        println!(
            "  in process: the simulator (seed {SEED}, clock moved by the bench, rate limits {}), SQLite in a \
             temporary directory, cvmbot's client limiter on ({})",
            limits(&self.sim_limits),
            limits(&self.client_limits)
        );
        println!(
            "  market {TYPE} in {ZONE}: set to {} CNY/h, walking ±{}% every {} s, capped at {} CNY/h below the {} \
             bid (it never outbids the fleet)",
            self.market_start,
            self.market_volatility * Decimal::ONE_HUNDRED,
            self.market_step_secs,
            self.market_ceiling,
            self.bid
        );
        println!(
            "  steps: while a slot is unfilled or a server PENDING, at most {} s, ending sooner at the next tracker \
             poll, reclaim or fleet retry; otherwise straight to the next of those; at least {} s. Each: the \
             reclaims due, a tracker round, a fleets pass, a dispatcher pass",
            self.busy_step.as_secs(),
            MIN_STEP.as_secs()
        );
        let steps = self.seen.busy_steps + self.seen.quiet_steps;
        println!(
            "  {steps} steps in all ({} busy, {} quiet); load average at start {}",
            self.seen.busy_steps, self.seen.quiet_steps, self.load_at_start
        );
        self.print_launch();
        self.print_refills();
        self.print_calls();
        println!(
            "most servers running or pending at the simulator at once: {} (bound {}, sampled at each of {steps} \
             steps){}",
            self.seen.peak_alive,
            self.servers,
            if self.seen.peak_alive > self.servers as usize {
                " — ABOVE THE BOUND"
            } else {
                ""
            }
        );
        self.print_money();
        self.print_chat();
        self.print_wall();
    }

    fn print_launch(&self) {
        let launch = &self.launch;
        println!(
            "launch: all {} seen RUNNING {} (simulated) after the approval, in {} fleets passes and {:.1} s of wall \
             time; calls: {}",
            self.servers,
            clock_span(launch.took),
            launch.passes,
            launch.wall.as_secs_f64(),
            calls_line(&launch.calls)
        );
    }

    fn print_refills(&mut self) {
        let day = &mut self.day;
        let r = &mut day.refills;
        println!(
            "day: {} reclaims took {} servers cvmbot had seen RUNNING and {} still starting; {} ended otherwise; \
             {} servers launched",
            self.seen.reclaims, r.reclaimed_running, r.reclaimed_unseen_running, r.ended_otherwise, r.launched
        );
        println!(
            "  the fleet's counters over the day: reclaimed_total +{}, refilled_total +{} (refilled_total was {} \
             after the first {} launches)",
            day.after.reclaimed_total - day.before.reclaimed_total,
            day.after.refilled_total - day.before.refilled_total,
            day.before.refilled_total,
            self.servers
        );
        println!(
            "  seen gone (gone_at) -> replacement in the slot RUNNING (running_at), simulated time: {}",
            spread(&mut r.seen_to_running)
        );
        println!(
            "  reclaimed at the simulator -> replacement RUNNING, simulated time: {}",
            spread(&mut r.reclaimed_to_running)
        );
        println!(
            "  reclaimed at the simulator -> seen gone, simulated time: {}",
            spread(&mut r.reclaimed_to_seen)
        );
        println!(
            "  at the end: {} seen gone without a RUNNING replacement, {} reclaimed but not seen gone yet; {} of {} \
             RUNNING",
            r.not_refilled, r.not_seen_gone, day.running_at_end, self.servers
        );
    }

    fn print_calls(&self) {
        let day = &self.day;
        println!(
            "Tencent calls during the day (the simulator's log): {}",
            calls_line(&day.calls)
        );
        let refills = day.refills.seen_to_running.len().max(1) as f64;
        let run = calls(&day.calls, "RunInstances");
        let describe = calls(&day.calls, "DescribeInstances");
        let all: usize = day.calls.values().map(|t| t.calls() + t.dry_runs).sum();
        println!(
            "  per refill ({} replacements seen RUNNING): RunInstances {:.2}, DescribeInstances {:.2}, all calls \
             {:.2}; DescribeInstances made by tracker rounds over the whole run: {}",
            day.refills.seen_to_running.len(),
            run as f64 / refills,
            describe as f64 / refills,
            all as f64 / refills,
            self.seen.tracker_calls
        );
        println!(
            "  RequestLimitExceeded answers: {} during the day, {} during the launch",
            rate_limited(&day.calls),
            rate_limited(&self.launch.calls)
        );
    }

    fn print_money(&self) {
        let money = &self.day.money;
        let hours = Decimal::from_f64_retain(self.hours).unwrap_or_default();
        let budget = Decimal::from(self.servers) * self.bid * hours;
        let approved = money.budget_per_month * hours / Decimal::from(cvmbot::money::HOURS_PER_MONTH);
        println!(
            "spend over the {} simulated hours: the simulator charged {:.2} CNY (the account's cash less debt, \
             before and after)",
            self.hours,
            money.charged_fen / Decimal::ONE_HUNDRED
        );
        println!(
            "  budget: {} servers x {} CNY/h bid x {} h = {:.2} CNY; the approved budget, {} CNY per \
             month-equivalent, is {:.2} CNY for that long",
            self.servers, self.bid, self.hours, budget, money.budget_per_month, approved
        );
        println!(
            "  cvmbot's own estimate (the fleet's spent_this_month, after less before): {:.2} CNY",
            money.cvmbot_estimate
        );
        if let Some((low, high, sum, n)) = self.seen.prices {
            let mean = (sum / Decimal::from(n.max(1))).round_dp(4);
            println!("  the market price at the steps: lowest {low}, mean {mean}, highest {high} CNY/h");
        }
    }

    fn print_chat(&self) {
        let (mut posts, mut edits) = (0, 0);
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for record in &self.day.chat {
            match record {
                Recorded::Post { message, .. } => {
                    posts += 1;
                    for key in message.dedupe_key.as_deref().unwrap_or("none").split('|') {
                        *kinds.entry(kind_of(key)).or_default() += 1;
                    }
                }
                Recorded::Edit { .. } => edits += 1,
            }
        }
        println!(
            "chat during the day: {posts} posts {kinds:?}, {edits} card edits, for {} reclaims",
            self.seen.reclaims
        );
        let summaries = self.day.chat.iter().filter_map(|record| match record {
            Recorded::Post { message, .. }
                if message.dedupe_key.as_deref().is_some_and(|k| k.contains(":summary:")) =>
            {
                message.text.clone()
            }
            _ => None,
        });
        for text in summaries.take(2) {
            println!("  {text}");
        }
    }

    fn print_wall(&self) {
        let day = &self.day;
        println!(
            "wall time: {:.1} s in all (launch {:.1} s, day {:.1} s)",
            self.wall.as_secs_f64(),
            self.launch.wall.as_secs_f64(),
            day.wall.as_secs_f64()
        );
        let passes = &self.seen.fleet_passes[day.first_pass..];
        let (sending, idle): (Vec<(Duration, usize)>, Vec<_>) = passes.iter().partition(|(_, sent)| *sent > 0);
        let walls = |list: &[(Duration, usize)]| list.iter().map(|(d, _)| *d).collect::<Vec<_>>();
        let all: Vec<Duration> = passes.iter().map(|(d, _)| *d).collect();
        println!(
            "  the day's fleets passes at {} slots: {}",
            self.servers,
            wall_spread(&all)
        );
        println!(
            "    that sent RunInstances ({} calls): {}",
            sending.iter().map(|(_, n)| n).sum::<usize>(),
            wall_spread(&walls(&sending))
        );
        println!("    that sent nothing: {}", wall_spread(&walls(&idle)));
        println!(
            "  failed fleets passes: {}; tracker rounds {:.1} s in all (whole run)",
            self.seen.failed_passes,
            self.seen.tracker_wall.as_secs_f64()
        );
        let (delivering, quiet): (Vec<(Duration, usize)>, Vec<_>) = self
            .seen
            .dispatch_passes
            .iter()
            .partition(|(_, delivered)| *delivered > 0);
        println!(
            "  dispatcher passes (whole run) that delivered ({} posts and edits): {}",
            delivering.iter().map(|(_, n)| n).sum::<usize>(),
            wall_spread(&walls(&delivering))
        );
        println!("    that delivered nothing: {}", wall_spread(&walls(&quiet)));
        println!(
            "  the fleet's view (its card) at the end: {} current servers and this month's runs read in {:.1} ms",
            day.rows,
            day.view_wall.as_secs_f64() * 1000.0
        );
        let sending_wall: f64 = sending.iter().map(|(d, _)| d.as_secs_f64()).sum();
        let sent: usize = sending.iter().map(|(_, n)| n).sum();
        println!(
            "  RunInstances paced by cvmbot's limiter ({}/s): {:.1} calls per wall second in the passes that sent \
             them, {:.1} s of the day's wall time",
            self.client_limits[0].1,
            sent as f64 / sending_wall.max(f64::EPSILON),
            sending_wall
        );
        let mib = |kib: Option<u64>| kib.map_or("unknown".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        println!(
            "load average at end {}; peak memory (VmHWM, cvmbot and the simulator together) {} once launched, {} at \
             the end",
            self.load_at_end,
            mib(self.launch.peak_kib),
            mib(self.peak_kib)
        );
    }
}
