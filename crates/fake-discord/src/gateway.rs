//! The gateway: HELLO, IDENTIFY → READY + GUILD_CREATE, RESUME (which serenity sends before
//! reading HELLO) → replay + RESUMED or op 9, heartbeat ACKs, and queued dispatches with
//! increasing `s`. Text frames only; serenity accepts uncompressed JSON.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::config::intents;
use super::payloads;
use super::state::{Session, State};
use super::{FakeDiscord, Shared};

type Ws = WebSocketStream<TcpStream>;

/// Accepts gateway connections forever, one task per connection.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let conn = shared.with(|st| {
                st.gateway.connections += 1;
                st.gateway.live.insert(st.gateway.connections, false);
                st.gateway.connections
            });
            let result = connection(&shared, conn, stream).await;
            shared.with(|st| {
                st.gateway.live.remove(&conn);
                if let Err(e) = result {
                    st.gateway.log.push(format!("connection {conn} ended: {e}"));
                }
            });
        });
    }
}

async fn send(ws: &mut Ws, v: &Value) -> Result<(), String> {
    ws.send(WsMessage::Text(v.to_string())).await.map_err(|e| e.to_string())
}

async fn close(ws: &mut Ws, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.to_string().into(),
    };
    let _ = ws.close(Some(frame)).await;
}

/// Whether `disconnect()` asked this connection to go away, and with which close code.
fn kill_order(st: &State, conn: u64) -> Option<Option<u16>> {
    (conn < st.gateway.kill_below).then_some(st.gateway.kill_code)
}

enum Next {
    Frame(Option<Value>),
    Closed,
    Killed(Option<u16>),
    Changed,
}

async fn next(shared: &Shared, conn: u64, ws: &mut Ws, changed: &mut watch::Receiver<u64>) -> Next {
    if let Some(code) = shared.read(|st| kill_order(st, conn)) {
        return Next::Killed(code);
    }
    tokio::select! {
        m = ws.next() => match m {
            Some(Ok(WsMessage::Text(t))) => Next::Frame(serde_json::from_str(&t).ok()),
            // tungstenite queued the answering Close frame; send it, as Discord completes the
            // closing handshake.
            Some(Ok(WsMessage::Close(_))) => {
                let _ = ws.flush().await;
                Next::Closed
            }
            Some(Err(_)) | None => Next::Closed,
            Some(Ok(_)) => Next::Frame(None),
        },
        _ = changed.changed() => Next::Changed,
    }
}

