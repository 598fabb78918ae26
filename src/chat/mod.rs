//! Chat: the adapters between people and the engine. The message model, how the engine's events
//! and request views are rendered, the dispatcher that delivers the engine's outbox, the database
//! health alert, and the two chats: `console` (the demo) and `discord`.

pub mod charts;
pub mod console;
pub mod discord;
mod dispatcher;
mod health;
pub mod model;
pub mod notifier;
pub mod render;

pub use dispatcher::{BATCH, Dispatcher};
pub use health::watch_database;
pub use model::{Button, ButtonStyle, Card, Field, Outgoing, Tone};
pub use notifier::{Notifier, RecordingNotifier};

/// Where the chat posts what is not a request's own news, and how it lays a request's out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatSettings {
    /// The alert channel (none: alerts go to the log only).
    pub alert_channel: Option<crate::domain::ChannelId>,
    /// Open a thread under each new card for its request's notices.
    pub thread_per_request: bool,
}
