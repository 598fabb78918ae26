//! Persistence with sqlx on SQLite (default, one file, WAL) or PostgreSQL (several replicas),
//! chosen by the database URL. Each backend has its own pool and migrations; every query is
//! written once, in SQL both accept, and run through [`Session`] on either.
//!
//! State changes happen in one transaction that starts by locking the request row
//! ([`Session::lock_request`]): concurrent votes, cancels and submissions on one request run one
//! after another, and every transition is guarded by the state it expects.

mod audit;
mod backup;
mod balance;
mod budgets;
mod figures;
mod fleets;
mod instances;
mod lease;
pub use lease::{FenceState, LeaseRow, WORKERS_LEASE};
mod lifetimes;
mod notifications;
mod records;
mod requests;
mod schema;
mod session;

pub use audit::{AuditEntry, AuditFilter};
pub use backup::Backup;
pub use balance::BalanceWatch;
pub use budgets::{Commitment, Holding};
pub use figures::{Backlog, StateCount};
pub use fleets::{FleetRecord, FleetState, SlotRecord, SlotState};
pub use instances::{InstanceRecord, InstanceUpdate, NewInstance};
pub use lifetimes::LifetimeRecord;
pub use notifications::{NewNotification, NotificationRecord};
pub use records::{Failure, NewRequest, RequestRecord, VoteRecord};
pub use requests::{ListFilter, Requote, Transition};
pub use schema::{MigrationName, MigrationStatus};
pub use session::Session;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlSafeStr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// A storage failure: always internal, never shown to users verbatim.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("the database failed")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migrating the database failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// The database could not be opened: where, and why in plain words.
    #[error("{0}")]
    Open(String),
    /// This process does not hold the workers lease (it stands by, lost it, or was paused past
    /// its end), so it may not write.
    #[error("this process does not hold the workers lease, so it writes nothing")]
    Fenced,
}

impl StoreError {
    /// True when the database cannot take writes because its disk is full or failing (SQLite's
    /// `SQLITE_FULL`, `SQLITE_IOERR*`, `SQLITE_READONLY*`, `SQLITE_CANTOPEN`; PostgreSQL's class 53,
    /// insufficient resources, and 58, system error).
    pub fn is_storage_failure(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(error)) = self else {
            return matches!(self, StoreError::Database(sqlx::Error::Io(_)));
        };
        let code = error.code().unwrap_or_default();
        match error.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
            Some(_) => {
                let primary = code.parse::<i32>().unwrap_or(0) & 0xff;
                matches!(primary, 8 | 10 | 13 | 14)
            }
            None => code.starts_with("53") || code.starts_with("58"),
        }
    }
}

/// The innermost cause of an error, the words that say what actually went wrong.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Which database, by URL scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file, created if missing.
    Sqlite(String),
    /// A PostgreSQL server.
    Postgres(String),
}

impl DatabaseTarget {
    /// The URL with any password replaced, fit for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(url) | DatabaseTarget::Postgres(url) => redact_url(url),
        }
    }
}

/// The database to open and its pool size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatabaseSettings {
    /// Which database.
    pub target: DatabaseTarget,
    /// Connections in the pool.
    pub max_connections: u32,
}

/// A database URL with any password replaced, fit for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// How long opening the first PostgreSQL connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database: a SQLite or a PostgreSQL pool, and what its last writes said about its disk.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: Pool,
    health: Arc<WriteHealth>,
    fence: Arc<lease::Fence>,
}

/// A pool of one backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    /// SQLite, with the process's write lock: SQLite has one writer at a time, and queueing writers
    /// here (first come, first served) beats SQLite's busy-wait retries, whose sleeps make long tails.
    Sqlite(SqlitePool, Arc<tokio::sync::Mutex<()>>),
    /// PostgreSQL.
    Postgres(PgPool),
}

/// Why writes are failing, and since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteFailure {
    /// When the failures began.
    pub since: OffsetDateTime,
    /// The last failure, in the database's words.
    pub error: String,
}

