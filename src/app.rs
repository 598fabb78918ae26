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
use crate::workers::{Leadership, Workers};
use anyhow::Context;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tracing::info;

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
        let workers = Workers::spawn(self.desk.clone(), &self.config.workers).await;
        self.deliver(workers, notifier, style)
    }

    /// Like [`App::start`], under a leadership the caller renews (the Discord service's).
    fn start_led(&self, notifier: Arc<dyn Notifier>, style: TimeStyle, leadership: Leadership) -> Workers {
        let workers = Workers::spawn_led(self.desk.clone(), &self.config.workers, leadership);
        self.deliver(workers, notifier, style)
    }

    /// Adds the outbox's delivery and the database health alert to `workers`.
    fn deliver(&self, mut workers: Workers, notifier: Arc<dyn Notifier>, style: TimeStyle) -> Workers {
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

    /// The Discord bot answering for this app with `token` and the workers posting through it,
    /// both only while this process holds the workers lease; it connects when run.
    pub async fn discord(&self, token: &Secret) -> anyhow::Result<DiscordService> {
        Ok(DiscordService {
            app: self.clone(),
            token: token.clone(),
            leadership: Leadership::new(self.desk.clone(), self.config.workers.lease),
            ready: Arc::new(watch::channel(false).0),
            duty: Arc::new(watch::channel(Duty::Starting).0),
            health: std::sync::Mutex::default(),
        })
    }
}

/// The bot and the workers behind it, on the holder of the workers lease. A replica that does not
/// hold the lease stands by: no gateway connection, no workers, no writes (the store's fence is
/// closed). When the lease comes to it (the leader stopped, or died and its lease ran out) it
/// connects, and on READY it catches up with what happened while nobody was connected: votes
/// cast by reaction, cards, notices. A leader that loses the lease (paused past its end, or cut
/// off from the database) closes its gateway and stands by again.
pub struct DiscordService {
    app: App,
    token: Secret,
    leadership: Leadership,
    ready: Arc<watch::Sender<bool>>,
    duty: Arc<watch::Sender<Duty>>,
    /// The health and metrics listener's state, told of the gateway while it is connected.
    health: std::sync::Mutex<Option<crate::ops::ServiceState>>,
}

/// What a replica is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duty {
    /// Starting up: it has not yet asked for the lease.
    Starting,
    /// Another replica holds the lease; this one waits to take over.
    StandingBy,
    /// It holds the lease and is connecting to the gateway (or reconnecting).
    Connecting,
    /// It holds the lease, and its bot has handled READY.
    Answering,
}

impl crate::systemd::Duty for Duty {
    /// True when the replica does what it should: answering, or standing by for another.
    fn is_doing_its_job(&self) -> bool {
        matches!(self, Duty::StandingBy | Duty::Answering)
    }

    /// In words, for a service manager's status line.
    fn describe(&self) -> &'static str {
        match self {
            Duty::Starting => "starting",
            Duty::StandingBy => "standing by: another replica answers on Discord and runs the workers",
            Duty::Connecting => "connecting to Discord",
            Duty::Answering => "answering on Discord",
        }
    }
}

impl DiscordService {
    /// True while this process's bot has handled READY (false while it stands by); for health
    /// checks and tests.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Whether this process holds the workers lease.
    pub fn is_leader(&self) -> bool {
        self.leadership.is_leader()
    }

    /// What this replica is doing, as it changes.
    pub fn duty(&self) -> watch::Receiver<Duty> {
        self.duty.subscribe()
    }

    /// This process's claim on the workers lease.
    pub fn leadership(&self) -> &Leadership {
        &self.leadership
    }

    /// Reports to the health and metrics listener's `state`: whether this process leads, and
    /// the gateway while it is connected.
    pub fn report_to(&self, state: &crate::ops::ServiceState) {
        let leadership = self.leadership.clone();
        state.set_leadership(move || leadership.is_leader());
        *self.health.lock().expect("health state") = Some(state.clone());
    }

