//! Execution, exactly once, for every operation: an approved request is claimed, its changing
//! call (RunInstances for a purchase) is sent with the ClientToken of its attempt, and the answer
//! is stored. If the answer is lost (a crash, a timeout, a dropped connection) the request stays
//! `submitting` and is resent later with the same token, which Tencent answers with the same
//! result instead of doing it again.

use super::budgets::Judging;
use super::cloud::failure_of;
use super::costs::check_balance;
use super::keys::{AuditAction, DedupeKey, RequestNews};
use super::operations::Executed;
use super::steps::Step;
use super::vote::enqueue;
use super::{Chain, Desk, DeskError};
use crate::desk::Event;
use crate::domain::{RequestId, RequestState, approval_hash, client_token};
use crate::store::{RequestRecord, Requote, Session};
use crate::tencent::{ApiError, ErrorKind};
use std::time::Duration;
use tracing::{error, info, instrument, warn};

/// Answers in a row that could not be read before people are told a purchase is unresolved.
pub const UNRESOLVED_AFTER: u32 = 3;

/// What one pass over a due request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// Not ours to do now (taken by another pass, cancelled, not due).
    Skipped,
    /// The price rose; back to pending for new approvals.
    Requoted,
    /// Bought: these instances.
    Submitted(Vec<String>),
    /// The outcome is unknown (Tencent unreachable); resent later with the same token.
    WillResend,
    /// Keep-trying: another attempt is scheduled.
    WillRetry,
    /// Tencent refused; nothing was bought.
    Failed,
    /// The renewed price is one the policy no longer allows; nothing was bought.
    Refused,
}

impl Desk {
    /// Works through every request due for submission (including crash leftovers); returns how
    /// many it looked at.
    #[instrument(name = "submission pass", skip_all)]
    pub async fn submit_due(&self) -> Result<usize, DeskError> {
        let now = self.clock().now();
        let ids = self.store().session().await?.due_submissions(now, 100).await?;
        let count = ids.len();
        let results = futures_util::future::join_all(ids.into_iter().map(|id| self.submit(id))).await;
        for result in results {
            if let Err(error) = result {
                error!(error = %Chain(&error), "submission pass failed");
            }
        }
        Ok(count)
    }

