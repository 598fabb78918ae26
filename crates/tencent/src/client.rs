//! The Tencent Cloud API v3 transport: endpoint, signing, the response envelope, retries with
//! backoff and jitter, and the per-action rate limit.

use crate::endpoint::{Endpoint, Service};
use crate::error::{ApiError, ErrorKind};
use crate::limiter::RateLimiter;
use crate::random::SplitMix64;
use crate::secret::Secret;
use crate::sign::{SigningRequest, sign_post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::{debug, instrument, warn};

/// The exact `Content-Type` sent and signed (what the official SDKs send).
pub const CONTENT_TYPE: &str = "application/json";

/// API credentials. The SecretKey and session token are [`Secret`]s.
#[derive(Clone)]
pub struct Credentials {
    /// `AKID…`; identifies the key, not secret by itself.
    pub secret_id: String,
    /// Signs requests.
    pub secret_key: Secret,
    /// Temporary (STS) credential token, sent as `X-TC-Token`.
    pub token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &self.secret_id)
            .field("secret_key", &self.secret_key)
            .field("token", &self.token)
            .finish()
    }
}

/// Retry schedule: exponential backoff with jitter, for retryable errors only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1: no retries).
    pub max_attempts: u32,
    /// Delay before the first retry.
    pub base_delay: Duration,
    /// Largest delay between attempts.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay before retry number `retry` (1-based): half fixed, half random, doubling each
    /// time up to the cap, so that many clients retrying at once spread out.
    pub fn delay(&self, retry: u32, random: &mut SplitMix64) -> Duration {
        let exponential = self.base_delay.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = exponential.min(self.max_delay);
        let half = capped / 2;
        let jitter_ms = random.below(half.as_millis() as u64 + 1);
        half + Duration::from_millis(jitter_ms)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// Everything a [`TencentClient`] needs.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Where calls go.
    pub endpoint: Endpoint,
    /// The default region (a call may name another).
    pub region: String,
    /// `en-US` or `zh-CN`: the language of Tencent's error messages.
    pub language: String,
    /// Whole-call timeout.
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Requests per second per action (0 = unlimited; key `default` for unlisted actions).
    pub rate_limits: HashMap<String, u32>,
}

/// How one attempt at a call ended, as told to a [`CallObserver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attempt<'a> {
    /// The action (`RunInstances`).
    pub action: &'a str,
    /// `ok` on success, else the error code: Tencent's (`InvalidParameterValue`, and
    /// `DryRunOperation` for a dry run that passed) or one of the client's own for a failure below
    /// the API (`ClientNetworkError`, `ClientTimeout`, `ServerNetworkError`, `ClientParseError`).
    pub code: &'a str,
    /// True when Tencent answered, with data or with an error of its own; false when the call
    /// failed below the API (no connection, no answer in time, an answer that was not Tencent's).
    pub answered: bool,
    /// From sending the request to its answer or failure (the rate limit's wait not included).
    pub took: Duration,
}

/// Told about every attempt the client makes and every wait for the rate limit, so that the
/// application can count and time them (its metrics) without this crate knowing how.
pub trait CallObserver: Send + Sync {
    /// One attempt (a retry is an attempt of its own) ended.
    fn attempted(&self, attempt: &Attempt<'_>);
    /// A call of `action` waited `waited` for its rate limit before it was sent.
    fn rate_limited(&self, action: &str, waited: Duration);
}

/// The codes of failures below the API, made by this client rather than received from Tencent.
const BELOW_THE_API: &[&str] = &[
    "ClientSetupError",
    "ClientParseError",
    "ClientNetworkError",
    "ClientTimeout",
    "ServerNetworkError",
];

/// A successful answer and the RequestId Tencent gave it.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer<T> {
    /// The action's output.
    pub data: T,
    /// Tencent's RequestId, for the audit log and support tickets.
    pub request_id: String,
}

/// Actions without a ClientToken that change something every time they run: a second
/// TerminateInstances destroys the prepaid instance the first put in the recycle bin, a second
/// RenewInstances pays again. An answer lost after Tencent processed one looks like one that
/// never arrived, so these are retried only after a refusal that proves nothing ran.
const NOT_REPEATABLE: &[&str] = &["TerminateInstances", "RenewInstances"];

