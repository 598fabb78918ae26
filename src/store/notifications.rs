//! The notification outbox: a notice is stored in the transaction that caused it, under a key that
//! makes it unique, and delivered later by the dispatcher; so it is sent once across restarts.

use super::session::{RowExt, on_backend};
use super::{Session, StoreResult, from_ms, to_ms};
use crate::domain::{MessageId, RequestId, StoredId};
use time::OffsetDateTime;

/// A notice to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotification {
    /// Unique per event (`instance:ins-1:running`); a second insert with the same key is ignored.
    pub dedupe_key: String,
    /// The request it belongs to, if any.
    pub request_id: Option<RequestId>,
    /// `request` (its channel or thread), `alert` (the alert channel) or `card` (the request's
    /// card, posted in the channel it was filed from).
    pub target: String,
    /// The notice, JSON.
    pub body: String,
    /// When it was raised.
    pub at: OffsetDateTime,
}

/// A stored notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotificationRecord {
    /// The row's id; notices are delivered in its order.
    pub id: i64,
    /// Unique per event (`instance:ins-1:running`).
    pub dedupe_key: String,
    /// The request it belongs to, if any.
    pub request_id: Option<RequestId>,
    /// `request`, `alert` or `card` (see [`NewNotification::target`]).
    pub target: String,
    /// The notice, JSON.
    pub body: String,
    /// When it was raised.
    pub created_at: OffsetDateTime,
    /// When it was delivered or given up on (none while unsent).
    pub sent_at: Option<OffsetDateTime>,
    /// The chat message it was posted as (none if given up on or there was nowhere to post).
    pub message_id: Option<MessageId>,
    /// Delivery attempts so far, the successful one included.
    pub attempts: u32,
    /// When a dispatcher last started posting it (it may have been posted if this is set).
    pub claimed_at: Option<OffsetDateTime>,
}

fn decode(row: &impl RowExt) -> StoreResult<NotificationRecord> {
    Ok(NotificationRecord {
        id: row.int("id")?,
        dedupe_key: row.text("dedupe_key")?,
        request_id: row.opt_int("request_id")?.map(RequestId::from_stored),
        target: row.text("target")?,
        body: row.text("body")?,
        created_at: from_ms(row.int("created_at")?),
        sent_at: row.opt_int("sent_at")?.map(from_ms),
        message_id: row.opt_int("message_id")?.map(MessageId::from_stored),
        attempts: row.int("attempts")? as u32,
        claimed_at: row.opt_int("claimed_at")?.map(from_ms),
    })
}

const COLUMNS: &str = "id, dedupe_key, request_id, target, body, created_at, sent_at, message_id, attempts, claimed_at";

impl Session {
    /// Queues a notice; false when one with the same key exists (it was raised before).
    #[tracing::instrument(level = "debug", skip_all, fields(key = %new.dedupe_key))]
    pub async fn enqueue_notification(&mut self, new: &NewNotification) -> StoreResult<bool> {
        const SQL: &str = "INSERT INTO notifications (dedupe_key, request_id, target, body, created_at, next_try_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (dedupe_key) DO NOTHING";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(&new.dedupe_key)
                .bind(new.request_id.map(StoredId::to_stored))
                .bind(&new.target)
                .bind(&new.body)
                .bind(to_ms(new.at))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// How many notices were ever raised under keys starting with `prefix` (a sequence number for
    /// events that have no natural key of their own, such as balance alerts).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn count_notifications(&mut self, prefix: &str) -> StoreResult<i64> {
        const SQL: &str = "SELECT COUNT(*) FROM notifications WHERE substr(dedupe_key, 1, $2) = $1";
        let length = i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX);
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(prefix)
            .bind(length)
            .fetch_one(&mut *conn)
            .await?))
    }

    /// Unsent notices due for (another) delivery attempt, oldest first, leaving out those behind
    /// an older unsent notice of the same request (or, for alerts, an older unsent alert) that is
    /// waiting for its retry: a chat that failed for a while must not show a request's public IP
    /// before its RUNNING, or a recovery before the warning.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn due_notifications(&mut self, now: OffsetDateTime, limit: i64) -> StoreResult<Vec<NotificationRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications n WHERE n.sent_at IS NULL AND n.next_try_at <= $1 \
             AND NOT EXISTS (SELECT 1 FROM notifications e WHERE e.sent_at IS NULL AND e.id < n.id \
             AND e.next_try_at > $1 AND COALESCE(e.request_id, -1) = COALESCE(n.request_id, -1)) \
             ORDER BY n.id LIMIT $2"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(to_ms(now))
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }

    /// Every notice, oldest first (tests and the console read what was said).
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = request_id.map(tracing::field::display)))]
    pub async fn notifications(&mut self, request_id: Option<RequestId>) -> StoreResult<Vec<NotificationRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM notifications WHERE ($1 IS NULL OR request_id = $1) ORDER BY id"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(request_id.map(StoredId::to_stored))
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode)
            .collect())
    }

    /// Marks a notice delivered; false if another worker already did.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_notification_sent(
        &mut self,
        id: i64,
        message_id: Option<MessageId>,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE notifications SET sent_at = $2, message_id = $3, attempts = attempts + 1 \
             WHERE id = $1 AND sent_at IS NULL";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(id)
                .bind(to_ms(at))
                .bind(message_id.map(StoredId::to_stored))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Records that a delivery is about to be attempted (committed before the post, so a process
    /// that dies after posting leaves the mark behind).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn claim_notification(&mut self, id: i64, at: OffsetDateTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE notifications SET claimed_at = $2 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL).bind(id).bind(to_ms(at)).execute(&mut *conn).await?;
            Ok(())
        })
    }

    /// Records a failed delivery and when to try again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn mark_notification_failed(
        &mut self,
        id: i64,
        error: &str,
        retry_at: OffsetDateTime,
    ) -> StoreResult<()> {
        const SQL: &str =
            "UPDATE notifications SET attempts = attempts + 1, last_error = $2, next_try_at = $3 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id)
                .bind(error)
                .bind(to_ms(retry_at))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }
}
