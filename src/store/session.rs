//! A connection or transaction on either backend, and the macro that runs one query text on both.

use super::{Pool, Store, StoreError, StoreResult};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};
use std::sync::Arc;
use tokio::sync::OwnedMutexGuard;

enum Inner {
    SqliteConn(PoolConnection<Sqlite>),
    /// The transaction, then the write lock: fields drop in order, so a dropped session rolls
    /// back before it lets the next writer in.
    SqliteTx(Transaction<'static, Sqlite>, OwnedMutexGuard<()>),
    PgConn(PoolConnection<Postgres>),
    PgTx(Transaction<'static, Postgres>),
}

/// A borrowed connection of one backend.
pub(super) enum Backend<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

/// A connection (reads) or a transaction (writes) on the store. Query functions are methods on it,
/// so a use case composes them inside one transaction and commits once.
///
/// A SQLite connection that is still in a transaction when it goes back to the pool (its COMMIT
/// or ROLLBACK failed, as on a full disk) is closed rather than reused (the pool's
/// `after_release`), so a failed commit never poisons the pool. (PostgreSQL ends a failed
/// transaction itself, and sqlx's rollback then succeeds.)
pub struct Session {
    inner: Inner,
    health: Arc<super::WriteHealth>,
}

/// Runs `$body` with `$conn` bound to the session's concrete connection: one query text, both backends.
macro_rules! on_backend {
    ($session:expr, |$conn:ident| $body:expr) => {
        match $session.backend() {
            $crate::store::session::Backend::Sqlite($conn) => $body,
            $crate::store::session::Backend::Postgres($conn) => $body,
        }
    };
}
pub(super) use on_backend;

impl Session {
    pub(super) async fn connect(store: &Store) -> StoreResult<Session> {
        let inner = match &store.pool {
            Pool::Sqlite(pool, _) => Inner::SqliteConn(pool.acquire().await?),
            Pool::Postgres(pool) => Inner::PgConn(pool.acquire().await?),
        };
        Ok(Session {
            inner,
            health: store.health.clone(),
        })
    }

    pub(super) async fn begin(store: &Store) -> StoreResult<Session> {
        let began = async {
            Ok::<Inner, StoreError>(match &store.pool {
                Pool::Sqlite(pool, writer) => {
                    let turn = writer.clone().lock_owned().await;
                    Inner::SqliteTx(pool.begin_with("BEGIN IMMEDIATE").await?, turn)
                }
                Pool::Postgres(pool) => Inner::PgTx(pool.begin().await?),
            })
        }
        .await;
        let inner = began.inspect_err(|error| store.health.failed(error))?;
        Ok(Session {
            inner,
            health: store.health.clone(),
        })
    }

    pub(super) fn backend(&mut self) -> Backend<'_> {
        match &mut self.inner {
            Inner::SqliteConn(conn) => Backend::Sqlite(conn),
            Inner::SqliteTx(tx, _) => Backend::Sqlite(tx),
            Inner::PgConn(conn) => Backend::Postgres(conn),
            Inner::PgTx(tx) => Backend::Postgres(tx),
        }
    }

    /// Commits a transaction (a no-op for a plain connection).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn commit(self) -> StoreResult<()> {
        let committed: StoreResult<()> = match self.inner {
            Inner::SqliteTx(tx, _turn) => tx.commit().await.map_err(StoreError::from),
            Inner::PgTx(tx) => tx.commit().await.map_err(StoreError::from),
            Inner::SqliteConn(_) | Inner::PgConn(_) => return Ok(()),
        };
        match &committed {
            Ok(()) => self.health.succeeded(),
            Err(error) => self.health.failed(error),
        }
        committed
    }

    /// Rolls back a transaction explicitly (dropping one does the same).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn rollback(self) -> StoreResult<()> {
        match self.inner {
            Inner::SqliteTx(tx, _turn) => tx.rollback().await?,
            Inner::PgTx(tx) => tx.rollback().await?,
            Inner::SqliteConn(_) | Inner::PgConn(_) => {}
        }
        Ok(())
    }

    /// The installation id, storing `fresh` if there is none yet.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn installation_id(&mut self, fresh: &str) -> StoreResult<String> {
        const INSERT: &str =
            "INSERT INTO meta (key, value) VALUES ('installation_id', $1) ON CONFLICT (key) DO NOTHING";
        const SELECT: &str = "SELECT value FROM meta WHERE key = 'installation_id'";
        on_backend!(self, |conn| {
            sqlx::query(INSERT).bind(fresh).execute(&mut *conn).await?;
            Ok(sqlx::query_scalar::<_, String>(SELECT).fetch_one(&mut *conn).await?)
        })
    }
}

impl Session {
    /// A value of the `meta` table (small facts of the installation's own).
    #[tracing::instrument(level = "debug", skip_all, fields(key))]
    pub async fn meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        const SQL: &str = "SELECT value FROM meta WHERE key = $1";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, String>(SQL)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// Sets (or, with `None`, removes) a value of the `meta` table.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_meta(&mut self, key: &str, value: Option<&str>) -> StoreResult<()> {
        const UPSERT: &str =
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        const DELETE: &str = "DELETE FROM meta WHERE key = $1";
        on_backend!(self, |conn| {
            match value {
                Some(value) => sqlx::query(UPSERT).bind(key).bind(value).execute(&mut *conn).await?,
                None => sqlx::query(DELETE).bind(key).execute(&mut *conn).await?,
            };
            Ok(())
        })
    }
}

/// Typed column reads shared by both backends' rows.
pub(super) trait RowExt {
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn flag(&self, column: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
            fn flag(&self, column: &str) -> Result<bool, sqlx::Error> {
                sqlx::Row::try_get(self, column)
            }
        }
    };
}
row_ext!(sqlx::sqlite::SqliteRow);
row_ext!(sqlx::postgres::PgRow);
