//! Interaction callbacks (with Discord's 3 s / acknowledged-once rules), interaction
//! webhooks (followups, `@original`) and application-command registration.

use serde_json::{Map, Value, json};

use super::payloads::{self, id};
use super::rest::{Ctx, Reply};
use super::rest_messages::{self as rm, EPHEMERAL, LOADING};
use super::state::{CallbackRec, InteractionRec, State};
use super::validate;

/// `interaction_metadata` of a message created by interaction `it`.
fn metadata(st: &State, it: &InteractionRec, original: Option<u64>) -> Value {
    let mut v = json!({
        "id": id(it.id), "type": it.kind, "user": payloads::user(st, it.user_id),
        "authorizing_integration_owners": {"0": id(st.guild_of(it.channel_id))},
    });
    if let Some(o) = original {
        v["original_response_message_id"] = id(o);
    }
    match it.kind {
        3 => v["interacted_message_id"] = json!(it.message_id.map(id)),
        5 => {
            let opener = it.opened_by.and_then(|o| st.interactions.get(&o));
            v["triggering_interaction_metadata"] = opener.map_or(Value::Null, |o| metadata(st, o, None));
        }
        _ => {
            v["name"] = json!(it.name);
            v["command_type"] = json!(1);
        }
    }
    v
}

/// Fields of a message created by an interaction response or followup.
fn response_fields(st: &State, it: &InteractionRec, data: &Value, original: Option<u64>) -> Map<String, Value> {
    let mut f = Map::new();
    rm::apply_fields(&mut f, data);
    f.insert(
        "type".into(),
        json!(if it.kind == 2 && original.is_none() { 20 } else { 0 }),
    );
    f.insert("application_id".into(), id(st.application_id));
    f.insert("webhook_id".into(), id(st.application_id));
    f.insert("interaction_metadata".into(), metadata(st, it, original));
    if it.kind == 2 {
        f.insert(
            "interaction".into(),
            json!({
                "id": id(it.id), "type": 2, "name": it.name, "user": payloads::user(st, it.user_id),
            }),
        );
    }
    let eph = data.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL;
    let flags = f.get("flags").and_then(Value::as_u64).unwrap_or(0) | eph;
    f.insert("flags".into(), json!(flags));
    f
}

fn refuse(st: &mut State, iid: u64, status: u16, code: i64, msg: &str) -> Reply {
    if let Some(it) = st.interactions.get_mut(&iid) {
        it.refused.push((status, code, it.created_at.elapsed()));
    }
    Reply::error(status, code, msg)
}

pub fn callback(st: &mut State, ctx: &Ctx) -> Reply {
    let iid = ctx.id(0);
    let Some(it) = st.interactions.get(&iid).cloned() else {
        return Reply::error(404, 10062, "Unknown interaction");
    };
    let after = it.created_at.elapsed();
    if it.token != ctx.param(1) {
        return refuse(st, iid, 404, 10062, "Unknown interaction");
    }
    if it.callback.is_some() {
        return refuse(st, iid, 400, 40060, "Interaction has already been acknowledged.");
    }
    if after > st.cfg.interaction_deadline {
        st.problems.push(format!(
            "interaction {iid} ({}) answered after {after:?}, past the deadline",
            it.name
        ));
        return refuse(st, iid, 404, 10062, "Unknown interaction");
    }
    let kind = ctx.body.get("type").and_then(Value::as_u64).unwrap_or(0);
    let data = ctx.body.get("data").cloned().unwrap_or(Value::Null);
    let allowed: &[u64] = match (it.kind, it.message_id.is_some()) {
        (2, _) => &[4, 5, 9],
        (3, _) => &[4, 5, 6, 7, 9],
        (4, _) => &[8],
        (5, true) => &[4, 5, 6, 7],
        _ => &[4, 5],
    };
    if !allowed.contains(&kind) {
        return Reply::form(validate::FormError {
            path: "type".into(),
            code: "BASE_TYPE_CHOICES",
            message: format!("Value must be one of {allowed:?} for interaction type {}.", it.kind),
        });
    }
    let invalid = match kind {
        4 | 7 => validate::message_body(&data).err(),
        8 => check_choices(&data),
        9 => check_modal(&data),
        _ => None,
    };
    if let Some(e) = invalid {
        return Reply::form(e);
    }
    if kind == 4 && validate::is_empty_message(&data, ctx.files.len()) {
        return Reply::error(400, 50006, "Cannot send an empty message");
    }
    let ephemeral = data.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL != 0;
    let visible_to = ephemeral.then_some(it.user_id);
    let (mut original, mut thinking) = (None, false);
    match kind {
        4 => {
            original = Some(rm::store_message(
                st,
                it.channel_id,
                response_fields(st, &it, &data, None),
                visible_to,
                Some(iid),
            ))
        }
        5 => {
            let mut f = response_fields(st, &it, &json!({"flags": data.get("flags")}), None);
            f.insert("flags".into(), json!(LOADING | if ephemeral { EPHEMERAL } else { 0 }));
            original = Some(rm::store_message(st, it.channel_id, f, visible_to, Some(iid)));
            thinking = true;
        }
        6 => original = it.message_id,
        7 => {
            let msg = it.message_id.unwrap_or(0);
            if let Err(r) = rm::edit_stored(st, msg, &data) {
                return r;
            }
            original = Some(msg);
        }
        _ => {}
    }
    let rec = st.interactions.get_mut(&iid).expect("interaction looked up above");
    rec.callback = Some(CallbackRec { kind, data, after });
    rec.original_message_id = original;
    rec.thinking = thinking;
    Reply::no_content()
}

