//! The instance tracker: polls DescribeInstances for every watched instance in batches of up to
//! 100 ids per call, with a cadence that is fast after a purchase and backs off while nothing
//! changes. It raises a notice once per event (running, public IP, launch failure, still pending,
//! reclaimed) and moves requests to active, partially active or launch failed, in the same
//! transaction as the change that caused them.

mod observe;

pub use observe::{Observation, TrackerSettings, observe};

use self::observe::{postpone, settled_state};
use crate::desk::{Desk, DeskError};
use crate::store::{AuditEntry, InstanceRecord, RequestRecord, Session, Transition};
use crate::tencent::cvm::{IDS_PER_CALL, Instance};
use futures_util::{StreamExt, stream};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, watch};
use tracing::{info, warn};

/// Most instances one round takes on (far above what one process tracks).
const ROUND_LIMIT: i64 = 100_000;

/// DescribeInstances calls of one round in flight at once.
const CALLS_IN_FLIGHT: usize = 8;

/// Observations stored per transaction (whole requests are never split across two).
const OBSERVATIONS_PER_TRANSACTION: usize = 500;

/// The tracker worker.
pub struct Tracker {
    desk: Desk,
    settings: TrackerSettings,
}

impl Tracker {
    /// A tracker for the desk's instances.
    pub fn new(desk: Desk, settings: TrackerSettings) -> Tracker {
        Tracker { desk, settings }
    }

    /// Polls until stopped, while this process leads.
    pub async fn run(self, mut stopped: watch::Receiver<bool>, leadership: super::Leadership) {
        loop {
            if leadership.is_leader()
                && let Err(error) = self.round().await
            {
                warn!(%error, "tracker round failed");
            }
            tokio::select! {
                _ = stopped.changed() => break,
                _ = tokio::time::sleep(self.pause().await) => {}
            }
        }
    }

    async fn pause(&self) -> Duration {
        let next = match self.desk.store().session().await {
            Ok(mut session) => session.next_poll_at().await.ok().flatten(),
            Err(_) => None,
        };
        let now = self.desk.clock().now();
        let until = next.map_or(Duration::from_secs(1), |at| {
            (at - now).try_into().unwrap_or(Duration::ZERO)
        });
        until.clamp(Duration::from_millis(50), Duration::from_secs(1))
    }

    /// Polls every due instance once; returns how many DescribeInstances calls it made.
    ///
    /// A call has room for 100 ids whatever it carries, so a batch left part-empty by the due
    /// instances is filled with the instances due soonest after them: they are polled a little
    /// early for free, and instances whose schedules drifted apart (each public IP appears at its
    /// own time) share calls again instead of costing one call per small group.
    pub async fn round(&self) -> Result<usize, DeskError> {
        let now = self.desk.clock().now();
        let due = self
            .desk
            .store()
            .session()
            .await?
            .due_instances(now, ROUND_LIMIT)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let complete = (due.len() as i64) < ROUND_LIMIT;
        let mut by_region: BTreeMap<String, Vec<InstanceRecord>> = BTreeMap::new();
        for record in due {
            by_region.entry(record.region.clone()).or_default().push(record);
        }
        let mut calls = 0;
        for (region, mut records) in by_region {
            let room = records.len().next_multiple_of(IDS_PER_CALL) - records.len();
            if complete && room > 0 {
                let mut session = self.desk.store().session().await?;
                records.extend(session.next_due_instances(&region, now, room as i64).await?);
            }
            calls += self.poll_region(&region, records).await?;
        }
        Ok(calls)
    }

