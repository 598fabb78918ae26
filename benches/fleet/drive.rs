//! Moving the world: one step is the reclaims that are due, a tracker round, a fleets pass and a
//! dispatcher pass at one simulated instant, then both clocks move on together.

use super::setup::{TYPE, ZONE};
use anyhow::Context;
use cvmbot::app::App;
use cvmbot::chat::Dispatcher;
use cvmbot::clock::Clock;
use cvmbot::domain::RequestId;
use cvmbot::sim::{LoggedRequest, Reclaim, Simulator};
use cvmbot::store::SlotState;
use cvmbot::workers::Tracker;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// The shortest step: the real tracker sleeps at most a second between rounds.
pub const MIN_STEP: Duration = Duration::from_secs(1);

/// Reclaims every `every` from `next`, `percent` of the fleet's running and pending servers.
pub struct Schedule {
    /// The next reclaim, if one is still to come.
    pub next: Option<OffsetDateTime>,
    /// The last instant a reclaim may happen before.
    pub end: OffsetDateTime,
    /// Between reclaims.
    pub every: Duration,
    /// What share each takes.
    pub percent: u32,
}

impl Schedule {
    /// No reclaims.
    pub fn none(now: OffsetDateTime) -> Schedule {
        Schedule {
            next: None,
            end: now,
            every: Duration::ZERO,
            percent: 0,
        }
    }

    fn advance(&mut self) {
        self.next = self.next.map(|at| at + self.every).filter(|at| *at < self.end);
    }
}

/// The calls of one action in the simulator's log: answered `ok`, or refused with a code.
#[derive(Default)]
pub struct Tally {
    /// Answered.
    pub ok: usize,
    /// Refused, by error code.
    pub refused: BTreeMap<String, usize>,
    /// RunInstances dry runs (counted apart, whatever they answered).
    pub dry_runs: usize,
}

impl Tally {
    /// Every call but the dry runs.
    pub fn calls(&self) -> usize {
        self.ok + self.refused.values().sum::<usize>()
    }
}

/// What the steps saw, apart from what the database keeps.
#[derive(Default)]
pub struct Seen {
    /// The most servers running or pending at the simulator at a step.
    pub peak_alive: usize,
    /// Steps taken while a slot was not filled or a server pending at the simulator.
    pub busy_steps: usize,
    /// Steps taken while nothing was launching or pending.
    pub quiet_steps: usize,
    /// Reclaimed instance → when the simulator reclaimed it.
    pub reclaimed_at: HashMap<String, OffsetDateTime>,
    /// Reclaims made.
    pub reclaims: usize,
    /// Wall time of each fleets pass, with the RunInstances calls it sent.
    pub fleet_passes: Vec<(Duration, usize)>,
    /// Fleets passes in which tending a fleet failed.
    pub failed_passes: usize,
    /// Wall time of the tracker rounds.
    pub tracker_wall: Duration,
    /// DescribeInstances calls the tracker made.
    pub tracker_calls: usize,
    /// Wall time of each dispatcher pass, with the posts and edits it delivered.
    pub dispatch_passes: Vec<(Duration, usize)>,
    /// The market price at each step (lowest, highest, sum, count).
    pub prices: Option<(Decimal, Decimal, Decimal, u32)>,
}

/// The simulator, the app and the fleet, and what the steps saw.
pub struct Driver {
    /// The simulator, in process.
    pub sim: Simulator,
    /// cvmbot.
    pub app: App,
    /// The engine's clock.
    pub clock: Clock,
    /// The fleet's request.
    pub fleet: RequestId,
    /// The tracker with the configured cadence.
    pub tracker: Tracker,
    /// The dispatcher, posting to a recording notifier.
    pub dispatcher: Dispatcher,
    /// The longest step while something is launching or pending (the fleets worker's interval).
    pub busy_step: Duration,
    /// What the steps saw.
    pub seen: Seen,
}

impl Driver {
    /// Simulated time now.
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// One step at the current instant, then both clocks move to the next one (never past `until`).
    pub async fn step(&mut self, schedule: &mut Schedule, until: OffsetDateTime) -> anyhow::Result<()> {
        let now = self.now();
        while schedule.next.is_some_and(|at| at <= now) {
            let ids = self
                .sim
                .reclaim_spot(Some(ZONE), Some(TYPE), Reclaim::Percent(schedule.percent))?;
            self.seen.reclaims += 1;
            self.seen.reclaimed_at.extend(ids.into_iter().map(|id| (id, now)));
            schedule.advance();
        }
        // The tracker first: what it finds wakes the fleets worker at once in production.
        let started = Instant::now();
        self.seen.tracker_calls += self.tracker.round().await.context("a tracker round")?;
        self.seen.tracker_wall += started.elapsed();
        let started = Instant::now();
        let pass = self.app.desk.fleets_due().await.context("a fleets pass")?;
        self.seen.fleet_passes.push((started.elapsed(), pass.launches));
        self.seen.failed_passes += usize::from(pass.failed > 0);
        let started = Instant::now();
        let delivered = self.dispatcher.run_once().await.context("a dispatcher pass")?;
        self.seen.dispatch_passes.push((started.elapsed(), delivered));

        let pending = self.sample();
        let mut session = self.app.store().session().await?;
        let unfilled = session
            .fleet_slots(self.fleet)
            .await?
            .iter()
            .any(|s| s.state != SlotState::Filled);
        let next_try = session.fleet(self.fleet).await?.and_then(|f| f.next_try_at);
        drop(session);
        let next_poll = self.app.desk.next_poll_at().await?;
        let next = [schedule.next, next_poll, next_try, Some(until)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(until);
        let gap = Duration::try_from(next - now).unwrap_or(Duration::ZERO);
        let step = if unfilled || pending > 0 {
            self.seen.busy_steps += 1;
            gap.clamp(MIN_STEP, self.busy_step)
        } else {
            self.seen.quiet_steps += 1;
            gap.max(MIN_STEP)
        };
        let step = step.min(Duration::try_from(until - now).unwrap_or(Duration::ZERO));
        if !step.is_zero() {
            self.sim.advance(step);
            self.clock.advance(step);
        }
        Ok(())
    }

    /// Notes the servers alive at the simulator and the market price; returns how many pend.
    fn sample(&mut self) -> usize {
        let instances = self.sim.instances();
        let live = |state: &str| {
            instances
                .iter()
                .filter(|i| i.ended.is_none() && i.state == state)
                .count()
        };
        let pending = live("PENDING");
        let alive = pending + live("RUNNING");
        self.seen.peak_alive = self.seen.peak_alive.max(alive);
        if let Some(price) = self.sim.spot_price(ZONE, TYPE) {
            let (low, high, sum, n) = self.seen.prices.unwrap_or((price, price, Decimal::ZERO, 0));
            self.seen.prices = Some((low.min(price), high.max(price), sum + price, n + 1));
        }
        pending
    }

    /// Moves the simulator's request log into `tallies`, by action.
    pub fn drain_log(&self, tallies: &mut BTreeMap<String, Tally>) {
        let log: Vec<LoggedRequest> = self.sim.requests();
        self.sim.clear_requests();
        for request in log {
            let tally = tallies.entry(request.action.clone()).or_default();
            if request.params.get("DryRun").and_then(|d| d.as_bool()) == Some(true) {
                tally.dry_runs += 1;
            } else if request.response == "ok" {
                tally.ok += 1;
            } else {
                *tally.refused.entry(request.response).or_default() += 1;
            }
        }
    }
}
