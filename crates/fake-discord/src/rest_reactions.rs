//! REST routes for reactions (add/remove own, remove a user's, list with paging) and
//! threads created from messages, with the permission checks Discord applies to them.

use serde_json::{Value, json};
use serenity::model::prelude::*;

use super::config::permissions as perm;
use super::payloads::{self, id};
use super::rest::{Ctx, Reply};
use super::rest_guild::checked;
use super::rest_messages::visible_message;
use super::state::{ChannelRec, ReactionRec, State, now_timestamp};
use super::validate;

/// Validates a reaction emoji from the path: unicode, or `name:id` for custom emoji.
fn emoji_key(raw: &str) -> Result<String, Reply> {
    let custom = raw
        .rsplit_once(':')
        .is_some_and(|(_, i)| !i.is_empty() && i.chars().all(|c| c.is_ascii_digit()));
    if raw.is_empty() || (!custom && raw.is_ascii()) {
        return Err(Reply::error(400, 10014, "Unknown Emoji"));
    }
    Ok(raw.to_string())
}

/// Adds `user_id`'s reaction; returns whether it is new. Discord allows 20 distinct emoji.
pub fn add_reaction(st: &mut State, msg_id: u64, key: &str, user_id: u64) -> Result<bool, Reply> {
    let m = st
        .messages
        .get_mut(&msg_id)
        .ok_or_else(|| Reply::error(404, 10008, "Unknown Message"))?;
    if let Some(r) = m.reactions.iter_mut().find(|r| r.key == key) {
        if r.users.contains(&user_id) {
            return Ok(false);
        }
        r.users.push(user_id);
        return Ok(true);
    }
    if m.reactions.iter().filter(|r| !r.users.is_empty()).count() >= 20 {
        return Err(Reply::error(400, 30010, "Maximum number of reactions reached (20)"));
    }
    m.reactions.push(ReactionRec {
        key: key.to_string(),
        users: vec![user_id],
    });
    Ok(true)
}

/// Removes `user_id`'s reaction; returns whether there was one.
pub fn remove_reaction(st: &mut State, msg_id: u64, key: &str, user_id: u64) -> bool {
    let Some(m) = st.messages.get_mut(&msg_id) else {
        return false;
    };
    let Some(r) = m.reactions.iter_mut().find(|r| r.key == key) else {
        return false;
    };
    let before = r.users.len();
    r.users.retain(|u| *u != user_id);
    before != r.users.len()
}

pub fn reaction_dispatch(st: &mut State, add: bool, msg_id: u64, key: &str, user_id: u64) {
    if let Some(m) = st.messages.get(&msg_id) {
        let d = payloads::reaction_event(st, add, user_id, m, key);
        let name = if add {
            "MESSAGE_REACTION_ADD"
        } else {
            "MESSAGE_REACTION_REMOVE"
        };
        let _ = st.dispatch(name, d);
    }
}

pub fn add_own_reaction(st: &mut State, ctx: &Ctx) -> Reply {
    let (msg_id, key) = match visible_message(st, ctx).and_then(|m| Ok((m, emoji_key(ctx.param(2))?))) {
        Ok(v) => v,
        Err(r) => return r,
    };
    // A new emoji needs ADD_REACTIONS; joining an existing reaction only needs history.
    let exists = st.messages[&msg_id]
        .reactions
        .iter()
        .any(|r| r.key == key && !r.users.is_empty());
    let needed = if exists { 0 } else { perm::ADD_REACTIONS };
    if let Err(r) = st.require_in(ctx.id(0), needed | perm::READ_MESSAGE_HISTORY) {
        return r;
    }
    let bot = st.bot_user_id;
    match add_reaction(st, msg_id, &key, bot) {
        Ok(true) => reaction_dispatch(st, true, msg_id, &key, bot),
        Ok(false) => {}
        Err(r) => return r,
    }
    Reply::no_content()
}

fn remove_and_dispatch(st: &mut State, ctx: &Ctx, user_id: u64) -> Reply {
    let (msg_id, key) = match visible_message(st, ctx).and_then(|m| Ok((m, emoji_key(ctx.param(2))?))) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if remove_reaction(st, msg_id, &key, user_id) {
        reaction_dispatch(st, false, msg_id, &key, user_id);
    }
    Reply::no_content()
}

pub fn delete_own_reaction(st: &mut State, ctx: &Ctx) -> Reply {
    let bot = st.bot_user_id;
    remove_and_dispatch(st, ctx, bot)
}

/// Removing someone else's reaction (needs MANAGE_MESSAGES; the fake's bot has it).
pub fn delete_user_reaction(st: &mut State, ctx: &Ctx) -> Reply {
    let user = ctx.id(3);
    if user != st.bot_user_id
        && let Err(r) = st.require_in(ctx.id(0), perm::MANAGE_MESSAGES)
    {
        return r;
    }
    remove_and_dispatch(st, ctx, user)
}

/// Users who reacted, ordered by user id, paged with `after` and `limit` (1–100, default 25).
pub fn get_reactions(st: &mut State, ctx: &Ctx) -> Reply {
    let (msg_id, key) = match visible_message(st, ctx).and_then(|m| Ok((m, emoji_key(ctx.param(2))?))) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let limit: usize = ctx
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let after: u64 = ctx.query("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let mut users: Vec<u64> = st.messages[&msg_id]
        .reactions
        .iter()
        .find(|r| r.key == key)
        .map_or(vec![], |r| r.users.clone());
    users.sort_unstable();
    let v: Vec<Value> = users
        .into_iter()
        .filter(|u| *u > after)
        .take(limit)
        .map(|u| payloads::user(st, u))
        .collect();
    checked::<Vec<User>>(st, "reaction users", json!(v))
}

/// A public thread from a message; the thread's id is the message's id, as on Discord.
pub fn create_thread(st: &mut State, ctx: &Ctx) -> Reply {
    let msg_id = match visible_message(st, ctx) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Err(r) = st.require_in(ctx.id(0), perm::CREATE_PUBLIC_THREADS) {
        return r;
    }
    if st.channels.contains_key(&msg_id) {
        return Reply::error(400, 160004, "A thread has already been created for this message");
    }
    let name = ctx
        .body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !(1..=100).contains(&name.chars().count()) {
        return Reply::form(validate::FormError {
            path: "name".into(),
            code: "BASE_TYPE_BAD_LENGTH",
            message: "Must be between 1 and 100 in length.".into(),
        });
    }
    let c = ChannelRec {
        id: msg_id,
        name,
        kind: 11,
        parent_id: Some(ctx.id(0)),
        owner_id: Some(st.bot_user_id),
        position: 0,
        overwrites: Vec::new(),
    };
    let mut v = payloads::channel(st, &c);
    st.channels.insert(msg_id, c);
    let mut event = v.clone();
    event["newly_created"] = json!(true);
    let _ = st.dispatch("THREAD_CREATE", event);
    v["member"] = json!({"id": id(msg_id), "user_id": id(st.bot_user_id),
        "join_timestamp": now_timestamp(), "flags": 0});
    let mut r = checked::<GuildChannel>(st, "thread", v);
    r.status = 201;
    r
}
