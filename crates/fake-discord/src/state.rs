//! Everything the fake knows, behind one mutex: guild, users, messages, interactions,
//! registered commands, the gateway session's event log and the REST request log.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::{FakeConfig, required_intent};
use super::payloads;

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds, used for snowflakes.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

#[derive(Clone, Debug)]
pub struct UserRec {
    pub id: u64,
    pub name: String,
    pub bot: bool,
}

#[derive(Clone, Debug)]
pub struct RoleRec {
    pub id: u64,
    pub name: String,
    pub permissions: u64,
    pub position: u16,
}

#[derive(Clone, Debug)]
pub struct MemberRec {
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub joined_at: String,
}

#[derive(Clone, Debug)]
pub struct ChannelRec {
    pub id: u64,
    pub name: String,
    /// Discord channel type: 0 text, 11 public thread.
    pub kind: u8,
    pub parent_id: Option<u64>,
    pub owner_id: Option<u64>,
    pub position: u16,
    /// The channel's permission overwrites (a thread has none: it follows its parent's).
    pub overwrites: Vec<OverwriteRec>,
}

/// A channel permission overwrite, as Discord stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverwriteRec {
    /// A role's id (the guild's id for @everyone) or a member's.
    pub id: u64,
    /// 0 for a role, 1 for a member.
    pub kind: u8,
    pub allow: u64,
    pub deny: u64,
}

/// One emoji's reactions on a message. `key` is `name` for unicode or `name:id` for custom.
#[derive(Clone, Debug)]
pub struct ReactionRec {
    pub key: String,
    /// User ids in the order they reacted.
    pub users: Vec<u64>,
}

/// A message as the fake stores it; `fields` holds content/embeds/components/flags etc.
#[derive(Clone, Debug)]
pub struct StoredMessage {
    pub id: u64,
    pub channel_id: u64,
    pub author_id: u64,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
    pub fields: serde_json::Map<String, Value>,
    /// `Some(user)` for an ephemeral interaction response only that user sees.
    pub ephemeral_to: Option<u64>,
    pub reactions: Vec<ReactionRec>,
    /// Earlier versions of the message JSON, oldest first.
    pub history: Vec<Value>,
    pub deleted: bool,
    pub created_at: Instant,
    /// Interaction whose response or followup created this message.
    pub interaction_id: Option<u64>,
}

/// An accepted interaction callback.
#[derive(Clone, Debug)]
pub struct CallbackRec {
    pub kind: u64,
    pub data: Value,
    pub after: Duration,
}

#[derive(Clone, Debug)]
pub struct InteractionRec {
    pub id: u64,
    pub token: String,
    /// 2 command, 3 component, 4 autocomplete, 5 modal submit.
    pub kind: u8,
    pub user_id: u64,
    pub channel_id: u64,
    /// Command name path (`cvm buy`) or `custom_id`.
    pub name: String,
    /// Message carrying the clicked component (type 3, or a modal opened from one).
    pub message_id: Option<u64>,
    /// For a modal submit: the interaction whose type 9 callback opened the modal.
    pub opened_by: Option<u64>,
    pub payload: Value,
    pub created_at: Instant,
    pub callback: Option<CallbackRec>,
    /// Callback attempts the fake refused: (HTTP status, Discord error code, after).
    pub refused: Vec<(u16, i64, Duration)>,
    pub original_message_id: Option<u64>,
    /// A type 5 deferral whose "thinking" message was not replaced yet.
    pub thinking: bool,
    pub followup_ids: Vec<u64>,
    /// Its INTERACTION_CREATE: an index into [`State::events`].
    pub event: usize,
}

/// A gateway dispatch, with whether it reached a live connection.
#[derive(Clone, Debug)]
pub struct DispatchRecord {
    pub session_id: Option<String>,
    pub seq: Option<u64>,
    pub name: String,
    pub d: Value,
    /// Written to a live websocket, and when (time since the fake started).
    pub delivered: bool,
    pub delivered_at: Option<Duration>,
    /// The gateway connection (numbered from 1) it was last written to; a RESUME replays
    /// undelivered events on the new connection.
    pub connection: Option<u64>,
    /// Why it was not queued (no session, missing intent).
    pub dropped: Option<String>,
    /// Caused by a test's user action (or `dispatch_raw`), not by the bot's own calls.
    pub injected: bool,
}

