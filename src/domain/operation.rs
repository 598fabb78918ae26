//! What a request asks of Tencent Cloud. Every kind goes through one machine: filed and priced,
//! judged by the policy, approved by someone else, executed exactly once, tracked and told. A new
//! kind is a variant here and an executor in `desk::operations`; the machine stays as it is.

use super::fleet::{FleetChangeSpec, FleetSpec};
use super::ids::{RequestId, UserId};
use super::spec::{BillingKind, PurchaseSpec};
use crate::money::Yuan;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;
use time::OffsetDateTime;

/// The kinds of operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Buy servers (RunInstances).
    #[default]
    Buy,
    /// Give servers cvmbot bought back (TerminateInstances).
    Release,
    /// Let a purchase's servers live longer than the policy allows without an approval.
    Extend,
    /// Pay for more months of prepaid servers (RenewInstances).
    Renew,
    /// Keep a number of spot servers running within an approved budget.
    Fleet,
    /// Change how many servers a fleet keeps, or end it.
    FleetChange,
}

impl OperationKind {
    /// Every kind.
    pub const ALL: [OperationKind; 6] = [
        OperationKind::Buy,
        OperationKind::Release,
        OperationKind::Extend,
        OperationKind::Renew,
        OperationKind::Fleet,
        OperationKind::FleetChange,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Buy => "buy",
            OperationKind::Release => "release",
            OperationKind::Extend => "extend",
            OperationKind::Renew => "renew",
            OperationKind::Fleet => "fleet",
            OperationKind::FleetChange => "fleet_change",
        }
    }

    /// The kind stored as `text`.
    pub fn parse(text: &str) -> Option<OperationKind> {
        OperationKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            OperationKind::Buy => "purchase",
            OperationKind::Release => "release",
            OperationKind::Extend => "extension",
            OperationKind::Renew => "renewal",
            OperationKind::Fleet => "fleet",
            OperationKind::FleetChange => "fleet change",
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Servers cvmbot bought, to be given back: all of one purchase's that are still there, or some
/// of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSpec {
    /// The purchase request that bought them.
    pub purchase: RequestId,
    /// Who filed that purchase.
    pub owner: UserId,
    /// The instances.
    pub instance_ids: Vec<String>,
    /// Their region.
    pub region: String,
    /// How they are billed (one purchase's instances are billed alike). A prepaid instance goes
    /// to Tencent's recycle bin, where it can still be recovered; the others are destroyed.
    pub billing: BillingKind,
    /// Why, as the requester wrote it.
    pub reason: String,
    /// Whether these are prepaid instances in the recycle bin already, which this release
    /// destroys for good (Tencent's second TerminateInstances); else they are destroyed, or for
    /// prepaid ones moved to the recycle bin.
    #[serde(default)]
    pub destroy: bool,
    /// Filed by cvmbot at the end of a time to live (approved by the purchase): only an admin
    /// may cancel it, or the servers would outlive what was approved.
    #[serde(default)]
    pub by_policy: bool,
}

/// A purchase's time to live moved past what the policy allows without an approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendSpec {
    /// The purchase.
    pub purchase: RequestId,
    /// Who filed that purchase.
    pub owner: UserId,
    /// Its region.
    pub region: String,
    /// Its billing mode.
    pub billing: BillingKind,
    /// The new end, unix seconds.
    pub until: i64,
    /// What its servers burn per hour, as quoted for the purchase.
    pub per_hour: Yuan,
    /// Why, as the requester wrote it.
    pub reason: String,
}

impl ExtendSpec {
    /// The new end.
    pub fn until(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.until).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// More months for prepaid servers cvmbot bought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenewSpec {
    /// The purchase that bought them.
    pub purchase: RequestId,
    /// Who filed that purchase.
    pub owner: UserId,
    /// The instances.
    pub instance_ids: Vec<String>,
    /// Their region.
    pub region: String,
    /// How many months.
    pub months: u32,
    /// Each instance's ExpiredTime as Tencent reported it when the renewal was filed: one that
    /// has moved since was renewed (by this renewal, whose answer was lost, or by someone else),
    /// and is not paid for again.
    pub expired_before: std::collections::BTreeMap<String, String>,
    /// Why, as the requester wrote it.
    pub reason: String,
}

