//! What the listener reports on: the database (through a [`Probe`], which the desk is), this
//! replica's role (the workers lease), the Discord gateway when this replica has one, and when
//! Tencent last answered. The bot and the workers hand theirs over as they start, so the listener
//! can answer from the moment the database is open.

use super::Metrics;
use super::scrape::{Figures, Scrape};
use futures_util::future::BoxFuture;
use serde::Serialize;
use serenity::all::ShardManager;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;

/// How long the readiness check waits for the database's answer.
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a scrape waits for the database's figures before it leaves them out.
const FIGURES_TIMEOUT: Duration = Duration::from_secs(5);

/// The database's side of health and metrics.
pub trait Probe: Send + Sync {
    /// Answers when the database does.
    fn ping(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    /// The counts the metrics read from the database.
    fn figures(&self) -> BoxFuture<'_, anyhow::Result<Figures>>;
}

/// The Discord gateway as health and metrics see it.
#[derive(Clone)]
pub struct Gateway {
    ready: watch::Receiver<bool>,
    shards: Arc<ShardManager>,
}

impl Gateway {
    /// A gateway that is ready while `ready` says so, with the heartbeats of `shards`.
    pub fn new(ready: watch::Receiver<bool>, shards: Arc<ShardManager>) -> Gateway {
        Gateway { ready, shards }
    }

    fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// The slowest shard's last heartbeat round trip, if any shard has had one.
    async fn heartbeat(&self) -> Option<Duration> {
        let runners = self.shards.runners.lock().await;
        runners.values().filter_map(|runner| runner.latency).max()
    }
}

type Leading = Arc<dyn Fn() -> bool + Send + Sync>;

/// The health and metrics listener's inputs; cheap to clone, clones share everything.
#[derive(Clone)]
pub struct ServiceState {
    inner: Arc<Inner>,
}

struct Inner {
    probe: Arc<dyn Probe>,
    metrics: &'static Metrics,
    tencent_within: Duration,
    leading: RwLock<Option<Leading>>,
    gateway: RwLock<Option<Gateway>>,
}

/// This replica's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// It holds the workers lease: it runs the workers and must reach Discord and Tencent.
    Leader,
    /// It waits to take over; it needs only its database.
    Standby,
}

/// One readiness check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `database`, `discord` or `tencent`.
    pub name: &'static str,
    /// Whether it passes.
    pub ok: bool,
    /// Whether this replica's readiness depends on it (a standby needs only its database).
    pub required: bool,
    /// What was found, in plain words.
    pub detail: String,
}

/// The answer of `/readyz`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// True when every required check passes.
    pub ready: bool,
    /// This replica's role.
    pub role: Role,
    /// Every check, required or not.
    pub checks: Vec<Check>,
}

impl ServiceState {
    /// Inputs reading the database through `probe`, counting into `metrics`, wanting an answer
    /// from Tencent within `tencent_within`; no gateway and no leadership until they are set.
    pub fn new(probe: Arc<dyn Probe>, metrics: &'static Metrics, tencent_within: Duration) -> ServiceState {
        ServiceState {
            inner: Arc::new(Inner {
                probe,
                metrics,
                tencent_within,
                leading: RwLock::new(None),
                gateway: RwLock::new(None),
            }),
        }
    }

    /// From now on, this replica leads while `leading` says so.
    pub fn set_leadership(&self, leading: impl Fn() -> bool + Send + Sync + 'static) {
        *self.inner.leading.write().expect("state lock") = Some(Arc::new(leading));
    }

    /// The gateway this replica connects, or `None` while it connects none.
    pub fn set_gateway(&self, gateway: Option<Gateway>) {
        *self.inner.gateway.write().expect("state lock") = gateway;
    }

    fn leading(&self) -> bool {
        let leading = self.inner.leading.read().expect("state lock").clone();
        leading.is_some_and(|leading| leading())
    }

    fn gateway(&self) -> Option<Gateway> {
        self.inner.gateway.read().expect("state lock").clone()
    }

    /// Every check, and whether this replica is doing its job.
    pub async fn readiness(&self) -> Readiness {
        let database = match tokio::time::timeout(PING_TIMEOUT, self.inner.probe.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(format!("{error:#}")),
            Err(_) => Err(format!("no answer within {PING_TIMEOUT:?}")),
        };
        let answered = self.inner.metrics.tencent_answered().map(|at| at.elapsed());
        judge(
            self.leading(),
            database,
            self.gateway().map(|g| g.is_ready()),
            answered,
            self.inner.tencent_within,
        )
    }

