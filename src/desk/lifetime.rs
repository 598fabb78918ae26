//! Times to live: a purchase's servers are released when its lifetime ends (the purchase's
//! approval covers that release), the owner is reminded before, and may extend it: within the
//! policy's maximum at once, beyond it by an extension request someone else approves.
//!
//! Each step is one transaction under the purchase's row lock that records what it did (a
//! reminder row, the lifetime's end) with the news it raises, so a pass repeated after a crash or
//! by a second replica finds the work done and does nothing twice.

use super::create::Filing;
use super::keys::{AuditAction, DedupeKey, RequestNews};
use super::outbox::notice_row;
use super::{Desk, DeskError, Event, Origin, RequestView};
use crate::domain::{BillingKind, ExtendSpec, Operation, Person, PurchaseSpec, Quote, ReleaseSpec, RequestId, UserId};
use crate::money::Yuan;
use crate::store::{AuditEntry, InstanceRecord, LifetimeRecord, Session};
use std::time::Duration;
use time::OffsetDateTime;
use tracing::{info, instrument, warn};

/// How many lifetimes one pass looks at.
const PASS_LIMIT: i64 = 200;

/// What an Extend did.
#[derive(Debug)]
pub enum Extension {
    /// The end moved at once, within the policy.
    Extended {
        /// The new end.
        until: OffsetDateTime,
    },
    /// Past the policy's maximum: an extension request waits for an approver.
    Filed(Box<RequestView>),
}

/// What a lifetimes pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LifetimePass {
    /// Reminders queued.
    pub reminded: usize,
    /// Lifetimes that ended (their release filed, or nothing left).
    pub ended: usize,
    /// Still-running reports queued.
    pub reported: usize,
}

impl Desk {
    /// Only the buyer or an admin changes a purchase's lifetime.
    pub(super) fn may_change_lifetime(&self, person: &Person, owner: UserId) -> Result<(), DeskError> {
        if self.settings().policy.may_cancel(person, owner) {
            Ok(())
        } else {
            Err(DeskError::refused(
                "Only the person who bought these servers, or an admin, can change their time to live.",
            ))
        }
    }

    /// The lifetime of purchase `purchase` that has not ended, or why there is none.
    pub(super) async fn open_lifetime(
        &self,
        session: &mut Session,
        purchase: RequestId,
    ) -> Result<LifetimeRecord, DeskError> {
        match session.lifetime(purchase).await? {
            None => Err(DeskError::refused(format!(
                "Request #{purchase} has no time to live: its servers are not released automatically."
            ))),
            Some(lifetime) if lifetime.ended_at.is_some() => Err(DeskError::refused(format!(
                "The time to live of request #{purchase} has ended already{}.",
                lifetime
                    .release_request
                    .map(|r| format!(" (release request #{r})"))
                    .unwrap_or_default()
            ))),
            Some(lifetime) => Ok(lifetime),
        }
    }

