//! JSON objects as Discord API v10 sends them, built from the fake's state, and checks that
//! serenity 0.12.5 can deserialize them (it silently drops events it cannot parse).

use serde_json::{Map, Value, json};
use serenity::model::prelude::*;

use super::state::{ChannelRec, RoleRec, State, StoredMessage};

pub const ADMINISTRATOR: u64 = 1 << 3;
pub const ALL_PERMISSIONS: u64 = (1 << 51) - 1;
/// @everyone in a new guild: view, send, react, read history, embed, attach, threads,
/// external emoji, use application commands, voice basics.
pub const DEFAULT_EVERYONE_PERMISSIONS: u64 = 1
    | (1 << 6)
    | (1 << 10)
    | (1 << 11)
    | (1 << 14)
    | (1 << 15)
    | (1 << 16)
    | (1 << 18)
    | (1 << 20)
    | (1 << 21)
    | (1 << 26)
    | (1 << 31)
    | (1 << 35)
    | (1 << 38);
/// `attachment_size_limit` for a guild without boosts (10 MiB).
pub const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

pub fn id(v: u64) -> Value {
    Value::String(v.to_string())
}

pub fn user(st: &State, user_id: u64) -> Value {
    let (name, bot) = st
        .user(user_id)
        .map_or((format!("user{user_id}"), false), |u| (u.name.clone(), u.bot));
    json!({
        "id": id(user_id), "username": name, "global_name": if bot { Value::Null } else { json!(name) },
        "discriminator": "0", "avatar": null, "bot": bot, "public_flags": 0,
        "avatar_decoration_data": null, "banner": null, "accent_color": null,
    })
}

pub fn role(st: &State, r: &RoleRec) -> Value {
    let managed = r.id == st.bot_role_id;
    let tags = if managed {
        json!({"bot_id": id(st.bot_user_id)})
    } else {
        json!({})
    };
    json!({
        "id": id(r.id), "name": r.name, "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false, "icon": null, "unicode_emoji": null, "position": r.position,
        "permissions": r.permissions.to_string(), "managed": managed,
        "mentionable": false, "flags": 0, "tags": tags,
    })
}

/// A guild member object with its `user`; `permissions` only in interaction payloads.
pub fn member(st: &State, user_id: u64, with_permissions: bool) -> Value {
    member_in(st, st.guild_id, user_id, with_permissions)
}

/// [`member`] in `guild`: in another guild than the main one a member holds none of the main
/// guild's roles (roles belong to one guild).
pub fn member_in(st: &State, guild: u64, user_id: u64, with_permissions: bool) -> Value {
    let m = st.members.get(&user_id);
    let roles: Vec<Value> = match m {
        Some(m) if guild == st.guild_id => m.roles.iter().map(|r| id(*r)).collect(),
        _ => vec![],
    };
    let mut v = json!({
        "user": user(st, user_id),
        "nick": null, "avatar": null, "banner": null,
        "roles": roles,
        "joined_at": m.map_or_else(super::state::now_timestamp, |m| m.joined_at.clone()),
        "premium_since": null, "deaf": false, "mute": false, "flags": 0, "pending": false,
        "communication_disabled_until": null,
    });
    if with_permissions {
        v["permissions"] = json!(st.member_permissions_in(guild, user_id).to_string());
    }
    v
}

pub fn channel(st: &State, c: &ChannelRec) -> Value {
    let mut v = json!({
        "id": id(c.id), "type": c.kind, "guild_id": id(st.guild_of(c.id)), "name": c.name,
        "position": c.position, "permission_overwrites": overwrites(&c.overwrites), "nsfw": false, "topic": null,
        "last_message_id": null, "parent_id": c.parent_id.map(id), "rate_limit_per_user": 0,
        "flags": 0,
    });
    if c.kind == 11 {
        v["owner_id"] = json!(c.owner_id.map(id));
        v["message_count"] = json!(0);
        v["member_count"] = json!(1);
        v["total_message_sent"] = json!(0);
        v["thread_metadata"] = json!({
            "archived": false, "auto_archive_duration": 1440, "locked": false,
            "archive_timestamp": super::state::now_timestamp(),
            "create_timestamp": super::state::now_timestamp(),
        });
    }
    v
}

/// Permission overwrites as Discord writes them: bit sets as strings, `type` 0 role, 1 member.
fn overwrites(overwrites: &[super::state::OverwriteRec]) -> Value {
    overwrites
        .iter()
        .map(|o| json!({"id": id(o.id), "type": o.kind, "allow": o.allow.to_string(), "deny": o.deny.to_string()}))
        .collect()
}

/// The `channel` field of an interaction (a partial channel with the bot's permissions).
pub fn partial_channel(st: &State, channel_id: u64) -> Value {
    let c = st.channels.get(&channel_id);
    let guild = st.guild_of(channel_id);
    json!({
        "id": id(channel_id), "type": c.map_or(0, |c| c.kind),
        "name": c.map(|c| c.name.clone()), "guild_id": id(guild),
        "parent_id": c.and_then(|c| c.parent_id).map(id), "nsfw": false, "flags": 0,
        "permissions": st.permissions_in(channel_id, st.bot_user_id).to_string(),
    })
}

