//! A fake Discord (REST API v10 + gateway) on 127.0.0.1 that an unmodified serenity 0.12.5
//! client can be driven against.
//!
//! ```ignore
//! let fake = FakeDiscord::start().await;
//! let http = HttpBuilder::new(fake.token()).proxy(fake.rest_url()).ratelimiter_disabled(true).build();
//! let client = ClientBuilder::new_with_http(http, intents).event_handler(bot).await?;
//! fake.wait_until_ready(WAIT).await;
//! fake.add_member(1001, "alice", &[]);
//! let h = fake.slash_command(1001, fake.default_channel_id(), "cvm buy", &[("zone", json!("ap-guangzhou-3"))]);
//! let out = fake.interaction_response(&h, WAIT).await;
//! ```
//!
//! Payloads it sends are checked against serenity's own model before they go out (a field
//! the fake forgot would otherwise make serenity drop the event silently). Anything the bot
//! does that real Discord would refuse or that the fake does not know is answered like
//! Discord would and also listed in [`FakeDiscord::problems`].

mod actions;
mod config;
mod gateway;
mod inject;
mod inject_command;
pub mod multipart;
mod payloads;
mod rest;
mod rest_commands;
mod rest_dms;
mod rest_guild;
mod rest_interactions;
mod rest_messages;
mod rest_reactions;
mod routes;
mod state;
mod validate;
pub use validate::{MAX_COMMAND_SIZE, combined_size};
mod views;
mod wait;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{FakeConfig, Overwrite, intents, permissions};
pub use inject::{DispatchHandle, InteractionHandle};
pub use state::{DispatchRecord, RecordedRequest};
pub use views::{InteractionOutcome, MessageView};

use state::{Fault, MemberRec, RoleRec, State};

fn role_event(st: &State, role: u64) -> Value {
    let role = payloads::role(st, &st.roles[&role]);
    json!({"guild_id": payloads::id(st.guild_id), "role": role})
}

/// A generous default for waits: long enough for a loaded 2-core CI machine.
pub const WAIT: Duration = Duration::from_secs(10);

/// State shared by the REST server, the gateway and the test. Every mutation bumps a
/// version on a watch channel so waiters wake up without polling.
pub struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl Shared {
    /// Mutates the state and wakes every waiter.
    pub fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let r = f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.changed.send_modify(|v| *v += 1);
        r
    }

    /// Reads the state without waking anyone.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The fake: a REST listener and a gateway listener on 127.0.0.1 (random ports). Dropping
