//! The one way workers reach the chat. Discord and the console implement it; tests record.

use super::model::Outgoing;
use futures_util::future::BoxFuture;
use std::sync::Mutex;

/// Posts and edits messages in a chat.
pub trait Notifier: Send + Sync {
    /// Posts `message` in `channel`; returns the new message's id.
    fn post<'a>(&'a self, channel: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<u64>>;
    /// Replaces the content of an earlier message.
    fn edit<'a>(&'a self, channel: u64, message_id: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<()>>;
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
}