async fn connection(shared: &Shared, conn: u64, stream: TcpStream) -> Result<(), String> {
    use tokio_tungstenite::tungstenite::handshake::server::Request;
    // The error type is tungstenite's (large); this callback never fails.
    #[allow(clippy::result_large_err)]
    let log_url = |req: &Request, resp| {
        let line = format!("connection {conn}: GET {}", req.uri());
        shared.with(|st| st.gateway.log.push(line));
        Ok(resp)
    };
    let mut ws = tokio_tungstenite::accept_hdr_async(stream, log_url)
        .await
        .map_err(|e| e.to_string())?;
    let mut changed = shared.changed.subscribe();
    let interval = shared.read(|st| st.cfg.heartbeat_interval.as_millis() as u64);
    send(
        &mut ws,
        &json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": interval}}),
    )
    .await?;

    // Handshake: IDENTIFY or RESUME (serenity sends RESUME without waiting for HELLO).
    let (session_id, mut sent_upto) = loop {
        let frame = match next(shared, conn, &mut ws, &mut changed).await {
            Next::Frame(Some(v)) => v,
            Next::Frame(None) | Next::Changed => continue,
            Next::Closed => return Ok(()),
            Next::Killed(code) => return kill(&mut ws, code).await,
        };
        match frame["op"].as_u64() {
            Some(1) => heartbeat_ack(shared, &mut ws).await?,
            Some(2) => match shared.with(|st| identify(st, &frame["d"])) {
                Ok(sid) => break (sid, 0),
                Err((code, reason)) => {
                    close(&mut ws, code, reason).await;
                    return Ok(());
                }
            },
            Some(6) => match shared.with(|st| resume(st, &frame["d"])) {
                Some(v) => break v,
                None => send(&mut ws, &json!({"op": 9, "s": null, "t": null, "d": false})).await?,
            },
            _ => {
                close(&mut ws, 4003, "Not authenticated.").await;
                return Ok(());
            }
        }
    };

    // Events are only ever appended: each pass looks at those added since the last one (a
    // RESUME, on a new connection, starts again from the first).
    let mut scanned = 0;
    loop {
        // Checked under the same lock as the read: nothing queued after `disconnect()` can
        // slip out on the connection being dropped; it waits for the RESUME replay.
        let pending = shared.read(|st| match kill_order(st, conn) {
            Some(code) => Err(code),
            None => Ok(pending_frames(st, &session_id, sent_upto, &mut scanned)),
        });
        let pending = match pending {
            Ok(p) => p,
            Err(code) => return kill(&mut ws, code).await,
        };
        for (idx, seq, text) in pending {
            ws.send(WsMessage::Text(text)).await.map_err(|e| e.to_string())?;
            let written = std::time::Instant::now();
            sent_upto = seq;
            shared.with(|st| {
                let ev = &mut st.events[idx];
                ev.delivered = true;
                ev.delivered_at = Some(written.saturating_duration_since(st.started));
                ev.connection = Some(conn);
                if ev.name == "READY" || ev.name == "RESUMED" {
                    st.gateway.ready_sent += u64::from(ev.name == "READY");
                    st.gateway.live.insert(conn, true);
                }
            });
        }
        match next(shared, conn, &mut ws, &mut changed).await {
            Next::Frame(Some(v)) if v["op"] == 1 => heartbeat_ack(shared, &mut ws).await?,
            Next::Frame(_) | Next::Changed => {}
            Next::Closed => return Ok(()),
            Next::Killed(code) => return kill(&mut ws, code).await,
        }
    }
}

/// Dispatches of `session` after `sent_upto` among the events from index `scanned` on, as
/// (event index, seq, frame text); moves `scanned` past the last event.
fn pending_frames(st: &State, session: &str, sent_upto: u64, scanned: &mut usize) -> Vec<(usize, u64, String)> {
    let from = (*scanned).min(st.events.len());
    *scanned = st.events.len();
    let queued = st.events[from..]
        .iter()
        .enumerate()
        .map(|(i, e)| (from + i, e))
        .filter(|(_, e)| e.session_id.as_deref() == Some(session) && e.seq.is_some_and(|s| s > sent_upto));
    queued
        .map(|(i, e)| {
            let s = e.seq.unwrap_or_default();
            let frame = json!({"op": 0, "s": s, "t": e.name, "d": e.d});
            (i, s, frame.to_string())
        })
        .collect()
}

async fn kill(ws: &mut Ws, code: Option<u16>) -> Result<(), String> {
    if let Some(code) = code {
        close(ws, code, "closed by the test").await;
    }
    // Without a code the socket is dropped with no close frame, like a network failure.
    Ok(())
}

async fn heartbeat_ack(shared: &Shared, ws: &mut Ws) -> Result<(), String> {
    send(ws, &json!({"op": 11})).await?;
    shared.with(|st| st.gateway.heartbeats += 1);
    Ok(())
}

fn token_ok(st: &State, d: &Value) -> bool {
    let t = d["token"].as_str().unwrap_or_default();
    t == st.cfg.token || t.strip_prefix("Bot ") == Some(st.cfg.token.as_str())
}

