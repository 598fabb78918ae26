//! A request's life: its states, the transitions between them, and the hash that binds
//! approvals to the exact operation and price.

use super::ids::RequestId;
use super::operation::Operation;
use super::quote::Quote;
use sha2::{Digest, Sha256};
use std::fmt;

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestState {
    /// Waiting for approvals.
    Pending,
    /// Approved; waiting for the submitter.
    Approved,
    /// RunInstances is being (or may have been) sent.
    Submitting,
    /// Tencent accepted it; instances are launching.
    Submitted,
    /// Every instance is RUNNING.
    Active,
    /// Some instances run, some failed to launch.
    PartiallyActive,
    /// Every instance failed to launch.
    LaunchFailed,
    /// An approver rejected it.
    Rejected,
    /// Nobody decided in time.
    Expired,
    /// The requester or an admin withdrew it.
    Cancelled,
    /// Tencent refused the purchase.
    Failed,
    /// The policy refused it when its price was renewed before buying (above the last tier, over
    /// a monthly cap, or more than the balance can pay).
    Refused,
    /// Done: an operation with nothing left to track (a release Tencent carried out).
    Done,
}

impl RequestState {
    /// Every state.
    pub const ALL: [RequestState; 13] = [
        RequestState::Pending,
        RequestState::Approved,
        RequestState::Submitting,
        RequestState::Submitted,
        RequestState::Active,
        RequestState::PartiallyActive,
        RequestState::LaunchFailed,
        RequestState::Rejected,
        RequestState::Expired,
        RequestState::Cancelled,
        RequestState::Failed,
        RequestState::Refused,
        RequestState::Done,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Pending => "pending",
            RequestState::Approved => "approved",
            RequestState::Submitting => "submitting",
            RequestState::Submitted => "submitted",
            RequestState::Active => "active",
            RequestState::PartiallyActive => "partially_active",
            RequestState::LaunchFailed => "launch_failed",
            RequestState::Rejected => "rejected",
            RequestState::Expired => "expired",
            RequestState::Cancelled => "cancelled",
            RequestState::Failed => "failed",
            RequestState::Refused => "refused",
            RequestState::Done => "done",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            RequestState::Pending => "pending approval",
            RequestState::Approved => "approved",
            RequestState::Submitting => "being submitted",
            RequestState::Submitted => "submitted",
            RequestState::Active => "active",
            RequestState::PartiallyActive => "partially active",
            RequestState::LaunchFailed => "failed to launch",
            RequestState::Rejected => "rejected",
            RequestState::Expired => "expired",
            RequestState::Cancelled => "cancelled",
            RequestState::Failed => "failed",
            RequestState::Refused => "refused by the policy",
            RequestState::Done => "done",
        }
    }

    /// Whether the state may change to `next`.
    pub fn can_become(self, next: RequestState) -> bool {
        use RequestState::*;
        matches!(
            (self, next),
            (Pending, Approved | Rejected | Expired | Cancelled)
                | (Approved, Submitting | Pending | Cancelled | Refused | Failed)
                | (Submitting, Submitted | Done | Failed | Approved | Active)
                | (Submitted, Active | PartiallyActive | LaunchFailed)
                | (PartiallyActive, Active | LaunchFailed)
        )
    }

    /// Whether money is (or will be) committed: everything but the dead ends before purchase.
    pub fn commits_money(self) -> bool {
        !matches!(
            self,
            RequestState::Rejected
                | RequestState::Expired
                | RequestState::Cancelled
                | RequestState::Failed
                | RequestState::Refused
        )
    }

    /// No further change will come.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RequestState::Active
                | RequestState::LaunchFailed
                | RequestState::Rejected
                | RequestState::Expired
                | RequestState::Cancelled
                | RequestState::Failed
                | RequestState::Refused
                | RequestState::Done
        )
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SHA-256 (hex) of the operation (for a purchase, its spec) and the quote: what an approval approves.
pub fn approval_hash(operation: &Operation, quote: &Quote) -> String {
    let mut hasher = Sha256::new();
    hasher.update(operation.payload().as_bytes());
    hasher.update(b"\n");
    hasher.update(serde_json::to_vec(quote).expect("a quote serializes"));
    hex::encode(hasher.finalize())
}

/// The ClientToken of a submission attempt: derived from the installation, the request and the
/// attempt, so retries and restarts of one attempt send the same token (Tencent buys once), a
/// deliberate new attempt (spot keep-trying) sends a new one, and two installations never collide.
pub fn client_token(installation_id: &str, request_id: RequestId, attempt: u32) -> String {
    let digest = Sha256::digest(format!("{installation_id}/{request_id}/{attempt}").as_bytes());
    format!("cvmbot-{request_id}-{attempt}-{}", &hex::encode(digest)[..24])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for state in RequestState::ALL {
            assert_eq!(RequestState::parse(state.as_str()), Some(state));
        }
        assert_eq!(RequestState::parse("nonsense"), None);
    }

    #[test]
    fn only_documented_transitions_are_allowed() {
        use RequestState::*;
        assert!(Pending.can_become(Approved));
        assert!(Submitting.can_become(Submitted));
        assert!(!Pending.can_become(Submitting), "nothing is submitted without approval");
        assert!(!Rejected.can_become(Approved));
        assert!(!Approved.can_become(Rejected));
        assert!(!Failed.can_become(Submitting));
    }

    #[test]
    fn client_tokens_are_stable_per_attempt_short_and_distinct_across_installations() {
        let token = client_token("install-a", RequestId::new(42), 1);
        assert_eq!(token, client_token("install-a", RequestId::new(42), 1));
        assert_ne!(token, client_token("install-a", RequestId::new(42), 2));
        assert_ne!(token, client_token("install-b", RequestId::new(42), 1));
        assert!(token.len() <= 64 && token.is_ascii(), "{token}");
    }
}
