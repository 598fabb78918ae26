//! Read-only views of the fake's state given to tests, and the diagnostics printed when a
//! wait times out.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use super::state::{State, StoredMessage};

/// A message as stored by the fake (including ephemeral ones and deleted ones).
#[derive(Clone, Debug)]
pub struct MessageView {
    pub id: u64,
    pub channel_id: u64,
    pub author_id: u64,
    pub content: String,
    pub embeds: Vec<Value>,
    /// Action rows as the bot sent them.
    pub components: Vec<Value>,
    pub flags: u64,
    /// `Some(user)`: an ephemeral interaction message only that user sees.
    pub ephemeral_to: Option<u64>,
    /// (emoji, user ids in reaction order) for every emoji with at least one reaction.
    pub reactions: Vec<(String, Vec<u64>)>,
    /// Earlier versions (full message JSON), oldest first.
    pub history: Vec<Value>,
    pub deleted: bool,
    pub interaction_id: Option<u64>,
    /// The message JSON Discord would return.
    pub json: Value,
}

impl MessageView {
    /// Snapshot of a stored message.
    pub fn new(st: &State, m: &StoredMessage) -> Self {
        let arr = |k: &str| m.fields.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        Self {
            id: m.id,
            channel_id: m.channel_id,
            author_id: m.author_id,
            content: m
                .fields
                .get("content")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            embeds: arr("embeds"),
            components: arr("components"),
            flags: m.fields.get("flags").and_then(Value::as_u64).unwrap_or(0),
            ephemeral_to: m.ephemeral_to,
            reactions: m
                .reactions
                .iter()
                .filter(|r| !r.users.is_empty())
                .map(|r| (r.key.clone(), r.users.clone()))
                .collect(),
            history: m.history.clone(),
            deleted: m.deleted,
            interaction_id: m.interaction_id,
            json: st.message_json(m),
        }
    }

    /// An ephemeral interaction message (only `ephemeral_to` sees it).
    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral_to.is_some()
    }

    /// Users who reacted with `emoji`, in reaction order.
    pub fn reaction_users(&self, emoji: &str) -> Vec<u64> {
        self.reactions
            .iter()
            .find(|(e, _)| e == emoji)
            .map_or(vec![], |(_, u)| u.clone())
    }

    /// Every component (buttons, selects) across the action rows.
    pub fn all_components(&self) -> Vec<Value> {
        self.components
            .iter()
            .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
            .collect()
    }

    /// The component with this `custom_id`.
    pub fn component(&self, custom_id: &str) -> Option<Value> {
        self.all_components().into_iter().find(|c| c["custom_id"] == custom_id)
    }

    /// Content plus embed titles, descriptions, field names/values and footers, for
    /// `contains` assertions.
    pub fn text(&self) -> String {
        let mut s = self.content.clone();
        for e in &self.embeds {
            for p in ["/title", "/description", "/footer/text", "/author/name"] {
                if let Some(t) = e.pointer(p).and_then(Value::as_str) {
                    let _ = write!(s, "\n{t}");
                }
            }
            for f in e["fields"].as_array().into_iter().flatten() {
                let _ = write!(
                    s,
                    "\n{}: {}",
                    f["name"].as_str().unwrap_or(""),
                    f["value"].as_str().unwrap_or("")
                );
            }
        }
        s
    }
}

/// What became of an injected interaction.
#[derive(Clone, Debug)]
pub struct InteractionOutcome {
    pub id: u64,
    /// Accepted callback type: 4 message, 5 deferred, 6 deferred update, 7 update message,
    /// 8 autocomplete result, 9 modal. `None` if none was accepted (yet).
    pub callback_type: Option<u64>,
    /// The callback's `data` (`Null` for 6).
    pub data: Value,
    pub acknowledged_after: Option<Duration>,
    /// Callback attempts refused: (HTTP status, Discord code, time after dispatch).
    pub refused: Vec<(u16, i64, Duration)>,
    /// `@original`: the response message (4/5) or the component's message (6/7).
    pub original: Option<MessageView>,
    /// Messages created by followups, in order.
    pub followups: Vec<MessageView>,
    /// A type 5 deferral still shows "thinking…".
    pub thinking: bool,
    /// INTERACTION_CREATE was written to a live gateway connection.
    pub delivered: bool,
}

impl InteractionOutcome {
    /// Whether the response (data flags, or the original message) is ephemeral.
    pub fn ephemeral(&self) -> bool {
        self.data["flags"].as_u64().is_some_and(|f| f & 64 != 0)
            || self.original.as_ref().is_some_and(MessageView::is_ephemeral)
    }
}

/// What became of interaction `id` so far.
pub fn outcome(st: &State, id: u64) -> Option<InteractionOutcome> {
    let it = st.interactions.get(&id)?;
    let view = |m: &u64| st.messages.get(m).map(|m| MessageView::new(st, m));
    let delivered = st.events.get(it.event).is_some_and(|e| e.delivered);
    Some(InteractionOutcome {
        id,
        callback_type: it.callback.as_ref().map(|c| c.kind),
        data: it.callback.as_ref().map_or(Value::Null, |c| c.data.clone()),
        acknowledged_after: it.callback.as_ref().map(|c| c.after),
        refused: it.refused.clone(),
        original: it.original_message_id.as_ref().and_then(view),
        followups: it.followup_ids.iter().filter_map(view).collect(),
        thinking: it.thinking,
        delivered,
    })
}

/// A summary of what the fake saw, appended to every wait failure.
pub fn diagnostics(st: &State) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "--- fake discord: gateway live={:?} identifies={} resumes={} session={:?}",
        st.gateway.live,
        st.gateway.identifies.len(),
        st.gateway.resumes,
        st.session.as_ref().map(|x| &x.id)
    );
    for l in st.gateway.log.iter().rev().take(5).rev() {
        let _ = writeln!(s, "  gw: {l}");
    }
    let _ = writeln!(s, "--- last dispatches:");
    for e in st.events.iter().rev().take(12).rev() {
        let _ = writeln!(
            s,
            "  s={:?} {} delivered={} {}",
            e.seq,
            e.name,
            e.delivered,
            e.dropped.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(s, "--- last REST requests:");
    for r in st.requests.iter().rev().take(15).rev() {
        let body = r
            .body
            .as_ref()
            .map(|b| b.to_string().chars().take(200).collect::<String>())
            .unwrap_or_default();
        let _ = writeln!(s, "  [{:?}] {} {} -> {} {body}", r.at, r.method, r.path, r.status);
    }
    let _ = writeln!(s, "--- problems: {:#?}", st.problems);
    s
}