/// One operation, with everything it needs.
#[derive(Clone, Debug, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a handful live at once, one per request being worked on; boxing the purchase would cost every match a deref for nothing"
)]
pub enum Operation {
    /// Buy servers as the spec says.
    Buy(PurchaseSpec),
    /// Release servers cvmbot bought.
    Release(ReleaseSpec),
    /// Extend a purchase's time to live.
    Extend(ExtendSpec),
    /// Renew prepaid servers.
    Renew(RenewSpec),
    /// Keep a fleet of spot servers.
    Fleet(FleetSpec),
    /// Scale or end a fleet.
    FleetChange(FleetChangeSpec),
}

impl Operation {
    /// Its kind.
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::Buy(_) => OperationKind::Buy,
            Operation::Release(_) => OperationKind::Release,
            Operation::Extend(_) => OperationKind::Extend,
            Operation::Renew(_) => OperationKind::Renew,
            Operation::Fleet(_) => OperationKind::Fleet,
            Operation::FleetChange(_) => OperationKind::FleetChange,
        }
    }

    /// The region it acts in.
    pub fn region(&self) -> &str {
        match self {
            Operation::Buy(spec) => spec.region(),
            Operation::Release(release) => &release.region,
            Operation::Extend(extend) => &extend.region,
            Operation::Renew(renew) => &renew.region,
            Operation::Fleet(fleet) => fleet.template.region(),
            Operation::FleetChange(change) => &change.region,
        }
    }

    /// How long to keep trying after a refusal that may pass (no stock, a spot price too low), if
    /// the requester asked for that.
    pub fn keep_trying(&self) -> Option<Duration> {
        match self {
            Operation::Buy(spec) => spec.keep_trying(),
            // A fleet keeps trying by itself, slot by slot, for as long as it runs.
            Operation::Release(_)
            | Operation::Extend(_)
            | Operation::Renew(_)
            | Operation::Fleet(_)
            | Operation::FleetChange(_) => None,
        }
    }

    /// Why the requester wants it, as they wrote it.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Operation::Buy(spec) => spec.reason(),
            Operation::Release(release) => Some(&release.reason),
            Operation::Extend(extend) => Some(&extend.reason),
            Operation::Renew(renew) => Some(&renew.reason),
            Operation::Fleet(fleet) => fleet.template.reason(),
            Operation::FleetChange(change) => Some(&change.reason),
        }
    }

    /// What the kind needs, as stored beside the kind (a purchase stores its spec, as it always did).
    pub fn payload(&self) -> String {
        match self {
            Operation::Buy(spec) => serde_json::to_string(spec).expect("a spec serializes"),
            Operation::Release(release) => serde_json::to_string(release).expect("a release serializes"),
            Operation::Extend(extend) => serde_json::to_string(extend).expect("an extension serializes"),
            Operation::Renew(renew) => serde_json::to_string(renew).expect("a renewal serializes"),
            Operation::Fleet(fleet) => serde_json::to_string(fleet).expect("a fleet serializes"),
            Operation::FleetChange(change) => serde_json::to_string(change).expect("a fleet change serializes"),
        }
    }

    /// The operation stored as `kind` and `payload`.
    pub fn from_stored(kind: OperationKind, payload: &str) -> Result<Operation, serde_json::Error> {
        Ok(match kind {
            OperationKind::Buy => Operation::Buy(serde_json::from_str(payload)?),
            OperationKind::Release => Operation::Release(serde_json::from_str(payload)?),
            OperationKind::Extend => Operation::Extend(serde_json::from_str(payload)?),
            OperationKind::Renew => Operation::Renew(serde_json::from_str(payload)?),
            OperationKind::Fleet => Operation::Fleet(serde_json::from_str(payload)?),
            OperationKind::FleetChange => Operation::FleetChange(serde_json::from_str(payload)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_stored_names() {
        for kind in OperationKind::ALL {
            assert_eq!(OperationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OperationKind::Buy.as_str(), "buy");
        assert_eq!(OperationKind::Release.as_str(), "release");
        assert_eq!(OperationKind::parse("sell"), None);
    }
}
