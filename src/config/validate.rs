//! Semantic checks on settings that parsed: ranges, URLs, policy consistency, presets.

use super::layers::Layers;
use super::settings::{AudienceSettings, FileSettings, FleetSettings, ReleaseSettings, TtlRuleSettings, TtlSettings};
use super::{Config, ConfigError, LogConfig, Secrets};
use crate::chat::ChatSettings;
use crate::chat::discord::DiscordSettings;
use crate::desk::{DeskSettings, TrackerSettings};
use crate::domain::form::preset_options;
use crate::domain::{Audience, BalanceCheck, BillingKind, ParseContext, Policy, PurchaseForm, PurchaseSpec, Tier};
use crate::domain::{FleetPolicy, ReleasePolicy, ReleaseRule, RoleId, TtlPolicy, TtlRule, UserId};
use crate::store::{DatabaseSettings, DatabaseTarget};
use crate::tencent::{ClientSettings, Endpoint, RetryPolicy};
use crate::workers::WorkerSettings;
use std::path::PathBuf;

struct Checker<'a> {
    layers: &'a Layers,
}

impl Checker<'_> {
    fn error(&self, key: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(key, self.layers.value_at(key), self.layers.origin(key), problem)
    }

    fn ensure(&self, ok: bool, key: &str, problem: &str) -> Result<(), ConfigError> {
        if ok { Ok(()) } else { Err(self.error(key, problem)) }
    }
}

/// Turns settings that parsed into a valid [`Config`] of typed values, or names the first problem.
pub(super) fn validate(
    settings: &FileSettings,
    secrets: Secrets,
    layers: &Layers,
    file: Option<PathBuf>,
) -> Result<Config, ConfigError> {
    let check = Checker { layers };
    let database = database(&check, settings)?;
    let tencent = tencent(&check, settings)?;
    let discord = discord(&check, settings)?;
    let policy = policy(&check, settings)?;
    let parse = presets(&check, settings)?;
    let digest_at = others(&check, settings)?;
    let service = service(&check, settings)?;
    let mut budgets = super::budgets::budgets(&settings.budgets, |key, problem| check.error(key, problem))?;
    budgets.extend(super::budgets::caps(&settings.policy));
    let mut desk = desk_settings(settings, &tencent, policy, parse);
    desk.budgets = budgets;
    let workers = worker_settings(settings, digest_at);
    Ok(Config {
        database,
        tencent,
        desk,
        workers,
        chat: ChatSettings {
            alert_channel: (settings.discord.alert_channel_id.0 != 0)
                .then(|| crate::domain::ChannelId::new(settings.discord.alert_channel_id.0)),
            thread_per_request: settings.discord.thread_per_request,
        },
        discord,
        log: LogConfig {
            json: settings.log.format == "json",
            level: settings.log.level.clone(),
        },
        service,
        secrets,
        file,
    })
}

/// `[service]`: where health and metrics are served (nowhere unless set) and how recently Tencent
/// must have answered a leader.
fn service(check: &Checker<'_>, settings: &FileSettings) -> Result<crate::ops::ServiceSettings, ConfigError> {
    let s = &settings.service;
    let listen = match s.listen.0.trim() {
        "" => None,
        text => Some(text.parse::<std::net::SocketAddr>().map_err(|_| {
            check.error(
                "service.listen",
                "must be an IP address and port such as 127.0.0.1:9464 or [::1]:9464, or \"\" for no listener",
            )
        })?),
    };
    let balance = settings.balance.check_interval.0;
    check.ensure(
        s.tencent_within.0 > balance,
        "service.tencent_within",
        &format!(
            "must be longer than balance.check_interval ({}): an idle leader asks Tencent only that often, \
             and would otherwise be reported not ready between two readings",
            crate::domain::duration::format_duration(balance)
        ),
    )?;
    Ok(crate::ops::ServiceSettings {
        listen,
        tencent_within: s.tencent_within.0,
    })
}

/// How long a submission whose outcome is unknown waits before it is resent (same ClientToken).
const RESEND_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