    /// Extends purchase `purchase`'s time to live by `by` (absent: the billing mode's default),
    /// from its current end or from now if that is past. Within the policy's maximum it moves at
    /// once; beyond, an extension request is filed for an approver.
    #[instrument(skip_all, fields(purchase = %purchase))]
    pub async fn extend(
        &self,
        person: &Person,
        purchase: RequestId,
        by: Option<Duration>,
        origin: Origin,
    ) -> Result<Extension, DeskError> {
        let mut session = self.store().session().await?;
        let record = session.request(purchase).await?.ok_or(DeskError::NotFound(purchase))?;
        let Operation::Buy(spec) = &record.operation else {
            return Err(DeskError::refused(format!(
                "#{purchase} is a {} request; only a purchase has a time to live.",
                record.operation.kind().label()
            )));
        };
        self.may_change_lifetime(person, record.requester_id)?;
        let lifetime = self.open_lifetime(&mut session, purchase).await?;
        drop(session);
        let now = self.clock().now();
        let ttl = &self.settings().parse.ttl;
        let kind = spec.billing().kind();
        let step = by.unwrap_or_else(|| ttl.extension_step(kind));
        if !(crate::domain::lifetime::MIN_TTL..=crate::domain::lifetime::MAX_TTL).contains(&step) {
            return Err(DeskError::Invalid(crate::domain::SpecErrors(vec![
                crate::domain::FieldError {
                    field: "by".into(),
                    problem: "is a duration from 10m to 1830d, such as 1d or 12h".into(),
                },
            ])));
        }
        let until = lifetime.release_at.max(now) + step;
        let within = ttl
            .latest_without_approval(kind, lifetime.started_at)
            .is_none_or(|latest| until <= latest);
        if !within {
            let extend = ExtendSpec {
                purchase,
                owner: record.requester_id,
                region: spec.region().to_owned(),
                billing: kind,
                until: until.unix_timestamp(),
                per_hour: record.quote.hourly_burn(),
                reason: format!(
                    "keep the servers of #{purchase} past the policy's maximum lifetime of {}",
                    crate::domain::duration::format_duration(ttl.rule(kind).max.unwrap_or_default())
                ),
            };
            let view = self.file(person, Operation::Extend(extend), origin).await?;
            return Ok(Extension::Filed(Box::new(view)));
        }
        let mut tx = self.store().begin().await?;
        tx.lock_request(purchase).await?;
        // Read again under the lock: another press may have moved it, or the end came.
        let lifetime = self.open_lifetime(&mut tx, purchase).await?;
        let until = lifetime.release_at.max(now) + step;
        if ttl
            .latest_without_approval(kind, lifetime.started_at)
            .is_some_and(|latest| until > latest)
        {
            return Err(DeskError::refused(
                "The time to live was extended meanwhile; press Extend again to ask for longer.",
            ));
        }
        tx.extend_lifetime(purchase, until, now).await?;
        tx.insert_audit(&AuditEntry {
            request_id: Some(purchase),
            at: now,
            actor_id: Some(person.id),
            actor_name: person.name.clone(),
            action: AuditAction::Extended.to_string(),
            from_state: None,
            to_state: None,
            detail: Some(format!(
                "servers released at {} instead of {}",
                stamp(until),
                stamp(lifetime.release_at)
            )),
            tencent_request_id: None,
        })
        .await?;
        let event = Event::Extended {
            request_id: purchase,
            by: person.name.clone(),
            release_at: until,
            extension_request: None,
        };
        let key = DedupeKey::request(purchase, RequestNews::Extended(lifetime.extensions + 1));
        tx.enqueue_notification(&notice_row(&key, &event, now)).await?;
        tx.bump_card(purchase).await?;
        tx.commit().await?;
        info!(until = %stamp(until), "time to live extended");
        self.wake_dispatcher();
        Ok(Extension::Extended { until })
    }

    /// One pass over the lifetimes ending soon: reminders that are due, and the releases of
    /// those that ended. Safe to repeat and to run on two replicas at once.
    #[instrument(name = "lifetimes pass", skip_all)]
    pub async fn lifetimes_due(&self) -> Result<LifetimePass, DeskError> {
        let now = self.clock().now();
        let ttl = &self.settings().parse.ttl;
        let horizon = ttl.reminders.first().copied().unwrap_or_default();
        let due = self
            .store()
            .session()
            .await?
            .lifetimes_ending_by(now + horizon, PASS_LIMIT)
            .await?;
        let mut pass = LifetimePass::default();
        for lifetime in due {
            let purchase = lifetime.request_id;
            let outcome = if lifetime.release_at <= now {
                self.end_lifetime(purchase)
                    .await
                    .map(|ended| pass.ended += usize::from(ended))
            } else {
                self.remind(purchase)
                    .await
                    .map(|sent| pass.reminded += usize::from(sent))
            };
            if let Err(error) = outcome {
                warn!(purchase = %purchase, error = %super::Chain(&error), "a lifetime could not be handled; next pass");
            }
        }
        match self.report_still_running(now).await {
            Ok(sent) => pass.reported += sent,
            Err(error) => warn!(error = %super::Chain(&error), "the still-running report failed; next pass"),
        }
        match self.remind_renewals(now).await {
            Ok(sent) => pass.reminded += sent,
            Err(error) => warn!(error = %super::Chain(&error), "renewal reminders could not be handled; next pass"),
        }
        if pass != LifetimePass::default() {
            self.wake_dispatcher();
        }
        Ok(pass)
    }

