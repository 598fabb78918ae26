//! A local Tencent Cloud: CVM 2017-03-12 and Billing 2018-07-09 as the official SDKs see them —
//! TC3-HMAC-SHA256 signatures, the `{"Response": …}` envelope, the documented error codes — with
//! accounts that pay in fen, stock, a drifting spot market, instances that launch, get public
//! IPs, bill by the second and are reclaimed, and injectable faults and rate limits. Teams try
//! cvmbot on it without spending money; every test and benchmark runs against it.
//!
//! Start it with [`run`] (the `cvmbot sim` command) or in process with [`Simulator::start`].
//!
//! # Control endpoint
//!
//! Plain JSON under `/_sim/`, no signature, apart from the API at `POST /`:
//!
//! | route | body | does |
//! |---|---|---|
//! | `GET /_sim/state` | | time, accounts' balances, stock, spot prices, kept data disks, faults, limits |
//! | `GET /_sim/accounts/{secret_id}` | | the DescribeAccountBalance fields (fen) |
//! | `POST /_sim/accounts/{secret_id}` | `{"cash_fen"?, "owe_fen"?, "credit_amount_fen"?, "allow_arrears"?}` | changes money |
//! | `POST /_sim/stock` | `{"zone", "instance_type", "stock"?, "spot_stock"? \| "spot_capacity"?}` | sets remaining stock; `spot_capacity` instead caps the spot instances there (the newest beyond it are reclaimed) and answers `{"ok": true, "reclaimed": [ids]}` |
//! | `POST /_sim/spot-price` | `{"zone", "instance_type", "price": "0.25"}` | sets a spot price (outbid spot instances are reclaimed) |
//! | `POST /_sim/reclaim` | `{"zone"?, "instance_type"?, "count" \| "percent"}` | reclaims that many, or that percentage rounded down, of the matching running and pending spot instances, picked by the seed; answers `{"reclaimed": [ids]}` |
//! | `POST /_sim/faults` | `{"all": {rates}, "actions": {"RunInstances": {rates}}}` | replaces fault rates |
//! | `POST /_sim/rate-limits` | `{"enabled", "default", "actions": {"RunInstances": 10}}` | replaces rate limits |
//! | `POST /_sim/fail-next` | `{"action", "failure": {"code": "InternalError"} \| "drop_before_processing" \| "drop_after_processing" \| {"garble_after_processing": "html" \| {"status": 408} \| {"without": "InstanceIdSet"}}, "times"?: 1}` | fails the next calls |
//! | `POST /_sim/cam/{secret_id}` | `{"deny": ["RunInstances"], "code"?: "AuthFailure.UnauthorizedOperation"}` | refuses those actions to that key from now on, as a CAM policy that does not grant them (`[]` grants everything again) |
//! | `POST /_sim/advance` | `{"seconds": 300}` | moves simulated time |
//! | `GET /_sim/requests`, `DELETE /_sim/requests` | | the request log, or clears it |
//! | `GET /_sim/instances` | | instances with the times RUNNING and the public IP became visible |
//!
//! `{rates}` is `{"internal_error_per_million", "request_limit_per_million", "drop_before_per_million",
//! "drop_after_per_million", "latency_ms", "latency_jitter_ms"}`, each optional (0).
//!
//! A reclaimed spot instance — outbid, over capacity or picked by `/_sim/reclaim` — stops billing,
//! gives its freeze and its stock unit back (so a refill can launch at once), shows TERMINATING
//! with the reason in `/_sim/instances` and vanishes after `terminating_secs`. Its ClientToken
//! still answers the InstanceIdSet it bought, and buys nothing new.
//!
//! # Determinism
//!
//! With a seed and `speed = 0`, ids, RequestIds, launch failures, public-IP delays, spot prices,
//! the instances a reclaim picks and faults repeat exactly for the same sequence of requests.
//! What stays nondeterministic: the order in which concurrent requests take the state lock,
//! wall-clock timestamps in the log, the rate limiter (it counts wall-clock seconds), and with
//! `speed > 0` the simulated instant each request lands on.

pub(crate) mod actions;
pub(crate) mod auth;
pub(crate) mod billing_engine;
pub mod cam;
pub(crate) mod catalogue;
pub mod catalogue_config;
pub mod clock;
pub mod config;
pub mod control;
pub mod defaults;
pub mod faults;
pub(crate) mod language;
pub mod ledger;
pub mod log;
pub(crate) mod reclaim;
pub(crate) mod server;
#[rustfmt::skip]
pub(crate) mod spec_members;
pub(crate) mod wire;
pub(crate) mod world;

pub use config::SimConfig;
pub use control::{AccountPatch, Control, InstanceView};
pub use defaults::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, DEFAULT_UIN};
pub use faults::{Failure, Garble};
pub use log::LoggedRequest;
pub use reclaim::Reclaim;
pub use world::instance::Disk;
pub use world::{KeptDisk, Stock};

use self::catalogue::Catalogue;
use self::clock::{SimClock, SimMs, parse_rfc3339, wall_unix_ms};
use self::faults::Faults;
use self::log::RequestLog;
use self::world::World;
use anyhow::Context;
use cvmbot_tencent::random::{SplitMix64, entropy};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The options of `cvmbot sim`.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// Where to listen, e.g. `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// A TOML settings file (`config/sim.toml` documents it); none: the defaults.
    pub config: Option<PathBuf>,
    /// Simulated seconds per wall second; 1.0 (the CLI default) keeps the file's `speed`.
    pub speed: f64,
    /// Seed, replacing the file's.
    pub seed: Option<u64>,
    /// State file: loaded at start if it exists, written at Ctrl-C.
    pub state: Option<PathBuf>,
}

