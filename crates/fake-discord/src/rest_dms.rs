//! Direct messages as Discord does them: `POST /users/@me/channels` opens (or returns the
//! existing) DM channel with a user who shares a guild with the bot; posting into it needs no
//! guild permission, but a user who turned off "direct messages from server members" makes
//! Discord answer 403 / 50007. DM dispatches need the DIRECT_MESSAGES intents.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use serenity::model::prelude::*;

use super::FakeDiscord;
use super::payloads::{self, id};
use super::rest::{Ctx, Reply};
use super::rest_guild::checked;
use super::state::{ChannelRec, State};

/// Discord's channel type of a DM.
pub const DM: u8 = 1;

/// DM channels and who may not be messaged.
#[derive(Debug, Default)]
pub struct Dms {
    /// DM channel id → its recipient.
    pub recipients: BTreeMap<u64, u64>,
    /// Users whose privacy settings refuse DMs from server members.
    pub closed: BTreeSet<u64>,
}

/// The DM channel object Discord returns (checked as serenity's `PrivateChannel`).
pub fn dm_json(st: &State, channel: u64, recipient: u64) -> Value {
    json!({
        "id": id(channel), "type": DM, "last_message_id": null, "flags": 0,
        "recipients": [payloads::user(st, recipient)],
    })
}

/// `POST /users/@me/channels` with `{"recipient_id": …}`.
pub fn create_dm(st: &mut State, ctx: &Ctx) -> Reply {
    let recipient = match &ctx.body["recipient_id"] {
        Value::String(s) => s.parse().unwrap_or(0),
        v => v.as_u64().unwrap_or(0),
    };
    let shares_guild = st.members.contains_key(&recipient);
    if recipient == st.bot_user_id || !shares_guild || st.user(recipient).is_some_and(|u| u.bot) {
        return Reply::error(400, 50033, "Invalid Recipient(s)");
    }
    let existing = st
        .dms
        .recipients
        .iter()
        .find(|(_, u)| **u == recipient)
        .map(|(c, _)| *c);
    let channel = existing.unwrap_or_else(|| {
        let channel = st.snowflake();
        let rec = ChannelRec {
            id: channel,
            name: String::new(),
            kind: DM,
            parent_id: None,
            owner_id: None,
            position: 0,
            overwrites: Vec::new(),
        };
        st.channels.insert(channel, rec);
        st.dms.recipients.insert(channel, recipient);
        channel
    });
    let v = dm_json(st, channel, recipient);
    checked::<PrivateChannel>(st, "DM channel", v)
}

/// For a message posted in a DM channel: `Some(403 / 50007)` when the recipient refuses DMs.
pub fn refuse_post(st: &State, channel: u64) -> Option<Reply> {
    let recipient = st.dms.recipients.get(&channel)?;
    st.dms
        .closed
        .contains(recipient)
        .then(|| Reply::error(403, 50007, "Cannot send messages to this user"))
}

/// Test controls for direct messages.
impl FakeDiscord {
    /// The user turns off "Allow direct messages from server members": the bot can still open
    /// the DM channel, but posting into it fails with 50007, as on Discord.
    pub fn close_dms(&self, user: u64) {
        self.shared().with(|st| st.dms.closed.insert(user));
    }

    /// The DM channel the bot opened with `user`, if any (read it with `messages`).
    pub fn dm_channel(&self, user: u64) -> Option<u64> {
        self.shared()
            .read(|st| st.dms.recipients.iter().find(|(_, u)| **u == user).map(|(c, _)| *c))
    }
}
