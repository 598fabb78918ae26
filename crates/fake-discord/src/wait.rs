//! Observing the fake from a test: snapshots, and waits that wake on state changes (a
//! watch channel), each with a timeout whose panic message shows what the fake received.

use std::time::Duration;

use serde_json::Value;

use super::state::{DispatchRecord, RecordedRequest, State};
use super::views::{InteractionOutcome, MessageView, diagnostics, outcome};
use super::{DispatchHandle, FakeDiscord, InteractionHandle};

impl FakeDiscord {
    /// Waits until `check` returns `Some`, re-checking on every state change; `None` after
    /// `timeout`.
    async fn try_wait_for<T>(&self, timeout: Duration, mut check: impl FnMut(&State) -> Option<T>) -> Option<T> {
        let mut rx = self.shared().changed.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(t) = self.shared().read(&mut check) {
                return Some(t);
            }
            if tokio::time::timeout_at(deadline, rx.changed()).await.is_err() {
                return self.shared().read(&mut check);
            }
        }
    }

    /// Like `try_wait_for`, but panics after `timeout` with `what` and a summary of what
    /// the fake received.
    async fn wait_for<T>(&self, timeout: Duration, what: &str, check: impl FnMut(&State) -> Option<T>) -> T {
        match self.try_wait_for(timeout, check).await {
            Some(t) => t,
            None => {
                let diag = self.shared().read(diagnostics);
                panic!("timed out after {timeout:?} waiting for {what}\n{diag}")
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

    /// Waits until no gateway connection is open (the bot is down).
    pub async fn wait_until_disconnected(&self, timeout: Duration) {
        self.wait_for(timeout, "every gateway connection to close", |st| {
            st.gateway.live.is_empty().then_some(())
        })
        .await;
    }

    /// Waits until a connection opened after `mark` (from [`Self::disconnect`]) completed
    /// RESUME or IDENTIFY.
    pub async fn wait_until_reconnected(&self, mark: u64, timeout: Duration) {
        self.wait_for(timeout, "the bot to reconnect to the gateway", |st| {
            st.gateway
                .live
                .iter()
                .any(|(c, ready)| *c > mark && *ready)
                .then_some(())
        })
        .await;
    }

    /// Waits until the bot sent at least `n` heartbeats (each answered with op 11).
    pub async fn wait_for_heartbeats(&self, n: u64, timeout: Duration) {
        self.wait_for(timeout, &format!("{n} heartbeats"), |st| {
            (st.gateway.heartbeats >= n).then_some(())
        })
        .await;
    }

    /// Waits for the first accepted callback of an interaction and returns the outcome so
    /// far (followups may still come: see [`Self::wait_for_interaction`]). Fails soon
    /// after the interaction deadline (3 s) if nothing was accepted, since Discord would
    /// refuse any later callback, or after `timeout`, whichever is first.
    pub async fn interaction_response(&self, h: &InteractionHandle, timeout: Duration) -> InteractionOutcome {
        let accepted = |st: &State| outcome(st, h.id).filter(|o| o.callback_type.is_some());
        let limit = self.shared().read(|st| {
            let created = st.interactions.get(&h.id).map(|i| i.created_at);
            let left = created.map(|c| st.cfg.interaction_deadline.saturating_sub(c.elapsed()));
            left.map_or(timeout, |l| timeout.min(l + Duration::from_millis(500)))
        });
        if let Some(o) = self.try_wait_for(limit, accepted).await {
            return o;
        }
        let (o, diag) = self.shared().read(|st| (outcome(st, h.id), diagnostics(st)));
        panic!(
            "interaction {} ({}) got no accepted callback within {limit:?} (deadline {:?}): \
             delivered={:?} refused={:?}\n{diag}",
            h.id,
            h.name,
            self.shared().read(|st| st.cfg.interaction_deadline),
            o.as_ref().map(|o| o.delivered),
            o.map(|o| o.refused),
        )
    }

    /// Waits until the interaction's outcome satisfies `pred` (e.g. a followup arrived).
    pub async fn wait_for_interaction(
        &self,
        h: &InteractionHandle,
        what: &str,
        pred: impl Fn(&InteractionOutcome) -> bool,
        timeout: Duration,
    ) -> InteractionOutcome {
        let what = format!("interaction {} ({}): {what}", h.id, h.name);
        self.wait_for(timeout, &what, |st| outcome(st, h.id).filter(|o| pred(o)))
            .await
    }

    /// The interaction's outcome right now.
    pub fn interaction(&self, h: &InteractionHandle) -> InteractionOutcome {
        self.shared()
            .read(|st| outcome(st, h.id))
            .expect("handle from this fake")
    }

    /// Waits for a message in `channel` (ephemeral ones included) matching `pred`.
    pub async fn wait_for_message(
        &self,
        channel: u64,
        pred: impl Fn(&MessageView) -> bool,
        timeout: Duration,
    ) -> MessageView {
        let what = format!("a matching message in channel {channel}");
        self.wait_for(timeout, &what, |st| {
            st.messages
                .values()
                .filter(|m| m.channel_id == channel)
                .map(|m| MessageView::new(st, m))
                .find(|m| pred(m))
        })
        .await
    }

    /// All messages in `channel`, oldest first, including ephemeral and deleted ones.
    pub fn messages(&self, channel: u64) -> Vec<MessageView> {
        self.shared().read(|st| {
            st.messages
                .values()
                .filter(|m| m.channel_id == channel)
                .map(|m| MessageView::new(st, m))
                .collect()
        })
    }

    /// One message by id (ephemeral and deleted ones included).
    pub fn message(&self, id: u64) -> Option<MessageView> {
        self.shared()
            .read(|st| st.messages.get(&id).map(|m| MessageView::new(st, m)))
    }

    /// The files attached to message `id` as it stands: (file name, description, bytes).
    pub fn attachments(&self, id: u64) -> Vec<(String, Option<String>, Vec<u8>)> {
        self.shared().read(|st| {
            let Some(m) = st.messages.get(&id) else {
                return Vec::new();
            };
            m.fields
                .get("attachments")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    let id: u64 = a["id"].as_str()?.parse().ok()?;
                    let (name, bytes) = st.uploads.get(&id)?.clone();
                    Some((name, a["description"].as_str().map(str::to_owned), bytes))
                })
                .collect()
        })
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
    pub async fn wait_for_request(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> RecordedRequest {
        self.wait_for(timeout, "a matching REST request", |st| {
            st.requests.iter().find(|r| pred(r)).cloned()
        })
        .await
    }

    /// Every gateway dispatch the fake produced (delivered or not).
    pub fn dispatches(&self) -> Vec<DispatchRecord> {
        self.shared().read(|st| st.events.clone())
    }

    /// Waits for a dispatch matching `pred` that was written to a live connection.
    pub async fn wait_for_delivered(
        &self,
        pred: impl Fn(&DispatchRecord) -> bool,
        timeout: Duration,
    ) -> DispatchRecord {
        self.wait_for(timeout, "a matching dispatch delivered to the bot", |st| {
            st.events.iter().find(|e| e.delivered && pred(e)).cloned()
        })
        .await
    }

    /// Waits until the event behind `h` (from `react`, `unreact`, `dispatch_raw`) reached
    /// the bot's live connection. Fails at once if the fake could not queue it (bot not
    /// identified, missing intent) or there was no event (e.g. the reaction existed).
    pub async fn wait_for_delivery(&self, h: &DispatchHandle, timeout: Duration) -> DispatchRecord {
        let Some(i) = h.index else {
            panic!("{}: no event was dispatched ({})", h.name, h.note);
        };
        let ev = self.shared().read(|st| st.events[i].clone());
        if let Some(why) = &ev.dropped {
            panic!("{} was never sent: {why}", ev.name);
        }
        let what = format!("{} (s={:?}) to reach the bot", ev.name, ev.seq);
        self.wait_for(timeout, &what, |st| {
            Some(&st.events[i]).filter(|e| e.delivered).cloned()
        })
        .await
    }

    /// Registered commands: `None` global, `Some(guild_id)` guild commands.
    pub fn commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.shared().read(|st| {
            st.commands
                .iter()
                .filter(|(g, _)| *g == guild)
                .map(|(_, c)| c.clone())
                .collect()
        })
    }

    /// Waits until at least one command is registered in the scope and returns them all.
    pub async fn wait_for_commands(&self, guild: Option<u64>, timeout: Duration) -> Vec<Value> {
        self.wait_for(timeout, "command registration", |st| {
            let c: Vec<Value> = st
                .commands
                .iter()
                .filter(|(g, _)| *g == guild)
                .map(|(_, c)| c.clone())
                .collect();
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
            st.interactions
                .values()
                .filter(|i| i.callback.as_ref().is_some_and(|c| c.after > limit))
                .map(|i| i.name.clone())
                .collect()
        });
        assert!(late.is_empty(), "interactions answered late: {late:?}");
    }

    /// Asserts that every event a test injected reached the bot's live connection: none was
    /// dropped (bot not identified, missing intent) and none is stuck. Waits up to `timeout`.
    pub async fn assert_dispatches_delivered(&self, timeout: Duration) {
        let dropped: Vec<String> = self.shared().read(|st| {
            let injected = st.events.iter().filter(|e| e.injected);
            let why = |e: &DispatchRecord| e.dropped.as_ref().map(|w| format!("{}: {w}", e.name));
            injected.filter_map(why).collect()
        });
        assert!(
            dropped.is_empty(),
            "injected events never reached the bot: {dropped:#?}"
        );
        self.wait_for(timeout, "every injected event to be delivered", |st| {
            st.events.iter().all(|e| !e.injected || e.delivered).then_some(())
        })
        .await;
    }

    /// Whether serenity 0.12.5 parses `d` as the dispatch `name` (it silently drops events
    /// it cannot parse). `Err` carries serenity's deserialization error.
    pub fn serenity_accepts(name: &str, d: &Value) -> Result<(), String> {
        super::payloads::check_event(name, d)
    }
}
