//! Tracing set-up: `RUST_LOG` wins over the configured level; text or JSON lines on stderr, the
//! text coloured only when stderr is a terminal and `NO_COLOR` is not set.
//!
//! Whatever either says, the libraries that log raw network traffic are held at `warn`: at trace
//! level the websocket library prints every gateway frame (the IDENTIFY frame carries the Discord
//! token) and the HTTP stacks print requests (the `Authorization` and `X-TC-Token` headers).

use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

/// Crates that log frames, headers or bodies below `warn`; never shown below it.
pub const CAPPED: &[&str] = &[
    "tungstenite",
    "tokio_tungstenite",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
    "serenity::gateway",
];

/// Starts logging once (later calls are ignored).
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},serenity=warn,sqlx=warn,{}", quiet_below_warn())));
    let caps = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(CAPPED.iter().map(|target| (*target, LevelFilter::WARN)));
    let registry = tracing_subscriber::registry().with(filter).with(caps);
    // Colour only for a person at a terminal: a journal, a file or a pipe gets plain text.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = if format == "json" {
        registry
            .with(fmt::layer().json().flatten_event(true).with_writer(std::io::stderr))
            .try_init()
    } else {
        registry
            .with(fmt::layer().with_ansi(ansi).with_writer(std::io::stderr))
            .try_init()
    };
}

fn quiet_below_warn() -> String {
    CAPPED.iter().map(|t| format!("{t}=warn")).collect::<Vec<_>>().join(",")
}