/// Whether `action` may be sent again after `error`.
fn may_repeat(action: &str, error: &ApiError) -> bool {
    error.is_retryable() && (error.kind == ErrorKind::RateLimited || !NOT_REPEATABLE.contains(&action))
}

/// A Tencent Cloud API client; cheap to clone.
#[derive(Clone)]
pub struct TencentClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    credentials: Credentials,
    settings: ClientSettings,
    limiter: RateLimiter,
    random: Mutex<SplitMix64>,
    observer: Option<Arc<dyn CallObserver>>,
}

impl fmt::Debug for TencentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TencentClient")
            .field("endpoint", &self.inner.settings.endpoint)
            .field("region", &self.inner.settings.region)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

impl TencentClient {
    /// A client for `settings` signing with `credentials`.
    pub fn new(settings: ClientSettings, credentials: Credentials) -> Result<TencentClient, ApiError> {
        TencentClient::build(settings, credentials, None)
    }

    /// Like [`TencentClient::new`], telling `observer` about every attempt and rate-limit wait.
    pub fn observed(
        settings: ClientSettings,
        credentials: Credentials,
        observer: Arc<dyn CallObserver>,
    ) -> Result<TencentClient, ApiError> {
        TencentClient::build(settings, credentials, Some(observer))
    }

    fn build(
        settings: ClientSettings,
        credentials: Credentials,
        observer: Option<Arc<dyn CallObserver>>,
    ) -> Result<TencentClient, ApiError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .no_proxy()
            .user_agent(concat!("cvmbot/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::transport(ErrorKind::Other, "ClientSetupError", e.to_string()))?;
        let limiter = RateLimiter::new(&settings.rate_limits);
        let inner = Inner {
            http,
            credentials,
            settings,
            limiter,
            random: Mutex::new(SplitMix64::from_entropy()),
            observer,
        };
        Ok(TencentClient { inner: Arc::new(inner) })
    }

    /// The default region.
    pub fn region(&self) -> &str {
        &self.inner.settings.region
    }

    /// The configured endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.settings.endpoint
    }

