//! The one way workers reach the chat. Discord and the console implement it; tests record.

use super::model::Outgoing;
use crate::domain::{ChannelId, MessageId, RequestId};
use futures_util::future::BoxFuture;
use std::sync::Mutex;

/// Posts and edits messages in a chat.
pub trait Notifier: Send + Sync {
    /// Posts `message` in `channel`; returns the new message's id. Its reactions are added after.
    fn post<'a>(&'a self, channel: ChannelId, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<MessageId>>;
    /// Replaces the content of an earlier message.
    fn edit<'a>(
        &'a self,
        channel: ChannelId,
        message_id: MessageId,
        message: &'a Outgoing,
    ) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Adds the reaction `emoji` to a message of the bot's.
    fn react<'a>(
        &'a self,
        _channel: ChannelId,
        _message_id: MessageId,
        _emoji: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Opens a thread under a message; returns the thread's channel id.
    fn open_thread<'a>(
        &'a self,
        _channel: ChannelId,
        _message_id: MessageId,
        _name: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<ChannelId>> {
        Box::pin(async { anyhow::bail!("this chat has no threads") })
    }
    /// Looks among `channel`'s recent messages for the bot's own card of `card` (one posted by a
    /// process that died before recording it); its message id if found.
    fn find_card<'a>(
        &'a self,
        _channel: ChannelId,
        _card: &'a CardMark,
    ) -> BoxFuture<'a, anyhow::Result<Option<MessageId>>> {
        Box::pin(async { Ok(None) })
    }
}

/// What tells a request's card from any other message: its vote buttons carry the request id and
/// the approval hash, and it was posted after the post was claimed (a rebuilt installation's older
/// card of the same number, in the same channel, is not it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardMark {
    /// The request.
    pub request_id: RequestId,
    /// Its approval hash when the card was posted.
    pub approval_hash: String,
    /// When the post was first claimed; the card is no older (give or take clock skew).
    pub claimed_at: time::OffsetDateTime,
}

/// How far a chat's clock may be behind ours for a card posted after a claim.
pub const CARD_CLOCK_SLACK: std::time::Duration = std::time::Duration::from_secs(60);

impl CardMark {
    /// True when the buttons with these ids are this card's vote buttons.
    pub fn matches_buttons<'a>(&self, mut button_ids: impl Iterator<Item = &'a str>) -> bool {
        button_ids.any(|id| {
            crate::chat::render::parse_vote_button_id(id)
                .is_some_and(|(_, request, hash)| request == self.request_id && self.approval_hash.starts_with(&hash))
        })
    }

    /// True when a message posted at `posted_at` can be this card.
    pub fn posted_in_time(&self, posted_at: time::OffsetDateTime) -> bool {
        posted_at >= self.claimed_at - CARD_CLOCK_SLACK
    }
}

/// What a [`RecordingNotifier`] was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A post, with the id it got.
    Post {
        channel: ChannelId,
        message_id: MessageId,
        message: Outgoing,
    },
    /// An edit.
    Edit {
        channel: ChannelId,
        message_id: MessageId,
        message: Outgoing,
    },
}

/// A notifier that remembers everything, for tests and benchmarks.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    log: Mutex<Vec<Recorded>>,
}

impl RecordingNotifier {
    /// Everything so far.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.log.lock().expect("recording lock").clone()
    }

    /// The texts of all posts so far.
    pub fn posted_texts(&self) -> Vec<String> {
        self.recorded()
            .into_iter()
            .filter_map(|r| match r {
                Recorded::Post { message, .. } => message.text,
                Recorded::Edit { .. } => None,
            })
            .collect()
    }
}

impl Notifier for RecordingNotifier {
    fn post<'a>(&'a self, channel: ChannelId, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<MessageId>> {
        Box::pin(async move {
            let mut log = self.log.lock().expect("recording lock");
            let message_id = MessageId::new(1_000_000 + log.len() as u64);
            log.push(Recorded::Post {
                channel,
                message_id,
                message: message.clone(),
            });
            Ok(message_id)
        })
    }

    fn edit<'a>(
        &'a self,
        channel: ChannelId,
        message_id: MessageId,
        message: &'a Outgoing,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.log.lock().expect("recording lock").push(Recorded::Edit {
                channel,
                message_id,
                message: message.clone(),
            });
            Ok(())
        })
    }

    fn find_card<'a>(
        &'a self,
        channel: ChannelId,
        card: &'a CardMark,
    ) -> BoxFuture<'a, anyhow::Result<Option<MessageId>>> {
        let found = self.recorded().into_iter().find_map(|r| match r {
            Recorded::Post {
                channel: c,
                message_id,
                message,
            } if c == channel && card.matches_buttons(message.buttons.iter().map(|b| b.id.as_str())) => {
                Some(message_id)
            }
            _ => None,
        });
        Box::pin(async move { Ok(found) })
    }
}
