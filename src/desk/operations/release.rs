//! The release executor: TerminateInstances. cvmbot releases only what it bought, one purchase's
//! instances at a time (they share a region and a billing mode, as TerminateInstances needs). The
//! refund comes from InquiryPriceTerminateInstances, which is also the check that Tencent will
//! take them back. Pay-as-you-go and spot instances are destroyed; a prepaid one goes to
//! Tencent's recycle bin (with its prepaid data disks), where it can still be recovered.
//!
//! TerminateInstances has no ClientToken, and a second call on a prepaid instance in the recycle
//! bin destroys it for good. So every attempt, the first and any resend after an answer that was
//! lost, starts by looking at the instances and sends the call only for those still in use.

use super::{Assessment, Executed, Finish};
use crate::desk::keys::AuditAction;
use crate::desk::{Desk, DeskError, Event, Origin, RequestView};
use crate::domain::{
    BillingKind, FieldError, Operation, Person, Quote, Refusal, ReleaseRule, ReleaseSpec, RequestId, RequestState,
    SpecErrors,
};
use crate::money::Yuan;
use crate::store::{InstanceRecord, RequestRecord, Session};
use crate::tencent::cvm::TerminateInstancesRequest;
use crate::tencent::enums::{InstanceState, OperationState};
use crate::tencent::{ApiError, ErrorKind};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use time::OffsetDateTime;
use tracing::info;

/// The longest reason a release may carry (as the purchase's).
const REASON_MAX: usize = 300;

fn invalid(field: &str, problem: String) -> DeskError {
    DeskError::Invalid(SpecErrors(vec![FieldError {
        field: field.into(),
        problem,
    }]))
}

use crate::desk::lifetime::releasable as in_use;

/// Whether an instance is a prepaid one cvmbot moved to Tencent's recycle bin, which a second
/// release destroys.
fn recycled(instance: &InstanceRecord) -> bool {
    instance.billing == BillingKind::Prepaid && instance.released_at.is_some() && instance.gone_at.is_none()
}

