//! Delivery through a chat that fails for a while: notices wait, keep their order and are posted once.

use crate::on_both_backends;
use crate::rig::{Rig, count};
use crate::support::app::payg_form;
use cvmbot::chat::render::TimeStyle;
use cvmbot::chat::{Notifier, Outgoing, RecordingNotifier};
use cvmbot::workers::Dispatcher;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A chat that refuses every post while it is down.
#[derive(Default)]
struct FlakyChat {
    down: AtomicBool,
    inner: Arc<RecordingNotifier>,
}

impl Notifier for FlakyChat {
    fn post<'a>(&'a self, channel: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<u64>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { anyhow::bail!("the chat is down") });
        }
        self.inner.post(channel, message)
    }

    fn edit<'a>(&'a self, channel: u64, message_id: u64, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<()>> {
        if self.down.load(Ordering::SeqCst) {
            return Box::pin(async { anyhow::bail!("the chat is down") });
        }
        self.inner.edit(channel, message_id, message)
    }
}

on_both_backends! {
    async fn a_chat_outage_delays_notices_but_keeps_their_order_and_posts_each_once(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let chat = Arc::new(FlakyChat { down: AtomicBool::new(true), inner: rig.t.notifier.clone() });
        let dispatcher = Dispatcher::new(rig.desk().clone(), chat.clone(), rig.settings.alert_channel, TimeStyle::Utc);
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
