//! Tending fleets (run by the `fleets` worker, woken by the tracker when a fleet's server starts
//! running or is gone). One pass over a fleet:
//!
//! 1. **Settle**: slots whose server the tracker found reclaimed, terminated outside cvmbot or
//!    failed to launch become empty again, one generation on; a time to live that ended turns
//!    every slot to retiring.
//! 2. **Launch** the empty slots, a few at a time: each slot is marked `launching` with its
//!    placement *before* RunInstances is sent, with the ClientToken of the fleet, the slot and its
//!    generation. A lost answer leaves it `launching`, and the same token is sent again (Tencent
//!    answers a repeat with the same server), so no retry or restart fills a slot twice and the
//!    fleet never runs more servers than it has slots. Only a refusal, which proves nothing was
//!    launched, moves the generation on: no stock or a market above the bid moves the slot to
//!    the next placement; when none can launch the fleet waits, backing off.
//! 3. **Retire** what a scale-down or a release gave back: a look at the servers first
//!    (TerminateInstances has no ClientToken), then TerminateInstances for those still in use.
//! 4. **Tell**: what happened since the last summary, as one message in the fleet's thread.

use super::keys::{AuditAction, DedupeKey, FleetNews};
use super::operations::{SLOT_TAG, fleet_run_request, slot_tag};
use super::tracking::NEW_INSTANCE_GRACE;
use super::vote::enqueue;
use super::{Desk, DeskError, Event};
use crate::domain::fleet::slot_token;
use crate::domain::{FleetSpec, Operation, RequestId};
use crate::money::Yuan;
use crate::store::to_ms;
use crate::store::{AuditEntry, FleetRecord, FleetState, InstanceRecord, NewInstance, SlotRecord, SlotState};
use crate::tencent::cvm::TerminateInstancesRequest;
use crate::tencent::enums::{InstanceState, OperationState};
use crate::tencent::{ApiError, ErrorKind};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tracing::{info, instrument, warn};

/// Launches sent together.
const LAUNCHES_AT_ONCE: usize = 10;
/// A summary waits this long for more news unless the fleet is whole again.
const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// What a pass over the fleets did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetPass {
    /// Fleets tended.
    pub fleets: usize,
    /// RunInstances calls sent (resends included).
    pub launches: usize,
    /// Servers given back.
    pub retired: usize,
    /// Fleets whose pass failed (tried again next pass).
    pub failed: usize,
}

/// A fleet being tended: as stored, what it keeps, and what one server burns per hour as quoted
/// at approval (read once per pass).
struct Tending {
    fleet: FleetRecord,
    spec: FleetSpec,
    per_server: Yuan,
}

/// What storing a chunk of launches found.
#[derive(Default)]
struct LaunchReport {
    /// Slots refused for no stock or a market above the bid (tried again at the next placement).
    blocked_slots: Vec<u32>,
    /// The placements that launched a server.
    filled_at: Vec<usize>,
    /// The fleet waits now.
    waits: bool,
}

/// How one launch went.
enum Launched {
    /// The servers the answer named (the first fills the slot).
    Filled(Vec<String>),
    /// Refused for no stock or a market above the bid: nothing launched, this placement can't now.
    Blocked(ApiError),
    /// Refused otherwise: nothing launched; the fleet waits.
    Refused(ApiError),
    /// Unknown: sent again with the same token.
    Unknown,
}

impl Desk {
    /// Tends every live fleet once.
    pub async fn fleets_due(&self) -> Result<FleetPass, DeskError> {
        let fleets = self.store().session().await?.live_fleets().await?;
        let mut pass = FleetPass::default();
        for fleet in fleets {
            pass.fleets += 1;
            if let Err(error) = self.tend_fleet(fleet.request_id, &mut pass).await {
                pass.failed += 1;
                warn!(fleet = %fleet.request_id, error = %format!("{error:#}"), "tending a fleet failed; next pass tries again");
            }
        }
        Ok(pass)
    }

