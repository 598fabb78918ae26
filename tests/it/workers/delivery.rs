//! Delivery through a chat that fails for a while: notices wait, keep their order and are posted once.

use crate::on_both_backends;
use crate::support::app::payg_form;
use crate::workers::rig::{Rig, count};
use cvmbot::chat::Dispatcher;
use cvmbot::chat::render::TimeStyle;
use cvmbot::chat::{Notifier, Outgoing, RecordingNotifier};
use cvmbot::domain::{ChannelId, MessageId};
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A chat in trouble: it refuses every post and edit while it is down, and any edit of a
/// message that was deleted (by a moderator, say).
struct TroubledChat {
    down: AtomicBool,
    deleted: Option<MessageId>,
    inner: Arc<RecordingNotifier>,
}

impl Notifier for TroubledChat {
    fn post<'a>(&'a self, channel: ChannelId, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<MessageId>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { anyhow::bail!("the chat is down") });
        }
        self.inner.post(channel, message)
    }

    fn edit<'a>(
        &'a self,
        channel: ChannelId,
        message_id: MessageId,
        message: &'a Outgoing,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { anyhow::bail!("the chat is down") });
        }
        if Some(message_id) == self.deleted {
            return Box::pin(async { anyhow::bail!("Unknown Message (10008)") });
        }
        self.inner.edit(channel, message_id, message)
    }
}

on_both_backends! {
    async fn a_chat_outage_delays_notices_but_keeps_their_order_and_posts_each_once(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let chat = Arc::new(TroubledChat { down: AtomicBool::new(true), deleted: None, inner: rig.t.notifier.clone() });
        let dispatcher = Dispatcher::new(rig.desk().clone(), chat.clone(), rig.t.app.config.chat.alert_channel, TimeStyle::Utc);
        let tracker = rig.tracker();
        let id = rig.buy(&payg_form()).await;
        let instance = rig.instances(id).await.remove(0).instance_id;
        let ip_key = format!("instance:{instance}:public-ip");

        // The chat is down from the purchase until after the IP is known: every post fails and
        // is retried later, the oldest ones after the longest waits.
        while !rig.outbox().await.iter().any(|n| n.dedupe_key == ip_key) {
            rig.advance(Duration::from_secs(1));
            tracker.round().await.expect("a tracker round");
            dispatcher.run_once().await.expect("a dispatcher pass");
        }
        dispatcher.run_once().await.expect("a dispatcher pass");
        assert!(rig.posted_keys().is_empty());
        chat.down.store(false, Ordering::SeqCst);

        for _ in 0..600 {
            rig.advance(Duration::from_secs(1));
            dispatcher.run_once().await.expect("a dispatcher pass");
        }
        let keys = rig.posted_keys();
        let expected = [format!("request:{id}:submitted"), format!("instance:{instance}:running"), ip_key];
        assert_eq!(keys, expected, "each once, in the order they happened");
        assert_eq!(count(&keys, &expected[1]), 1);
    }
}

on_both_backends! {
    async fn the_instances_of_a_large_purchase_are_announced_a_dozen_per_message(backend) {
        let policy = "[policy]\nmax_count = 30\ntiers = [{ up_to = \"100000\", approvals = 1 }]";
        let Some(rig) = Rig::start(backend, policy).await else { return };
        let id = rig.buy(&payg_form().with("count", "30")).await;
        rig.drive(Duration::from_secs(40), Duration::from_secs(1)).await;
        let posts = crate::workers::rig::posts(&rig.t.notifier);
        let running: Vec<&String> =
            posts.iter().filter_map(|(_, m)| m.text.as_ref()).filter(|t| t.contains("is RUNNING")).collect();
        let lines: usize = running.iter().map(|t| t.lines().count()).sum();
        assert_eq!(lines, 30, "every instance is announced once");
        assert!(running.len() <= 4, "{} messages for 30 instances", running.len());
        assert!(running.iter().all(|t| t.lines().count() <= cvmbot::chat::BATCH), "{running:?}");
        let keys = rig.posted_keys();
        assert_eq!(keys.iter().filter(|k| k.ends_with(":running")).count(), 30, "{keys:?}");
        assert!(id.get() > 0);
    }
}

on_both_backends! {
    async fn a_card_that_cannot_be_edited_waits_without_blocking_the_others(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let first = rig.file(&payg_form()).await;
        let second = rig.file(&payg_form()).await;
        let chat = Arc::new(TroubledChat { down: AtomicBool::new(false), deleted: Some(crate::workers::rig::card_message(first)), inner: rig.t.notifier.clone() });
        let dispatcher = Dispatcher::new(rig.desk().clone(), chat, rig.t.app.config.chat.alert_channel, TimeStyle::Utc);
        rig.desk().refresh_cards(&[first, second]).await.expect("cards changed");
        dispatcher.run_once().await.expect("a pass");
        dispatcher.run_once().await.expect("another pass, at once");
        let edits: Vec<MessageId> = rig
            .t
            .notifier
            .recorded()
            .into_iter()
            .filter_map(|r| match r {
                cvmbot::chat::notifier::Recorded::Edit { message_id, .. } => Some(message_id),
                _ => None,
            })
            .collect();
        assert_eq!(edits, vec![crate::workers::rig::card_message(second)], "the second card is shown once; the first waits");
    }
}
