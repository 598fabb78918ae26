//! The audit log: every transition with its actor, time and Tencent RequestId.

use super::session::{RowExt, on_backend};
use super::{Session, StoreResult, from_ms, to_ms};
use crate::domain::{RequestId, StoredId, UserId};
use time::OffsetDateTime;

/// One audit event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// The request concerned, if any.
    pub request_id: Option<RequestId>,
    /// When.
    pub at: OffsetDateTime,
    /// Who (chat user id); `None` for cvmbot itself.
    pub actor_id: Option<UserId>,
    /// Who, by name (`cvmbot` for the bot).
    pub actor_name: String,
    /// What: `created`, `approved`, `submitted`, …
    pub action: String,
    /// State before.
    pub from_state: Option<String>,
    /// State after.
    pub to_state: Option<String>,
    /// Free text: a reason, an error code.
    pub detail: Option<String>,
    /// Tencent's RequestId of the call behind the event.
    pub tencent_request_id: Option<String>,
}

/// Which audit events to read: those in a time window, and of one actor or one request if given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditFilter {
    /// On or after this instant.
    pub since: OffsetDateTime,
    /// Before this instant; `None`: up to now.
    pub until: Option<OffsetDateTime>,
    /// Only what this person did.
    pub actor: Option<UserId>,
    /// Only what concerns this request.
    pub request: Option<RequestId>,
}

impl AuditFilter {
    /// Every event on or after `since`.
    pub fn since(since: OffsetDateTime) -> AuditFilter {
        AuditFilter {
            since,
            until: None,
            actor: None,
            request: None,
        }
    }
}

fn decode(row: &impl RowExt) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        request_id: row.opt_int("request_id")?.map(RequestId::from_stored),
        at: from_ms(row.int("at")?),
        actor_id: row.opt_int("actor_id")?.map(UserId::from_stored),
        actor_name: row.text("actor_name")?,
        action: row.text("action")?,
        from_state: row.opt_text("from_state")?,
        to_state: row.opt_text("to_state")?,
        detail: row.opt_text("detail")?,
        tencent_request_id: row.opt_text("tencent_request_id")?,
    })
}

impl Session {
    /// Appends an event.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = entry.request_id.map(tracing::field::display), action = %entry.action))]
    pub async fn insert_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO audit (request_id, at, actor_id, actor_name, action, from_state, to_state, detail, \
             tencent_request_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(entry.request_id.map(StoredId::to_stored))
                .bind(to_ms(entry.at))
                .bind(entry.actor_id.map(StoredId::to_stored))
                .bind(&entry.actor_name)
                .bind(&entry.action)
                .bind(&entry.from_state)
                .bind(&entry.to_state)
                .bind(&entry.detail)
                .bind(&entry.tencent_request_id)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Events since `since`, oldest first.
    pub async fn audit_since(&mut self, since: OffsetDateTime) -> StoreResult<Vec<AuditEntry>> {
        self.audit_matching(&AuditFilter::since(since)).await
    }

    /// The events `filter` selects, oldest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn audit_matching(&mut self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        const SQL: &str = "SELECT request_id, at, actor_id, actor_name, action, from_state, to_state, detail, tencent_request_id \
             FROM audit WHERE at >= $1 AND at < $2 AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR request_id = $4) \
             ORDER BY at, id";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(to_ms(filter.since))
            .bind(filter.until.map_or(i64::MAX, to_ms))
            .bind(filter.actor.map(StoredId::to_stored))
            .bind(filter.request.map(StoredId::to_stored))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }

    /// Events of one request, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn audit_of(&mut self, request_id: RequestId) -> StoreResult<Vec<AuditEntry>> {
        const SQL: &str = "SELECT request_id, at, actor_id, actor_name, action, from_state, to_state, detail, tencent_request_id \
             FROM audit WHERE request_id = $1 ORDER BY at, id";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(request_id.get())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }
}
