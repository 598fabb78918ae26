//! The seam between the request machine and what a request does. Filing, the policy, approvals,
//! the claim and its ClientToken, answers that could not be read, keep-trying and the outbox are
//! the same for every operation (`create.rs`, `vote.rs`, `submit.rs`); what differs is here, one
//! executor per [`Operation`] variant:
//!
//! - [`Desk::check_operation`]: the checks before anything is asked of Tencent (who may ask for
//!   it, what is sold, what the policy allows for this kind);
//! - [`Desk::approvals_for`]: how many approvals it needs (0: carried out at once);
//! - [`Desk::assess`]: its price and its dry run, for the policy to judge;
//! - [`Desk::judge_dry_run`]: whether a dry run that did not pass stops the filing;
//! - [`Desk::execute`]: the one call that changes something, sent with the attempt's ClientToken;
//! - [`Desk::finish`]: the state, audit action and event a done call ends in;
//! - [`Desk::record_effects`]: what a done call leaves to track, in the transaction that records it;
//! - [`Desk::explain`]: a refusal in plain words with the facts that matter.
//!
//! A new kind adds a variant to [`Operation`] and a module beside `buy.rs`; the compiler then
//! names every match that must learn it.

mod buy;
mod extend;
mod fleet;
mod release;
mod renew;

pub(super) use fleet::{SLOT_TAG, fleet_run_request, slot_tag};

use super::keys::AuditAction;
use super::{Desk, DeskError, Event};
use crate::domain::{Operation, Person, Quote, Refusal, RequestState};
use crate::money::Yuan;
use crate::store::{RequestRecord, Session};
use crate::tencent::{ApiError, ErrorKind};
use time::OffsetDateTime;
use tracing::{info, warn};

/// What filing learned about an operation before the policy judges its cost.
pub(super) struct Assessment {
    /// Its price.
    pub quote: Quote,
    /// Tencent's RequestId of the price.
    pub quote_request_id: Option<String>,
    /// How its dry run went.
    pub dry_run: Result<String, ApiError>,
}

