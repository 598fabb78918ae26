//! The instance tracker: polls DescribeInstances for every watched instance in batches of up to
//! 100 ids per call, with a cadence that is fast after a purchase and backs off while nothing
//! changes. It raises a notice once per event (running, public IP, launch failure, still pending,
//! reclaimed) and moves requests to active, partially active or launch failed, in the same
//! transaction as the change that caused them.

use crate::desk::{Chain, Desk, DeskError, Observation, TrackerSettings, observe, postpone};
use crate::store::InstanceRecord;
use crate::tencent::cvm::{IDS_PER_CALL, Instance};
use futures_util::{StreamExt, stream};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tracing::{instrument, warn};

/// Most instances one round takes on (far above what one process tracks).
const ROUND_LIMIT: i64 = 100_000;

/// DescribeInstances calls of one round in flight at once.
const CALLS_IN_FLIGHT: usize = 8;

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
                warn!(error = %Chain(&error), "tracker round failed");
            }
            tokio::select! {
                _ = stopped.changed() => break,
                _ = tokio::time::sleep(self.pause().await) => {}
            }
        }
    }

    async fn pause(&self) -> Duration {
        let next = self.desk.next_poll_at().await.ok().flatten();
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
    #[instrument(name = "tracker round", skip_all)]
    pub async fn round(&self) -> Result<usize, DeskError> {
        let started = std::time::Instant::now();
        let now = self.desk.clock().now();
        let due = self.desk.due_instances(now, ROUND_LIMIT).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let calls = self.poll(now, due).await?;
        crate::ops::metrics().tracker_round(started.elapsed());
        Ok(calls)
    }

    /// Polls `due` (and fills each call's room with the instances due soonest after them).
    async fn poll(&self, now: time::OffsetDateTime, due: Vec<InstanceRecord>) -> Result<usize, DeskError> {
        let complete = (due.len() as i64) < ROUND_LIMIT;
        let mut by_region: BTreeMap<String, Vec<InstanceRecord>> = BTreeMap::new();
        for record in due {
            by_region.entry(record.region.clone()).or_default().push(record);
        }
        let mut calls = 0;
        for (region, mut records) in by_region {
            let room = records.len().next_multiple_of(IDS_PER_CALL) - records.len();
            if complete && room > 0 {
                records.extend(self.desk.next_due_instances(&region, now, room as i64).await?);
            }
            calls += self.poll_region(&region, records).await?;
        }
        Ok(calls)
    }

    /// Asks about `records` 100 ids per call, a few calls in flight (the client's rate limiter
    /// paces them), and stores each call's observations as soon as it answers: with 10,000
    /// instances a round takes seconds, and news should not wait for the last call of it.
    #[instrument(skip_all, fields(region, instances = records.len()))]
    async fn poll_region(&self, region: &str, records: Vec<InstanceRecord>) -> Result<usize, DeskError> {
        let batches: Vec<Vec<InstanceRecord>> = records.chunks(IDS_PER_CALL).map(<[_]>::to_vec).collect();
        let calls = batches.len();
        let (answered, mut answers) = mpsc::unbounded_channel();
        let desk = &self.desk;
        let ask = stream::iter(batches)
            .map(|batch| async move {
                let ids: Vec<String> = batch.iter().map(|r| r.instance_id.clone()).collect();
                let answer = desk.describe_instances(region, &ids).await;
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
                self.desk.record_observations(observations).await?;
            }
            Ok::<(), DeskError>(())
        };
        let ((), stored) = tokio::join!(ask, store);
        stored?;
        Ok(calls)
    }
}
