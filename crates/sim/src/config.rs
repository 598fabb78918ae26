//! Simulator settings: accounts, the catalogue (regions, zones, instance types, images, prices,
//! stock), life-cycle delays, the spot market, faults and rate limits. `config/sim.toml` documents
//! every key with its default; [`SimConfig::default`] is that same complete catalogue.

use anyhow::{Context, bail};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

pub use super::catalogue_config::*;
use std::path::Path;

/// Everything the simulator can be told. Missing keys take the defaults of [`SimConfig::default`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Seed of every random choice (ids, launch failures, spot prices, faults); none: random.
    pub seed: Option<u64>,
    /// Simulated seconds per wall second (0: time moves only by `advance`).
    pub speed: f64,
    /// Simulated start time, RFC 3339; none: the wall clock at start.
    pub start_time: Option<String>,
    /// How a RunInstances dry run that passes is answered.
    pub dry_run_answer: DryRunAnswer,
    /// Instance life-cycle delays and failure rate.
    pub lifecycle: LifecycleConfig,
    /// Arrears handling.
    pub billing: BillingConfig,
    /// The spot market's random walk.
    pub spot: SpotConfig,
    /// Injected faults.
    pub faults: FaultConfig,
    /// Per-action rate limits per SecretId.
    pub rate_limits: RateLimitConfig,
    /// Per-account instance quotas per zone.
    pub quota: QuotaConfig,
    /// Disk and bandwidth prices and prepaid discounts.
    pub pricing: PricingConfig,
    /// API keys and their accounts' money.
    pub accounts: Vec<AccountConfig>,
    /// Regions and their zones.
    pub regions: Vec<RegionConfig>,
    /// Instance types with prices and stock.
    pub instance_types: Vec<InstanceTypeConfig>,
    /// Stock overrides for single zone × type pairs.
    pub stock: Vec<StockOverride>,
    /// Public images.
    pub images: Vec<ImageConfig>,
}

/// The answer to a RunInstances `DryRun` that passes every check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DryRunAnswer {
    /// The `DryRunOperation` error of the common error table (the default).
    #[default]
    DryRunOperation,
    /// A plain answer with an empty `InstanceIdSet` and a RequestId, as the CVM page words it.
    RequestId,
}

/// Delays in simulated seconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleConfig {
    /// PENDING → RUNNING (or LAUNCH_FAILED).
    pub launch_secs: u64,
    /// Launches that fail, per million.
    pub launch_failure_per_million: u32,
    /// `LatestOperationErrorMsg` of a failed launch.
    pub launch_failure_message: String,
    /// Earliest delay from purchase to a visible public IP.
    pub public_ip_min_secs: u64,
    /// Latest delay from purchase to a visible public IP.
    pub public_ip_max_secs: u64,
    /// How long a destroyed instance shows as TERMINATING before it disappears.
    pub terminating_secs: u64,
    /// How long a LAUNCH_FAILED instance stays visible.
    pub launch_failed_retention_secs: u64,
    /// How long an expired, unrenewed prepaid instance stays isolated (SHUTDOWN, RestrictState
    /// EXPIRED) before it is released.
    pub expired_retention_secs: u64,
}

/// Arrears.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillingConfig {
    /// Simulated seconds an account may owe more than its credit before its pay-as-you-go and
    /// spot instances are reclaimed.
    pub arrears_grace_secs: u64,
}

/// The spot market: every `step_secs` each price moves by up to ±`volatility` (a fraction),
/// kept between `min_ratio` and `max_ratio` of the pay-as-you-go price.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpotConfig {
    /// Simulated seconds between price moves.
    pub step_secs: u64,
    /// Largest relative move per step, e.g. 0.05.
    pub volatility: Decimal,
    /// Starting price as a fraction of the pay-as-you-go price.
    pub start_ratio: Decimal,
    /// Lowest price as a fraction of the pay-as-you-go price.
    pub min_ratio: Decimal,
    /// Highest price as a fraction of the pay-as-you-go price.
    pub max_ratio: Decimal,
}

/// Fault rates and latency, for all actions or one.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// Answers replaced by `InternalError`, per million.
    pub internal_error_per_million: u32,
    /// Answers replaced by `RequestLimitExceeded`, per million.
    pub request_limit_per_million: u32,
    /// Connections dropped before the request is processed, per million.
    pub drop_before_per_million: u32,
    /// Connections dropped after the request was processed (the answer is lost), per million.
    pub drop_after_per_million: u32,
    /// Added latency in wall milliseconds.
    pub latency_ms: u64,
    /// Further random latency, uniform in 0..=this many wall milliseconds.
    pub latency_jitter_ms: u64,
}