    /// Once per period (`still_running_every`, counted from Monday 00:00 UTC): each owner hears
    /// what cvmbot bought for them that still runs, where their latest such purchase was filed.
    async fn report_still_running(&self, now: OffsetDateTime) -> Result<usize, DeskError> {
        let every = self.settings().still_running_every;
        if every.is_zero() {
            return Ok(0);
        }
        let monday = time::macros::datetime!(1970-01-05 00:00 UTC);
        let period = ((now - monday).whole_seconds().max(0) as u64 / every.as_secs().max(1)) as i64;
        if *self.inner.still_running_reported.lock().expect("report lock") == Some(period) {
            return Ok(0);
        }
        let instances = self.store().session().await?.instances_in_use().await?;
        let mut by_purchase: std::collections::BTreeMap<RequestId, Vec<InstanceRecord>> = Default::default();
        for instance in instances {
            by_purchase.entry(instance.request_id).or_default().push(instance);
        }
        let mut by_owner: std::collections::BTreeMap<UserId, (RequestId, Vec<super::StillRunningItem>)> =
            Default::default();
        let mut session = self.store().session().await?;
        for (purchase, instances) in by_purchase {
            let Some(record) = session.request(purchase).await? else {
                continue;
            };
            let Operation::Buy(spec) = &record.operation else {
                continue;
            };
            let per_hour = Yuan::new(instances.iter().map(|i| i.hourly_price.amount()).sum());
            let since_purchase = match &record.quote {
                Quote::Prepaid { total, .. } => *total,
                _ => Yuan::new(
                    instances
                        .iter()
                        .map(|i| {
                            let hours = rust_decimal::Decimal::from((now - i.created_at).whole_seconds().max(0))
                                / rust_decimal::Decimal::from(3600);
                            i.hourly_price.amount() * hours
                        })
                        .sum::<rust_decimal::Decimal>()
                        .round_dp(2),
                ),
            };
            let release_at = session
                .lifetime(purchase)
                .await?
                .filter(|l| l.ended_at.is_none())
                .map(|l| l.release_at);
            let item = super::StillRunningItem {
                purchase,
                headline: format!(
                    "{} × {} {} in {}",
                    spec.count(),
                    spec.instance_type(),
                    spec.billing().kind().label(),
                    spec.zone()
                ),
                servers: instances.len() as u32,
                per_hour,
                since_purchase,
                release_at,
            };
            let entry = by_owner.entry(record.requester_id).or_insert((purchase, Vec::new()));
            entry.0 = entry.0.max(purchase);
            entry.1.push(item);
        }
        drop(session);
        let mut sent = 0;
        let mut tx = self.store().begin().await?;
        for (owner, (latest, purchases)) in by_owner {
            let event = Event::StillRunning {
                request_id: latest,
                owner,
                purchases,
            };
            if tx
                .enqueue_notification(&notice_row(&DedupeKey::still_running(owner, period), &event, now))
                .await?
            {
                sent += 1;
            }
        }
        tx.commit().await?;
        *self.inner.still_running_reported.lock().expect("report lock") = Some(period);
        if sent > 0 {
            info!(owners = sent, "still-running reports queued");
        }
        Ok(sent)
    }

    /// Reminders before prepaid periods end: per purchase, the most urgent lead that is due and
    /// not sent for its soonest expiry; for servers that renew themselves, whether the balance
    /// covers a month.
    async fn remind_renewals(&self, now: OffsetDateTime) -> Result<usize, DeskError> {
        let leads = &self.settings().parse.ttl.renewal_reminders;
        let Some(horizon) = leads.first().copied() else {
            return Ok(0);
        };
        let expiring = self
            .store()
            .session()
            .await?
            .prepaid_expiring(now, now + horizon)
            .await?;
        let mut by_purchase: std::collections::BTreeMap<RequestId, Vec<InstanceRecord>> = Default::default();
        for instance in expiring {
            by_purchase.entry(instance.request_id).or_default().push(instance);
        }
        let mut sent = 0;
        for (purchase, instances) in by_purchase {
            let Some(expires_at) = instances.iter().filter_map(|i| i.expires_at).min() else {
                continue;
            };
            let Some(lead) = leads.iter().copied().filter(|lead| expires_at - now <= *lead).min() else {
                continue;
            };
            if self
                .store()
                .session()
                .await?
                .reminder_recorded(purchase, "renewal", expires_at, lead)
                .await?
            {
                continue;
            }
            let ids: Vec<String> = instances.iter().map(|i| i.instance_id.clone()).collect();
            let auto_renew = instances.iter().all(|i| i.auto_renew);
            let shortfall = if auto_renew {
                self.renewal_shortfall(&instances[0].region, &ids).await
            } else {
                None
            };
            let mut tx = self.store().begin().await?;
            let Some(record) = tx.lock_request(purchase).await? else {
                continue;
            };
            if !tx.record_reminder(purchase, "renewal", expires_at, lead, now).await? {
                continue;
            }
            let event = Event::RenewalReminder {
                request_id: purchase,
                owner: record.requester_id,
                instance_ids: ids,
                expires_at,
                auto_renew,
                shortfall,
            };
            let key = DedupeKey::request(
                purchase,
                RequestNews::RenewalReminder(expires_at.unix_timestamp(), lead.as_secs()),
            );
            tx.enqueue_notification(&notice_row(&key, &event, now)).await?;
            let detail = format!(
                "{} before the prepaid period ends at {}{}",
                crate::domain::duration::format_duration(lead),
                stamp(expires_at),
                if shortfall.is_some() {
                    "; the balance does not cover the automatic renewal"
                } else {
                    ""
                }
            );
            tx.insert_audit(&system_audit(purchase, now, AuditAction::Reminded, detail))
                .await?;
            tx.commit().await?;
            info!(purchase = %purchase, "renewal reminder queued");
            sent += 1;
        }
        Ok(sent)
    }