/// Whether the database takes writes: set when a transaction cannot begin or commit because the
/// disk is full or failing, cleared by the next commit that succeeds.
#[derive(Debug, Default)]
struct WriteHealth(std::sync::Mutex<Option<WriteFailure>>);

impl WriteHealth {
    fn failed(&self, error: &StoreError) {
        if !error.is_storage_failure() {
            return;
        }
        let mut current = self.0.lock().expect("write health");
        let text = innermost(error);
        match current.as_mut() {
            Some(failure) => failure.error = text,
            None => {
                tracing::error!(error = %text, "the database cannot take writes; nothing can be filed or bought until it can");
                *current = Some(WriteFailure {
                    since: OffsetDateTime::now_utc(),
                    error: text,
                });
            }
        }
    }

    fn succeeded(&self) {
        let mut current = self.0.lock().expect("write health");
        if current.take().is_some() {
            tracing::info!("the database takes writes again");
        }
    }
}

// Each backend's migrations, in order: (version, description, SQL), from the files in
// `migrations/` (see build.rs). Landed ones are never edited.
include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

fn migrator(migrations: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = migrations
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(
                *version,
                (*description).into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

impl Store {
    fn new(pool: Pool) -> Store {
        Store {
            pool,
            health: Arc::default(),
            fence: Arc::default(),
        }
    }

    /// Why writes are failing now (a full or failing disk), if they are.
    pub fn write_failure(&self) -> Option<WriteFailure> {
        self.health.0.lock().expect("write health").clone()
    }

    /// Opens (creating a SQLite file if needed) and migrates the database. A database that cannot
    /// be opened fails at once with an error naming it (the file, or PostgreSQL's host and
    /// database) and the cause.
    pub async fn open(settings: &DatabaseSettings) -> StoreResult<Store> {
        let store = Store::connect(settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the database as it is, migrations left as they are (a backup taken before an
    /// upgrade must not upgrade it first).
    pub async fn connect(settings: &DatabaseSettings) -> StoreResult<Store> {
        let max_connections = settings.max_connections;
        let store = match &settings.target {
            DatabaseTarget::Sqlite(url) => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Open(format!("`{url}` is not a SQLite URL: {}", innermost(&e))))?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    .log_statements(tracing::log::LevelFilter::Trace);
                Store::open_sqlite(options, SqlitePoolOptions::new(), max_connections).await?
            }
            DatabaseTarget::Postgres(url) => {
                let options = PgConnectOptions::from_str(url).map_err(|e| {
                    StoreError::Open(format!(
                        "`{}` is not a PostgreSQL URL: {}",
                        redact_url(url),
                        innermost(&e)
                    ))
                })?;
                Store::open_postgres(
                    options.log_statements(tracing::log::LevelFilter::Trace),
                    max_connections,
                )
                .await?
            }
        };
        Ok(store)
    }

    /// Opens SQLite with explicit options (tests add connection hooks through `pool`).
    pub async fn open_sqlite(
        options: SqliteConnectOptions,
        pool: SqlitePoolOptions,
        max_connections: u32,
    ) -> StoreResult<Store> {
        let file = options.get_filename().display().to_string();
        for tightened in backup::keep_private(options.get_filename())? {
            tracing::warn!(file = %tightened, "the database file was readable by others; it is now its owner's only");
        }
        let pool = pool
            .max_connections(max_connections)
            // A connection still in a transaction when it comes back (its COMMIT or ROLLBACK
            // failed, as on a full disk) is closed, never reused: sqlx would refuse every later
            // BEGIN on it. The ping first lets a rollback queued by a dropped transaction finish.
            .after_release(|conn, _| {
                Box::pin(async move {
                    sqlx::Connection::ping(conn).await?;
                    Ok(!sqlx::Connection::is_in_transaction(conn))
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Open(format!(
                    "cannot open the SQLite database {file}: {} (does its directory exist, and may cvmbot write there?)",
                    innermost(&e)
                ))
            })?;
        Ok(Store::new(Pool::Sqlite(pool, Arc::default())))
    }

    /// Opens PostgreSQL with explicit options (tests use a schema of their own via `search_path`).
    /// One connection is tried first, so a server that refuses or does not answer is reported at
    /// once, with its address, instead of as a pool timeout half a minute later.
    pub async fn open_postgres(options: PgConnectOptions, max_connections: u32) -> StoreResult<Store> {
        let server = format!(
            "PostgreSQL at {}:{} (database {}, user {})",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or("(default)"),
            options.get_username()
        );
        let probe = tokio::time::timeout(
            CONNECT_TIMEOUT,
            <sqlx::PgConnection as sqlx::Connection>::connect_with(&options),
        )
        .await;
        match probe {
            Ok(Ok(connection)) => {
                let _ = sqlx::Connection::close(connection).await;
            }
            Ok(Err(e)) => {
                return Err(StoreError::Open(format!(
                    "cannot connect to {server}: {}",
                    innermost(&e)
                )));
            }
            Err(_) => {
                return Err(StoreError::Open(format!(
                    "cannot connect to {server}: no answer within {}s",
                    CONNECT_TIMEOUT.as_secs()
                )));
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Open(format!("cannot connect to {server}: {}", innermost(&e))))?;
        Ok(Store::new(Pool::Postgres(pool)))
    }

    /// Applies pending migrations (PostgreSQL takes an advisory lock, so replicas may race).
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(pool, _) => migrator(SQLITE_MIGRATIONS).run(pool).await?,
            Pool::Postgres(pool) => migrator(POSTGRES_MIGRATIONS).run(pool).await?,
        }
        tracing::info!(backend = self.backend(), "database schema is up to date");
        Ok(())
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match &self.pool {
            Pool::Sqlite(..) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// A connection for reads outside a transaction.
    pub async fn session(&self) -> StoreResult<Session> {
        Session::connect(self).await
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so two
    /// transactions never both read and then fail to upgrade. Behind a held fence it first checks
    /// that this process still holds the workers lease; behind a closed one it is refused
    /// ([`StoreError::Fenced`]).
    pub async fn begin(&self) -> StoreResult<Session> {
        let fence = self.fence.get();
        if fence == FenceState::Closed {
            return Err(StoreError::Fenced);
        }
        let mut tx = Session::begin(self).await?;
        if let FenceState::Held { holder, epoch } = &fence {
            tx.check_fence(holder, *epoch).await?;
        }
        Ok(tx)
    }

    /// A write transaction that no fence stops: for the lease itself.
    pub async fn begin_unfenced(&self) -> StoreResult<Session> {
        Session::begin(self).await
    }

    /// Which writes this store lets through (see [`FenceState`]).
    pub fn set_fence(&self, state: FenceState) {
        self.fence.set(state);
    }

    /// The fence as it stands.
    pub fn fence(&self) -> FenceState {
        self.fence.get()
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(pool, _) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// This installation's random id, created with the database. ClientTokens derive from it so
    /// two databases never send the same token to Tencent.
    pub async fn installation_id(&self) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        let fresh = format!("{:016x}{:016x}", crate::random::entropy(), crate::random::entropy());
        let id = tx.installation_id(&fresh).await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// Milliseconds since the Unix epoch, the stored form of a time.
pub fn to_ms(time: OffsetDateTime) -> i64 {
    (time.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored time back as a UTC date-time.
pub fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn database_passwords_never_reach_a_message() {
        assert_eq!(
            redact_url("postgres://bot:hunter2@db:5432/cvmbot"),
            "postgres://bot:***@db:5432/cvmbot"
        );
        assert_eq!(redact_url("postgres://bot@db/cvmbot"), "postgres://bot@db/cvmbot");
        assert_eq!(redact_url("sqlite://cvmbot.db"), "sqlite://cvmbot.db");
    }
}
