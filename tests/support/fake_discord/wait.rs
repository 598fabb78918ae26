//! Read-only views of the fake's state and waits that wake on state changes (a watch
//! channel), each with a timeout whose panic message shows what the fake did receive.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value;

use super::state::{DispatchRecord, RecordedRequest, State, StoredMessage};
use super::{FakeDiscord, InteractionHandle};

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
    fn new(st: &State, m: &StoredMessage) -> Self {
        let arr = |k: &str| m.fields.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        Self {
            id: m.id,
            channel_id: m.channel_id,
            author_id: m.author_id,
            content: m.fields.get("content").and_then(Value::as_str).unwrap_or_default().into(),
            embeds: arr("embeds"),
            components: arr("components"),
            flags: m.fields.get("flags").and_then(Value::as_u64).unwrap_or(0),
            ephemeral_to: m.ephemeral_to,
            reactions: m.reactions.iter().filter(|r| !r.users.is_empty()).map(|r| (r.key.clone(), r.users.clone())).collect(),
            history: m.history.clone(),
            deleted: m.deleted,
            interaction_id: m.interaction_id,
            json: st.message_json(m),
        }
    }

    pub fn is_ephemeral(&self) -> bool {
        self.ephemeral_to.is_some()
    }

    /// Users who reacted with `emoji`, in reaction order.
    pub fn reaction_users(&self, emoji: &str) -> Vec<u64> {
        self.reactions.iter().find(|(e, _)| e == emoji).map_or(vec![], |(_, u)| u.clone())
    }

    /// Every component (buttons, selects) across the action rows.
    pub fn all_components(&self) -> Vec<Value> {
        self.components.iter().flat_map(|r| r["components"].as_array().cloned().unwrap_or_default()).collect()
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
                let _ = write!(s, "\n{}: {}", f["name"].as_str().unwrap_or(""), f["value"].as_str().unwrap_or(""));
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
        self.data["flags"].as_u64().is_some_and(|f| f & 64 != 0) || self.original.as_ref().is_some_and(MessageView::is_ephemeral)
    }
}

fn outcome(st: &State, id: u64) -> Option<InteractionOutcome> {
    let it = st.interactions.get(&id)?;
    let view = |m: &u64| st.messages.get(m).map(|m| MessageView::new(st, m));
    let delivered = st.events.iter().any(|e| e.name == "INTERACTION_CREATE" && e.d["id"] == id.to_string() && e.delivered);
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
fn diagnostics(st: &State) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "--- fake discord: gateway live={:?} identifies={} resumes={} session={:?}",
        st.gateway.live, st.gateway.identifies.len(), st.gateway.resumes, st.session.as_ref().map(|x| &x.id));
    for l in st.gateway.log.iter().rev().take(5).rev() {
        let _ = writeln!(s, "  gw: {l}");
    }
    let _ = writeln!(s, "--- last dispatches:");
    for e in st.events.iter().rev().take(12).rev() {
        let _ = writeln!(s, "  s={:?} {} delivered={} {}", e.seq, e.name, e.delivered, e.dropped.as_deref().unwrap_or(""));
    }
    let _ = writeln!(s, "--- last REST requests:");
    for r in st.requests.iter().rev().take(15).rev() {
        let body = r.body.as_ref().map(|b| b.to_string().chars().take(200).collect::<String>()).unwrap_or_default();
        let _ = writeln!(s, "  [{:?}] {} {} -> {} {body}", r.at, r.method, r.path, r.status);
    }
    let _ = writeln!(s, "--- problems: {:#?}", st.problems);
    s
}

