//! Background workers: the submitter, the notification dispatcher, the instance tracker, the
//! balance monitor, expiry and the daily digest. They reach the chat only through a
//! [`Notifier`](crate::chat::Notifier), and only the holder of the `workers` lease runs them, so a
//! second replica (on PostgreSQL) waits as a hot standby.

mod balance;
mod dispatcher;
mod leader;
mod tracker;

pub use balance::BalanceMonitor;
pub use dispatcher::{BATCH, Dispatcher};
pub use leader::Leadership;
pub use tracker::{Observation, Tracker, TrackerSettings, observe};

use crate::chat::Notice;
use crate::chat::Notifier;
use crate::chat::render::TimeStyle;
use crate::config::Config;
use crate::desk::Desk;
use crate::money::Yuan;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

/// Everything the workers need from the configuration.
#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Submitter poll interval.
    pub submit_poll: Duration,
    /// Tracker cadence.
    pub tracker: TrackerSettings,
    /// Balance check interval.
    pub balance_interval: Duration,
    /// Warning tiers, CNY.
    pub warn_below: Vec<Yuan>,
    /// Reminder interval (zero: none).
    pub reminder: Duration,
    /// The alert channel (0: none).
    pub alert_channel: u64,
    /// Daily digest time (UTC hour, minute), if enabled.
    pub digest_at: Option<(u8, u8)>,
    /// How times are written.
    pub time_style: TimeStyle,
    /// Open a thread under each new card for its request's notices.
    pub thread_per_request: bool,
    /// How long the workers lease lasts without renewal.
    pub lease: Duration,
}

impl WorkerSettings {
    /// From the configuration.
    pub fn from_config(config: &Config, time_style: TimeStyle) -> WorkerSettings {
        let s = &config.settings;
        let digest_at = s.digest.enabled.then(|| {
            let (h, m) = s.digest.at.split_once(':').unwrap_or(("9", "0"));
            (h.parse().unwrap_or(9), m.parse().unwrap_or(0))
        });
        WorkerSettings {
            submit_poll: s.submitter.poll_interval.0,
            tracker: TrackerSettings {
                initial: s.tracker.initial_interval.0,
                waiting: s.tracker.waiting_interval.0,
                max: s.tracker.max_interval.0,
                backoff: s.tracker.backoff,
                pending_warning: s.tracker.pending_warning_after.0,
            },
            balance_interval: s.balance.check_interval.0,
            warn_below: s.balance.warn_below.iter().map(|a| a.0).collect(),
            reminder: s.balance.reminder_interval.0,
            alert_channel: s.discord.alert_channel_id.0,
            digest_at,
            time_style,
            thread_per_request: s.discord.thread_per_request,
            lease: s.workers.lease.0,
        }
    }
}

/// Running workers; dropping this does not stop them, [`Workers::shutdown`] does.
pub struct Workers {
    stop: watch::Sender<bool>,
    handles: Vec<JoinHandle<()>>,
    leadership: Leadership,
}