/// What sending an operation's changing call answered.
pub(super) enum Executed {
    /// Done: the resources it made or touched, and Tencent's RequestId.
    Done {
        /// Instance ids (for a purchase, the instances bought).
        resources: Vec<String>,
        /// Tencent's RequestId (none when nothing was left to send: a release whose instances
        /// were found released already).
        tencent_request_id: Option<String>,
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

impl Executed {
    /// Nothing was sent, or whether it was is not known: the next attempt looks again.
    fn unknown(error: ApiError) -> Executed {
        Executed::Unknown {
            error,
            named: Vec::new(),
        }
    }

    /// What Tencent showed could not be judged (`code`, `why`): nothing is sent on a guess.
    fn unclear(code: &str, why: String) -> Executed {
        Executed::unknown(ApiError::transport(ErrorKind::Unreadable, code, why))
    }

    /// The answer to a changing call about `resources` that names nothing back: done, unknown
    /// (looked at again before anything is resent) or refused.
    fn answered(
        answer: Result<crate::tencent::Answer<crate::tencent::cvm::Empty>, ApiError>,
        resources: &[String],
    ) -> Executed {
        match answer {
            Ok(answer) => Executed::Done {
                resources: resources.to_vec(),
                tencent_request_id: Some(answer.request_id),
            },
            Err(error) if error.is_retryable() || error.outcome_unknown() => Executed::unknown(error),
            Err(error) => Executed::Refused(error),
        }
    }
}

/// How a done operation ends: its request's state, the audit action, and the news.
pub(super) struct Finish {
    /// The request's state after it.
    pub state: RequestState,
    /// What the audit log calls it.
    pub action: AuditAction,
    /// What the channel is told.
    pub event: Event,
}

impl Desk {
    /// The checks that need no price: who may ask for it, what the policy allows for this kind
    /// and what Tencent sells.
    pub(super) async fn check_operation(&self, requester: &Person, operation: &Operation) -> Result<(), DeskError> {
        match operation {
            Operation::Buy(spec) => self.check_purchase(requester, spec).await,
            Operation::Release(release) => self.check_release(requester, release).await,
            Operation::Extend(extend) => self.check_extension(requester, extend).await,
            Operation::Renew(renew) => self.check_renewal(requester, renew).await,
            Operation::Fleet(fleet) => self.check_fleet(requester, fleet).await,
            Operation::FleetChange(change) => self.check_fleet_change(requester, change).await,
        }
    }

    /// The checks that must hold at the moment the request is stored, in the filing transaction
    /// (a release's instances are in no other open release).
    pub(super) async fn check_in_transaction(&self, tx: &mut Session, operation: &Operation) -> Result<(), DeskError> {
        match operation {
            Operation::Buy(_) => Ok(()),
            Operation::Release(release) => self.claim_instances(tx, release).await,
            Operation::Extend(extend) => self.claim_extension(tx, extend).await,
            Operation::Renew(renew) => self.claim_renewal(tx, renew).await,
            Operation::Fleet(fleet) => self.claim_fleet_name(tx, fleet).await,
            Operation::FleetChange(change) => self.claim_fleet_change(tx, change).await,
        }
    }

    /// How many approvals the operation needs at this cost (0: carried out without one).
    pub(super) fn approvals_for(
        &self,
        requester: &Person,
        operation: &Operation,
        monthly: Yuan,
    ) -> Result<u32, Refusal> {
        match operation {
            // A renewal is approved by its cost, as a purchase is.
            // A fleet's budget too.
            Operation::Buy(_) | Operation::Renew(_) | Operation::Fleet(_) => {
                self.settings().policy.approvals_needed(monthly)
            }
            Operation::FleetChange(change) => self.fleet_change_approvals(requester, change, monthly),
            Operation::Release(release) => self.release_approvals(requester, release),
            Operation::Extend(extend) => self.extension_approvals(extend),
        }
    }

    /// Prices the operation and dry-runs it.
    pub(super) async fn assess(&self, operation: &Operation) -> Result<Assessment, DeskError> {
        match operation {
            Operation::Buy(spec) => self.assess_purchase(spec).await,
            Operation::Release(release) => self.assess_release(release).await,
            Operation::Extend(extend) => self.assess_extension(extend).await,
            Operation::Renew(renew) => self.assess_renewal(renew).await,
            Operation::Fleet(fleet) => self.assess_fleet(fleet).await,
            Operation::FleetChange(change) => self.assess_fleet_change(change).await,
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
            Operation::Fleet(fleet) => self.judge_fleet_dry_run(fleet, dry_run, warnings).await,
            // The refund query is a release's check; it passed when filing got this far.
            Operation::Release(_) | Operation::Extend(_) | Operation::Renew(_) | Operation::FleetChange(_) => {
                Ok(dry_run.ok().filter(|id| !id.is_empty()))
            }
        }
    }

    /// The operation's price now and Tencent's RequestId of it, for a re-quote before it is
    /// executed (asked only of a kind that [`Desk::may_requote`]).
    pub(super) async fn requote_price(&self, record: &RequestRecord) -> Result<(Quote, String), ApiError> {
        match &record.operation {
            Operation::Buy(spec) => self.purchase_requote(spec).await,
            Operation::Release(release) => self.assess_refund(release).await,
            Operation::Renew(renew) => self.renewal_price(renew).await,
            // An extension's price is the purchase's burn, quoted when it was filed: it stands; a
            // fleet's budget is at its bid.
            Operation::Extend(_) | Operation::Fleet(_) | Operation::FleetChange(_) => Ok((
                record.quote.clone(),
                record.quote_request_id.clone().unwrap_or_default(),
            )),
        }
    }

    /// Whether the operation's price can move between approval and execution.
    pub(super) fn may_requote(&self, operation: &Operation) -> bool {
        match operation {
            Operation::Buy(spec) => buy::may_requote(spec),
            // A refund does not need approving again when it changes; an extension's burn was
            // quoted with its purchase.
            // A fleet's budget is at its bid, which does not move.
            Operation::Release(_) | Operation::Extend(_) | Operation::Fleet(_) | Operation::FleetChange(_) => false,
            // The months are priced again like a prepaid purchase; a rise is approved again.
            Operation::Renew(_) => true,
        }
    }

    /// Sends the operation's changing call with `token`.
    pub(super) async fn execute(&self, record: &RequestRecord, token: String) -> Executed {
        match &record.operation {
            Operation::Buy(spec) => self.execute_purchase(record, spec, token).await,
            // TerminateInstances has no ClientToken; the release looks before it sends instead.
            Operation::Release(release) => self.execute_release(release).await,
            // RenewInstances has no ClientToken; the renewal looks at ExpiredTime before it sends.
            Operation::Renew(renew) => self.execute_renewal(renew).await,
            // The fleet must still be as the change was asked from; what it changes is recorded
            // as the request finishes.
            Operation::FleetChange(change) => self.execute_fleet_change(change).await,
            // Nothing to ask of Tencent: the new end is recorded as the request finishes. A
            // fleet's servers are launched by the fleets worker, one slot at a time, each with a
            // ClientToken of its own.
            Operation::Extend(_) | Operation::Fleet(_) => Executed::Done {
                resources: Vec::new(),
                tencent_request_id: None,
            },
        }
    }

    /// How a done call ends the request.
    pub(super) fn finish(
        &self,
        record: &RequestRecord,
        resources: &[String],
        tencent_request_id: Option<&str>,
    ) -> Finish {
        match &record.operation {
            Operation::Buy(_) => Finish {
                state: RequestState::Submitted,
                action: AuditAction::Submitted,
                event: Event::Submitted {
                    request_id: record.id,
                    instance_ids: resources.to_vec(),
                    tencent_request_id: tencent_request_id.unwrap_or_default().to_owned(),
                },
            },
            Operation::Release(release) => release::finish(record, release, tencent_request_id),
            Operation::Extend(extend) => extend::finish(record, extend),
            Operation::Renew(renew) => renew::finish(record, renew, tencent_request_id),
            Operation::Fleet(fleet) => fleet::finish_fleet(record, fleet),
            Operation::FleetChange(change) => fleet::finish_change(record, change),
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
            Operation::Release(release) => self.record_release(tx, record, release, now).await,
            Operation::Extend(extend) => self.record_extension(tx, extend, now).await,
            Operation::Renew(renew) => Ok(tx.bump_card(renew.purchase).await?),
            Operation::Fleet(fleet) => self.record_fleet(tx, record, fleet, now).await,
            Operation::FleetChange(change) => self.record_fleet_change(tx, change, now).await,
        }
    }

    /// A refusal of the operation in plain words.
    pub(super) async fn explain(&self, operation: &Operation, error: &ApiError) -> String {
        match operation {
            Operation::Buy(spec) => super::cloud::explain_failure(self.tencent(), spec, error).await,
            Operation::Fleet(fleet) => super::cloud::explain_failure(self.tencent(), &fleet.template, error).await,
            Operation::FleetChange(_) if error.code == fleet::FLEET_CHANGED => error.message.clone(),
            Operation::Release(_) | Operation::Extend(_) | Operation::Renew(_) | Operation::FleetChange(_) => {
                error.explain()
            }
        }
    }

    /// A Tencent refusal while filing, when no option carried it: Tencent unreachable or our
    /// credentials refused (try again later), or a refusal in plain words.
    pub(super) fn filing_failure(error: &ApiError, explanation: &str, step: &str) -> DeskError {
        if error.is_retryable() || error.kind == ErrorKind::Auth {
            warn!(step, %error, "Tencent Cloud unavailable while filing");
            let explanation = if error.kind == ErrorKind::Auth {
                format!("cvmbot's Tencent Cloud credentials were refused: {explanation} Nothing was filed.")
            } else {
                format!("{explanation} Nothing was filed.")
            };
            return DeskError::Unavailable {
                explanation,
                cause: Box::new(error.clone()),
            };
        }
        info!(step, %error, "Tencent Cloud refused a request");
        DeskError::Cloud {
            explanation: format!("Tencent Cloud refused it at the {step}: {explanation} ({})", error.code),
            cause: error.clone(),
        }
    }
}
