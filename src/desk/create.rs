//! Filing a request: parse, check the policy, price and dry-run the operation, check the cost
//! tier, the balance and the budgets (the monthly caps among them), store.

use super::budgets::Judging;
use super::costs::check_balance;
use super::keys::AuditAction;
use super::operations::Assessment;
use super::steps::Step;
use super::{Desk, DeskError, Origin, RequestView};
use crate::domain::{Operation, Person, PurchaseForm, PurchaseSpec, Quote, RequestState, approval_hash, client_token};
use crate::store::{AuditEntry, NewRequest};
use tracing::{info, instrument};

impl Desk {
    /// Files a purchase request for `requester`. Nothing is stored unless every check passes.
    pub async fn create(
        &self,
        requester: &Person,
        form: &PurchaseForm,
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        let spec = self.prepare(requester, form)?;
        self.file(requester, Operation::Buy(spec), origin).await
    }

    /// The checks that need no I/O: who asks, whether the options parse, whether the policy allows
    /// what they describe. Adapters call this first to answer bad input at once.
    pub fn prepare(&self, requester: &Person, form: &PurchaseForm) -> Result<PurchaseSpec, DeskError> {
        let policy = &self.settings().policy;
        policy.check_requester(requester)?;
        let spec = PurchaseSpec::parse(form, &self.settings().parse)?;
        policy.check_spec(&spec)?;
        Ok(spec)
    }

    /// The rest of filing an operation: what is sold, the price and the dry run, the cost tier,
    /// the balance and the budgets; then the request is stored with its card queued.
    #[instrument(skip_all, fields(requester = %requester.id, kind = %operation.kind()))]
    pub async fn file(
        &self,
        requester: &Person,
        operation: Operation,
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        let policy = &self.settings().policy;
        self.check_operation(requester, &operation).await?;
        let (assessment, balance) = tokio::join!(self.assess(&operation), self.tencent().describe_account_balance());
        let Assessment {
            quote,
            quote_request_id,
            dry_run,
        } = assessment?;
        let monthly = quote.monthly_equivalent();
        let mut approvals_needed = self.approvals_for(requester, &operation, monthly)?;
        let budgets = self
            .budgets_touched((requester.id, &requester.roles), &operation)
            .await?;
        let mut warnings = Vec::new();
        check_balance(policy.balance_check, &balance, quote.up_front(), &mut warnings)?;
        let dry_run_request_id = self.judge_dry_run(&operation, dry_run, &mut warnings).await?;

        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let judging = Judging {
            requester_id: requester.id,
            again: None,
        };
        // A budget it would go over (a cap is one) refuses it, or asks one more approval than its tier.
        approvals_needed += self.check_budgets(&mut tx, &budgets, monthly, judging, now).await?;
        self.check_in_transaction(&mut tx, &operation).await?;
        let filing = Filing {
            requester,
            origin,
            operation,
            quote,
            quote_request_id,
            dry_run_request_id,
            approvals_needed,
            warnings,
            note: format!("{monthly} per month-equivalent; {approvals_needed} approval(s) needed"),
        };
        let id = self.store_filed(&mut tx, filing, now).await?;
        let view = self.view_in(&mut tx, id).await?;
        tx.commit().await?;
        crate::crashpoint::here("filing:stored");
        info!(request_id = %id, "request filed");
        if approvals_needed == 0 {
            self.wake_submitter();
        }
        self.wake_dispatcher();
        Ok(view)
    }
}

/// A request that passed every check, to store.
pub(super) struct Filing<'a> {
    /// Who asks.
    pub requester: &'a Person,
    /// Where.
    pub origin: Origin,
    /// What.
    pub operation: Operation,
    /// Its price.
    pub quote: Quote,
    /// Tencent's RequestId of the price.
    pub quote_request_id: Option<String>,
    /// Tencent's RequestId of the dry run.
    pub dry_run_request_id: Option<String>,
    /// Approvals it needs (0: approved by the policy as it is filed, and due for submission).
    pub approvals_needed: u32,
    /// Balance warnings shown on the card.
    pub warnings: Vec<String>,
    /// The audit entry's detail.
    pub note: String,
}

impl Desk {
    /// Stores a filed request in `tx` with its audit entry and its card queued; one the policy
    /// approves at once is made due for submission with its first ClientToken.
    pub(super) async fn store_filed(
        &self,
        tx: &mut crate::store::Session,
        filing: Filing<'_>,
        now: time::OffsetDateTime,
    ) -> Result<crate::domain::RequestId, DeskError> {
        let Filing {
            requester,
            origin,
            operation,
            quote,
            quote_request_id,
            dry_run_request_id,
            approvals_needed,
            warnings,
            note,
        } = filing;
        let new = NewRequest {
            requester: requester.clone(),
            guild_id: origin.guild_id,
            channel_id: origin.channel_id,
            approval_hash: approval_hash(&operation, &quote),
            monthly_fen: quote.monthly_equivalent().to_fen_ceil().get(),
            approvals_needed,
            quote_request_id: quote_request_id.clone(),
            dry_run_request_id,
            balance_warning: (!warnings.is_empty()).then(|| warnings.join(" ")),
            now,
            expires_at: now + self.settings().policy.expiry,
            operation,
            quote,
        };
        let id = tx.insert_request(&new).await?;
        tx.insert_audit(&AuditEntry {
            request_id: Some(id),
            at: now,
            actor_id: Some(requester.id),
            actor_name: requester.name.clone(),
            action: AuditAction::Created.to_string(),
            from_state: None,
            to_state: Some(RequestState::Pending.as_str().into()),
            detail: Some(note),
            tencent_request_id: quote_request_id,
        })
        .await?;
        if approvals_needed == 0 {
            // The policy lets this be carried out without an approval (a release of one's own
            // pay-as-you-go servers, say): approved as it is filed.
            Step::new(
                AuditAction::ApprovedByPolicy,
                RequestState::Pending,
                RequestState::Approved,
            )
            .take(tx, id, now)
            .await?;
            let token = client_token(&self.inner.installation_id, id, 1);
            tx.set_submission(id, 1, &token, now, None).await?;
        }
        if origin.channel_id.is_some() {
            tx.enqueue_notification(&super::cards::card_row(id, now)).await?;
        }
        Ok(id)
    }
}