impl Workers {
    /// Takes the workers lease if it is free and starts every worker (each acts only while this
    /// process holds the lease).
    pub async fn spawn(desk: Desk, notifier: Arc<dyn Notifier>, settings: WorkerSettings) -> Workers {
        let (stop, stopped) = watch::channel(false);
        let leadership = Leadership::new(desk.clone(), settings.lease);
        leadership.try_acquire().await;
        let mut handles = vec![leadership.spawn(stopped.clone())];
        let notifier_for_health = notifier.clone();
        let stopped_for_health = stopped.clone();
        let dispatcher = Dispatcher::new(desk.clone(), notifier, settings.alert_channel, settings.time_style)
            .with_threads(settings.thread_per_request);
        handles.push(spawn_loop(
            "dispatcher",
            stopped.clone(),
            leadership.clone(),
            Duration::from_secs(1),
            {
                let desk = desk.clone();
                move || {
                    let desk = desk.clone();
                    async move { desk.dispatcher_woken().await }
                }
            },
            {
                let desk = desk.clone();
                let recovered = Arc::new(std::sync::atomic::AtomicBool::new(false));
                move || {
                    let dispatcher = dispatcher.clone();
                    let desk = desk.clone();
                    let recovered = recovered.clone();
                    async move {
                        if !recovered.load(std::sync::atomic::Ordering::SeqCst) {
                            desk.recover_cards().await?;
                            recovered.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        dispatcher.run_once().await.map(|_| ())
                    }
                }
            },
        ));
        handles.push(spawn_loop(
            "submitter",
            stopped.clone(),
            leadership.clone(),
            settings.submit_poll,
            {
                let desk = desk.clone();
                move || {
                    let desk = desk.clone();
                    async move { desk.submitter_woken().await }
                }
            },
            {
                let desk = desk.clone();
                let recovered = Arc::new(std::sync::atomic::AtomicBool::new(false));
                move || {
                    let desk = desk.clone();
                    let recovered = recovered.clone();
                    async move {
                        if !recovered.load(std::sync::atomic::Ordering::SeqCst) {
                            desk.recover_submissions().await?;
                            recovered.store(true, std::sync::atomic::Ordering::SeqCst);
                        }
                        desk.submit_due().await.map(|_| ())
                    }
                }
            },
        ));
        handles.push(spawn_loop(
            "expiry",
            stopped.clone(),
            leadership.clone(),
            Duration::from_secs(15),
            never,
            {
                let desk = desk.clone();
                move || {
                    let desk = desk.clone();
                    async move { desk.expire_due().await.map(|_| ()) }
                }
            },
        ));
        let tracker = Tracker::new(desk.clone(), settings.tracker.clone());
        handles.push(tokio::spawn(tracker.run(stopped.clone(), leadership.clone())));
        let monitor = BalanceMonitor::new(
            desk.clone(),
            settings.warn_below.clone(),
            settings.reminder,
            settings.digest_at,
        );
        handles.push(spawn_loop(
            "balance",
            stopped,
            leadership.clone(),
            settings.balance_interval,
            never,
            move || {
                let monitor = monitor.clone();
                async move { monitor.run_once().await }
            },
        ));
        handles.push(spawn_health_watch(
            desk.clone(),
            notifier_for_health,
            settings.alert_channel,
            stopped_for_health,
        ));
        info!("workers started");
        Workers {
            stop,
            handles,
            leadership,
        }
    }

    /// Whether this process holds the workers lease.
    pub fn is_leader(&self) -> bool {
        self.leadership.is_leader()
    }

    /// Stops every worker and gives up the lease.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for handle in self.handles {
            let _ = handle.await;
        }
        self.leadership.release().await;
    }
}

/// How often the database's write health is looked at.
const HEALTH_EVERY: Duration = Duration::from_secs(1);

/// How long writes must go through before the alert channel is told the database is back.
const RECOVERED_AFTER: Duration = Duration::from_secs(10);

/// Tells the alert channel when the database stops taking writes, and when it takes them again.
/// Not a leader's job, and not through the outbox (which is in that database): every process
/// posts what it sees itself, once per outage.
fn spawn_health_watch(
    desk: Desk,
    notifier: Arc<dyn Notifier>,
    alert_channel: u64,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut told = false;
        let mut writable_since: Option<std::time::Instant> = None;
        loop {
            let failure = desk.write_failure();
            writable_since = match &failure {
                Some(_) => None,
                None => writable_since.or_else(|| Some(std::time::Instant::now())),
            };
            // Recovery is told once writes have gone through for a while, so a disk on the edge
            // (commits failing and succeeding in turn) does not flood the channel.
            let recovered = writable_since.is_some_and(|since| since.elapsed() >= RECOVERED_AFTER);
            let notice = match (&failure, told) {
                (Some(failure), false) => Some(Notice::DatabaseUnwritable {
                    error: failure.error.clone(),
                }),
                (None, true) if recovered => Some(Notice::DatabaseWritable),
                _ => None,
            };
            if let Some(notice) = notice {
                let posted = if alert_channel == 0 {
                    Ok(0)
                } else {
                    notifier
                        .post(alert_channel, &crate::chat::render::notice(&notice, None))
                        .await
                };
                match posted {
                    Ok(_) => told = failure.is_some(),
                    Err(error) => {
                        warn!(error = %format!("{error:#}"), "could not tell the alert channel about the database")
                    }
                }
            }
            tokio::select! {
                _ = stopped.changed() => break,
                _ = tokio::time::sleep(HEALTH_EVERY) => {}
            }
        }
    })
}

async fn never() {
    std::future::pending::<()>().await
}

/// Runs `work` whenever `wake` fires or `every` passes, while this process leads, until stopped.
fn spawn_loop<W, WF, F, Fut>(
    name: &'static str,
    mut stopped: watch::Receiver<bool>,
    leadership: Leadership,
    every: Duration,
    wake: W,
    work: F,
) -> JoinHandle<()>
where
    W: Fn() -> WF + Send + 'static,
    WF: std::future::Future<Output = ()> + Send,
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), crate::desk::DeskError>> + Send,
{
    tokio::spawn(async move {
        loop {
            if leadership.is_leader()
                && let Err(e) = work().await
            {
                error!(worker = name, error = %e, "worker pass failed");
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
    })
}
