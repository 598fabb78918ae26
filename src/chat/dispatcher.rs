//! Delivers the outbox: posts new request cards, re-renders cards that changed and posts queued
//! notices, each marked done only after the chat accepted it. Posts carry their dedupe key, which
//! the chat turns into a nonce scoped to the installation, so a crash between posting and marking
//! does not show a notice twice where the chat dedupes; a card whose post may have happened is first looked for in its
//! channel and linked if found.

use crate::chat::Notifier;
use crate::chat::notifier::CardMark;
use crate::chat::render::{self, TimeStyle};
use crate::desk::{Desk, DeskError, Event, PostedCard, Posting};
use crate::domain::{ChannelId, RequestId};
use crate::store::NotificationRecord;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::{error, info, instrument, warn};

/// Request id → (the channel its notices go to, its headline).
type Targets = HashMap<RequestId, (Option<ChannelId>, String)>;

/// Card edits that failed: request id → (failures in a row, when to try again). Kept in memory: a
/// restart simply tries again.
type CardFailures = Arc<Mutex<HashMap<RequestId, (u32, Instant)>>>;

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
    alert_channel: Option<ChannelId>,
    style: TimeStyle,
    threads: bool,
    card_failures: CardFailures,
}

impl Dispatcher {
    /// A dispatcher posting through `notifier`; alerts go to `alert_channel` (0: log only).
    pub fn new(
        desk: Desk,
        notifier: Arc<dyn Notifier>,
        alert_channel: Option<ChannelId>,
        style: TimeStyle,
    ) -> Dispatcher {
        Dispatcher {
            desk,
            notifier,
            alert_channel,
            style,
            threads: false,
            card_failures: CardFailures::default(),
        }
    }

    /// Opens a thread under each new card (its request's notices are posted there).
    pub fn with_threads(mut self, threads: bool) -> Dispatcher {
        self.threads = threads;
        self
    }

