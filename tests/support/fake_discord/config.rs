//! Start-up settings of the fake and the gateway intent bits it filters by.

use std::time::Duration;

/// Gateway intent bits the fake filters events by.
pub mod intents {
    pub const GUILDS: u64 = 1;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    pub const PRIVILEGED: u64 = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
}

/// Settings fixed at start-up (some can be changed later through `FakeDiscord`).
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// The bot token the fake accepts (`Authorization: Bot <token>`).
    pub token: String,
    /// `heartbeat_interval` sent in HELLO. Discord sends 41250 ms.
    pub heartbeat_interval: Duration,
    /// Time a bot has for the first interaction callback. Discord: 3 s.
    pub interaction_deadline: Duration,
    /// Lifetime of an interaction token for followups and edits. Discord: 15 min.
    pub interaction_token_lifetime: Duration,
    /// Window in which `enforce_nonce` deduplicates a repeated nonce.
    pub nonce_window: Duration,
    /// Privileged intents switched on "in the developer portal"; asking for others closes
    /// the gateway with 4014 like Discord.
    pub privileged_intents: u64,
}

impl Default for FakeConfig {
    fn default() -> Self {
        Self {
            token: "fake-bot-token".into(),
            heartbeat_interval: Duration::from_millis(41_250),
            interaction_deadline: Duration::from_secs(3),
            interaction_token_lifetime: Duration::from_secs(15 * 60),
            nonce_window: Duration::from_secs(5 * 60),
            privileged_intents: 0,
        }
    }
}
