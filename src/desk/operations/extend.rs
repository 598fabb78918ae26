//! The extension executor: a time to live moved past what the policy allows without an approval.
//! Nothing is asked of Tencent; once approved, the new end is recorded in the same transaction
//! that finishes the request.

use super::{Assessment, Finish};
use crate::desk::keys::AuditAction;
use crate::desk::{Desk, DeskError, Event};
use crate::domain::{ExtendSpec, Operation, OperationKind, Person, Quote, Refusal, RequestState};
use crate::money::HOURS_PER_MONTH;
use crate::store::{RequestRecord, Session};
use time::OffsetDateTime;

impl Desk {
    /// Who may ask (the buyer or an admin), and that the purchase still has a lifetime to extend.
    pub(super) async fn check_extension(&self, person: &Person, extend: &ExtendSpec) -> Result<(), DeskError> {
        self.may_change_lifetime(person, extend.owner)?;
        let mut session = self.store().session().await?;
        self.open_lifetime(&mut session, extend.purchase).await?;
        Ok(())
    }

    /// An extension is approved as the purchase's cost would be, and by at least one person.
    pub(super) fn extension_approvals(&self, extend: &ExtendSpec) -> Result<u32, Refusal> {
        self.settings()
            .policy
            .approvals_needed(extend.per_hour.times(HOURS_PER_MONTH))
            .map(|needed| needed.max(1))
    }

    /// Under the filing lock: no other extension of the purchase is open.
    pub(super) async fn claim_extension(&self, tx: &mut Session, extend: &ExtendSpec) -> Result<(), DeskError> {
        tx.lock_monthly_caps().await?;
        for open in tx.open_requests(OperationKind::Extend).await? {
            if let Operation::Extend(other) = &open.operation
                && other.purchase == extend.purchase
            {
                return Err(DeskError::refused(format!(
                    "Extension request #{} of #{} is {} already.",
                    open.id,
                    extend.purchase,
                    open.state.label()
                )));
            }
        }
        Ok(())
    }

    /// What the longer life costs: the purchase's burn for the extra hours.
    pub(super) async fn assess_extension(&self, extend: &ExtendSpec) -> Result<Assessment, DeskError> {
        let mut session = self.store().session().await?;
        let lifetime = self.open_lifetime(&mut session, extend.purchase).await?;
        let extra = (extend.until() - lifetime.release_at).whole_seconds().max(0) as u64;
        Ok(Assessment {
            quote: Quote::Extension {
                per_hour: extend.per_hour,
                hours: extra.div_ceil(3600),
            },
            quote_request_id: None,
            dry_run: Ok(String::new()),
        })
    }

    /// The new end, recorded as the request finishes.
    pub(super) async fn record_extension(
        &self,
        tx: &mut Session,
        extend: &ExtendSpec,
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        tx.lock_request(extend.purchase).await?;
        tx.extend_lifetime(extend.purchase, extend.until(), now).await?;
        tx.bump_card(extend.purchase).await?;
        Ok(())
    }
}

/// An extension ends done, the purchase's servers living until the new end.
pub(super) fn finish(record: &RequestRecord, extend: &ExtendSpec) -> Finish {
    Finish {
        state: RequestState::Done,
        action: AuditAction::Extended,
        event: Event::Extended {
            request_id: extend.purchase,
            by: record.requester_name.clone(),
            release_at: extend.until(),
            extension_request: Some(record.id),
        },
    }
}