    /// Delivers what is due now; returns how many items it handled.
    #[instrument(name = "delivery", skip_all)]
    pub async fn run_once(&self) -> Result<usize, DeskError> {
        let mut handled = 0;
        // Where each request's notices go and its headline: fixed once its card is shown, and
        // loaded once per pass instead of once per notice (a purchase of 100 servers raises 200).
        let mut targets = HashMap::new();
        loop {
            let cards = self.cards_due().await?;
            let notices = self.desk.due_postings(50).await?;
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
                            error!(request_id = %card.id, %error, "gave up updating a request card");
                            self.desk.mark_card_shown(card.id, card.card_version).await?;
                        } else {
                            warn!(request_id = %card.id, %error, "could not update a request card; will retry");
                        }
                    }
                }
                handled += 1;
            }
            // A request whose notice just failed gets nothing more this pass: its later notices
            // wait for the failed one's retry, so they are shown in the order they happened.
            let mut failed = HashSet::new();
            for batch in batches(notices) {
                let request_id = batch[0].0.request_id;
                if failed.contains(&request_id) {
                    continue;
                }
                let delivered = match &batch[..] {
                    [(row, Posting::Card)] => self.post_card(row).await?,
                    _ => self.deliver(&batch, &mut targets).await?,
                };
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
        let cards = self.desk.stale_cards(200).await?;
        let failures = self.card_failures.lock().expect("card failures");
        let now = Instant::now();
        Ok(cards
            .into_iter()
            .filter(|c| failures.get(&c.id).is_none_or(|(_, retry_at)| *retry_at <= now))
            .take(50)
            .collect())
    }

    /// Counts a failed edit; true when it is time to give up on this card.
    fn card_failed(&self, id: RequestId) -> bool {
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

    /// Posts request `row.request_id`'s card where it was filed, or links the one a process that
    /// died after posting left behind; then opens its thread (if configured) and adds the voting
    /// reactions. The card, its thread and the outbox row are recorded in one transaction.
    #[instrument(skip_all, fields(request_id = row.request_id.map(tracing::field::display)))]
    async fn post_card(&self, row: &NotificationRecord) -> Result<bool, DeskError> {
        let Some(id) = row.request_id else {
            return self.give_up(row, "a card row without a request").await;
        };
        let view = self.desk.view(id).await?;
        let record = &view.record;
        let Some(channel) = record.channel_id.filter(|_| record.message_id.is_none()) else {
            // Shown already (an adapter that shows cards itself), or filed where there is no chat.
            self.desk.posted(std::slice::from_ref(row), record.message_id).await?;
            return Ok(true);
        };
        let mut card = render::request_card(&view, self.style);
        let reactions = std::mem::take(&mut card.reactions);
        card.dedupe_key = Some(row.dedupe_key.clone());
        let found = match row.claimed_at {
            Some(claimed_at) => {
                let mark = CardMark {
                    request_id: id,
                    approval_hash: record.approval_hash.clone(),
                    claimed_at,
                };
                self.notifier.find_card(channel, &mark).await.unwrap_or_else(|error| {
                    warn!(request_id = %id, error = %format!("{error:#}"), "could not look for a card that may have been posted");
                    None
                })
            }
            None => None,
        };
        let posted = match found {
            Some(message_id) => {
                info!(request_id = %id,
                    message_id = %message_id, "found the card a stopped process posted; linking it"
                );
                Ok(message_id)
            }
            None => {
                self.desk.claim_posting(row.id).await?;
                self.notifier.post(channel, &card).await
            }
        };
        let message_id = match posted {
            Ok(message_id) => message_id,
            Err(error) => return self.failed(std::slice::from_ref(row), &error).await,
        };
        crate::crashpoint::here("card:posted");
        let thread_id = if self.threads {
            match self
                .notifier
                .open_thread(channel, message_id, &format!("Request #{id}"))
                .await
            {
                Ok(thread) => Some(thread),
                Err(error) => {
                    warn!(request_id = %id, error = %format!("{error:#}"), "could not open a thread for the request");
                    None
                }
            }
        } else {
            None
        };
        let posted = PostedCard {
            channel_id: channel,
            message_id,
            thread_id,
            shown_version: record.card_version,
        };
        self.desk.link_card(id, row.id, posted).await?;
        crate::crashpoint::here("card:linked");
        // The card is up and its buttons work; a missing reaction (no Add Reactions permission)
        // only takes away the second way to vote.
        for emoji in &reactions {
            if let Err(error) = self.notifier.react(channel, message_id, emoji).await {
                warn!(request_id = %id, error = %format!("{error:#}"), "could not add a voting reaction; buttons still work");
                break;
            }
        }
        Ok(true)
    }

    /// Marks a row done without posting it, logging why.
    async fn give_up(&self, row: &NotificationRecord, why: &str) -> Result<bool, DeskError> {
        error!(key = %row.dedupe_key, why, "dropping an outbox row");
        self.desk.posted(std::slice::from_ref(row), None).await?;
        Ok(true)
    }

    /// Records a failed post of `rows` (one message): retried later with a growing wait, given up
    /// after [`NOTICE_ATTEMPTS`]. True when given up (nothing more to wait for).
    async fn failed(&self, rows: &[NotificationRecord], error: &anyhow::Error) -> Result<bool, DeskError> {
        let first = &rows[0];
        let given_up = first.attempts + 1 >= NOTICE_ATTEMPTS;
        if given_up {
            error!(key = %first.dedupe_key, size = rows.len(), error = %format!("{error:#}"), "gave up posting a notice");
            self.desk.posted(rows, None).await?;
        } else {
            let attempts = first.attempts.min(8);
            let wait = Duration::from_secs(2u64.saturating_pow(attempts));
            warn!(key = %first.dedupe_key, size = rows.len(), error = %format!("{error:#}"), ?wait, "could not post a notice; will retry");
            let retry_at = self.desk.clock().now() + wait;
            self.desk.posting_failed(rows, &format!("{error:#}"), retry_at).await?;
        }
        Ok(given_up)
    }

    /// Posts one batch (one notice, or a run of one request's instance notices) as one message.
    #[instrument(skip_all, fields(key = %batch[0].0.dedupe_key, request_id = batch[0].0.request_id.map(tracing::field::display)))]
    async fn deliver(&self, batch: &[(NotificationRecord, Posting)], targets: &mut Targets) -> Result<bool, DeskError> {
        let (first, _) = &batch[0];
        let headline = match first.request_id {
            Some(id) => {
                if let Entry::Vacant(slot) = targets.entry(id) {
                    let view = self.desk.view(id).await?;
                    slot.insert((view.record.post_channel(), render::headline(&view)));
                }
                Some(&targets[&id])
            }
            None => None,
        };
        let alert_channel = self.alert_channel;
        let channel = match (first.target.as_str(), headline) {
            ("alert", _) | (_, None) => alert_channel,
            (_, Some((channel, _))) => *channel,
        };
        let headline = headline.map(|(_, headline)| headline.clone());
        let rows: Vec<NotificationRecord> = batch.iter().map(|(row, _)| row.clone()).collect();
        let Some(channel) = channel else {
            for (row, posting) in batch {
                info!(key = %row.dedupe_key, posting = ?posting, "no channel for this notice; logged only");
            }
            self.desk.posted(&rows, None).await?;
            return Ok(true);
        };
        let notices: Vec<Event> = batch
            .iter()
            .filter_map(|(_, posting)| match posting {
                Posting::Event(event) => Some(event.clone()),
                Posting::Card => None,
            })
            .collect();
        let mut outgoing = render::notice_batch(&notices, headline.as_deref(), self.style);
        if let Some(spendable) = notices.iter().find_map(balance_warning) {
            // A warning about the balance shows where it is heading: the runway chart.
            let chart = match self.desk.balance_history(Some(spendable)).await {
                Ok(history) => crate::chat::charts::runway_attachment(&history),
                Err(error) => Err(anyhow::Error::new(error)),
            };
            match chart {
                Ok(file) => outgoing.attachments.push(file),
                Err(error) => warn!(error = %format!("{error:#}"), "the balance warning goes without its chart"),
            }
        }
        if notices.iter().any(|n| matches!(n, Event::Digest { .. })) {
            // The digest shows the last week's spend by requester.
            match self.spend_chart("7d").await {
                Ok(file) => outgoing.attachments.push(file),
                Err(error) => warn!(error = %format!("{error:#}"), "the digest goes without its spend chart"),
            }
        }
        if let Some(name) = notices.iter().find_map(budget_alert) {
            // A budget's alert shows where its scope's money went this month: the spend chart.
            let chart = match self.desk.budget(name) {
                Some(budget) => match self.desk.budget_spend(budget).await {
                    Ok(figures) => crate::chat::charts::spend_attachment(&figures.spend.series),
                    Err(error) => Err(anyhow::Error::new(error)),
                },
                None => Err(anyhow::anyhow!("the budget `{name}` is no longer configured")),
            };
            match chart {
                Ok(file) => outgoing.attachments.push(file),
                Err(error) => warn!(error = %format!("{error:#}"), "the budget alert goes without its chart"),
            }
        }
        // The nonce covers every key of the batch: a batch regrouped after a crash is a new post
        // (shown again) rather than one the chat would swallow as a repeat (and lose the rest).
        let keys: Vec<&str> = batch.iter().map(|(n, _)| n.dedupe_key.as_str()).collect();
        outgoing.dedupe_key = Some(keys.join("|"));
        match self.notifier.post(channel, &outgoing).await {
            Ok(message_id) => {
                crate::crashpoint::here("notice:posted");
                self.desk.posted(&rows, Some(message_id)).await?;
                Ok(true)
            }
            Err(error) => self.failed(&rows, &error).await,
        }
    }
}

