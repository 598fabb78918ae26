//! The Discord adapter: serenity (pinned), the `/cvm` command, votes by button and reaction,
//! request cards edited in place, and the notifier the workers post through.

mod buttons;
mod commands;
mod convert;
mod fleet;
mod handler;
mod lifetime;
mod notifier;
mod reactions;
mod slash;

pub use commands::{Invocation, definition};
pub use convert::nonce;
pub use handler::{Handler, HandlerSettings};
pub use notifier::DiscordNotifier;

use crate::desk::Desk;
use crate::secret::Secret;
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

/// The Discord adapter's settings (the configuration builds them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordSettings {
    /// Discord's API base (another one is a proxy or a test double).
    pub api_base: String,
    /// Guilds to register the commands in and answer in (empty: globally, and in every guild).
    pub guild_ids: Vec<u64>,
}

/// A connected bot, until stopped.
pub struct Bot {
    client: serenity::Client,
    notifier: Arc<DiscordNotifier>,
    ready: watch::Receiver<bool>,
}

impl Bot {
    /// A bot for `desk` on Discord at `settings.api_base` with `token`; it connects when run.
    ///
    /// For a base other than Discord's, serenity's proxy setting is used with its rate limiter
    /// off: serenity's limiter ignores the proxy and would send requests to discord.com.
    pub async fn connect(desk: Desk, token: &Secret, settings: &DiscordSettings) -> anyhow::Result<Bot> {
        let mut http = HttpBuilder::new(token.expose());
        let api_base = settings.api_base.trim_end_matches('/');
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
        let handler = Handler::new(
            desk.clone(),
            HandlerSettings {
                guild_ids: settings.guild_ids.clone(),
            },
        );
        let ready = handler.readiness();
        let client = ClientBuilder::new_with_http(http.build(), intents())
            .event_handler(handler)
            .await
            .context("building the Discord client")?;
        let notifier = Arc::new(DiscordNotifier::new(client.http.clone(), desk.installation_id()));
        Ok(Bot {
            client,
            notifier,
            ready,
        })
    }

    /// Posts and edits as the bot (for the engine's delivery).
    pub fn notifier(&self) -> Arc<DiscordNotifier> {
        self.notifier.clone()
    }

    /// True once the bot has handled READY (see [`Handler::readiness`]); for health checks and tests.
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.clone()
    }

    /// The gateway's shards, with each one's connection stage and heartbeat latency (for metrics).
    pub fn shards(&self) -> Arc<ShardManager> {
        self.client.shard_manager.clone()
    }

    /// Runs until the gateway connection ends or `stop` resolves, then closes the gateway.
    pub async fn run_until(mut self, stop: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
        let shards = self.client.shard_manager.clone();
        tokio::select! {
            result = self.client.start() => result.context("the Discord connection ended"),
            _ = stop => {
                stop_shards(&shards).await;
                Ok(())
            }
        }
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
