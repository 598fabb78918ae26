//! The workers lease: one process runs the workers; others stand by and take over when its lease
//! runs out (it died) or is released (it stopped).
//!
//! A process that was killed cannot release its lease, so a standby waits for it to expire (the
//! lease lasts `ttl`, renewed every third of it, and a standby asks twice a second). A process
//! restarted on the same machine need not wait: the holder names its machine and process, and a
//! holder whose process no longer exists on this machine is taken over at once.

use crate::desk::{Chain, Desk};
use crate::store::{FenceState, WORKERS_LEASE};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

/// How often a standby asks for the lease (a lease given up is taken within this long).
const STANDBY_POLL: Duration = Duration::from_millis(500);

/// This process's claim on the workers lease.
///
/// Once it has taken the lease, the store's fence lets this process's writes through only while
/// the lease row still names it with the epoch it took (each write asks the database); before
/// that, and once another process holds the lease, the fence is closed and nothing is written.
/// Whether it leads (runs the workers, talks to Discord) is told by [`Leadership::is_leader`],
/// which also steps down at once when the lease's time ran out without a renewal (a process
/// paused past its lease wakes up a standby), and watched through [`Leadership::role`].
#[derive(Clone)]
pub struct Leadership {
    desk: Desk,
    holder: Arc<String>,
    ttl: Duration,
    /// The epoch of the lease this process holds, or `None` while it stands by.
    role: Arc<watch::Sender<Option<i64>>>,
    /// Until when (by this machine's monotonic clock, which a test's manual clock does not move)
    /// the lease is surely ours by the last successful renewal: its end less a third of it, since
    /// another replica's clock may run ahead.
    sure_until: Arc<Mutex<Option<Instant>>>,
}

impl Leadership {
    /// A claimant with a fresh holder id, for a lease of `ttl`. Until it takes the lease, the
    /// store's fence is closed.
    pub fn new(desk: Desk, ttl: Duration) -> Leadership {
        desk.fence_writes(FenceState::Closed);
        Leadership {
            desk,
            holder: Arc::new(Holder::this_process().to_string()),
            ttl,
            role: Arc::new(watch::channel(None).0),
            sure_until: Arc::default(),
        }
    }

    /// This process's holder id, as the lease row names it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// The lease's epoch while this process leads.
    pub fn epoch(&self) -> Option<i64> {
        if self.is_leader() { *self.role.borrow() } else { None }
    }

    /// Whether this process holds the lease now. A lease whose time ran out without a renewal
    /// (the process was paused, or the database did not answer) is given up here and now.
    pub fn is_leader(&self) -> bool {
        if self.role.borrow().is_none() {
            return false;
        }
        let sure = self
            .sure_until
            .lock()
            .expect("lease lock")
            .is_some_and(|at| Instant::now() < at);
        if !sure {
            // The fence stays as it is: the database still names this process unless another
            // took the lease, and each write asks it.
            self.step_down("the lease ran out before it was renewed", false);
        }
        sure
    }

    /// The lease's epoch while this process leads, `None` while it stands by; changes as it
    /// gains and loses the lease.
    pub fn role(&self) -> watch::Receiver<Option<i64>> {
        self.role.subscribe()
    }