pub fn ready(st: &State, session_id: &str, shard: &Value) -> Value {
    json!({
        "v": 10, "user": {
            "id": id(st.bot_user_id), "username": "cvmbot", "global_name": null,
            "discriminator": "0", "avatar": null, "bot": true, "verified": true,
            "mfa_enabled": false, "email": null, "flags": 0,
        },
        "guilds": std::iter::once(&st.guild_id)
            .chain(st.other_guilds.keys())
            .map(|g| json!({"id": id(*g), "unavailable": true}))
            .collect::<Vec<_>>(),
        "session_id": session_id, "session_type": "normal",
        "resume_gateway_url": st.gateway_url, "shard": shard,
        "application": {"id": id(st.application_id), "flags": 1 << 23},
        "private_channels": [], "relationships": [], "presences": [],
        "guild_join_requests": [], "geo_ordered_rtc_regions": ["hongkong"], "user_settings": {},
        "_trace": ["[\"fake-discord\",{\"micros\":0}]"],
    })
}

/// The roles of `guild`: the main guild's, or only @everyone in another.
pub fn guild_roles(st: &State, guild: u64) -> Vec<Value> {
    if guild == st.guild_id {
        return st.roles.values().map(|r| role(st, r)).collect();
    }
    let everyone = RoleRec {
        id: guild,
        name: "@everyone".into(),
        permissions: DEFAULT_EVERYONE_PERMISSIONS,
        position: 0,
    };
    vec![role(st, &everyone)]
}

/// GUILD_CREATE of `guild`: the main guild with its roles, or another with only @everyone.
pub fn guild_create(st: &State, guild: u64) -> Value {
    let here = |c: &&ChannelRec| c.kind != super::rest_dms::DM && st.guild_of(c.id) == guild;
    let channels: Vec<Value> = st
        .channels
        .values()
        .filter(here)
        .filter(|c| c.kind != 11)
        .map(|c| channel(st, c))
        .collect();
    let threads: Vec<Value> = st
        .channels
        .values()
        .filter(here)
        .filter(|c| c.kind == 11)
        .map(|c| channel(st, c))
        .collect();
    let (name, system_channel) = if guild == st.guild_id {
        ("CVM Team".to_owned(), st.default_channel_id)
    } else {
        let first = st
            .channel_guilds
            .iter()
            .find(|(_, g)| **g == guild)
            .map_or(0, |(c, _)| *c);
        (st.other_guilds[&guild].clone(), first)
    };
    let roles = guild_roles(st, guild);
    let mut g = json!({
        "id": id(guild), "name": name, "icon": null, "icon_hash": null,
        "splash": null, "discovery_splash": null, "owner_id": id(owner_id(st)),
        "afk_channel_id": null, "afk_timeout": 300, "widget_enabled": false,
        "widget_channel_id": null, "verification_level": 1,
        "default_message_notifications": 1, "explicit_content_filter": 2,
        "roles": roles,
        "emojis": [], "stickers": [], "features": [], "mfa_level": 0, "application_id": null,
        "system_channel_id": id(system_channel), "system_channel_flags": 0,
        "rules_channel_id": null, "max_presences": null, "max_members": 500_000,
        "vanity_url_code": null, "description": null, "banner": null, "premium_tier": 0,
        "premium_subscription_count": 0, "preferred_locale": "en-US",
    });
    // GUILD_CREATE's extra fields (json! recursion depth forces a second object).
    let extra = json!({
        "public_updates_channel_id": null, "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50, "nsfw_level": 0, "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null, "incidents_data": null,
        "joined_at": st.members.get(&st.bot_user_id).map(|m| m.joined_at.clone()),
        "large": false, "unavailable": false, "member_count": st.members.len(),
        "voice_states": [],
        "members": st.members.keys().map(|u| member_in(st, guild, *u, false)).collect::<Vec<_>>(),
        "channels": channels, "threads": threads, "presences": [], "stage_instances": [],
        "guild_scheduled_events": [], "soundboard_sounds": [],
    });
    if let (Some(g), Value::Object(extra)) = (g.as_object_mut(), extra) {
        g.extend(extra);
    }
    g
}

/// The first non-bot member owns the guild (so the bot never looks like an owner).
fn owner_id(st: &State) -> u64 {
    st.users.values().find(|u| !u.bot).map_or(1, |u| u.id)
}

/// `emoji` object from a reaction key (`name` or `name:id`).
pub fn emoji(key: &str) -> Value {
    match key.rsplit_once(':') {
        Some((name, eid)) if eid.chars().all(|c| c.is_ascii_digit()) => {
            json!({"id": eid, "name": name, "animated": false})
        }
        _ => json!({"id": null, "name": key}),
    }
}

