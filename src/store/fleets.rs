//! Fleets and their slots. The desk locks a fleet's request, reads the fleet and its slots,
//! changes them and saves them in one transaction; the store decides nothing.

use super::session::{RowExt, on_backend};
use super::{Session, StoreError, StoreResult, from_ms, to_ms};
use crate::domain::{RequestId, StoredId, UserId};
use std::time::Duration;
use time::OffsetDateTime;

/// Where a fleet is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetState {
    /// Keeping its servers running.
    Running,
    /// Released: its servers are being given back.
    Ending,
    /// Released, every server given back.
    Ended,
}

impl FleetState {
    fn as_str(self) -> &'static str {
        match self {
            FleetState::Running => "running",
            FleetState::Ending => "ending",
            FleetState::Ended => "ended",
        }
    }

    fn parse(text: &str) -> StoreResult<FleetState> {
        match text {
            "running" => Ok(FleetState::Running),
            "ending" => Ok(FleetState::Ending),
            "ended" => Ok(FleetState::Ended),
            other => Err(StoreError::Corrupt(format!("fleet state `{other}`"))),
        }
    }
}

/// A fleet as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetRecord {
    /// The fleet's request.
    pub request_id: RequestId,
    /// Its name.
    pub name: String,
    /// Its region.
    pub region: String,
    /// Who filed it.
    pub owner_id: UserId,
    /// How many servers it keeps.
    pub desired: u32,
    /// The most servers its budget was approved for.
    pub approved: u32,
    /// Where it is in its life.
    pub state: FleetState,
    /// The number the next new slot gets (slots are never reused).
    pub next_slot: u32,
    /// Why refills wait, while they do.
    pub waiting: Option<String>,
    /// Since when they wait.
    pub waiting_since: Option<OffsetDateTime>,
    /// No launch before this (a refusal that may pass backs off).
    pub next_try_at: Option<OffsetDateTime>,
    /// The current back-off.
    pub backoff: Duration,
    /// When it is released automatically, if it has a time to live.
    pub ends_at: Option<OffsetDateTime>,
    /// When a server was last found reclaimed or gone.
    pub last_reclaim_at: Option<OffsetDateTime>,
    /// When a slot was last refilled.
    pub last_refill_at: Option<OffsetDateTime>,
    /// Servers found reclaimed or gone, ever.
    pub reclaimed_total: u32,
    /// Slots filled after the first launch, ever.
    pub refilled_total: u32,
    /// Reclamations not told yet.
    pub untold_reclaimed: u32,
    /// Refills not told yet.
    pub untold_refilled: u32,
    /// Servers that failed to launch, not told yet.
    pub untold_failed: u32,
    /// Summaries told so far (the next one's number).
    pub news: u32,
    /// When the last summary was told.
    pub told_at: Option<OffsetDateTime>,
    /// Since when there is news not told yet.
    pub news_since: Option<OffsetDateTime>,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
}

/// Where a slot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotState {
    /// Nothing launched for this generation.
    Empty,
    /// RunInstances for this generation may have been sent: sent again with the same token.
    Launching,
    /// A server fills it.
    Filled,
    /// Being given back (scaled down or released).
    Retiring,
    /// Given back; never used again.
    Retired,
}

impl SlotState {
    fn as_str(self) -> &'static str {
        match self {
            SlotState::Empty => "empty",
            SlotState::Launching => "launching",
            SlotState::Filled => "filled",
            SlotState::Retiring => "retiring",
            SlotState::Retired => "retired",
        }
    }

    fn parse(text: &str) -> StoreResult<SlotState> {
        Ok(match text {
            "empty" => SlotState::Empty,
            "launching" => SlotState::Launching,
            "filled" => SlotState::Filled,
            "retiring" => SlotState::Retiring,
            "retired" => SlotState::Retired,
            other => return Err(StoreError::Corrupt(format!("fleet slot state `{other}`"))),
        })
    }
}

/// One place in a fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlotRecord {
    /// The fleet's request.
    pub fleet_id: RequestId,
    /// Its number in the fleet.
    pub slot: u32,
    /// Its launch's generation (part of the ClientToken).
    pub generation: u32,
    /// The placement its launch uses.
    pub placement: u32,
    /// Where it is.
    pub state: SlotState,
    /// The server filling it (or being given back).
    pub instance_id: Option<String>,
    /// When a server last filled it.
    pub filled_at: Option<OffsetDateTime>,
    /// When it last changed (for a `launching` slot: when its launch was first sent).
    pub updated_at: OffsetDateTime,
}

const FLEET_COLUMNS: &str = "request_id, name, region, owner_id, desired, approved, state, next_slot, waiting, \
     waiting_since, next_try_at, backoff_ms, ends_at, last_reclaim_at, last_refill_at, reclaimed_total, \
     refilled_total, untold_reclaimed, untold_refilled, untold_failed, news, told_at, news_since, created_at, ended_at";