fn desk_settings(
    settings: &FileSettings,
    tencent: &ClientSettings,
    policy: Policy,
    parse: ParseContext,
) -> DeskSettings {
    let mut regions = vec![tencent.region.clone()];
    for zone in &policy.allowed_zones {
        if let Ok(zone) = crate::domain::names::Zone::parse(zone)
            && !regions.iter().any(|r| r == zone.region())
        {
            regions.push(zone.region().to_owned());
        }
    }
    DeskSettings {
        policy,
        parse,
        keep_trying_interval: settings.submitter.keep_trying_interval.0,
        keep_trying_max_interval: settings.submitter.keep_trying_max_interval.0,
        resend_after: RESEND_AFTER,
        first_poll: settings.tracker.initial_interval.0,
        still_running_every: settings.workers.still_running_every.0,
        budgets: Vec::new(),
        catalogue_regions: regions,
    }
}

fn worker_settings(settings: &FileSettings, digest_at: Option<(u8, u8)>) -> WorkerSettings {
    WorkerSettings {
        submit_poll: settings.submitter.poll_interval.0,
        tracker: TrackerSettings {
            initial: settings.tracker.initial_interval.0,
            waiting: settings.tracker.waiting_interval.0,
            max: settings.tracker.max_interval.0,
            backoff: settings.tracker.backoff,
            pending_warning: settings.tracker.pending_warning_after.0,
        },
        balance_interval: settings.balance.check_interval.0,
        warn_below: settings.balance.warn_below.iter().map(|a| a.0).collect(),
        reminder: settings.balance.reminder_interval.0,
        digest_at,
        lease: settings.workers.lease.0,
        lifetimes_interval: settings.workers.lifetimes_interval.0,
        fleets_interval: settings.workers.fleets_interval.0,
    }
}

fn discord(check: &Checker<'_>, settings: &FileSettings) -> Result<DiscordSettings, ConfigError> {
    let d = &settings.discord;
    check.ensure(
        d.api_base.starts_with("https://") || d.api_base.starts_with("http://"),
        "discord.api_base",
        "must be an http(s) URL such as https://discord.com",
    )?;
    Ok(DiscordSettings {
        api_base: d.api_base.trim_end_matches('/').to_owned(),
        guild_ids: d.guild_ids.iter().map(|g| g.0).collect(),
    })
}

fn database(check: &Checker<'_>, settings: &FileSettings) -> Result<DatabaseSettings, ConfigError> {
    let url = settings.database.url.trim();
    check.ensure(
        (1..=100).contains(&settings.database.max_connections),
        "database.max_connections",
        "must be from 1 to 100",
    )?;
    let target = if url.starts_with("sqlite:") {
        DatabaseTarget::Sqlite(url.to_owned())
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        DatabaseTarget::Postgres(url.to_owned())
    } else {
        return Err(check.error(
            "database.url",
            "must start with sqlite:// (a file) or postgres:// (a server)",
        ));
    };
    Ok(DatabaseSettings {
        target,
        max_connections: settings.database.max_connections,
    })
}

fn tencent(check: &Checker<'_>, settings: &FileSettings) -> Result<ClientSettings, ConfigError> {
    let t = &settings.tencent;
    let endpoint = Endpoint::parse(&t.endpoint).map_err(|problem| check.error("tencent.endpoint", problem))?;
    let region_ok = t.region.split('-').count() >= 2 && t.region.bytes().all(|b| b.is_ascii_lowercase() || b == b'-');
    check.ensure(region_ok, "tencent.region", "must be a region such as ap-guangzhou")?;
    check.ensure(
        matches!(t.language.as_str(), "en-US" | "zh-CN"),
        "tencent.language",
        "must be \"en-US\" or \"zh-CN\"",
    )?;
    check.ensure(
        (1..=10).contains(&t.max_attempts),
        "tencent.max_attempts",
        "must be from 1 to 10",
    )?;
    check.ensure(!t.timeout.0.is_zero(), "tencent.timeout", "must be longer than 0s")?;
    check.ensure(
        t.backoff_base.0 <= t.backoff_max.0,
        "tencent.backoff_base",
        "must not exceed tencent.backoff_max",
    )?;
    for action in t.rate_limits.keys() {
        check.ensure(
            action == "default" || crate::tencent::ACTIONS.contains(&action.as_str()),
            &format!("tencent.rate_limits.{action}"),
            &format!(
                "is not an action cvmbot calls; rate limits can be set for default, {}",
                crate::tencent::ACTIONS.join(", ")
            ),
        )?;
    }
    Ok(ClientSettings {
        endpoint,
        region: t.region.clone(),
        language: t.language.clone(),
        timeout: t.timeout.0,
        connect_timeout: t.connect_timeout.0,
        retry: RetryPolicy {
            max_attempts: t.max_attempts,
            base_delay: t.backoff_base.0,
            max_delay: t.backoff_max.0,
        },
        rate_limits: t.rate_limits.clone(),
    })
}