/// Serves the simulator until `stop` resolves (the command line passes Ctrl-C or SIGTERM),
/// printing `cvmbot sim listening on http://…` first, then saves the state file if one was given.
pub async fn run(options: SimOptions, stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let mut config = match &options.config {
        Some(path) => SimConfig::from_toml_file(path)?,
        None => SimConfig::default(),
    };
    if options.speed != 1.0 {
        config.speed = options.speed;
    }
    if options.seed.is_some() {
        config.seed = options.seed;
    }
    config.validate()?;
    let simulator = Simulator::start_from(config, options.listen, options.state.as_deref()).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "cvmbot sim listening on {}", simulator.url()).context("writing to stdout")?;
    stdout.flush().context("flushing stdout")?;
    stop.await;
    if let Some(path) = &options.state {
        simulator.save_state(path)?;
        tracing::info!(path = %path.display(), "simulator state saved");
    }
    simulator.shutdown().await;
    Ok(())
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) cat: Arc<Catalogue>,
    pub(crate) clock: SimClock,
    world: Mutex<World>,
    pub(crate) log: RequestLog,
    faults: Mutex<Faults>,
    cam: Mutex<cam::Cam>,
    ids: Mutex<SplitMix64>,
}

impl Shared {
    /// Runs `f` on the world brought up to the current simulated time. Synchronous on purpose:
    /// the lock is never held across an await.
    pub(crate) fn with_world<T>(&self, f: impl FnOnce(&mut World) -> T) -> T {
        let mut world = self.world.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.clock.now();
        world.tick(now, &self.clock);
        f(&mut world)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn cam(&self) -> MutexGuard<'_, cam::Cam> {
        self.cam.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn next_request_id(&self) -> String {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner).uuid()
    }
}

/// A state file: the simulated time and the world.
#[derive(Serialize, Deserialize)]
struct Saved {
    sim_now: SimMs,
    world: World,
}

fn load_state(path: &Path) -> anyhow::Result<Saved> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a simulator state file", path.display()))
}

/// A simulator running in this process.
pub struct Simulator {
    control: Control,
    url: String,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::ops::Deref for Simulator {
    type Target = Control;

    fn deref(&self) -> &Control {
        &self.control
    }
}

impl Simulator {
    /// Starts a simulator on `listen` (port 0 picks a free port).
    pub async fn start(config: SimConfig, listen: SocketAddr) -> anyhow::Result<Simulator> {
        Self::start_with(config, listen, None).await
    }

    /// Starts a simulator, continuing from the state file `state` when it exists.
    pub async fn start_from(config: SimConfig, listen: SocketAddr, state: Option<&Path>) -> anyhow::Result<Simulator> {
        let saved = match state {
            Some(path) if path.exists() => Some(load_state(path)?),
            _ => None,
        };
        Self::start_with(config, listen, saved).await
    }

    async fn start_with(config: SimConfig, listen: SocketAddr, saved: Option<Saved>) -> anyhow::Result<Simulator> {
        config.validate()?;
        let seed = config.seed.unwrap_or_else(entropy);
        let start = config
            .start_time
            .as_deref()
            .and_then(parse_rfc3339)
            .unwrap_or_else(wall_unix_ms);
        let faults = Faults::new(config.faults.clone(), config.rate_limits.clone(), seed);
        let speed = config.speed;
        let cat = Arc::new(Catalogue::new(config));
        let (clock, world) = match saved {
            Some(saved) => (SimClock::new(saved.sim_now, speed), saved.world.attach(cat.clone())),
            None => (SimClock::new(start, speed), World::new(cat.clone(), seed, start)),
        };
        let shared = Arc::new(Shared {
            cat,
            clock,
            world: Mutex::new(world),
            log: RequestLog::default(),
            faults: Mutex::new(faults),
            cam: Mutex::default(),
            ids: Mutex::new(SplitMix64::seeded(seed ^ 0x1D5_1D5_1D5)),
        });
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        let (stop, stopped) = watch::channel(false);
        let app = server::router(shared.clone()).into_make_service_with_connect_info::<server::Conn>();
        let mut on_stop = stopped.clone();
        let serve = tokio::spawn(async move {
            let result = axum::serve(server::SimListener(listener), app)
                .with_graceful_shutdown(async move {
                    let _ = on_stop.wait_for(|stop| *stop).await;
                })
                .await;
            if let Err(error) = result {
                tracing::error!(%error, "the simulator's server failed");
            }
        });
        let ticker = tokio::spawn(tick_in_background(shared.clone(), stopped));
        Ok(Simulator {
            control: Control(shared),
            url: format!("http://{addr}"),
            stop,
            tasks: vec![serve, ticker],
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The control handle, to keep after the simulator value is moved.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Writes the state (accounts, instances, stock, prices, tokens, time) to `path`.
    pub fn save_state(&self, path: &Path) -> anyhow::Result<()> {
        let shared = &self.control.0;
        let bytes = shared.with_world(|world| {
            world.prepare_save();
            serde_json::to_vec(&SavedRef {
                sim_now: world.now,
                world,
            })
        })?;
        std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
    }

    /// Stops serving and waits for the server to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

#[derive(Serialize)]
struct SavedRef<'a> {
    sim_now: SimMs,
    world: &'a World,
}

/// Keeps billing and the spot market moving while nobody calls (and so keeps each call's work
/// small); only when the clock runs by itself.
async fn tick_in_background(shared: Arc<Shared>, mut stopped: watch::Receiver<bool>) {
    if shared.clock.speed() <= 0.0 {
        let _ = stopped.wait_for(|stop| *stop).await;
        return;
    }
    loop {
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(Duration::from_millis(200)) => shared.with_world(|_| ()),
        }
    }
}
