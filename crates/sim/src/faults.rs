//! Injected faults: one-shot failures queued per action (`fail_next`), random error and drop
//! rates, added latency, and the per-SecretId, per-action rate limits Tencent enforces.

use super::config::{FaultConfig, RateLimitConfig};
use cvmbot_tencent::random::SplitMix64;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// What a queued or random fault does to one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// Answer this error code instead of processing the request.
    Code(String),
    /// Cut the connection before processing: nothing happened.
    DropBeforeProcessing,
    /// Process the request, then cut the connection: it happened, but the answer is lost.
    DropAfterProcessing,
    /// Process the request, then answer something a client cannot read as Tencent's answer: it
    /// happened, but the answer says nothing definite.
    GarbleAfterProcessing(Garble),
}

/// An answer that is not one a client can read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Garble {
    /// HTTP 200 with an HTML page (a proxy's or a gateway's).
    Html,
    /// This HTTP status with an HTML page (`408`, `403`, `502`, …).
    Status(u16),
    /// The JSON answer without this member of `Response` (`InstanceIdSet`).
    Without(String),
}

impl Garble {
    /// The log's name of the answer.
    pub fn label(&self) -> String {
        match self {
            Garble::Html => "garble-html".into(),
            Garble::Status(status) => format!("garble-http-{status}"),
            Garble::Without(member) => format!("garble-without-{member}"),
        }
    }
}

impl Failure {
    /// An error answer with `code`.
    pub fn code(code: &str) -> Failure {
        Failure::Code(code.to_owned())
    }

    /// The log's name of the fault.
    pub fn label(&self) -> String {
        match self {
            Failure::Code(code) => code.clone(),
            Failure::DropBeforeProcessing => "drop-before".into(),
            Failure::DropAfterProcessing => "drop-after".into(),
            Failure::GarbleAfterProcessing(garble) => garble.label(),
        }
    }
}

/// Fault settings and state.
#[derive(Debug)]
pub struct Faults {
    config: FaultConfig,
    limits: RateLimitConfig,
    queued: HashMap<String, VecDeque<Failure>>,
    rng: SplitMix64,
    /// (SecretId, action) → (wall second, calls in it).
    counts: HashMap<(String, String), (i64, u32)>,
}

/// The faults decided for one call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Before processing: an error answer or a drop.
    pub before: Option<Failure>,
    /// After processing: drop the answer.
    pub drop_after: bool,
    /// After processing: answer this instead of the answer.
    pub garble_after: Option<Garble>,
    /// Latency to add before answering.
    pub latency: Duration,
}

impl Faults {
    /// Faults from settings, drawing from `seed`.
    pub fn new(config: FaultConfig, limits: RateLimitConfig, seed: u64) -> Self {
        Faults {
            config,
            limits,
            queued: HashMap::new(),
            rng: SplitMix64::seeded(seed ^ 0xFA17_FA17_FA17_FA17),
            counts: HashMap::new(),
        }
    }

    /// Replaces the fault rates.
    pub fn set_config(&mut self, config: FaultConfig) {
        self.config = config;
    }

    /// The fault rates.
    pub fn config(&self) -> &FaultConfig {
        &self.config
    }

    /// Replaces the rate limits.
    pub fn set_limits(&mut self, limits: RateLimitConfig) {
        self.limits = limits;
        self.counts.clear();
    }

    /// The rate limits.
    pub fn limits(&self) -> &RateLimitConfig {
        &self.limits
    }

    /// Makes the next `times` calls of `action` fail with `failure`.
    pub fn fail_next(&mut self, action: &str, failure: Failure, times: u32) {
        let queue = self.queued.entry(action.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(failure, times as usize));
    }

    /// Counts a call of `action` by `secret_id` in wall second `second`; false when it is over
    /// the limit (and so refused with `RequestLimitExceeded`).
    pub fn admit(&mut self, secret_id: &str, action: &str, second: i64) -> bool {
        let Some(limit) = self.limits.limit_for(action) else {
            return true;
        };
        let slot = self
            .counts
            .entry((secret_id.to_owned(), action.to_owned()))
            .or_insert((second, 0));
        if slot.0 != second {
            *slot = (second, 0);
        }
        if slot.1 >= limit {
            return false;
        }
        slot.1 += 1;
        true
    }

    /// Decides the faults of one call of `action`: a queued one first, else the random rates.
    pub fn plan(&mut self, action: &str) -> Plan {
        let rates = self.config.rates_for(action).clone();
        let latency = Duration::from_millis(rates.latency_ms + self.rng.below(rates.latency_jitter_ms + 1));
        if let Some(failure) = self.queued.get_mut(action).and_then(VecDeque::pop_front) {
            return match failure {
                Failure::DropAfterProcessing => Plan {
                    drop_after: true,
                    latency,
                    ..Plan::default()
                },
                Failure::GarbleAfterProcessing(garble) => Plan {
                    garble_after: Some(garble),
                    latency,
                    ..Plan::default()
                },
                before => Plan {
                    before: Some(before),
                    latency,
                    ..Plan::default()
                },
            };
        }
        let before = if self.rng.chance(rates.drop_before_per_million) {
            Some(Failure::DropBeforeProcessing)
        } else if self.rng.chance(rates.internal_error_per_million) {
            Some(Failure::code("InternalError"))
        } else if self.rng.chance(rates.request_limit_per_million) {
            Some(Failure::code("RequestLimitExceeded"))
        } else {
            None
        };
        Plan {
            drop_after: before.is_none() && self.rng.chance(rates.drop_after_per_million),
            before,
            garble_after: None,
            latency,
        }
    }
}
