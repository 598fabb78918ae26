//! User actions a test injects: slash commands and autocomplete (checked against the
//! registered commands, as only registered commands can be invoked), button clicks and
//! select menus, modal submits, reactions.

use serde_json::{Map, Value, json};

use super::payloads::{self, id};
use super::rest_messages as rm;
use super::state::{InteractionRec, State};

/// An injected interaction; pass it to `FakeDiscord::interaction_response`.
#[derive(Clone, Debug)]
pub struct InteractionHandle {
    pub id: u64,
    pub token: String,
    /// 2 command, 3 component, 4 autocomplete, 5 modal submit.
    pub kind: u8,
    /// Command path (`cvm buy`) or `custom_id`.
    pub name: String,
}

type R<T> = Result<T, String>;

fn registered_names(st: &State) -> Vec<String> {
    st.commands.iter().map(|(g, c)| format!("{}{}", c["name"], if g.is_some() { " (guild)" } else { "" })).collect()
}

fn check_actor(st: &State, user: u64, channel: u64) -> R<()> {
    if !st.members.contains_key(&user) {
        return Err(format!("user {user} is not a guild member: call add_member first"));
    }
    if !st.channels.contains_key(&channel) {
        return Err(format!("channel {channel} does not exist: call add_channel first"));
    }
    Ok(())
}

/// Converts a test's value to the option's wire value, adding `resolved` entries.
fn option_value(st: &State, def: &Value, raw: &Value, resolved: &mut Map<String, Value>) -> R<Value> {
    let name = def["name"].as_str().unwrap_or_default();
    let kind = def["type"].as_u64().unwrap_or(0);
    let snowflake = || raw.as_u64().or_else(|| raw.as_str().and_then(|s| s.parse().ok()));
    let mut resolve = |map: &str, key: u64, v: Value| {
        let m = resolved.entry(map).or_insert_with(|| json!({}));
        m[key.to_string()] = v;
    };
    let value = match kind {
        3 => raw.as_str().map(|s| json!(s)),
        4 => raw.as_i64().map(|n| json!(n)),
        10 => raw.as_f64().map(|n| json!(n)),
        5 => raw.as_bool().map(|b| json!(b)),
        6 | 9 if snowflake().is_some_and(|u| st.users.contains_key(&u)) => {
            let u = snowflake().unwrap_or_default();
            resolve("users", u, payloads::user(st, u));
            if st.members.contains_key(&u) {
                let mut m = payloads::member(st, u, true);
                m.as_object_mut().map(|o| o.remove("user"));
                resolve("members", u, m);
            }
            Some(id(u))
        },
        7 => snowflake().and_then(|c| st.channels.get(&c)).map(|c| {
            resolve("channels", c.id, payloads::partial_channel(st, c.id));
            id(c.id)
        }),
        8 | 9 => snowflake().and_then(|r| st.roles.get(&r)).map(|r| {
            resolve("roles", r.id, payloads::role(st, r));
            id(r.id)
        }),
        _ => return Err(format!("option {name:?}: option type {kind} is not supported by the fake")),
    };
    let value = value.ok_or_else(|| format!("option {name:?} (type {kind}) cannot take {raw}"))?;
    let choices = def["choices"].as_array().filter(|c| !c.is_empty());
    if let Some(choices) = choices {
        if !choices.iter().any(|c| c["value"] == value) {
            return Err(format!("option {name:?}: {value} is not one of the registered choices {choices:?}"));
        }
    }
    let num = value.as_f64();
    if let (Some(n), Some(min)) = (num, def["min_value"].as_f64()) {
        if n < min {
            return Err(format!("option {name:?}: {n} is below min_value {min}"));
        }
    }
    if let (Some(n), Some(max)) = (num, def["max_value"].as_f64()) {
        if n > max {
            return Err(format!("option {name:?}: {n} is above max_value {max}"));
        }
    }
    if let Some(s) = value.as_str().filter(|_| kind == 3) {
        let len = s.chars().count() as u64;
        if def["min_length"].as_u64().is_some_and(|m| len < m) || def["max_length"].as_u64().is_some_and(|m| len > m) {
            return Err(format!("option {name:?}: length {len} outside the registered bounds"));
        }
    }
    Ok(value)
}

