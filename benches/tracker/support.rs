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
    /// Starts `cvmbot sim` with the settings in `config` over its defaults (Tencent's documented
    /// rate limits stay on) at `speed` simulated seconds per wall second.
    pub fn start(speed: f64, seed: u64, config: &std::path::Path) -> anyhow::Result<SimProcess> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
            .args(["sim", "--listen", "127.0.0.1:0", "--seed", &seed.to_string()])
            .args(["--speed", &speed.to_string()])
            .arg("--config")
            .arg(config)
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
    status_kib(status_file, "VmHWM:")
}

/// VmRSS (resident set now) of a /proc status file, KiB.
pub fn rss_kib(status_file: &str) -> Option<u64> {
    status_kib(status_file, "VmRSS:")
}

fn status_kib(status_file: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
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
/// The dispatcher posts the news of several instances of one request as one message under the
/// joined key `a|b|c`: each of those notices counts as posted when that message was. Keys are
/// kept as hashes, so the bench's own record weighs 16 bytes a notice in cvmbot's memory figures.
#[derive(Default)]
pub struct TimingNotifier {
    posted: Mutex<HashMap<u64, i64>>,
    posts: AtomicUsize,
    edits: AtomicUsize,
}

impl TimingNotifier {
    /// When the message carrying the notice with `dedupe_key` was posted, if it was.
    pub fn posted_at(&self, dedupe_key: &str) -> Option<i64> {
        self.posted
            .lock()
            .expect("notifier lock")
            .get(&key_hash(dedupe_key))
            .copied()
    }

    /// How many messages were posted so far.
    pub fn post_count(&self) -> usize {
        self.posts.load(Ordering::Relaxed)
    }

    /// How many notices those messages carried.
    pub fn notice_count(&self) -> usize {
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
            let at = wall_ms();
            let mut posted = self.posted.lock().expect("notifier lock");
            for key in message.dedupe_key.as_deref().unwrap_or_default().split('|') {
                posted.insert(key_hash(key), at);
            }
            let n = self.posts.fetch_add(1, Ordering::Relaxed) + 1;
            Ok(MessageId::new(n as u64))
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

fn key_hash(key: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default().hash_one(key)
}

/// The load average over the last minute (/proc/loadavg), as printed beside each figure: the
/// machine's other work shares the cores with what is measured.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// Counts the bytes the process has allocated and not freed, and the most it had at once since
/// [`Counting::reset_peak`]: the live heap, which unlike the resident set does not include what
/// the allocator keeps after it is freed.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    /// Bytes allocated and not yet freed.
    pub fn live() -> usize {
        LIVE.load(Ordering::Relaxed)
    }

    /// The most [`Counting::live`] was since the last reset.
    pub fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }

    /// Starts a new peak from what is live now.
    pub fn reset_peak() {
        PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    fn grew(by: usize) {
        let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the system allocator's.
        let ptr = unsafe { std::alloc::System.alloc(layout) };
        if !ptr.is_null() {
            Counting::grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        // SAFETY: as above.
        unsafe { std::alloc::System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        // SAFETY: as above.
        let ptr = unsafe { std::alloc::System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            Counting::grew(layout.size());
        }
        ptr
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let new = unsafe { std::alloc::System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            Counting::grew(new_size);
        }
        new
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