fn audience(settings: &AudienceSettings) -> Audience {
    Audience {
        anyone: settings.anyone,
        roles: settings.roles.iter().map(|s| RoleId::new(s.0)).collect(),
        users: settings.users.iter().map(|s| UserId::new(s.0)).collect(),
    }
}

fn policy(check: &Checker<'_>, settings: &FileSettings) -> Result<Policy, ConfigError> {
    let p = &settings.policy;
    let approvers = audience(&p.approvers);
    check.ensure(
        !approvers.is_nobody(),
        "policy.approvers",
        "names nobody: list approver roles or users (e.g. approvers = { roles = [\"123…\"] }), or set anyone = true",
    )?;
    let mut allowed_billing = Vec::new();
    for (i, name) in p.allowed_charge_types.iter().enumerate() {
        let kind = BillingKind::parse(name).ok_or_else(|| {
            check.error(
                &format!("policy.allowed_charge_types.{i}"),
                "must be POSTPAID_BY_HOUR, SPOTPAID or PREPAID",
            )
        })?;
        allowed_billing.push(kind);
    }
    check.ensure(
        !allowed_billing.is_empty(),
        "policy.allowed_charge_types",
        "must allow at least one billing mode",
    )?;
    for (i, zone) in p.allowed_zones.iter().enumerate() {
        crate::domain::names::Zone::parse(zone).map_err(|e| check.error(&format!("policy.allowed_zones.{i}"), e))?;
    }
    for (i, pattern) in p.allowed_instance_types.iter().enumerate() {
        let exact = pattern
            .strip_suffix(".*")
            .map_or(pattern.clone(), |family| format!("{family}.X"));
        crate::domain::names::InstanceType::parse(&exact).map_err(|_| {
            check.error(
                &format!("policy.allowed_instance_types.{i}"),
                "must be a type such as S5.MEDIUM4 or a family such as S5.*",
            )
        })?;
    }
    check.ensure(
        (1..=crate::domain::spec::MAX_COUNT).contains(&p.max_count),
        "policy.max_count",
        "must be from 1 to 100",
    )?;
    check.ensure(
        !p.request_expiry.0.is_zero(),
        "policy.request_expiry",
        "must be longer than 0s",
    )?;
    check.ensure(!p.tiers.is_empty(), "policy.tiers", "must have at least one tier")?;
    let mut tiers: Vec<Tier> = Vec::new();
    for (i, tier) in p.tiers.iter().enumerate() {
        check.ensure(
            (1..=10).contains(&tier.approvals),
            &format!("policy.tiers.{i}.approvals"),
            "must be from 1 to 10",
        )?;
        if let Some(previous) = tiers.last().copied() {
            check.ensure(
                tier.up_to.0 > previous.up_to,
                &format!("policy.tiers.{i}.up_to"),
                "tiers must be in ascending order of up_to",
            )?;
            check.ensure(
                tier.approvals >= previous.approvals,
                &format!("policy.tiers.{i}.approvals"),
                &format!(
                    "a dearer tier must need at least as many approvals as a cheaper one (tier {} up to {} needs {})",
                    i - 1,
                    previous.up_to,
                    previous.approvals
                ),
            )?;
        }
        tiers.push(Tier {
            up_to: tier.up_to.0,
            approvals: tier.approvals,
        });
    }
    let balance_check = match p.balance_check.as_str() {
        "block" => BalanceCheck::Block,
        "warn" => BalanceCheck::Warn,
        _ => return Err(check.error("policy.balance_check", "must be \"block\" or \"warn\"")),
    };
    Ok(Policy {
        requesters: audience(&p.requesters),
        approvers,
        admins: audience(&p.admins),
        allowed_zones: p.allowed_zones.iter().map(|z| z.trim().to_ascii_lowercase()).collect(),
        allowed_types: p
            .allowed_instance_types
            .iter()
            .map(|t| t.trim().to_ascii_uppercase())
            .collect(),
        allowed_billing,
        max_count: p.max_count,
        expiry: p.request_expiry.0,
        tiers,
        balance_check,
        requote_after: p.requote_after.0,
        release: release_policy(check, &p.release)?,
        fleet: fleet_policy(check, &p.fleet)?,
    })
}