/// One REST request as the bot sent it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// Full path, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    /// Route template, e.g. `POST /channels/{channel}/messages`; `UNKNOWN` if unmatched.
    pub route: String,
    pub query: Vec<(String, String)>,
    /// `Content-Type` as sent: `application/json`, or `multipart/form-data; boundary=…`.
    pub content_type: String,
    /// JSON body (or multipart `payload_json`).
    pub body: Option<Value>,
    /// File names uploaded in a multipart body.
    pub files: Vec<String>,
    pub status: u16,
    pub response: Option<Value>,
    /// When it arrived (before waiting for the state lock), time since the fake started.
    pub at: Duration,
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: String,
    pub intents: u64,
    pub seq: u64,
}

#[derive(Clone, Debug, Default)]
pub struct GatewayStats {
    pub connections: u64,
    pub identifies: Vec<Value>,
    pub resumes: u64,
    pub ready_sent: u64,
    pub heartbeats: u64,
    /// Live connections: id -> handshake done (READY or RESUMED sent).
    pub live: BTreeMap<u64, bool>,
    /// Connections with an id below this are told to drop.
    pub kill_below: u64,
    /// Close code to send when killing (None: drop TCP without a close frame).
    pub kill_code: Option<u16>,
    pub refuse_resume: bool,
    /// Handshake notes (URLs, RESUME outcomes, connection errors) for failure messages.
    pub log: Vec<String>,
}

/// A fault to inject into the next matching REST request.
#[derive(Clone, Debug)]
pub struct Fault {
    /// Route name as logged, e.g. `POST /channels/{channel}/messages`.
    pub route: String,
    pub status: u16,
    pub body: Value,
}

pub struct State {
    /// Uploaded files by attachment id: (file name, bytes).
    pub uploads: std::collections::HashMap<u64, (String, Vec<u8>)>,
    pub cfg: FakeConfig,
    pub started: Instant,
    pub rest_url: String,
    pub gateway_url: String,
    pub application_id: u64,
    pub bot_user_id: u64,
    pub guild_id: u64,
    pub default_channel_id: u64,
    /// Other servers the bot is in: id → name (see `FakeDiscord::add_other_guild`).
    pub other_guilds: BTreeMap<u64, String>,
    /// The channels of those servers → their server; every other channel is in `guild_id`.
    pub channel_guilds: BTreeMap<u64, u64>,
    /// The bot's managed role, carrying `FakeConfig::bot_permissions`.
    pub bot_role_id: u64,
    pub users: BTreeMap<u64, UserRec>,
    pub roles: BTreeMap<u64, RoleRec>,
    pub members: BTreeMap<u64, MemberRec>,
    pub channels: BTreeMap<u64, ChannelRec>,
    pub messages: BTreeMap<u64, StoredMessage>,
    /// Registered commands: (guild or None for global, command JSON with id).
    pub commands: Vec<(Option<u64>, Value)>,
    pub interactions: BTreeMap<u64, InteractionRec>,
    pub requests: Vec<RecordedRequest>,
    pub events: Vec<DispatchRecord>,
    pub session: Option<Session>,
    pub gateway: GatewayStats,
    pub faults: Vec<Fault>,
    pub dms: super::rest_dms::Dms,
    pub problems: Vec<String>,
    last_id: u64,
}

