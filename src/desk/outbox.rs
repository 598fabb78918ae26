//! The outbox: events and cards to post, stored in the transaction that raised them and delivered
//! by the chat's dispatcher through the narrow methods here.

use super::Event;
use super::keys::DedupeKey;
use crate::domain::{MessageId, RequestId};
use crate::store::{NewNotification, NotificationRecord, RequestRecord};
use time::OffsetDateTime;

/// The outbox row for `notice` under the dedupe `key`: request notices go to the request's channel,
/// the rest to the alert channel.
pub fn notice_row(key: &DedupeKey, notice: &Event, at: OffsetDateTime) -> NewNotification {
    let target = if notice.request_id().is_some() {
        "request"
    } else {
        "alert"
    };
    NewNotification {
        dedupe_key: key.as_str().to_owned(),
        request_id: notice.request_id(),
        target: target.into(),
        body: serde_json::to_string(notice).expect("notices serialize"),
        at,
    }
}

/// The outbox row for `notice` in the alert channel, whatever request it is about.
pub fn alert_row(key: &DedupeKey, notice: &Event, at: OffsetDateTime) -> NewNotification {
    NewNotification {
        target: "alert".into(),
        ..notice_row(key, notice, at)
    }
}

/// What an outbox row asks the chat to post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Posting {
    /// The request's card, where it was filed.
    Card,
    /// An event, in the request's channel (or thread) or the alert channel.
    Event(Event),
}

impl Posting {
    /// True for news about one instance, which several instances of a purchase raise together.
    pub fn is_about_an_instance(&self) -> bool {
        matches!(self, Posting::Event(event) if event.is_about_an_instance())
    }
}

impl super::Desk {
    /// Outbox rows due for (another) delivery attempt, oldest first, with what each asks to post.
    /// A row that can't be read (written by a version of cvmbot that knew other events) is given
    /// up and logged, rather than blocking every row behind it.
    pub async fn due_postings(&self, limit: i64) -> Result<Vec<(NotificationRecord, Posting)>, super::DeskError> {
        let now = self.clock().now();
        let rows = self.store().session().await?.due_notifications(now, limit).await?;
        let mut due = Vec::with_capacity(rows.len());
        for row in rows {
            if row.target == "card" {
                due.push((row, Posting::Card));
                continue;
            }
            match serde_json::from_str::<Event>(&row.body) {
                Ok(event) => due.push((row, Posting::Event(event))),
                Err(error) => {
                    tracing::error!(key = %row.dedupe_key, %error, "an outbox row cannot be read; dropping it");
                    self.posted(std::slice::from_ref(&row), None).await?;
                }
            }
        }
        Ok(due)
    }

    /// Requests whose card changed since it was last shown, at most `limit`.
    pub async fn stale_cards(&self, limit: i64) -> Result<Vec<RequestRecord>, super::DeskError> {
        Ok(self.store().session().await?.stale_cards(limit).await?)
    }

    /// Records that a delivery of row `id` is about to be attempted (committed before the post,
    /// so a process that dies after posting leaves the mark behind).
    pub async fn claim_posting(&self, id: i64) -> Result<(), super::DeskError> {
        let mut tx = self.store().begin().await?;
        tx.claim_notification(id, self.clock().now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks `rows` delivered as the message `message_id` (`None`: given up, or nowhere to post).
    pub async fn posted(
        &self,
        rows: &[NotificationRecord],
        message_id: Option<MessageId>,
    ) -> Result<(), super::DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        for row in rows {
            tx.mark_notification_sent(row.id, message_id, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a failed delivery of `rows` and when to try again.
    pub async fn posting_failed(
        &self,
        rows: &[NotificationRecord],
        error: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), super::DeskError> {
        let mut tx = self.store().begin().await?;
        for row in rows {
            tx.mark_notification_failed(row.id, error, retry_at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every outbox row (of one request, or all), oldest first: what was said, and whether it was
    /// delivered (for the console's `/await` and for tests).
    pub async fn outbox(&self, request_id: Option<RequestId>) -> Result<Vec<NotificationRecord>, super::DeskError> {
        Ok(self.store().session().await?.notifications(request_id).await?)
    }
}