fn fleet_policy(check: &Checker<'_>, settings: &FleetSettings) -> Result<FleetPolicy, ConfigError> {
    check.ensure(
        (1..=10_000).contains(&settings.max_count),
        "policy.fleet.max_count",
        "must be from 1 to 10000",
    )?;
    Ok(FleetPolicy {
        max_count: settings.max_count,
        ttl: ttl_rule(check, "policy.fleet.ttl", &settings.ttl)?,
    })
}

fn ttl_span(check: &Checker<'_>, key: &str, text: &str) -> Result<Option<std::time::Duration>, ConfigError> {
    if text.trim().eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    match crate::domain::duration::parse_duration(text) {
        Ok(d) if d >= crate::domain::lifetime::MIN_TTL => Ok(Some(d)),
        _ => Err(check.error(key, "must be \"none\" or a duration of at least 10m, such as \"3d\"")),
    }
}

/// One time-to-live rule, its keys under `key`.
fn ttl_rule(check: &Checker<'_>, key: &str, rule: &TtlRuleSettings) -> Result<TtlRule, ConfigError> {
    let default = ttl_span(check, &format!("{key}.default"), &rule.default)?;
    let max = ttl_span(check, &format!("{key}.max"), &rule.max)?;
    if let (Some(default), Some(max)) = (default, max)
        && default > max
    {
        return Err(check.error(&format!("{key}.default"), "must not be longer than `max`"));
    }
    if default.is_none() && !rule.allow_none {
        return Err(check.error(
            &format!("{key}.default"),
            "must be a duration when `allow_none` is false (a request that names no ttl needs one)",
        ));
    }
    Ok(TtlRule {
        default,
        max,
        allow_none: rule.allow_none,
    })
}

fn ttl_policy(check: &Checker<'_>, settings: &TtlSettings) -> Result<TtlPolicy, ConfigError> {
    let rule = |mode: &str, rule: &TtlRuleSettings| ttl_rule(check, &format!("policy.ttl.{mode}"), rule);
    let leads = |key: &str, texts: &[String]| -> Result<Vec<std::time::Duration>, ConfigError> {
        let mut leads = Vec::new();
        for (n, text) in texts.iter().enumerate() {
            match crate::domain::duration::parse_duration(text) {
                Ok(d) if !d.is_zero() => leads.push(d),
                _ => return Err(check.error(&format!("policy.ttl.{key}[{n}]"), "must be a duration such as \"24h\"")),
            }
        }
        leads.sort_by(|a, b| b.cmp(a));
        leads.dedup();
        Ok(leads)
    };
    let reminders = leads("reminders", &settings.reminders)?;
    let renewal_reminders = leads("renewal_reminders", &settings.renewal_reminders)?;
    Ok(TtlPolicy {
        pay_as_you_go: rule("pay_as_you_go", &settings.pay_as_you_go)?,
        spot: rule("spot", &settings.spot)?,
        prepaid: rule("prepaid", &settings.prepaid)?,
        reminders,
        renewal_reminders,
    })
}

fn release_policy(check: &Checker<'_>, settings: &ReleaseSettings) -> Result<ReleasePolicy, ConfigError> {
    let rule = |key: &str, text: &str| {
        ReleaseRule::parse(text)
            .ok_or_else(|| check.error(&format!("policy.release.{key}"), "must be \"at_once\" or \"approval\""))
    };
    Ok(ReleasePolicy {
        own_hourly: rule("own_hourly", &settings.own_hourly)?,
        own_prepaid: rule("own_prepaid", &settings.own_prepaid)?,
        others: rule("others", &settings.others)?,
        bulk_at_once: settings.bulk_at_once,
    })
}