    /// Asks about `records` 100 ids per call, a few calls in flight (the client's rate limiter
    /// paces them), and stores each call's observations as soon as it answers: with 10,000
    /// instances a round takes seconds, and news should not wait for the last call of it.
    async fn poll_region(&self, region: &str, records: Vec<InstanceRecord>) -> Result<usize, DeskError> {
        let batches: Vec<Vec<InstanceRecord>> = records.chunks(IDS_PER_CALL).map(<[_]>::to_vec).collect();
        let calls = batches.len();
        let (answered, mut answers) = mpsc::unbounded_channel();
        let tencent = self.desk.tencent();
        let ask = stream::iter(batches)
            .map(|batch| async move {
                let ids: Vec<String> = batch.iter().map(|r| r.instance_id.clone()).collect();
                let answer = tencent.describe_instances(region, &ids).await;
                (batch, answer)
            })
            .buffer_unordered(CALLS_IN_FLIGHT)
            .for_each(move |answer| {
                // The receiver is gone only when storing failed; the round fails with that error.
                let _ = answered.send(answer);
                std::future::ready(())
            });
        let store = async {
            while let Some((batch, answer)) = answers.recv().await {
                let now = self.desk.clock().now();
                let observations: Vec<Observation> = match answer {
                    Ok(found) => {
                        let found: HashMap<&str, &Instance> =
                            found.iter().map(|i| (i.instance_id.as_str(), i)).collect();
                        let seen = |r: &InstanceRecord| found.get(r.instance_id.as_str()).copied();
                        batch.iter().map(|r| observe(r, seen(r), now, &self.settings)).collect()
                    }
                    Err(error) => {
                        warn!(%error, region, "DescribeInstances failed; polling these instances later");
                        batch.iter().map(|r| postpone(r, now, &self.settings)).collect()
                    }
                };
                self.record(observations).await?;
            }
            Ok::<(), DeskError>(())
        };
        let ((), stored) = tokio::join!(ask, store);
        stored?;
        Ok(calls)
    }

    /// Stores observations a few hundred per transaction. Each transaction also raises their
    /// notices and settles their requests, so a crash leaves all of an observation or none of it.
    async fn record(&self, mut observations: Vec<Observation>) -> Result<(), DeskError> {
        observations.sort_by_key(|o| o.request_id);
        let mut raised = 0;
        let mut rest = observations.as_slice();
        while !rest.is_empty() {
            let mut end = rest.len().min(OBSERVATIONS_PER_TRANSACTION);
            while end < rest.len() && rest[end].request_id == rest[end - 1].request_id {
                end += 1;
            }
            let (chunk, tail) = rest.split_at(end);
            raised += self.record_chunk(chunk).await?;
            rest = tail;
        }
        if raised > 0 {
            info!(raised, "tracker raised notices");
            self.desk.wake_dispatcher();
        }
        Ok(())
    }

    /// One transaction: lock the requests that have news, update the instances, queue the
    /// notices, settle the requests. Returns how many notices were new.
    async fn record_chunk(&self, chunk: &[Observation]) -> Result<usize, DeskError> {
        let touched: BTreeSet<i64> = chunk
            .iter()
            .filter(|o| !o.notices.is_empty())
            .map(|o| o.request_id)
            .collect();
        let mut tx = self.desk.store().begin().await?;
        // Requests first, in id order, before any instance row: two writers never hold one lock
        // each while waiting for the other's.
        let mut locked = Vec::new();
        for request_id in &touched {
            if let Some(record) = tx.lock_request(*request_id).await? {
                locked.push(record);
            }
        }
        let mut raised = 0;
        for observation in chunk {
            tx.update_instance(&observation.update).await?;
            for (key, notice) in &observation.notices {
                let row = crate::desk::notice_row(key, notice, observation.update.now);
                raised += usize::from(tx.enqueue_notification(&row).await?);
            }
        }
        let now = self.desk.clock().now();
        for record in &locked {
            settle(&mut tx, record, now).await?;
        }
        tx.commit().await?;
        Ok(raised)
    }
}

/// Moves a locked request to what its instances add up to, or just refreshes its card.
async fn settle(tx: &mut Session, record: &RequestRecord, now: OffsetDateTime) -> Result<(), DeskError> {
    let instances = tx.instances_of(record.id).await?;
    match settled_state(&instances) {
        Some(target) if record.state != target && record.state.can_become(target) => {
            let transition = Transition {
                from: record.state,
                to: target,
                at: now,
            };
            tx.transition(record.id, transition).await?;
            let entry = AuditEntry::by_cvmbot(record.id, now, "instances-settled", record.state, target);
            tx.insert_audit(&entry).await?;
        }
        _ => tx.bump_card(record.id).await?,
    }
    Ok(())
}