    #[instrument(skip_all, fields(fleet = %id))]
    async fn tend_fleet(&self, id: RequestId, pass: &mut FleetPass) -> Result<(), DeskError> {
        let Some(tending) = self.settle_fleet(id).await? else {
            return Ok(());
        };
        let now = self.clock().now();
        let fleet = &tending.fleet;
        if fleet.state == FleetState::Running && fleet.next_try_at.is_none_or(|at| at <= now) {
            pass.launches += self.launch_slots(&tending).await?;
        }
        pass.retired += self.retire_slots(&tending).await?;
        self.tell_fleet(id).await
    }

    /// Step 1: what the tracker found, and the end of a time to live.
    async fn settle_fleet(&self, id: RequestId) -> Result<Option<Tending>, DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let Some(record) = tx.lock_request(id).await? else {
            return Ok(None);
        };
        let per_server = price_per_server(&record);
        let Operation::Fleet(spec) = record.operation else {
            return Ok(None);
        };
        let Some(mut fleet) = tx.fleet(id).await? else {
            return Ok(None);
        };
        let instances: HashMap<String, InstanceRecord> = tx
            .fleet_instances(id)
            .await?
            .into_iter()
            .map(|i| (i.instance_id.clone(), i))
            .collect();
        let mut changed = false;
        let mut slots = tx.fleet_slots(id).await?;
        for slot in &mut slots {
            let Some(instance) = slot.instance_id.as_ref().and_then(|i| instances.get(i)) else {
                continue;
            };
            let ended = instance.gone_at.is_some()
                || instance.released_at.is_some()
                || instance.state == InstanceState::LaunchFailed;
            if !ended {
                continue;
            }
            match slot.state {
                SlotState::Filled => {
                    if instance.running_at.is_some() {
                        fleet.reclaimed_total += 1;
                        fleet.untold_reclaimed += 1;
                        fleet.last_reclaim_at = Some(now);
                    } else {
                        fleet.untold_failed += 1;
                    }
                    empty(slot);
                }
                SlotState::Retiring => slot.state = SlotState::Retired,
                _ => continue,
            }
            tx.save_slot(slot, now).await?;
            changed = true;
        }
        if fleet.state == FleetState::Running && fleet.ends_at.is_some_and(|end| end <= now) {
            info!("the fleet's time to live ended; its servers are given back");
            fleet.state = FleetState::Ending;
            fleet.desired = 0;
            fleet.waiting = None;
            fleet.next_try_at = None;
            for slot in &mut slots {
                slot.state = match slot.state {
                    SlotState::Empty | SlotState::Retired => SlotState::Retired,
                    _ => SlotState::Retiring,
                };
                tx.save_slot(slot, now).await?;
            }
            tx.insert_audit(&AuditEntry {
                request_id: Some(id),
                at: now,
                actor_id: None,
                actor_name: "cvmbot".into(),
                action: AuditAction::LifetimeEnded.to_string(),
                from_state: None,
                to_state: None,
                detail: Some("the fleet's time to live ended; its servers are given back".into()),
                tencent_request_id: None,
            })
            .await?;
            enqueue(
                &mut tx,
                &DedupeKey::fleet(id, FleetNews::Ended),
                &Event::FleetEnded {
                    request_id: id,
                    name: fleet.name.clone(),
                },
                now,
            )
            .await?;
            changed = true;
        }
        if fleet.state == FleetState::Ending && slots.iter().all(|s| s.state == SlotState::Retired) {
            fleet.state = FleetState::Ended;
            fleet.ended_at = Some(now);
            changed = true;
        }
        if changed {
            fleet.news_since = fleet.news_since.or(Some(now));
            tx.save_fleet(&fleet, now).await?;
            tx.bump_card(id).await?;
        }
        tx.commit().await?;
        if changed {
            self.wake_dispatcher();
        }
        Ok(Some(Tending {
            fleet,
            spec,
            per_server,
        }))
    }

    /// Step 2: launches for the empty slots and resends for the ones whose answer was lost.
    /// A placement not yet proven this pass is tried with one launch first, so a placement with
    /// no stock costs one refused call, not one per slot; a placement the policy no longer allows
    /// is never tried. Returns how many calls were sent.
    async fn launch_slots(&self, tending: &Tending) -> Result<usize, DeskError> {
        let (id, spec) = (tending.fleet.request_id, &tending.spec);
        let policy = &self.settings().policy;
        let mut blocked: Vec<bool> = (0..spec.placements().len())
            .map(|p| policy.check_spec(&spec.server_at(p)).is_err())
            .collect();
        let mut proven = vec![false; blocked.len()];
        let mut sent = 0;
        let mut queue: VecDeque<u32> = self
            .store()
            .session()
            .await?
            .fleet_slots(id)
            .await?
            .iter()
            .filter(|s| matches!(s.state, SlotState::Empty | SlotState::Launching))
            .map(|s| s.slot)
            .collect();
        if !queue.is_empty() && blocked.iter().all(|b| *b) {
            let reason = "the policy no longer allows any of the fleet's placements (allowed zones, instance types or \
                          billing changed); an admin can release the fleet or widen the policy."
                .to_owned();
            let now = self.clock().now();
            let mut tx = self.store().begin().await?;
            tx.lock_request(id).await?;
            if let Some(mut stored) = tx.fleet(id).await? {
                self.start_waiting(&mut tx, &mut stored, reason, now).await?;
                tx.save_fleet(&stored, now).await?;
                tx.bump_card(id).await?;
            }
            tx.commit().await?;
            self.wake_dispatcher();
            return Ok(0);
        }
        while !queue.is_empty() {
            let Some(open) = blocked.iter().position(|b| !b) else {
                break;
            };
            let size = if proven[open] { LAUNCHES_AT_ONCE } else { 1 };
            let chunk: Vec<u32> = queue.drain(..size.min(queue.len())).collect();
            // Marked `launching`, with the placement, before anything is sent.
            let now = self.clock().now();
            let mut tx = self.store().begin().await?;
            tx.lock_request(id).await?;
            let mut launching = Vec::new();
            for mut slot in tx.fleet_slots(id).await? {
                if !chunk.contains(&slot.slot) {
                    continue;
                }
                match slot.state {
                    SlotState::Empty => {
                        slot.state = SlotState::Launching;
                        slot.placement = open as u32;
                        tx.save_slot(&slot, now).await?;
                        slot.updated_at = now;
                        launching.push((slot, false));
                    }
                    SlotState::Launching => launching.push((slot, true)),
                    _ => {}
                }
            }
            tx.commit().await?;
            crate::crashpoint::here("fleet:launching");
            let answers =
                futures_util::future::join_all(launching.iter().map(|(slot, resent)| self.launch(spec, slot, *resent)))
                    .await;
            sent += launching.len();
            crate::crashpoint::here("fleet:sent");
            let slots: Vec<SlotRecord> = launching.into_iter().map(|(slot, _)| slot).collect();
            let report = self
                .record_launches(tending, &slots, answers, &mut blocked, true)
                .await?;
            for placement in report.filled_at {
                proven[placement] = true;
            }
            queue.extend(report.blocked_slots);
            if report.waits {
                break;
            }
        }
        Ok(sent)
    }

    /// One slot's RunInstances, with its generation's token. A refusal of a resend does not prove
    /// the first send launched nothing: the slot's tag is looked up first, and until the listing
    /// has had time to show a server, the launch stays unknown.
    async fn launch(&self, spec: &FleetSpec, slot: &SlotRecord, resent: bool) -> Launched {
        let token = slot_token(self.installation_id(), slot.fleet_id, slot.slot, slot.generation);
        let request = fleet_run_request(spec, slot, token);
        let refused = match self.tencent().run_instances(spec.template.region(), &request).await {
            Ok(answer) if !answer.data.instance_id_set.is_empty() => {
                if answer.data.instance_id_set.len() > 1 {
                    warn!(
                        slot = slot.slot,
                        named = answer.data.instance_id_set.len(),
                        request_id = %answer.request_id,
                        "a fleet launch's answer named more than one server; the others are given back"
                    );
                }
                return Launched::Filled(answer.data.instance_id_set);
            }
            Ok(answer) => {
                warn!(slot = slot.slot, request_id = %answer.request_id,
                    "a fleet launch's answer named no server; sent again with the same token");
                return Launched::Unknown;
            }
            Err(error) if error.is_retryable() || error.outcome_unknown() => {
                info!(slot = slot.slot, %error, "a fleet launch's outcome is unknown; sent again with the same token");
                return Launched::Unknown;
            }
            Err(error) => error,
        };
        if resent {
            match self.find_slot_server(spec, slot).await {
                Ok(Some(instance_id)) => return Launched::Filled(vec![instance_id]),
                Ok(None) if self.clock().now() - slot.updated_at >= NEW_INSTANCE_GRACE => {}
                Ok(None) | Err(_) => return Launched::Unknown,
            }
        }
        if matches!(refused.kind, ErrorKind::SpotPriceTooLow | ErrorKind::OutOfStock) {
            Launched::Blocked(refused)
        } else {
            Launched::Refused(refused)
        }
    }

    /// The server a slot's launch made, found by its `cvmbot-slot` tag.
    async fn find_slot_server(&self, spec: &FleetSpec, slot: &SlotRecord) -> Result<Option<String>, ApiError> {
        let request = crate::tencent::cvm::DescribeInstancesRequest {
            filters: Some(vec![crate::tencent::cvm::Filter {
                name: format!("tag:{SLOT_TAG}"),
                values: vec![slot_tag(slot)],
            }]),
            limit: Some(10),
            ..Default::default()
        };
        let answer = self
            .tencent()
            .describe_instances_page(spec.template.region(), &request)
            .await?;
        Ok(answer.data.instance_set.into_iter().map(|i| i.instance_id).next())
    }

    /// Stores a chunk's answers in one transaction. A running fleet (`may_wait`) whose launches
    /// can't pass now waits, and says so once. A server is never dropped: one whose slot has
    /// moved on since (or a second one an answer named) gets a slot of its own, to be given back.
    async fn record_launches(
        &self,
        tending: &Tending,
        launching: &[SlotRecord],
        answers: Vec<Launched>,
        blocked: &mut [bool],
        may_wait: bool,
    ) -> Result<LaunchReport, DeskError> {
        let (id, spec, per_server) = (tending.fleet.request_id, &tending.spec, tending.per_server);
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        tx.lock_request(id).await?;
        let mut report = LaunchReport::default();
        let Some(mut stored) = tx.fleet(id).await? else {
            return Ok(report);
        };
        let current: HashMap<u32, SlotRecord> = tx.fleet_slots(id).await?.into_iter().map(|s| (s.slot, s)).collect();
        let mut next_slot = stored.next_slot;
        let mut refusal: Option<(ApiError, usize)> = None;
        let mut all_blocked_by: Option<(ApiError, usize)> = None;
        for (sent, answer) in launching.iter().zip(answers) {
            // A change since (a scale-down) may have retired it; the generation says it is the same launch.
            let slot = current.get(&sent.slot).cloned().filter(|slot| {
                slot.generation == sent.generation && matches!(slot.state, SlotState::Launching | SlotState::Retiring)
            });
            let placement = (sent.placement as usize).min(spec.placements().len() - 1);
            let server = |instance_id: &str, fleet_slot: u32| NewInstance {
                instance_id: instance_id.to_owned(),
                request_id: id,
                region: spec.template.region().to_owned(),
                zone: spec.placements()[placement].zone.as_str().to_owned(),
                billing: crate::domain::BillingKind::Spot,
                hourly_price: per_server,
                wants_public_ip: spec.template.bandwidth().mbps > 0,
                now,
                poll_interval: self.settings().first_poll,
                fleet_slot: Some(fleet_slot),
            };
            match answer {
                Launched::Filled(instance_ids) => {
                    let mut extra = instance_ids.as_slice();
                    if let Some(mut slot) = slot {
                        let first = &instance_ids[0];
                        extra = &instance_ids[1..];
                        tx.insert_instances(&[server(first, slot.slot)]).await?;
                        if slot.filled_at.is_some() {
                            stored.refilled_total += 1;
                            stored.last_refill_at = Some(now);
                        }
                        slot.instance_id = Some(first.clone());
                        slot.filled_at = Some(now);
                        if slot.state == SlotState::Launching {
                            slot.state = SlotState::Filled;
                        }
                        tx.save_slot(&slot, now).await?;
                        stored.untold_refilled += 1;
                        stored.news_since = stored.news_since.or(Some(now));
                        stored.waiting = None;
                        stored.waiting_since = None;
                        stored.backoff = Duration::ZERO;
                        report.filled_at.push(placement);
                    }
                    for instance_id in extra {
                        warn!(instance = %instance_id, "a fleet server no slot is waiting for; it is given back");
                        tx.add_slots(id, next_slot, 1, now).await?;
                        tx.insert_instances(&[server(instance_id, next_slot)]).await?;
                        let orphan = SlotRecord {
                            fleet_id: id,
                            slot: next_slot,
                            generation: 0,
                            placement: placement as u32,
                            state: SlotState::Retiring,
                            instance_id: Some(instance_id.clone()),
                            filled_at: Some(now),
                            updated_at: now,
                        };
                        tx.save_slot(&orphan, now).await?;
                        next_slot += 1;
                    }
                }
                Launched::Blocked(error) => {
                    let Some(mut slot) = slot else { continue };
                    if let Some(b) = blocked.get_mut(placement) {
                        *b = true;
                    }
                    if blocked.iter().all(|b| *b) {
                        all_blocked_by = Some((error, placement));
                    }
                    next_generation(&mut slot);
                    tx.save_slot(&slot, now).await?;
                    report.blocked_slots.push(slot.slot);
                }
                Launched::Refused(error) => {
                    let Some(mut slot) = slot else { continue };
                    refusal = Some((error, placement));
                    next_generation(&mut slot);
                    tx.save_slot(&slot, now).await?;
                }
                Launched::Unknown => {}
            }
        }
        let waits = refusal.or(all_blocked_by).filter(|_| may_wait);
        report.waits = waits.is_some();
        if let Some((error, placement)) = &waits {
            let server = spec.server_at(*placement);
            let explanation = super::cloud::explain_failure(self.tencent(), &server, error).await;
            let reason = if error.kind == ErrorKind::SpotPriceTooLow || error.kind == ErrorKind::OutOfStock {
                if spec.fallbacks.is_empty() {
                    explanation
                } else {
                    format!("no placement can launch now; the last: {explanation}")
                }
            } else {
                explanation
            };
            self.start_waiting(&mut tx, &mut stored, reason, now).await?;
        }
        tx.save_fleet(&stored, now).await?;
        tx.bump_card(id).await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(report)
    }

    /// The fleet waits (backing off) for `reason`, and says so once per spell of waiting.
    async fn start_waiting(
        &self,
        tx: &mut crate::store::Session,
        stored: &mut FleetRecord,
        reason: String,
        now: time::OffsetDateTime,
    ) -> Result<(), DeskError> {
        let settings = self.settings();
        stored.backoff = if stored.backoff.is_zero() {
            settings.keep_trying_interval
        } else {
            (stored.backoff * 2).min(settings.keep_trying_max_interval)
        };
        stored.next_try_at = Some(now + stored.backoff);
        if stored.waiting.is_none() {
            stored.waiting_since = Some(now);
            enqueue(
                tx,
                &DedupeKey::fleet(stored.request_id, FleetNews::Waiting(to_ms(now))),
                &Event::FleetWaiting {
                    request_id: stored.request_id,
                    name: stored.name.clone(),
                    reason: reason.clone(),
                    next_try_at: now + stored.backoff,
                },
                now,
            )
            .await?;
        }
        stored.waiting = Some(reason);
        Ok(())
    }

    /// Step 3: servers given back. Returns how many were.
    async fn retire_slots(&self, tending: &Tending) -> Result<usize, DeskError> {
        let (fleet, spec) = (&tending.fleet, &tending.spec);
        let id = fleet.request_id;
        let retiring: Vec<SlotRecord> = self
            .store()
            .session()
            .await?
            .fleet_slots(id)
            .await?
            .into_iter()
            .filter(|s| s.state == SlotState::Retiring)
            .collect();
        if retiring.is_empty() {
            return Ok(0);
        }
        // A launch whose answer was lost is not sent again (that could buy a server only to give
        // it back): its server is looked for by its tag, and once the listing has had time to
        // show one, none means nothing was launched.
        let unresolved: Vec<SlotRecord> = retiring.iter().filter(|s| s.instance_id.is_none()).cloned().collect();
        if !unresolved.is_empty() {
            let now = self.clock().now();
            let found =
                futures_util::future::join_all(unresolved.iter().map(|slot| self.find_slot_server(spec, slot))).await;
            let answers: Vec<Launched> = unresolved
                .iter()
                .zip(found)
                .map(|(slot, found)| match found {
                    Ok(Some(instance_id)) => Launched::Filled(vec![instance_id]),
                    Ok(None) if now - slot.updated_at >= NEW_INSTANCE_GRACE => Launched::Refused(ApiError::transport(
                        ErrorKind::NotFound,
                        "NothingLaunched",
                        "no server carries the launch's tag",
                    )),
                    Ok(None) | Err(_) => Launched::Unknown,
                })
                .collect();
            let mut blocked = vec![false; spec.placements().len()];
            // Nothing launched: the slot is retired with nothing to give back.
            self.record_launches(tending, &unresolved, answers, &mut blocked, false)
                .await?;
        }
        let ids: Vec<String> = retiring.iter().filter_map(|s| s.instance_id.clone()).collect();
        let rows: HashMap<String, InstanceRecord> = self
            .store()
            .session()
            .await?
            .fleet_instances(id)
            .await?
            .into_iter()
            .map(|i| (i.instance_id.clone(), i))
            .collect();
        let now = self.clock().now();
        // Tencent's listing lags a new server: one missing from it is gone only once it is old.
        let listed_by_now = |instance_id: &String| {
            rows.get(instance_id)
                .is_none_or(|row| now - row.created_at >= NEW_INSTANCE_GRACE)
        };
        let mut done: Vec<String> = Vec::new();
        for chunk in ids.chunks(100) {
            let seen = match self.tencent().describe_instances(&fleet.region, chunk).await {
                Ok(seen) => seen,
                Err(error) => {
                    info!(%error, "could not look at a fleet's servers to give back; next pass looks again");
                    break;
                }
            };
            let mut to_send = Vec::new();
            for instance_id in chunk {
                match seen.iter().find(|i| &i.instance_id == instance_id) {
                    None if listed_by_now(instance_id) => done.push(instance_id.clone()),
                    None => {}
                    Some(i) if i.latest_operation_state == Some(OperationState::Operating) => {}
                    Some(i) => match &i.instance_state {
                        Some(InstanceState::Terminating | InstanceState::LaunchFailed) => {
                            done.push(instance_id.clone())
                        }
                        None | Some(InstanceState::Unknown(_)) => {}
                        Some(_) => to_send.push(instance_id.clone()),
                    },
                }
            }
            if to_send.is_empty() {
                continue;
            }
            let request = TerminateInstancesRequest {
                instance_ids: to_send.clone(),
                ..Default::default()
            };
            info!(servers = to_send.len(), "giving a fleet's servers back");
            match self.tencent().terminate(&fleet.region, &request).await {
                Ok(_) => done.extend(to_send),
                Err(error) if error.is_retryable() || error.outcome_unknown() => {
                    info!(%error, "TerminateInstances for a fleet's servers went unanswered; looked at again next pass");
                }
                Err(error) => {
                    warn!(%error, "Tencent Cloud refused to take a fleet's servers back; tried again next pass")
                }
            }
        }
        if done.is_empty() {
            return Ok(0);
        }
        let mut tx = self.store().begin().await?;
        tx.lock_request(id).await?;
        for mut slot in tx.fleet_slots(id).await? {
            if slot.state == SlotState::Retiring && slot.instance_id.as_ref().is_some_and(|i| done.contains(i)) {
                slot.state = SlotState::Retired;
                tx.save_slot(&slot, now).await?;
            }
        }
        tx.mark_released(&done, id, now, true).await?;
        tx.bump_card(id).await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(done.len())
    }

    /// Step 4: one summary of what happened since the last, once the fleet is whole again or a
    /// while after the last summary.
    async fn tell_fleet(&self, id: RequestId) -> Result<(), DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        tx.lock_request(id).await?;
        let Some(mut fleet) = tx.fleet(id).await? else {
            return Ok(());
        };
        if fleet.untold_reclaimed + fleet.untold_refilled + fleet.untold_failed == 0 {
            return Ok(());
        }
        let slots = tx.fleet_slots(id).await?;
        let instances = tx.fleet_instances(id).await?;
        let running = running_servers(&slots, &instances);
        let whole = running == fleet.desired;
        // Counted from the oldest news not told: after a quiet spell, the first loss waits for
        // the rest of its wave and the refills.
        let due = now - fleet.news_since.unwrap_or(now) >= SUMMARY_EVERY;
        if !whole && !due {
            return Ok(());
        }
        enqueue(
            &mut tx,
            &DedupeKey::fleet(id, FleetNews::Summary(fleet.news)),
            &Event::FleetNews {
                request_id: id,
                name: fleet.name.clone(),
                reclaimed: fleet.untold_reclaimed,
                launched: fleet.untold_refilled,
                failed: fleet.untold_failed,
                running,
                desired: fleet.desired,
            },
            now,
        )
        .await?;
        fleet.news += 1;
        fleet.untold_reclaimed = 0;
        fleet.untold_refilled = 0;
        fleet.untold_failed = 0;
        fleet.told_at = Some(now);
        fleet.news_since = None;
        tx.save_fleet(&fleet, now).await?;
        tx.bump_card(id).await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(())
    }
}

