//! The Discord adapter: serenity (pinned), the `/cvm` command, votes by button and reaction,
//! request cards edited in place, and the notifier the workers post through.

mod buttons;
mod commands;
mod convert;
mod handler;
mod notifier;
mod reactions;
mod slash;

pub use commands::{Invocation, definition};
pub use convert::nonce;
pub use handler::{Handler, HandlerSettings};
pub use notifier::DiscordNotifier;

use crate::desk::Desk;
use crate::secret::Secret;
use crate::workers::{WorkerSettings, Workers};
use anyhow::Context as _;
use serenity::all::{
    ClientBuilder, GatewayIntents, HttpBuilder, ShardId, ShardManager, ShardMessenger, ShardRunnerMessage,
};
use std::sync::Arc;
use tokio::sync::watch;
use tracing::warn;

/// Discord's own API base; anything else is a proxy or a test double.
pub const DISCORD: &str = "https://discord.com";

/// Only what cvmbot reads: guild events and reactions. No Message Content.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGE_REACTIONS
}

/// A connected bot, until stopped.
pub struct Bot {
    client: serenity::Client,
    workers: Workers,
    ready: watch::Receiver<bool>,
}

impl Bot {
    /// Connects to Discord at `api_base` with `token`, and starts the workers posting through it.
    ///
    /// For a base other than Discord's, serenity's proxy setting is used with its rate limiter
    /// off: serenity's limiter ignores the proxy and would send requests to discord.com.
    pub async fn connect(
        desk: Desk,
        token: &Secret,
        api_base: &str,
        settings: HandlerSettings,
        workers: WorkerSettings,
    ) -> anyhow::Result<Bot> {
        let mut http = HttpBuilder::new(token.expose());
        let api_base = api_base.trim_end_matches('/');
        if api_base != DISCORD {
            warn!(
                api_base,
                "using a Discord API base other than discord.com (rate limiter off)"
            );
            let client = reqwest::Client::builder()
                .no_proxy()
                .build()
                .context("building the HTTP client")?;
            http = http.proxy(api_base).ratelimiter_disabled(true).client(client);
        }
        let handler = Handler::new(desk.clone(), settings);
        let ready = handler.readiness();
        let client = ClientBuilder::new_with_http(http.build(), intents())
            .event_handler(handler)
            .await
            .context("building the Discord client")?;
        let notifier = Arc::new(DiscordNotifier::new(client.http.clone(), desk.installation_id()));
        let workers = Workers::spawn(desk, notifier, workers).await;
        Ok(Bot { client, workers, ready })
    }

    /// True once the bot has handled READY (see [`Handler::readiness`]); for health checks and tests.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.clone()
    }

    /// Runs until the gateway connection ends, Ctrl-C or SIGTERM; then closes the gateway, lets
    /// the workers finish what they are doing and hands the lease over.
    pub async fn run(self) -> anyhow::Result<()> {
        self.run_until(crate::signal::stop_requested()).await
    }

    /// Runs until `stop` resolves (tests), then shuts down cleanly.
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let shards = self.client.shard_manager.clone();
        let result = tokio::select! {
            result = self.client.start() => result.context("the Discord connection ended"),
            _ = stop => {
                stop_shards(&shards).await;
                Ok(())
            }
        };
        self.workers.shutdown().await;
        result
    }
}

/// Closes every gateway connection. serenity 0.12.5's `shutdown_all` can miss a shard runner it
/// restarted (after Discord invalidated the session, its restart leaves a stale "shut down"
/// notice behind, so the next shutdown returns before the new runner got the message), which
/// would keep the connection open and events flowing to a stopped bot. So every runner seen
/// before the shutdown is told to stop once more; for one that already stopped this is a no-op
/// that serenity logs.
async fn stop_shards(shards: &ShardManager) {
    let runners: Vec<(ShardId, ShardMessenger)> = shards
        .runners
        .lock()
        .await
        .iter()
        .map(|(id, runner)| (*id, runner.runner_tx.clone()))
        .collect();
    shards.shutdown_all().await;
    for (id, messenger) in runners {
        messenger.send_to_shard(ShardRunnerMessage::Shutdown(id, 1000));
    }
}
