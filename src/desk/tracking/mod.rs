//! Tracking bought instances: what the tracker worker polls, and recording what it saw. The pure
//! judgement of one poll is [`observe`]; recording it (the instance row, its events, and the
//! request settled to what its instances add up to) is one transaction per few hundred
//! observations, so a crash leaves all of an observation or none of it.

mod observe;

pub(super) use observe::NEW_INSTANCE_GRACE;
pub use observe::{Observation, TrackerSettings, observe, postpone, settled_state};

use super::keys::AuditAction;
use super::steps::Step;
use super::{Desk, DeskError};
use crate::domain::RequestId;
use crate::store::{InstanceRecord, RequestRecord, Session};
use crate::tencent::ApiError;
use crate::tencent::cvm::Instance;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use tracing::{info, instrument};

/// Observations stored per transaction (whole requests are never split across two).
const OBSERVATIONS_PER_TRANSACTION: usize = 500;

impl Desk {
    /// Watched instances due for a poll at `now`, soonest first, at most `limit`.
    pub async fn due_instances(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<InstanceRecord>, DeskError> {
        Ok(self.store().session().await?.due_instances(now, limit).await?)
    }

    /// The `limit` watched instances of `region` due soonest after `now` (to fill a call's room).
    pub async fn next_due_instances(
        &self,
        region: &str,
        now: OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<InstanceRecord>, DeskError> {
        Ok(self
            .store()
            .session()
            .await?
            .next_due_instances(region, now, limit)
            .await?)
    }

    /// When the next watched instance is due for a poll.
    pub async fn next_poll_at(&self) -> Result<Option<OffsetDateTime>, DeskError> {
        Ok(self.store().session().await?.next_poll_at().await?)
    }

    /// What Tencent says of `ids` in `region` (DescribeInstances, 100 ids a call); instances it no
    /// longer knows are absent.
    pub async fn describe_instances(&self, region: &str, ids: &[String]) -> Result<Vec<Instance>, ApiError> {
        self.tencent().describe_instances(region, ids).await
    }

    /// Stores observations a few hundred per transaction. Each transaction also raises their
    /// notices and settles their requests, so a crash leaves all of an observation or none of it.
    pub async fn record_observations(&self, mut observations: Vec<Observation>) -> Result<(), DeskError> {
        observations.sort_by_key(|o| o.request_id);
        let fleet_news = observations.iter().any(|o| o.fleet_news);
        let mut raised = 0;
        let mut rest = observations.as_slice();
        while !rest.is_empty() {
            let mut end = rest.len().min(OBSERVATIONS_PER_TRANSACTION);
            while end < rest.len() && rest[end].request_id == rest[end - 1].request_id {
                end += 1;
            }
            let (chunk, tail) = rest.split_at(end);
            raised += self.record_observation_chunk(chunk).await?;
            rest = tail;
        }
        if raised > 0 {
            info!(raised, "tracker raised notices");
            self.wake_dispatcher();
        }
        if fleet_news {
            self.wake_fleets();
        }
        Ok(())
    }

    /// One transaction: lock the requests that have news, update the instances, queue the
    /// notices, settle the requests. Returns how many notices were new.
    async fn record_observation_chunk(&self, chunk: &[Observation]) -> Result<usize, DeskError> {
        let touched: BTreeSet<RequestId> = chunk
            .iter()
            .filter(|o| !o.notices.is_empty())
            .map(|o| o.request_id)
            .collect();
        let mut tx = self.store().begin().await?;
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
                let row = super::notice_row(key, notice, observation.update.now);
                raised += usize::from(tx.enqueue_notification(&row).await?);
            }
        }
        let now = self.clock().now();
        for record in &locked {
            settle(&mut tx, record, now).await?;
        }
        // A fleet's servers have no notices; its card shows what they do.
        let fleets: BTreeSet<RequestId> = chunk.iter().filter(|o| o.fleet_news).map(|o| o.request_id).collect();
        for fleet in fleets {
            tx.bump_card(fleet).await?;
        }
        tx.commit().await?;
        Ok(raised)
    }
}

/// Moves a locked request to what its instances add up to, or just refreshes its card.
#[instrument(skip_all, fields(request_id = %record.id))]
async fn settle(tx: &mut Session, record: &RequestRecord, now: OffsetDateTime) -> Result<(), DeskError> {
    let instances = tx.instances_of(record.id).await?;
    match settled_state(&instances) {
        Some(target) if record.state != target && record.state.can_become(target) => {
            Step::new(AuditAction::InstancesSettled, record.state, target)
                .take(tx, record.id, now)
                .await?;
        }
        _ => tx.bump_card(record.id).await?,
    }
    Ok(())
}