    /// Takes or renews the lease once. When the database cannot be reached, a leader stays one
    /// while its lease is surely still its own (nobody else can take it before then), so a short
    /// outage does not stop the workers.
    pub async fn try_acquire(&self) -> bool {
        let started = Instant::now();
        let now = self.desk.clock().now();
        let until = now + self.ttl;
        let attempt = async {
            let mut epoch = self.desk.acquire_lease(WORKERS_LEASE, &self.holder, now, until).await?;
            if epoch.is_none()
                && let Some(current) = self.desk.lease(WORKERS_LEASE).await?
                && Holder::parse(&current.holder).is_some_and(|h| h.is_dead_here())
            {
                epoch = self
                    .desk
                    .take_over_lease(WORKERS_LEASE, &current.holder, &self.holder, until)
                    .await?;
                if epoch.is_some() {
                    info!(previous = %current.holder, "the lease's holder no longer runs on this machine; taking over at once");
                }
            }
            Ok::<Option<i64>, crate::desk::DeskError>(epoch)
        };
        // A renewal that hangs must not keep this process leading past its lease.
        let result = match tokio::time::timeout(self.ttl / 3, attempt).await {
            Ok(result) => result.map_err(|e| Chain(&e).to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.ttl / 3)),
        };
        match result {
            Ok(Some(epoch)) => {
                *self.sure_until.lock().expect("lease lock") = Some(started + self.ttl * 2 / 3);
                self.desk.fence_writes(FenceState::Held {
                    holder: self.holder.to_string(),
                    epoch,
                });
                let was = self.role.send_replace(Some(epoch));
                if was != Some(epoch) {
                    info!(holder = %self.holder, epoch, "this process now runs the workers");
                }
                true
            }
            Ok(None) => {
                self.step_down("another process holds the lease", true);
                false
            }
            Err(error) => {
                let still = self.is_leader();
                warn!(%error, still_leading = still, "could not renew the workers lease");
                still
            }
        }
    }

    /// Stops leading, as told by `why`; with `close_fence` (another process holds the lease) the
    /// fence closes first, so nothing more is written.
    fn step_down(&self, why: &str, close_fence: bool) {
        if close_fence {
            self.desk.fence_writes(FenceState::Closed);
        }
        *self.sure_until.lock().expect("lease lock") = None;
        if self.role.send_replace(None).is_some() {
            warn!(holder = %self.holder, why, "lost the workers lease; standing by");
        }
    }

    /// Renews the lease (or asks for it) until stopped.
    pub fn spawn(&self, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let pause = if this.try_acquire().await {
                    this.ttl / 3
                } else {
                    STANDBY_POLL.min(this.ttl / 3)
                };
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        })
    }

    /// Gives the lease up, so a standby takes over at once.
    pub async fn release(&self) {
        self.desk.fence_writes(FenceState::Closed);
        *self.sure_until.lock().expect("lease lock") = None;
        self.role.send_replace(None);
        match self.desk.release_lease(WORKERS_LEASE, &self.holder).await {
            Ok(()) => info!(holder = %self.holder, "handed the workers lease over"),
            Err(error) => warn!(error = %Chain(&error), "could not hand the workers lease over; it expires by itself"),
        }
    }
}

/// Who holds the lease: the machine (its boot and process namespace), the process, and a random
/// part that tells two holders with a reused process id apart.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Holder {
    machine: String,
    pid: u32,
    nonce: u32,
}

impl Holder {
    fn this_process() -> Holder {
        Holder {
            machine: machine().unwrap_or_else(|| "unknown".into()),
            pid: std::process::id(),
            nonce: crate::random::entropy() as u32,
        }
    }

    /// Reads a holder id; lease rows written by older versions (`PID-RANDOM`) read as `None`.
    fn parse(text: &str) -> Option<Holder> {
        let mut parts = text.rsplitn(3, '/');
        let nonce = u32::from_str_radix(parts.next()?, 16).ok()?;
        let pid = parts.next()?.parse().ok()?;
        let machine = parts.next()?.to_owned();
        Some(Holder { machine, pid, nonce })
    }

    /// True when the holder ran on this machine, in this process namespace, and its process is
    /// gone. Anywhere else (another machine or container) nothing can be told, and the lease is
    /// left to expire.
    fn is_dead_here(&self) -> bool {
        let here = machine();
        // With /proc mounted `hidepid`, other users' processes are invisible and would look dead;
        // then (init's entry hidden too) nothing is concluded.
        let sees_every_process = std::path::Path::new("/proc/1").exists();
        here.is_some_and(|m| m == self.machine)
            && sees_every_process
            && self.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{:08x}", self.machine, self.pid, self.nonce)
    }
}

/// This machine's boot and process namespace (Linux): two processes with the same value see the
/// same process ids. `None` elsewhere.
fn machine() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let namespace = namespace.to_string_lossy();
    let namespace = namespace.trim_start_matches("pid:[").trim_end_matches(']');
    Some(format!("{}:{namespace}", boot.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_holder_reads_back_and_a_dead_one_here_is_recognised() {
        let me = Holder::this_process();
        assert_eq!(Holder::parse(&me.to_string()), Some(me.clone()));
        assert!(!me.is_dead_here(), "this process is alive");
        assert_eq!(
            Holder::parse("1234-deadbeef"),
            None,
            "an old-style holder is left to expire"
        );
        if machine().is_some() {
            let gone = Holder {
                pid: u32::MAX - 1,
                ..me.clone()
            };
            assert!(gone.is_dead_here());
            let elsewhere = Holder {
                machine: "another-machine".into(),
                ..gone
            };
            assert!(
                !elsewhere.is_dead_here(),
                "nothing can be told of another machine's processes"
            );
        }
    }
}
