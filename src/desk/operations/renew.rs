//! The renewal executor: RenewInstances for prepaid servers cvmbot bought, priced by
//! InquiryPriceRenewInstances and approved by the cost tiers like a purchase.
//!
//! RenewInstances has no ClientToken, and a second call pays again. So the renewal records each
//! instance's ExpiredTime when it is filed, and every attempt (the first, and any resend after an
//! answer that was lost) looks first and renews only the instances whose ExpiredTime has not
//! moved since.

use super::{Assessment, Executed, Finish};
use crate::desk::cloud::renewal_quote;
use crate::desk::keys::AuditAction;
use crate::desk::lifetime::releasable;
use crate::desk::{Desk, DeskError, Event, Origin, RequestView};
use crate::domain::spec::PREPAID_MONTHS;
use crate::domain::{
    BillingKind, FieldError, Operation, OperationKind, Person, Quote, RenewSpec, RequestId, RequestState, SpecErrors,
};
use crate::store::{RequestRecord, Session};
use crate::tencent::ApiError;
use std::collections::BTreeMap;
use tracing::info;

fn invalid(field: &str, problem: String) -> DeskError {
    DeskError::Invalid(SpecErrors(vec![FieldError {
        field: field.into(),
        problem,
    }]))
}

impl Desk {
    /// Asks to renew the prepaid servers purchase `purchase` bought (all still in use, or the
    /// ones named) for `months` more months.
    pub async fn renew(
        &self,
        person: &Person,
        purchase: RequestId,
        months: u32,
        instance_ids: &[String],
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        if !PREPAID_MONTHS.contains(&months) {
            return Err(invalid(
                "months",
                format!("`{months}` is not a period Tencent sells: 1–12, 24, 36, 48 or 60"),
            ));
        }
        let mut session = self.store().session().await?;
        let record = session.request(purchase).await?.ok_or(DeskError::NotFound(purchase))?;
        let Operation::Buy(spec) = &record.operation else {
            return Err(invalid(
                "request",
                format!(
                    "#{purchase} is a {} request, not a purchase",
                    record.operation.kind().label()
                ),
            ));
        };
        if spec.billing().kind() != BillingKind::Prepaid {
            return Err(invalid(
                "request",
                format!(
                    "#{purchase} bought {} servers; only prepaid servers are renewed",
                    spec.billing().kind().label()
                ),
            ));
        }
        self.may_renew(person, record.requester_id)?;
        let instances = session.instances_of(purchase).await?;
        drop(session);
        let in_use: Vec<String> = instances
            .iter()
            .filter(|i| releasable(i))
            .map(|i| i.instance_id.clone())
            .collect();
        if in_use.is_empty() {
            return Err(DeskError::refused(format!(
                "Request #{purchase} has no servers left to renew."
            )));
        }
        let mut ids: Vec<String> = if instance_ids.is_empty() {
            in_use.clone()
        } else {
            instance_ids.to_vec()
        };
        ids.sort();
        ids.dedup();
        let foreign: Vec<&String> = ids.iter().filter(|id| !in_use.contains(id)).collect();
        if !foreign.is_empty() {
            return Err(invalid(
                "instances",
                format!(
                    "{} not among the servers of #{purchase} still in use ({})",
                    foreign.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "),
                    in_use.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let seen = self
            .tencent()
            .describe_instances(spec.region(), &ids)
            .await
            .map_err(|error| Desk::filing_failure(&error, &error.explain(), "look at the servers"))?;
        let mut expired_before = BTreeMap::new();
        for id in &ids {
            let expiry = seen
                .iter()
                .find(|i| &i.instance_id == id)
                .ok_or_else(|| invalid("instances", format!("Tencent Cloud no longer knows `{id}`")))?
                .expired_time
                .clone()
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    invalid(
                        "instances",
                        format!("Tencent Cloud gives no end of period for `{id}`, so a renewal could not be checked"),
                    )
                })?;
            expired_before.insert(id.clone(), expiry);
        }
        let renew = RenewSpec {
            purchase,
            owner: record.requester_id,
            instance_ids: ids,
            region: spec.region().to_owned(),
            months,
            expired_before,
            reason: format!("keep the prepaid servers of #{purchase} for {months} more month(s)"),
        };
        self.file(person, Operation::Renew(renew), origin).await
    }

    /// Only the buyer or an admin renews, and only someone who may file requests at all.
    fn may_renew(&self, person: &Person, owner: crate::domain::UserId) -> Result<(), DeskError> {
        let policy = &self.settings().policy;
        policy.check_requester(person)?;
        if policy.may_cancel(person, owner) {
            Ok(())
        } else {
            Err(DeskError::refused(
                "Only the person who bought these servers, or an admin, can renew them.",
            ))
        }
    }

    /// Who may ask, and that the instances are still in use.
    pub(super) async fn check_renewal(&self, person: &Person, renew: &RenewSpec) -> Result<(), DeskError> {
        self.may_renew(person, renew.owner)?;
        let mut session = self.store().session().await?;
        let instances = session.instances_of(renew.purchase).await?;
        if let Some(gone) = renew
            .instance_ids
            .iter()
            .find(|id| !instances.iter().any(|i| &i.instance_id == *id && releasable(i)))
        {
            return Err(invalid("instances", format!("`{gone}` is no longer in use")));
        }
        Ok(())
    }

    /// Under the filing lock: none of these instances is in another open renewal.
    pub(super) async fn claim_renewal(&self, tx: &mut Session, renew: &RenewSpec) -> Result<(), DeskError> {
        tx.lock_monthly_caps().await?;
        let releasing = self.ids_in_open_releases(tx).await?;
        if let Some(id) = renew.instance_ids.iter().find(|id| releasing.contains(*id)) {
            return Err(DeskError::refused(format!(
                "`{id}` is being released; it is not renewed."
            )));
        }
        for open in tx.open_requests(OperationKind::Renew).await? {
            if let Operation::Renew(other) = &open.operation
                && other.instance_ids.iter().any(|id| renew.instance_ids.contains(id))
            {
                return Err(DeskError::refused(format!(
                    "Renewal request #{} of these servers is {} already.",
                    open.id,
                    open.state.label()
                )));
            }
        }
        Ok(())
    }

    /// The price of the months, which is also Tencent's check that it will renew them.
    pub(super) async fn assess_renewal(&self, renew: &RenewSpec) -> Result<Assessment, DeskError> {
        match self.renewal_price(renew).await {
            Ok((quote, request_id)) => Ok(Assessment {
                quote,
                quote_request_id: Some(request_id.clone()),
                dry_run: Ok(request_id),
            }),
            Err(error) => Err(Desk::filing_failure(&error, &error.explain(), "renewal price")),
        }
    }

    /// What the months cost now.
    pub(super) async fn renewal_price(&self, renew: &RenewSpec) -> Result<(Quote, String), ApiError> {
        let answer = self
            .tencent()
            .inquiry_price_renew_instances(&renew.region, &renew.instance_ids, i64::from(renew.months))
            .await?;
        Ok((renewal_quote(&answer.data, renew.months), answer.request_id))
    }

    /// Looks at the instances, then renews those whose ExpiredTime has not moved.
    pub(super) async fn execute_renewal(&self, renew: &RenewSpec) -> Executed {
        let seen = match self
            .tencent()
            .describe_instances(&renew.region, &renew.instance_ids)
            .await
        {
            Ok(seen) => seen,
            // Nothing was sent: whether to send is decided by the next look.
            Err(error) => return Executed::unknown(error),
        };
        // An instance missing from the answer, without an end of period, or with a renewal in
        // flight can't be judged: look again later rather than pay on a guess.
        let unclear: Vec<&String> = renew
            .instance_ids
            .iter()
            .filter(|id| {
                seen.iter().find(|i| &i.instance_id == *id).is_none_or(|i| {
                    i.expired_time.as_deref().is_none_or(str::is_empty)
                        || i.latest_operation_state == Some(crate::tencent::enums::OperationState::Operating)
                })
            })
            .collect();
        if !unclear.is_empty() {
            return Executed::unclear(
                "RenewalUnclear",
                format!(
                    "{} shows no settled end of period",
                    unclear.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            );
        }
        let to_send: Vec<String> = renew
            .instance_ids
            .iter()
            .filter(|id| {
                let before = renew.expired_before.get(*id).cloned().unwrap_or_default();
                seen.iter()
                    .any(|i| &i.instance_id == *id && i.expired_time.as_deref() == Some(before.as_str()))
            })
            .cloned()
            .collect();
        if to_send.is_empty() {
            info!("every instance of the renewal was renewed already (or is gone); nothing to send");
            return Executed::Done {
                resources: renew.instance_ids.clone(),
                tencent_request_id: None,
            };
        }
        info!(
            instances = to_send.len(),
            months = renew.months,
            "sending RenewInstances"
        );
        let answer = self
            .tencent()
            .renew_instances(&renew.region, &to_send, i64::from(renew.months))
            .await;
        Executed::answered(answer, &renew.instance_ids)
    }
}

/// A renewal ends done, the instances paid for more months.
pub(super) fn finish(record: &RequestRecord, renew: &RenewSpec, tencent_request_id: Option<&str>) -> Finish {
    Finish {
        state: RequestState::Done,
        action: AuditAction::Renewed,
        event: Event::Renewed {
            request_id: record.id,
            purchase: renew.purchase,
            instance_ids: renew.instance_ids.clone(),
            months: renew.months,
            tencent_request_id: tencent_request_id.map(str::to_owned),
        },
    }
}

impl Desk {
    /// Turns automatic renewal of purchase `purchase`'s prepaid servers on or off
    /// (ModifyInstancesRenewFlag). Setting a flag is the same however often it is sent, so it
    /// is done at once, by the buyer or an admin; the purchase's approval covered the servers.
    pub async fn set_auto_renew(
        &self,
        person: &Person,
        purchase: RequestId,
        on: bool,
    ) -> Result<Vec<String>, DeskError> {
        let mut session = self.store().session().await?;
        let record = session.request(purchase).await?.ok_or(DeskError::NotFound(purchase))?;
        let Operation::Buy(spec) = &record.operation else {
            return Err(invalid("request", format!("#{purchase} is not a purchase")));
        };
        if spec.billing().kind() != BillingKind::Prepaid {
            return Err(invalid(
                "request",
                format!(
                    "#{purchase} bought {} servers; only prepaid servers renew",
                    spec.billing().kind().label()
                ),
            ));
        }
        self.may_renew(person, record.requester_id)?;
        let ids: Vec<String> = session
            .instances_of(purchase)
            .await?
            .iter()
            .filter(|i| releasable(i))
            .map(|i| i.instance_id.clone())
            .collect();
        drop(session);
        if ids.is_empty() {
            return Err(DeskError::refused(format!("Request #{purchase} has no servers left.")));
        }
        let flag = if on {
            crate::tencent::enums::RenewFlag::NotifyAndAutoRenew
        } else {
            crate::tencent::enums::RenewFlag::NotifyAndManualRenew
        };
        let answer = self
            .tencent()
            .modify_instances_renew_flag(spec.region(), &ids, flag)
            .await
            .map_err(|error| Desk::filing_failure(&error, &error.explain(), "renewal setting"))?;
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        tx.lock_request(purchase).await?;
        tx.insert_audit(&crate::store::AuditEntry {
            request_id: Some(purchase),
            at: now,
            actor_id: Some(person.id),
            actor_name: person.name.clone(),
            action: AuditAction::RenewFlagSet.to_string(),
            from_state: None,
            to_state: None,
            detail: Some(format!("automatic renewal {}", if on { "on" } else { "off" })),
            tencent_request_id: Some(answer.request_id),
        })
        .await?;
        let event = Event::AutoRenewSet {
            request_id: purchase,
            by: person.name.clone(),
            on,
            instance_ids: ids.clone(),
        };
        let key = crate::desk::keys::DedupeKey::request(
            purchase,
            crate::desk::keys::RequestNews::RenewFlag(now.unix_timestamp_nanos() as u64 / 1_000_000),
        );
        tx.enqueue_notification(&crate::desk::notice_row(&key, &event, now))
            .await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(ids)
    }
}