const SLOT_COLUMNS: &str = "fleet_id, slot, generation, placement, state, instance_id, filled_at, updated_at";

fn count(row: &impl RowExt, column: &str) -> StoreResult<u32> {
    Ok(row.int(column)?.clamp(0, i64::from(u32::MAX)) as u32)
}

fn decode_fleet(row: &impl RowExt) -> StoreResult<FleetRecord> {
    Ok(FleetRecord {
        request_id: RequestId::new(row.int("request_id")?),
        name: row.text("name")?,
        region: row.text("region")?,
        owner_id: UserId::from_stored(row.int("owner_id")?),
        desired: count(row, "desired")?,
        approved: count(row, "approved")?,
        state: FleetState::parse(&row.text("state")?)?,
        next_slot: count(row, "next_slot")?,
        waiting: row.opt_text("waiting")?,
        waiting_since: row.opt_int("waiting_since")?.map(from_ms),
        next_try_at: row.opt_int("next_try_at")?.map(from_ms),
        backoff: Duration::from_millis(row.int("backoff_ms")?.max(0) as u64),
        ends_at: row.opt_int("ends_at")?.map(from_ms),
        last_reclaim_at: row.opt_int("last_reclaim_at")?.map(from_ms),
        last_refill_at: row.opt_int("last_refill_at")?.map(from_ms),
        reclaimed_total: count(row, "reclaimed_total")?,
        refilled_total: count(row, "refilled_total")?,
        untold_reclaimed: count(row, "untold_reclaimed")?,
        untold_refilled: count(row, "untold_refilled")?,
        untold_failed: count(row, "untold_failed")?,
        news: count(row, "news")?,
        told_at: row.opt_int("told_at")?.map(from_ms),
        news_since: row.opt_int("news_since")?.map(from_ms),
        created_at: from_ms(row.int("created_at")?),
        ended_at: row.opt_int("ended_at")?.map(from_ms),
    })
}

fn decode_slot(row: &impl RowExt) -> StoreResult<SlotRecord> {
    Ok(SlotRecord {
        fleet_id: RequestId::new(row.int("fleet_id")?),
        slot: count(row, "slot")?,
        generation: count(row, "generation")?,
        placement: count(row, "placement")?,
        state: SlotState::parse(&row.text("state")?)?,
        instance_id: row.opt_text("instance_id")?,
        filled_at: row.opt_int("filled_at")?.map(from_ms),
        updated_at: from_ms(row.int("updated_at")?),
    })
}

