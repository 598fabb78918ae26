//! Which migrations a database has, next to those this binary carries, read without applying
//! anything: `cvmbot doctor` reports a schema behind this binary (pending migrations), ahead of it
//! (a newer cvmbot ran), or changed under it (a landed migration edited, or one that failed).

use super::{POSTGRES_MIGRATIONS, Pool, SQLITE_MIGRATIONS, Store, StoreResult, migrator};
use sqlx::Row;

/// One migration: its version and description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationName {
    /// Its number (`4` for `0004_releases.sql`).
    pub version: i64,
    /// Its description (`releases`).
    pub description: String,
}

impl std::fmt::Display for MigrationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04} {}", self.version, self.description)
    }
}

/// How a database's applied migrations compare with this binary's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Applied and known, with the same text.
    pub applied: usize,
    /// Known to this binary and not applied yet.
    pub pending: Vec<MigrationName>,
    /// Applied, but unknown to this binary: a newer cvmbot migrated the database.
    pub unknown: Vec<MigrationName>,
    /// Applied with another text than this binary's: a landed migration was edited.
    pub changed: Vec<MigrationName>,
    /// Started but recorded as failed (PostgreSQL keeps a failed migration's row).
    pub failed: Vec<MigrationName>,
}

impl MigrationStatus {
    /// Compares the `applied` rows (version, description, success, checksum) with `known`.
    fn compare(known: &sqlx::migrate::Migrator, applied: &[Applied]) -> MigrationStatus {
        let mut status = MigrationStatus::default();
        let name = |version: i64, description: &str| MigrationName {
            version,
            description: description.to_owned(),
        };
        for (version, description, success, checksum) in applied {
            match known.iter().find(|m| m.version == *version) {
                None => status.unknown.push(name(*version, description)),
                Some(_) if !success => status.failed.push(name(*version, description)),
                Some(m) if m.checksum.as_ref() != checksum.as_slice() => {
                    status.changed.push(name(*version, &m.description))
                }
                Some(_) => status.applied += 1,
            }
        }
        for m in known.iter() {
            if !applied.iter().any(|(version, ..)| *version == m.version) {
                status.pending.push(name(m.version, &m.description));
            }
        }
        status
    }
}

/// An applied migration's row: version, description, success, checksum.
type Applied = (i64, String, bool, Vec<u8>);

/// The rows of `_sqlx_migrations`, on either backend.
fn applied<R: Row>(rows: &[R]) -> Result<Vec<Applied>, sqlx::Error>
where
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

impl Store {
    /// The database's migrations next to this binary's, read only: nothing is applied or
    /// recorded, and a database no cvmbot has migrated has every migration pending.
    pub async fn migration_status(&self) -> StoreResult<MigrationStatus> {
        const APPLIED: &str = "SELECT version, description, success, checksum FROM _sqlx_migrations ORDER BY version";
        let (known, rows) = match &self.pool {
            Pool::Sqlite(pool, _) => {
                let exists: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
                )
                .fetch_one(pool)
                .await?;
                let rows = if exists > 0 {
                    applied(&sqlx::query(APPLIED).fetch_all(pool).await?)?
                } else {
                    Vec::new()
                };
                (migrator(SQLITE_MIGRATIONS), rows)
            }
            Pool::Postgres(pool) => {
                let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                    .fetch_one(pool)
                    .await?;
                let rows = if exists {
                    applied(&sqlx::query(APPLIED).fetch_all(pool).await?)?
                } else {
                    Vec::new()
                };
                (migrator(POSTGRES_MIGRATIONS), rows)
            }
        };
        Ok(MigrationStatus::compare(&known, &rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: i64, success: bool, checksum: &[u8]) -> Applied {
        (version, format!("m{version}"), success, checksum.to_vec())
    }

    #[test]
    fn applied_migrations_are_sorted_into_pending_unknown_changed_and_failed() {
        let known = migrator(SQLITE_MIGRATIONS);
        let first = known.iter().next().expect("a first migration");
        let second = known.iter().nth(1).expect("a second migration");
        let applied = [
            row(first.version, true, &first.checksum),
            row(second.version, true, b"edited"),
            row(9_999, true, b"from a newer cvmbot"),
        ];
        let status = MigrationStatus::compare(&known, &applied);
        assert_eq!(status.applied, 1);
        assert_eq!(status.changed.len(), 1);
        assert_eq!(status.changed[0].version, second.version);
        assert_eq!(status.unknown.iter().map(|m| m.version).collect::<Vec<_>>(), [9_999]);
        assert_eq!(status.pending.len(), known.iter().count() - 2);
        assert!(status.pending.iter().all(|m| m.version > second.version));

        let failed = MigrationStatus::compare(&known, &[row(first.version, false, &first.checksum)]);
        assert_eq!(failed.failed.len(), 1);
        assert_eq!(failed.applied, 0);
    }
}
