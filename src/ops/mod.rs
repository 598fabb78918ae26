//! Health and metrics for operators: `/healthz` (the process is alive), `/readyz` (this replica
//! does its job: database, Discord gateway, Tencent, and its role) and `/metrics` (Prometheus
//! text) on `service.listen`, off unless set.
//!
//! The process's counters and histograms ([`metrics()`]) are one per process, as Prometheus
//! scrapes a process: the Tencent client, the Discord adapter and the tracker count into them as
//! they go. What the database holds (requests, the outbox, the balance, the lease) is read through
//! the desk at each scrape, so every replica reports the same installation-wide figures.

mod http;
mod metrics;
mod scrape;
mod state;

pub use http::{Listener, router};
pub use metrics::Metrics;
pub use scrape::{BalanceFigures, Figures};
pub use state::{Check, Gateway, Probe, Readiness, Role, ServiceState, judge};

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The listener's settings (the configuration builds them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceSettings {
    /// Where `/healthz`, `/readyz` and `/metrics` are served; `None`: nowhere.
    pub listen: Option<SocketAddr>,
    /// How recently Tencent must have answered for a leader to be ready.
    pub tencent_within: Duration,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

/// This process's metrics.
pub fn metrics() -> &'static Metrics {
    &METRICS
}

/// The Tencent client's observer that counts into this process's metrics.
pub fn tencent_observer() -> Arc<dyn crate::tencent::CallObserver> {
    Arc::new(Observer)
}

/// Forwards the Tencent client's attempts to the process's metrics.
struct Observer;

impl crate::tencent::CallObserver for Observer {
    fn attempted(&self, attempt: &crate::tencent::Attempt<'_>) {
        crate::tencent::CallObserver::attempted(metrics(), attempt);
    }

    fn rate_limited(&self, action: &str, waited: Duration) {
        crate::tencent::CallObserver::rate_limited(metrics(), action, waited);
    }
}

/// Starts the listener on `settings.listen` answering from `state`, or nothing when no address
/// is set.
pub async fn listen(settings: &ServiceSettings, state: ServiceState) -> anyhow::Result<Option<Listener>> {
    match settings.listen {
        Some(address) => Ok(Some(Listener::start(address, state).await?)),
        None => Ok(None),
    }
}
