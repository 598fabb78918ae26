//! Application-command registration: bulk overwrite (PUT), list, create, delete, for
//! global and guild scope, validated like Discord and stored with ids and versions.

use serde_json::{Value, json};
use serenity::model::prelude::*;

use super::payloads::id;
use super::rest::{Ctx, Reply};
use super::rest_guild::checked;
use super::state::State;
use super::validate;

/// Scope of a command route: `None` global, `Some(guild)`; errors for foreign ids.
fn scope(st: &State, ctx: &Ctx, guild_route: bool) -> Result<Option<u64>, Reply> {
    if ctx.id(0) != st.application_id {
        return Err(Reply::error(403, 50001, "Missing Access"));
    }
    match guild_route {
        false => Ok(None),
        true if st.is_guild(ctx.id(1)) => Ok(Some(ctx.id(1))),
        true => Err(Reply::error(403, 50001, "Missing Access")),
    }
}

fn is_guild_route(ctx: &Ctx, plain_len: usize) -> bool {
    ctx.params.len() > plain_len
}

/// Stores a command like Discord returns it: ids, version, defaults filled in. A command
/// with the same name and type keeps its id.
fn store_command(st: &mut State, guild: Option<u64>, body: &Value) -> Value {
    let kind = body.get("type").and_then(Value::as_u64).unwrap_or(1);
    let name = body.get("name").cloned().unwrap_or(Value::Null);
    let same = |(g, c): &(Option<u64>, Value)| *g == guild && c["name"] == name && c["type"] == kind;
    let old_id = st.commands.iter().find(|c| same(c)).map(|(_, c)| c["id"].clone());
    st.commands.retain(|c| !same(c));
    let mut c = body.clone();
    let version = st.snowflake();
    let cid = old_id.unwrap_or_else(|| id(st.snowflake()));
    let defaults = json!({
        "type": kind, "application_id": id(st.application_id), "version": id(version),
        "default_member_permissions": null, "nsfw": false, "description": "",
        "integration_types": [0], "contexts": null, "options": [],
    });
    for (k, v) in defaults.as_object().into_iter().flatten() {
        if c.get(k).is_none_or(Value::is_null) {
            c[k] = v.clone();
        }
    }
    c["id"] = cid;
    if let Some(g) = guild {
        c["guild_id"] = id(g);
    } else if c.get("dm_permission").is_none() {
        c["dm_permission"] = json!(true);
    }
    st.commands.push((guild, c.clone()));
    c
}

pub fn put_commands(st: &mut State, ctx: &Ctx) -> Reply {
    let guild = match scope(st, ctx, is_guild_route(ctx, 1)) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let Some(list) = ctx.body.as_array() else {
        return Reply::error(400, 50035, "Invalid Form Body: expected an array of commands");
    };
    if list.len() > 100 {
        return Reply::form(validate::FormError {
            path: String::new(),
            code: "BASE_TYPE_MAX_LENGTH",
            message: "Must be 100 or fewer in length.".into(),
        });
    }
    let mut names = std::collections::HashSet::new();
    for (i, c) in list.iter().enumerate() {
        if let Err(e) = validate::command(c, &format!("{i}.")) {
            return Reply::form(e);
        }
        if !names.insert((
            c["name"].to_string(),
            c.get("type").and_then(Value::as_u64).unwrap_or(1),
        )) {
            return Reply::form(validate::FormError {
                path: format!("{i}.name"),
                code: "APPLICATION_COMMANDS_DUPLICATE_NAME",
                message: "Application command names must be unique".into(),
            });
        }
    }
    let keep: Vec<String> = list.iter().map(|c| c["name"].to_string()).collect();
    st.commands
        .retain(|(g, c)| *g != guild || keep.contains(&c["name"].to_string()));
    let stored: Vec<Value> = list.iter().map(|c| store_command(st, guild, c)).collect();
    st.commands
        .retain(|(g, c)| *g != guild || stored.iter().any(|s| s["id"] == c["id"]));
    checked::<Vec<Command>>(st, "command list", json!(stored))
}

pub fn get_commands(st: &mut State, ctx: &Ctx) -> Reply {
    let guild = match scope(st, ctx, is_guild_route(ctx, 1)) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let list: Vec<Value> = st
        .commands
        .iter()
        .filter(|(g, _)| *g == guild)
        .map(|(_, c)| c.clone())
        .collect();
    checked::<Vec<Command>>(st, "command list", json!(list))
}

/// POST: creates, or overwrites a command with the same name (200 then, 201 when new).
pub fn create_command(st: &mut State, ctx: &Ctx) -> Reply {
    let guild = match scope(st, ctx, is_guild_route(ctx, 1)) {
        Ok(g) => g,
        Err(r) => return r,
    };
    if let Err(e) = validate::command(&ctx.body, "") {
        return Reply::form(e);
    }
    let existed = st
        .commands
        .iter()
        .any(|(g, c)| *g == guild && c["name"] == ctx.body["name"]);
    let c = store_command(st, guild, &ctx.body);
    let mut r = checked::<Command>(st, "command", c);
    r.status = if existed { 200 } else { 201 };
    r
}

pub fn delete_command(st: &mut State, ctx: &Ctx) -> Reply {
    let guild = match scope(st, ctx, is_guild_route(ctx, 2)) {
        Ok(g) => g,
        Err(r) => return r,
    };
    let cid = ctx.params.last().cloned().unwrap_or_default();
    let before = st.commands.len();
    st.commands.retain(|(g, c)| !(*g == guild && c["id"] == json!(cid)));
    if st.commands.len() == before {
        return Reply::error(404, 10063, "Unknown application command");
    }
    Reply::no_content()
}
