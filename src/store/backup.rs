//! Backups of the SQLite database, and keeping its files readable by cvmbot's user only. A backup
//! is `VACUUM INTO` a new file: a consistent copy taken while cvmbot runs (SQLite reads it in one
//! transaction), checked with `PRAGMA integrity_check` before it is reported done. PostgreSQL is
//! backed up with its own tools (`pg_dump`), as the README says.

use super::{Pool, Store, StoreError, StoreResult, innermost};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::fs::OpenOptions;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Owner read and write, nobody else: a database holds who approved what and Tencent's ids.
const PRIVATE: u32 = 0o600;

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backup {
    /// Its size in bytes.
    pub bytes: u64,
    /// What `PRAGMA integrity_check` said of the copy (`ok`).
    pub integrity: String,
}

/// Creates the SQLite file at `file` readable by its owner only, if it does not exist; tightens
/// one (and its `-wal` and `-shm` companions) that others may read. Returns the files tightened.
pub(super) fn keep_private(file: &Path) -> StoreResult<Vec<String>> {
    if file.as_os_str().is_empty() || file.to_string_lossy().starts_with(':') {
        return Ok(Vec::new());
    }
    if !file.exists() {
        match OpenOptions::new().write(true).create_new(true).mode(PRIVATE).open(file) {
            Ok(_) => return Ok(Vec::new()),
            // Someone created it meanwhile, or the directory is missing (opening says so).
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(_) => return Ok(Vec::new()),
        }
    }
    let mut tightened = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", file.display());
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        if metadata.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(PRIVATE))
                .map_err(|e| StoreError::Open(format!("cannot make {path} readable by its owner only: {e}")))?;
            tightened.push(path);
        }
    }
    Ok(tightened)
}

impl Store {
    /// Copies the SQLite database to `target`, a new file readable by its owner only, and checks
    /// the copy. Refused for PostgreSQL (use `pg_dump`) and when `target` exists.
    pub async fn backup_sqlite(&self, target: &Path) -> StoreResult<Backup> {
        let Pool::Sqlite(pool, _) = &self.pool else {
            return Err(StoreError::Open(
                "`cvmbot backup` copies a SQLite database; back up PostgreSQL with pg_dump (see the README's \
                 Backups section)"
                    .into(),
            ));
        };
        // VACUUM INTO writes into an empty file, which is created here so it is never readable by others.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(PRIVATE)
            .open(target)
            .map_err(|e| StoreError::Open(format!("cannot create the backup {}: {e}", target.display())))?;
        let written = sqlx::query("VACUUM INTO $1")
            .bind(target.display().to_string())
            .execute(pool)
            .await;
        if let Err(e) = written {
            let _ = std::fs::remove_file(target);
            return Err(StoreError::Open(format!(
                "cannot copy the database to {}: {}",
                target.display(),
                innermost(&e)
            )));
        }
        let mut copy = SqliteConnectOptions::new()
            .filename(target)
            .read_only(true)
            .connect()
            .await
            .map_err(|e| {
                StoreError::Open(format!(
                    "cannot open the backup {}: {}",
                    target.display(),
                    innermost(&e)
                ))
            })?;
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut copy)
            .await?;
        copy.close().await?;
        let bytes = std::fs::metadata(target).map(|m| m.len()).unwrap_or(0);
        Ok(Backup { bytes, integrity })
    }

    /// `PRAGMA integrity_check` (SQLite) or `ok` (PostgreSQL keeps its own checks).
    pub async fn integrity_check(&self) -> StoreResult<String> {
        match &self.pool {
            Pool::Sqlite(pool, _) => Ok(sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await?),
            Pool::Postgres(_) => Ok("ok".into()),
        }
    }
}
