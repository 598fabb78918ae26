//! REST routes for channel messages: create (with enforce_nonce), get, list, edit with
//! history, delete; plus the message helpers interaction routes share.

use serde_json::{Map, Value, json};
use serenity::model::prelude::*;

use super::config::permissions as perm;
use super::multipart::FilePart;
use super::payloads::{self, id};
use super::rest::{Ctx, Reply};
use super::rest_guild::checked;
use super::state::{State, StoredMessage, now_timestamp};
use super::validate;

/// Message fields a bot may set on create/edit; the rest of the body is ignored.
const MESSAGE_FIELDS: &[&str] = &["content", "tts", "embeds", "components", "flags", "nonce", "poll"];
/// Flags a bot may set or clear on any message: SUPPRESS_EMBEDS, SUPPRESS_NOTIFICATIONS.
/// EPHEMERAL is fixed when an interaction response is created; LOADING (128) is Discord's.
const SETTABLE_FLAGS: u64 = 4 | 4096;
pub const EPHEMERAL: u64 = 64;
pub const LOADING: u64 = 128;

/// The stored message as the bot gets it back, checked against serenity's `Message`.
pub fn message_reply(st: &mut State, msg_id: u64, status: u16) -> Reply {
    let v = st
        .messages
        .get(&msg_id)
        .map(|m| st.message_json(m))
        .unwrap_or(Value::Null);
    let mut r = checked::<Message>(st, "message", v);
    r.status = status;
    r
}

/// Copies the message fields of a request body (or interaction `data`) into `fields`.
pub fn apply_fields(fields: &mut Map<String, Value>, body: &Value) {
    let Some(obj) = body.as_object() else { return };
    for key in MESSAGE_FIELDS {
        match obj.get(*key) {
            None => {}
            Some(Value::Null) => {
                fields.remove(*key);
            }
            Some(Value::Array(embeds)) if *key == "embeds" => {
                let embeds = embeds.iter().map(|e| {
                    let mut e = e.clone();
                    e.as_object_mut().map(|o| o.entry("type").or_insert(json!("rich")));
                    e
                });
                fields.insert("embeds".into(), Value::Array(embeds.collect()));
            }
            Some(Value::Number(n)) if *key == "flags" => {
                let keep = fields.get("flags").and_then(Value::as_u64).unwrap_or(0) & !SETTABLE_FLAGS;
                let set = n.as_u64().unwrap_or(0) & SETTABLE_FLAGS;
                fields.insert("flags".into(), json!(keep | set));
            }
            Some(v) => {
                fields.insert((*key).into(), v.clone());
            }
        }
    }
}

/// Stores a new message and dispatches MESSAGE_CREATE unless it is ephemeral.
pub fn store_message(
    st: &mut State,
    channel_id: u64,
    fields: Map<String, Value>,
    ephemeral_to: Option<u64>,
    interaction_id: Option<u64>,
) -> u64 {
    let msg_id = st.snowflake();
    let m = StoredMessage {
        id: msg_id,
        channel_id,
        author_id: st.bot_user_id,
        timestamp: now_timestamp(),
        edited_timestamp: None,
        fields,
        ephemeral_to,
        reactions: vec![],
        history: vec![],
        deleted: false,
        created_at: std::time::Instant::now(),
        interaction_id,
    };
    if ephemeral_to.is_none() {
        let _ = st.dispatch("MESSAGE_CREATE", payloads::message_event(st, &m));
    }
    st.messages.insert(msg_id, m);
    msg_id
}

/// Applies an edit (PATCH body or UPDATE_MESSAGE data), keeping the previous version in
/// the history, and dispatches MESSAGE_UPDATE for visible messages.
pub fn edit_stored(st: &mut State, msg_id: u64, body: &Value) -> Result<(), Reply> {
    edit_stored_with(st, msg_id, body, &[])
}