fn listed(ids: &[String]) -> String {
    ids.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

impl Desk {
    /// Asks to release the servers purchase request `purchase` bought: all that are still in use,
    /// or the ones named. Who may, and whether someone else must approve first, is the release
    /// policy; nothing cvmbot did not buy is ever released.
    pub async fn release(
        &self,
        person: &Person,
        purchase: RequestId,
        instance_ids: &[String],
        reason: Option<&str>,
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).ok_or_else(|| {
            invalid(
                "reason",
                "is needed: say why these servers can go (approvers see it, and the audit log keeps it)".into(),
            )
        })?;
        if reason.chars().count() > REASON_MAX {
            return Err(invalid("reason", format!("is at most {REASON_MAX} characters")));
        }
        let mut session = self.store().session().await?;
        let record = session.request(purchase).await?.ok_or(DeskError::NotFound(purchase))?;
        if let Operation::Fleet(fleet) = &record.operation {
            return Err(invalid(
                "request",
                format!(
                    "#{purchase} is fleet `{}`: its servers go with /cvm fleet release name:{} (or fewer with /cvm fleet scale)",
                    fleet.name, fleet.name
                ),
            ));
        }
        let Operation::Buy(spec) = &record.operation else {
            return Err(invalid(
                "request",
                format!(
                    "#{purchase} is a {} request, not a purchase: name the purchase whose servers should go",
                    record.operation.kind().label()
                ),
            ));
        };
        let instances = session.instances_of(purchase).await?;
        drop(session);
        let (ids, destroy) = chosen(purchase, &instances, instance_ids)?;
        let release = ReleaseSpec {
            purchase,
            owner: record.requester_id,
            instance_ids: ids,
            region: spec.region().to_owned(),
            billing: spec.billing().kind(),
            reason: reason.to_owned(),
            destroy,
            by_policy: false,
        };
        self.file(person, Operation::Release(release), origin).await
    }

    /// Who may ask, and that the instances are still the purchase's and in use.
    pub(super) async fn check_release(&self, person: &Person, release: &ReleaseSpec) -> Result<(), DeskError> {
        self.settings()
            .policy
            .release_rule(person, release.owner, release.billing, release.instance_ids.len())?;
        let mut session = self.store().session().await?;
        let instances = session.instances_of(release.purchase).await?;
        let (_, destroy) = chosen(release.purchase, &instances, &release.instance_ids)?;
        if destroy != release.destroy {
            return Err(DeskError::refused(
                "These servers changed while the release was asked for; ask again.",
            ));
        }
        Ok(())
    }

    /// No approval when the policy releases these at once; else the first tier's approvals.
    pub(super) fn release_approvals(&self, person: &Person, release: &ReleaseSpec) -> Result<u32, Refusal> {
        let policy = &self.settings().policy;
        match policy.release_rule(person, release.owner, release.billing, release.instance_ids.len())? {
            ReleaseRule::AtOnce => Ok(0),
            ReleaseRule::Approval => policy.approvals_needed(Yuan::ZERO).map(|needed| needed.max(1)),
        }
    }

    /// The instances of every release not carried out yet.
    pub(in crate::desk) async fn ids_in_open_releases(&self, tx: &mut Session) -> Result<BTreeSet<String>, DeskError> {
        let mut ids = BTreeSet::new();
        for open in tx.open_requests(crate::domain::OperationKind::Release).await? {
            if let Operation::Release(other) = open.operation {
                ids.extend(other.instance_ids);
            }
        }
        Ok(ids)
    }

    /// Under the filing lock: none of these instances is in another open release.
    pub(super) async fn claim_instances(&self, tx: &mut Session, release: &ReleaseSpec) -> Result<(), DeskError> {
        tx.lock_monthly_caps().await?;
        let wanted: BTreeSet<&str> = release.instance_ids.iter().map(String::as_str).collect();
        for open in tx.open_requests(crate::domain::OperationKind::Release).await? {
            if let Operation::Release(other) = &open.operation {
                let both: Vec<String> = other
                    .instance_ids
                    .iter()
                    .filter(|id| wanted.contains(id.as_str()))
                    .cloned()
                    .collect();
                if !both.is_empty() {
                    return Err(DeskError::refused(format!(
                        "{} {} already in release request #{}, which is {}.",
                        listed(&both),
                        if both.len() == 1 { "is" } else { "are" },
                        open.id,
                        open.state.label()
                    )));
                }
            }
        }
        Ok(())
    }

    /// The refund, which is also Tencent's check that it will take the instances back.
    pub(super) async fn assess_release(&self, release: &ReleaseSpec) -> Result<Assessment, DeskError> {
        if release.destroy {
            return self.assess_destroy(release).await;
        }
        match self.assess_refund(release).await {
            Ok((quote, request_id)) => Ok(Assessment {
                quote,
                quote_request_id: Some(request_id.clone()),
                dry_run: Ok(request_id),
            }),
            Err(error) if error.kind == ErrorKind::NotFound || error.code.starts_with("InvalidInstanceId") => {
                Err(invalid(
                    "instances",
                    format!("Tencent Cloud does not know them: {} ({})", error.explain(), error.code),
                ))
            }
            Err(error) => Err(Desk::filing_failure(&error, &error.explain(), "refund check")),
        }
    }

    /// Prepaid instances in the recycle bin were refunded when they went there: nothing more
    /// comes back. Tencent is asked that they are still there.
    async fn assess_destroy(&self, release: &ReleaseSpec) -> Result<Assessment, DeskError> {
        let seen = self
            .tencent()
            .describe_instances(&release.region, &release.instance_ids)
            .await
            .map_err(|error| Desk::filing_failure(&error, &error.explain(), "recycle bin check"))?;
        let missing: Vec<String> = release
            .instance_ids
            .iter()
            .filter(|id| {
                !seen
                    .iter()
                    .any(|i| &i.instance_id == *id && i.instance_state == Some(InstanceState::Shutdown))
            })
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(invalid(
                "instances",
                format!(
                    "{} {} no longer in Tencent's recycle bin (destroyed or recovered already)",
                    listed(&missing),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            ));
        }
        Ok(Assessment {
            quote: Quote::Refund { total: Yuan::ZERO },
            quote_request_id: None,
            // The look in the recycle bin is this release's check.
            dry_run: Ok(String::new()),
        })
    }

    /// What Tencent gives back for the instances.
    pub(super) async fn assess_refund(&self, release: &ReleaseSpec) -> Result<(Quote, String), ApiError> {
        let answer = self
            .tencent()
            .inquiry_price_terminate_instances(&release.region, &release.instance_ids)
            .await?;
        let total: Decimal = answer.data.iter().map(|refund| refund.refunds).sum();
        Ok((
            Quote::Refund {
                total: Yuan::new(total.round_dp(2)),
            },
            answer.request_id,
        ))
    }

    /// Looks at the instances, then sends TerminateInstances for the ones still in use.
    pub(super) async fn execute_release(&self, release: &ReleaseSpec) -> Executed {
        let seen = match self
            .tencent()
            .describe_instances(&release.region, &release.instance_ids)
            .await
        {
            Ok(seen) => seen,
            // Nothing was sent: whether to send is decided by the next look.
            Err(error) => return Executed::unknown(error),
        };
        // What each instance's real state says is still to do: a first call for one in use; for
        // the destroying release, a second call for one still in the recycle bin. One found in
        // the recycle bin on a first release was moved there by an answer that was lost.
        let in_flight: Vec<String> = seen
            .iter()
            .filter(|i| release.instance_ids.contains(&i.instance_id))
            .filter(|i| {
                i.latest_operation_state == Some(OperationState::Operating)
                    || matches!(i.instance_state, None | Some(InstanceState::Unknown(_)))
            })
            .map(|i| i.instance_id.clone())
            .collect();
        if !in_flight.is_empty() {
            // An operation Tencent is still carrying out (perhaps the first TerminateInstances,
            // whose answer was lost), or a state that can't be read: look again later.
            return Executed::unclear(
                "OperationInProgress",
                format!("{} still has an operation in progress", in_flight.join(", ")),
            );
        }
        let still_to_send = |state: &Option<InstanceState>| match state {
            Some(InstanceState::Terminating | InstanceState::LaunchFailed) => false,
            Some(InstanceState::Shutdown) => release.destroy,
            _ => true,
        };
        let to_send: Vec<String> = release
            .instance_ids
            .iter()
            .filter(|id| {
                seen.iter()
                    .any(|instance| &instance.instance_id == *id && still_to_send(&instance.instance_state))
            })
            .cloned()
            .collect();
        if to_send.is_empty() {
            info!("every instance of the release is gone or in the recycle bin already; nothing to send");
            return Executed::Done {
                resources: release.instance_ids.clone(),
                tencent_request_id: None,
            };
        }
        let request = TerminateInstancesRequest {
            instance_ids: to_send.clone(),
            release_prepaid_data_disks: (release.billing == BillingKind::Prepaid).then_some(true),
            ..Default::default()
        };
        info!(instances = to_send.len(), "sending TerminateInstances");
        let answer = self.tencent().terminate(&release.region, &request).await;
        Executed::answered(answer, &release.instance_ids)
    }

    /// The released instances stop being watched and burning; the purchase's card shows them
    /// released.
    pub(super) async fn record_release(
        &self,
        tx: &mut Session,
        record: &RequestRecord,
        release: &ReleaseSpec,
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        // The purchase's row first, as the tracker and the lifetimes pass take it.
        tx.lock_request(release.purchase).await?;
        let gone = release.destroy || release.billing != BillingKind::Prepaid;
        tx.mark_released(&release.instance_ids, record.id, now, gone).await?;
        // Nothing left to live: the purchase's time to live ends with this release.
        if !tx.instances_of(release.purchase).await?.iter().any(in_use) {
            tx.end_lifetime(release.purchase, Some(record.id), now).await?;
        }
        tx.bump_card(release.purchase).await?;
        Ok(())
    }
}

