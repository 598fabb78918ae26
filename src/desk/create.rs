//! Filing a request: parse, check the policy, quote, dry-run, check the balance and the caps, store.

use super::cloud::{explain_failure, option_of, quote_from_price, run_request, tencent_words};
use super::costs::{CapCheck, check_balance};
use super::keys::AuditAction;
use super::{Desk, DeskError, Origin, RequestView};
use crate::domain::{
    BalanceCheck, FieldError, Person, PurchaseForm, PurchaseSpec, RequestState, SpecErrors, approval_hash,
};
use crate::store::{AuditEntry, NewRequest};
use crate::tencent::{ApiError, ErrorKind};
use tracing::{info, instrument, warn};

impl Desk {
    /// Files a purchase request for `requester`. Nothing is stored unless every check passes.
    pub async fn create(
        &self,
        requester: &Person,
        form: &PurchaseForm,
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        let spec = self.prepare(requester, form)?;
        self.file(requester, spec, origin).await
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

    /// The rest of filing a prepared spec: quote, dry run, balance, caps, store.
    #[instrument(skip_all, fields(requester = %requester.id, kind = spec.billing().kind().command()))]
    pub async fn file(&self, requester: &Person, spec: PurchaseSpec, origin: Origin) -> Result<RequestView, DeskError> {
        let policy = &self.settings().policy;
        self.inner.sold.check(&spec).await?;
        let request = run_request(&spec, None, None);
        let region = spec.region();
        let tencent = self.tencent();
        let (price, dry_run, balance) = tokio::join!(
            tencent.inquiry_price_run_instances(region, &request),
            tencent.dry_run_instances(region, &request),
            tencent.describe_account_balance(),
        );
        let price = match price {
            Ok(price) => price,
            Err(error) => return Err(self.refusal(&spec, &error, "quote").await),
        };
        let quote = quote_from_price(&spec, &price.data);
        let monthly = quote.monthly_equivalent();
        let approvals_needed = policy.approvals_needed(monthly)?;

        let mut warnings = Vec::new();
        check_balance(policy.balance_check, &balance, quote.up_front(), &mut warnings)?;
        let dry_run_request_id = match dry_run {
            Ok(passed) => Some(passed.request_id),
            Err(error) => {
                let explanation = explain_failure(tencent, &spec, &error).await;
                let waits = matches!(error.kind, ErrorKind::SpotPriceTooLow | ErrorKind::OutOfStock)
                    && spec.keep_trying().is_some();
                let warned = error.kind == ErrorKind::InsufficientBalance && policy.balance_check == BalanceCheck::Warn;
                if waits {
                    warnings.push(format!(
                        "Dry run: {explanation} cvmbot will keep trying after approval."
                    ));
                } else if warned {
                    warnings.push(format!("Dry run: {explanation}"));
                } else {
                    return Err(self.refusal(&spec, &error, "dry run").await);
                }
                None
            }
        };

        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let caps = CapCheck {
            requester_id: requester.id,
            with_pending: true,
            except: None,
        };
        self.check_caps(&mut tx, monthly, caps, now).await?;
        let new = NewRequest {
            requester: requester.clone(),
            guild_id: origin.guild_id,
            channel_id: origin.channel_id,
            approval_hash: approval_hash(&spec, &quote),
            monthly_fen: monthly.to_fen_ceil().get(),
            approvals_needed,
            quote_request_id: Some(price.request_id.clone()),
            dry_run_request_id,
            balance_warning: (!warnings.is_empty()).then(|| warnings.join(" ")),
            now,
            expires_at: now + policy.expiry,
            spec,
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
            detail: Some(format!(
                "{} per month-equivalent; {} approval(s) needed",
                monthly, approvals_needed
            )),
            tencent_request_id: Some(price.request_id),
        })
        .await?;
        if origin.channel_id.is_some() {
            tx.enqueue_notification(&super::cards::card_row(id, now)).await?;
        }
        let view = self.view_in(&mut tx, id).await?;
        tx.commit().await?;
        crate::crashpoint::here("filing:stored");
        info!(request_id = %id, "request filed");
        self.wake_dispatcher();
        Ok(view)
    }

    /// Turns a Tencent refusal during filing into what the requester is told: a refused parameter
    /// names the option that carried it, with Tencent's own words.
    async fn refusal(&self, spec: &PurchaseSpec, error: &ApiError, step: &str) -> DeskError {
        if let Some(option) = option_of(error) {
            info!(step, %error, option, "Tencent Cloud refused an option");
            return DeskError::Invalid(SpecErrors(vec![FieldError {
                field: option.into(),
                problem: match error.specific_explanation() {
                    Some(ours) => format!(
                        "{ours} Tencent Cloud refused it: {} ({})",
                        tencent_words(error),
                        error.code
                    ),
                    None => format!("Tencent Cloud refused it: {} ({})", tencent_words(error), error.code),
                },
            }]));
        }
        let explanation = explain_failure(self.tencent(), spec, error).await;
        if error.is_retryable() || error.kind == ErrorKind::Auth {
            warn!(step, %error, "Tencent Cloud unavailable while filing");
            if error.kind == ErrorKind::Auth {
                return DeskError::Unavailable {
                    explanation: format!(
                        "cvmbot's Tencent Cloud credentials were refused: {explanation} Nothing was filed."
                    ),
                    cause: Box::new(error.clone()),
                };
            }
            return DeskError::Unavailable {
                explanation: format!("{explanation} Nothing was filed."),
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