/// The slot's launch is proven not to have happened: the next one is a new generation, and a
/// slot being given back has nothing left to give.
fn next_generation(slot: &mut SlotRecord) {
    slot.generation += 1;
    slot.state = if slot.state == SlotState::Retiring && slot.instance_id.is_none() {
        SlotState::Retired
    } else {
        SlotState::Empty
    };
}

/// The slot's server is gone: empty again, one generation on, first choice first (when it was
/// last filled is kept: its next server is a refill).
fn empty(slot: &mut SlotRecord) {
    slot.generation += 1;
    slot.placement = 0;
    slot.state = SlotState::Empty;
    slot.instance_id = None;
}

/// Servers filling slots that Tencent shows RUNNING.
pub(super) fn running_servers(slots: &[SlotRecord], instances: &[InstanceRecord]) -> u32 {
    slots
        .iter()
        .filter(|s| s.state == SlotState::Filled)
        .filter(|s| {
            instances.iter().any(|i| {
                Some(&i.instance_id) == s.instance_id.as_ref()
                    && i.state == InstanceState::Running
                    && i.gone_at.is_none()
            })
        })
        .count() as u32
}

/// What one of the fleet's servers burns per hour, as quoted when the fleet was approved (the
/// market price then; the bid is the most it can be).
fn price_per_server(record: &crate::store::RequestRecord) -> Yuan {
    let count = match &record.operation {
        Operation::Fleet(fleet) => fleet.count.max(1),
        _ => 1,
    };
    let burn = record.quote.hourly_burn().amount() / rust_decimal::Decimal::from(count);
    Yuan::new(burn.round_dp(6))
}
