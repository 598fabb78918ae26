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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{error, info, warn};

/// Request id → (the channel its notices go to, its headline).
type Targets = HashMap<i64, (Option<u64>, String)>;

/// Card edits that failed: request id → (failures in a row, when to try again). Kept in memory: a
/// restart simply tries again.
type CardFailures = Arc<Mutex<HashMap<i64, (u32, Instant)>>>;

/// A card edit that failed this many times in a row is given up (the message was deleted, or the
/// bot lost access): retrying forever would make Discord count invalid requests against the bot.
const CARD_ATTEMPTS: u32 = 6;

/// A notice that failed this many times (about half an hour of growing waits) is given up and
/// logged as an error, for the same reason.
const NOTICE_ATTEMPTS: u32 = 12;

/// The outbox dispatcher.
#[derive(Clone)]
pub struct Dispatcher {
    desk: Desk,
    notifier: Arc<dyn Notifier>,
    alert_channel: u64,
    style: TimeStyle,
    card_failures: CardFailures,
}

impl Dispatcher {
    /// A dispatcher posting through `notifier`; alerts go to `alert_channel` (0: log only).
    pub fn new(desk: Desk, notifier: Arc<dyn Notifier>, alert_channel: u64, style: TimeStyle) -> Dispatcher {
        Dispatcher {
            desk,
            notifier,
            alert_channel,
            style,
            card_failures: CardFailures::default(),
        }
    }

    /// Delivers what is due now; returns how many items it handled.
    pub async fn run_once(&self) -> Result<usize, DeskError> {
        let mut handled = 0;
        // Where each request's notices go and its headline: fixed once its card is shown, and
        // loaded once per pass instead of once per notice (a purchase of 100 servers raises 200).
        let mut targets = HashMap::new();
        loop {
            let cards = self.cards_due().await?;
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
                        self.card_failures.lock().expect("card failures").remove(&card.id);
                        self.desk.mark_card_shown(card.id, card.card_version).await?;
                        progressed = true;
                    }
                    Err(error) => {
                        let error = format!("{error:#}");
                        if self.card_failed(card.id) {
                            error!(request_id = card.id, %error, "gave up updating a request card");
                            self.desk.mark_card_shown(card.id, card.card_version).await?;
                        } else {
                            warn!(request_id = card.id, %error, "could not update a request card; will retry");
                        }
                    }
                }
                handled += 1;
            }
            // A request whose notice just failed gets nothing more this pass: its later notices
            // wait for the failed one's retry, so they are shown in the order they happened.
            let mut failed = HashSet::new();
            for batch in batches(notices)? {
                let request_id = batch[0].0.request_id;
                if failed.contains(&request_id) {
                    continue;
                }
                let delivered = self.deliver(&batch, &mut targets).await?;
                if !delivered {
                    failed.insert(request_id);
                }
                progressed |= delivered;
                handled += batch.len();
            }
            if !progressed {
                return Ok(handled);
            }
        }
    }

    /// Cards to re-render now: changed ones, minus those waiting after a failed edit.
    async fn cards_due(&self) -> Result<Vec<crate::store::RequestRecord>, DeskError> {
        let cards = self.desk.store().session().await?.stale_cards(200).await?;
        let failures = self.card_failures.lock().expect("card failures");
        let now = Instant::now();
        Ok(cards
            .into_iter()
            .filter(|c| failures.get(&c.id).is_none_or(|(_, retry_at)| *retry_at <= now))
            .take(50)
            .collect())
    }

    /// Counts a failed edit; true when it is time to give up on this card.
    fn card_failed(&self, id: i64) -> bool {
        let mut failures = self.card_failures.lock().expect("card failures");
        let entry = failures.entry(id).or_insert((0, Instant::now()));
        entry.0 += 1;
        entry.1 = Instant::now() + Duration::from_secs(2u64.saturating_pow(entry.0));
        if entry.0 >= CARD_ATTEMPTS {
            failures.remove(&id);
            return true;
        }
        false
    }

    /// Posts one batch (one notice, or a run of one request's instance notices) as one message.
    async fn deliver(&self, batch: &[(NotificationRecord, Notice)], targets: &mut Targets) -> Result<bool, DeskError> {
        let (first, _) = &batch[0];
        let (channel, headline) = match first.request_id {
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
            let mut tx = self.desk.store().begin().await?;
            for (notification, notice) in batch {
                info!(key = %notification.dedupe_key, notice = ?notice, "no channel for this notice; logged only");
                tx.mark_notification_sent(notification.id, None, now).await?;
            }
            tx.commit().await?;
            return Ok(true);
        };
        let notices: Vec<Notice> = batch.iter().map(|(_, notice)| notice.clone()).collect();
        let mut outgoing = render::notice_batch(&notices, headline.as_deref());
        // The nonce covers every key of the batch: a batch regrouped after a crash is a new post
        // (shown again) rather than one the chat would swallow as a repeat (and lose the rest).
        let keys: Vec<&str> = batch.iter().map(|(n, _)| n.dedupe_key.as_str()).collect();
        outgoing.dedupe_key = Some(keys.join("|"));
        let result = self.notifier.post(channel, &outgoing).await;
        let mut tx = self.desk.store().begin().await?;
        let delivered = match result {
            Ok(message_id) => {
                for (notification, _) in batch {
                    tx.mark_notification_sent(notification.id, Some(message_id), now)
                        .await?;
                }
                true
            }
            Err(error) if first.attempts + 1 >= NOTICE_ATTEMPTS => {
                error!(key = %first.dedupe_key, size = batch.len(), error = %format!("{error:#}"), "gave up posting a notice");
                for (notification, _) in batch {
                    tx.mark_notification_sent(notification.id, None, now).await?;
                }
                true
            }
            Err(error) => {
                let attempts = first.attempts.min(8);
                let wait = Duration::from_secs(2u64.saturating_pow(attempts));
                warn!(key = %first.dedupe_key, size = batch.len(), error = %format!("{error:#}"), ?wait, "could not post a notice; will retry");
                for (notification, _) in batch {
                    tx.mark_notification_failed(notification.id, &format!("{error:#}"), now + wait)
                        .await?;
                }
                false
            }
        };
        tx.commit().await?;
        Ok(delivered)
    }
}

/// Most instance notices one message carries (Discord allows 2,000 characters per message, and
/// posting one message per instance of a large purchase would run into its per-channel limits).
pub const BATCH: usize = 12;

/// Groups due notices, in order, into posts: consecutive instance notices of one request travel
/// together (up to [`BATCH`]); every other notice is a post of its own.
fn batches(notices: Vec<NotificationRecord>) -> Result<Vec<Vec<(NotificationRecord, Notice)>>, DeskError> {
    let mut batches: Vec<Vec<(NotificationRecord, Notice)>> = Vec::new();
    for record in notices {
        let notice: Notice = serde_json::from_str(&record.body).map_err(DeskError::internal)?;
        let joins = notice.is_about_an_instance()
            && batches.last().is_some_and(|last| {
                last.len() < BATCH
                    && last[0].0.request_id == record.request_id
                    && last.iter().all(|(_, n)| n.is_about_an_instance())
            });
        if joins {
            batches.last_mut().expect("a batch to join").push((record, notice));
        } else {
            batches.push(vec![(record, notice)]);
        }
    }
    Ok(batches)
}
