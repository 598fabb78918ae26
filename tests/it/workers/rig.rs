//! The workers' test rig: the whole app on the deterministic simulator, with the engine on a
//! manual clock that moves together with the simulator's, so a test drives time by hand and runs
//! each worker's pass itself (`Tracker::round`, `BalanceMonitor::run_once`, `Dispatcher::run_once`).

use crate::support::app::{Backend, TestApp, alice, bob, config, test_db};
use crate::support::sim::{start, test_config};
use cvmbot::app::App;
use cvmbot::chat::Dispatcher;
use cvmbot::chat::RecordingNotifier;
use cvmbot::chat::notifier::Recorded;
use cvmbot::chat::render::TimeStyle;
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, Desk, Origin};
use cvmbot::domain::{ChannelId, GuildId, MessageId, PurchaseForm, RequestId, RequestState};
use cvmbot::sim::SimConfig;
use cvmbot::store::{InstanceRecord, NotificationRecord};
use cvmbot::workers::{BalanceMonitor, Tracker, WorkerSettings};
use std::sync::Arc;
use std::time::Duration;
use time::macros::datetime;

/// The channel request cards are posted in.
pub const REQUEST_CHANNEL: ChannelId = ChannelId::new(10);
/// The alert channel of the test configuration.
pub const ALERT_CHANNEL: ChannelId = ChannelId::new(2);

/// The app, its clock and the worker settings from its configuration.
pub struct Rig {
    /// The app on the simulator.
    pub t: TestApp,
    /// The engine's clock; [`Rig::advance`] moves it with the simulator's.
    pub clock: Clock,
    /// What `Workers::spawn` would be given.
    pub settings: WorkerSettings,
}

/// A simulator configuration: the test defaults, changed by `change`.
pub fn sim_with(change: impl FnOnce(&mut SimConfig)) -> SimConfig {
    let mut config = test_config();
    change(&mut config);
    config
}

impl Rig {
    /// The app on `backend` (None when that backend is not available here) with the default
    /// deterministic simulator and `extra` configuration.
    pub async fn start(backend: Backend, extra: &str) -> Option<Rig> {
        Rig::start_with(backend, test_config(), extra).await
    }

    /// Like [`Rig::start`] with a simulator configuration of the test's choosing.
    pub async fn start_with(backend: Backend, sim_config: SimConfig, extra: &str) -> Option<Rig> {
        let db = test_db(backend).await?;
        let sim = start(sim_config).await;
        // The simulator's test clock starts here and stands still until advanced.
        let clock = Clock::manual(datetime!(2025-01-01 00:00:00 UTC));
        let config = config(sim.url(), &db.url, extra);
        let settings = config.workers.clone();
        let app = App::build(config, clock.clone()).await.expect("the application builds");
        let t = TestApp {
            sim,
            app,
            notifier: Arc::new(RecordingNotifier::default()),
            db,
        };
        Some(Rig { t, clock, settings })
    }

    /// The desk.
    pub fn desk(&self) -> &Desk {
        self.t.desk()
    }

    /// Moves the simulator and the engine forward together.
    pub fn advance(&self, by: Duration) {
        self.t.sim.advance(by);
        self.clock.advance(by);
    }

    /// A tracker with the configured cadence.
    pub fn tracker(&self) -> Tracker {
        Tracker::new(self.desk().clone(), self.settings.tracker.clone())
    }

    /// A balance monitor with the configured tiers and reminder.
    pub fn monitor(&self) -> BalanceMonitor {
        BalanceMonitor::new(
            self.desk().clone(),
            self.settings.warn_below.clone(),
            self.settings.reminder,
            self.settings.digest_at,
        )
    }

    /// A dispatcher posting to the recording notifier.
    pub fn dispatcher(&self) -> Dispatcher {
        Dispatcher::new(
            self.desk().clone(),
            self.t.notifier.clone(),
            self.t.app.config.chat.alert_channel,
            TimeStyle::Utc,
        )
    }

    /// Drops the app and builds it again on the same database and simulator, as a restart does;
    /// the chat (the recording notifier) is the same one.
    pub async fn restart(&mut self) {
        let app = self.t.restart(self.clock.clone()).await;
        let old = std::mem::replace(&mut self.t.app, app);
        old.store().close().await;
    }