    /// The `/metrics` text: the process's metrics and what the database, the lease and the
    /// gateway say now.
    pub async fn metrics_text(&self) -> String {
        let figures = match tokio::time::timeout(FIGURES_TIMEOUT, self.inner.probe.figures()).await {
            Ok(Ok(figures)) => Some(figures),
            Ok(Err(error)) => {
                tracing::warn!(error = %format!("{error:#}"), "metrics: the database could not be read");
                None
            }
            Err(_) => {
                tracing::warn!(timeout = ?FIGURES_TIMEOUT, "metrics: the database did not answer in time");
                None
            }
        };
        let gateway = self.gateway();
        let heartbeat = match &gateway {
            Some(gateway) => gateway.heartbeat().await,
            None => None,
        };
        let scrape = Scrape {
            figures,
            leading: self.leading(),
            gateway_ready: gateway.map(|g| g.is_ready()),
            heartbeat,
        };
        super::scrape::text(self.inner.metrics, &scrape)
    }
}

/// Readiness from what was found: a leader needs its database, a READY gateway and an answer from
/// Tencent within `within`; a standby needs only its database.
pub fn judge(
    leading: bool,
    database: Result<(), String>,
    gateway_ready: Option<bool>,
    tencent_answered: Option<Duration>,
    within: Duration,
) -> Readiness {
    let role = if leading { Role::Leader } else { Role::Standby };
    let database = Check {
        name: "database",
        ok: database.is_ok(),
        required: true,
        detail: database.map_or_else(|e| format!("unreachable: {e}"), |()| "reachable".to_owned()),
    };
    let discord = Check {
        name: "discord",
        ok: gateway_ready == Some(true),
        required: leading,
        detail: match gateway_ready {
            Some(true) => "gateway connected and READY".to_owned(),
            Some(false) => "gateway not connected or READY not handled yet".to_owned(),
            None => "no gateway connection in this replica".to_owned(),
        },
    };
    let tencent = Check {
        name: "tencent",
        ok: tencent_answered.is_some_and(|age| age <= within),
        required: leading,
        detail: match tencent_answered {
            Some(age) => format!(
                "last answered {}s ago (wanted within {}s)",
                age.as_secs(),
                within.as_secs()
            ),
            None => "has not answered this process yet".to_owned(),
        },
    };
    let checks = vec![database, discord, tencent];
    Readiness {
        ready: checks.iter().all(|c| c.ok || !c.required),
        role,
        checks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WITHIN: Duration = Duration::from_secs(900);
    const RECENT: Option<Duration> = Some(Duration::from_secs(30));

    #[test]
    fn a_leader_is_ready_only_with_its_database_a_ready_gateway_and_a_recent_answer_from_tencent() {
        let ready = judge(true, Ok(()), Some(true), RECENT, WITHIN);
        assert!(ready.ready, "{ready:?}");
        assert_eq!(ready.role, Role::Leader);
        for (database, gateway, tencent, failing) in [
            (Err("closed".to_owned()), Some(true), RECENT, "database"),
            (Ok(()), Some(false), RECENT, "discord"),
            (Ok(()), None, RECENT, "discord"),
            (Ok(()), Some(true), None, "tencent"),
            (Ok(()), Some(true), Some(WITHIN + Duration::from_secs(1)), "tencent"),
        ] {
            let verdict = judge(true, database, gateway, tencent, WITHIN);
            assert!(!verdict.ready, "{failing}: {verdict:?}");
            let failed: Vec<_> = verdict.checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
            assert_eq!(failed, [failing]);
        }
    }

    #[test]
    fn a_standby_is_ready_with_its_database_alone() {
        let standby = judge(false, Ok(()), None, None, WITHIN);
        assert!(standby.ready, "{standby:?}");
        assert_eq!(standby.role, Role::Standby);
        assert!(standby.checks.iter().filter(|c| !c.ok).all(|c| !c.required));
        assert!(!judge(false, Err("gone".into()), None, None, WITHIN).ready);
    }

    #[test]
    fn the_answer_reads_as_json_with_each_check_and_the_role() {
        let json = serde_json::to_value(judge(false, Ok(()), None, None, WITHIN)).expect("json");
        assert_eq!(json["role"], "standby");
        assert_eq!(json["ready"], true);
        assert_eq!(json["checks"][0]["name"], "database");
        assert_eq!(json["checks"][0]["ok"], true);
        assert_eq!(json["checks"][1]["required"], false);
    }
}
