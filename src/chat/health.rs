//! The database's health, told to the alert channel: when it stops taking writes (a full or
//! failing disk), and when it takes them again.

use crate::chat::Notifier;
use crate::chat::render::{self, TimeStyle};
use crate::desk::{Desk, Event};
use crate::domain::ChannelId;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::warn;

/// How often the database's write health is looked at.
const HEALTH_EVERY: Duration = Duration::from_secs(1);

/// How long writes must go through before the alert channel is told the database is back.
const RECOVERED_AFTER: Duration = Duration::from_secs(10);

/// Tells the alert channel when the database stops taking writes, and when it takes them again.
/// Not through the outbox (which is in that database): the process posts what it sees itself,
/// once per outage. It runs beside the workers, so on the replica that is connected to Discord.
pub async fn watch_database(
    desk: Desk,
    notifier: Arc<dyn Notifier>,
    alert_channel: Option<ChannelId>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut told = false;
    let mut writable_since: Option<std::time::Instant> = None;
    loop {
        let failure = desk.write_failure();
        writable_since = match &failure {
            Some(_) => None,
            None => writable_since.or_else(|| Some(std::time::Instant::now())),
        };
        // Recovery is told once writes have gone through for a while, so a disk on the edge
        // (commits failing and succeeding in turn) does not flood the channel.
        let recovered = writable_since.is_some_and(|since| since.elapsed() >= RECOVERED_AFTER);
        let notice = match (&failure, told) {
            (Some(failure), false) => Some(Event::DatabaseUnwritable {
                error: failure.error.clone(),
            }),
            (None, true) if recovered => Some(Event::DatabaseWritable),
            _ => None,
        };
        if let Some(notice) = notice {
            let posted = match alert_channel {
                Some(channel) => notifier
                    .post(channel, &render::notice(&notice, None, TimeStyle::Utc))
                    .await
                    .map(|_| ()),
                None => Ok(()),
            };
            match posted {
                Ok(_) => told = failure.is_some(),
                Err(error) => {
                    warn!(error = %format!("{error:#}"), "could not tell the alert channel about the database")
                }
            }
        }
        tokio::select! {
            _ = stopped.changed() => break,
            _ = tokio::time::sleep(HEALTH_EVERY) => {}
        }
    }
}
