//! User actions a test injects: button clicks and select menus, modal submits, reactions
//! (commands are built in `inject_command`; the `FakeDiscord` methods are in `actions`).

use serde_json::{Value, json};

use super::state::{InteractionRec, State};
use super::{payloads, rest_reactions as rr};

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

pub fn check_actor(st: &State, user: u64, channel: u64) -> R<()> {
    if !st.members.contains_key(&user) {
        return Err(format!("user {user} is not a guild member: call add_member first"));
    }
    if !st.channels.contains_key(&channel) {
        return Err(format!("channel {channel} does not exist: call add_channel first"));
    }
    Ok(())
}

/// Who does what, where; [`create_interaction`] adds the id, token and time.
pub struct NewInteraction<'a> {
    pub kind: u8,
    pub user: u64,
    pub channel: u64,
    pub name: &'a str,
    pub message_id: Option<u64>,
    pub opened_by: Option<u64>,
}

/// Records an interaction and dispatches INTERACTION_CREATE for it.
pub fn create_interaction(st: &mut State, new: NewInteraction, data: Value) -> R<InteractionHandle> {
    let NewInteraction {
        kind,
        user,
        channel,
        name,
        message_id,
        opened_by,
    } = new;
    let iid = st.snowflake();
    let token = format!("fake-interaction-token-{iid}");
    let mut payload = payloads::interaction_base(st, kind, iid, &token, user, channel);
    payload["data"] = data;
    if let Some(m) = message_id.and_then(|m| st.messages.get(&m)) {
        payload["message"] = st.message_json(m);
    }
    let event = st.dispatch_injected("INTERACTION_CREATE", payload.clone())?;
    st.interactions.insert(
        iid,
        InteractionRec {
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
            event,
        },
    );
    Ok(InteractionHandle {
        id: iid,
        token,
        kind,
        name: name.to_string(),
    })
}

/// Finds component `custom_id` on a message the user can see; rejects disabled ones.
fn find_component(st: &State, user: u64, message: u64, custom_id: &str) -> R<Value> {
    let m = st
        .messages
        .get(&message)
        .filter(|m| !m.deleted)
        .ok_or(format!("message {message} does not exist"))?;
    if m.ephemeral_to.is_some_and(|u| u != user) {
        return Err(format!("message {message} is ephemeral and not visible to user {user}"));
    }
    let rows = m
        .fields
        .get("components")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let comp = rows
        .iter()
        .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        .find(|c| c["custom_id"] == custom_id)
        .ok_or_else(|| format!("message {message} has no component {custom_id:?}; components: {rows:?}"))?;
    if comp["disabled"] == true {
        return Err(format!(
            "component {custom_id:?} on message {message} is disabled; users cannot use it"
        ));
    }
    Ok(comp)
}

pub fn component(
    st: &mut State,
    user: u64,
    message: u64,
    custom_id: &str,
    values: Option<&[&str]>,
) -> R<InteractionHandle> {
    let comp = find_component(st, user, message, custom_id)?;
    let channel = st.messages[&message].channel_id;
    check_actor(st, user, channel)?;
    let ctype = comp["type"].as_u64().unwrap_or(0);
    let data = match (ctype, values) {
        (2, None) => json!({"custom_id": custom_id, "component_type": 2}),
        (3, Some(vals)) => {
            let known: Vec<&Value> = comp["options"]
                .as_array()
                .map(|o| o.iter().map(|o| &o["value"]).collect())
                .unwrap_or_default();
            if let Some(v) = vals.iter().find(|v| !known.iter().any(|k| *k == *v)) {
                return Err(format!("select {custom_id:?} has no option {v:?}"));
            }
            let (min, max) = (
                comp["min_values"].as_u64().unwrap_or(1),
                comp["max_values"].as_u64().unwrap_or(1),
            );
            if !(min..=max).contains(&(vals.len() as u64)) {
                return Err(format!(
                    "select {custom_id:?} takes {min}..={max} values, got {}",
                    vals.len()
                ));
            }
            json!({"custom_id": custom_id, "component_type": 3, "values": vals})
        }
        _ => {
            return Err(format!(
                "component {custom_id:?} is type {ctype}; use click_button for buttons, select for string selects"
            ));
        }
    };
    let new = NewInteraction {
        kind: 3,
        user,
        channel,
        name: custom_id,
        message_id: Some(message),
        opened_by: None,
    };
    create_interaction(st, new, data)
}

