//! Request cards: posted through the outbox like every notice, so a card is posted (or found
//! again and linked) exactly once whatever point the process stops at, and edited in place after.

use super::keys::{DedupeKey, RequestNews};
use super::{Desk, DeskError};
use crate::domain::{ChannelId, MessageId, RequestId};
use crate::store::NewNotification;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::broadcast::error::RecvError;

/// Where a posted card is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostedCard {
    /// The channel it was posted in.
    pub channel_id: ChannelId,
    /// The message.
    pub message_id: MessageId,
    /// The thread opened under it, if any.
    pub thread_id: Option<ChannelId>,
    /// The card version it showed.
    pub shown_version: i64,
}

/// The outbox row that asks for request `id`'s card to be posted.
pub(super) fn card_row(id: RequestId, at: OffsetDateTime) -> NewNotification {
    NewNotification {
        dedupe_key: DedupeKey::request(id, RequestNews::Card).as_str().to_owned(),
        request_id: Some(id),
        target: "card".into(),
        body: "{}".into(),
        at,
    }
}

impl Desk {
    /// Records, in one transaction, that request `id`'s card is posted where `card` says and that
    /// its outbox row (`notification_id`) is done.
    pub async fn link_card(&self, id: RequestId, notification_id: i64, card: PostedCard) -> Result<(), DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        tx.attach_message(
            id,
            card.channel_id,
            card.message_id,
            card.thread_id,
            Some(card.shown_version),
        )
        .await?;
        tx.mark_notification_sent(notification_id, Some(card.message_id), now)
            .await?;
        tx.commit().await?;
        let _ = self.inner.cards_linked.send(id);
        Ok(())
    }

    /// Records that request `id`'s card is the message `message_id` in `channel_id` (an adapter
    /// that showed the card itself).
    pub async fn attach_message(
        &self,
        id: RequestId,
        channel_id: ChannelId,
        message_id: MessageId,
        thread_id: Option<ChannelId>,
    ) -> Result<(), DeskError> {
        let mut tx = self.store().begin().await?;
        tx.attach_message(id, channel_id, message_id, thread_id, None).await?;
        tx.commit().await?;
        let _ = self.inner.cards_linked.send(id);
        Ok(())
    }

    /// Records that the card shown for request `id` is up to date as of `version`.
    pub async fn mark_card_shown(&self, id: RequestId, version: i64) -> Result<(), DeskError> {
        let mut tx = self.store().begin().await?;
        tx.mark_card_shown(id, version).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Waits up to `timeout` for request `id`'s card to be posted; its message id, or `None` if it
    /// is not posted yet (the dispatcher keeps trying; on another replica it may be posted already).
    pub async fn wait_for_card(&self, id: RequestId, timeout: Duration) -> Result<Option<MessageId>, DeskError> {
        let mut linked = self.inner.cards_linked.subscribe();
        self.wake_dispatcher();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(message) = self.view(id).await?.record.message_id {
                return Ok(Some(message));
            }
            loop {
                match tokio::time::timeout_at(deadline, linked.recv()).await {
                    Err(_) => return Ok(self.view(id).await?.record.message_id),
                    Ok(Ok(linked_id)) if linked_id != id => continue,
                    Ok(Ok(_) | Err(RecvError::Lagged(_))) => break,
                    Ok(Err(RecvError::Closed)) => return Ok(None),
                }
            }
        }
    }

    /// Queues the cards of requests under way that have none (filed by a version of cvmbot that
    /// posted cards outside the outbox and stopped before posting). Called when the workers start.
    pub async fn recover_cards(&self) -> Result<usize, DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let mut queued = 0;
        for id in tx.requests_without_cards().await? {
            queued += usize::from(tx.enqueue_notification(&card_row(id, now)).await?);
        }
        tx.commit().await?;
        if queued > 0 {
            tracing::warn!(queued, "queued the cards of requests that had none");
            self.wake_dispatcher();
        }
        Ok(queued)
    }

    /// This installation's id (ClientTokens and chat nonces derive from it).
    pub fn installation_id(&self) -> &str {
        &self.inner.installation_id
    }
}
