//! A lease so that exactly one replica runs the workers when several share a PostgreSQL database,
//! and the fence that keeps every other process's writes out.
//!
//! The lease's epoch goes up each time the lease passes to another holder (a renewal keeps it).
//! A process that holds the lease arms the store's [`Fence`] with its holder id and epoch; from
//! then on each of its write transactions first checks, inside the transaction, that the lease
//! row still names it with that epoch (on PostgreSQL with `FOR SHARE`, so a takeover waits for
//! the transaction to end and the transaction cannot see a stale row). A process that lost the
//! lease, or was paused past its end and woke up, gets [`StoreError::Fenced`] and writes nothing.

use super::session::on_backend;
use super::{Session, StoreError, StoreResult, to_ms};
use time::OffsetDateTime;

/// The lease the fence checks.
pub const WORKERS_LEASE: &str = "workers";

/// Which writes a store lets through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FenceState {
    /// Every write: no lease is in play (the command-line tools, a test's store).
    #[default]
    Open,
    /// Writes while the workers lease names `holder` with `epoch`.
    Held {
        /// This process's holder id.
        holder: String,
        /// The epoch it took the lease in.
        epoch: i64,
    },
    /// None: this process stands by or lost the lease.
    Closed,
}

/// The store's fence (shared by every clone of the store).
#[derive(Debug, Default)]
pub(crate) struct Fence(std::sync::Mutex<FenceState>);

impl Fence {
    pub(crate) fn get(&self) -> FenceState {
        self.0.lock().expect("fence").clone()
    }

    pub(crate) fn set(&self, state: FenceState) {
        *self.0.lock().expect("fence") = state;
    }
}

/// The workers lease as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRow {
    /// Who holds (or last held) it.
    pub holder: String,
    /// Its epoch.
    pub epoch: i64,
    /// When it ends (ms since the epoch); 0 once given up.
    pub expires_at: i64,
}

impl Session {
    /// Checks, inside this write transaction, that the lease still names `holder` with `epoch`.
    pub(super) async fn check_fence(&mut self, holder: &str, epoch: i64) -> StoreResult<()> {
        const SQLITE: &str = "SELECT epoch FROM leases WHERE name = $1 AND holder = $2";
        const POSTGRES: &str = "SELECT epoch FROM leases WHERE name = $1 AND holder = $2 FOR SHARE";
        let found: Option<i64> = match self.backend() {
            super::session::Backend::Sqlite(conn) => {
                sqlx::query_scalar(SQLITE)
                    .bind(WORKERS_LEASE)
                    .bind(holder)
                    .fetch_optional(&mut *conn)
                    .await?
            }
            super::session::Backend::Postgres(conn) => {
                sqlx::query_scalar(POSTGRES)
                    .bind(WORKERS_LEASE)
                    .bind(holder)
                    .fetch_optional(&mut *conn)
                    .await?
            }
        };
        match found {
            Some(found) if found == epoch => Ok(()),
            _ => Err(StoreError::Fenced),
        }
    }

    /// Takes or renews the lease `name` for `holder` until `until`: its epoch, or `None` while
    /// another holder's lease is still valid at `now`. Taking it from another holder (or from
    /// nobody) moves the epoch on; a renewal keeps it.
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn acquire_lease(
        &mut self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        const SQL: &str = "INSERT INTO leases (name, holder, expires_at, epoch) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
             epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > 0 \
                     THEN leases.epoch ELSE leases.epoch + 1 END \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4 \
             RETURNING epoch";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(name)
            .bind(holder)
            .bind(to_ms(until))
            .bind(to_ms(now))
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// The lease `name` as stored (valid or not).
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn lease(&mut self, name: &str) -> StoreResult<Option<LeaseRow>> {
        const SQL: &str = "SELECT holder, epoch, expires_at FROM leases WHERE name = $1";
        on_backend!(self, |conn| Ok(sqlx::query_as::<_, (String, i64, i64)>(SQL)
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?
            .map(|(holder, epoch, expires_at)| LeaseRow {
                holder,
                epoch,
                expires_at
            })))
    }

    /// Takes the lease `name` from `previous` (whose process is known to be dead) for `holder`:
    /// the new epoch, or `None` if someone else took it meanwhile.
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn take_over_lease(
        &mut self,
        name: &str,
        previous: &str,
        holder: &str,
        until: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        const SQL: &str = "UPDATE leases SET holder = $3, expires_at = $4, epoch = epoch + 1 \
             WHERE name = $1 AND holder = $2 RETURNING epoch";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(name)
            .bind(previous)
            .bind(holder)
            .bind(to_ms(until))
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// Gives the lease up (on shutdown), so another replica takes over at once. The row stays,
    /// ended, so the epoch only ever goes up.
    #[tracing::instrument(level = "debug", skip_all, fields(lease = name))]
    pub async fn release_lease(&mut self, name: &str, holder: &str) -> StoreResult<()> {
        const SQL: &str = "UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2";
        on_backend!(self, |conn| {
            sqlx::query(SQL).bind(name).bind(holder).execute(&mut *conn).await?;
            Ok(())
        })
    }
}