/// Builds the `data` of a type 2 (or type 4 autocomplete when `focused` is set) interaction.
fn command_data(st: &State, path: &str, opts: &[(&str, Value)], focused: Option<&str>) -> R<Value> {
    let mut segs = path.split_whitespace();
    let root = segs.next().ok_or("empty command path")?;
    let (guild, cmd) = st
        .commands
        .iter()
        .filter(|(_, c)| c["name"] == root && c["type"] == 1)
        .max_by_key(|(g, _)| g.is_some())
        .ok_or_else(|| format!("/{root} is not registered; registered: {:?}", registered_names(st)))?;
    let mut defs = cmd["options"].as_array().cloned().unwrap_or_default();
    let mut chain = Vec::new();
    for seg in segs {
        let sub = defs
            .iter()
            .find(|o| o["name"] == seg && (o["type"] == 1 || o["type"] == 2))
            .ok_or_else(|| format!("/{path}: no subcommand {seg:?} registered"))?;
        chain.push((seg.to_string(), sub["type"].as_u64().unwrap_or(1)));
        defs = sub["options"].as_array().cloned().unwrap_or_default();
    }
    if defs.iter().any(|o| o["type"] == 1 || o["type"] == 2) {
        return Err(format!("/{path} needs a subcommand; Discord does not let users run a group"));
    }
    let mut resolved = Map::new();
    let mut leaf = Vec::new();
    for (name, raw) in opts {
        let def = defs
            .iter()
            .find(|d| d["name"] == *name)
            .ok_or_else(|| format!("/{path} has no option {name:?}; registered: {defs:?}"))?;
        let mut o = json!({"name": name, "type": def["type"]});
        if focused == Some(*name) {
            if def["autocomplete"] != true {
                return Err(format!("/{path} option {name:?} is not registered with autocomplete"));
            }
            o["value"] = json!(raw.as_str().map_or_else(|| raw.to_string(), str::to_string));
            o["focused"] = json!(true);
        } else {
            o["value"] = option_value(st, def, raw, &mut resolved)?;
        }
        leaf.push(o);
    }
    if let Some(f) = focused.filter(|f| !opts.iter().any(|(n, _)| n == f)) {
        return Err(format!("focused option {f:?} must be among the given options"));
    }
    if focused.is_none() {
        if let Some(missing) = defs.iter().find(|d| d["required"] == true && !opts.iter().any(|(n, _)| d["name"] == *n)) {
            return Err(format!("/{path}: required option {} missing; Discord would not send this", missing["name"]));
        }
    }
    let mut options = Value::Array(leaf);
    for (name, kind) in chain.into_iter().rev() {
        options = json!([{"name": name, "type": kind, "options": options}]);
    }
    let mut data = json!({"id": cmd["id"], "name": root, "type": 1, "options": options});
    if let Some(g) = guild {
        data["guild_id"] = id(*g);
    }
    if !resolved.is_empty() {
        data["resolved"] = Value::Object(resolved);
    }
    Ok(data)
}

/// Records an interaction and dispatches INTERACTION_CREATE for it.
fn create_interaction(
    st: &mut State,
    kind: u8,
    user: u64,
    channel: u64,
    name: &str,
    message_id: Option<u64>,
    opened_by: Option<u64>,
    data: Value,
) -> R<InteractionHandle> {
    let iid = st.snowflake();
    let token = format!("fake-interaction-token-{iid}");
    let mut payload = payloads::interaction_base(st, kind, iid, &token, user, channel);
    payload["data"] = data;
    if let Some(m) = message_id.and_then(|m| st.messages.get(&m)) {
        payload["message"] = st.message_json(m);
    }
    st.dispatch("INTERACTION_CREATE", payload.clone())?;
    st.interactions.insert(iid, InteractionRec {
        id: iid,
        token: token.clone(),
        kind,
        user_id: user,
        channel_id: channel,
        name: name.to_string(),
        message_id,
        opened_by,
        payload,
        created_at: std::time::Instant::now(),
        callback: None,
        refused: vec![],
        original_message_id: None,
        thinking: false,
        followup_ids: vec![],
    });
    Ok(InteractionHandle { id: iid, token, kind, name: name.to_string() })
}

pub fn command(st: &mut State, user: u64, channel: u64, path: &str, opts: &[(&str, Value)], focused: Option<&str>) -> R<InteractionHandle> {
    check_actor(st, user, channel)?;
    let data = command_data(st, path, opts, focused)?;
    let kind = if focused.is_some() { 4 } else { 2 };
    create_interaction(st, kind, user, channel, path.trim(), None, None, data)
}

/// Finds component `custom_id` on a message the user can see; rejects disabled ones.
fn find_component(st: &State, user: u64, message: u64, custom_id: &str) -> R<Value> {
    let m = st.messages.get(&message).filter(|m| !m.deleted).ok_or(format!("message {message} does not exist"))?;
    if m.ephemeral_to.is_some_and(|u| u != user) {
        return Err(format!("message {message} is ephemeral and not visible to user {user}"));
    }
    let rows = m.fields.get("components").and_then(Value::as_array).cloned().unwrap_or_default();
    let comp = rows
        .iter()
        .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["custom_id"] == custom_id)
        .ok_or_else(|| format!("message {message} has no component {custom_id:?}; components: {rows:?}"))?;
    if comp["disabled"] == true {
        return Err(format!("component {custom_id:?} on message {message} is disabled; users cannot use it"));
    }
    Ok(comp)
}