fn check_choices(data: &Value) -> Option<validate::FormError> {
    let choices = data
        .get("choices")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let bad = |path: String, message: &str| {
        Some(validate::FormError {
            path,
            code: "BASE_TYPE_BAD_LENGTH",
            message: message.into(),
        })
    };
    if choices.len() > 25 {
        return bad("data.choices".into(), "Must be 25 or fewer in length.");
    }
    choices.iter().enumerate().find_map(|(i, c)| {
        let n = c.get("name").and_then(Value::as_str).map_or(0, |s| s.chars().count());
        (!(1..=100).contains(&n))
            .then(|| bad(format!("data.choices.{i}.name"), "Must be between 1 and 100 in length."))
            .flatten()
    })
}

fn check_modal(data: &Value) -> Option<validate::FormError> {
    let len = |k: &str| data.get(k).and_then(Value::as_str).map_or(0, |s| s.chars().count());
    let rows = data.get("components").and_then(Value::as_array).map_or(0, Vec::len);
    let (path, message) = if !(1..=100).contains(&len("custom_id")) {
        ("data.custom_id", "Must be between 1 and 100 in length.")
    } else if !(1..=45).contains(&len("title")) {
        ("data.title", "Must be between 1 and 45 in length.")
    } else if !(1..=5).contains(&rows) {
        ("data.components", "Must be between 1 and 5 in length.")
    } else {
        return None;
    };
    Some(validate::FormError {
        path: path.into(),
        code: "BASE_TYPE_BAD_LENGTH",
        message: message.into(),
    })
}

/// Finds the interaction behind `/webhooks/{application}/{token}`, enforcing the token's
/// lifetime and that the interaction was acknowledged in time.
fn webhook_interaction(st: &mut State, ctx: &Ctx) -> Result<u64, Reply> {
    let unknown = || Reply::error(404, 10015, "Unknown Webhook");
    if ctx.id(0) != st.application_id {
        return Err(unknown());
    }
    let token = ctx.param(1);
    let Some(it) = st.interactions.values().find(|i| i.token == token) else {
        return Err(unknown());
    };
    if it.created_at.elapsed() > st.cfg.interaction_token_lifetime {
        return Err(Reply::error(401, 50027, "Invalid Webhook Token"));
    }
    if it.callback.is_none() {
        let msg = format!(
            "webhook call for interaction {} ({}) before any accepted callback",
            it.id, it.name
        );
        st.problems.push(msg);
        return Err(unknown());
    }
    Ok(it.id)
}

/// Followup. After a type 5 deferral the first followup replaces the "thinking" message
/// (keeping the deferral's ephemerality), as Discord does; later ones are new messages.
pub fn create_followup(st: &mut State, ctx: &Ctx) -> Reply {
    let iid = match webhook_interaction(st, ctx) {
        Ok(i) => i,
        Err(r) => return r,
    };
    if let Err(e) = validate::message_body(&ctx.body) {
        return Reply::form(e);
    }
    if validate::is_empty_message(&ctx.body, ctx.files.len()) {
        return Reply::error(400, 50006, "Cannot send an empty message");
    }
    let it = st.interactions[&iid].clone();
    if let (true, Some(orig)) = (it.thinking, it.original_message_id) {
        let mut body = ctx.body.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("flags");
        }
        if let Err(r) = rm::edit_stored(st, orig, &body) {
            return r;
        }
        st.interactions.get_mut(&iid).expect("interaction exists").thinking = false;
        return rm::message_reply(st, orig, 200);
    }
    let fields = response_fields(st, &it, &ctx.body, Some(it.original_message_id.unwrap_or(0)));
    let ephemeral = fields.get("flags").and_then(Value::as_u64).unwrap_or(0) & EPHEMERAL != 0;
    let msg = rm::store_message(st, it.channel_id, fields, ephemeral.then_some(it.user_id), Some(iid));
    st.interactions
        .get_mut(&iid)
        .expect("interaction exists")
        .followup_ids
        .push(msg);
    rm::message_reply(st, msg, 200)
}

/// Resolves `{message}` (`@original` or a followup id) for interaction `iid`.
fn webhook_message(st: &State, iid: u64, which: &str) -> Result<u64, Reply> {
    let it = &st.interactions[&iid];
    let id = match which {
        "@original" => it.original_message_id,
        other => other
            .parse()
            .ok()
            .filter(|m| it.followup_ids.contains(m) || it.original_message_id == Some(*m)),
    };
    id.filter(|m| st.messages.get(m).is_some_and(|m| !m.deleted))
        .ok_or_else(|| Reply::error(404, 10008, "Unknown Message"))
}

pub fn get_webhook_message(st: &mut State, ctx: &Ctx) -> Reply {
    match webhook_interaction(st, ctx).and_then(|i| webhook_message(st, i, ctx.param(2))) {
        Ok(m) => rm::message_reply(st, m, 200),
        Err(r) => r,
    }
}

pub fn edit_webhook_message(st: &mut State, ctx: &Ctx) -> Reply {
    let (iid, msg) = match webhook_interaction(st, ctx).and_then(|i| Ok((i, webhook_message(st, i, ctx.param(2))?))) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = rm::edit_stored_with(st, msg, &ctx.body, &ctx.files) {
        return r;
    }
    let it = st.interactions.get_mut(&iid).expect("interaction exists");
    if it.original_message_id == Some(msg) {
        it.thinking = false;
    }
    rm::message_reply(st, msg, 200)
}

pub fn delete_webhook_message(st: &mut State, ctx: &Ctx) -> Reply {
    match webhook_interaction(st, ctx).and_then(|i| webhook_message(st, i, ctx.param(2))) {
        Ok(m) => {
            rm::delete_stored(st, m);
            Reply::no_content()
        }
        Err(r) => r,
    }
}
