//! Doctor's database checks: it can be opened, and its migrations next to this binary's. Nothing
//! is applied: a doctor run before an upgrade must leave the database as it found it.

use super::Report;
use crate::config::Config;
use crate::store::{ListFilter, MigrationName, MigrationStatus, Store};

/// How many recent requests are looked at for the channels they were filed in.
const RECENT_REQUESTS: i64 = 200;

/// The most request channels the doctor checks (the most recently used ones).
const MOST_CHANNELS: usize = 10;

fn names(migrations: &[MigrationName]) -> String {
    migrations
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the database and returns the channels its recent requests were filed in, newest first.
pub(super) async fn check(config: &Config, report: &mut Report) -> Vec<u64> {
    let url = config.database.target.redacted();
    let database = crate::store::DatabaseSettings {
        max_connections: 1,
        ..config.database.clone()
    };
    let store = match Store::connect(&database).await {
        Ok(store) => store,
        Err(error) => {
            report.fail(
                "database",
                format!("{url}: {error}"),
                "check database.url (CVMBOT_DATABASE__URL); for SQLite the directory must be writable, for PostgreSQL the server must accept the user",
            );
            return Vec::new();
        }
    };
    report.ok("database", format!("{url} ({}, reachable)", store.backend()));
    let channels = match store.migration_status().await {
        Ok(status) if report_migrations(&status, report) => request_channels(&store).await,
        Ok(_) => Vec::new(),
        Err(error) => {
            report.fail(
                "migrations",
                format!("cannot read them: {error}"),
                "see the error above",
            );
            Vec::new()
        }
    };
    store.close().await;
    channels
}

/// Reports `status`; true when the schema is this binary's, so its tables can be read.
fn report_migrations(status: &MigrationStatus, report: &mut Report) -> bool {
    let mut usable = true;
    if !status.unknown.is_empty() {
        usable = false;
        report.fail(
            "migrations",
            format!(
                "applied but unknown to this cvmbot: {} (a newer cvmbot migrated this database, and this one will not start on it)",
                names(&status.unknown)
            ),
            "run the newer cvmbot, or restore the backup taken before the upgrade (README: Backups)",
        );
    }
    if !status.changed.is_empty() {
        usable = false;
        report.fail(
            "migrations",
            format!(
                "applied with another text than this cvmbot's: {}",
                names(&status.changed)
            ),
            "run the cvmbot build that migrated this database: a landed migration must never be edited",
        );
    }
    if !status.failed.is_empty() {
        usable = false;
        report.fail(
            "migrations",
            format!("started but failed: {}", names(&status.failed)),
            "restore the backup taken before it (README: Backups), or finish it by hand and delete its row from _sqlx_migrations",
        );
    }
    if !status.pending.is_empty() {
        usable = false;
        let fresh = status.applied + status.unknown.len() + status.changed.len() + status.failed.len() == 0;
        let what = if fresh {
            format!("a new database: {} migrations to apply", status.pending.len())
        } else {
            format!("{} pending: {}", status.pending.len(), names(&status.pending))
        };
        report.warn(
            "migrations",
            what,
            "`cvmbot migrate` applies them (so does `cvmbot run`, and the systemd unit before it starts); take a backup first",
        );
    }
    if usable {
        report.ok("migrations", format!("all {} applied", status.applied));
    }
    usable
}

/// The channels recent requests were filed in, newest first, each once.
async fn request_channels(store: &Store) -> Vec<u64> {
    let Ok(mut session) = store.session().await else {
        return Vec::new();
    };
    let recent = session
        .list_requests(ListFilter::All, RECENT_REQUESTS)
        .await
        .unwrap_or_default();
    let mut channels = Vec::new();
    for channel in recent.iter().filter_map(|r| r.channel_id) {
        if !channels.contains(&channel.get()) && channels.len() < MOST_CHANNELS {
            channels.push(channel.get());
        }
    }
    channels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(version: i64) -> MigrationName {
        MigrationName {
            version,
            description: format!("m{version}"),
        }
    }

    #[test]
    fn a_newer_schema_fails_and_a_pending_migration_only_warns() {
        let mut report = Report::default();
        let newer = MigrationStatus {
            applied: 6,
            unknown: vec![name(7)],
            ..MigrationStatus::default()
        };
        assert!(!report_migrations(&newer, &mut report));
        assert_eq!((report.failed, report.warned), (1, 0));

        let mut report = Report::default();
        let behind = MigrationStatus {
            applied: 5,
            pending: vec![name(6)],
            ..MigrationStatus::default()
        };
        assert!(!report_migrations(&behind, &mut report));
        assert_eq!((report.failed, report.warned), (0, 1));

        let mut report = Report::default();
        let current = MigrationStatus {
            applied: 6,
            ..MigrationStatus::default()
        };
        assert!(report_migrations(&current, &mut report));
        assert_eq!((report.failed, report.warned), (0, 0));
    }
}
