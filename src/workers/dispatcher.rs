//! Delivers the outbox: re-renders request cards that changed and posts queued notices, each
//! marked done only after the chat accepted it. Posts carry their dedupe key as a nonce, so a
//! crash between posting and marking does not show a notice twice where the chat dedupes.

use crate::chat::Notifier;
use crate::chat::notice::Notice;
use crate::chat::render::{self, TimeStyle};
use crate::desk::{Desk, DeskError};
use crate::store::NotificationRecord;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, warn};

/// Request id → (the channel its notices go to, its headline).
type Targets = HashMap<i64, (Option<u64>, String)>;

/// The outbox dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    desk: Desk,
    notifier: Arc<dyn Notifier>,
    alert_channel: u64,
    style: TimeStyle,
}

impl Dispatcher {
    /// A dispatcher posting through `notifier`; alerts go to `alert_channel` (0: log only).
    pub fn new(desk: Desk, notifier: Arc<dyn Notifier>, alert_channel: u64, style: TimeStyle) -> Dispatcher {
        Dispatcher {
            desk,
            notifier,
            alert_channel,
            style,
        }
    }

    /// Delivers what is due now; returns how many items it handled.
    pub async fn run_once(&self) -> Result<usize, DeskError> {
        let mut handled = 0;
        // Where each request's notices go and its headline: fixed once its card is shown, and
        // loaded once per pass instead of once per notice (a purchase of 100 servers raises 200).
        let mut targets = HashMap::new();
        loop {
            let cards = self.desk.store().session().await?.stale_cards(50).await?;
            let notices = self
                .desk
                .store()
                .session()
                .await?
                .due_notifications(self.desk.clock().now(), 50)
                .await?;
            if cards.is_empty() && notices.is_empty() {
                return Ok(handled);
            }
            let mut progressed = false;
            for card in cards {
                let (Some(channel), Some(message)) = (card.channel_id, card.message_id) else {
                    continue;
                };
                let view = self.desk.view(card.id).await?;
                let outgoing = render::request_card(&view, self.style);
                match self.notifier.edit(channel, message, &outgoing).await {
                    Ok(()) => {
                        self.desk.mark_card_shown(card.id, card.card_version).await?;
                        progressed = true;
                    }
                    Err(error) => {
                        warn!(request_id = card.id, error = %format!("{error:#}"), "could not update a request card")
                    }
                }
                handled += 1;
            }
            // A request whose notice just failed gets nothing more this pass: its later notices
            // wait for the failed one's retry, so they are shown in the order they happened.
            let mut failed = HashSet::new();
            for notification in notices {
                if failed.contains(&notification.request_id) {
                    continue;
                }
                let delivered = self.deliver(&notification, &mut targets).await?;
                if !delivered {
                    failed.insert(notification.request_id);
                }
                progressed |= delivered;
                handled += 1;
            }
            if !progressed {
                return Ok(handled);
            }
        }
    }

    async fn deliver(&self, notification: &NotificationRecord, targets: &mut Targets) -> Result<bool, DeskError> {
        let notice: Notice = serde_json::from_str(&notification.body).map_err(DeskError::internal)?;
        let (channel, headline) = match notification.request_id {
            Some(id) => {
                if let Entry::Vacant(slot) = targets.entry(id) {
                    let view = self.desk.view(id).await?;
                    slot.insert((view.record.post_channel(), render::headline(&view)));
                }
                let (channel, headline) = &targets[&id];
                (*channel, Some(headline.clone()))
            }
            None => ((self.alert_channel != 0).then_some(self.alert_channel), None),
        };
        let now = self.desk.clock().now();
        let Some(channel) = channel else {
            info!(key = %notification.dedupe_key, notice = ?notice, "no channel for this notice; logged only");
            let mut tx = self.desk.store().begin().await?;
            tx.mark_notification_sent(notification.id, None, now).await?;
            tx.commit().await?;
            return Ok(true);
        };
        let mut outgoing = render::notice(&notice, headline.as_deref());
        outgoing.dedupe_key = Some(notification.dedupe_key.clone());
        let result = self.notifier.post(channel, &outgoing).await;
        let mut tx = self.desk.store().begin().await?;
        let delivered = match result {
            Ok(message_id) => {
                tx.mark_notification_sent(notification.id, Some(message_id), now)
                    .await?;
                true
            }
            Err(error) => {
                let wait = Duration::from_secs(2u64.saturating_pow(notification.attempts.min(8)));
                warn!(key = %notification.dedupe_key, error = %format!("{error:#}"), ?wait, "could not post a notice; will retry");
                tx.mark_notification_failed(notification.id, &format!("{error:#}"), now + wait)
                    .await?;
                false
            }
        };
        tx.commit().await?;
        Ok(delivered)
    }
}
