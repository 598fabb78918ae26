//! The names the engine gives what it records: each outbox row's dedupe key (unique per event, so
//! an event raised twice is stored once) and each audit entry's action. One place, so every
//! writer spells them alike and the chat's nonces and the audit export stay stable.

use crate::domain::{RequestId, VoteVia};
use std::fmt;

/// The key an outbox row is unique by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DedupeKey(String);

/// News of a request that is posted once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestNews<'a> {
    /// Its card.
    Card,
    /// Tencent accepted the purchase.
    Submitted,
    /// Tencent refused it.
    Failed,
    /// Nobody decided in time.
    Expired,
    /// Its price rose; the new price's approval hash.
    Requoted(&'a str),
    /// The policy refused the renewed price.
    RefusedOnRequote,
    /// Tencent could not be reached for this attempt.
    Unreachable(u32),
    /// This attempt's answers could not be read, again and again.
    Unresolved(u32),
    /// A keep-trying attempt failed; another follows.
    Retry(u32),
    /// Its time to live ends at this moment (unix seconds) in this many seconds.
    TtlReminder(i64, u64),
    /// Its time to live was extended for the n-th time.
    Extended(u32),
    /// Its time to live ended.
    TtlEnded,
    /// Its prepaid period ends at this moment (unix seconds) in this many seconds.
    RenewalReminder(i64, u64),
    /// Its instances' auto-renewal was set, for the n-th time.
    RenewFlag(u64),
}

/// News of an instance that is posted once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstanceNews {
    /// It is RUNNING.
    Running,
    /// Its public IP appeared.
    PublicIp,
    /// It failed to launch.
    LaunchFailed,
    /// It is gone (reclaimed, terminated outside cvmbot, isolated).
    Gone,
    /// It has been PENDING for long.
    StillPending,
    /// Tencent isolated it at the end of its prepaid period.
    Isolated,
}

impl DedupeKey {
    /// `request:N:…`.
    pub fn request(id: RequestId, news: RequestNews<'_>) -> DedupeKey {
        let what = match news {
            RequestNews::Card => "card".to_owned(),
            RequestNews::Submitted => "submitted".to_owned(),
            RequestNews::Failed => "failed".to_owned(),
            RequestNews::Expired => "expired".to_owned(),
            RequestNews::Requoted(hash) => format!("requoted:{hash}"),
            RequestNews::RefusedOnRequote => "refused-on-requote".to_owned(),
            RequestNews::Unreachable(attempt) => format!("unreachable:{attempt}"),
            RequestNews::Unresolved(attempt) => format!("unresolved:{attempt}"),
            RequestNews::Retry(attempt) => format!("retry:{attempt}"),
            RequestNews::TtlReminder(deadline, lead) => format!("ttl-reminder:{deadline}:{lead}"),
            RequestNews::Extended(n) => format!("extended:{n}"),
            RequestNews::TtlEnded => "ttl-ended".to_owned(),
            RequestNews::RenewFlag(n) => format!("renew-flag:{n}"),
            RequestNews::RenewalReminder(deadline, lead) => format!("renewal-reminder:{deadline}:{lead}"),
        };
        DedupeKey(format!("request:{id}:{what}"))
    }

    /// `fleet:N:…`: fleet `id`'s summary number `n`, its wait that began at `since_ms`, its end.
    pub fn fleet(id: RequestId, news: FleetNews) -> DedupeKey {
        let what = match news {
            FleetNews::Summary(n) => format!("summary:{n}"),
            FleetNews::Waiting(since_ms) => format!("waiting:{since_ms}"),
            FleetNews::Ended => "ended".to_owned(),
        };
        DedupeKey(format!("fleet:{id}:{what}"))
    }

    /// `instance:ins-…:…`.
    pub fn instance(instance_id: &str, news: InstanceNews) -> DedupeKey {
        let what = match news {
            InstanceNews::Running => "running",
            InstanceNews::PublicIp => "public-ip",
            InstanceNews::LaunchFailed => "launch-failed",
            InstanceNews::Gone => "gone",
            InstanceNews::StillPending => "still-pending",
            InstanceNews::Isolated => "isolated",
        };
        DedupeKey(format!("instance:{instance_id}:{what}"))
    }

    /// The same news's copy for the alert channel: `alert:…`.
    pub fn in_alerts(&self) -> DedupeKey {
        DedupeKey(format!("alert:{}", self.0))
    }

    /// The `sequence`-th balance alert, at warning `level` or about the reading: `balance:N:…`.
    pub fn balance(sequence: i64, what: &str) -> DedupeKey {
        DedupeKey(format!("{BALANCE_PREFIX}{sequence}:{what}"))
    }

