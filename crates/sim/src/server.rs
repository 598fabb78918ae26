//! HTTP: the Tencent Cloud API at `POST /` (any Host) and the control endpoint under `/_sim/`.
//! Connections can be cut on purpose (fault injection), so the listener wraps each socket in a
//! kill switch the handler can flip.

use super::Shared;
use super::actions::{Api, ApiFailure, Ctx, dispatch, fail};
use super::auth::{SignedRequest, claimed_secret_id, verify, verify_v1};
use super::clock::{iso, wall_unix_ms};
use super::faults::{Failure, Garble};
use super::language::Language;
use super::log::{LoggedRequest, masked};
use super::wire::{Incoming, field, unflatten};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::{IncomingStream, Listener};
use serde_json::{Value, json};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tracing::{debug, warn};

/// Tencent's documented body limit for a v3 POST (a GET's query string is also bounded, by 32 KB).
const BODY_LIMIT: usize = 10 * 1024 * 1024;

/// The router: API and control endpoint.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(api).post(api))
        .merge(super::control::routes())
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(shared)
}

/// A TCP listener whose connections carry a kill switch.
pub struct SimListener(pub TcpListener);

/// The peer address and the kill switch of a connection.
#[derive(Clone, Debug)]
pub struct Conn {
    /// The peer.
    pub addr: SocketAddr,
    /// Set to cut the connection without an answer.
    pub kill: Arc<AtomicBool>,
}

/// A socket that fails every read and write once its kill switch is set.
pub struct KillableStream {
    inner: TcpStream,
    kill: Arc<AtomicBool>,
}

impl Listener for SimListener {
    type Io = KillableStream;
    type Addr = Conn;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    let kill = Arc::new(AtomicBool::new(false));
                    let conn = Conn {
                        addr,
                        kill: kill.clone(),
                    };
                    return (KillableStream { inner: stream, kill }, conn);
                }
                Err(error) => {
                    warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(Conn {
            addr: self.0.local_addr()?,
            kill: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl Connected<IncomingStream<'_, SimListener>> for Conn {
    fn connect_info(stream: IncomingStream<'_, SimListener>) -> Self {
        stream.remote_addr().clone()
    }
}

fn killed() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "connection cut by the simulator")
}

impl AsyncRead for KillableStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if self.kill.load(Ordering::SeqCst) {
            return Poll::Ready(Err(killed()));
        }
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// What the synchronous part of a call decided.
struct Outcome {
    body: Value,
    drop: bool,
    garble: Option<Garble>,
    latency: std::time::Duration,
}

/// The page a gateway in front of the API might answer with.
const GATEWAY_PAGE: &str =
    "<html><head><title>Gateway</title></head><body><h1>The upstream answer was lost</h1></body></html>";

async fn api(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<Conn>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let incoming = Incoming {
        method: method.as_str(),
        query: uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    let outcome = handle(&shared, &incoming);
    if !outcome.latency.is_zero() {
        tokio::time::sleep(outcome.latency).await;
    }
    if outcome.drop {
        debug!(peer = %conn.addr, "cutting the connection on purpose");
        conn.kill.store(true, Ordering::SeqCst);
        return (StatusCode::OK, Body::empty()).into_response();
    }
    let html = |status: StatusCode| (status, [(header::CONTENT_TYPE, "text/html")], GATEWAY_PAGE).into_response();
    match outcome.garble {
        Some(Garble::Html) => return html(StatusCode::OK),
        Some(Garble::Status(code)) => {
            return html(StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY));
        }
        Some(Garble::Without(_)) | None => {}
    }
    let bytes = serde_json::to_vec(&outcome.body).unwrap_or_else(|_| b"{}".to_vec());
    ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
}