impl FakeDiscord {
    /// Waits until `check` returns `Some`, re-checking on every state change; panics after
    /// `timeout` with `what` and a summary of what the fake received.
    async fn wait_for<T>(&self, timeout: Duration, what: &str, mut check: impl FnMut(&State) -> Option<T>) -> T {
        let mut rx = self.shared().changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(t) = self.shared().read(&mut check) {
                return t;
            }
            if tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
                let (t, diag) = self.shared().read(|st| (check(st), diagnostics(st)));
                return t.unwrap_or_else(|| panic!("timed out after {timeout:?} waiting for {what}\n{diag}"));
            }
        }
    }

    /// Waits until a bot connection received READY (after IDENTIFY) and is still open.
    pub async fn wait_until_ready(&self, timeout: Duration) {
        self.wait_for(timeout, "the bot to IDENTIFY and get READY", |st| {
            (st.gateway.ready_sent > 0 && st.gateway.live.values().any(|r| *r)).then_some(())
        })
        .await;
    }

    /// Waits until a connection opened after `mark` (from [`Self::disconnect`]) completed
    /// RESUME or IDENTIFY.
    pub async fn wait_until_reconnected(&self, mark: u64, timeout: Duration) {
        self.wait_for(timeout, "the bot to reconnect to the gateway", |st| {
            st.gateway.live.iter().any(|(c, ready)| *c > mark && *ready).then_some(())
        })
        .await;
    }

    /// Waits until the bot sent at least `n` heartbeats (each answered with op 11).
    pub async fn wait_for_heartbeats(&self, n: u64, timeout: Duration) {
        self.wait_for(timeout, &format!("{n} heartbeats"), |st| (st.gateway.heartbeats >= n).then_some(())).await;
    }

    /// Waits for the first accepted callback of an interaction and returns the outcome so
    /// far (followups may still come: see [`Self::wait_for_interaction`]).
    pub async fn interaction_response(&self, h: &InteractionHandle, timeout: Duration) -> InteractionOutcome {
        let what = format!("a callback to interaction {} ({})", h.id, h.name);
        self.wait_for(timeout, &what, |st| outcome(st, h.id).filter(|o| o.callback_type.is_some())).await
    }

    /// Waits until the interaction's outcome satisfies `pred` (e.g. a followup arrived).
    pub async fn wait_for_interaction(&self, h: &InteractionHandle, timeout: Duration, what: &str, pred: impl Fn(&InteractionOutcome) -> bool) -> InteractionOutcome {
        let what = format!("interaction {} ({}): {what}", h.id, h.name);
        self.wait_for(timeout, &what, |st| outcome(st, h.id).filter(|o| pred(o))).await
    }

    /// The interaction's outcome right now.
    pub fn interaction(&self, h: &InteractionHandle) -> InteractionOutcome {
        self.shared().read(|st| outcome(st, h.id)).expect("handle from this fake")
    }

    /// Waits for a message in `channel` (ephemeral ones included) matching `pred`.
    pub async fn wait_for_message(&self, channel: u64, timeout: Duration, pred: impl Fn(&MessageView) -> bool) -> MessageView {
        let what = format!("a matching message in channel {channel}");
        self.wait_for(timeout, &what, |st| {
            st.messages.values().filter(|m| m.channel_id == channel).map(|m| MessageView::new(st, m)).find(|m| pred(m))
        })
        .await
    }

    /// All messages in `channel`, oldest first, including ephemeral and deleted ones.
    pub fn messages(&self, channel: u64) -> Vec<MessageView> {
        self.shared().read(|st| st.messages.values().filter(|m| m.channel_id == channel).map(|m| MessageView::new(st, m)).collect())
    }

    pub fn message(&self, id: u64) -> Option<MessageView> {
        self.shared().read(|st| st.messages.get(&id).map(|m| MessageView::new(st, m)))
    }

    /// Every REST request so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared().read(|st| st.requests.clone())
    }

    /// Requests on one route, e.g. `PUT /channels/{channel}/messages/{message}/reactions/{emoji}/@me`.
    pub fn requests_to(&self, route: &str) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.route == route).collect()
    }

    /// Waits for a REST request matching `pred` (already received ones count).
    pub async fn wait_for_request(&self, timeout: Duration, pred: impl Fn(&RecordedRequest) -> bool) -> RecordedRequest {
        self.wait_for(timeout, "a matching REST request", |st| st.requests.iter().find(|r| pred(r)).cloned()).await
    }

    /// Every gateway dispatch the fake produced (delivered or not).
    pub fn dispatches(&self) -> Vec<DispatchRecord> {
        self.shared().read(|st| st.events.clone())
    }

    /// Waits for a dispatch matching `pred` that was written to a live connection.
    pub async fn wait_for_delivered(&self, timeout: Duration, pred: impl Fn(&DispatchRecord) -> bool) -> DispatchRecord {
        self.wait_for(timeout, "a matching dispatch delivered to the bot", |st| st.events.iter().find(|e| e.delivered && pred(e)).cloned()).await
    }

    /// Registered commands: `None` global, `Some(guild_id)` guild commands.
    pub fn commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.shared().read(|st| st.commands.iter().filter(|(g, _)| *g == guild).map(|(_, c)| c.clone()).collect())
    }

    /// Waits until at least one command is registered in the scope and returns them all.
    pub async fn wait_for_commands(&self, guild: Option<u64>, timeout: Duration) -> Vec<Value> {
        self.wait_for(timeout, "command registration", |st| {
            let c: Vec<Value> = st.commands.iter().filter(|(g, _)| *g == guild).map(|(_, c)| c.clone()).collect();
            (!c.is_empty()).then_some(c)
        })
        .await
    }

    /// What the bot did that Discord would refuse, unknown routes, late callbacks and
    /// payloads serenity could not parse.
    pub fn problems(&self) -> Vec<String> {
        self.shared().read(|st| st.problems.clone())
    }

    /// Panics listing [`Self::problems`] if there are any.
    pub fn assert_no_problems(&self) {
        let (p, diag) = self.shared().read(|st| (st.problems.clone(), diagnostics(st)));
        assert!(p.is_empty(), "the fake Discord saw problems: {p:#?}\n{diag}");
    }

    /// Asserts that every injected interaction was delivered and got an accepted callback
    /// within the deadline: no dispatch was lost silently. Waits up to `timeout`.
    pub async fn assert_interactions_answered(&self, timeout: Duration) {
        self.wait_for(timeout, "every interaction to be answered in time", |st| {
            st.interactions.values().all(|i| i.callback.is_some()).then_some(())
        })
        .await;
        let late: Vec<String> = self.shared().read(|st| {
            let limit = st.cfg.interaction_deadline;
            st.interactions.values().filter(|i| i.callback.as_ref().is_some_and(|c| c.after > limit)).map(|i| i.name.clone()).collect()
        });
        assert!(late.is_empty(), "interactions answered late: {late:?}");
    }
}