/// it stops both.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl FakeDiscord {
    /// Starts with [`FakeConfig::default`] (3 s interaction deadline, 41.25 s heartbeat).
    pub async fn start() -> Self {
        Self::start_with(FakeConfig::default()).await
    }

    /// Starts with explicit settings (token, heartbeat, deadlines, privileged intents).
    pub async fn start_with(cfg: FakeConfig) -> Self {
        let bind = || tokio::net::TcpListener::bind(("127.0.0.1", 0));
        let rest = bind().await.expect("bind fake REST listener on 127.0.0.1");
        let ws = bind().await.expect("bind fake gateway listener on 127.0.0.1");
        let rest_url = format!("http://{}", rest.local_addr().expect("REST local addr"));
        let ws_url = format!("ws://{}", ws.local_addr().expect("gateway local addr"));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(cfg, rest_url, ws_url)),
            changed: watch::channel(0).0,
        });
        let tasks = vec![
            tokio::spawn(rest::serve(rest, shared.clone())),
            tokio::spawn(gateway::serve(ws, shared.clone())),
        ];
        Self { shared, tasks }
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// `http://127.0.0.1:PORT`, for `HttpBuilder::proxy` (with `ratelimiter_disabled(true)`).
    pub fn rest_url(&self) -> String {
        self.shared.read(|st| st.rest_url.clone())
    }

    /// `ws://127.0.0.1:PORT`, also returned by `GET /gateway`.
    pub fn gateway_url(&self) -> String {
        self.shared.read(|st| st.gateway_url.clone())
    }

    /// The token the fake accepts (without the `Bot ` prefix).
    pub fn token(&self) -> String {
        self.shared.read(|st| st.cfg.token.clone())
    }

    /// The application id (READY `application.id`; commands are registered under it).
    pub fn application_id(&self) -> u64 {
        self.shared.read(|st| st.application_id)
    }

    /// The bot's user id (equal to the application id, as for modern Discord apps).
    pub fn bot_user_id(&self) -> u64 {
        self.shared.read(|st| st.bot_user_id)
    }

    /// The guild the bot is in and the tests' people and roles are in (its @everyone role has
    /// this id too); see [`Self::add_other_guild`] for another.
    pub fn guild_id(&self) -> u64 {
        self.shared.read(|st| st.guild_id)
    }

    /// The `#general` text channel that exists from the start.
    pub fn default_channel_id(&self) -> u64 {
        self.shared.read(|st| st.default_channel_id)
    }

    /// A serenity `Http` wired to this fake (proxy, ratelimiter off, application id set).
    pub fn serenity_http(&self) -> serenity::http::Http {
        serenity::http::HttpBuilder::new(self.token())
            .proxy(self.rest_url())
            .ratelimiter_disabled(true)
            .application_id(self.application_id().into())
            .build()
    }

    /// Creates a role (`permissions` is Discord's bit set, e.g. 0) and returns its id.
    pub fn add_role(&self, name: &str, permissions: u64) -> u64 {
        self.shared.with(|st| {
            let id = st.snowflake();
            let position = u16::try_from(st.roles.len()).unwrap_or(u16::MAX);
            st.roles.insert(
                id,
                RoleRec {
                    id,
                    name: name.into(),
                    permissions,
                    position,
                },
            );
            let _ = st.dispatch("GUILD_ROLE_CREATE", role_event(st, id));
            id
        })
    }

    /// Changes a role's permissions (the guild id is @everyone's role id) and dispatches
    /// GUILD_ROLE_UPDATE. The bot's permissions are @everyone's plus its managed role's.
    pub fn set_role_permissions(&self, role: u64, permissions: u64) {
        self.shared.with(|st| {
            let r = st.roles.get_mut(&role).unwrap_or_else(|| panic!("no role {role}"));
            r.permissions = permissions;
            let _ = st.dispatch("GUILD_ROLE_UPDATE", role_event(st, role));
        });
    }

    /// A role's permission bits (the guild id is @everyone's role).
    pub fn role_permissions(&self, role: u64) -> u64 {
        self.shared
            .read(|st| st.roles.get(&role).map(|r| r.permissions))
            .unwrap_or_else(|| panic!("no role {role}"))
    }

    /// The id of the role named `name`, if it exists.
    pub fn role_id(&self, name: &str) -> Option<u64> {
        self.shared
            .read(|st| st.roles.values().find(|r| r.name == name).map(|r| r.id))
    }

    /// Adds a user to the guild with the given role ids (see [`Self::add_role`]).
    pub fn add_member(&self, user_id: u64, name: &str, roles: &[u64]) {
        self.shared.with(|st| {
            if let Some(r) = roles.iter().find(|r| !st.roles.contains_key(r)) {
                panic!("add_member({user_id}): role {r} does not exist; create it with add_role");
            }
            st.users.insert(
                user_id,
                state::UserRec {
                    id: user_id,
                    name: name.into(),
                    bot: false,
                },
            );
            let joined_at = state::now_timestamp();
            st.members.insert(
                user_id,
                MemberRec {
                    user_id,
                    roles: roles.to_vec(),
                    joined_at,
                },
            );
            let mut d = payloads::member(st, user_id, false);
            d["guild_id"] = payloads::id(st.guild_id);
            let _ = st.dispatch("GUILD_MEMBER_ADD", d);
        });
    }

    /// Replaces a member's roles and dispatches GUILD_MEMBER_UPDATE (GUILD_MEMBERS intent).
    pub fn set_member_roles(&self, user_id: u64, roles: &[u64]) {
        self.shared.with(|st| {
            let m = st
                .members
                .get_mut(&user_id)
                .unwrap_or_else(|| panic!("user {user_id} is not a member"));
            m.roles = roles.to_vec();
            let mut d = payloads::member(st, user_id, false);
            d["guild_id"] = payloads::id(st.guild_id);
            let _ = st.dispatch("GUILD_MEMBER_UPDATE", d);
        });
    }

    /// Adds a text channel and returns its id (CHANNEL_CREATE with the GUILDS intent).
    pub fn add_channel(&self, name: &str) -> u64 {
        self.shared.with(|st| {
            let id = st.snowflake();
            let position = u16::try_from(st.channels.len()).unwrap_or(u16::MAX);
            let c = state::ChannelRec {
                id,
                name: name.into(),
                kind: 0,
                parent_id: None,
                owner_id: None,
                position,
                overwrites: Vec::new(),
            };
            let _ = st.dispatch("CHANNEL_CREATE", payloads::channel(st, &c));
            st.channels.insert(id, c);
            id
        })
    }

    /// Sets `channel`'s permission overwrite for `target` (a role's id, the guild's id for
    /// @everyone, or a member's id) and dispatches CHANNEL_UPDATE; `allow` and `deny` both 0
    /// removes it. The bot's permissions there follow Discord's rules, on every route.
    pub fn set_permission_overwrite(&self, channel: u64, target: Overwrite, allow: u64, deny: u64) {
        self.shared.with(|st| {
            let (id, kind) = match target {
                Overwrite::Role(id) => (id, 0),
                Overwrite::Member(id) => (id, 1),
            };
            let c = st
                .channels
                .get_mut(&channel)
                .unwrap_or_else(|| panic!("no channel {channel}"));
            c.overwrites.retain(|o| o.id != id);
            if allow != 0 || deny != 0 {
                c.overwrites.push(state::OverwriteRec { id, kind, allow, deny });
            }
            let v = payloads::channel(st, &st.channels[&channel]);
            let _ = st.dispatch("CHANNEL_UPDATE", v);
        });
    }

    /// Another server the bot is in, with one text channel (`#general`); returns the guild's id
    /// and the channel's. Everyone added with [`Self::add_member`] is a member there too, holding
    /// none of this guild's roles (roles belong to one server; that one has only @everyone). The
    /// bot joins it now, as when invited: GUILD_CREATE is dispatched, and so at every READY.
    pub fn add_other_guild(&self, name: &str) -> (u64, u64) {
        self.shared.with(|st| {
            let (guild, channel) = (st.snowflake(), st.snowflake());
            st.other_guilds.insert(guild, name.into());
            st.channel_guilds.insert(channel, guild);
            let c = state::ChannelRec {
                id: channel,
                name: "general".into(),
                kind: 0,
                parent_id: None,
                owner_id: None,
                position: 0,
                overwrites: Vec::new(),
            };
            st.channels.insert(channel, c);
            let _ = st.dispatch("GUILD_CREATE", payloads::guild_create(st, guild));
            (guild, channel)
        })
    }

    /// Changes the first-callback deadline for interactions created from now on and
    /// pending ones (Discord: 3 s). Lets a test check the rule without waiting 3 s.
    pub fn set_interaction_deadline(&self, d: Duration) {
        self.shared.with(|st| st.cfg.interaction_deadline = d);
    }

    /// Changes how long interaction tokens work for followups (Discord: 15 min).
    pub fn set_interaction_token_lifetime(&self, d: Duration) {
        self.shared.with(|st| st.cfg.interaction_token_lifetime = d);
    }

    /// The next request on `route` (as logged, e.g. `POST /channels/{channel}/messages`)
    /// gets `status` with a Discord-shaped error body (429 gets `retry_after`).
    pub fn fail_next(&self, route: &str, status: u16) {
        let body = if status == 429 {
            json!({"message": "You are being rate limited.", "retry_after": 1.0, "global": false, "code": 0})
        } else {
            json!({"message": format!("{status}: injected by the test"), "code": 0})
        };
        self.fail_next_with(route, status, body);
    }

    /// Like [`Self::fail_next`] with an explicit JSON body.
    pub fn fail_next_with(&self, route: &str, status: u16, body: Value) {
        let known = routes::ROUTES
            .iter()
            .any(|(m, t, ..)| routes::route_name(m, t) == route);
        assert!(
            known,
            "fail_next: {route:?} is not a route of the fake; see routes::ROUTES"
        );
        self.shared.with(|st| {
            st.faults.push(Fault {
                route: route.into(),
                status,
                body,
            })
        });
    }
}
