//! The instance tracker: polls DescribeInstances for every watched instance in batches of up to
//! 100 ids per call, with a cadence that is fast after a purchase and backs off while nothing
//! changes. It raises a notice once per event (running, public IP, launch failure, still pending,
//! reclaimed) and moves requests to active, partially active or launch failed.

use crate::chat::Notice;
use crate::desk::{Desk, DeskError};
use crate::domain::RequestState;
use crate::store::{AuditEntry, InstanceRecord, InstanceUpdate, Transition};
use crate::tencent::cvm::Instance;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tracing::{info, warn};

/// How long a fresh instance may be missing from DescribeInstances before it counts as gone
/// (Tencent's listing lags RunInstances by a moment).
const NEW_INSTANCE_GRACE: Duration = Duration::from_secs(120);

/// The tracker's cadence.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackerSettings {
    /// Interval after a purchase or a change.
    pub initial: Duration,
    /// Longest interval while activation or a public IP is awaited.
    pub waiting: Duration,
    /// Longest interval otherwise.
    pub max: Duration,
    /// Growth factor per quiet poll.
    pub backoff: f64,
    /// Warn about an instance PENDING longer than this.
    pub pending_warning: Duration,
}

/// What one poll of one instance found: the row update and the notices to raise (key, notice).
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The new row.
    pub update: InstanceUpdate,
    /// Notices, each with its dedupe key.
    pub notices: Vec<(String, Notice)>,
}

fn gone_reason(billing: &str) -> String {
    if billing == "spot" {
        "Tencent Cloud reclaimed the spot instance (the market price rose above the bid, or the capacity was needed)."
            .into()
    } else {
        "it no longer runs at Tencent Cloud (terminated outside cvmbot, or reclaimed because the account owed money)."
            .into()
    }
}

/// Judges one poll of `record`; `seen` is what DescribeInstances returned for it (None: absent).
pub fn observe(
    record: &InstanceRecord,
    seen: Option<&Instance>,
    now: OffsetDateTime,
    settings: &TrackerSettings,
) -> Observation {
    let id = &record.instance_id;
    let request_id = record.request_id;
    let mut notices = Vec::new();
    let mut update = InstanceUpdate {
        instance_id: id.clone(),
        state: record.state.clone(),
        private_ips: record.private_ips.clone(),
        public_ips: record.public_ips.clone(),
        error: record.error.clone(),
        running_at: None,
        public_ip_at: None,
        gone_at: None,
        watching: true,
        next_poll_at: now,
        poll_interval: record.poll_interval,
        now,
    };
    match seen {
        None if now - record.created_at < NEW_INSTANCE_GRACE => {}
        None => {
            update.gone_at = Some(now);
            update.watching = false;
            notices.push((
                format!("instance:{id}:gone"),
                Notice::Reclaimed {
                    request_id,
                    instance_id: id.clone(),
                    reason: gone_reason(&record.billing),
                },
            ));
        }
        Some(instance) => {
            let state = instance
                .instance_state
                .as_ref()
                .map_or("UNKNOWN", |s| s.as_str())
                .to_owned();
            update.private_ips = instance.private_ip_addresses.clone();
            update.public_ips = instance.public_ip_addresses.clone().unwrap_or_default();
            match state.as_str() {
                "RUNNING" => {
                    let first_run = record.running_at.is_none();
                    if first_run {
                        update.running_at = Some(now);
                        notices.push((
                            format!("instance:{id}:running"),
                            Notice::Running {
                                request_id,
                                instance_id: id.clone(),
                                private_ips: update.private_ips.clone(),
                                public_ips: update.public_ips.clone(),
                                public_ip_pending: record.wants_public_ip && update.public_ips.is_empty(),
                            },
                        ));
                    }
                    if !update.public_ips.is_empty() && record.public_ip_at.is_none() {
                        update.public_ip_at = Some(now);
                        if !first_run {
                            notices.push((
                                format!("instance:{id}:public-ip"),
                                Notice::PublicIp {
                                    request_id,
                                    instance_id: id.clone(),
                                    public_ips: update.public_ips.clone(),
                                },
                            ));
                        }
                    }
                }
                "LAUNCH_FAILED" => {
                    let reason = instance
                        .latest_operation_error_msg
                        .clone()
                        .filter(|m| !m.trim().is_empty())
                        .unwrap_or_else(|| "Tencent Cloud gave no reason.".into());
                    update.error = Some(reason.clone());
                    update.watching = false;
                    notices.push((
                        format!("instance:{id}:launch-failed"),
                        Notice::LaunchFailed {
                            request_id,
                            instance_id: id.clone(),
                            reason,
                        },
                    ));
                }
                "TERMINATING" | "SHUTDOWN" => {
                    update.gone_at = Some(now);
                    update.watching = false;
                    notices.push((
                        format!("instance:{id}:gone"),
                        Notice::Reclaimed {
                            request_id,
                            instance_id: id.clone(),
                            reason: gone_reason(&record.billing),
                        },
                    ));
                }
                "PENDING" if now - record.created_at > settings.pending_warning => {
                    let minutes = ((now - record.created_at).whole_seconds() / 60).max(0) as u64;
                    notices.push((
                        format!("instance:{id}:still-pending"),
                        Notice::StillPending {
                            request_id,
                            instance_id: id.clone(),
                            minutes,
                        },
                    ));
                }
                _ => {}
            }
            update.state = state;
        }
    }
    let changed = update.state != record.state
        || update.private_ips != record.private_ips
        || update.public_ips != record.public_ips;
    let waiting = update.state == "PENDING" || (record.wants_public_ip && update.public_ips.is_empty());
    let cap = if waiting { settings.waiting } else { settings.max };
    update.poll_interval = if changed {
        settings.initial
    } else {
        record
            .poll_interval
            .mul_f64(settings.backoff)
            .clamp(settings.initial, cap.max(settings.initial))
    };
    update.next_poll_at = now + update.poll_interval;
    Observation { update, notices }
}

