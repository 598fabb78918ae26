//! Events: what the engine tells people after the fact. An event is stored in the outbox (as
//! JSON) in the transaction that caused it, then delivered once by whichever chat adapter runs.
//! Fields are typed (times, money, a runway); adapters decide how to write them.

use crate::domain::{OperationKind, RequestId, UserId};
use crate::money::{Fen, Yuan};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use time::{Date, OffsetDateTime};

/// Something to tell a request's channel or the alert channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// RunInstances accepted the purchase.
    Submitted {
        request_id: RequestId,
        instance_ids: Vec<String>,
        tencent_request_id: String,
    },
    /// An instance is RUNNING.
    Running {
        request_id: RequestId,
        instance_id: String,
        private_ips: Vec<String>,
        public_ips: Vec<String>,
        /// Whether a public IP is still to come.
        public_ip_pending: bool,
    },
    /// An instance's public IP appeared after it was running.
    PublicIp {
        request_id: RequestId,
        instance_id: String,
        public_ips: Vec<String>,
    },
    /// An instance failed to launch.
    LaunchFailed {
        request_id: RequestId,
        instance_id: String,
        reason: String,
    },
    /// An instance has been PENDING for a long time.
    StillPending {
        request_id: RequestId,
        instance_id: String,
        minutes: u64,
    },
    /// An instance disappeared or terminated without anyone asking.
    Reclaimed {
        request_id: RequestId,
        instance_id: String,
        reason: String,
    },
    /// Tencent refused the operation (a purchase, a release); nothing was done.
    Failed {
        request_id: RequestId,
        explanation: String,
        code: String,
        tencent_request_id: Option<String>,
        /// What was refused (a purchase in notices stored before operations had kinds).
        #[serde(default)]
        operation: OperationKind,
    },
    /// Tencent released the instances of a release request.
    Released {
        request_id: RequestId,
        /// The purchase that bought them.
        purchase: RequestId,
        instance_ids: Vec<String>,
        /// Prepaid: they are in Tencent's recycle bin; otherwise destroyed.
        recycled: bool,
        tencent_request_id: Option<String>,
    },
    /// A purchase's time to live ends soon: its owner may extend it or release the servers now.
    TtlReminder {
        /// The purchase.
        request_id: RequestId,
        /// Who bought it (pinged).
        owner: UserId,
        /// Its servers still in use.
        instance_ids: Vec<String>,
        /// When they are released.
        #[serde(with = "stamp")]
        release_at: OffsetDateTime,
        /// Where one press of Extend moves the end.
        #[serde(with = "stamp")]
        extend_to: OffsetDateTime,
        /// Whether that needs an approver (it goes past the policy's maximum).
        extension_needs_approval: bool,
    },
    /// A purchase's time to live was extended.
    Extended {
        /// The purchase.
        request_id: RequestId,
        /// Who extended it.
        by: String,
        /// The new end.
        #[serde(with = "stamp")]
        release_at: OffsetDateTime,
        /// The extension request an approver approved (none: within the policy, at once).
        extension_request: Option<RequestId>,
    },
    /// A purchase's time to live ended: its servers are being released by a release request.
    TtlEnded {
        /// The purchase.
        request_id: RequestId,
        /// The release request that releases them (none: nothing was left to release).
        release_request: Option<RequestId>,
        instance_ids: Vec<String>,
    },
    /// Tencent renewed prepaid instances of a renewal request.
    Renewed {
        request_id: RequestId,
        /// The purchase that bought them.
        purchase: RequestId,
        instance_ids: Vec<String>,
        months: u32,
        tencent_request_id: Option<String>,
    },
    /// A fleet was approved: cvmbot now keeps its servers running.
    FleetStarted {
        request_id: RequestId,
        name: String,
        count: u32,
    },
    /// What happened in a fleet since the last summary: servers reclaimed (or gone), launched,
    /// failed to launch; and how it stands.
    FleetNews {
        request_id: RequestId,
        name: String,
        reclaimed: u32,
        launched: u32,
        failed: u32,
        running: u32,
        desired: u32,
    },
    /// A fleet's refills wait: no stock or a market above the bid at every placement, or a
    /// refusal that may pass (the balance).
    FleetWaiting {
        request_id: RequestId,
        name: String,
        reason: String,
        #[serde(with = "stamp")]
        next_try_at: OffsetDateTime,
    },
    /// A fleet change was carried out (`request_id` is the change; `fleet` the fleet).
    FleetChanged {
        request_id: RequestId,
        fleet: RequestId,
        name: String,
        from: u32,
        to: u32,
        end: bool,
    },
    /// A fleet's time to live ended: its servers are given back.
    FleetEnded { request_id: RequestId, name: String },
    /// A purchase's prepaid instances renew themselves at expiry now, or no longer.
    AutoRenewSet {
        request_id: RequestId,
        by: String,
        on: bool,
        instance_ids: Vec<String>,
    },
    /// Tencent isolated a prepaid instance at the end of its period: it is shut down, kept, and
    /// destroyed at `destroyed_at` unless renewed.
    Isolated {
        request_id: RequestId,
        instance_id: String,
        #[serde(with = "stamp")]
        destroyed_at: OffsetDateTime,
    },
    /// A purchase's prepaid instances end their period soon.
    RenewalReminder {
        request_id: RequestId,
        owner: UserId,
        instance_ids: Vec<String>,
        #[serde(with = "stamp")]
        expires_at: OffsetDateTime,
        /// Whether Tencent renews them then by itself.
        auto_renew: bool,
        /// For an auto-renewal the balance will not cover: a month's price and what is spendable.
        shortfall: Option<(Yuan, Fen)>,
    },
    /// What cvmbot bought for `owner` that still runs (posted where their latest such purchase
    /// was filed).
    StillRunning {
        /// That latest purchase.
        request_id: RequestId,
        owner: UserId,
        purchases: Vec<StillRunningItem>,
    },
    /// A spot keep-trying attempt failed; another follows.
    Retrying {
        request_id: RequestId,
        attempt: u32,
        explanation: String,
        #[serde(with = "stamp")]
        next_attempt: OffsetDateTime,
        #[serde(with = "stamp")]
        until: OffsetDateTime,
    },
    /// Tencent could not be reached; the operation is sent again (a purchase with the same
    /// ClientToken, a release only for the instances still there).
    Unreachable {
        request_id: RequestId,
        explanation: String,
        #[serde(default)]
        operation: OperationKind,
    },
    /// The price rose since approval; approvals are needed again.
    Requoted {
        request_id: RequestId,
        approved_monthly: Yuan,
        new_monthly: Yuan,
        /// What the new price needs (0 in notices stored before this was recorded).
        #[serde(default)]
        approvals_needed: u32,
    },
    /// A re-quote found that the policy no longer allows the request (above the last tier, over a
    /// cap, or more than the balance can pay); nothing was bought.
    RefusedOnRequote {
        request_id: RequestId,
        approved_monthly: Yuan,
        new_monthly: Yuan,
        reason: String,
    },
    /// Tencent's answers to a purchase could not be read, again and again: cvmbot keeps asking
    /// with the same ClientToken, and people should look.
    PurchaseUnresolved {
        request_id: RequestId,
        answers: u32,
        explanation: String,
        /// Instance ids an incomplete answer did name.
        instance_ids: Vec<String>,
        #[serde(default)]
        operation: OperationKind,
    },
    /// Nobody decided in time.
    Expired {
        request_id: RequestId,
        requester_id: UserId,
    },
    /// The spendable balance fell below a warning tier.
    LowBalance {
        spendable: Fen,
        below: Yuan,
        burn_per_hour: Yuan,
        runway: Option<Runway>,
    },
    /// The account owes money: Tencent will reclaim pay-as-you-go servers.
    Owing {
        owe: Fen,
        spendable: Fen,
        burn_per_hour: Yuan,
    },
    /// A standing balance warning, repeated after the reminder interval.
    BalanceReminder {
        spendable: Fen,
        owe: Fen,
        burn_per_hour: Yuan,
        runway: Option<Runway>,
    },
    /// The balance is back above every tier.
    BalanceRecovered { spendable: Fen },
    /// The balance cannot be read, so low-balance warnings can't be given.
    BalanceUnreadable { explanation: String },
    /// The balance can be read again.
    BalanceReadable { spendable: Fen },
    /// The database does not take writes (a full or failing disk): nothing can be filed, voted
    /// or bought. Posted straight to the alert channel, since the outbox can't be written either.
    DatabaseUnwritable { error: String },
    /// The database takes writes again.
    DatabaseWritable,
    /// A budget's spend this billing month, or its forecast for the month, reached a threshold;
    /// or, for a budget of requests, what was approved this calendar month did.
    BudgetCrossed {
        /// The budget's name.
        budget: String,
        /// Whose spending it counts, as people read it (`tag project=web`).
        scope: String,
        /// The billing month, `YYYY-MM`.
        month: String,
        /// The threshold reached, percent of `monthly`.
        threshold: u32,
        /// Which figure reached it.
        figure: crate::domain::Figure,
        /// Spent so far this month; for a budget of requests, the month-equivalents approved.
        spent: Yuan,
        /// Where the month is heading at the scope's hourly burn (for requests, `spent` again).
        forecast: Yuan,
        /// The budget per month.
        monthly: Yuan,
        /// What the budget counts (notices queued before budgets could count requests: spend).
        #[serde(default)]
        counts: crate::domain::Counts,
    },
    /// The daily summary.
    Digest {
        #[serde(with = "day")]
        date: Date,
        instances_bought: i64,
        burn_per_hour: Yuan,
        spendable: Fen,
        runway: Option<Runway>,
        pending_requests: i64,
    },
}

