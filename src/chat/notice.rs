//! Notices: what the engine and its workers tell the chat after the fact. A notice is stored in
//! the notification outbox (as JSON) in the transaction that caused it, then delivered once.

use crate::money::{Fen, Yuan};
use serde::{Deserialize, Serialize};

/// Something to tell a request's channel or the alert channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    /// RunInstances accepted the purchase.
    Submitted {
        request_id: i64,
        instance_ids: Vec<String>,
        tencent_request_id: String,
    },
    /// An instance is RUNNING.
    Running {
        request_id: i64,
        instance_id: String,
        private_ips: Vec<String>,
        public_ips: Vec<String>,
        /// Whether a public IP is still to come.
        public_ip_pending: bool,
    },
    /// An instance's public IP appeared after it was running.
    PublicIp {
        request_id: i64,
        instance_id: String,
        public_ips: Vec<String>,
    },
    /// An instance failed to launch.
    LaunchFailed {
        request_id: i64,
        instance_id: String,
        reason: String,
    },
    /// An instance has been PENDING for a long time.
    StillPending {
        request_id: i64,
        instance_id: String,
        minutes: u64,
    },
    /// An instance disappeared or terminated without anyone asking.
    Reclaimed {
        request_id: i64,
        instance_id: String,
        reason: String,
    },
    /// Tencent refused the purchase.
    Failed {
        request_id: i64,
        explanation: String,
        code: String,
        tencent_request_id: Option<String>,
    },
    /// A spot keep-trying attempt failed; another follows.
    Retrying {
        request_id: i64,
        attempt: u32,
        explanation: String,
        next_attempt: String,
        until: String,
    },
    /// Tencent could not be reached; the same purchase is resent with the same ClientToken.
    Unreachable { request_id: i64, explanation: String },
    /// The price rose since approval; approvals are needed again.
    Requoted {
        request_id: i64,
        approved_monthly: Yuan,
        new_monthly: Yuan,
        /// What the new price needs (0 in notices stored before this was recorded).
        #[serde(default)]
        approvals_needed: u32,
    },
    /// A re-quote found that the policy no longer allows the request (above the last tier, over a
    /// cap, or more than the balance can pay); nothing was bought.
    RefusedOnRequote {
        request_id: i64,
        approved_monthly: Yuan,
        new_monthly: Yuan,
        reason: String,
    },
    /// Tencent's answers to a purchase could not be read, again and again: cvmbot keeps asking
    /// with the same ClientToken, and people should look.
    PurchaseUnresolved {
        request_id: i64,
        answers: u32,
        explanation: String,
        /// Instance ids an incomplete answer did name.
        instance_ids: Vec<String>,
    },
    /// Nobody decided in time.
    Expired { request_id: i64, requester_id: u64 },
    /// The spendable balance fell below a warning tier.
    LowBalance {
        spendable: Fen,
        below: Yuan,
        burn_per_hour: Yuan,
        runway: Option<String>,
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
        runway: Option<String>,
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
    /// The daily summary.
    Digest {
        date: String,
        instances_bought: i64,
        burn_per_hour: Yuan,
        spendable: Fen,
        runway: Option<String>,
        pending_requests: i64,
    },
}

impl Notice {
    /// True for news about one instance (running, IP, launch failure, still pending, gone), which
    /// several instances of one purchase raise together.
    pub fn is_about_an_instance(&self) -> bool {
        matches!(
            self,
            Notice::Running { .. }
                | Notice::PublicIp { .. }
                | Notice::LaunchFailed { .. }
                | Notice::StillPending { .. }
                | Notice::Reclaimed { .. }
        )
    }

    /// The request a notice belongs to, if any.
    pub fn request_id(&self) -> Option<i64> {
        match self {
            Notice::Submitted { request_id, .. }
            | Notice::Running { request_id, .. }
            | Notice::PublicIp { request_id, .. }
            | Notice::LaunchFailed { request_id, .. }
            | Notice::StillPending { request_id, .. }
            | Notice::Reclaimed { request_id, .. }
            | Notice::Failed { request_id, .. }
            | Notice::Retrying { request_id, .. }
            | Notice::Unreachable { request_id, .. }
            | Notice::Requoted { request_id, .. }
            | Notice::RefusedOnRequote { request_id, .. }
            | Notice::PurchaseUnresolved { request_id, .. }
            | Notice::Expired { request_id, .. } => Some(*request_id),
            _ => None,
        }
    }
}