/// Faults: defaults for every action plus per-action replacements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Applies to actions without their own entry.
    pub all: FaultRates,
    /// Per action (e.g. `RunInstances`), replacing `all`.
    pub actions: BTreeMap<String, FaultRates>,
}

impl FaultConfig {
    /// The rates in force for `action`.
    pub fn rates_for(&self, action: &str) -> &FaultRates {
        self.actions.get(action).unwrap_or(&self.all)
    }
}

/// Requests per wall-clock second per SecretId and action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// false lifts every limit (benchmarks).
    pub enabled: bool,
    /// Limit of actions not listed.
    pub default: u32,
    /// Per-action limits.
    pub actions: BTreeMap<String, u32>,
}

impl RateLimitConfig {
    /// The limit for `action`, or `None` when unlimited.
    pub fn limit_for(&self, action: &str) -> Option<u32> {
        if !self.enabled {
            return None;
        }
        let limit = self.actions.get(action).copied().unwrap_or(self.default);
        (limit > 0).then_some(limit)
    }
}

/// Instance quotas per account and zone, by charge type.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// POSTPAID_BY_HOUR instances (`LimitExceeded.InstanceQuota`).
    pub postpaid_per_zone: u32,
    /// SPOTPAID instances (`LimitExceeded.SpotQuota`).
    pub spot_per_zone: u32,
    /// PREPAID instances (`LimitExceeded.PrepayQuota`).
    pub prepaid_per_zone: u32,
}

impl SimConfig {
    /// Reads a TOML file; keys it leaves out keep their defaults.
    pub fn from_toml_file(path: &Path) -> anyhow::Result<SimConfig> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_toml_str(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses TOML text and checks it.
    pub fn from_toml_str(text: &str) -> anyhow::Result<SimConfig> {
        let config: SimConfig = toml::from_str(text).context("parsing the simulator settings")?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: references between sections and sane numbers.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(self.speed.is_finite() && self.speed >= 0.0) {
            bail!("speed must be a number ≥ 0, not {}", self.speed);
        }
        if let Some(start) = &self.start_time
            && super::clock::parse_rfc3339(start).is_none()
        {
            bail!("start_time `{start}` is not an RFC 3339 time");
        }
        if self.lifecycle.public_ip_min_secs > self.lifecycle.public_ip_max_secs {
            bail!("lifecycle.public_ip_min_secs is above lifecycle.public_ip_max_secs");
        }
        if self.spot.min_ratio > self.spot.max_ratio || self.spot.step_secs == 0 {
            bail!("spot: min_ratio must not exceed max_ratio and step_secs must be > 0");
        }
        let mut zones = HashSet::new();
        for region in &self.regions {
            for zone in &region.zones {
                if !zones.insert(zone.zone.as_str()) {
                    bail!("zone `{}` is listed twice", zone.zone);
                }
            }
        }
        let mut ids = HashSet::new();
        for account in &self.accounts {
            if !ids.insert(account.secret_id.as_str()) {
                bail!("account secret_id `{}` is listed twice", account.secret_id);
            }
        }
        for kind in &self.instance_types {
            if let Some(zone) = kind.zones.iter().find(|z| !zones.contains(z.as_str())) {
                bail!("instance type `{}` names unknown zone `{zone}`", kind.instance_type);
            }
            if kind.hourly.is_sign_negative() || kind.monthly.is_sign_negative() {
                bail!("instance type `{}` has a negative price", kind.instance_type);
            }
        }
        for entry in &self.stock {
            if !zones.contains(entry.zone.as_str()) {
                bail!("stock entry names unknown zone `{}`", entry.zone);
            }
            if !self
                .instance_types
                .iter()
                .any(|t| t.instance_type == entry.instance_type)
            {
                bail!("stock entry names unknown instance type `{}`", entry.instance_type);
            }
        }
        for image in &self.images {
            if super::clock::parse_rfc3339(&image.created_time).is_none() {
                bail!("image `{}` created_time is not RFC 3339", image.image_id);
            }
        }
        Ok(())
    }
}
