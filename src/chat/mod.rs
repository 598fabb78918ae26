//! Chat: the message model, the notices the engine raises, how both are rendered, and the adapters
//! that carry them to Discord or the console.

pub mod model;
pub mod notice;
pub mod notifier;
pub mod render;

pub use model::{Button, ButtonStyle, Card, Field, Outgoing, Tone};
pub use notice::Notice;
pub use notifier::{Notifier, RecordingNotifier};
pub mod console;
pub mod discord;