/// [`edit_stored`] with the files uploaded with the edit, added to the kept attachments.
pub fn edit_stored_with(st: &mut State, msg_id: u64, body: &Value, files: &[FilePart]) -> Result<(), Reply> {
    validate::message_body(body).map_err(Reply::form)?;
    let Some(m) = st.messages.get(&msg_id) else {
        return Err(Reply::error(404, 10008, "Unknown Message"));
    };
    let before = st.message_json(m);
    let mut fields = m.fields.clone();
    apply_fields(&mut fields, body);
    keep_listed_attachments(&mut fields, body);
    if !files.is_empty() {
        let channel_id = m.channel_id;
        let added = uploaded(st, channel_id, body, files);
        if let Some(list) = fields.get_mut("attachments").and_then(Value::as_array_mut) {
            list.extend(added);
        } else {
            fields.insert("attachments".into(), Value::Array(added));
        }
    }
    let flags = fields.get("flags").and_then(Value::as_u64).unwrap_or(0);
    fields.insert("flags".into(), json!(flags & !LOADING));
    let attachments = fields.get("attachments").and_then(Value::as_array).map_or(0, Vec::len);
    if validate::is_empty_message(&Value::Object(fields.clone()), attachments) {
        return Err(Reply::error(400, 50006, "Cannot send an empty message"));
    }
    let m = st.messages.get_mut(&msg_id).expect("message checked above");
    m.history.push(before);
    m.fields = fields;
    m.edited_timestamp = Some(now_timestamp());
    let m = m.clone();
    if m.ephemeral_to.is_none() {
        let _ = st.dispatch("MESSAGE_UPDATE", payloads::message_event(st, &m));
    }
    Ok(())
}

/// The attachment objects of uploaded `files`, as Discord makes them: each `files[n]` part is
/// the payload's `attachments` entry with `id` n (its description, Discord's alt text, comes
/// from there), given a new id; the bytes are kept for the tests.
pub fn uploaded(st: &mut State, channel_id: u64, body: &Value, files: &[FilePart]) -> Vec<Value> {
    let listed = body
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let index = f
                .field
                .strip_prefix("files[")
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(i as u64);
            let entry = listed.iter().find(|a| match &a["id"] {
                Value::Number(n) => n.as_u64() == Some(index),
                Value::String(s) => s.parse::<u64>().ok() == Some(index),
                _ => false,
            });
            let id = st.snowflake();
            st.uploads.insert(id, (f.filename.clone(), f.data.clone()));
            let mut attachment = json!({
                "id": id.to_string(), "filename": f.filename, "size": f.size,
                "url": format!("https://cdn.discordapp.com/attachments/{channel_id}/{id}/{}", f.filename),
                "proxy_url": format!("https://media.discordapp.net/attachments/{channel_id}/{id}/{}", f.filename),
                "content_type": f.content_type,
            });
            if let Some(description) = entry.and_then(|e| e.get("description")).filter(|d| d.is_string()) {
                attachment["description"] = description.clone();
            }
            attachment
        })
        .collect()
}