pub fn component(st: &mut State, user: u64, message: u64, custom_id: &str, values: Option<&[&str]>) -> R<InteractionHandle> {
    let comp = find_component(st, user, message, custom_id)?;
    let channel = st.messages[&message].channel_id;
    check_actor(st, user, channel)?;
    let ctype = comp["type"].as_u64().unwrap_or(0);
    let data = match (ctype, values) {
        (2, None) => json!({"custom_id": custom_id, "component_type": 2}),
        (3, Some(vals)) => {
            let known: Vec<&Value> = comp["options"].as_array().map(|o| o.iter().map(|o| &o["value"]).collect()).unwrap_or_default();
            if let Some(v) = vals.iter().find(|v| !known.iter().any(|k| *k == *v)) {
                return Err(format!("select {custom_id:?} has no option {v:?}"));
            }
            let (min, max) = (comp["min_values"].as_u64().unwrap_or(1), comp["max_values"].as_u64().unwrap_or(1));
            if !(min..=max).contains(&(vals.len() as u64)) {
                return Err(format!("select {custom_id:?} takes {min}..={max} values, got {}", vals.len()));
            }
            json!({"custom_id": custom_id, "component_type": 3, "values": vals})
        },
        _ => return Err(format!("component {custom_id:?} is type {ctype}; use click_button for buttons, select for string selects")),
    };
    create_interaction(st, 3, user, channel, custom_id, Some(message), None, data)
}

pub fn modal_submit(st: &mut State, user: u64, custom_id: &str, fields: &[(&str, &str)]) -> R<InteractionHandle> {
    let submitted: Vec<u64> = st.interactions.values().filter_map(|i| i.opened_by).collect();
    let opener = st
        .interactions
        .values()
        .filter(|i| i.user_id == user && !submitted.contains(&i.id))
        .filter(|i| i.callback.as_ref().is_some_and(|c| c.kind == 9 && c.data["custom_id"] == custom_id))
        .max_by_key(|i| i.id)
        .cloned()
        .ok_or_else(|| format!("no open modal {custom_id:?} was shown to user {user}"))?;
    let modal = &opener.callback.as_ref().expect("filtered on callback").data;
    let inputs: Vec<Value> = modal["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        .collect();
    if let Some((f, _)) = fields.iter().find(|(f, _)| !inputs.iter().any(|i| i["custom_id"] == *f)) {
        return Err(format!("modal {custom_id:?} has no text input {f:?}; inputs: {inputs:?}"));
    }
    let mut rows = Vec::new();
    for input in &inputs {
        let value = fields.iter().find(|(f, _)| input["custom_id"] == *f).map_or("", |(_, v)| *v);
        let len = value.chars().count() as u64;
        let required = input.get("required").and_then(Value::as_bool).unwrap_or(true);
        if (required && value.is_empty())
            || input["min_length"].as_u64().is_some_and(|m| !value.is_empty() && len < m)
            || input["max_length"].as_u64().is_some_and(|m| len > m)
        {
            return Err(format!("modal {custom_id:?}: {value:?} does not satisfy text input {input}"));
        }
        rows.push(json!({"type": 1, "components": [{"type": 4, "custom_id": input["custom_id"], "value": value}]}));
    }
    let data = json!({"custom_id": custom_id, "components": rows});
    create_interaction(st, 5, user, opener.channel_id, custom_id, opener.message_id, Some(opener.id), data)
}

/// A user's reaction; `dispatch: false` records it as made while the bot was offline.
pub fn reaction(st: &mut State, add: bool, user: u64, channel: u64, message: u64, emoji: &str, dispatch: bool) -> R<()> {
    check_actor(st, user, channel)?;
    if st.live_message(channel, message).is_none_or(|m| m.ephemeral_to.is_some()) {
        return Err(format!("message {message} does not exist in channel {channel}"));
    }
    let changed = if add {
        rm::add_reaction(st, message, emoji, user).map_err(|r| format!("reaction refused: {:?}", r.body))?
    } else {
        rm::remove_reaction(st, message, emoji, user)
    };
    if changed && dispatch {
        let m = &st.messages[&message];
        let d = payloads::reaction_event(st, add, user, m, emoji);
        st.dispatch(if add { "MESSAGE_REACTION_ADD" } else { "MESSAGE_REACTION_REMOVE" }, d)?;
    }
    Ok(())
}