impl Session {
    /// Stores a new fleet with `fleet.desired` empty slots numbered from 0.
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %fleet.request_id))]
    pub async fn insert_fleet(&mut self, fleet: &FleetRecord) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO fleets (request_id, name, region, owner_id, desired, approved, state, next_slot, \
             ends_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $9) \
             ON CONFLICT (request_id) DO NOTHING";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(fleet.request_id.get())
                .bind(&fleet.name)
                .bind(&fleet.region)
                .bind(fleet.owner_id.to_stored())
                .bind(i64::from(fleet.desired))
                .bind(i64::from(fleet.approved))
                .bind(fleet.state.as_str())
                .bind(fleet.ends_at.map(to_ms))
                .bind(to_ms(fleet.created_at))
                .execute(&mut *conn)
                .await?;
        });
        self.add_slots(fleet.request_id, 0, fleet.desired, fleet.created_at)
            .await
    }

    /// Adds `count` empty slots numbered from `first`.
    pub async fn add_slots(
        &mut self,
        fleet: RequestId,
        first: u32,
        count: u32,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO fleet_slots (fleet_id, slot, generation, placement, state, updated_at) \
             VALUES ($1, $2, 0, 0, 'empty', $3) ON CONFLICT (fleet_id, slot) DO NOTHING";
        const NEXT: &str = "UPDATE fleets SET next_slot = $2 WHERE request_id = $1 AND next_slot < $2";
        for slot in first..first + count {
            on_backend!(self, |conn| {
                sqlx::query(SQL)
                    .bind(fleet.get())
                    .bind(i64::from(slot))
                    .bind(to_ms(now))
                    .execute(&mut *conn)
                    .await?;
            });
        }
        on_backend!(self, |conn| {
            sqlx::query(NEXT)
                .bind(fleet.get())
                .bind(i64::from(first + count))
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }

    /// The fleet of request `request_id`.
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %request_id))]
    pub async fn fleet(&mut self, request_id: RequestId) -> StoreResult<Option<FleetRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {FLEET_COLUMNS} FROM fleets WHERE request_id = $1"));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(request_id.get())
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| decode_fleet(&row))
            .transpose())
    }

    /// The running fleet named `name`, or else the newest fleet of that name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn fleet_named(&mut self, name: &str) -> StoreResult<Option<FleetRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FLEET_COLUMNS} FROM fleets WHERE name = $1 \
             ORDER BY CASE WHEN state = 'running' THEN 0 ELSE 1 END, request_id DESC LIMIT 1"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| decode_fleet(&row))
            .transpose())
    }

    /// Fleets with work left: running, or giving their servers back.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn live_fleets(&mut self) -> StoreResult<Vec<FleetRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FLEET_COLUMNS} FROM fleets WHERE state <> 'ended' ORDER BY request_id"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode_fleet)
            .collect())
    }

    /// Saves what may change of a fleet.
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %fleet.request_id))]
    pub async fn save_fleet(&mut self, fleet: &FleetRecord, now: OffsetDateTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE fleets SET desired = $2, approved = $3, state = $4, waiting = $5, waiting_since = $6, \
             next_try_at = $7, backoff_ms = $8, ends_at = $9, last_reclaim_at = $10, last_refill_at = $11, \
             reclaimed_total = $12, refilled_total = $13, untold_reclaimed = $14, untold_refilled = $15, \
             untold_failed = $16, news = $17, ended_at = $18, updated_at = $19, told_at = $20, news_since = $21 WHERE request_id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(fleet.request_id.get())
                .bind(i64::from(fleet.desired))
                .bind(i64::from(fleet.approved))
                .bind(fleet.state.as_str())
                .bind(fleet.waiting.as_deref())
                .bind(fleet.waiting_since.map(to_ms))
                .bind(fleet.next_try_at.map(to_ms))
                .bind(fleet.backoff.as_millis() as i64)
                .bind(fleet.ends_at.map(to_ms))
                .bind(fleet.last_reclaim_at.map(to_ms))
                .bind(fleet.last_refill_at.map(to_ms))
                .bind(i64::from(fleet.reclaimed_total))
                .bind(i64::from(fleet.refilled_total))
                .bind(i64::from(fleet.untold_reclaimed))
                .bind(i64::from(fleet.untold_refilled))
                .bind(i64::from(fleet.untold_failed))
                .bind(i64::from(fleet.news))
                .bind(fleet.ended_at.map(to_ms))
                .bind(to_ms(now))
                .bind(fleet.told_at.map(to_ms))
                .bind(fleet.news_since.map(to_ms))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// The servers that fill a fleet's slots or are being given back from them.
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %fleet))]
    pub async fn fleet_instances(&mut self, fleet: RequestId) -> StoreResult<Vec<super::InstanceRecord>> {
        let columns: Vec<String> = super::instances::COLUMNS
            .split(',')
            .map(|c| format!("i.{}", c.trim()))
            .collect();
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM instances i JOIN fleet_slots s ON s.fleet_id = i.request_id AND s.instance_id = i.instance_id \
             WHERE s.fleet_id = $1 AND s.state IN ('filled', 'retiring') ORDER BY s.slot",
            columns.join(", ")
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(fleet.get())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(super::instances::decode)
            .collect())
    }

    /// A fleet's servers that ran at some time since `since` (what its spend this month adds up).
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %fleet))]
    pub async fn fleet_runs_since(
        &mut self,
        fleet: RequestId,
        since: OffsetDateTime,
    ) -> StoreResult<Vec<super::InstanceRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM instances WHERE request_id = $1 AND running_at IS NOT NULL \
             AND (gone_at IS NULL OR gone_at >= $2) AND (released_at IS NULL OR released_at >= $2)",
            super::instances::COLUMNS
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(fleet.get())
            .bind(to_ms(since))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(super::instances::decode)
            .collect())
    }

    /// A fleet's slots that are not retired, by number.
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %fleet))]
    pub async fn fleet_slots(&mut self, fleet: RequestId) -> StoreResult<Vec<SlotRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {SLOT_COLUMNS} FROM fleet_slots WHERE fleet_id = $1 AND state <> 'retired' ORDER BY slot"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(fleet.get())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode_slot)
            .collect())
    }

    /// Saves a slot.
    #[tracing::instrument(level = "debug", skip_all, fields(fleet = %slot.fleet_id, slot = slot.slot))]
    pub async fn save_slot(&mut self, slot: &SlotRecord, now: OffsetDateTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE fleet_slots SET generation = $3, placement = $4, state = $5, instance_id = $6, \
             filled_at = $7, updated_at = $8 WHERE fleet_id = $1 AND slot = $2";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(slot.fleet_id.get())
                .bind(i64::from(slot.slot))
                .bind(i64::from(slot.generation))
                .bind(i64::from(slot.placement))
                .bind(slot.state.as_str())
                .bind(slot.instance_id.as_deref())
                .bind(slot.filled_at.map(to_ms))
                .bind(to_ms(now))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }
}
