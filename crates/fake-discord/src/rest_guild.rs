//! REST routes about the bot itself and the guild: gateway URL, current user and
//! application, members, roles, channels.

use serde_json::{Value, json};
use serenity::model::prelude::*;

use super::config::permissions::VIEW_CHANNEL;
use super::payloads::{self, check_as, id};
use super::rest::{Ctx, Reply};
use super::state::State;

pub fn gateway(st: &mut State, _: &Ctx) -> Reply {
    Reply::json(200, json!({"url": st.gateway_url}))
}

pub fn gateway_bot(st: &mut State, _: &Ctx) -> Reply {
    Reply::json(
        200,
        json!({
            "url": st.gateway_url, "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        }),
    )
}

pub fn current_user(st: &mut State, _: &Ctx) -> Reply {
    let mut u = payloads::user(st, st.bot_user_id);
    u["verified"] = json!(true);
    u["mfa_enabled"] = json!(false);
    u["flags"] = json!(0);
    checked::<CurrentUser>(st, "current user", u)
}

pub fn get_user(st: &mut State, ctx: &Ctx) -> Reply {
    match st.user(ctx.id(0)) {
        Some(u) => Reply::json(200, payloads::user(st, u.id)),
        None => Reply::error(404, 10013, "Unknown User"),
    }
}

pub fn current_application(st: &mut State, _: &Ctx) -> Reply {
    let v = json!({
        "id": id(st.application_id), "name": "cvmbot", "icon": null, "description": "",
        "summary": "", "type": null, "bot_public": false, "bot_require_code_grant": false,
        "verify_key": "0".repeat(64), "flags": 1 << 23, "team": null, "hook": true,
        "owner": payloads::user(st, st.users.values().find(|u| !u.bot).map_or(1, |u| u.id)),
        "bot": payloads::user(st, st.bot_user_id), "redirect_uris": [],
        "interactions_endpoint_url": null, "approximate_guild_count": 1,
    });
    checked::<CurrentApplicationInfo>(st, "application", v)
}

pub fn get_member(st: &mut State, ctx: &Ctx) -> Reply {
    if !st.is_guild(ctx.id(0)) {
        return Reply::error(404, 10004, "Unknown Guild");
    }
    if !st.members.contains_key(&ctx.id(1)) {
        return Reply::error(404, 10007, "Unknown Member");
    }
    let v = payloads::member_in(st, ctx.id(0), ctx.id(1), false);
    checked::<Member>(st, "member", v)
}

pub fn get_roles(st: &mut State, ctx: &Ctx) -> Reply {
    let guild = ctx.id(0);
    if !st.is_guild(guild) {
        return Reply::error(404, 10004, "Unknown Guild");
    }
    Reply::json(200, json!(payloads::guild_roles(st, guild)))
}

pub fn get_channel(st: &mut State, ctx: &Ctx) -> Reply {
    if let Some(recipient) = st.dms.recipients.get(&ctx.id(0)) {
        let v = super::rest_dms::dm_json(st, ctx.id(0), *recipient);
        return checked::<PrivateChannel>(st, "DM channel", v);
    }
    match st.channels.get(&ctx.id(0)) {
        Some(_) if st.permissions_in(ctx.id(0), st.bot_user_id) & VIEW_CHANNEL == 0 => {
            Reply::error(403, 50001, "Missing Access")
        }
        Some(c) => {
            let v = payloads::channel(st, c);
            checked::<GuildChannel>(st, "channel", v)
        }
        None => Reply::error(404, 10003, "Unknown Channel"),
    }
}

/// Returns `v` with 200 after checking serenity can parse it as `T` (a problem otherwise).
pub fn checked<T: serde::de::DeserializeOwned>(st: &mut State, what: &str, v: Value) -> Reply {
    if let Err(e) = check_as::<T>(what, &v) {
        st.problems.push(e);
    }
    Reply::json(200, v)
}
