//! The REST side: one axum fallback handler that authenticates, parses JSON or multipart
//! bodies, routes through [`super::routes::ROUTES`], applies injected faults and logs every
//! request.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State as AxState};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::multipart::{self, FilePart};
use super::routes::match_route;
use super::state::{RecordedRequest, State};
use super::validate::FormError;

/// What a handler sees of a request.
pub struct Ctx {
    /// Path parameters in template order, percent-decoded.
    pub params: Vec<String>,
    pub query: Vec<(String, String)>,
    /// JSON body (or multipart `payload_json`); `Null` when there is none.
    pub body: Value,
    pub files: Vec<FilePart>,
}

impl Ctx {
    pub fn param(&self, i: usize) -> &str {
        self.params.get(i).map_or("", String::as_str)
    }

    /// A path parameter as a snowflake (0 if it is not one; no object has id 0).
    pub fn id(&self, i: usize) -> u64 {
        self.param(i).parse().unwrap_or(0)
    }

    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A handler's answer: status and optional JSON body.
pub struct Reply {
    pub status: u16,
    pub body: Option<Value>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
        }
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
        }
    }

    /// Discord's JSON error: `{"message": …, "code": …}`.
    pub fn error(status: u16, code: i64, message: &str) -> Self {
        Self::json(status, json!({"message": message, "code": code}))
    }

    pub fn form(e: FormError) -> Self {
        Self::json(400, e.to_json())
    }
}

/// Decodes `%XX` escapes (emoji in reaction routes arrive percent-encoded as UTF-8).
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (b[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    // serenity writes `?&limit=50&after=1` (a leading `&`); skip empty pairs.
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

pub async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    let app = axum::Router::new().fallback(handle).with_state(shared);
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("fake discord REST server stopped: {e}");
    }
}

async fn handle(AxState(shared): AxState<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20).await.unwrap_or_default();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (auth, ctype) = (header("authorization"), header("content-type"));
    let method = parts.method.as_str().to_string();
    let path = parts.uri.path().to_string();
    let query = parse_query(parts.uri.query().unwrap_or_default());
    let arrived = std::time::Instant::now();
    let reply = shared.with(|st| {
        let mut rec = RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            route: "UNKNOWN".into(),
            query: query.clone(),
            content_type: ctype.clone(),
            body: None,
            files: vec![],
            status: 0,
            response: None,
            at: arrived.saturating_duration_since(st.started),
        };
        let reply = process(st, &mut rec, &auth, &ctype, &bytes);
        rec.status = reply.status;
        rec.response.clone_from(&reply.body);
        st.requests.push(rec);
        reply
    });
    let mut resp = Response::new(match &reply.body {
        Some(v) => Body::from(v.to_string()),
        None => Body::empty(),
    });
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    if reply.body.is_some() {
        h.insert("content-type", HeaderValue::from_static("application/json"));
    }
    // Rate-limit headers shaped like Discord's; the fake never limits on its own.
    for (k, v) in [
        ("x-ratelimit-limit", "50"),
        ("x-ratelimit-remaining", "49"),
        ("x-ratelimit-reset-after", "1.000"),
        ("x-ratelimit-bucket", "fakebucket"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    if reply.status == 429 {
        h.insert("retry-after", HeaderValue::from_static("1"));
        h.insert("x-ratelimit-scope", HeaderValue::from_static("user"));
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
    }
    resp
}

fn process(st: &mut State, rec: &mut RecordedRequest, auth: &str, ctype: &str, bytes: &[u8]) -> Reply {
    let Some(rest) = rec.path.strip_prefix("/api/v10/") else {
        st.problems
            .push(format!("request outside /api/v10: {} {}", rec.method, rec.path));
        return Reply::error(404, 0, "404: Not Found");
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let Some((route, needs_auth, handler, params)) = match_route(&rec.method, &segs) else {
        st.problems.push(format!(
            "bot called a route the fake does not know: {} {}",
            rec.method, rec.path
        ));
        return Reply::error(404, 0, "404: Not Found");
    };
    rec.route = route;
    if needs_auth && auth != format!("Bot {}", st.cfg.token) {
        return Reply::error(401, 0, "401: Unauthorized");
    }
    let (body, files) = match multipart::boundary(ctype) {
        Some(b) => match multipart::parse(bytes, &b) {
            Ok(form) => {
                let json = form.payload_json.as_deref().map(serde_json::from_str::<Value>);
                match json.transpose() {
                    Ok(v) => (v.unwrap_or(Value::Null), form.files),
                    Err(_) => {
                        return Reply::error(400, 50109, "The request body contains invalid JSON.");
                    }
                }
            }
            Err(e) => return Reply::error(400, 50035, &format!("Invalid Form Body: {e}")),
        },
        None if bytes.is_empty() => (Value::Null, vec![]),
        None => match serde_json::from_slice(bytes) {
            Ok(v) => (v, vec![]),
            Err(_) => return Reply::error(400, 50109, "The request body contains invalid JSON."),
        },
    };
    rec.body = (!body.is_null()).then(|| body.clone());
    rec.files = files.iter().map(|f| f.filename.clone()).collect();
    if let Some(i) = st.faults.iter().position(|f| f.route == rec.route) {
        let fault = st.faults.remove(i);
        return Reply::json(fault.status, fault.body);
    }
    handler(
        st,
        &Ctx {
            params,
            query: rec.query.clone(),
            body,
            files,
        },
    )
}