    /// Runs until `stop` resolves or the gateway connection fails: standing by while another
    /// process holds the lease, leading while this one does. When stopped, the gateway is closed,
    /// the workers finish the pass they are in and the lease is handed over at once.
    pub async fn run_until(self, stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let mut stop = std::pin::pin!(stop);
        // Asked once before anything else, so a replica that will lead never says it stands by.
        self.leadership.try_acquire().await;
        let (end_renewals, renewals_ended) = watch::channel(false);
        let renewals = self.leadership.spawn(renewals_ended);
        let mut role = self.leadership.role();
        let result = loop {
            if role.borrow().is_none() {
                self.duty.send_replace(Duty::StandingBy);
                info!(
                    holder = self.leadership.holder(),
                    "standing by: another process runs the bot and the workers"
                );
            }
            tokio::select! {
                _ = &mut stop => break Ok(()),
                leading = role.wait_for(Option::is_some) => if leading.is_err() { break Ok(()) },
            }
            match self.lead(&mut stop, &mut role).await {
                Ok(Led::Stopped) => break Ok(()),
                Ok(Led::LostTheLease) => continue,
                Err(error) => break Err(error),
            }
        };
        let _ = end_renewals.send(true);
        let _ = renewals.await;
        self.leadership.release().await;
        result
    }

    /// Connects the bot and runs the workers until stopped or the lease is lost.
    async fn lead(
        &self,
        stop: &mut std::pin::Pin<&mut impl std::future::Future<Output = ()>>,
        role: &mut watch::Receiver<Option<i64>>,
    ) -> anyhow::Result<Led> {
        self.duty.send_replace(Duty::Connecting);
        let bot = Bot::connect(self.app.desk.clone(), &self.token, &self.app.config.discord).await?;
        self.tell_health(Some(crate::ops::Gateway::new(bot.readiness(), bot.shards())));
        let mut ready = bot.readiness();
        let (told, duty) = (self.ready.clone(), self.duty.clone());
        let forwarding = tokio::spawn(async move {
            while ready.changed().await.is_ok() {
                let now = *ready.borrow();
                told.send_replace(now);
                duty.send_replace(if now { Duty::Answering } else { Duty::Connecting });
            }
        });
        let workers = self
            .app
            .start_led(bot.notifier(), TimeStyle::Discord, self.leadership.clone());
        let lost = AtomicBool::new(false);
        let ended = bot
            .run_until(async {
                tokio::select! {
                    _ = stop.as_mut() => {}
                    _ = role.wait_for(Option::is_none) => lost.store(true, Ordering::SeqCst),
                }
            })
            .await;
        forwarding.abort();
        self.ready.send_replace(false);
        self.tell_health(None);
        workers.shutdown().await;
        ended?;
        Ok(if lost.load(Ordering::SeqCst) {
            Led::LostTheLease
        } else {
            Led::Stopped
        })
    }
}

impl DiscordService {
    fn tell_health(&self, gateway: Option<crate::ops::Gateway>) {
        if let Some(state) = self.health.lock().expect("health state").as_ref() {
            state.set_gateway(gateway);
        }
    }
}

/// How a spell of leading ended.
enum Led {
    Stopped,
    LostTheLease,
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

/// The sandbox's settings (`cvmbot demo`, `cvmbot gallery`), layered over the defaults.
pub const SANDBOX_CONFIG: &str = include_str!("../config/demo.toml");

/// The sandbox's configuration: defaults < demo.toml < `file`, pointed at the simulator at
/// `sim_url` with its account, on a SQLite file in `dir`.
pub fn sandbox_config(sim_url: &str, dir: &std::path::Path, file: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let env: std::collections::BTreeMap<String, String> = std::env::vars().filter(|(k, _)| k == "RUST_LOG").collect();
    let mut config = Config::load_layered(&[("the demo settings", SANDBOX_CONFIG)], file, &env)?;
    let database = format!("sqlite://{}", dir.join("cvmbot-demo.db").display());
    config.database.target = crate::store::DatabaseTarget::Sqlite(database);
    simulated(&mut config, sim_url)?;
    Ok(config)
}