/// Presets are checked by parsing each one as a request would, so a bad preset fails at start-up
/// rather than in front of a user.
fn presets(check: &Checker<'_>, settings: &FileSettings) -> Result<ParseContext, ConfigError> {
    let mut context = ParseContext {
        presets: Default::default(),
        keep_trying_default: settings.submitter.keep_trying_for.0,
        ttl: ttl_policy(check, &settings.policy.ttl)?,
    };
    for (name, values) in &settings.presets {
        let mut texts = std::collections::BTreeMap::new();
        for (option, value) in values {
            if !preset_options().any(|allowed| allowed == option.as_str()) {
                return Err(check.error(
                    &format!("presets.{name}.{option}"),
                    format!(
                        "is not an option a preset can set; allowed: {}",
                        preset_options().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            texts.insert(option.clone(), value.as_text());
        }
        context.presets.insert(name.clone(), texts);
    }
    for name in settings.presets.keys() {
        let probe = PurchaseForm::new(BillingKind::PayAsYouGo)
            .with("preset", name.clone())
            .with("zone", "ap-guangzhou-3")
            .with("type", "S5.MEDIUM4")
            .with("image", "img-00000000");
        if let Err(errors) = PurchaseSpec::parse(&probe, &context) {
            let first = &errors.0[0];
            return Err(check.error(&format!("presets.{name}.{}", first.field), first.problem.clone()));
        }
    }
    Ok(context)
}

/// The remaining checks; returns the digest's time of day when the digest is on.
fn others(check: &Checker<'_>, settings: &FileSettings) -> Result<Option<(u8, u8)>, ConfigError> {
    let backoff = settings.tracker.backoff;
    check.ensure(
        (1.0..=10.0).contains(&backoff),
        "tracker.backoff",
        "must be a factor from 1.0 to 10.0",
    )?;
    check.ensure(
        settings.tracker.initial_interval.0 <= settings.tracker.max_interval.0
            && !settings.tracker.initial_interval.0.is_zero(),
        "tracker.initial_interval",
        "must be above 0s and not above tracker.max_interval",
    )?;
    check.ensure(
        !settings.submitter.poll_interval.0.is_zero(),
        "submitter.poll_interval",
        "must be longer than 0s",
    )?;
    check.ensure(
        !settings.workers.lifetimes_interval.0.is_zero(),
        "workers.lifetimes_interval",
        "must be longer than 0s",
    )?;
    check.ensure(
        !settings.workers.fleets_interval.0.is_zero(),
        "workers.fleets_interval",
        "must be longer than 0s",
    )?;
    check.ensure(
        (std::time::Duration::from_secs(3)..=std::time::Duration::from_secs(600)).contains(&settings.workers.lease.0),
        "workers.lease",
        "must be from 3s to 10m",
    )?;
    check.ensure(
        !settings.balance.check_interval.0.is_zero(),
        "balance.check_interval",
        "must be longer than 0s",
    )?;
    let digest_at = parse_time_of_day(&settings.digest.at)
        .ok_or_else(|| check.error("digest.at", "must be a UTC time of day as HH:MM, such as 09:00"))?;
    check.ensure(
        matches!(settings.log.format.as_str(), "text" | "json"),
        "log.format",
        "must be \"text\" or \"json\"",
    )?;
    check.ensure(
        valid_log_level(&settings.log.level),
        "log.level",
        "must be a level (error, warn, info, debug, trace or off) or directives such as \"info,cvmbot=debug\"",
    )?;
    Ok(settings.digest.enabled.then_some(digest_at))
}

/// `HH:MM` (24-hour) as (hour, minute).
fn parse_time_of_day(text: &str) -> Option<(u8, u8)> {
    let (hour, minute) = text.split_once(':')?;
    let hour: u8 = (hour.len() == 2).then(|| hour.parse().ok()).flatten()?;
    let minute: u8 = (minute.len() == 2).then(|| minute.parse().ok()).flatten()?;
    (hour < 24 && minute < 60).then_some((hour, minute))
}

const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace", "off"];

/// A level, or comma-separated directives `LEVEL` / `TARGET=LEVEL` (what `RUST_LOG` takes, minus
/// span filters). A bare word that is not a level would be read as a target and silence the rest.
fn valid_log_level(text: &str) -> bool {
    let level = |word: &str| LOG_LEVELS.iter().any(|l| word.trim().eq_ignore_ascii_case(l));
    !text.trim().is_empty()
        && text.split(',').all(|directive| match directive.split_once('=') {
            Some((target, value)) => {
                let target = target.trim();
                !target.is_empty()
                    && target
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-'))
                    && level(value)
            }
            None => level(directive),
        })
}
