//! The workers lease: one process runs the workers; others stand by and take over when its lease
//! runs out (it died) or is released (it stopped).

use crate::desk::Desk;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{info, warn};

const LEASE: &str = "workers";
const TTL: Duration = Duration::from_secs(30);
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// This process's claim on the workers lease.
#[derive(Clone)]
pub struct Leadership {
    desk: Desk,
    holder: Arc<String>,
    leader: Arc<AtomicBool>,
}

impl Leadership {
    /// A claimant with a fresh holder id.
    pub fn new(desk: Desk) -> Leadership {
        let holder = format!("{}-{:08x}", std::process::id(), crate::rand::entropy() as u32);
        Leadership {
            desk,
            holder: Arc::new(holder),
            leader: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether this process holds the lease now.
    pub fn is_leader(&self) -> bool {
        self.leader.load(Ordering::SeqCst)
    }

    /// Takes or renews the lease once.
    pub async fn try_acquire(&self) -> bool {
        let now = self.desk.clock().now();
        let result = async {
            let mut tx = self.desk.store().begin().await?;
            let held = tx.acquire_lease(LEASE, &self.holder, now, now + TTL).await?;
            tx.commit().await?;
            Ok::<bool, crate::store::StoreError>(held)
        }
        .await;
        let held = result.unwrap_or_else(|error| {
            warn!(%error, "could not renew the workers lease");
            false
        });
        let was = self.leader.swap(held, Ordering::SeqCst);
        if held && !was {
            info!(holder = %self.holder, "this process now runs the workers");
        } else if !held && was {
            warn!(holder = %self.holder, "lost the workers lease; standing by");
        }
        held
    }

    /// Renews the lease until stopped.
    pub fn spawn(&self, mut stopped: watch::Receiver<bool>) -> JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                this.try_acquire().await;
                tokio::select! {
                    _ = stopped.changed() => break,
                    _ = tokio::time::sleep(RENEW_EVERY) => {}
                }
            }
        })
    }

    /// Gives the lease up.
    pub async fn release(&self) {
        self.leader.store(false, Ordering::SeqCst);
        if let Ok(mut tx) = self.desk.store().begin().await
            && tx.release_lease(LEASE, &self.holder).await.is_ok()
        {
            let _ = tx.commit().await;
        }
    }
}
