//! The seam between the request machine and what a request does. Filing, the policy, approvals,
//! the claim and its ClientToken, answers that could not be read, keep-trying and the outbox are
//! the same for every operation (`create.rs`, `vote.rs`, `submit.rs`); what differs is here, one
//! executor per [`Operation`] variant:
//!
//! - [`Desk::check_operation`]: the checks before anything is asked of Tencent (what is sold, what
//!   the policy allows for this kind);
//! - [`Desk::assess`]: its price and its dry run, for the policy to judge;
//! - [`Desk::judge_dry_run`]: whether a dry run that did not pass stops the filing;
//! - [`Desk::execute`]: the one call that changes something, sent with the attempt's ClientToken;
//! - [`Desk::record_effects`]: what a done call leaves to track, in the transaction that records it;
//! - [`Desk::explain`]: a refusal in plain words with the facts that matter.
//!
//! A new kind adds a variant to [`Operation`] and a module beside `buy.rs`; the compiler then
//! names every match that must learn it.

mod buy;

use super::{Desk, DeskError};
use crate::domain::{Operation, Quote};
use crate::store::{RequestRecord, Session};
use crate::tencent::ApiError;
use time::OffsetDateTime;

/// What filing learned about an operation before the policy judges its cost.
pub(super) struct Assessment {
    /// Its price.
    pub quote: Quote,
    /// Tencent's RequestId of the price.
    pub quote_request_id: String,
    /// How its dry run went.
    pub dry_run: Result<String, ApiError>,
}

/// What sending an operation's changing call answered.
pub(super) enum Executed {
    /// Done: the resources it made or touched, and Tencent's RequestId.
    Done {
        /// Instance ids (for a purchase, the instances bought).
        resources: Vec<String>,
        /// Tencent's RequestId.
        tencent_request_id: String,
    },
    /// Nobody knows whether it was done (no answer, or one not to believe): it is sent again
    /// later with the same ClientToken.
    Unknown {
        /// What went wrong.
        error: ApiError,
        /// Resources an unbelievable answer named, for people to check.
        named: Vec<String>,
    },
    /// Tencent refused; nothing was done.
    Refused(ApiError),
}

impl Desk {
    /// The checks that need no price: what the policy allows for this kind and what Tencent sells.
    pub(super) async fn check_operation(&self, operation: &Operation) -> Result<(), DeskError> {
        match operation {
            Operation::Buy(spec) => self.check_purchase(spec).await,
        }
    }

    /// Prices the operation and dry-runs it.
    pub(super) async fn assess(&self, operation: &Operation) -> Result<Assessment, DeskError> {
        match operation {
            Operation::Buy(spec) => self.assess_purchase(spec).await,
        }
    }

    /// A dry run that did not pass: a refusal, or (when it may pass later, or the policy only
    /// warns) a warning added to `warnings`. Returns the RequestId of a dry run that passed.
    pub(super) async fn judge_dry_run(
        &self,
        operation: &Operation,
        dry_run: Result<String, ApiError>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, DeskError> {
        match operation {
            Operation::Buy(spec) => self.judge_purchase_dry_run(spec, dry_run, warnings).await,
        }
    }

    /// The operation's price now and Tencent's RequestId of it, for a re-quote before it is
    /// executed (asked only of a kind that [`Desk::may_requote`]).
    pub(super) async fn requote_price(&self, operation: &Operation) -> Result<(Quote, String), ApiError> {
        match operation {
            Operation::Buy(spec) => self.purchase_requote(spec).await,
        }
    }

    /// Whether the operation's price can move between approval and execution.
    pub(super) fn may_requote(&self, operation: &Operation) -> bool {
        match operation {
            Operation::Buy(spec) => buy::may_requote(spec),
        }
    }

    /// Sends the operation's changing call with `token`.
    pub(super) async fn execute(&self, record: &RequestRecord, token: String) -> Executed {
        match &record.operation {
            Operation::Buy(spec) => self.execute_purchase(record, spec, token).await,
        }
    }

    /// Stores what a done call left to track (a purchase's instances), in `tx`.
    pub(super) async fn record_effects(
        &self,
        tx: &mut Session,
        record: &RequestRecord,
        resources: &[String],
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        match &record.operation {
            Operation::Buy(spec) => self.record_purchase(tx, record, spec, resources, now).await,
        }
    }

    /// A refusal of the operation in plain words.
    pub(super) async fn explain(&self, operation: &Operation, error: &ApiError) -> String {
        match operation {
            Operation::Buy(spec) => super::cloud::explain_failure(self.tencent(), spec, error).await,
        }
    }
}