    /// A month's renewal price and the spendable balance, when the balance does not cover it
    /// (nothing when it does, or when either cannot be read: the reminder says what it knows).
    async fn renewal_shortfall(&self, region: &str, ids: &[String]) -> Option<(Yuan, crate::money::Fen)> {
        let (price, balance) = tokio::join!(
            self.tencent().inquiry_price_renew_instances(region, ids, 1),
            self.tencent().describe_account_balance()
        );
        let (price, balance) = match (price, balance) {
            (Ok(price), Ok(balance)) => (price, balance),
            (Err(error), _) | (_, Err(error)) => {
                warn!(%error, "could not check the balance against an automatic renewal");
                return None;
            }
        };
        let Quote::Prepaid { total, .. } = super::cloud::renewal_quote(&price.data, 1) else {
            return None;
        };
        let spendable = balance.data.spendable();
        (spendable < total.to_fen_ceil()).then_some((total, spendable))
    }

    /// Queues the most urgent reminder that is due and not sent for the lifetime's current end.
    async fn remind(&self, purchase: RequestId) -> Result<bool, DeskError> {
        let now = self.clock().now();
        let ttl = &self.settings().parse.ttl;
        let mut tx = self.store().begin().await?;
        let Some(record) = tx.lock_request(purchase).await? else {
            return Ok(false);
        };
        let Ok(lifetime) = self.open_lifetime(&mut tx, purchase).await else {
            return Ok(false);
        };
        let Operation::Buy(spec) = &record.operation else {
            return Ok(false);
        };
        let left = lifetime.release_at - now;
        let Some(lead) = ttl.reminders.iter().copied().filter(|lead| left <= *lead).min() else {
            return Ok(false);
        };
        if !tx
            .record_reminder(purchase, "ttl", lifetime.release_at, lead, now)
            .await?
        {
            return Ok(false);
        }
        let instances = tx.instances_of(purchase).await?;
        let in_use: Vec<String> = instances
            .iter()
            .filter(|i| releasable(i))
            .map(|i| i.instance_id.clone())
            .collect();
        if in_use.is_empty() {
            tx.commit().await?;
            return Ok(false);
        }
        let kind = spec.billing().kind();
        let extend_to = lifetime.release_at + ttl.extension_step(kind);
        let event = Event::TtlReminder {
            request_id: purchase,
            owner: record.requester_id,
            instance_ids: in_use,
            release_at: lifetime.release_at,
            extend_to,
            extension_needs_approval: ttl
                .latest_without_approval(kind, lifetime.started_at)
                .is_some_and(|latest| extend_to > latest),
        };
        let key = DedupeKey::request(
            purchase,
            RequestNews::TtlReminder(lifetime.release_at.unix_timestamp(), lead.as_secs()),
        );
        tx.enqueue_notification(&notice_row(&key, &event, now)).await?;
        tx.insert_audit(&system_audit(
            purchase,
            now,
            AuditAction::Reminded,
            format!(
                "{} before the end at {}",
                crate::domain::duration::format_duration(lead),
                stamp(lifetime.release_at)
            ),
        ))
        .await?;
        tx.commit().await?;
        info!(purchase = %purchase, "time-to-live reminder queued");
        Ok(true)
    }

