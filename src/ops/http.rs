//! The listener: `/healthz`, `/readyz` and `/metrics` over plain HTTP/1.1.

use super::ServiceState;
use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long `/healthz` waits for the runtime to run a task of its own.
const RUNTIME_TIMEOUT: Duration = Duration::from_secs(1);

/// The Prometheus text format's content type (version 0.0.4).
const METRICS_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// A running listener; [`Listener::stop`] ends it.
pub struct Listener {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Listener {
    /// Listens on `address` (port 0: any free port) and answers from `state`.
    pub async fn start(address: SocketAddr, state: ServiceState) -> anyhow::Result<Listener> {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("service.listen: cannot listen on {address}"))?;
        let address = listener.local_addr().context("service.listen: the bound address")?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = axum::serve(listener, router(state)).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            if let Err(error) = serving.await {
                tracing::error!(%error, "the health and metrics listener failed");
            }
        });
        tracing::info!(%address, "serving /healthz, /readyz and /metrics");
        Ok(Listener { address, stop, task })
    }

    /// The address it listens on (with the port chosen when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Stops listening and waits for the requests in flight.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The routes, answering from `state`.
pub fn router(state: ServiceState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// 200 while the process runs and its runtime still runs tasks: answering proves the first, a
/// task of its own finishing proves the second.
async fn healthz() -> Response {
    match tokio::time::timeout(RUNTIME_TIMEOUT, tokio::spawn(async {})).await {
        Ok(Ok(())) => (StatusCode::OK, "ok\n").into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "the runtime does not run tasks\n").into_response(),
    }
}

async fn readyz(State(state): State<ServiceState>) -> Response {
    let readiness = state.readiness().await;
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(readiness)).into_response()
}

async fn metrics(State(state): State<ServiceState>) -> Response {
    let text = state.metrics_text().await;
    ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response()
}