    /// Makes every submission left `submitting` by a previous process due now, so it is resent at
    /// once with its own ClientToken. Called when the workers start.
    pub async fn recover_submissions(&self) -> Result<usize, DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let mut stuck: Vec<RequestRecord> = tx
            .list_requests(crate::store::ListFilter::All, 10_000)
            .await?
            .into_iter()
            .filter(|r| r.state == RequestState::Submitting)
            .collect();
        // Ascending, the order every other writer takes request rows in (no deadlock on PostgreSQL).
        stuck.sort_by_key(|r| r.id);
        for record in &stuck {
            tx.set_next_attempt(record.id, Some(now)).await?;
        }
        tx.commit().await?;
        if !stuck.is_empty() {
            warn!(
                count = stuck.len(),
                "resending submissions whose outcome was not stored"
            );
            self.wake_submitter();
        }
        Ok(stuck.len())
    }

    /// One submission pass over request `id`.
    #[instrument(skip_all, fields(request_id = %id))]
    pub async fn submit(&self, id: RequestId) -> Result<SubmitOutcome, DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let Some(record) = tx.lock_request(id).await? else {
            return Ok(SubmitOutcome::Skipped);
        };
        let due = record.next_attempt_at.is_some_and(|at| at <= now);
        if !due || !matches!(record.state, RequestState::Approved | RequestState::Submitting) {
            return Ok(SubmitOutcome::Skipped);
        }
        if record.state == RequestState::Approved && self.needs_requote(&record, now) {
            drop(tx);
            return self.requote(record).await;
        }
        // Claim: whoever holds the row now owns this attempt until `resend_after` passes.
        if record.state == RequestState::Approved {
            Step::new(
                AuditAction::Submitting,
                RequestState::Approved,
                RequestState::Submitting,
            )
            .take(&mut tx, id, now)
            .await?;
        }
        tx.set_next_attempt(id, Some(now + self.resend_delay(record.unclear_answers)))
            .await?;
        tx.commit().await?;
        crate::crashpoint::here("submit:claimed");

        let token = record
            .client_token
            .clone()
            .unwrap_or_else(|| client_token(&self.inner.installation_id, id, record.attempt));
        let executed = self.execute(&record, token).await;
        crate::crashpoint::here("submit:sent");
        match executed {
            Executed::Done {
                resources,
                tencent_request_id,
            } => {
                self.record_submitted(&record, resources, tencent_request_id.as_deref())
                    .await
            }
            Executed::Unknown { error, named } => self.record_unknown_outcome(&record, &error, named).await,
            Executed::Refused(error) => self.record_refusal(&record, &error).await,
        }
    }

    /// How long a submission whose outcome is unknown waits before it is resent: `resend_after`,
    /// doubling with each answer in a row that could not be read, up to 16 times as long.
    fn resend_delay(&self, unclear_answers: u32) -> Duration {
        self.settings()
            .resend_after
            .saturating_mul(1 << unclear_answers.saturating_sub(1).min(4))
    }

    fn needs_requote(&self, record: &RequestRecord, now: time::OffsetDateTime) -> bool {
        record.attempt <= 1
            && self.may_requote(&record.operation)
            && now - record.quoted_at > self.settings().policy.requote_after
    }

    /// Renews an old quote before buying and judges it again by the whole policy: the tier of the
    /// new price (above the last one is refused), the budgets (the monthly caps among them) and
    /// the balance. A higher price sends the request back for approval with the approvals the new
    /// price needs; one the policy no longer allows is refused with the reason.
    async fn requote(&self, record: RequestRecord) -> Result<SubmitOutcome, DeskError> {
        let id = record.id;
        let (answer, balance) = tokio::join!(self.requote_price(&record), self.tencent().describe_account_balance(),);
        let (quote, quote_request_id) = match answer {
            Ok(answer) => answer,
            Err(error) if error.is_retryable() || error.outcome_unknown() => {
                warn!(%error, "re-quote failed; trying later");
                return self.requote_later(&record).await;
            }
            Err(error) => return self.fail_on_requote(&record, &error).await,
        };
        // A balance that could not be read for a moment is no reason to throw the approvals away:
        // the request is judged again later. (A definite refusal of the query is judged now.)
        if let Err(error) = &balance
            && (error.is_retryable() || error.outcome_unknown())
            && self.settings().policy.balance_check == crate::domain::BalanceCheck::Block
        {
            warn!(%error, "could not read the balance to judge a re-quote; trying later");
            return self.requote_later(&record).await;
        }
        let now = self.clock().now();
        let policy = &self.settings().policy;
        let monthly = quote.monthly_equivalent();
        let hash = approval_hash(&record.operation, &quote);
        let budgets = self
            .budgets_touched((record.requester_id, &record.requester_roles), &record.operation)
            .await?;
        let Some((mut tx, _)) = self
            .lock_in(id, RequestState::Approved, Some(&record.approval_hash))
            .await?
        else {
            return Ok(SubmitOutcome::Skipped);
        };
        let judging = Judging {
            requester_id: record.requester_id,
            again: Some(id),
        };
        let mut warnings = Vec::new();
        let verdict = match policy.approvals_needed(monthly) {
            Ok(needed) => match self.check_budgets(&mut tx, &budgets, monthly, judging, now).await {
                Ok(extra) => check_balance(policy.balance_check, &balance, quote.up_front(), &mut warnings)
                    .map(|()| needed + extra),
                Err(refusal) => Err(refusal),
            },
            Err(refusal) => Err(refusal.into()),
        };
        let needed = match verdict {
            Ok(needed) => needed,
            Err(DeskError::Refused(refusal)) => {
                return self
                    .refuse_on_requote(tx, &record, &quote, &quote_request_id, refusal.0)
                    .await;
            }
            Err(other) => return Err(other),
        };
        tx.set_quote(
            id,
            &Requote {
                quote: &quote,
                approval_hash: &hash,
                monthly_fen: monthly.to_fen_ceil().get(),
                approvals_needed: needed,
                at: now,
                quote_request_id: &quote_request_id,
            },
        )
        .await?;
        if !quote.rose_above(&record.quote) {
            tx.commit().await?;
            self.wake_submitter();
            return Ok(SubmitOutcome::Skipped);
        }
        Step::new(AuditAction::Requoted, RequestState::Approved, RequestState::Pending)
            .detail(format!(
                "{} → {} per month-equivalent; {needed} approval(s) needed",
                record.quote.monthly_equivalent(),
                monthly
            ))
            .tencent_request_id(quote_request_id.clone())
            .take(&mut tx, id, now)
            .await?;
        tx.set_next_attempt(id, None).await?;
        tx.set_expiry(id, now + policy.expiry).await?;
        let notice = Event::Requoted {
            request_id: id,
            approved_monthly: record.quote.monthly_equivalent(),
            new_monthly: monthly,
            approvals_needed: needed,
        };
        enqueue(
            &mut tx,
            &DedupeKey::request(id, RequestNews::Requoted(&hash)),
            &notice,
            now,
        )
        .await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(SubmitOutcome::Requoted)
    }

    /// Puts a re-quote off until `resend_after` from now, if the request still waits for it.
    async fn requote_later(&self, record: &RequestRecord) -> Result<SubmitOutcome, DeskError> {
        let Some((mut tx, _)) = self
            .lock_in(record.id, RequestState::Approved, Some(&record.approval_hash))
            .await?
        else {
            return Ok(SubmitOutcome::Skipped);
        };
        tx.set_next_attempt(record.id, Some(self.clock().now() + self.settings().resend_after))
            .await?;
        tx.commit().await?;
        Ok(SubmitOutcome::WillResend)
    }

    /// Ends a request whose re-quote Tencent refused outright (the type, image or zone is no
    /// longer sold, say): nothing is bought at a price nobody could check, and the channel is told.
    async fn fail_on_requote(&self, record: &RequestRecord, error: &ApiError) -> Result<SubmitOutcome, DeskError> {
        let id = record.id;
        let explanation = self.explain(&record.operation, error).await;
        let Some((tx, _)) = self
            .lock_in(id, RequestState::Approved, Some(&record.approval_hash))
            .await?
        else {
            return Ok(SubmitOutcome::Skipped);
        };
        let refused = Step::new(
            AuditAction::RequoteRefused,
            RequestState::Approved,
            RequestState::Failed,
        );
        self.fail(tx, record, refused, error, explanation).await?;
        info!(code = %error.code, "re-quote refused by Tencent; nothing bought");
        Ok(SubmitOutcome::Failed)
    }

    /// Ends a request whose renewed price the policy refuses: nothing is bought, the requester is told why.
    async fn refuse_on_requote(
        &self,
        mut tx: crate::store::Session,
        record: &RequestRecord,
        quote: &crate::domain::Quote,
        quote_request_id: &str,
        reason: String,
    ) -> Result<SubmitOutcome, DeskError> {
        let id = record.id;
        let now = self.clock().now();
        Step::new(
            AuditAction::RefusedOnRequote,
            RequestState::Approved,
            RequestState::Refused,
        )
        .detail(format!(
            "{} → {} per month-equivalent: {reason}",
            record.quote.monthly_equivalent(),
            quote.monthly_equivalent()
        ))
        .tencent_request_id(quote_request_id.to_owned())
        .take(&mut tx, id, now)
        .await?;
        tx.set_next_attempt(id, None).await?;
        tx.set_decision(id, "cvmbot", Some(&reason)).await?;
        let notice = Event::RefusedOnRequote {
            request_id: id,
            approved_monthly: record.quote.monthly_equivalent(),
            new_monthly: quote.monthly_equivalent(),
            reason,
        };
        enqueue(
            &mut tx,
            &DedupeKey::request(id, RequestNews::RefusedOnRequote),
            &notice,
            now,
        )
        .await?;
        tx.commit().await?;
        info!("refused on re-quote");
        self.wake_dispatcher();
        Ok(SubmitOutcome::Refused)
    }

    async fn record_submitted(
        &self,
        record: &RequestRecord,
        ids: Vec<String>,
        tencent_request_id: Option<&str>,
    ) -> Result<SubmitOutcome, DeskError> {
        let id = record.id;
        let now = self.clock().now();
        // Someone else may have stored this answer already (the same token gave the same ids).
        let Some((mut tx, _)) = self.lock_in(id, RequestState::Submitting, None).await? else {
            return Ok(SubmitOutcome::Skipped);
        };
        let finish = self.finish(record, &ids, tencent_request_id);
        Step::new(finish.action, RequestState::Submitting, finish.state)
            .detail(ids.join(","))
            .tencent_request_id(tencent_request_id.map(str::to_owned))
            .take(&mut tx, id, now)
            .await?;
        tx.set_next_attempt(id, None).await?;
        self.record_effects(&mut tx, record, &ids, now).await?;
        enqueue(
            &mut tx,
            &DedupeKey::request(id, RequestNews::Submitted),
            &finish.event,
            now,
        )
        .await?;
        tx.commit().await?;
        crate::crashpoint::here("submit:stored");
        info!(instances = ids.len(), "submitted");
        self.wake_dispatcher();
        Ok(SubmitOutcome::Submitted(ids))
    }

    /// The answer to a purchase was lost or could not be read: the request stays `submitting` and
    /// is resent later with the same ClientToken (Tencent answers a repeat with the same instances).
    /// After [`UNRESOLVED_AFTER`] such answers in a row, its channel and the alert channel are told.
    async fn record_unknown_outcome(
        &self,
        record: &RequestRecord,
        error: &ApiError,
        named: Vec<String>,
    ) -> Result<SubmitOutcome, DeskError> {
        let id = record.id;
        let now = self.clock().now();
        warn!(%error, "outcome unknown; will resend with the same ClientToken");
        let Some((mut tx, _)) = self.lock_in(id, RequestState::Submitting, None).await? else {
            return Ok(SubmitOutcome::Skipped);
        };
        let unclear = u32::try_from(tx.note_unclear_answer(id).await?).unwrap_or(u32::MAX);
        tx.set_next_attempt(id, Some(now + self.resend_delay(unclear))).await?;
        let notice = Event::Unreachable {
            request_id: id,
            explanation: error.explain(),
            operation: record.operation.kind(),
        };
        enqueue(
            &mut tx,
            &DedupeKey::request(id, RequestNews::Unreachable(record.attempt)),
            &notice,
            now,
        )
        .await?;
        if unclear == UNRESOLVED_AFTER {
            // Plain words for the chat (the raw answer, which may hold a proxy's page, goes to
            // the audit log below).
            let notice = Event::PurchaseUnresolved {
                request_id: id,
                answers: unclear,
                explanation: format!("{} {}", error.explain(), error.code),
                instance_ids: named,
                operation: record.operation.kind(),
            };
            let key = DedupeKey::request(id, RequestNews::Unresolved(record.attempt));
            enqueue(&mut tx, &key, &notice, now).await?;
            tx.enqueue_notification(&super::outbox::alert_row(&key.in_alerts(), &notice, now))
                .await?;
        }
        Step::new(
            AuditAction::ResendScheduled,
            RequestState::Submitting,
            RequestState::Submitting,
        )
        .detail(error.to_string())
        .take(&mut tx, id, now)
        .await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(SubmitOutcome::WillResend)
    }

    async fn record_refusal(&self, record: &RequestRecord, error: &ApiError) -> Result<SubmitOutcome, DeskError> {
        let id = record.id;
        let explanation = self.explain(&record.operation, error).await;
        let now = self.clock().now();
        let Some((mut tx, current)) = self.lock_in(id, RequestState::Submitting, None).await? else {
            return Ok(SubmitOutcome::Skipped);
        };
        let retryable = matches!(error.kind, ErrorKind::OutOfStock | ErrorKind::SpotPriceTooLow);
        let next = now + self.keep_trying_delay(current.attempt);
        let keep_trying = retryable && current.keep_trying_until.is_some_and(|until| next <= until);
        if keep_trying {
            let attempt = current.attempt + 1;
            Step::new(
                AuditAction::RetryScheduled,
                RequestState::Submitting,
                RequestState::Approved,
            )
            .detail(format!("{}: {}", error.code, error.message))
            .tencent_request_id(error.request_id.clone())
            .take(&mut tx, id, now)
            .await?;
            let token = client_token(&self.inner.installation_id, id, attempt);
            tx.set_submission(id, attempt, &token, next, None).await?;
            let until = current.keep_trying_until.unwrap_or(next);
            let notice = Event::Retrying {
                request_id: id,
                attempt: current.attempt,
                explanation,
                next_attempt: next,
                until,
            };
            enqueue(
                &mut tx,
                &DedupeKey::request(id, RequestNews::Retry(current.attempt)),
                &notice,
                now,
            )
            .await?;
            tx.commit().await?;
            self.wake_dispatcher();
            return Ok(SubmitOutcome::WillRetry);
        }
        let refused = Step::new(AuditAction::Refused, RequestState::Submitting, RequestState::Failed);
        self.fail(tx, record, refused, error, explanation).await?;
        info!(code = %error.code, "refused by Tencent");
        Ok(SubmitOutcome::Failed)
    }

    /// Ends request `id` as Tencent refused it (`step` says at which point), in `tx` which holds
    /// its row: the failure is stored, the channel told.
    async fn fail(
        &self,
        mut tx: Session,
        record: &RequestRecord,
        step: Step,
        error: &ApiError,
        explanation: String,
    ) -> Result<(), DeskError> {
        let id = record.id;
        let now = self.clock().now();
        step.detail(format!("{}: {}", error.code, error.message))
            .tencent_request_id(error.request_id.clone())
            .take(&mut tx, id, now)
            .await?;
        tx.set_next_attempt(id, None).await?;
        tx.set_failure(id, Some(&failure_of(error, explanation.clone())))
            .await?;
        let notice = Event::Failed {
            request_id: id,
            explanation,
            code: error.code.clone(),
            tencent_request_id: error.request_id.clone(),
            operation: record.operation.kind(),
        };
        enqueue(&mut tx, &DedupeKey::request(id, RequestNews::Failed), &notice, now).await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(())
    }

    /// Keep-trying backoff: the interval, doubling per attempt, capped.
    fn keep_trying_delay(&self, attempt: u32) -> Duration {
        let settings = self.settings();
        let doubled = settings
            .keep_trying_interval
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        doubled.min(settings.keep_trying_max_interval)
    }
}
