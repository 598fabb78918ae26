//! The instance tracker: asks DescribeInstances about every watched instance in batches of up to
//! 100 ids per call, with a cadence that is fast while news is likely (after a purchase or a
//! change, while activation or a public IP is awaited) and backs off while nothing changes. It
//! raises a notice once per event (running, public IP, launch failure, still pending, reclaimed)
//! and moves requests to active, partially active or launch failed, in the same transaction as the
//! change that caused them.
//!
//! Polling is a pipeline, not a round that waits for its slowest call: a few calls are in flight
//! at once (the client's rate limiter paces them at Tencent's limit), each answer is stored as
//! soon as it comes, and each freed slot is given to the instances most overdue at that moment.
//! So when more is due than the rate limit allows, every instance waits its turn in the order it
//! fell due (no region or request starves another), and an instance that falls due while others
//! are being asked about joins the next call rather than the next round.

use crate::desk::{Chain, Desk, DeskError, Observation, TrackerSettings, observe, postpone};
use crate::store::InstanceRecord;
use crate::tencent::ApiError;
use crate::tencent::cvm::{IDS_PER_CALL, Instance};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{instrument, warn};

/// DescribeInstances calls in flight at once. The client's limiter holds them to Tencent's rate
/// (40/s); a few in flight keep it busy across the round trip of each.
const CALLS_IN_FLIGHT: usize = 8;

/// The tracker worker.
pub struct Tracker {
    desk: Desk,
    settings: TrackerSettings,
}

/// One DescribeInstances call: the region, the instances asked about, when they were chosen.
struct Batch {
    region: String,
    records: Vec<InstanceRecord>,
    chosen: Instant,
}

impl Tracker {
    /// A tracker for the desk's instances.
    pub fn new(desk: Desk, settings: TrackerSettings) -> Tracker {
        Tracker { desk, settings }
    }

    /// Polls until stopped, while this process leads.
    pub async fn run(self, mut stopped: watch::Receiver<bool>, leadership: super::Leadership) {
        loop {
            if leadership.is_leader() {
                let going = || leadership.is_leader() && !*stopped.borrow();
                if let Err(error) = self.poll(None, going).await {
                    warn!(error = %Chain(&error), "tracker pass failed");
                }
            }
            tokio::select! {
                _ = stopped.changed() => break,
                _ = tokio::time::sleep(self.pause().await) => {}
            }
        }
    }

    /// Until the next instance is due: at least 50 ms, at most a second (an instance bought
    /// meanwhile is due a second after its purchase at the soonest).
    async fn pause(&self) -> Duration {
        let next = self.desk.next_poll_at().await.ok().flatten();
        let now = self.desk.clock().now();
        let until = next.map_or(Duration::from_secs(1), |at| {
            (at - now).try_into().unwrap_or(Duration::ZERO)
        });
        until.clamp(Duration::from_millis(50), Duration::from_secs(1))
    }

    /// Polls every instance due now once; returns how many DescribeInstances calls it made.
    ///
    /// A call has room for 100 ids whatever it carries, so a batch left part-empty by the due
    /// instances is filled with the instances due soonest after them: they are polled a little
    /// early for free, and instances whose schedules drifted apart (each public IP appears at its
    /// own time) share calls again instead of costing one call per small group.
    #[instrument(name = "tracker round", skip_all)]
    pub async fn round(&self) -> Result<usize, DeskError> {
        let now = self.desk.clock().now();
        self.poll(Some(now), || true).await
    }