impl State {
    pub fn new(cfg: FakeConfig, rest_url: String, gateway_url: String) -> Self {
        let mut st = Self {
            uploads: Default::default(),
            cfg,
            started: Instant::now(),
            rest_url,
            gateway_url,
            application_id: 1_300_000_000_000_000_001,
            bot_user_id: 1_300_000_000_000_000_001,
            guild_id: 1_300_000_000_000_000_100,
            default_channel_id: 1_300_000_000_000_000_200,
            other_guilds: BTreeMap::new(),
            channel_guilds: BTreeMap::new(),
            bot_role_id: 1_300_000_000_000_000_101,
            users: BTreeMap::new(),
            roles: BTreeMap::new(),
            members: BTreeMap::new(),
            channels: BTreeMap::new(),
            messages: BTreeMap::new(),
            commands: Vec::new(),
            interactions: BTreeMap::new(),
            requests: Vec::new(),
            events: Vec::new(),
            session: None,
            gateway: GatewayStats::default(),
            faults: Vec::new(),
            dms: Default::default(),
            problems: Vec::new(),
            last_id: 0,
        };
        let (bot, guild) = (st.bot_user_id, st.guild_id);
        st.users.insert(
            bot,
            UserRec {
                id: bot,
                name: "cvmbot".into(),
                bot: true,
            },
        );
        // The @everyone role has the guild's id.
        st.roles.insert(
            guild,
            RoleRec {
                id: guild,
                name: "@everyone".into(),
                permissions: payloads::DEFAULT_EVERYONE_PERMISSIONS,
                position: 0,
            },
        );
        let bot_role = st.bot_role_id;
        let permissions = st.cfg.bot_permissions;
        let name = "cvmbot".to_string();
        let role = RoleRec {
            id: bot_role,
            name,
            permissions,
            position: 1,
        };
        st.roles.insert(bot_role, role);
        let joined_at = now_timestamp();
        let roles = vec![bot_role];
        st.members.insert(
            bot,
            MemberRec {
                user_id: bot,
                roles,
                joined_at,
            },
        );
        let general = st.default_channel_id;
        st.channels.insert(
            general,
            ChannelRec {
                id: general,
                name: "general".into(),
                kind: 0,
                parent_id: None,
                owner_id: None,
                position: 0,
                overwrites: Vec::new(),
            },
        );
        st
    }

