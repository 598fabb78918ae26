//! The assembly: from a [`Config`] to a running cvmbot, in one place, so production, the demo and
//! the tests build exactly the same thing. The store, the Tencent client and the desk (the
//! engine); the engine's workers; the chat's delivery of the engine's outbox through a
//! [`Notifier`]; and the Discord bot that answers people.

use crate::chat::discord::Bot;
use crate::chat::render::TimeStyle;
use crate::chat::{Dispatcher, Notifier, watch_database};
use crate::clock::Clock;
use crate::config::Config;
use crate::desk::Desk;
use crate::secret::Secret;
use crate::store::Store;
use crate::tencent::{Credentials, Endpoint, TencentClient};
use crate::workers::Workers;
use anyhow::Context;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// The assembled engine.
#[derive(Clone)]
pub struct App {
    /// The configuration it was built from.
    pub config: Config,
    /// The engine.
    pub desk: Desk,
    store: Store,
}

impl App {
    /// Opens the database (creating and migrating it), builds the Tencent client and the desk.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<App> {
        anyhow::ensure!(
            config.secrets.tencent.is_some(),
            "Tencent Cloud credentials are not set: export TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY \
             (or use --simulate to try cvmbot against the built-in simulator)"
        );
        let store = Store::open(&config.database)
            .await
            .with_context(|| format!("opening the database {}", config.database.target.redacted()))?;
        App::with_store(config, store, clock).await
    }

    /// Builds on an open store.
    pub async fn with_store(config: Config, store: Store, clock: Clock) -> anyhow::Result<App> {
        let credentials = config
            .secrets
            .tencent
            .clone()
            .context("Tencent Cloud credentials are not set")?;
        let tencent = TencentClient::observed(config.tencent.clone(), credentials, crate::ops::tencent_observer())
            .context("building the Tencent Cloud client")?;
        let desk = Desk::new(store.clone(), tencent, config.desk.clone(), clock)
            .await
            .context("starting the desk")?;
        Ok(App { config, desk, store })
    }

    /// The database (closing it, administration, tests' own queries). The engine's parts reach
    /// it only through the desk.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What the health and metrics listener reports on: the database through the desk, until the
    /// bot and the workers add theirs ([`DiscordService::report_to`]).
    pub fn service_state(&self) -> crate::ops::ServiceState {
        let tencent_within = self.config.service.tencent_within;
        crate::ops::ServiceState::new(Arc::new(self.desk.clone()), crate::ops::metrics(), tencent_within)
    }

    /// Starts the workers, and the delivery of the outbox through `notifier` with times written
    /// in `style` (it runs on the lease holder like the workers), and the database health alert.
    pub async fn start(&self, notifier: Arc<dyn Notifier>, style: TimeStyle) -> Workers {
        let mut workers = Workers::spawn(self.desk.clone(), &self.config.workers).await;
        let chat = &self.config.chat;
        let dispatcher = Dispatcher::new(self.desk.clone(), notifier.clone(), chat.alert_channel, style)
            .with_threads(chat.thread_per_request);
        let woken = self.desk.clone();
        let desk = self.desk.clone();
        let recovered = Arc::new(AtomicBool::new(false));
        workers.spawn_while_leading(
            "dispatcher",
            Duration::from_secs(1),
            move || {
                let desk = woken.clone();
                async move { desk.dispatcher_woken().await }
            },
            move || {
                let (dispatcher, desk, recovered) = (dispatcher.clone(), desk.clone(), recovered.clone());
                async move {
                    if !recovered.load(Ordering::SeqCst) {
                        desk.recover_cards().await?;
                        recovered.store(true, Ordering::SeqCst);
                    }
                    dispatcher.run_once().await.map(|_| ())
                }
            },
        );
        let (desk, alert_channel) = (self.desk.clone(), chat.alert_channel);
        workers.spawn_beside(move |stopped| watch_database(desk, notifier, alert_channel, stopped));
        workers
    }

    /// The Discord bot answering for this app with `token`, and the workers posting through it.
    pub async fn discord(&self, token: &Secret) -> anyhow::Result<DiscordService> {
        let bot = Bot::connect(self.desk.clone(), token, &self.config.discord).await?;
        let workers = self.start(bot.notifier(), TimeStyle::Discord).await;
        Ok(DiscordService { bot, workers })
    }
}

/// The bot and the workers behind it.
pub struct DiscordService {
    bot: Bot,
    workers: Workers,
}

impl DiscordService {
    /// True once the bot has handled READY; for health checks and tests.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.bot.readiness()
    }

    /// Whether this process holds the workers lease.
    pub fn is_leader(&self) -> bool {
        self.workers.is_leader()
    }

    /// Hands the gateway and the workers lease to what the health and metrics listener reports.
    pub fn report_to(&self, state: &crate::ops::ServiceState) {
        state.set_gateway(Some(crate::ops::Gateway::new(self.bot.readiness(), self.bot.shards())));
        let leadership = self.workers.leadership();
        state.set_leadership(move || leadership.is_leader());
    }

    /// Runs until the gateway connection ends or `stop` resolves; then the gateway is closed, the
    /// workers finish the pass they are in and the lease is handed over.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let result = self.bot.run_until(stop).await;
        self.workers.shutdown().await;
        result
    }
}

/// Points `config` at a simulator at `url`, with its default account: `run --simulate` and the
/// demo run on the same engine against a Tencent Cloud of their own.
pub fn simulated(config: &mut Config, url: &str) -> anyhow::Result<()> {
    config.tencent.endpoint = Endpoint::parse(url).map_err(anyhow::Error::msg)?;
    config.secrets.tencent = Some(Credentials {
        secret_id: crate::sim::DEFAULT_SECRET_ID.into(),
        secret_key: Secret::new(crate::sim::DEFAULT_SECRET_KEY),
        token: None,
    });
    Ok(())
}
