//! The engine's background work: the submitter, the instance tracker, the fleets, the balance
//! monitor and expiry. Each pass calls the desk (never the store or the Tencent client), and only
//! the holder of the `workers` lease runs them, so a second replica (on PostgreSQL) waits as a hot
//! standby.
//! The assembly (`crate::app`) adds the chat's delivery to the same schedule with
//! [`Workers::spawn_while_leading`].

mod balance;
mod leader;
mod tracker;

pub use crate::desk::{Observation, TrackerSettings, observe};
pub use balance::BalanceMonitor;
pub use leader::Leadership;
pub use tracker::Tracker;

use crate::desk::{Chain, Desk, DeskError};
use crate::money::Yuan;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info};

/// The workers' settings (the configuration builds them).
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Submitter poll interval.
    pub submit_poll: Duration,
    /// Tracker cadence.
    pub tracker: TrackerSettings,
    /// Balance check interval.
    pub balance_interval: Duration,
    /// How often times to live are looked at (reminders due, lifetimes ended).
    pub lifetimes_interval: Duration,
    /// How often fleets are tended when nothing wakes them.
    pub fleets_interval: Duration,
    /// Warning tiers, CNY.
    pub warn_below: Vec<Yuan>,
    /// Reminder interval (zero: none).
    pub reminder: Duration,
    /// Daily digest time (UTC hour, minute), if enabled.
    pub digest_at: Option<(u8, u8)>,
    /// How long the workers lease lasts without renewal.
    pub lease: Duration,
}

/// Running workers; dropping this does not stop them, [`Workers::shutdown`] does.
pub struct Workers {
    stop: watch::Sender<bool>,
    stopped: watch::Receiver<bool>,
    handles: Vec<JoinHandle<()>>,
    leadership: Leadership,
}

impl Workers {
    /// Takes the workers lease if it is free and starts every worker (each acts only while this
    /// process holds the lease).
    pub async fn spawn(desk: Desk, settings: &WorkerSettings) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let leadership = Leadership::new(desk.clone(), settings.lease);
        leadership.try_acquire().await;
        let mut workers = Workers {
            handles: vec![leadership.spawn(stopped.clone())],
            stop,
            stopped,
            leadership,
        };
        let submitter = desk.clone();
        let recovered = Arc::new(AtomicBool::new(false));
        workers.spawn_while_leading(
            "submitter",
            settings.submit_poll,
            {
                let desk = desk.clone();
                move || {
                    let desk = desk.clone();
                    async move { desk.submitter_woken().await }
                }
            },
            move || {
                let (desk, recovered) = (submitter.clone(), recovered.clone());
                async move {
                    if !recovered.load(Ordering::SeqCst) {
                        desk.recover_submissions().await?;
                        recovered.store(true, Ordering::SeqCst);
                    }
                    desk.submit_due().await.map(|_| ())
                }
            },
        );
        let expiry = desk.clone();
        workers.spawn_while_leading("expiry", Duration::from_secs(15), never, move || {
            let desk = expiry.clone();
            async move { desk.expire_due().await.map(|_| ()) }
        });
        let lifetimes = desk.clone();
        workers.spawn_while_leading("lifetimes", settings.lifetimes_interval, never, move || {
            let desk = lifetimes.clone();
            async move { desk.lifetimes_due().await.map(|_| ()) }
        });
        let fleets = desk.clone();
        workers.spawn_while_leading(
            "fleets",
            settings.fleets_interval,
            {
                let desk = desk.clone();
                move || {
                    let desk = desk.clone();
                    async move { desk.fleets_woken().await }
                }
            },
            move || {
                let desk = fleets.clone();
                async move { desk.fleets_due().await.map(|_| ()) }
            },
        );
        let tracker = Tracker::new(desk.clone(), settings.tracker.clone());
        workers.handles.push(tokio::spawn(
            tracker.run(workers.stopped.clone(), workers.leadership.clone()),
        ));
        let monitor = BalanceMonitor::new(
            desk.clone(),
            settings.warn_below.clone(),
            settings.reminder,
            settings.digest_at,
        );
        workers.spawn_while_leading("balance", settings.balance_interval, never, move || {
            let monitor = monitor.clone();
            async move { monitor.run_once().await }
        });
        info!("workers started");
        workers
    }

    /// Runs `work` whenever `wake` fires or `every` passes, while this process holds the lease,
    /// until the workers stop.
    pub fn spawn_while_leading<W, WF, F, Fut>(&mut self, name: &'static str, every: Duration, wake: W, work: F)
    where
        W: Fn() -> WF + Send + 'static,
        WF: Future<Output = ()> + Send,
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), DeskError>> + Send,
    {
        let leadership = self.leadership.clone();
        let mut stopped = self.stopped.clone();
        self.handles.push(tokio::spawn(async move {
            loop {
                if leadership.is_leader()
                    && let Err(e) = work().await
                {
                    error!(worker = name, error = %Chain(&e), "worker pass failed");
                }
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = wake() => {}
                    _ = tokio::time::sleep(every) => {}
                }
                if *stopped.borrow() {
                    break;
                }
            }
        }));
    }

    /// Runs `task` (given the stop signal) beside the workers whether or not this process leads,
    /// and waits for it when they stop.
    pub fn spawn_beside<F, Fut>(&mut self, task: F)
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.handles.push(tokio::spawn(task(self.stopped.clone())));
    }

    /// Whether this process holds the workers lease.
    pub fn is_leader(&self) -> bool {
        self.leadership.is_leader()
    }

    /// This process's claim on the workers lease (for health checks and metrics).
    pub fn leadership(&self) -> Leadership {
        self.leadership.clone()
    }

    /// Stops every worker (each finishes the pass it is in) and gives up the lease.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
        self.leadership.release().await;
    }
}

async fn never() {
    std::future::pending::<()>().await
}