pub fn modal_submit(st: &mut State, user: u64, custom_id: &str, fields: &[(&str, &str)]) -> R<InteractionHandle> {
    let submitted: Vec<u64> = st.interactions.values().filter_map(|i| i.opened_by).collect();
    let opener = st
        .interactions
        .values()
        .filter(|i| i.user_id == user && !submitted.contains(&i.id))
        .filter(|i| {
            i.callback
                .as_ref()
                .is_some_and(|c| c.kind == 9 && c.data["custom_id"] == custom_id)
        })
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
    if let Some((f, _)) = fields
        .iter()
        .find(|(f, _)| !inputs.iter().any(|i| i["custom_id"] == *f))
    {
        return Err(format!(
            "modal {custom_id:?} has no text input {f:?}; inputs: {inputs:?}"
        ));
    }
    let mut rows = Vec::new();
    for input in &inputs {
        let value = fields
            .iter()
            .find(|(f, _)| input["custom_id"] == *f)
            .map_or("", |(_, v)| *v);
        let len = value.chars().count() as u64;
        let required = input.get("required").and_then(Value::as_bool).unwrap_or(true);
        if (required && value.is_empty())
            || input["min_length"]
                .as_u64()
                .is_some_and(|m| !value.is_empty() && len < m)
            || input["max_length"].as_u64().is_some_and(|m| len > m)
        {
            return Err(format!(
                "modal {custom_id:?}: {value:?} does not satisfy text input {input}"
            ));
        }
        rows.push(json!({"type": 1, "components": [{"type": 4, "custom_id": input["custom_id"], "value": value}]}));
    }
    let data = json!({"custom_id": custom_id, "components": rows});
    let new = NewInteraction {
        kind: 5,
        user,
        channel: opener.channel_id,
        name: custom_id,
        message_id: opener.message_id,
        opened_by: Some(opener.id),
    };
    create_interaction(st, new, data)
}

/// An injected gateway event; pass it to `FakeDiscord::wait_for_delivery`.
#[derive(Clone, Debug)]
pub struct DispatchHandle {
    pub name: String,
    /// Index in the fake's dispatch log; `None` when nothing was dispatched.
    pub index: Option<usize>,
    /// Why nothing was dispatched, when `index` is `None`.
    pub note: String,
}

/// A user's reaction; `dispatch: false` records it as made while the bot was offline.
/// Adding an existing reaction or removing a missing one changes nothing and sends nothing.
pub fn reaction(
    st: &mut State,
    add: bool,
    user: u64,
    channel: u64,
    message: u64,
    emoji: &str,
    dispatch: bool,
) -> R<DispatchHandle> {
    check_actor(st, user, channel)?;
    if st
        .live_message(channel, message)
        .is_none_or(|m| m.ephemeral_to.is_some())
    {
        return Err(format!("message {message} does not exist in channel {channel}"));
    }
    let changed = if add {
        rr::add_reaction(st, message, emoji, user).map_err(|r| format!("reaction refused: {:?}", r.body))?
    } else {
        rr::remove_reaction(st, message, emoji, user)
    };
    let name = if add {
        "MESSAGE_REACTION_ADD"
    } else {
        "MESSAGE_REACTION_REMOVE"
    };
    let mut handle = DispatchHandle {
        name: name.into(),
        index: None,
        note: String::new(),
    };
    if !changed {
        handle.note = format!("user {user} reaction {emoji} was already in that state");
    } else if !dispatch {
        handle.note = "recorded as made while the bot was offline".into();
    } else {
        let d = payloads::reaction_event(st, add, user, &st.messages[&message], emoji);
        handle.index = Some(st.dispatch_injected(name, d)?);
    }
    Ok(handle)
}
