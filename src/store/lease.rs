//! A lease so that exactly one replica runs the workers when several share a PostgreSQL database.

use super::session::on_backend;
use super::{Session, StoreResult, to_ms};
use time::OffsetDateTime;

impl Session {
    /// Takes or renews the lease `name` for `holder` until `until`; false while another holder's
    /// lease is still valid at `now`.
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn acquire_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(name)
                .bind(holder)
                .bind(to_ms(until))
                .bind(to_ms(now))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Who holds the lease `name` now (valid or not).
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn lease_holder(&mut self, name: &str) -> StoreResult<Option<String>> {
        const SQL: &str = "SELECT holder FROM leases WHERE name = $1";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, String>(SQL)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// Takes the lease `name` from `previous` (whose process is known to be dead) for `holder`;
    /// false if someone else took it meanwhile.
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn take_over_lease(
        &mut self,
        name: &str,
        previous: &str,
        holder: &str,
        until: OffsetDateTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "UPDATE leases SET holder = $3, expires_at = $4 WHERE name = $1 AND holder = $2";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(name)
                .bind(previous)
                .bind(holder)
                .bind(to_ms(until))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Gives the lease up (on shutdown), so another replica takes over at once.
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn release_lease(&mut self, name: &str, holder: &str) -> StoreResult<()> {
        const SQL: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2";
        on_backend!(self, |conn| {
            sqlx::query(SQL).bind(name).bind(holder).execute(&mut *conn).await?;
            Ok(())
        })
    }
}
