//! The workers lease, as the leadership of the workers asks for it: take or renew, see who holds
//! it, take it over from a holder known to be dead, give it up. Each is one transaction, outside
//! the fence (see [`crate::store::FenceState`]), which the leadership sets as it gains and loses
//! the lease.

use super::{Desk, DeskError};
use crate::store::{FenceState, LeaseRow};
use time::OffsetDateTime;

impl Desk {
    /// Takes or renews the lease `name` for `holder` until `until`: its epoch, or `None` while
    /// another holder's lease is still valid at `now`.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Option<i64>, DeskError> {
        let mut tx = self.store().begin_unfenced().await?;
        let epoch = tx.acquire_lease(name, holder, now, until).await?;
        tx.commit().await?;
        Ok(epoch)
    }

    /// The lease `name` as stored (valid or not).
    pub async fn lease(&self, name: &str) -> Result<Option<LeaseRow>, DeskError> {
        Ok(self.store().session().await?.lease(name).await?)
    }

    /// Takes the lease `name` from `previous` (whose process is known to be dead) for `holder`:
    /// the new epoch, or `None` if someone else took it meanwhile.
    pub async fn take_over_lease(
        &self,
        name: &str,
        previous: &str,
        holder: &str,
        until: OffsetDateTime,
    ) -> Result<Option<i64>, DeskError> {
        let mut tx = self.store().begin_unfenced().await?;
        let epoch = tx.take_over_lease(name, previous, holder, until).await?;
        tx.commit().await?;
        Ok(epoch)
    }

    /// Gives the lease `name` up (on shutdown), so another process takes over at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), DeskError> {
        let mut tx = self.store().begin_unfenced().await?;
        tx.release_lease(name, holder).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets this process's writes through while it holds the lease (`Held`), or none (`Closed`).
    pub fn fence_writes(&self, state: FenceState) {
        self.store().set_fence(state);
    }
}
