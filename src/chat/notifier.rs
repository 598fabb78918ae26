//! The one way workers reach the chat. Discord and the console implement it; tests record.

use super::model::Outgoing;
use futures_util::future::BoxFuture;
use std::sync::Mutex;

/// Posts and edits messages in a chat.
pub trait Notifier: Send + Sync {
    /// Posts `message` in `channel`; returns the new message's id. Its reactions are added after.
    fn post<'a>(&'a self, channel: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<u64>>;
    /// Replaces the content of an earlier message.
    fn edit<'a>(&'a self, channel: u64, message_id: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Adds the reaction `emoji` to a message of the bot's.
    fn react<'a>(&'a self, _channel: u64, _message_id: u64, _emoji: &'a str) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async { Ok(()) })
    }
    /// Opens a thread under a message; returns the thread's channel id.
    fn open_thread<'a>(
        &'a self,
        _channel: u64,
        _message_id: u64,
        _name: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<u64>> {
        Box::pin(async { anyhow::bail!("this chat has no threads") })
    }
    /// Looks among `channel`'s recent messages for the bot's own card of request `request_id`
    /// (one posted by a process that died before recording it); its message id if found.
    fn find_card(&self, _channel: u64, _request_id: i64) -> BoxFuture<'_, anyhow::Result<Option<u64>>> {
        Box::pin(async { Ok(None) })
    }
}

/// True when `message` is the card of request `request_id`: it carries that request's vote buttons.
pub fn is_card_of(message: &Outgoing, request_id: i64) -> bool {
    message
        .buttons
        .iter()
        .any(|b| crate::chat::render::parse_vote_button_id(&b.id).is_some_and(|(_, id, _)| id == request_id))
}

/// What a [`RecordingNotifier`] was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// A post, with the id it got.
    Post {
        channel: u64,
        message_id: u64,
        message: Outgoing,
    },
    /// An edit.
    Edit {
        channel: u64,
        message_id: u64,
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
    fn post<'a>(&'a self, channel: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<u64>> {
        Box::pin(async move {
            let mut log = self.log.lock().expect("recording lock");
            let message_id = 1_000_000 + log.len() as u64;
            log.push(Recorded::Post {
                channel,
                message_id,
                message: message.clone(),
            });
            Ok(message_id)
        })
    }

    fn edit<'a>(&'a self, channel: u64, message_id: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.log.lock().expect("recording lock").push(Recorded::Edit {
                channel,
                message_id,
                message: message.clone(),
            });
            Ok(())
        })
    }

    fn find_card(&self, channel: u64, request_id: i64) -> BoxFuture<'_, anyhow::Result<Option<u64>>> {
        let found = self.recorded().into_iter().find_map(|r| match r {
            Recorded::Post {
                channel: c,
                message_id,
                message,
            } if c == channel && is_card_of(&message, request_id) => Some(message_id),
            _ => None,
        });
        Box::pin(async move { Ok(found) })
    }
}