    /// Polls the instances due at `cutoff` (at each moment's clock when `None`), the most overdue
    /// first, until none is due and no call is in flight, or `going` says to stop. Returns how many
    /// calls it made.
    async fn poll(&self, cutoff: Option<OffsetDateTime>, going: impl Fn() -> bool) -> Result<usize, DeskError> {
        let mut asking: HashSet<String> = HashSet::new();
        let mut calls: JoinSet<(Batch, Result<Vec<Instance>, ApiError>)> = JoinSet::new();
        let mut made = 0;
        loop {
            let free = CALLS_IN_FLIGHT - calls.len();
            if free > 0 && going() {
                let at = cutoff.unwrap_or_else(|| self.desk.clock().now());
                for batch in self.next_batches(at, free, &asking).await? {
                    crate::ops::metrics().tracker_lateness(at - batch.records[0].next_poll_at);
                    asking.extend(batch.records.iter().map(|r| r.instance_id.clone()));
                    let desk = self.desk.clone();
                    calls.spawn(async move {
                        let ids: Vec<String> = batch.records.iter().map(|r| r.instance_id.clone()).collect();
                        let answer = desk.describe_instances(&batch.region, &ids).await;
                        (batch, answer)
                    });
                    made += 1;
                }
            }
            let Some(answered) = calls.join_next().await else {
                return Ok(made);
            };
            let (batch, answer) = answered.unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()));
            for record in &batch.records {
                asking.remove(&record.instance_id);
            }
            self.store(&batch, answer).await?;
            crate::ops::metrics().tracker_poll(batch.chosen.elapsed());
        }
    }

    /// Up to `free` calls' worth of the instances due at `at` that are not being asked about,
    /// grouped by region 100 to a call, the call whose first instance is most overdue first.
    async fn next_batches(
        &self,
        at: OffsetDateTime,
        free: usize,
        asking: &HashSet<String>,
    ) -> Result<Vec<Batch>, DeskError> {
        let limit = free * IDS_PER_CALL + asking.len();
        let fetched = self.desk.due_instances(at, limit as i64).await?;
        // Every due instance is in hand: a part-empty call may be filled with later ones.
        let complete = fetched.len() < limit;
        let mut regions: Vec<(String, Vec<InstanceRecord>)> = Vec::new();
        for record in fetched.into_iter().filter(|r| !asking.contains(&r.instance_id)) {
            match regions.iter_mut().find(|(region, _)| *region == record.region) {
                Some((_, records)) => records.push(record),
                None => regions.push((record.region.clone(), vec![record])),
            }
        }
        let mut batches = Vec::new();
        for (region, mut records) in regions {
            let room = records.len().next_multiple_of(IDS_PER_CALL) - records.len();
            if complete && room > 0 {
                let later = self
                    .desk
                    .next_due_instances(&region, at, (room + asking.len()) as i64)
                    .await?;
                records.extend(
                    later
                        .into_iter()
                        .filter(|r| !asking.contains(&r.instance_id))
                        .take(room),
                );
            }
            while !records.is_empty() {
                let rest = records.split_off(records.len().min(IDS_PER_CALL));
                batches.push(Batch {
                    region: region.clone(),
                    records,
                    chosen: Instant::now(),
                });
                records = rest;
            }
        }
        // With more due than was fetched, a part-empty call waits for the rest of its region's
        // due instances, unless it is all there is to ask.
        if !complete && batches.iter().any(|b| b.records.len() == IDS_PER_CALL) {
            batches.retain(|b| b.records.len() == IDS_PER_CALL);
        }
        batches.sort_by_key(|b| b.records[0].next_poll_at);
        batches.truncate(free);
        Ok(batches)
    }

    /// Stores what one call found (or, if it failed, when to ask again).
    #[instrument(skip_all, fields(region = %batch.region, instances = batch.records.len()))]
    async fn store(&self, batch: &Batch, answer: Result<Vec<Instance>, ApiError>) -> Result<(), DeskError> {
        let now = self.desk.clock().now();
        let observations: Vec<Observation> = match answer {
            Ok(found) => {
                let found: HashMap<&str, &Instance> = found.iter().map(|i| (i.instance_id.as_str(), i)).collect();
                let seen = |r: &InstanceRecord| found.get(r.instance_id.as_str()).copied();
                batch
                    .records
                    .iter()
                    .map(|r| observe(r, seen(r), now, &self.settings))
                    .collect()
            }
            Err(error) => {
                warn!(%error, region = %batch.region, "DescribeInstances failed; polling these instances later");
                batch.records.iter().map(|r| postpone(r, now, &self.settings)).collect()
            }
        };
        self.desk.record_observations(observations).await
    }
}