    /// Calls `action` of `service` in `region` (or the default region), retrying retryable
    /// failures. The body is serialized once, so every retry sends the same bytes, including any
    /// ClientToken; each attempt is signed afresh with the current time.
    #[instrument(name = "tencent", skip_all, fields(action = %action, region = region.unwrap_or("default")))]
    pub async fn call<Req, Resp>(
        &self,
        service: Service,
        action: &str,
        region: Option<&str>,
        request: &Req,
    ) -> Result<Answer<Resp>, ApiError>
    where
        Req: Serialize + ?Sized,
        Resp: DeserializeOwned,
    {
        let body = serde_json::to_vec(request)
            .map_err(|e| ApiError::transport(ErrorKind::Other, "ClientParseError", e.to_string()))?;
        let region = region.unwrap_or(&self.inner.settings.region);
        let policy = self.inner.settings.retry;
        let mut attempt = 1;
        loop {
            let waited = self.inner.limiter.acquire(action).await;
            let sent = std::time::Instant::now();
            let result = self.send_once(service, action, region, &body).await;
            self.tell(action, waited, sent.elapsed(), result.as_ref().err());
            match result {
                Ok(answer) => return Ok(answer),
                Err(error) if may_repeat(action, &error) && attempt < policy.max_attempts => {
                    let delay = policy.delay(attempt, &mut self.inner.random.lock().expect("rng lock"));
                    warn!(action, attempt, code = %error.code, ?delay, "retrying Tencent Cloud call");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Tells the observer, if there is one, how an attempt went and how long it waited first.
    fn tell(&self, action: &str, waited: Duration, took: Duration, error: Option<&ApiError>) {
        let Some(observer) = &self.inner.observer else {
            return;
        };
        if !waited.is_zero() {
            observer.rate_limited(action, waited);
        }
        let code = error.map_or("ok", |e| e.code.as_str());
        observer.attempted(&Attempt {
            action,
            code,
            answered: !BELOW_THE_API.contains(&code),
            took,
        });
    }

    async fn send_once<Resp: DeserializeOwned>(
        &self,
        service: Service,
        action: &str,
        region: &str,
        body: &[u8],
    ) -> Result<Answer<Resp>, ApiError> {
        let url = self.inner.settings.endpoint.url(service, region);
        let host = host_header(&url)?;
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let credentials = &self.inner.credentials;
        let signed = sign_post(
            &credentials.secret_id,
            credentials.secret_key.expose(),
            SigningRequest {
                service: service.name(),
                headers: &[("content-type", CONTENT_TYPE), ("host", &host)],
                timestamp,
                payload: body,
            },
        );
        let mut builder = self
            .inner
            .http
            .post(&url)
            .header(reqwest::header::HOST, &host)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(reqwest::header::AUTHORIZATION, &signed.authorization)
            .header("X-TC-Action", action)
            .header("X-TC-Version", service.version())
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Language", &self.inner.settings.language)
            .header("X-TC-RequestClient", concat!("cvmbot/", env!("CARGO_PKG_VERSION")))
            .body(body.to_vec());
        if service.is_regional() {
            builder = builder.header("X-TC-Region", region);
        }
        if let Some(token) = &credentials.token {
            builder = builder.header("X-TC-Token", token.expose());
        }
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport_error)?;
        if status != reqwest::StatusCode::OK {
            // Tencent answers every API error with HTTP 200 and an error envelope; any other status
            // came from something in between (a gateway, a proxy) and says nothing definite.
            let kind = if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
                ErrorKind::ServerError
            } else {
                ErrorKind::Unreadable
            };
            let excerpt = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
            return Err(ApiError::transport(
                kind,
                "ServerNetworkError",
                format!("HTTP {status}: {excerpt}"),
            ));
        }
        let answer = parse_envelope(&bytes);
        debug!(action, ok = answer.is_ok(), "Tencent Cloud answered");
        answer
    }
}

/// The `Host` header for `url`: the host, and the port when it is not the scheme's default.
pub(crate) fn host_header(url: &str) -> Result<String, ApiError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ApiError::transport(ErrorKind::Other, "ClientSetupError", e.to_string()))?;
    let host = parsed.host_str().unwrap_or_default();
    Ok(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    })
}

fn transport_error(error: reqwest::Error) -> ApiError {
    if error.is_timeout() {
        ApiError::transport(ErrorKind::Timeout, "ClientTimeout", "no answer within the timeout")
    } else if error.is_decode() {
        ApiError::transport(ErrorKind::Unreadable, "ClientParseError", error.to_string())
    } else {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        ApiError::transport(ErrorKind::Network, "ClientNetworkError", message)
    }
}