/// The state a request's instances add up to, once none is pending.
fn settled_state(instances: &[InstanceRecord]) -> Option<RequestState> {
    if instances.is_empty() || instances.iter().any(|i| i.state == "PENDING" && i.gone_at.is_none()) {
        return None;
    }
    let failed = instances
        .iter()
        .filter(|i| i.state == "LAUNCH_FAILED" || (i.gone_at.is_some() && i.running_at.is_none()))
        .count();
    let ran = instances.iter().filter(|i| i.running_at.is_some()).count();
    match (failed, ran) {
        (f, _) if f == instances.len() => Some(RequestState::LaunchFailed),
        (0, r) if r == instances.len() => Some(RequestState::Active),
        (f, r) if f + r == instances.len() => Some(RequestState::PartiallyActive),
        _ => None,
    }
}

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
    pub async fn round(&self) -> Result<usize, DeskError> {
        let now = self.desk.clock().now();
        let due = self.desk.store().session().await?.due_instances(now, 100_000).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let mut by_region: BTreeMap<String, Vec<InstanceRecord>> = BTreeMap::new();
        for record in due {
            by_region.entry(record.region.clone()).or_default().push(record);
        }
        let mut calls = 0;
        let mut observations = Vec::new();
        for (region, records) in by_region {
            let ids: Vec<String> = records.iter().map(|r| r.instance_id.clone()).collect();
            calls += ids.len().div_ceil(crate::tencent::cvm::IDS_PER_CALL);
            match self.desk.tencent().describe_instances(&region, &ids).await {
                Ok(found) => {
                    let found: HashMap<&str, &Instance> = found.iter().map(|i| (i.instance_id.as_str(), i)).collect();
                    let now = self.desk.clock().now();
                    observations.extend(
                        records
                            .iter()
                            .map(|r| observe(r, found.get(r.instance_id.as_str()).copied(), now, &self.settings)),
                    );
                }
                Err(error) => {
                    warn!(%error, region, "DescribeInstances failed; polling these instances later");
                    let now = self.desk.clock().now();
                    observations.extend(records.iter().map(|r| postpone(r, now, &self.settings)));
                }
            }
        }
        self.record(observations).await?;
        Ok(calls)
    }

    /// Stores observations in transactions of a few hundred, raising their notices and settling requests.
    async fn record(&self, observations: Vec<Observation>) -> Result<(), DeskError> {
        let mut touched = BTreeSet::new();
        let mut raised = 0;
        for chunk in observations.chunks(500) {
            let mut tx = self.desk.store().begin().await?;
            for observation in chunk {
                tx.update_instance(&observation.update).await?;
                for (key, notice) in &observation.notices {
                    if let Some(request_id) = notice.request_id() {
                        touched.insert(request_id);
                    }
                    let row = crate::desk::notice_row(key, notice, observation.update.now);
                    raised += usize::from(tx.enqueue_notification(&row).await?);
                }
            }
            tx.commit().await?;
        }
        for request_id in touched {
            self.settle(request_id).await?;
        }
        if raised > 0 {
            info!(raised, "tracker raised notices");
            self.desk.wake_dispatcher();
        }
        Ok(())
    }

    async fn settle(&self, request_id: i64) -> Result<(), DeskError> {
        let now = self.desk.clock().now();
        let mut tx = self.desk.store().begin().await?;
        let Some(record) = tx.lock_request(request_id).await? else {
            return Ok(());
        };
        let instances = tx.instances_of(request_id).await?;
        let Some(target) = settled_state(&instances) else {
            tx.bump_card(request_id).await?;
            return Ok(tx.commit().await?);
        };
        if record.state != target && record.state.can_become(target) {
            tx.transition(
                request_id,
                Transition {
                    from: record.state,
                    to: target,
                    at: now,
                },
            )
            .await?;
            tx.insert_audit(&AuditEntry::by_cvmbot(
                request_id,
                now,
                "instances-settled",
                record.state,
                target,
            ))
            .await?;
        } else {
            tx.bump_card(request_id).await?;
        }
        Ok(tx.commit().await?)
    }
}

/// After a failed poll: try again after the current interval, nothing else changes.
fn postpone(record: &InstanceRecord, now: OffsetDateTime, settings: &TrackerSettings) -> Observation {
    let interval = record.poll_interval.max(settings.initial);
    Observation {
        update: InstanceUpdate {
            instance_id: record.instance_id.clone(),
            state: record.state.clone(),
            private_ips: record.private_ips.clone(),
            public_ips: record.public_ips.clone(),
            error: record.error.clone(),
            running_at: None,
            public_ip_at: None,
            gone_at: None,
            watching: record.watching,
            next_poll_at: now + interval,
            poll_interval: interval,
            now,
        },
        notices: Vec::new(),
    }
}
