//! The typed settings, one struct per section of `config/default.toml`. Unknown keys are refused so
//! a typo fails at start-up instead of being ignored.
#![allow(
    missing_docs,
    reason = "the TOML keys as written, each documented in config/default.toml"
)]

use super::values::{Amount, OptionalYuan, Snowflake, Span, Text};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// Every setting but the secrets.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub database: DatabaseSettings,
    pub tencent: TencentSettings,
    pub discord: DiscordSettings,
    pub policy: PolicySettings,
    #[serde(default)]
    pub presets: BTreeMap<String, BTreeMap<String, PresetValue>>,
    pub submitter: SubmitterSettings,
    pub workers: WorkersSettings,
    pub tracker: TrackerSettings,
    pub balance: BalanceSettings,
    pub digest: DigestSettings,
    pub log: LogSettings,
    pub service: ServiceSettings,
    #[serde(default)]
    pub budgets: Vec<BudgetSettings>,
}

/// `[database]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

/// `[tencent]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TencentSettings {
    pub endpoint: String,
    pub region: String,
    pub language: String,
    pub timeout: Span,
    pub connect_timeout: Span,
    pub max_attempts: u32,
    pub backoff_base: Span,
    pub backoff_max: Span,
    pub rate_limits: HashMap<String, u32>,
}

/// `[discord]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    pub api_base: String,
    pub guild_ids: Vec<Snowflake>,
    pub alert_channel_id: Snowflake,
    pub thread_per_request: bool,
}

/// A group of people named by role and user ids.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceSettings {
    #[serde(default)]
    pub anyone: bool,
    #[serde(default)]
    pub roles: Vec<Snowflake>,
    #[serde(default)]
    pub users: Vec<Snowflake>,
}

/// One approval tier.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSettings {
    pub up_to: Amount,
    pub approvals: u32,
}

/// `[policy]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySettings {
    pub requesters: AudienceSettings,
    pub approvers: AudienceSettings,
    pub admins: AudienceSettings,
    pub allowed_zones: Vec<String>,
    pub allowed_instance_types: Vec<String>,
    pub allowed_charge_types: Vec<String>,
    pub max_count: u32,
    pub request_expiry: Span,
    pub requester_monthly_cap: OptionalYuan,
    pub team_monthly_cap: OptionalYuan,
    pub balance_check: String,
    pub requote_after: Span,
    pub tiers: Vec<TierSettings>,
    pub release: ReleaseSettings,
    pub ttl: TtlSettings,
    pub fleet: FleetSettings,
}

/// `[policy.fleet]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSettings {
    pub max_count: u32,
    pub ttl: TtlRuleSettings,
}

/// `[policy.ttl]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtlSettings {
    pub reminders: Vec<String>,
    pub renewal_reminders: Vec<String>,
    pub pay_as_you_go: TtlRuleSettings,
    pub spot: TtlRuleSettings,
    pub prepaid: TtlRuleSettings,
}

/// One billing mode's time-to-live rule.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TtlRuleSettings {
    pub default: String,
    pub max: String,
    pub allow_none: bool,
}

/// `[policy.release]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSettings {
    pub own_hourly: String,
    pub own_prepaid: String,
    pub others: String,
    pub bulk_at_once: u32,
}

/// A preset value: people write numbers bare (`count = 2`) or quoted.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum PresetValue {
    Text(String),
    Integer(i64),
    Bool(bool),
}

impl PresetValue {
    /// The value as the text a user would have typed.
    pub fn as_text(&self) -> String {
        match self {
            PresetValue::Text(text) => text.clone(),
            PresetValue::Integer(number) => number.to_string(),
            PresetValue::Bool(flag) => flag.to_string(),
        }
    }
}

/// `[submitter]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitterSettings {
    pub poll_interval: Span,
    pub keep_trying_interval: Span,
    pub keep_trying_max_interval: Span,
    pub keep_trying_for: Span,
}

/// `[workers]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkersSettings {
    pub lease: Span,
    pub lifetimes_interval: Span,
    pub still_running_every: Span,
    pub fleets_interval: Span,
}

/// `[tracker]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackerSettings {
    pub initial_interval: Span,
    pub waiting_interval: Span,
    pub max_interval: Span,
    pub backoff: f64,
    pub pending_warning_after: Span,
}

/// `[balance]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BalanceSettings {
    pub check_interval: Span,
    pub warn_below: Vec<Amount>,
    pub reminder_interval: Span,
}

/// `[digest]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSettings {
    pub enabled: bool,
    pub at: String,
}

/// `[log]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

/// `[service]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    pub listen: Text,
    pub tencent_within: Span,
}

/// One `[[budgets]]` entry, as written; `config/budgets.rs` checks it.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetSettings {
    #[serde(default)]
    pub name: String,
    pub requester: Option<Snowflake>,
    pub team: Option<Vec<Snowflake>>,
    pub team_role: Option<Snowflake>,
    pub tag: Option<String>,
    pub monthly: Option<Amount>,
    pub thresholds: Option<Vec<i64>>,
    pub forecast: Option<bool>,
    pub over: Option<String>,
    pub counts: Option<String>,
}