/// The instances of `purchase` a release names (all in use when it names none; when none is, the
/// prepaid ones in the recycle bin), and whether the release destroys recycled ones; or what is
/// wrong with them, naming each.
fn chosen(
    purchase: RequestId,
    instances: &[InstanceRecord],
    named: &[String],
) -> Result<(Vec<String>, bool), DeskError> {
    if named.is_empty() {
        let ids: Vec<String> = instances
            .iter()
            .filter(|i| in_use(i))
            .map(|i| i.instance_id.clone())
            .collect();
        if !ids.is_empty() {
            return Ok((ids, false));
        }
        let bin: Vec<String> = instances
            .iter()
            .filter(|i| recycled(i))
            .map(|i| i.instance_id.clone())
            .collect();
        if !bin.is_empty() {
            // Destroying for good is never the default: it takes naming them.
            return Err(DeskError::refused(format!(
                "Request #{purchase} has no servers in use. Its prepaid servers in Tencent's recycle bin ({}) are \
                 destroyed for good only when named: /cvm release request:{purchase} instances:{} reason:…",
                listed(&bin),
                bin.join(",")
            )));
        }
        return Err(DeskError::refused(format!(
            "Request #{purchase} has no servers left to release."
        )));
    }
    let mut problems = Vec::new();
    let mut ids = Vec::new();
    let mut in_bin = Vec::new();
    for id in named {
        match instances.iter().find(|i| &i.instance_id == id) {
            None => problems.push(format!(
                "`{id}` was not bought by request #{purchase}; cvmbot releases only what it bought{}",
                if instances.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (#{purchase} bought {})",
                        listed(&instances.iter().map(|i| i.instance_id.clone()).collect::<Vec<_>>())
                    )
                }
            )),
            Some(_) if ids.contains(id) || in_bin.contains(id) => problems.push(format!("`{id}` is named twice")),
            Some(instance) if recycled(instance) => in_bin.push(id.clone()),
            Some(instance) if instance.released_at.is_some() => {
                problems.push(format!("`{id}` was released already"));
            }
            Some(instance) if !in_use(instance) => problems.push(format!("`{id}` is gone already")),
            Some(_) => ids.push(id.clone()),
        }
    }
    if problems.is_empty() && !ids.is_empty() && !in_bin.is_empty() {
        problems.push(format!(
            "{} {} in Tencent's recycle bin and {} not: release the ones in use first, the recycle bin's in a \
             release of their own",
            listed(&in_bin),
            if in_bin.len() == 1 { "is" } else { "are" },
            listed(&ids)
        ));
    }
    if problems.is_empty() {
        Ok(if in_bin.is_empty() {
            (ids, false)
        } else {
            (in_bin, true)
        })
    } else {
        Err(DeskError::Invalid(SpecErrors(
            problems
                .into_iter()
                .map(|problem| FieldError {
                    field: "instances".into(),
                    problem,
                })
                .collect(),
        )))
    }
}

/// A release ends done, its instances given back.
pub(super) fn finish(record: &RequestRecord, release: &ReleaseSpec, tencent_request_id: Option<&str>) -> Finish {
    Finish {
        state: RequestState::Done,
        action: AuditAction::Released,
        event: Event::Released {
            request_id: record.id,
            purchase: release.purchase,
            instance_ids: release.instance_ids.clone(),
            recycled: release.billing == BillingKind::Prepaid && !release.destroy,
            tencent_request_id: tencent_request_id.map(str::to_owned),
        },
    }
}