    /// The still-running report to `owner` for period number `period`.
    pub fn still_running(owner: crate::domain::UserId, period: i64) -> DedupeKey {
        DedupeKey(format!("still-running:{owner}:{period}"))
    }

    /// The daily digest of `date`.
    pub fn digest(date: time::Date) -> DedupeKey {
        DedupeKey(format!("digest:{date}"))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The prefix of every balance alert's key (their count numbers the next one).
pub const BALANCE_PREFIX: &str = "balance:";

impl fmt::Display for DedupeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// News about a fleet, each told once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FleetNews {
    /// Summary number n.
    Summary(u32),
    /// Refills wait since this instant (unix ms).
    Waiting(i64),
    /// Its time to live ended.
    Ended,
}

/// What an audit entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditAction {
    /// A request was filed.
    Created,
    /// A vote was cast.
    Vote {
        /// Approve or reject.
        approve: bool,
        /// How.
        via: VoteVia,
    },
    /// A request was withdrawn.
    Cancelled,
    /// Nobody decided in time.
    Expired,
    /// The submitter claimed the purchase.
    Submitting,
    /// Tencent accepted it.
    Submitted,
    /// Tencent refused it.
    Refused,
    /// A keep-trying attempt is scheduled.
    RetryScheduled,
    /// The outcome was unknown; the purchase will be resent with the same ClientToken.
    ResendScheduled,
    /// The price rose; back for approval.
    Requoted,
    /// The policy refused the renewed price.
    RefusedOnRequote,
    /// Tencent refused the re-quote.
    RequoteRefused,
    /// Its instances settled the request.
    InstancesSettled,
    /// The policy needs no approval for it; approved as filed.
    ApprovedByPolicy,
    /// Tencent released its instances.
    Released,
    /// Its time to live was extended.
    Extended,
    /// Its owner was reminded that its time to live ends soon.
    Reminded,
    /// Its time to live ended (its release was filed, or nothing was left).
    LifetimeEnded,
    /// Tencent renewed its prepaid instances.
    Renewed,
    /// Its instances' auto-renewal was turned on or off.
    RenewFlagSet,
    /// The fleet was approved and now keeps its servers.
    FleetStarted,
    /// A fleet change was carried out.
    FleetChanged,
}

impl AuditAction {
    /// The name stored in the audit log (`vote:` actions say how they were cast in full).
    fn name(self) -> &'static str {
        match self {
            AuditAction::Created => "created",
            AuditAction::Vote { .. } => "vote",
            AuditAction::Cancelled => "cancelled",
            AuditAction::Expired => "expired",
            AuditAction::Submitting => "submitting",
            AuditAction::Submitted => "submitted",
            AuditAction::Refused => "refused",
            AuditAction::RetryScheduled => "retry-scheduled",
            AuditAction::ResendScheduled => "resend-scheduled",
            AuditAction::Requoted => "requoted",
            AuditAction::RefusedOnRequote => "refused-on-requote",
            AuditAction::RequoteRefused => "requote-refused",
            AuditAction::InstancesSettled => "instances-settled",
            AuditAction::ApprovedByPolicy => "approved-by-policy",
            AuditAction::Released => "released",
            AuditAction::Extended => "extended",
            AuditAction::Reminded => "reminded",
            AuditAction::LifetimeEnded => "lifetime-ended",
            AuditAction::Renewed => "renewed",
            AuditAction::RenewFlagSet => "renew-flag-set",
            AuditAction::FleetStarted => "fleet-started",
            AuditAction::FleetChanged => "fleet-changed",
        }
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditAction::Vote { approve, via } => {
                write!(f, "vote:{}:{via}", if *approve { "approve" } else { "reject" })
            }
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_actions_keep_the_spelling_stored_rows_have() {
        assert_eq!(
            DedupeKey::request(RequestId::new(7), RequestNews::Card).as_str(),
            "request:7:card"
        );
        assert_eq!(
            DedupeKey::request(RequestId::new(7), RequestNews::Retry(2)).as_str(),
            "request:7:retry:2"
        );
        assert_eq!(
            DedupeKey::request(RequestId::new(7), RequestNews::Unresolved(1))
                .in_alerts()
                .as_str(),
            "alert:request:7:unresolved:1"
        );
        assert_eq!(
            DedupeKey::instance("ins-1", InstanceNews::PublicIp).as_str(),
            "instance:ins-1:public-ip"
        );
        let vote = AuditAction::Vote {
            approve: false,
            via: VoteVia::Reaction,
        };
        assert_eq!(vote.to_string(), "vote:reject:reaction");
        assert_eq!(AuditAction::InstancesSettled.to_string(), "instances-settled");
    }
}