/// Starts a new session and queues READY (s=1) and GUILD_CREATE; errors are close codes.
fn identify(st: &mut State, d: &Value) -> Result<String, (u16, &'static str)> {
    st.gateway.identifies.push(d.clone());
    if !token_ok(st, d) {
        return Err((4004, "Authentication failed."));
    }
    let asked = d["intents"].as_u64().unwrap_or(0);
    if asked & intents::PRIVILEGED & !st.cfg.privileged_intents != 0 {
        return Err((4014, "Disallowed intent(s)."));
    }
    let id = format!("fake-session-{}", st.gateway.identifies.len());
    st.session = Some(Session {
        id: id.clone(),
        intents: asked,
        seq: 0,
    });
    let shard = d.get("shard").cloned().unwrap_or(json!([0, 1]));
    let ready = payloads::ready(st, &id, &shard);
    st.dispatch("READY", ready).map_err(|_| (4000, "fake READY invalid"))?;
    let guilds: Vec<u64> = std::iter::once(st.guild_id)
        .chain(st.other_guilds.keys().copied())
        .collect();
    for guild in guilds {
        let created = payloads::guild_create(st, guild);
        let _ = st.dispatch("GUILD_CREATE", created);
    }
    Ok(id)
}

/// Accepts a RESUME of the current session: events after the client's `seq` are replayed,
/// then RESUMED. `None` means op 9 (session not resumable).
fn resume(st: &mut State, d: &Value) -> Option<(String, u64)> {
    let current = st.session.as_ref().map(|s| s.id.clone());
    let ok = !st.gateway.refuse_resume && token_ok(st, d) && current.as_deref() == d["session_id"].as_str();
    st.gateway
        .log
        .push(format!("RESUME {d} -> {}", if ok { "accepted" } else { "op 9" }));
    if !ok {
        return None;
    }
    st.gateway.resumes += 1;
    let _ = st.dispatch("RESUMED", json!({"_trace": ["fake-discord"]}));
    Some((current?, d["seq"].as_u64().unwrap_or(0)))
}

/// Gateway controls for tests.
impl FakeDiscord {
    /// Drops every gateway connection without a close frame (a network outage). serenity
    /// then RESUMEs. Returns a mark for [`Self::wait_until_reconnected`].
    pub fn disconnect(&self) -> u64 {
        self.close_gateway(None)
    }

    /// Closes every gateway connection with `code` (e.g. 4000 → serenity resumes,
    /// 4009 → it re-identifies), or drops them when `None`. Returns a reconnect mark.
    pub fn close_gateway(&self, code: Option<u16>) -> u64 {
        self.shared.with(|st| {
            st.gateway.kill_below = st.gateway.connections + 1;
            st.gateway.kill_code = code;
            st.gateway.connections
        })
    }

    /// When set, RESUME gets op 9 (not resumable), so serenity must IDENTIFY again and the
    /// events queued meanwhile are lost, as on Discord.
    pub fn refuse_resume(&self, refuse: bool) {
        self.shared.with(|st| st.gateway.refuse_resume = refuse);
    }

    /// Gateway connections opened so far: a mark for [`Self::wait_until_reconnected`] that
    /// leaves the current connections alone (a bot process about to be started or restarted).
    pub fn connection_mark(&self) -> u64 {
        self.shared.read(|st| st.gateway.connections)
    }

    /// Whether a bot connection has completed IDENTIFY/READY or RESUME/RESUMED.
    pub fn is_connected(&self) -> bool {
        self.shared.read(|st| st.gateway.live.values().any(|ready| *ready))
    }

    /// IDENTIFY payloads received (token, intents, shard, properties…).
    pub fn identifies(&self) -> Vec<Value> {
        self.shared.read(|st| st.gateway.identifies.clone())
    }

    /// Number of accepted RESUMEs.
    pub fn resume_count(&self) -> u64 {
        self.shared.read(|st| st.gateway.resumes)
    }

    /// Heartbeats (op 1) answered with op 11.
    pub fn heartbeat_count(&self) -> u64 {
        self.shared.read(|st| st.gateway.heartbeats)
    }
}