impl Event {
    /// True for news about one instance (running, IP, launch failure, still pending, gone), which
    /// several instances of one purchase raise together.
    pub fn is_about_an_instance(&self) -> bool {
        matches!(
            self,
            Event::Running { .. }
                | Event::PublicIp { .. }
                | Event::LaunchFailed { .. }
                | Event::StillPending { .. }
                | Event::Reclaimed { .. }
                | Event::Isolated { .. }
        )
    }

    /// The request a notice belongs to, if any.
    pub fn request_id(&self) -> Option<RequestId> {
        match self {
            Event::Submitted { request_id, .. }
            | Event::Running { request_id, .. }
            | Event::PublicIp { request_id, .. }
            | Event::LaunchFailed { request_id, .. }
            | Event::StillPending { request_id, .. }
            | Event::Reclaimed { request_id, .. }
            | Event::Failed { request_id, .. }
            | Event::Released { request_id, .. }
            | Event::TtlReminder { request_id, .. }
            | Event::Extended { request_id, .. }
            | Event::TtlEnded { request_id, .. }
            | Event::Renewed { request_id, .. }
            | Event::Isolated { request_id, .. }
            | Event::StillRunning { request_id, .. }
            | Event::RenewalReminder { request_id, .. }
            | Event::AutoRenewSet { request_id, .. }
            | Event::FleetStarted { request_id, .. }
            | Event::FleetNews { request_id, .. }
            | Event::FleetWaiting { request_id, .. }
            | Event::FleetChanged { request_id, .. }
            | Event::FleetEnded { request_id, .. }
            | Event::Retrying { request_id, .. }
            | Event::Unreachable { request_id, .. }
            | Event::Requoted { request_id, .. }
            | Event::RefusedOnRequote { request_id, .. }
            | Event::PurchaseUnresolved { request_id, .. }
            | Event::Expired { request_id, .. } => Some(*request_id),
            _ => None,
        }
    }
}

