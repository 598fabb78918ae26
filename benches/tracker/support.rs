//! The bench's outside world: the simulator as a child process (so its memory is not counted as
//! cvmbot's), its control endpoint, a notifier that notes when each notice was posted, and
//! figures from /proc.

use anyhow::{Context, bail};
use cvmbot::chat::{Notifier, Outgoing};
use cvmbot::domain::{ChannelId, MessageId};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `cvmbot sim` running in a child process.
pub struct SimProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl SimProcess {
    /// Starts `cvmbot sim` with its default settings (Tencent's documented rate limits on) at
    /// `speed` simulated seconds per wall second.
    pub fn start(speed: f64, seed: u64) -> anyhow::Result<SimProcess> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
            .args(["sim", "--listen", "127.0.0.1:0", "--seed", &seed.to_string()])
            .args(["--speed", &speed.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting `cvmbot sim`")?;
        let stdout = child.stdout.take().context("the simulator's stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the simulator's address")?;
        let Some((_, url)) = line.trim().split_once("listening on ") else {
            let _ = child.kill();
            bail!("unexpected first line from the simulator: {line:?}");
        };
        Ok(SimProcess {
            url: url.to_owned(),
            child,
        })
    }

    /// The simulator's peak resident memory, KiB.
    pub fn peak_kib(&self) -> Option<u64> {
        peak_kib(&format!("/proc/{}/status", self.child.id()))
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// VmHWM (peak resident set) of a /proc status file, KiB.
pub fn peak_kib(status_file: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The simulator's control endpoint (`/_sim/…`).
pub struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    /// The control endpoint of the simulator at `url`.
    pub fn new(url: &str) -> Control {
        Control {
            http: reqwest::Client::new(),
            base: url.trim_end_matches('/').to_owned(),
        }
    }

    /// POSTs `body` to `/_sim/{path}`.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<()> {
        let answer = self
            .http
            .post(format!("{}/_sim/{path}", self.base))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            answer.status().is_success(),
            "POST /_sim/{path}: {}",
            answer.text().await?
        );
        Ok(())
    }

    /// GETs `/_sim/{path}`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let answer = self.http.get(format!("{}/_sim/{path}", self.base)).send().await?;
        Ok(answer.error_for_status()?.json().await?)
    }

    /// Empties the request log.
    pub async fn clear_requests(&self) -> anyhow::Result<()> {
        self.http
            .delete(format!("{}/_sim/requests", self.base))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }
}

/// A chat that accepts everything and notes the wall time (Unix ms) each notice was posted at.
#[derive(Default)]
pub struct TimingNotifier {
    posted: Mutex<HashMap<String, i64>>,
    edits: AtomicUsize,
}

impl TimingNotifier {
    /// Dedupe key → when it was posted.
    pub fn posted(&self) -> HashMap<String, i64> {
        self.posted.lock().expect("notifier lock").clone()
    }

    /// How many posts so far.
    pub fn post_count(&self) -> usize {
        self.posted.lock().expect("notifier lock").len()
    }

    /// How many card edits so far.
    pub fn edit_count(&self) -> usize {
        self.edits.load(Ordering::Relaxed)
    }
}

impl Notifier for TimingNotifier {
    fn post<'a>(&'a self, _channel: ChannelId, message: &'a Outgoing) -> BoxFuture<'a, anyhow::Result<MessageId>> {
        Box::pin(async move {
            let mut posted = self.posted.lock().expect("notifier lock");
            let key = message.dedupe_key.clone().unwrap_or_default();
            posted.insert(key, wall_ms());
            Ok(MessageId::new(posted.len() as u64))
        })
    }

    fn edit<'a>(
        &'a self,
        _channel: ChannelId,
        _message_id: MessageId,
        _message: &'a Outgoing,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        self.edits.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

/// The wall clock, Unix milliseconds.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The `q`-quantile (0..=1) of `values` (sorted in place), nearest rank.
pub fn quantile(values: &mut [i64], q: f64) -> i64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}
