//! Counts the health and metrics listener reads at each scrape: cheap aggregate queries that
//! change nothing.

use super::session::{RowExt, on_backend};
use super::{Session, StoreResult, from_ms};
use time::OffsetDateTime;

/// Requests of one kind in one state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCount {
    /// The stored kind (`buy`, `release`, …).
    pub kind: String,
    /// The stored state (`pending`, `done`, …).
    pub state: String,
    /// How many.
    pub count: i64,
}

/// The outbox's unsent notices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backlog {
    /// How many are not delivered yet.
    pub depth: i64,
    /// When the oldest of them was queued, if there is one.
    pub oldest: Option<OffsetDateTime>,
}

fn decode_count(row: &impl RowExt) -> StoreResult<StateCount> {
    Ok(StateCount {
        kind: row.text("kind")?,
        state: row.text("state")?,
        count: row.int("n")?,
    })
}

impl Session {
    /// Answers when the database does (the readiness check).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&mut self) -> StoreResult<()> {
        on_backend!(self, |conn| {
            sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&mut *conn).await?;
            Ok(())
        })
    }

    /// How many requests there are of each kind in each state (only pairs that have any).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn requests_by_state(&mut self) -> StoreResult<Vec<StateCount>> {
        const SQL: &str = "SELECT kind, state, COUNT(*) AS n FROM requests GROUP BY kind, state ORDER BY kind, state";
        on_backend!(self, |conn| sqlx::query(SQL)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode_count)
            .collect())
    }

    /// How many audit entries record `action` (`submitted`, `released`, …): the audit log keeps
    /// every step, so this only ever grows.
    #[tracing::instrument(level = "debug", skip_all, fields(action))]
    pub async fn count_audit(&mut self, action: &str) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM audit WHERE action = $1";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(action)
            .fetch_one(&mut *conn)
            .await?))
    }

    /// The notices not delivered yet: how many, and when the oldest was queued.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn outbox_backlog(&mut self) -> StoreResult<Backlog> {
        const SQL: &str = "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM notifications WHERE sent_at IS NULL";
        on_backend!(self, |conn| {
            let row = sqlx::query(SQL).fetch_one(&mut *conn).await?;
            Ok(Backlog {
                depth: row.int("n")?,
                oldest: row.opt_int("oldest")?.map(from_ms),
            })
        })
    }

    /// How many instances the tracker watches.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn count_watched_instances(&mut self) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM instances WHERE watching = TRUE";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .fetch_one(&mut *conn)
            .await?))
    }
}
