//! Persistence with sqlx on SQLite (default, one file, WAL) or PostgreSQL (several replicas),
//! chosen by the database URL. Each backend has its own pool and migrations; every query is
//! written once, in SQL both accept, and run through [`Session`] on either.
//!
//! State changes happen in one transaction that starts by locking the request row
//! ([`Session::lock_request`]): concurrent votes, cancels and submissions on one request run one
//! after another, and every transition is guarded by the state it expects.

mod audit;
mod balance;
mod instances;
mod lease;
mod notifications;
mod records;
mod requests;
mod session;

pub use audit::AuditEntry;
pub use balance::BalanceWatch;
pub use instances::{InstanceRecord, InstanceUpdate, NewInstance};
pub use notifications::{NewNotification, NotificationRecord};
pub use records::{Failure, NewRequest, RequestRecord, VoteRecord};
pub use requests::{ListFilter, Transition};
pub use session::Session;

use crate::config::DatabaseTarget;
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
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database: a SQLite or a PostgreSQL pool.
#[derive(Clone, Debug)]
pub enum Store {
    /// SQLite, with the process's write lock: SQLite has one writer at a time, and queueing writers
    /// here (first come, first served) beats SQLite's busy-wait retries, whose sleeps make long tails.
    Sqlite(SqlitePool, Arc<tokio::sync::Mutex<()>>),
    /// PostgreSQL.
    Postgres(PgPool),
}

const SQLITE_SCHEMA: &str = include_str!("../../migrations/sqlite/0001_initial.sql");
const POSTGRES_SCHEMA: &str = include_str!("../../migrations/postgres/0001_initial.sql");

fn migrator(schema: &'static str) -> Migrator {
    let initial = Migration::new(1, "initial".into(), MigrationType::Simple, schema.into_sql_str(), false);
    Migrator::with_migrations(vec![initial])
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database.
    pub async fn open(target: &DatabaseTarget, max_connections: u32) -> StoreResult<Store> {
        let store = match target {
            DatabaseTarget::Sqlite(url) => {
                let options = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(30))
                    .foreign_keys(true)
                    .log_statements(tracing::log::LevelFilter::Trace);
                let pool = SqlitePoolOptions::new()
                    .max_connections(max_connections)
                    .connect_with(options)
                    .await?;
                Store::Sqlite(pool, Arc::default())
            }
            DatabaseTarget::Postgres(url) => {
                let options = PgConnectOptions::from_str(url)?.log_statements(tracing::log::LevelFilter::Trace);
                Store::open_postgres(options, max_connections).await?
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens PostgreSQL with explicit options (tests use a schema of their own via `search_path`).
    pub async fn open_postgres(options: PgConnectOptions, max_connections: u32) -> StoreResult<Store> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .connect_with(options)
            .await?;
        Ok(Store::Postgres(pool))
    }

    /// Applies pending migrations (PostgreSQL takes an advisory lock, so replicas may race).
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Store::Sqlite(pool, _) => migrator(SQLITE_SCHEMA).run(pool).await?,
            Store::Postgres(pool) => migrator(POSTGRES_SCHEMA).run(pool).await?,
        }
        tracing::info!(backend = self.backend(), "database schema is up to date");
        Ok(())
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(..) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// A connection for reads outside a transaction.
    pub async fn session(&self) -> StoreResult<Session> {
        Session::connect(self).await
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), so two
    /// transactions never both read and then fail to upgrade.
    pub async fn begin(&self) -> StoreResult<Session> {
        Session::begin(self).await
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(pool, _) => pool.close().await,
            Store::Postgres(pool) => pool.close().await,
        }
    }

    /// This installation's random id, created with the database. ClientTokens derive from it so
    /// two databases never send the same token to Tencent.
    pub async fn installation_id(&self) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        let fresh = format!("{:016x}{:016x}", crate::rand::entropy(), crate::rand::entropy());
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