/// Discord keeps attachments when an edit has no `attachments`; with one, only the
/// listed existing ids survive. serenity always sends `"attachments": []` for
/// UPDATE_MESSAGE (type 7), so such an update strips the message's files.
fn keep_listed_attachments(fields: &mut Map<String, Value>, body: &Value) {
    let Some(listed) = body.get("attachments").and_then(Value::as_array) else {
        return;
    };
    let id_of = |a: &Value| match &a["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let keep: Vec<String> = listed.iter().map(id_of).collect();
    let existing = fields
        .get("attachments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // New uploads are listed by their part's index; they are added after the edit's fields.
    let kept: Vec<Value> = existing.into_iter().filter(|a| keep.contains(&id_of(a))).collect();
    fields.insert("attachments".into(), Value::Array(kept));
}

pub fn visible_message(st: &State, ctx: &Ctx) -> Result<u64, Reply> {
    if !st.channels.contains_key(&ctx.id(0)) {
        return Err(Reply::error(404, 10003, "Unknown Channel"));
    }
    match st.live_message(ctx.id(0), ctx.id(1)) {
        Some(m) if m.ephemeral_to.is_none() => Ok(m.id),
        _ => Err(Reply::error(404, 10008, "Unknown Message")),
    }
}

pub fn create_message(st: &mut State, ctx: &Ctx) -> Reply {
    let channel_id = ctx.id(0);
    let Some(channel) = st.channels.get(&channel_id) else {
        return Reply::error(404, 10003, "Unknown Channel");
    };
    let send = match channel.kind {
        11 => perm::SEND_MESSAGES_IN_THREADS,
        super::rest_dms::DM => 0,
        _ => perm::SEND_MESSAGES,
    };
    if send != 0
        && let Err(r) = st.require_in(channel_id, send | perm::VIEW_CHANNEL)
    {
        return r;
    }
    if let Some(r) = super::rest_dms::refuse_post(st, channel_id) {
        return r;
    }
    if let Err(e) = validate::message_body(&ctx.body) {
        return Reply::form(e);
    }
    if validate::is_empty_message(&ctx.body, ctx.files.len()) {
        return Reply::error(400, 50006, "Cannot send an empty message");
    }
    let nonce = ctx.body.get("nonce").filter(|n| !n.is_null());
    if let (Some(nonce), Some(true)) = (nonce, ctx.body.get("enforce_nonce").and_then(Value::as_bool)) {
        let window = st.cfg.nonce_window;
        let existing = st.messages.values().find(|m| {
            m.author_id == st.bot_user_id && m.fields.get("nonce") == Some(nonce) && m.created_at.elapsed() < window
        });
        if let Some(m) = existing {
            let id = m.id;
            return message_reply(st, id, 200);
        }
    }
    let mut fields = Map::new();
    apply_fields(&mut fields, &ctx.body);
    if let Some(reference) = ctx.body.get("message_reference").filter(|r| !r.is_null()) {
        fields.insert("type".into(), json!(19));
        fields.insert("message_reference".into(), reference.clone());
    }
    let attachments = uploaded(st, channel_id, &ctx.body, &ctx.files);
    fields.insert("attachments".into(), json!(attachments));
    let msg_id = store_message(st, channel_id, fields, None, None);
    message_reply(st, msg_id, 200)
}

pub fn get_message(st: &mut State, ctx: &Ctx) -> Reply {
    match visible_message(st, ctx) {
        Ok(id) => message_reply(st, id, 200),
        Err(r) => r,
    }
}

/// Newest first, `limit` 1–100 (default 50), with `before`/`after`/`around`.
pub fn get_messages(st: &mut State, ctx: &Ctx) -> Reply {
    let channel_id = ctx.id(0);
    if !st.channels.contains_key(&channel_id) {
        return Reply::error(404, 10003, "Unknown Channel");
    }
    let limit: usize = ctx
        .query("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(50)
        .clamp(1, 100);
    let q = |k: &str| ctx.query(k).and_then(|v| v.parse::<u64>().ok());
    let mut ids: Vec<u64> = st
        .messages
        .values()
        .filter(|m| m.channel_id == channel_id && !m.deleted && m.ephemeral_to.is_none())
        .map(|m| m.id)
        .collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    let ids: Vec<u64> = match (q("before"), q("after"), q("around")) {
        (Some(b), _, _) => ids.into_iter().filter(|i| *i < b).take(limit).collect(),
        (_, Some(a), _) => {
            let mut v: Vec<u64> = ids.into_iter().filter(|i| *i > a).collect();
            let skip = v.len().saturating_sub(limit);
            v.drain(..skip);
            v
        }
        (_, _, Some(c)) => {
            let pos = ids.iter().position(|i| *i <= c).unwrap_or(ids.len());
            let start = pos.saturating_sub(limit / 2);
            ids.into_iter().skip(start).take(limit).collect()
        }
        _ => ids.into_iter().take(limit).collect(),
    };
    let v: Vec<Value> = ids
        .iter()
        .filter_map(|i| st.messages.get(i))
        .map(|m| st.message_json(m))
        .collect();
    checked::<Vec<Message>>(st, "message list", json!(v))
}

pub fn edit_message(st: &mut State, ctx: &Ctx) -> Reply {
    let msg_id = match visible_message(st, ctx) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if st.messages[&msg_id].author_id != st.bot_user_id {
        return Reply::error(403, 50005, "Cannot edit a message authored by another user");
    }
    match edit_stored(st, msg_id, &ctx.body) {
        Ok(()) => message_reply(st, msg_id, 200),
        Err(r) => r,
    }
}

pub fn delete_message(st: &mut State, ctx: &Ctx) -> Reply {
    match visible_message(st, ctx) {
        Ok(id) => {
            delete_stored(st, id);
            Reply::no_content()
        }
        Err(r) => r,
    }
}

pub fn delete_stored(st: &mut State, msg_id: u64) {
    let Some(m) = st.messages.get_mut(&msg_id) else {
        return;
    };
    m.deleted = true;
    let (ch, eph) = (m.channel_id, m.ephemeral_to);
    if eph.is_none() {
        let d = json!({"id": id(msg_id), "channel_id": id(ch), "guild_id": id(st.guild_of(ch))});
        let _ = st.dispatch("MESSAGE_DELETE", d);
    }
}