impl Dispatcher {
    /// The spend chart of `period` by requester.
    async fn spend_chart(&self, period: &str) -> anyhow::Result<crate::chat::model::Attachment> {
        let spend = self.desk.spend_as_asked(period, "requester").await?;
        crate::chat::charts::spend_attachment(&spend.series)
    }
}

/// The spendable balance a low-balance warning (or its reminder, or an owing account's alarm)
/// is about.
fn balance_warning(event: &Event) -> Option<crate::money::Fen> {
    match event {
        Event::LowBalance { spendable, .. } | Event::Owing { spendable, .. } => Some(*spendable),
        Event::BalanceReminder { spendable, .. } => Some(*spendable),
        _ => None,
    }
}

/// The budget a budget alert is about.
fn budget_alert(event: &Event) -> Option<&str> {
    match event {
        Event::BudgetCrossed { budget, .. } => Some(budget),
        _ => None,
    }
}

/// Most instance notices one message carries (Discord allows 2,000 characters per message, and
/// posting one message per instance of a large purchase would run into its per-channel limits).
pub const BATCH: usize = 12;

/// Groups due rows, in order, into posts: consecutive instance notices of one request to one
/// target travel together (up to [`BATCH`]); every other notice, and every card, is a post of its own.
fn batches(rows: Vec<(NotificationRecord, Posting)>) -> Vec<Vec<(NotificationRecord, Posting)>> {
    let mut batches: Vec<Vec<(NotificationRecord, Posting)>> = Vec::new();
    for (record, posting) in rows {
        let joins = posting.is_about_an_instance()
            && batches.last().is_some_and(|last| {
                last.len() < BATCH
                    && last[0].0.request_id == record.request_id
                    && last[0].0.target == record.target
                    && last.iter().all(|(_, p)| p.is_about_an_instance())
            });
        if joins {
            batches.last_mut().expect("a batch to join").push((record, posting));
        } else {
            batches.push(vec![(record, posting)]);
        }
    }
    batches
}