pub fn message(st: &State, m: &StoredMessage) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), id(m.id));
    v.insert("channel_id".into(), id(m.channel_id));
    v.insert("author".into(), user(st, m.author_id));
    for (k, def) in [
        ("content", json!("")),
        ("tts", json!(false)),
        ("embeds", json!([])),
        ("components", json!([])),
        ("attachments", json!([])),
        ("flags", json!(0)),
        ("type", json!(0)),
    ] {
        v.insert(k.into(), m.fields.get(k).cloned().unwrap_or(def));
    }
    for (k, val) in &m.fields {
        v.entry(k.clone()).or_insert_with(|| val.clone());
    }
    v.insert("timestamp".into(), json!(m.timestamp));
    v.insert("edited_timestamp".into(), json!(m.edited_timestamp));
    v.insert("mention_everyone".into(), json!(false));
    v.insert("mentions".into(), json!([]));
    v.insert("mention_roles".into(), json!([]));
    v.insert("pinned".into(), json!(false));
    let reactions: Vec<Value> = m
        .reactions
        .iter()
        .filter(|r| !r.users.is_empty())
        .map(|r| {
            json!({
                "emoji": emoji(&r.key), "count": r.users.len(),
                "count_details": {"burst": 0, "normal": r.users.len()},
                "me": r.users.contains(&st.bot_user_id), "me_burst": false, "burst_colors": [],
            })
        })
        .collect();
    if !reactions.is_empty() {
        v.insert("reactions".into(), json!(reactions));
    }
    Value::Object(v)
}

/// MESSAGE_CREATE / MESSAGE_UPDATE payload: the message plus `guild_id` and `member` (not in DMs).
pub fn message_event(st: &State, m: &StoredMessage) -> Value {
    let mut v = message(st, m);
    if st.dms.recipients.contains_key(&m.channel_id) {
        return v;
    }
    let guild = st.guild_of(m.channel_id);
    v["guild_id"] = id(guild);
    let mut member = member_in(st, guild, m.author_id, false);
    if let Some(o) = member.as_object_mut() {
        o.remove("user");
    }
    v["member"] = member;
    v
}

/// Fields shared by every INTERACTION_CREATE in the guild. The member's and the app's
/// permissions are theirs in the channel, overwrites included, as Discord sends them.
pub fn interaction_base(st: &State, kind: u8, iid: u64, token: &str, user_id: u64, ch: u64) -> Value {
    let guild = st.guild_of(ch);
    let mut member = member_in(st, guild, user_id, false);
    member["permissions"] = json!(st.permissions_in(ch, user_id).to_string());
    json!({
        "id": id(iid), "application_id": id(st.application_id), "type": kind, "token": token,
        "version": 1, "guild_id": id(guild), "channel_id": id(ch),
        "channel": partial_channel(st, ch), "member": member,
        "app_permissions": st.permissions_in(ch, st.bot_user_id).to_string(),
        "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
        "authorizing_integration_owners": {"0": id(guild)}, "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    })
}

/// MESSAGE_REACTION_ADD (with `member`) or MESSAGE_REACTION_REMOVE (without).
pub fn reaction_event(st: &State, add: bool, user_id: u64, m: &StoredMessage, key: &str) -> Value {
    let guild = st.guild_of(m.channel_id);
    let mut v = json!({
        "user_id": id(user_id), "channel_id": id(m.channel_id), "message_id": id(m.id),
        "guild_id": id(guild), "emoji": emoji(key), "burst": false, "type": 0,
    });
    if add {
        v["member"] = member_in(st, guild, user_id, false);
        v["message_author_id"] = id(m.author_id);
        v["burst_colors"] = json!([]);
    }
    v
}

/// Checks a dispatch against serenity's `Event` model: it must parse into the named event,
/// not into `Event::Unknown` (which serenity logs at DEBUG and never hands to a handler).
pub fn check_event(name: &str, d: &Value) -> Result<(), String> {
    let ev = json!({"t": name, "d": d});
    match serde_json::from_value::<serenity::model::event::Event>(ev) {
        Ok(serenity::model::event::Event::Unknown(_)) => {
            // Reproduce the real error by parsing the payload type directly where we can.
            Err(direct_error(name, d).unwrap_or_else(|| "parsed as Event::Unknown".into()))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn direct_error(name: &str, d: &Value) -> Option<String> {
    fn err<T: serde::de::DeserializeOwned>(d: &Value) -> Option<String> {
        serde_json::from_value::<T>(d.clone()).err().map(|e| e.to_string())
    }
    match name {
        "READY" => err::<Ready>(d),
        "GUILD_CREATE" => err::<Guild>(d),
        "INTERACTION_CREATE" => err::<Interaction>(d),
        "MESSAGE_CREATE" => err::<Message>(d),
        "MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE" => err::<Reaction>(d),
        "THREAD_CREATE" | "CHANNEL_CREATE" => err::<GuildChannel>(d),
        "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_ADD" => err::<Member>(d),
        _ => None,
    }
}

/// Checks that a REST response body parses as the serenity type the bot will read it as.
pub fn check_as<T: serde::de::DeserializeOwned>(what: &str, v: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(v.clone())
        .map(|_| ())
        .map_err(|e| format!("fake built a {what} serenity 0.12.5 cannot parse: {e}: {v}"))
}
