//! Slash commands and autocomplete as Discord builds them: only registered commands can be
//! run, options are typed from the registered schema, `resolved` is filled for users, roles
//! and channels.

use serde_json::{Map, Value, json};

use super::inject::{InteractionHandle, NewInteraction, check_actor, create_interaction};
use super::payloads::{self, id};
use super::state::State;

type R<T> = Result<T, String>;

fn registered_names(st: &State) -> Vec<String> {
    st.commands
        .iter()
        .map(|(g, c)| format!("{}{}", c["name"], if g.is_some() { " (guild)" } else { "" }))
        .collect()
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
        }
        7 => snowflake().and_then(|c| st.channels.get(&c)).map(|c| {
            resolve("channels", c.id, payloads::partial_channel(st, c.id));
            id(c.id)
        }),
        8 | 9 => snowflake().and_then(|r| st.roles.get(&r)).map(|r| {
            resolve("roles", r.id, payloads::role(st, r));
            id(r.id)
        }),
        _ => {
            return Err(format!(
                "option {name:?}: option type {kind} is not supported by the fake"
            ));
        }
    };
    let value = value.ok_or_else(|| format!("option {name:?} (type {kind}) cannot take {raw}"))?;
    let choices = def["choices"].as_array().filter(|c| !c.is_empty());
    if let Some(choices) = choices
        && !choices.iter().any(|c| c["value"] == value)
    {
        return Err(format!(
            "option {name:?}: {value} is not one of the registered choices {choices:?}"
        ));
    }
    let num = value.as_f64();
    if let (Some(n), Some(min)) = (num, def["min_value"].as_f64())
        && n < min
    {
        return Err(format!("option {name:?}: {n} is below min_value {min}"));
    }
    if let (Some(n), Some(max)) = (num, def["max_value"].as_f64())
        && n > max
    {
        return Err(format!("option {name:?}: {n} is above max_value {max}"));
    }
    if let Some(s) = value.as_str().filter(|_| kind == 3) {
        let len = s.chars().count() as u64;
        if def["min_length"].as_u64().is_some_and(|m| len < m) || def["max_length"].as_u64().is_some_and(|m| len > m) {
            return Err(format!("option {name:?}: length {len} outside the registered bounds"));
        }
    }
    Ok(value)
}

/// Builds the `data` of a type 2 (or type 4 autocomplete when `focused` is set) interaction in
/// `guild`, where the guild's own commands and the global ones can be run.
fn command_data(st: &State, guild: u64, path: &str, opts: &[(&str, Value)], focused: Option<&str>) -> R<Value> {
    let mut segs = path.split_whitespace();
    let root = segs.next().ok_or("empty command path")?;
    let (guild, cmd) = st
        .commands
        .iter()
        .filter(|(g, c)| g.is_none_or(|g| g == guild) && c["name"] == root && c["type"] == 1)
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
        return Err(format!(
            "/{path} needs a subcommand; Discord does not let users run a group"
        ));
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
    let given = |d: &&Value| opts.iter().any(|(n, _)| d["name"] == *n);
    if focused.is_none()
        && let Some(missing) = defs.iter().find(|d| d["required"] == true && !given(d))
    {
        return Err(format!(
            "/{path}: required option {} missing; Discord would not send this",
            missing["name"]
        ));
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

pub fn command(
    st: &mut State,
    user: u64,
    channel: u64,
    path: &str,
    opts: &[(&str, Value)],
    focused: Option<&str>,
) -> R<InteractionHandle> {
    check_actor(st, user, channel)?;
    let data = command_data(st, st.guild_of(channel), path, opts, focused)?;
    let kind = if focused.is_some() { 4 } else { 2 };
    let new = NewInteraction {
        kind,
        user,
        channel,
        name: path.trim(),
        message_id: None,
        opened_by: None,
    };
    create_interaction(st, new, data)
}
