//! The workers lease, as the leadership of the workers asks for it: take or renew, see who holds
//! it, take it over from a holder known to be dead, give it up. Each is one transaction.

use super::{Desk, DeskError};
use time::OffsetDateTime;

impl Desk {
    /// Takes or renews the lease `name` for `holder` until `until`; false while another holder's
    /// lease is still valid at `now`.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<bool, DeskError> {
        let mut tx = self.store().begin().await?;
        let held = tx.acquire_lease(name, holder, now, until).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Who holds the lease `name` now (valid or not).
    pub async fn lease_holder(&self, name: &str) -> Result<Option<String>, DeskError> {
        Ok(self.store().session().await?.lease_holder(name).await?)
    }

    /// Takes the lease `name` from `previous` (whose process is known to be dead) for `holder`;
    /// false if someone else took it meanwhile.
    pub async fn take_over_lease(
        &self,
        name: &str,
        previous: &str,
        holder: &str,
        until: OffsetDateTime,
    ) -> Result<bool, DeskError> {
        let mut tx = self.store().begin().await?;
        let taken = tx.take_over_lease(name, previous, holder, until).await?;
        tx.commit().await?;
        Ok(taken)
    }

    /// Gives the lease `name` up (on shutdown), so another process takes over at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), DeskError> {
        let mut tx = self.store().begin().await?;
        tx.release_lease(name, holder).await?;
        tx.commit().await?;
        Ok(())
    }
}