/// Parses, authenticates, limits, injects faults and runs one call. Synchronous: the world lock
/// is taken and released inside, never held across an await.
fn handle(shared: &Shared, incoming: &Incoming<'_>) -> Outcome {
    let request_id = shared.next_request_id();
    let form = incoming.form();
    // The older signature method carries its common parameters among the form fields; TC3 puts
    // them in X-TC-* headers (a form field stands in when a header is missing).
    let tc3 = incoming
        .header("authorization")
        .is_some_and(|a| a.starts_with(cvmbot_tencent::sign::ALGORITHM));
    let v1 = !tc3 && form.as_deref().is_some_and(|f| field(f, "Signature").is_some());
    let common = |header: &str, name: &str| {
        incoming
            .header(header)
            .filter(|v| !v.is_empty())
            .or_else(|| form.as_deref().and_then(|f| field(f, name)).map(str::to_owned))
    };
    let action = common("x-tc-action", "Action").unwrap_or_default();
    let language = Language::parse(common("x-tc-language", "Language").as_deref());
    let answer_in = language.clone().unwrap_or_default();
    let (params, malformed) = match form.as_deref().map(unflatten) {
        Some(Ok(tree)) => (tree, None),
        Some(Err(failure)) => (json!({}), Some(failure)),
        None if incoming.body.iter().all(u8::is_ascii_whitespace) => (json!({}), None),
        None => (
            serde_json::from_slice(incoming.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(incoming.body).into_owned())),
            None,
        ),
    };
    let secret_id = if v1 {
        form.as_deref().and_then(|f| field(f, "SecretId")).map(str::to_owned)
    } else {
        claimed_secret_id(incoming.headers)
    };
    let mut entry = LoggedRequest {
        seq: 0,
        sim_time: iso(shared.clock.now()),
        wall_ms: wall_unix_ms(),
        action: action.clone(),
        version: common("x-tc-version", "Version").unwrap_or_default(),
        region: common("x-tc-region", "Region"),
        secret_id,
        client_token: params.get("ClientToken").and_then(Value::as_str).map(str::to_owned),
        params: masked(params.clone()),
        signature: "unchecked".into(),
        response: String::new(),
        request_id: request_id.clone(),
        fault: None,
    };
    let mut drop = false;
    let mut garble = None;
    let mut latency = std::time::Duration::ZERO;
    let result = (|| -> Result<Value, ApiFailure> {
        let api = precheck(&action, &entry.version)?;
        language?;
        let wall_now = wall_unix_ms() / 1000;
        let verdict = match form.as_deref() {
            Some(form) if v1 => {
                let host = incoming.header("host").unwrap_or_default();
                verify_v1(&shared.cat, incoming.method, &host, form, wall_now)
            }
            _ => verify(
                &shared.cat,
                &SignedRequest {
                    method: incoming.method,
                    query: incoming.query,
                    headers: incoming.headers,
                    body: incoming.body,
                    service: api.service(),
                    wall_now,
                },
            ),
        };
        let secret_id = verdict.inspect_err(|e| entry.signature = e.code.clone())?;
        entry.signature = "ok".into();
        let region = check_region(shared, api, entry.region.as_deref())?;
        let uin = shared.cat.account(&secret_id).map_or(0, |a| a.uin);
        shared
            .cam()
            .check(&secret_id, &action, api, uin, &region, &request_id)?;
        if !shared.faults().admit(&secret_id, &action, wall_unix_ms() / 1000) {
            return Err(fail(
                "RequestLimitExceeded",
                "Your requests are too frequent; try again later.",
            ));
        }
        let plan = shared.faults().plan(&action);
        latency = plan.latency;
        match plan.before {
            Some(Failure::Code(code)) => {
                entry.fault = Some(code.clone());
                return Err(fail(&code, "An injected fault occurred."));
            }
            Some(failure) => {
                entry.fault = Some(failure.label());
                drop = true;
                return Err(fail("Dropped", "The connection was cut before processing."));
            }
            None => {}
        }
        if let Some(failure) = malformed {
            return Err(failure);
        }
        if !params.is_object() {
            return Err(fail("InvalidParameter", "The body is not a JSON object."));
        }
        let ctx = Ctx {
            secret_id,
            uin,
            region,
            request_id: request_id.clone(),
            form: form.is_some(),
        };
        let answer = shared.with_world(|world| dispatch(world, &ctx, &action, &params));
        if plan.drop_after {
            entry.fault = Some(Failure::DropAfterProcessing.label());
            drop = true;
        }
        if let Some(after) = plan.garble_after {
            entry.fault = Some(after.label());
            garble = Some(after);
        }
        answer
    })();
    let body = match result {
        Ok(mut fields) => {
            entry.response = "ok".into();
            if let Value::Object(map) = &mut fields {
                map.insert("RequestId".into(), Value::String(request_id.clone()));
            }
            json!({ "Response": fields })
        }
        Err(failure) => {
            let failure = answer_in.localize(failure);
            entry.response = failure.code.clone();
            json!({ "Response": { "Error": { "Code": failure.code, "Message": failure.message }, "RequestId": request_id } })
        }
    };
    let mut body = body;
    if let (Some(Garble::Without(member)), Some(Value::Object(response))) = (&garble, body.get_mut("Response")) {
        response.remove(member);
    }
    if drop {
        entry.response = match entry.fault.as_deref() {
            Some("drop-after") => format!("dropped after {}", entry.response),
            _ => "dropped".into(),
        };
    }
    if let Some(garble) = &garble {
        entry.response = format!("{} after {}", garble.label(), entry.response);
    }
    shared.log.push(entry);
    Outcome {
        body,
        drop,
        garble,
        latency,
    }
}

/// Action and version: known action, the version its service speaks.
fn precheck(action: &str, version: &str) -> Result<Api, ApiFailure> {
    if action.is_empty() {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `Action`.",
        ));
    }
    let api = Api::of_action(action).ok_or_else(|| {
        fail(
            "InvalidAction",
            format!("The action `{action}` does not exist or is not supported."),
        )
    })?;
    if version.is_empty() {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `Version`.",
        ));
    }
    if version != api.version() {
        return Err(fail(
            "NoSuchVersion",
            format!(
                "The version `{version}` of `{action}` does not exist; use {}.",
                api.version()
            ),
        ));
    }
    Ok(api)
}

/// CVM needs a known region; Billing ignores it.
fn check_region(shared: &Shared, api: Api, region: Option<&str>) -> Result<String, ApiFailure> {
    if api == Api::Billing {
        return Ok(String::new());
    }
    let Some(region) = region.filter(|r| !r.is_empty()) else {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `Region`.",
        ));
    };
    if shared.cat.region(region).is_none() {
        return Err(fail(
            "InvalidParameterValue",
            format!("A value specified in `Region` is not valid, is unsupported, or cannot be used: `{region}`."),
        ));
    }
    Ok(region.to_owned())
}