    /// A new snowflake: Discord-epoch milliseconds in the high bits, always increasing.
    pub fn snowflake(&mut self) -> u64 {
        let ms = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        let ms = u64::try_from(ms).unwrap_or(DISCORD_EPOCH_MS);
        let id = (ms.saturating_sub(DISCORD_EPOCH_MS) << 22).max(self.last_id + 1);
        self.last_id = id;
        id
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Queues a dispatch for the current gateway session (replayed on RESUME), unless the
    /// session lacks the intent or there is no session. The payload is first checked
    /// against serenity's model so a field the fake forgot fails loudly instead of being
    /// dropped by serenity as an unknown event.
    pub fn dispatch(&mut self, name: &str, d: Value) -> Result<usize, String> {
        if let Err(e) = payloads::check_event(name, &d) {
            let msg = format!("fake built a {name} that serenity 0.12.5 would drop: {e}");
            self.problems.push(msg.clone());
            return Err(msg);
        }
        let needed = required_intent(name, &d);
        let (session_id, seq, dropped) = match &mut self.session {
            None => (
                None,
                None,
                Some("no gateway session yet (nothing to send it on)".to_string()),
            ),
            Some(s) if needed != 0 && s.intents & needed == 0 => (
                Some(s.id.clone()),
                None,
                Some(format!("bot did not request intent bit {needed:#x} needed for {name}")),
            ),
            Some(s) => {
                s.seq += 1;
                (Some(s.id.clone()), Some(s.seq), None)
            }
        };
        self.events.push(DispatchRecord {
            session_id,
            seq,
            name: name.to_string(),
            d,
            delivered: false,
            delivered_at: None,
            connection: None,
            dropped,
            injected: false,
        });
        Ok(self.events.len() - 1)
    }

    /// [`Self::dispatch`] for an event caused by the test (a user action).
    pub fn dispatch_injected(&mut self, name: &str, d: Value) -> Result<usize, String> {
        let i = self.dispatch(name, d)?;
        self.events[i].injected = true;
        Ok(i)
    }

    pub fn user(&self, id: u64) -> Option<&UserRec> {
        self.users.get(&id)
    }

    /// The guild `channel` is in (a thread is in its parent's).
    pub fn guild_of(&self, channel: u64) -> u64 {
        let parent = self.channels.get(&channel).and_then(|c| c.parent_id).unwrap_or(channel);
        self.channel_guilds.get(&parent).copied().unwrap_or(self.guild_id)
    }

    /// Whether the bot is in `guild`.
    pub fn is_guild(&self, guild: u64) -> bool {
        guild == self.guild_id || self.other_guilds.contains_key(&guild)
    }

    /// Permission bits of a member in `guild`. In another guild people hold only its @everyone
    /// role, and the bot the permissions it was invited with, as in this one.
    pub fn member_permissions_in(&self, guild: u64, user_id: u64) -> u64 {
        if guild == self.guild_id || user_id == self.bot_user_id {
            self.member_permissions(user_id)
        } else {
            payloads::DEFAULT_EVERYONE_PERMISSIONS
        }
    }

    /// Permission bits of a member: @everyone plus each role (ADMINISTRATOR grants all).
    pub fn member_permissions(&self, user_id: u64) -> u64 {
        let mut perms = self.roles.get(&self.guild_id).map_or(0, |r| r.permissions);
        if let Some(m) = self.members.get(&user_id) {
            for r in &m.roles {
                perms |= self.roles.get(r).map_or(0, |r| r.permissions);
            }
        }
        if perms & payloads::ADMINISTRATOR != 0 {
            payloads::ALL_PERMISSIONS
        } else {
            perms
        }
    }

    /// Permission bits of a member in a channel, computed as Discord documents it: the base
    /// permissions (@everyone and the member's roles; ADMINISTRATOR grants all), then the
    /// channel's overwrites in order: @everyone's, the member's roles' together, the member's
    /// own. A thread follows its parent's overwrites.
    pub fn permissions_in(&self, channel: u64, user_id: u64) -> u64 {
        let guild = self.guild_of(channel);
        let base = self.member_permissions_in(guild, user_id);
        if base & payloads::ADMINISTRATOR != 0 {
            return payloads::ALL_PERMISSIONS;
        }
        let holder = self.channels.get(&channel).and_then(|c| c.parent_id).unwrap_or(channel);
        let Some(overwrites) = self.channels.get(&holder).map(|c| &c.overwrites) else {
            return base;
        };
        let roles: &[u64] = match self.members.get(&user_id) {
            Some(m) if guild == self.guild_id => &m.roles,
            _ => &[],
        };
        let mut perms = base;
        if let Some(o) = overwrites.iter().find(|o| o.kind == 0 && o.id == guild) {
            perms = (perms & !o.deny) | o.allow;
        }
        let (allow, deny) = overwrites
            .iter()
            .filter(|o| o.kind == 0 && roles.contains(&o.id))
            .fold((0, 0), |(a, d), o| (a | o.allow, d | o.deny));
        perms = (perms & !deny) | allow;
        if let Some(o) = overwrites.iter().find(|o| o.kind == 1 && o.id == user_id) {
            perms = (perms & !o.deny) | o.allow;
        }
        perms
    }

    /// The message JSON Discord would return to the bot (reactions' `me` = bot reacted).
    pub fn message_json(&self, m: &StoredMessage) -> Value {
        payloads::message(self, m)
    }

    /// `Err(403)` unless the bot has `perm` in `channel`, as Discord answers: Missing Access
    /// when it cannot even see the channel (without View Channel nothing else there counts),
    /// Missing Permissions when it sees it but lacks `perm`.
    pub fn require_in(&self, channel: u64, perm: u64) -> Result<(), super::rest::Reply> {
        let has = self.permissions_in(channel, self.bot_user_id);
        if has & super::config::permissions::VIEW_CHANNEL == 0 {
            return Err(super::rest::Reply::error(403, 50001, "Missing Access"));
        }
        if has & perm == perm {
            return Ok(());
        }
        Err(super::rest::Reply::error(403, 50013, "Missing Permissions"))
    }

    pub fn live_message(&self, channel_id: u64, message_id: u64) -> Option<&StoredMessage> {
        self.messages
            .get(&message_id)
            .filter(|m| m.channel_id == channel_id && !m.deleted)
    }
}

/// Now as an RFC 3339 timestamp, the format Discord uses.
pub fn now_timestamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "2026-01-01T00:00:00Z".into())
}
