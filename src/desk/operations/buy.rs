//! The purchase executor: RunInstances. What is sold is checked first, the price comes from
//! InquiryPriceRunInstances and the dry run from RunInstances with `DryRun`; the purchase itself
//! is RunInstances with the attempt's ClientToken, and the instances it names are what the
//! tracker then follows.

use super::super::cloud::{explain_failure, option_of, quote_from_price, run_request, tencent_words};
use super::{Assessment, Executed};
use crate::desk::{Desk, DeskError};
use crate::domain::{BalanceCheck, BillingKind, FieldError, Person, PurchaseSpec, Quote, SpecErrors};
use crate::money::Yuan;
use crate::store::{NewInstance, RequestRecord, Session};
use crate::tencent::{ApiError, ErrorKind};
use rust_decimal::Decimal;
use time::OffsetDateTime;
use tracing::info;

/// A spot price is the market's at purchase time: renewing it means nothing. Other prices are
/// renewed when old.
pub(super) fn may_requote(spec: &PurchaseSpec) -> bool {
    spec.billing().kind() != BillingKind::Spot
}

impl Desk {
    pub(super) async fn check_purchase(&self, requester: &Person, spec: &PurchaseSpec) -> Result<(), DeskError> {
        self.settings().policy.check_requester(requester)?;
        self.settings().policy.check_spec(spec)?;
        self.inner.sold.check(spec).await?;
        Ok(())
    }

    pub(super) async fn assess_purchase(&self, spec: &PurchaseSpec) -> Result<Assessment, DeskError> {
        let request = run_request(spec, None, None);
        let tencent = self.tencent();
        let (price, dry_run) = tokio::join!(
            tencent.inquiry_price_run_instances(spec.region(), &request),
            tencent.dry_run_instances(spec.region(), &request),
        );
        let price = match price {
            Ok(price) => price,
            Err(error) => return Err(self.filing_refusal(spec, &error, "quote").await),
        };
        Ok(Assessment {
            quote: quote_from_price(spec, &price.data),
            quote_request_id: Some(price.request_id),
            dry_run: dry_run.map(|passed| passed.request_id),
        })
    }

    /// No stock or a spot price too low can pass later, so a request that keeps trying is filed
    /// with a warning; so is a shortfall the policy only warns about. Anything else refuses.
    pub(super) async fn judge_purchase_dry_run(
        &self,
        spec: &PurchaseSpec,
        dry_run: Result<String, ApiError>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, DeskError> {
        let error = match dry_run {
            Ok(request_id) => return Ok(Some(request_id)),
            Err(error) => error,
        };
        let explanation = explain_failure(self.tencent(), spec, &error).await;
        let waits =
            matches!(error.kind, ErrorKind::SpotPriceTooLow | ErrorKind::OutOfStock) && spec.keep_trying().is_some();
        let warned =
            error.kind == ErrorKind::InsufficientBalance && self.settings().policy.balance_check == BalanceCheck::Warn;
        if waits {
            warnings.push(format!(
                "Dry run: {explanation} cvmbot will keep trying after approval."
            ));
        } else if warned {
            warnings.push(format!("Dry run: {explanation}"));
        } else {
            return Err(self.filing_refusal(spec, &error, "dry run").await);
        }
        Ok(None)
    }

    pub(super) async fn purchase_requote(&self, spec: &PurchaseSpec) -> Result<(Quote, String), ApiError> {
        let request = run_request(spec, None, None);
        let answer = self
            .tencent()
            .inquiry_price_run_instances(spec.region(), &request)
            .await?;
        Ok((quote_from_price(spec, &answer.data), answer.request_id))
    }

    pub(super) async fn execute_purchase(
        &self,
        record: &RequestRecord,
        spec: &PurchaseSpec,
        token: String,
    ) -> Executed {
        let request = run_request(spec, Some(record.id), Some(token));
        info!(attempt = record.attempt, "sending RunInstances");
        match self.tencent().run_instances(spec.region(), &request).await {
            Ok(answer) if answer.data.instance_id_set.len() == spec.count() as usize => Executed::Done {
                resources: answer.data.instance_id_set,
                tencent_request_id: Some(answer.request_id),
            },
            // Tencent creates all of a purchase or none of it; an answer naming another number
            // of instances is not one to believe, so the purchase is asked again (same token).
            Ok(answer) => Executed::Unknown {
                error: ApiError::transport(
                    ErrorKind::Unreadable,
                    "ClientParseError",
                    format!(
                        "the answer named {} instance id(s) for a purchase of {} (RequestId {})",
                        answer.data.instance_id_set.len(),
                        spec.count(),
                        answer.request_id
                    ),
                ),
                named: answer.data.instance_id_set,
            },
            Err(error) if error.is_retryable() || error.outcome_unknown() => Executed::Unknown {
                error,
                named: Vec::new(),
            },
            Err(error) => Executed::Refused(error),
        }
    }

    /// The instances bought, each with its share of the hourly price, for the tracker.
    pub(super) async fn record_purchase(
        &self,
        tx: &mut Session,
        record: &RequestRecord,
        spec: &PurchaseSpec,
        instance_ids: &[String],
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        let count = Decimal::from(spec.count().max(1));
        let per_instance = Yuan::new((record.quote.hourly_burn().amount() / count).round_dp(6));
        let instances: Vec<NewInstance> = instance_ids
            .iter()
            .map(|instance_id| NewInstance {
                instance_id: instance_id.clone(),
                request_id: record.id,
                region: spec.region().to_owned(),
                zone: spec.zone().as_str().to_owned(),
                billing: spec.billing().kind(),
                hourly_price: per_instance,
                wants_public_ip: spec.bandwidth().mbps > 0,
                now,
                poll_interval: self.settings().first_poll,
                fleet_slot: None,
            })
            .collect();
        tx.insert_instances(&instances).await?;
        if let Some(ttl) = spec.ttl() {
            tx.start_lifetime(record.id, now, now + ttl).await?;
        }
        Ok(())
    }

    /// Turns a Tencent refusal during filing into what the requester is told: a refused parameter
    /// names the option that carried it, with Tencent's own words.
    async fn filing_refusal(&self, spec: &PurchaseSpec, error: &ApiError, step: &str) -> DeskError {
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
        Desk::filing_failure(error, &explanation, step)
    }
}
