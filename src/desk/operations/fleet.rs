//! The fleet executors. Creating a fleet approves its budget: as many servers as it keeps, each
//! at the bid, per month-equivalent, judged by the cost tiers and the caps like any purchase. Its
//! execution calls nothing at Tencent: it stores the fleet and its slots, and the fleets worker
//! (`desk::fleets`) launches each slot with a ClientToken of its own. A fleet change (scale, or
//! release) is approved as what it asks for: servers beyond the approved budget by the tiers, and
//! servers given back by the release policy.

use super::super::cloud::run_request;
use super::{Assessment, Executed, Finish};
use crate::desk::keys::AuditAction;
use crate::desk::{Desk, DeskError, Event, Origin, RequestView};
use crate::domain::{
    BillingKind, FieldError, FleetChangeSpec, FleetName, FleetSpec, Operation, OperationKind, Person, PurchaseForm,
    Quote, Refusal, ReleaseRule, RequestState, SpecErrors,
};
use crate::money::Yuan;
use crate::store::{FleetRecord, FleetState, RequestRecord, Session, SlotRecord, SlotState};
use crate::tencent::{ApiError, ErrorKind};
use time::OffsetDateTime;

/// The code of a fleet change refused because the fleet changed since it was asked for.
pub(super) const FLEET_CHANGED: &str = "FleetChanged";

/// The longest reason a fleet change may carry.
const REASON_MAX: usize = 300;

fn invalid(field: &str, problem: String) -> DeskError {
    DeskError::Invalid(SpecErrors(vec![FieldError {
        field: field.into(),
        problem,
    }]))
}

/// A spot quote for one server, times `count`.
fn times(quote: &Quote, count: u32) -> Quote {
    match quote {
        Quote::Spot {
            market_per_hour,
            ceiling_per_hour,
            traffic_per_gb,
        } => Quote::Spot {
            market_per_hour: market_per_hour.times(count),
            ceiling_per_hour: ceiling_per_hour.times(count),
            traffic_per_gb: *traffic_per_gb,
        },
        other => other.clone(),
    }
}

impl Desk {
    /// Parses `/cvm fleet create` (the spot buy's options plus `name`, `count`, `fallbacks`) and
    /// files it. Nothing is stored unless every check passes.
    pub async fn create_fleet(
        &self,
        requester: &Person,
        form: &PurchaseForm,
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        let fleet = self.prepare_fleet(requester, form)?;
        self.file(requester, Operation::Fleet(fleet), origin).await
    }

    /// The checks of a fleet that need no I/O (adapters answer bad input with them at once).
    pub fn prepare_fleet(&self, requester: &Person, form: &PurchaseForm) -> Result<FleetSpec, DeskError> {
        let policy = &self.settings().policy;
        policy.check_requester(requester)?;
        let fleet = FleetSpec::parse(form, &self.settings().parse, policy.fleet.max_count, policy.fleet.ttl)?;
        policy.check_spec(&fleet.template)?;
        for (index, placement) in fleet.placements().iter().enumerate().skip(1) {
            if let Err(refusal) = policy.check_spec(&fleet.server_at(index)) {
                return Err(invalid("fallbacks", format!("{placement}: {refusal}")));
            }
        }
        Ok(fleet)
    }

    pub(super) async fn check_fleet(&self, requester: &Person, fleet: &FleetSpec) -> Result<(), DeskError> {
        let policy = &self.settings().policy;
        policy.check_requester(requester)?;
        for index in 0..fleet.placements().len() {
            let server = fleet.server_at(index);
            policy.check_spec(&server).map_err(|refusal| match index {
                0 => DeskError::Refused(refusal),
                _ => invalid("fallbacks", format!("{}: {refusal}", fleet.placements()[index])),
            })?;
            self.inner.sold.check(&server).await.map_err(|SpecErrors(errors)| {
                // A fallback's zone or type is the `fallbacks` option's.
                let field = |e: FieldError| match (index, e.field.as_str()) {
                    (1.., "zone" | "type") => FieldError {
                        field: "fallbacks".into(),
                        problem: format!("{}: {}", fleet.placements()[index], e.problem),
                    },
                    _ => e,
                };
                DeskError::Invalid(SpecErrors(errors.into_iter().map(field).collect()))
            })?;
        }
        Ok(())
    }