    /// Files the release of a purchase whose lifetime ended, approved by the purchase's approval,
    /// and records the end in the same transaction; it is carried out like any release (looking
    /// at the instances before TerminateInstances).
    async fn end_lifetime(&self, purchase: RequestId) -> Result<bool, DeskError> {
        let now = self.clock().now();
        let mut session = self.store().session().await?;
        let Some(record) = session.request(purchase).await? else {
            return Ok(false);
        };
        let Operation::Buy(spec) = &record.operation else {
            return Ok(false);
        };
        let instances = session.instances_of(purchase).await?;
        drop(session);
        let candidates: Vec<String> = instances
            .iter()
            .filter(|i| releasable(i))
            .map(|i| i.instance_id.clone())
            .collect();
        // A prepaid refund is Tencent's to say; asked before the transaction, as filing does.
        let quote = self.ttl_release_quote(spec, &candidates).await?;

        let mut tx = self.store().begin().await?;
        tx.lock_monthly_caps().await?;
        tx.lock_request(purchase).await?;
        let Ok(lifetime) = self.open_lifetime(&mut tx, purchase).await else {
            return Ok(false);
        };
        if lifetime.release_at > now {
            return Ok(false);
        }
        let claimed = self.ids_in_open_releases(&mut tx).await?;
        let ids: Vec<String> = candidates.iter().filter(|id| !claimed.contains(*id)).cloned().collect();
        if ids.is_empty() && !candidates.is_empty() {
            // Every server is in a release not carried out yet: the end waits for it. If that
            // release is done, it ends the lifetime; if it is cancelled, rejected or fails, the
            // next pass files the time-to-live release.
            return Ok(false);
        }
        let release_request = if ids.is_empty() {
            None
        } else {
            let release = ReleaseSpec {
                purchase,
                owner: record.requester_id,
                instance_ids: ids.clone(),
                region: spec.region().to_owned(),
                billing: spec.billing().kind(),
                reason: format!(
                    "its time to live ended at {}; the approval of #{purchase} covered this release",
                    stamp(lifetime.release_at)
                ),
                destroy: false,
                by_policy: true,
            };
            let cvmbot = Person {
                id: record.requester_id,
                name: format!("{} (time to live)", record.requester_name),
                roles: Vec::new(),
            };
            let filing = Filing {
                requester: &cvmbot,
                origin: Origin {
                    guild_id: record.guild_id,
                    channel_id: record.thread_id.or(record.channel_id),
                },
                operation: Operation::Release(release),
                quote,
                quote_request_id: None,
                dry_run_request_id: None,
                approvals_needed: 0,
                warnings: Vec::new(),
                note: format!("the time to live of #{purchase} ended"),
            };
            Some(self.store_filed(&mut tx, filing, now).await?)
        };
        tx.end_lifetime(purchase, release_request, now).await?;
        let detail = match release_request {
            Some(id) => format!("release request #{id} files {} server(s)", ids.len()),
            None => "nothing was left to release".to_owned(),
        };
        tx.insert_audit(&system_audit(purchase, now, AuditAction::LifetimeEnded, detail))
            .await?;
        let event = Event::TtlEnded {
            request_id: purchase,
            release_request,
            instance_ids: ids,
        };
        tx.enqueue_notification(&notice_row(
            &DedupeKey::request(purchase, RequestNews::TtlEnded),
            &event,
            now,
        ))
        .await?;
        tx.bump_card(purchase).await?;
        tx.commit().await?;
        info!(purchase = %purchase, release = ?release_request.map(|r| r.get()), "time to live ended");
        if release_request.is_some() {
            self.wake_submitter();
        }
        Ok(true)
    }

    async fn ttl_release_quote(&self, spec: &PurchaseSpec, ids: &[String]) -> Result<Quote, DeskError> {
        if spec.billing().kind() != BillingKind::Prepaid || ids.is_empty() {
            return Ok(Quote::Refund { total: Yuan::ZERO });
        }
        let answer = match self
            .tencent()
            .inquiry_price_terminate_instances(spec.region(), ids)
            .await
        {
            Ok(answer) => answer,
            Err(error) if error.is_retryable() || error.outcome_unknown() => {
                return Err(Desk::filing_failure(&error, &error.explain(), "refund check"));
            }
            // Tencent will not say (an isolated or expired server, say): the release goes ahead
            // without a refund figure rather than holding every other lifetime behind it.
            Err(error) => {
                warn!(%error, "no refund figure for a time-to-live release; filing it without one");
                return Ok(Quote::Refund { total: Yuan::ZERO });
            }
        };
        let total: rust_decimal::Decimal = answer.data.iter().map(|refund| refund.refunds).sum();
        Ok(Quote::Refund {
            total: Yuan::new(total.round_dp(2)),
        })
    }
}

/// An instance a release could still take: bought, not failed, not gone, not released.
pub(super) fn releasable(instance: &InstanceRecord) -> bool {
    instance.released_at.is_none()
        && instance.gone_at.is_none()
        && instance.state != crate::tencent::enums::InstanceState::LaunchFailed
}

fn system_audit(purchase: RequestId, at: OffsetDateTime, action: AuditAction, detail: String) -> AuditEntry {
    AuditEntry {
        request_id: Some(purchase),
        at,
        actor_id: None,
        actor_name: "cvmbot".into(),
        action: action.to_string(),
        from_state: None,
        to_state: None,
        detail: Some(detail),
        tencent_request_id: None,
    }
}

fn stamp(at: OffsetDateTime) -> String {
    at.format(time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_else(|_| at.to_string())
}
