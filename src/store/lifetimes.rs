//! Purchases' times to live and the reminders sent before they end.

use super::session::{RowExt, on_backend};
use super::{Session, StoreResult, from_ms, to_ms};
use crate::domain::RequestId;
use std::time::Duration;
use time::OffsetDateTime;

/// When a purchase's servers are released automatically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifetimeRecord {
    /// The purchase.
    pub request_id: RequestId,
    /// When the purchase was carried out (the lifetime's start).
    pub started_at: OffsetDateTime,
    /// When its servers are released.
    pub release_at: OffsetDateTime,
    /// How often it was extended.
    pub extensions: u32,
    /// When the end was acted on: the release filed, or nothing was left to release.
    pub ended_at: Option<OffsetDateTime>,
    /// The release request the end filed.
    pub release_request: Option<RequestId>,
}

const COLUMNS: &str = "request_id, started_at, release_at, extensions, ended_at, release_request_id";

fn decode(row: &impl RowExt) -> StoreResult<LifetimeRecord> {
    Ok(LifetimeRecord {
        request_id: RequestId::new(row.int("request_id")?),
        started_at: from_ms(row.int("started_at")?),
        release_at: from_ms(row.int("release_at")?),
        extensions: row.int("extensions")?.max(0) as u32,
        ended_at: row.opt_int("ended_at")?.map(from_ms),
        release_request: row.opt_int("release_request_id")?.map(RequestId::new),
    })
}

impl Session {
    /// Starts purchase `request_id`'s lifetime at `started`, to end at `release_at`.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn start_lifetime(
        &mut self,
        request_id: RequestId,
        started: OffsetDateTime,
        release_at: OffsetDateTime,
    ) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO lifetimes (request_id, started_at, release_at, updated_at) \
             VALUES ($1, $2, $3, $2) ON CONFLICT (request_id) DO NOTHING";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(request_id.get())
                .bind(to_ms(started))
                .bind(to_ms(release_at))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Purchase `request_id`'s lifetime, if it has a time to live.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn lifetime(&mut self, request_id: RequestId) -> StoreResult<Option<LifetimeRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM lifetimes WHERE request_id = $1"));
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .bind(request_id.get())
                .fetch_optional(&mut *conn)
                .await?
                .as_ref()
                .map(decode)
                .transpose()
        })
    }

    /// Lifetimes not acted on that end by `until`, soonest first, at most `limit`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lifetimes_ending_by(&mut self, until: OffsetDateTime, limit: i64) -> StoreResult<Vec<LifetimeRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM lifetimes WHERE ended_at IS NULL AND release_at <= $1 \
             ORDER BY release_at, request_id LIMIT $2"
        ));
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .bind(to_ms(until))
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(decode)
                .collect()
        })
    }

    /// Moves the end of purchase `request_id`'s lifetime to `release_at`.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn extend_lifetime(
        &mut self,
        request_id: RequestId,
        release_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE lifetimes SET release_at = $2, extensions = extensions + 1, updated_at = $3 \
             WHERE request_id = $1 AND ended_at IS NULL";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(request_id.get())
                .bind(to_ms(release_at))
                .bind(to_ms(now))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Records that the end of purchase `request_id`'s lifetime was acted on at `at` (by filing
    /// `release`, or finding nothing left to release).
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn end_lifetime(
        &mut self,
        request_id: RequestId,
        release: Option<RequestId>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE lifetimes SET ended_at = $2, release_request_id = $3, updated_at = $2 \
             WHERE request_id = $1 AND ended_at IS NULL";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(request_id.get())
                .bind(to_ms(at))
                .bind(release.map(RequestId::get))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Whether reminder `kind` of `request_id`, `lead` before `deadline`, was recorded.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id, kind))]
    pub async fn reminder_recorded(
        &mut self,
        request_id: RequestId,
        kind: &str,
        deadline: OffsetDateTime,
        lead: Duration,
    ) -> StoreResult<bool> {
        const SQL: &str = "SELECT COUNT(*) FROM reminders WHERE request_id = $1 AND kind = $2 AND deadline = $3 \
             AND lead_ms = $4";
        on_backend!(self, |conn| {
            let n: i64 = sqlx::query_scalar(SQL)
                .bind(request_id.get())
                .bind(kind)
                .bind(to_ms(deadline))
                .bind(lead.as_millis() as i64)
                .fetch_one(&mut *conn)
                .await?;
            Ok(n > 0)
        })
    }

    /// Records reminder `kind` of `request_id` sent `lead` before `deadline`; false when it was
    /// recorded already (sent before a restart, or by another pass).
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id, kind))]
    pub async fn record_reminder(
        &mut self,
        request_id: RequestId,
        kind: &str,
        deadline: OffsetDateTime,
        lead: Duration,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "INSERT INTO reminders (request_id, kind, deadline, lead_ms, sent_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(request_id.get())
                .bind(kind)
                .bind(to_ms(deadline))
                .bind(lead.as_millis() as i64)
                .bind(to_ms(at))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}
