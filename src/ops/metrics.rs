//! What this process counts and times as it goes: Tencent calls and rate-limit waits (told by the
//! Tencent client), the Discord gateway's sessions and the acknowledgement of interactions (told
//! by the Discord adapter), and the tracker's rounds. Figures read from the database at each
//! scrape are in `scrape.rs`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

/// Upper bounds of the Tencent call latency buckets, in seconds (the default timeout is 15 s).
const TENCENT_BUCKETS: [f64; 12] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0];

/// Upper bounds of the interaction acknowledgement buckets, in seconds: Discord drops an
/// interaction that is not acknowledged within 3 s.
const ACK_BUCKETS: [f64; 9] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0];

/// Upper bounds of the tracker round buckets, in seconds.
const POLL_BUCKETS: [f64; 11] = [0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    action: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn tencent_histogram() -> Histogram {
    Histogram::new(TENCENT_BUCKETS)
}

fn ack_histogram() -> Histogram {
    Histogram::new(ACK_BUCKETS)
}

/// The process's own counters and histograms. Cheap to update from any task.
#[derive(Debug)]
pub struct Metrics {
    tencent_calls: Family<CallLabels, Counter>,
    tencent_seconds: Histograms<ActionLabels>,
    rate_limit_waits: Family<ActionLabels, Counter>,
    rate_limit_seconds: Family<ActionLabels, Counter<f64, AtomicU64>>,
    /// When Tencent last answered (data or an error of its own).
    tencent_answered: Mutex<Option<Instant>>,
    gateway_reconnects: Family<KindLabels, Counter>,
    ack_seconds: Histograms<KindLabels>,
    tracker_polls: Histogram,
    tracker_lateness: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            tencent_calls: Family::default(),
            tencent_seconds: Family::new_with_constructor(tencent_histogram),
            rate_limit_waits: Family::default(),
            rate_limit_seconds: Family::default(),
            tencent_answered: Mutex::new(None),
            gateway_reconnects: Family::default(),
            ack_seconds: Family::new_with_constructor(ack_histogram),
            tracker_polls: Histogram::new(POLL_BUCKETS),
            tracker_lateness: Histogram::new(POLL_BUCKETS),
        }
    }
}

impl Metrics {
    /// When Tencent last answered this process, if it ever did.
    pub fn tencent_answered(&self) -> Option<Instant> {
        *self.tencent_answered.lock().expect("metrics lock")
    }

    /// The gateway came back: `"resume"` when the session was resumed, `"identify"` when a new
    /// session began after an earlier one (the first READY of a process is no reconnect).
    pub fn gateway_reconnected(&self, kind: &'static str) {
        self.gateway_reconnects
            .get_or_create(&KindLabels { kind: kind.to_owned() })
            .inc();
    }

    /// An interaction of `kind` (`command`, `autocomplete`, `button`, `modal`) was acknowledged
    /// `took` after it reached the handler.
    pub fn interaction_acknowledged(&self, kind: &'static str, took: Duration) {
        self.ack_seconds
            .get_or_create(&KindLabels { kind: kind.to_owned() })
            .observe(took.as_secs_f64());
    }

    /// A tracker call took `took` from choosing its instances to storing what it found.
    pub fn tracker_poll(&self, took: Duration) {
        self.tracker_polls.observe(took.as_secs_f64());
    }

    /// A tracker call's most overdue instance was asked about `late` after it was due.
    pub fn tracker_lateness(&self, late: time::Duration) {
        self.tracker_lateness.observe(late.as_seconds_f64().max(0.0));
    }

    /// Registers every metric (under the registry's `cvmbot` prefix). The families are shared, so
    /// the registry encodes their values at the time it is encoded.
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "tencent_calls",
            "Tencent Cloud API attempts (each retry is one) by action and outcome: code=\"ok\", Tencent's error code, or the client's own for a failure below the API",
            self.tencent_calls.clone(),
        );
        registry.register_with_unit(
            "tencent_call_duration",
            "Time from sending a Tencent Cloud API attempt to its answer or failure, by action",
            Unit::Seconds,
            self.tencent_seconds.clone(),
        );
        registry.register(
            "tencent_rate_limit_waits",
            "Tencent Cloud calls that waited for the client-side rate limit, by action",
            self.rate_limit_waits.clone(),
        );
        registry.register_with_unit(
            "tencent_rate_limit_wait",
            "Time Tencent Cloud calls waited for the client-side rate limit, by action",
            Unit::Seconds,
            self.rate_limit_seconds.clone(),
        );
        registry.register(
            "discord_gateway_reconnects",
            "Discord gateway sessions resumed (kind=\"resume\") or begun again (kind=\"identify\") after the first",
            self.gateway_reconnects.clone(),
        );
        registry.register_with_unit(
            "discord_interaction_ack_duration",
            "Time from an interaction reaching the bot to its acknowledgement (answer, deferral or form) being sent, by kind",
            Unit::Seconds,
            self.ack_seconds.clone(),
        );
        registry.register_with_unit(
            "tracker_poll_duration",
            "Time from the tracker choosing up to 100 due instances to storing what DescribeInstances said of them (the rate limit's wait included)",
            Unit::Seconds,
            self.tracker_polls.clone(),
        );
        registry.register_with_unit(
            "tracker_poll_lateness",
            "How long after it was due the most overdue instance of each tracker call was asked about (grows when more is due than Tencent's rate limit allows)",
            Unit::Seconds,
            self.tracker_lateness.clone(),
        );
    }
}

impl crate::tencent::CallObserver for Metrics {
    fn attempted(&self, attempt: &crate::tencent::Attempt<'_>) {
        let labels = CallLabels {
            action: attempt.action.to_owned(),
            code: attempt.code.to_owned(),
        };
        self.tencent_calls.get_or_create(&labels).inc();
        self.tencent_seconds
            .get_or_create(&ActionLabels {
                action: attempt.action.to_owned(),
            })
            .observe(attempt.took.as_secs_f64());
        if attempt.answered {
            *self.tencent_answered.lock().expect("metrics lock") = Some(Instant::now());
        }
    }

    fn rate_limited(&self, action: &str, waited: Duration) {
        let labels = ActionLabels {
            action: action.to_owned(),
        };
        self.rate_limit_waits.get_or_create(&labels).inc();
        self.rate_limit_seconds
            .get_or_create(&labels)
            .inc_by(waited.as_secs_f64());
    }
}
