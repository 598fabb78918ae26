//! The desk: the engine. Every use case (filing, voting, cancelling, expiring, submitting,
//! tracking, watching the balance, delivering the outbox) is a method here; each takes domain
//! values, returns views and raises [`Event`]s, and knows nothing of Discord, the console or the
//! configuration file. Every state change is one transaction that locks the request row first and
//! is guarded by the state it expects. Workers and chat adapters get narrow methods, never the
//! store or the Tencent client.

mod balance;
mod budgets;
mod cards;
mod catalogue;
mod cloud;
mod costs;
mod create;
mod error;
mod event;
mod fleets;
pub mod keys;
mod lease;
mod lifetime;
mod operations;
mod outbox;
mod probe;
mod sold;
mod spend;
mod steps;
mod submit;
mod tracking;
mod views;
mod vote;

pub use balance::BalanceRules;
pub use budgets::BudgetSpend;
pub use cards::PostedCard;
pub use catalogue::{Catalogue, Choice, MAX_CHOICES};
pub use cloud::{explain_failure, quote_from_price, run_request};
pub use error::{Chain, DeskError};
pub use event::{Event, Runway, StillRunningItem};
pub use fleets::FleetPass;
pub use lifetime::{Extension, LifetimePass};
pub use outbox::{Posting, notice_row};
pub use spend::{Bills, Spend};
pub use submit::SubmitOutcome;
pub use tracking::{Observation, TrackerSettings, observe, postpone, settled_state};
pub use views::{BalanceReport, FleetView, ReleaseNote, RequestView};
pub use vote::{Ballot, VoteOutcome};

use crate::clock::Clock;
use crate::domain::{ChannelId, GuildId, ParseContext, Policy, RequestId};
use crate::store::Store;
use crate::tencent::TencentClient;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Where a request was filed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The guild (server), if any.
    pub guild_id: Option<GuildId>,
    /// The channel.
    pub channel_id: Option<ChannelId>,
}

/// The desk's settings (the configuration builds them).
#[derive(Clone, Debug)]
pub struct DeskSettings {
    /// The rules.
    pub policy: Policy,
    /// Presets and defaults.
    pub parse: ParseContext,
    /// Spot keep-trying backoff: first and longest wait.
    pub keep_trying_interval: Duration,
    /// See [`DeskSettings::keep_trying_interval`].
    pub keep_trying_max_interval: Duration,
    /// How long a submission whose outcome is unknown waits before it is resent (same ClientToken).
    pub resend_after: Duration,
    /// The tracker's first poll interval after a purchase.
    pub first_poll: Duration,
    /// Regions whose catalogue feeds autocomplete.
    pub catalogue_regions: Vec<String>,
    /// How often each owner hears what cvmbot bought for them that still runs (zero: never).
    pub still_running_every: Duration,
    /// The `[[budgets]]`: per-scope money per month, with threshold alerts and a check at filing.
    pub budgets: Vec<crate::domain::Budget>,
}

/// The engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Desk {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    tencent: TencentClient,
    settings: DeskSettings,
    clock: Clock,
    installation_id: String,
    submitter_wake: Notify,
    dispatcher_wake: Notify,
    fleets_wake: Notify,
    /// Request ids whose card was just linked (waiters in the adapters).
    cards_linked: tokio::sync::broadcast::Sender<RequestId>,
    catalogue: Catalogue,
    sold: sold::Sold,
    /// The last still-running period reported by this process (a restart reports it again,
    /// which the outbox's dedupe keys make a no-op).
    still_running_reported: std::sync::Mutex<Option<i64>>,
}

impl Desk {
    /// A desk over `store` and `tencent`.
    pub async fn new(
        store: Store,
        tencent: TencentClient,
        settings: DeskSettings,
        clock: Clock,
    ) -> Result<Desk, DeskError> {
        let installation_id = store.installation_id().await.map_err(DeskError::internal)?;
        let catalogue = Catalogue::new(tencent.clone(), settings.catalogue_regions.clone());
        let sold = sold::Sold::new(tencent.clone());
        let inner = Inner {
            store,
            tencent,
            settings,
            clock,
            installation_id,
            submitter_wake: Notify::new(),
            dispatcher_wake: Notify::new(),
            fleets_wake: Notify::new(),
            cards_linked: tokio::sync::broadcast::channel(1024).0,
            catalogue,
            sold,
            still_running_reported: std::sync::Mutex::new(None),
        };
        Ok(Desk { inner: Arc::new(inner) })
    }

    /// The store, for the use cases only.
    fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The Tencent client, for the use cases only.
    fn tencent(&self) -> &TencentClient {
        &self.inner.tencent
    }

    /// The settings.
    pub fn settings(&self) -> &DeskSettings {
        &self.inner.settings
    }

    /// The clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Why the database refuses writes now (a full or failing disk), if it does.
    pub fn write_failure(&self) -> Option<crate::store::WriteFailure> {
        self.inner.store.write_failure()
    }

    /// The cached catalogue for autocomplete.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    /// Resolves when an approval (or a restart) makes work for the submitter.
    pub async fn submitter_woken(&self) {
        self.inner.submitter_wake.notified().await;
    }

    /// Resolves when a notice or card change is waiting for delivery.
    pub async fn dispatcher_woken(&self) {
        self.inner.dispatcher_wake.notified().await;
    }

    fn wake_submitter(&self) {
        self.inner.submitter_wake.notify_one();
    }

    /// Resolves when a fleet has work (a server reclaimed or started, a fleet created or changed).
    pub async fn fleets_woken(&self) {
        self.inner.fleets_wake.notified().await;
    }

    /// Tells the fleets worker a fleet has work.
    fn wake_fleets(&self) {
        self.inner.fleets_wake.notify_one();
    }

    /// Tells the dispatcher there is something to deliver.
    pub fn wake_dispatcher(&self) {
        self.inner.dispatcher_wake.notify_one();
    }
}