/// How long the spendable balance lasts at the current burn.
/// One purchase in a still-running report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StillRunningItem {
    pub purchase: RequestId,
    /// `1 × S5.MEDIUM4 spot in ap-guangzhou-3`.
    pub headline: String,
    /// Servers still in use.
    pub servers: u32,
    /// What they burn per hour now (0 for prepaid).
    pub per_hour: Yuan,
    /// What they cost since purchase: the hourly burn so far, or the prepaid total.
    pub since_purchase: Yuan,
    /// When they are released automatically, if they have a time to live.
    #[serde(with = "stamp::option")]
    pub release_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Runway {
    /// Whole hours left.
    Hours {
        /// The hours.
        hours: u64,
    },
    /// Nothing is left.
    Exhausted {
        /// Always true: the balance is used up.
        exhausted: bool,
    },
    /// As worded by a version of cvmbot that stored words (outbox rows from before the upgrade).
    Words(String),
}

impl Runway {
    /// `spendable ÷ burn`; `None` when nothing burns. Exact decimal arithmetic.
    pub fn of(spendable: Fen, burn_per_hour: Yuan) -> Option<Runway> {
        if burn_per_hour <= Yuan::ZERO {
            return None;
        }
        if spendable <= Fen::ZERO {
            return Some(Runway::Exhausted { exhausted: true });
        }
        let hours = (spendable.to_yuan().amount() / burn_per_hour.amount()).floor();
        Some(Runway::Hours {
            hours: u64::try_from(hours).unwrap_or(u64::MAX),
        })
    }

