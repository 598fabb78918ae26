//! The log of API requests the simulator received, for tests and benches to assert on.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Mutex;

/// One API request as received and answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    /// Arrival order, from 1.
    pub seq: u64,
    /// Simulated time, ISO 8601.
    pub sim_time: String,
    /// Wall time, Unix milliseconds.
    pub wall_ms: i64,
    /// `X-TC-Action`.
    pub action: String,
    /// `X-TC-Version`.
    pub version: String,
    /// `X-TC-Region`, if sent.
    pub region: Option<String>,
    /// The SecretId from `Authorization`, if readable.
    pub secret_id: Option<String>,
    /// The body as JSON (a password in LoginSettings is masked).
    pub params: Value,
    /// The ClientToken of the body, if any.
    pub client_token: Option<String>,
    /// `ok`, or the AuthFailure code the signature check gave.
    pub signature: String,
    /// `ok`, the error code answered, or `dropped` when the connection was cut.
    pub response: String,
    /// The RequestId answered (also when the answer was lost).
    pub request_id: String,
    /// The injected fault, if any: an error code, `drop-before`, `drop-after`.
    pub fault: Option<String>,
}

/// An append-only list of [`LoggedRequest`]s.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
}

impl RequestLog {
    /// Appends `entry`, numbering it.
    pub fn push(&self, mut entry: LoggedRequest) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entry.seq = entries.last().map_or(1, |e| e.seq + 1);
        entries.push(entry);
    }

    /// A copy of every entry.
    pub fn all(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Empties the log.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// The body with secrets masked, for the log.
pub fn masked(mut params: Value) -> Value {
    if let Some(password) = params.pointer_mut("/LoginSettings/Password") {
        *password = Value::String("******".into());
    }
    params
}