    /// Files `form` as alice, shows its card in [`REQUEST_CHANNEL`], and returns its id.
    pub async fn file(&self, form: &PurchaseForm) -> RequestId {
        let origin = Origin {
            guild_id: Some(GuildId::new(1)),
            channel_id: Some(REQUEST_CHANNEL),
        };
        let view = self.desk().create(&alice(), form, origin).await.expect("filed");
        let id = view.record.id;
        self.desk()
            .attach_message(id, REQUEST_CHANNEL, card_message(id), None)
            .await
            .expect("card attached");
        id
    }

    /// Files `form`, has bob approve it and submits it; returns the request id.
    pub async fn buy(&self, form: &PurchaseForm) -> RequestId {
        let id = self.file(form).await;
        let ballot = Ballot {
            approve: true,
            reason: None,
            seen_hash: None,
            via: cvmbot::domain::VoteVia::Console,
        };
        let outcome = self.desk().vote(id, &bob(), &ballot).await.expect("approved");
        assert_eq!(outcome.decided, Some(RequestState::Approved));
        self.desk().submit_due().await.expect("submitted");
        assert_eq!(
            self.state(id).await,
            RequestState::Submitted,
            "RunInstances accepted request #{id}"
        );
        id
    }

    /// Moves time `step` at a time for `total`, running a tracker round and a dispatcher pass at
    /// each step; returns the DescribeInstances calls the rounds reported.
    pub async fn drive(&self, total: Duration, step: Duration) -> usize {
        let tracker = self.tracker();
        let dispatcher = self.dispatcher();
        let mut calls = 0;
        let mut elapsed = Duration::ZERO;
        while elapsed < total {
            self.advance(step);
            elapsed += step;
            calls += tracker.round().await.expect("a tracker round");
            dispatcher.run_once().await.expect("a dispatcher pass");
        }
        calls
    }

    /// The state of request `id`.
    pub async fn state(&self, id: RequestId) -> RequestState {
        self.desk().view(id).await.expect("the request").record.state
    }

    /// The instances of request `id` as tracked.
    pub async fn instances(&self, id: RequestId) -> Vec<InstanceRecord> {
        self.desk().view(id).await.expect("the request").instances
    }

    /// Every notice recorded in the outbox (sent or not), oldest first.
    pub async fn outbox(&self) -> Vec<NotificationRecord> {
        self.desk().outbox(None).await.expect("the outbox")
    }

    /// The dedupe keys of every post the chat received, in order.
    pub fn posted_keys(&self) -> Vec<String> {
        // A post carrying several instance notices has their keys joined with `|`.
        posts(&self.t.notifier)
            .into_iter()
            .flat_map(|(_, message)| {
                let keys = message.dedupe_key.unwrap_or_default();
                keys.split('|').map(str::to_owned).collect::<Vec<_>>()
            })
            .collect()
    }

    /// Posts in `channel`: their texts, in order.
    pub fn texts_in(&self, channel: ChannelId) -> Vec<String> {
        posts(&self.t.notifier)
            .into_iter()
            .filter(|(c, _)| *c == channel)
            .filter_map(|(_, message)| message.text)
            .collect()
    }

    /// DescribeInstances calls the simulator received so far.
    pub fn describe_calls(&self) -> Vec<Vec<String>> {
        self.t
            .sim
            .requests()
            .into_iter()
            .filter(|r| r.action == "DescribeInstances")
            .map(|r| {
                r.params["InstanceIds"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// The message id the card of request `id` is shown as.
pub fn card_message(id: RequestId) -> MessageId {
    MessageId::new(5_000 + id.get() as u64)
}

/// Every post: (channel, message).
pub fn posts(notifier: &RecordingNotifier) -> Vec<(ChannelId, cvmbot::chat::Outgoing)> {
    notifier
        .recorded()
        .into_iter()
        .filter_map(|r| match r {
            Recorded::Post { channel, message, .. } => Some((channel, message)),
            Recorded::Edit { .. } => None,
        })
        .collect()
}

/// How often `key` occurs in `keys`.
pub fn count(keys: &[String], key: &str) -> usize {
    keys.iter().filter(|k| *k == key).count()
}

/// Polls `check` every 20 ms until it holds or `limit` passes; panics with `what` on timeout.
pub async fn eventually(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
