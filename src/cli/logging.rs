//! Tracing set-up: `RUST_LOG` wins over the configured level; text or JSON lines on stderr.

use tracing_subscriber::EnvFilter;

/// Starts logging once (later calls are ignored).
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{level},serenity=warn,sqlx=warn,hyper=warn,reqwest=warn,tungstenite=warn,h2=warn"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
