//! The workers lease: one process runs the workers; others stand by and take over when its lease
//! runs out (it died) or is released (it stopped).
//!
//! A process that was killed cannot release its lease, so a standby waits for it to expire (the
//! lease lasts `ttl`, renewed every third of it, and a standby asks every second). A process
//! restarted on the same machine need not wait: the holder names its machine and process, and a
//! holder whose process no longer exists on this machine is taken over at once.

use crate::desk::{Chain, Desk};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

const LEASE: &str = "workers";

/// How often a standby asks for the lease.
const STANDBY_POLL: Duration = Duration::from_secs(1);

/// This process's claim on the workers lease.
#[derive(Clone)]
pub struct Leadership {
    desk: Desk,
    holder: Arc<String>,
    ttl: Duration,
    leader: Arc<AtomicBool>,
    /// Until when the lease is ours by the last successful renewal.
    held_until: Arc<Mutex<Option<OffsetDateTime>>>,
}

impl Leadership {
    /// A claimant with a fresh holder id, for a lease of `ttl`.
    pub fn new(desk: Desk, ttl: Duration) -> Leadership {
        Leadership {
            desk,
            holder: Arc::new(Holder::this_process().to_string()),
            ttl,
            leader: Arc::new(AtomicBool::new(false)),
            held_until: Arc::default(),
        }
    }

    /// Whether this process holds the lease now.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::SeqCst)
    }

    /// Takes or renews the lease once. When the database cannot be reached, a leader stays one
    /// until its lease would expire (nobody else can take it before then), so a short outage does
    /// not stop the workers.
    pub async fn try_acquire(&self) -> bool {
        let now = self.desk.clock().now();
        let until = now + self.ttl;
        let attempt = async {
            let mut held = self.desk.acquire_lease(LEASE, &self.holder, now, until).await?;
            if !held
                && let Some(current) = self.desk.lease_holder(LEASE).await?
                && Holder::parse(&current).is_some_and(|h| h.is_dead_here())
            {
                held = self.desk.take_over_lease(LEASE, &current, &self.holder, until).await?;
                if held {
                    info!(previous = %current, "the lease's holder no longer runs on this machine; taking over at once");
                }
            }
            Ok::<bool, crate::desk::DeskError>(held)
        };
        // A renewal that hangs must not keep this process leading past its lease.
        let result = match tokio::time::timeout(self.ttl / 3, attempt).await {
            Ok(result) => result.map_err(|e| Chain(&e).to_string()),
            Err(_) => Err(format!("no answer within {:?}", self.ttl / 3)),
        };
        let held = match result {
            Ok(held) => {
                *self.held_until.lock().expect("lease lock") = held.then_some(until);
                held
            }
            Err(error) => {
                // Lead on only while the lease is surely still ours: a third of it before it ends,
                // by the clock now (the renewal may have taken a while).
                let now = self.desk.clock().now();
                let margin = self.ttl / 3;
                let still = self
                    .held_until
                    .lock()
                    .expect("lease lock")
                    .is_some_and(|at| now + margin < at);
                warn!(%error, still_leading = still, "could not renew the workers lease");
                still
            }
        };
        let was = self.leader.swap(held, Ordering::SeqCst);
        if held && !was {
            info!(holder = %self.holder, "this process now runs the workers");
        } else if !held && was {
            warn!(holder = %self.holder, "lost the workers lease; standing by");
        }
        held
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

    /// Gives the lease up.
    pub async fn release(&self) {
        self.leader.store(false, Ordering::SeqCst);
        *self.held_until.lock().expect("lease lock") = None;
        if let Err(error) = self.desk.release_lease(LEASE, &self.holder).await {
            warn!(error = %Chain(&error), "could not hand the workers lease over; it expires by itself");
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