/// Reads `{"Response": {...}}`: the action's fields, or `Error {Code, Message}`; both carry a RequestId.
pub fn parse_envelope<Resp: DeserializeOwned>(bytes: &[u8]) -> Result<Answer<Resp>, ApiError> {
    let unreadable = |detail: String| ApiError::transport(ErrorKind::Unreadable, "ClientParseError", detail);
    let mut envelope: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| unreadable(format!("the answer is not JSON: {e}")))?;
    let response = envelope
        .get_mut("Response")
        .map(serde_json::Value::take)
        .ok_or_else(|| unreadable("the answer has no Response object".into()))?;
    let request_id = response.get("RequestId").and_then(|v| v.as_str()).map(str::to_owned);
    if let Some(error) = response.get("Error") {
        let Some(code) = error.get("Code").and_then(|v| v.as_str()) else {
            return Err(unreadable("the answer has an Error without a Code".into()));
        };
        let message = error.get("Message").and_then(|v| v.as_str()).unwrap_or_default();
        return Err(ApiError::from_api(code, message, request_id));
    }
    let data = serde_json::from_value(response).map_err(|e| unreadable(format!("unexpected answer shape: {e}")))?;
    Ok(Answer {
        data,
        request_id: request_id.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminate_or_renewal_is_sent_again_only_after_a_rate_limit() {
        let lost = ApiError::transport(ErrorKind::Unreadable, "ClientParseError", "<html>");
        let limited = ApiError::from_api("RequestLimitExceeded", "slow down", None);
        for action in ["TerminateInstances", "RenewInstances"] {
            assert!(!may_repeat(action, &lost), "{action} after a lost answer");
            assert!(may_repeat(action, &limited), "{action} after a rate limit");
        }
        assert!(
            may_repeat("RunInstances", &lost),
            "RunInstances repeats with its ClientToken"
        );
        assert!(may_repeat("DescribeInstances", &lost));
    }

    #[derive(Default)]
    struct Recorder {
        attempts: Mutex<Vec<(String, String, bool)>>,
        waits: Mutex<Vec<(String, Duration)>>,
    }

    impl CallObserver for Recorder {
        fn attempted(&self, attempt: &Attempt<'_>) {
            let seen = (attempt.action.to_owned(), attempt.code.to_owned(), attempt.answered);
            self.attempts.lock().expect("lock").push(seen);
        }

        fn rate_limited(&self, action: &str, waited: Duration) {
            self.waits.lock().expect("lock").push((action.to_owned(), waited));
        }
    }

    #[test]
    fn the_observer_hears_each_attempts_code_whether_tencent_answered_and_real_waits_only() {
        let recorder = Arc::new(Recorder::default());
        let settings = ClientSettings {
            endpoint: Endpoint::parse("http://127.0.0.1:9").expect("endpoint"),
            region: "ap-guangzhou".into(),
            language: "en-US".into(),
            timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            rate_limits: HashMap::new(),
        };
        let credentials = Credentials {
            secret_id: "AKID".into(),
            secret_key: Secret::new("key"),
            token: None,
        };
        let client = TencentClient::observed(settings, credentials, recorder.clone()).expect("client");
        let refused = ApiError::from_api("InvalidParameterValue", "no", Some("r-1".into()));
        let timeout = ApiError::transport(ErrorKind::Timeout, "ClientTimeout", "no answer");
        client.tell("RunInstances", Duration::ZERO, Duration::from_millis(5), None);
        client.tell(
            "RunInstances",
            Duration::from_millis(300),
            Duration::from_millis(5),
            Some(&refused),
        );
        client.tell(
            "DescribeInstances",
            Duration::ZERO,
            Duration::from_secs(1),
            Some(&timeout),
        );
        let attempts = recorder.attempts.lock().expect("lock").clone();
        assert_eq!(
            attempts,
            [
                ("RunInstances".to_owned(), "ok".to_owned(), true),
                ("RunInstances".to_owned(), "InvalidParameterValue".to_owned(), true),
                ("DescribeInstances".to_owned(), "ClientTimeout".to_owned(), false),
            ]
        );
        let waits = recorder.waits.lock().expect("lock").clone();
        assert_eq!(waits, [("RunInstances".to_owned(), Duration::from_millis(300))]);
    }

    #[test]
    fn the_envelope_yields_data_or_a_typed_error_with_its_request_id() {
        let ok: Answer<serde_json::Value> =
            parse_envelope(br#"{"Response":{"TotalCount":0,"RequestId":"r-1"}}"#).expect("success");
        assert_eq!(ok.request_id, "r-1");
        let error = parse_envelope::<serde_json::Value>(
            br#"{"Response":{"Error":{"Code":"InvalidAccount.InsufficientBalance","Message":"no money"},"RequestId":"r-2"}}"#,
        )
        .expect_err("an error");
        assert_eq!(error.kind, ErrorKind::InsufficientBalance);
        assert_eq!(error.request_id.as_deref(), Some("r-2"));
        assert_eq!(
            parse_envelope::<serde_json::Value>(b"<html>")
                .expect_err("not json")
                .code,
            "ClientParseError"
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        let policy = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        };
        let mut random = SplitMix64::seeded(3);
        for _ in 0..100 {
            let first = policy.delay(1, &mut random);
            assert!(
                first >= Duration::from_millis(50) && first <= Duration::from_millis(100),
                "{first:?}"
            );
            let third = policy.delay(3, &mut random);
            assert!(
                third >= Duration::from_millis(150) && third <= Duration::from_millis(300),
                "{third:?}"
            );
        }
    }
}