    /// The runway as a duration, when it is known.
    pub fn duration(&self) -> Option<Duration> {
        match self {
            Runway::Hours { hours } => Some(Duration::from_secs(hours.saturating_mul(3600))),
            Runway::Exhausted { .. } => Some(Duration::ZERO),
            Runway::Words(_) => None,
        }
    }
}

/// Times as RFC 3339; older rows wrote `2026-11-23 10:00 UTC`, which is still read.
mod stamp {
    pub mod option {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};
        use time::OffsetDateTime;

        pub fn serialize<S: Serializer>(at: &Option<OffsetDateTime>, serializer: S) -> Result<S::Ok, S::Error> {
            #[derive(Serialize)]
            struct Wrap(#[serde(with = "super")] OffsetDateTime);
            at.map(Wrap).serialize(serializer)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<OffsetDateTime>, D::Error> {
            #[derive(Deserialize)]
            struct Wrap(#[serde(with = "super")] OffsetDateTime);
            Ok(Option::<Wrap>::deserialize(deserializer)?.map(|w| w.0))
        }
    }

    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;

    pub fn serialize<S: Serializer>(at: &OffsetDateTime, serializer: S) -> Result<S::Ok, S::Error> {
        time::serde::rfc3339::serialize(at, serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        OffsetDateTime::parse(&text, &Rfc3339)
            .or_else(|_| {
                time::PrimitiveDateTime::parse(&text, format_description!("[year]-[month]-[day] [hour]:[minute] UTC"))
                    .map(time::PrimitiveDateTime::assume_utc)
            })
            .map_err(serde::de::Error::custom)
    }
}

/// Dates as `YYYY-MM-DD`.
mod day {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    pub fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date
            .format(format_description!("[year]-[month]-[day]"))
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text, format_description!("[year]-[month]-[day]")).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stored_by_the_previous_version_still_read() {
        let retrying = r#"{"kind":"retrying","request_id":3,"attempt":1,"explanation":"no stock",
            "next_attempt":"2026-11-23 10:00 UTC","until":"2026-11-23 16:00 UTC"}"#;
        let Event::Retrying { next_attempt, .. } = serde_json::from_str(retrying).expect("a legacy row") else {
            panic!("retrying");
        };
        assert_eq!(next_attempt, time::macros::datetime!(2026-11-23 10:00 UTC));
        let low =
            r#"{"kind":"low_balance","spendable":100,"below":"200","burn_per_hour":"1","runway":"about 1 hour(s)"}"#;
        let Event::LowBalance { runway, .. } = serde_json::from_str(low).expect("a legacy row") else {
            panic!("low balance");
        };
        assert_eq!(runway, Some(Runway::Words("about 1 hour(s)".into())));
    }

    #[test]
    fn events_round_trip_with_their_types() {
        let event = Event::Retrying {
            request_id: RequestId::new(1),
            attempt: 2,
            explanation: "x".into(),
            next_attempt: time::macros::datetime!(2026-11-23 10:00:30 UTC),
            until: time::macros::datetime!(2026-11-23 16:00 UTC),
        };
        let json = serde_json::to_string(&event).expect("serializes");
        assert_eq!(serde_json::from_str::<Event>(&json).expect("reads"), event);
        let runway = Runway::of(Fen::new(10_000), "0.52".parse().expect("yuan"));
        assert_eq!(runway, Some(Runway::Hours { hours: 192 }));
        let json = serde_json::to_string(&runway).expect("serializes");
        assert_eq!(serde_json::from_str::<Option<Runway>>(&json).expect("reads"), runway);
    }
}
