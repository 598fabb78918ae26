//! Start-up settings of the fake and the gateway intent bits it filters by.

use std::time::Duration;

/// Gateway intent bits the fake filters events by.
pub mod intents {
    pub const GUILDS: u64 = 1;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    pub const PRIVILEGED: u64 = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT;
}

/// Permission bits the fake checks (Discord's values).
pub mod permissions {
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// What the fake's bot is invited with: everything a purchasing-desk bot uses.
    pub const BOT_DEFAULT: u64 = ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | MANAGE_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_EXTERNAL_EMOJIS
        | MANAGE_THREADS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS;
}

/// Whom a channel permission overwrite is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// A role, by id; the guild's id is @everyone.
    Role(u64),
    /// One member, by user id.
    Member(u64),
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
    /// Permissions of the bot's managed role (from the invite link). The fake refuses with
    /// 403 / 50013 what they do not cover: removing others' reactions (MANAGE_MESSAGES),
    /// a new emoji reaction (ADD_REACTIONS), threads (CREATE_PUBLIC_THREADS), posting
    /// (SEND_MESSAGES), reading history (READ_MESSAGE_HISTORY).
    pub bot_permissions: u64,
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
            bot_permissions: permissions::BOT_DEFAULT,
        }
    }
}

/// The intent a dispatch needs, 0 if none. Message events outside a guild (no `guild_id`) are
/// DM events, which need the DIRECT_MESSAGE intents instead.
pub fn required_intent(name: &str, d: &serde_json::Value) -> u64 {
    let dm = d.get("guild_id").is_none_or(serde_json::Value::is_null);
    match name {
        n if dm && n.starts_with("MESSAGE_REACTION_") => intents::DIRECT_MESSAGE_REACTIONS,
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" if dm => intents::DIRECT_MESSAGES,
        "GUILD_CREATE" | "GUILD_UPDATE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "CHANNEL_DELETE" | "THREAD_CREATE"
        | "THREAD_UPDATE" | "THREAD_DELETE" | "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" | "GUILD_ROLE_DELETE" => {
            intents::GUILDS
        }
        "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_REMOVE" => intents::GUILD_MEMBERS,
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" => intents::GUILD_MESSAGES,
        n if n.starts_with("MESSAGE_REACTION_") => intents::GUILD_MESSAGE_REACTIONS,
        _ => 0,
    }
}
