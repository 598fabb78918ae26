//! The desk as the health and metrics listener sees it: whether the database answers, and the
//! counts read from it at each scrape. Nothing here changes anything.

use super::{Desk, DeskError, Runway};
use crate::ops::{BalanceFigures, Figures, Probe};
use crate::store::WORKERS_LEASE;
use futures_util::future::BoxFuture;
use std::time::Duration;

impl Desk {
    /// What the metrics read from the database now: requests by state, what Tencent carried out
    /// (from the audit log), the outbox, the tracker's instances, the balance's last reading with
    /// the burn and runway, and the workers lease's holder.
    pub async fn figures(&self) -> Result<Figures, DeskError> {
        let now = self.clock().now();
        let mut session = self.store().session().await?;
        let requests = session
            .requests_by_state()
            .await?
            .into_iter()
            .map(|c| (c.kind, c.state, c.count))
            .collect();
        let purchases = session.count_audit("submitted").await?;
        let releases = session.count_audit("released").await?;
        let renewals = session.count_audit("renewed").await?;
        let backlog = session.outbox_backlog().await?;
        let instances_tracked = session.count_watched_instances().await?;
        let watch = session.balance_watch().await?;
        let lease = session.lease(WORKERS_LEASE).await?;
        drop(session);
        let burn_per_hour = self.burn_per_hour().await?;
        let balance = watch.map(|w| BalanceFigures {
            spendable: w.spendable,
            owe: w.owe,
            checked_at: w.checked_at,
        });
        let runway = balance
            .and_then(|b| Runway::of(b.spendable, burn_per_hour))
            .and_then(|r| r.duration());
        Ok(Figures {
            requests,
            purchases,
            releases,
            renewals,
            outbox_depth: backlog.depth,
            outbox_oldest_age: backlog
                .oldest
                .map(|at| Duration::try_from(now - at).unwrap_or_default()),
            instances_tracked,
            balance,
            burn_per_hour,
            runway,
            lease_epoch: lease.as_ref().map(|l| l.epoch),
            lease_holder: lease
                .filter(|l| l.expires_at > crate::store::to_ms(now))
                .map(|l| l.holder),
        })
    }
}

impl Probe for Desk {
    fn ping(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async {
            let mut session = self.store().session().await?;
            session.ping().await?;
            Ok(())
        })
    }

    fn figures(&self) -> BoxFuture<'_, anyhow::Result<Figures>> {
        Box::pin(async { Desk::figures(self).await.map_err(anyhow::Error::new) })
    }
}
