//! Assembling the application from its configuration: one function, so tests, the demo and
//! production build exactly the same thing.

use crate::clock::Clock;
use crate::config::Config;
use crate::desk::{Desk, DeskSettings};
use crate::store::Store;
use crate::tencent::TencentClient;
use anyhow::Context;

/// The assembled engine.
#[derive(Clone)]
pub struct App {
    /// The configuration it was built from.
    pub config: Config,
    /// The desk (which owns the store and the Tencent client).
    pub desk: Desk,
}

impl App {
    /// Opens the database (creating and migrating it), builds the Tencent client and the desk.
    pub async fn build(config: Config, clock: Clock) -> anyhow::Result<App> {
        anyhow::ensure!(
            config.secrets.tencent.is_some(),
            "Tencent Cloud credentials are not set: export TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY \
             (or use --simulate to try cvmbot against the built-in simulator)"
        );
        let store = Store::open(&config.database, config.settings.database.max_connections)
            .await
            .with_context(|| format!("opening the database {}", redact_url(&config.settings.database.url)))?;
        App::with_store(config, store, clock).await
    }

    /// Builds on an open store.
    pub async fn with_store(config: Config, store: Store, clock: Clock) -> anyhow::Result<App> {
        let credentials = config
            .secrets
            .tencent
            .clone()
            .context("Tencent Cloud credentials are not set")?;
        let tencent =
            TencentClient::new(config.tencent.clone(), credentials).context("building the Tencent Cloud client")?;
        let desk = Desk::new(store, tencent, DeskSettings::from_config(&config), clock)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
            .context("starting the desk")?;
        Ok(App { config, desk })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.desk.store()
    }
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