    /// Under the filing lock: no running fleet and no open fleet request has this name.
    pub(super) async fn claim_fleet_name(&self, tx: &mut Session, fleet: &FleetSpec) -> Result<(), DeskError> {
        tx.lock_monthly_caps().await?;
        if let Some(running) = tx.fleet_named(fleet.name.as_str()).await?
            && running.state == FleetState::Running
        {
            return Err(invalid(
                "name",
                format!(
                    "fleet `{}` is running already (request #{}); choose another name or scale that one",
                    fleet.name, running.request_id
                ),
            ));
        }
        for open in tx.open_requests(OperationKind::Fleet).await? {
            if let Operation::Fleet(other) = &open.operation
                && other.name == fleet.name
            {
                return Err(invalid(
                    "name",
                    format!(
                        "fleet `{}` is asked for already by request #{}, which is {}",
                        fleet.name,
                        open.id,
                        open.state.label()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// One server's price and dry run; the budget is the count times it.
    pub(super) async fn assess_fleet(&self, fleet: &FleetSpec) -> Result<Assessment, DeskError> {
        let mut assessment = self.assess_purchase(&fleet.template).await?;
        assessment.quote = times(&assessment.quote, fleet.count);
        Ok(assessment)
    }

    /// A fleet keeps trying by itself: no stock or a market above the bid is a warning; anything
    /// else refuses the filing.
    pub(super) async fn judge_fleet_dry_run(
        &self,
        fleet: &FleetSpec,
        dry_run: Result<String, ApiError>,
        warnings: &mut Vec<String>,
    ) -> Result<Option<String>, DeskError> {
        match dry_run {
            Ok(request_id) => Ok(Some(request_id)),
            Err(error) if matches!(error.kind, ErrorKind::SpotPriceTooLow | ErrorKind::OutOfStock) => {
                let explanation = super::super::cloud::explain_failure(self.tencent(), &fleet.template, &error).await;
                warnings.push(format!(
                    "Dry run: {explanation} Once approved, cvmbot keeps trying{}.",
                    if fleet.fallbacks.is_empty() {
                        ""
                    } else {
                        " and uses the fallbacks"
                    }
                ));
                Ok(None)
            }
            Err(error) => {
                let mut warned = Vec::new();
                self.judge_purchase_dry_run(&fleet.template, Err(error), &mut warned)
                    .await?;
                warnings.extend(warned);
                Ok(None)
            }
        }
    }

    /// The fleet and its empty slots, in the transaction that finishes the request.
    pub(super) async fn record_fleet(
        &self,
        tx: &mut Session,
        record: &RequestRecord,
        fleet: &FleetSpec,
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        tx.insert_fleet(&FleetRecord {
            request_id: record.id,
            name: fleet.name.to_string(),
            region: fleet.template.region().to_owned(),
            owner_id: record.requester_id,
            desired: fleet.count,
            approved: fleet.count,
            state: FleetState::Running,
            next_slot: 0,
            waiting: None,
            waiting_since: None,
            next_try_at: None,
            backoff: std::time::Duration::ZERO,
            ends_at: fleet.template.ttl().map(|ttl| now + ttl),
            last_reclaim_at: None,
            last_refill_at: None,
            reclaimed_total: 0,
            refilled_total: 0,
            untold_reclaimed: 0,
            untold_refilled: 0,
            untold_failed: 0,
            news: 0,
            told_at: None,
            news_since: None,
            created_at: now,
            ended_at: None,
        })
        .await?;
        self.wake_fleets();
        Ok(())
    }

    /// Asks fleet `name` to keep `count` servers (`None`: release them all and end the fleet).
    pub async fn change_fleet(
        &self,
        person: &Person,
        name: &str,
        count: Option<u32>,
        reason: Option<&str>,
        origin: Origin,
    ) -> Result<RequestView, DeskError> {
        let name = FleetName::parse(name).map_err(|problem| invalid("name", problem))?;
        let reason = match (reason.map(str::trim).filter(|r| !r.is_empty()), count) {
            (Some(reason), _) => reason.to_owned(),
            (None, Some(count)) => format!("scale to {count}"),
            (None, None) => {
                return Err(invalid(
                    "reason",
                    "is needed: say why the fleet can go (approvers see it, and the audit log keeps it)".into(),
                ));
            }
        };
        if reason.chars().count() > REASON_MAX {
            return Err(invalid("reason", format!("is at most {REASON_MAX} characters")));
        }
        let mut session = self.store().session().await?;
        let fleet = match session.fleet_named(name.as_str()).await? {
            Some(fleet) if fleet.state == FleetState::Running => fleet,
            _ => return Err(invalid("name", format!("no fleet named `{name}` is running"))),
        };
        let record = session
            .request(fleet.request_id)
            .await?
            .ok_or(DeskError::NotFound(fleet.request_id))?;
        drop(session);
        let Operation::Fleet(spec) = &record.operation else {
            return Err(DeskError::NotFound(fleet.request_id));
        };
        let max = self.settings().policy.fleet.max_count;
        if let Some(count) = count {
            if !(1..=max).contains(&count) {
                return Err(invalid(
                    "count",
                    format!("how many servers to keep: a whole number from 1 to {max} (to stop the fleet, release it)"),
                ));
            }
            if count == fleet.desired {
                return Err(invalid("count", format!("fleet `{name}` keeps {count} already")));
            }
        }
        let change = FleetChangeSpec {
            fleet: fleet.request_id,
            name,
            owner: fleet.owner_id,
            region: fleet.region.clone(),
            from: fleet.desired,
            to: count.unwrap_or(0),
            approved: fleet.approved,
            max_price: spec.max_price(),
            end: count.is_none(),
            reason,
        };
        self.file(person, Operation::FleetChange(change), origin).await
    }

    /// Who may change a fleet: its owner or an admin (the release policy says so for what is
    /// given back); a rise is a request, so the requester list applies too.
    pub(super) async fn check_fleet_change(&self, person: &Person, change: &FleetChangeSpec) -> Result<(), DeskError> {
        let policy = &self.settings().policy;
        if person.id != change.owner && !policy.admins.includes(person) {
            return Err(DeskError::refused(format!(
                "Only the person who asked for fleet `{}`, or an admin, may change it.",
                change.name
            )));
        }
        policy.release_rule(person, change.owner, BillingKind::Spot, change.releases() as usize)?;
        if change.to > change.from {
            policy.check_requester(person)?;
        }
        Ok(())
    }

    /// Servers beyond the approved budget by the tiers on the whole new budget; servers given
    /// back by the release policy; within the budget, at once.
    pub(super) fn fleet_change_approvals(
        &self,
        person: &Person,
        change: &FleetChangeSpec,
        monthly: Yuan,
    ) -> Result<u32, Refusal> {
        let policy = &self.settings().policy;
        let for_release = match change.releases() {
            0 => 0,
            n => match policy.release_rule(person, change.owner, BillingKind::Spot, n as usize)? {
                ReleaseRule::AtOnce => 0,
                ReleaseRule::Approval => policy.approvals_needed(Yuan::ZERO)?.max(1),
            },
        };
        let for_budget = match change.beyond_approved() {
            0 => 0,
            beyond => {
                let per_server = monthly.amount() / rust_decimal::Decimal::from(beyond);
                let whole = Yuan::new((per_server * rust_decimal::Decimal::from(change.to)).round_dp(2));
                policy.approvals_needed(whole)?
            }
        };
        Ok(for_release.max(for_budget))
    }

    /// Under the filing lock: the fleet still keeps what the change was asked from, and no other
    /// change of it is open.
    pub(super) async fn claim_fleet_change(&self, tx: &mut Session, change: &FleetChangeSpec) -> Result<(), DeskError> {
        tx.lock_monthly_caps().await?;
        match tx.fleet(change.fleet).await? {
            Some(fleet) if fleet.state == FleetState::Running && fleet.desired == change.from => {}
            _ => {
                return Err(DeskError::refused(format!(
                    "Fleet `{}` changed while this was asked for; ask again.",
                    change.name
                )));
            }
        }
        for open in tx.open_requests(OperationKind::FleetChange).await? {
            // A release may be asked for while a scale waits (which it then makes moot); two
            // releases may not.
            if let Operation::FleetChange(other) = &open.operation
                && other.fleet == change.fleet
                && (!change.end || other.end)
            {
                return Err(DeskError::refused(format!(
                    "Fleet `{}` has a change waiting already: request #{}, which is {}.",
                    change.name,
                    open.id,
                    open.state.label()
                )));
            }
        }
        Ok(())
    }

    /// A change is carried out only on the fleet it was asked of: still running, keeping what it
    /// kept then (a time to live may have ended it since).
    pub(super) async fn execute_fleet_change(&self, change: &FleetChangeSpec) -> Executed {
        let fleet = match self.store().session().await {
            Ok(mut session) => session.fleet(change.fleet).await,
            Err(error) => Err(error),
        };
        match fleet {
            Ok(Some(fleet)) if fleet.state == FleetState::Running && fleet.desired == change.from => Executed::Done {
                resources: Vec::new(),
                tencent_request_id: None,
            },
            Ok(_) => Executed::Refused(ApiError::transport(
                ErrorKind::Other,
                FLEET_CHANGED,
                format!(
                    "Fleet `{}` changed since this was asked for (it was released, or keeps another number now); \
                     nothing was changed. Ask again.",
                    change.name
                ),
            )),
            Err(error) => Executed::unclear("DatabaseUnavailable", format!("the fleet could not be read: {error}")),
        }
    }

    /// Servers beyond the approved budget are priced like the fleet's; the rest costs nothing new.
    pub(super) async fn assess_fleet_change(&self, change: &FleetChangeSpec) -> Result<Assessment, DeskError> {
        let beyond = change.beyond_approved();
        if beyond == 0 {
            return Ok(Assessment {
                quote: Quote::Refund { total: Yuan::ZERO },
                quote_request_id: None,
                dry_run: Ok(String::new()),
            });
        }
        let record = self.view(change.fleet).await?.record;
        let Operation::Fleet(fleet) = &record.operation else {
            return Err(DeskError::NotFound(change.fleet));
        };
        let mut assessment = self.assess_purchase(&fleet.template).await?;
        assessment.quote = times(&assessment.quote, beyond);
        // The fleet's servers launch and wait by themselves: its dry run does not hold a change.
        assessment.dry_run = Ok(String::new());
        Ok(assessment)
    }

    /// The fleet keeps the new count: new slots, or the newest servers given back; or every
    /// server given back and the fleet ended.
    pub(super) async fn record_fleet_change(
        &self,
        tx: &mut Session,
        change: &FleetChangeSpec,
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        tx.lock_request(change.fleet).await?;
        let Some(mut fleet) = tx.fleet(change.fleet).await? else {
            return Err(DeskError::NotFound(change.fleet));
        };
        // Under the fleet's lock: a time to live may have ended it since the change was checked.
        // Nothing is stored; the change is looked at again, and refused, on its next attempt.
        if fleet.state != FleetState::Running || fleet.desired != change.from {
            return Err(DeskError::refused(format!(
                "Fleet `{}` changed while this change was being carried out.",
                change.name
            )));
        }
        let mut slots = tx.fleet_slots(change.fleet).await?;
        let keeping = slots.iter().filter(|s| s.state != SlotState::Retiring).count() as u32;
        let to = change.to;
        if to > keeping {
            let first = fleet.next_slot;
            tx.add_slots(change.fleet, first, to - keeping, now).await?;
        } else {
            // Empty slots go first, then launches, then the newest servers.
            slots.retain(|s| s.state != SlotState::Retiring);
            slots.sort_by_key(|s| {
                let rank = match s.state {
                    SlotState::Empty => 0,
                    SlotState::Launching => 1,
                    _ => 2,
                };
                (rank, std::cmp::Reverse(s.filled_at), std::cmp::Reverse(s.slot))
            });
            for slot in slots.iter_mut().take((keeping - to) as usize) {
                slot.state = if slot.state == SlotState::Empty {
                    SlotState::Retired
                } else {
                    SlotState::Retiring
                };
                tx.save_slot(slot, now).await?;
            }
        }
        fleet.desired = to;
        fleet.approved = fleet.approved.max(to);
        if change.end {
            fleet.state = FleetState::Ending;
            fleet.waiting = None;
            fleet.next_try_at = None;
        }
        tx.save_fleet(&fleet, now).await?;
        tx.bump_card(change.fleet).await?;
        self.wake_fleets();
        Ok(())
    }

    /// The fleet named `name` (running, or else the newest of that name), with its card's view.
    pub async fn fleet_view(&self, name: &str) -> Result<RequestView, DeskError> {
        let name = FleetName::parse(name).map_err(|problem| invalid("name", problem))?;
        let mut session = self.store().session().await?;
        let Some(fleet) = session.fleet_named(name.as_str()).await? else {
            return Err(invalid("name", format!("there is no fleet named `{name}`")));
        };
        self.view_in(&mut session, fleet.request_id).await
    }
}

/// A fleet ends its filing active: it keeps its servers from now on.
pub(super) fn finish_fleet(record: &RequestRecord, fleet: &FleetSpec) -> Finish {
    Finish {
        state: RequestState::Active,
        action: AuditAction::FleetStarted,
        event: Event::FleetStarted {
            request_id: record.id,
            name: fleet.name.to_string(),
            count: fleet.count,
        },
    }
}

/// A fleet change is done once the fleet keeps the new count.
pub(super) fn finish_change(record: &RequestRecord, change: &FleetChangeSpec) -> Finish {
    Finish {
        state: RequestState::Done,
        action: AuditAction::FleetChanged,
        event: Event::FleetChanged {
            request_id: record.id,
            fleet: change.fleet,
            name: change.name.to_string(),
            from: change.from,
            to: change.to,
            end: change.end,
        },
    }
}

/// The tag that names the launch a fleet's server came from.
pub(in crate::desk) const SLOT_TAG: &str = "cvmbot-slot";

/// The `cvmbot-slot` value of a slot's current launch: `fleet/slot/generation`.
pub(in crate::desk) fn slot_tag(slot: &SlotRecord) -> String {
    format!("{}/{}/{}", slot.fleet_id, slot.slot, slot.generation)
}

/// RunInstances for one of a fleet's servers: `slot`'s launch at its placement, with `token`,
/// tagged with the fleet's request, its name and the launch.
pub(in crate::desk) fn fleet_run_request(
    fleet: &FleetSpec,
    slot: &SlotRecord,
    token: String,
) -> crate::tencent::cvm::RunInstancesRequest {
    let mut request = run_request(
        &fleet.server_at(slot.placement as usize),
        Some(slot.fleet_id),
        Some(token),
    );
    let tags = [("cvmbot-fleet", fleet.name.to_string()), (SLOT_TAG, slot_tag(slot))];
    request.tag_specification.iter_mut().flatten().for_each(|spec| {
        spec.tags
            .extend(tags.iter().map(|(key, value)| crate::tencent::cvm::Tag {
                key: (*key).into(),
                value: value.clone(),
            }))
    });
    request
}
