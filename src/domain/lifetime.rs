//! A purchase's time to live: how long its servers may run before cvmbot releases them, the
//! defaults and maxima per billing mode, the reminders before the end, and how far an owner may
//! extend it without a new approval.

use super::duration::format_duration;
use super::spec::BillingKind;
use std::time::Duration;
use time::OffsetDateTime;

/// The time-to-live rule of one billing mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TtlRule {
    /// The TTL a request that names none gets (`None`: no TTL).
    pub default: Option<Duration>,
    /// The longest lifetime, from purchase to release, without a new approval (`None`: no limit).
    pub max: Option<Duration>,
    /// Whether a request may say `ttl:none`.
    pub allow_none: bool,
}

/// Time-to-live rules for every billing mode, and the reminders before the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TtlPolicy {
    /// Pay-as-you-go.
    pub pay_as_you_go: TtlRule,
    /// Spot.
    pub spot: TtlRule,
    /// Prepaid.
    pub prepaid: TtlRule,
    /// How long before the end the owner is reminded, longest first.
    pub reminders: Vec<Duration>,
    /// How long before a prepaid period ends the owner is reminded, longest first.
    pub renewal_reminders: Vec<Duration>,
}

impl Default for TtlPolicy {
    /// No TTL anywhere (what a configuration without `[policy.ttl]` would mean before this policy
    /// existed; the shipped defaults are in `config/default.toml`).
    fn default() -> Self {
        let none = TtlRule {
            default: None,
            max: None,
            allow_none: true,
        };
        TtlPolicy {
            pay_as_you_go: none,
            spot: none,
            prepaid: none,
            reminders: Vec::new(),
            renewal_reminders: Vec::new(),
        }
    }
}

impl TtlPolicy {
    /// The rule for `kind`.
    pub fn rule(&self, kind: BillingKind) -> TtlRule {
        match kind {
            BillingKind::PayAsYouGo => self.pay_as_you_go,
            BillingKind::Spot => self.spot,
            BillingKind::Prepaid => self.prepaid,
        }
    }

    /// The TTL a request for `kind` gets from the `ttl` option as typed (absent: the default), or
    /// what is wrong with it in words that name the allowed values.
    pub fn choose(&self, kind: BillingKind, typed: Option<&str>) -> Result<Option<Duration>, String> {
        let rule = self.rule(kind);
        let allowed = match rule.max {
            Some(max) => format!("a duration up to {} such as 3d or 12h", format_duration(max)),
            None => "a duration such as 3d or 12h".to_owned(),
        };
        let Some(text) = typed.map(str::trim) else {
            return Ok(rule.default);
        };
        if text.eq_ignore_ascii_case("none") {
            return if rule.allow_none {
                Ok(None)
            } else {
                Err(format!(
                    "cannot be `none` for {} servers: the policy releases them automatically; use {allowed}",
                    kind.label()
                ))
            };
        }
        let ttl = super::duration::parse_duration(text).map_err(|_| {
            let none = if rule.allow_none { ", or none" } else { "" };
            format!("`{text}` is not a time to live: use {allowed}{none}")
        })?;
        if ttl < MIN_TTL {
            return Err(format!("is at least {}", format_duration(MIN_TTL)));
        }
        if ttl > MAX_TTL {
            return Err(format!(
                "is at most {} (or none, where the policy allows it)",
                format_duration(MAX_TTL)
            ));
        }
        if let Some(max) = rule.max
            && ttl > max
        {
            return Err(format!(
                "is at most {} for {} servers (the policy's maximum; longer needs a new approval later)",
                format_duration(max),
                kind.label()
            ));
        }
        Ok(Some(ttl))
    }

    /// The latest time an owner may extend a lifetime that started at `started` to without a new
    /// approval (`None`: no limit).
    pub fn latest_without_approval(&self, kind: BillingKind, started: OffsetDateTime) -> Option<OffsetDateTime> {
        self.rule(kind).max.map(|max| started + max)
    }

    /// How much one press of Extend adds: the mode's default TTL, else one day.
    pub fn extension_step(&self, kind: BillingKind) -> Duration {
        self.rule(kind).default.unwrap_or(Duration::from_secs(86_400))
    }
}

/// The shortest time to live: less would be released before anyone could be reminded.
pub const MIN_TTL: Duration = Duration::from_secs(600);

/// The longest time to live or extension anyone may type (five years, the longest prepaid
/// period Tencent sells); longer is `none` where the policy allows it.
pub const MAX_TTL: Duration = Duration::from_secs(5 * 366 * 86_400);

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> TtlPolicy {
        TtlPolicy {
            pay_as_you_go: TtlRule {
                default: Some(Duration::from_secs(3 * 86_400)),
                max: Some(Duration::from_secs(14 * 86_400)),
                allow_none: false,
            },
            spot: TtlRule {
                default: Some(Duration::from_secs(86_400)),
                max: Some(Duration::from_secs(7 * 86_400)),
                allow_none: false,
            },
            prepaid: TtlRule {
                default: None,
                max: None,
                allow_none: true,
            },
            reminders: vec![Duration::from_secs(86_400), Duration::from_secs(3600)],
            renewal_reminders: vec![Duration::from_secs(7 * 86_400)],
        }
    }

    #[test]
    fn a_request_without_ttl_gets_its_billing_modes_default() {
        let p = policy();
        assert_eq!(
            p.choose(BillingKind::PayAsYouGo, None),
            Ok(Some(Duration::from_secs(3 * 86_400)))
        );
        assert_eq!(p.choose(BillingKind::Prepaid, None), Ok(None));
        assert_eq!(
            p.choose(BillingKind::Spot, Some("12h")),
            Ok(Some(Duration::from_secs(12 * 3600)))
        );
    }

    #[test]
    fn none_and_too_long_are_refused_where_the_policy_says_so_naming_the_limit() {
        let p = policy();
        let none = p.choose(BillingKind::PayAsYouGo, Some("none")).unwrap_err();
        assert!(none.contains("cannot be `none` for pay-as-you-go"), "{none}");
        assert_eq!(p.choose(BillingKind::Prepaid, Some("none")), Ok(None));
        let long = p.choose(BillingKind::Spot, Some("8d")).unwrap_err();
        assert!(long.contains("at most 7d for spot"), "{long}");
        let garbled = p.choose(BillingKind::PayAsYouGo, Some("soon")).unwrap_err();
        assert!(garbled.contains("up to 14d"), "{garbled}");
        assert!(
            p.choose(BillingKind::PayAsYouGo, Some("1m"))
                .unwrap_err()
                .contains("at least 10m")
        );
    }
}
