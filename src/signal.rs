//! Stopping cleanly on the signals a service manager sends.

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT), or SIGTERM, which systemd and
/// container engines send, so that both finish in-flight work and hand the lease over.
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => tracing::info!("stopping (interrupted)"),
                    _ = terminate.recv() => tracing::info!("stopping (SIGTERM)"),
                }
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops cvmbot cleanly"),
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("stopping (interrupted)");
}
