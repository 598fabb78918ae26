//! The console's notifier: posts and edits are printed as they happen.

use super::text::{Paint, render, render_edit};
use crate::chat::model::Outgoing;
use crate::chat::notifier::Notifier;
use crate::domain::{ChannelId, MessageId};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where console output goes: the terminal, or a buffer in tests.
pub type Screen = Arc<Mutex<Box<dyn Write + Send>>>;

/// Writes to the screen.
pub fn print(screen: &Screen, text: &str) {
    let mut screen = screen.lock().expect("screen lock");
    let _ = screen.write_all(text.as_bytes());
    let _ = screen.flush();
}

/// Prints what the workers post; remembers dedupe keys like Discord's `enforce_nonce`.
pub struct ConsoleNotifier {
    screen: Screen,
    paint: Paint,
    next_id: AtomicU64,
    posted: Mutex<HashMap<String, MessageId>>,
}

impl ConsoleNotifier {
    /// A notifier printing to `screen`.
    pub fn new(screen: Screen, paint: Paint) -> ConsoleNotifier {
        ConsoleNotifier {
            screen,
            paint,
            next_id: AtomicU64::new(1),
            posted: Mutex::default(),
        }
    }

    /// Prints a message as a new post and returns its id.
    pub fn show(&self, message: &Outgoing) -> u64 {
        print(&self.screen, &render(message, self.paint));
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }
}

impl Notifier for ConsoleNotifier {
    fn post<'a>(&'a self, _channel: ChannelId, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<MessageId>> {
        Box::pin(async move {
            // A repeat of a post is answered with the first one, as Discord's nonce does.
            if let Some(key) = &message.dedupe_key
                && let Some(first) = self.posted.lock().expect("keys lock").get(key)
            {
                return Ok(*first);
            }
            let prefix = self.paint.dim("cvmbot: ");
            print(&self.screen, &prefix);
            let id = MessageId::new(self.show(message));
            if let Some(key) = &message.dedupe_key {
                self.posted.lock().expect("keys lock").insert(key.clone(), id);
            }
            Ok(id)
        })
    }

    fn edit<'a>(
        &'a self,
        _channel: ChannelId,
        _message_id: MessageId,
        message: &'a Outgoing,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            print(&self.screen, &render_edit(message, self.paint));
            Ok(())
        })
    }
}
