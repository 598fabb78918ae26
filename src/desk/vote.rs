//! Deciding requests: votes, cancellation and expiry. Each is one transaction that locks the
//! request, judges with the policy, and changes state only from the state it expects.

use super::budgets::Judging;
use super::keys::{AuditAction, DedupeKey, RequestNews};
use super::outbox::notice_row;
use super::steps::Step;
use super::{Desk, DeskError, RequestView};
use crate::desk::Event;
use crate::domain::{MessageId, Person, RequestId, RequestState, VoteFacts, VoteRefusal, VoteVia, client_token};
use crate::money::Fen;
use crate::store::{RequestRecord, Session, VoteRecord};
use tracing::{info, instrument};

/// A vote as cast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ballot {
    /// Approve (true) or reject.
    pub approve: bool,
    /// Why (rejections should say).
    pub reason: Option<String>,
    /// The approval hash (prefix) of the card the voter saw, when the vote carries it (buttons).
    pub seen_hash: Option<String>,
    /// How it was cast.
    pub via: VoteVia,
}

impl Ballot {
    /// A ✅ or ❌ reaction: no reason, and no card version seen (reactions carry none).
    pub fn reaction(approve: bool) -> Ballot {
        Ballot {
            approve,
            reason: None,
            seen_hash: None,
            via: VoteVia::Reaction,
        }
    }
}

/// What a counted vote did.
#[derive(Clone, Debug)]
pub struct VoteOutcome {
    /// The request after the vote.
    pub view: RequestView,
    /// The state the vote moved it to, if it decided it.
    pub decided: Option<RequestState>,
}

impl Desk {
    /// Casts `voter`'s vote on request `id`. Self-approval, non-approvers, second votes, expired or
    /// decided requests and votes on an outdated card are refused with the reason.
    #[instrument(skip_all, fields(request_id = %id, voter = %voter.id, approve = ballot.approve))]
    pub async fn vote(&self, id: RequestId, voter: &Person, ballot: &Ballot) -> Result<VoteOutcome, DeskError> {
        let now = self.clock().now();
        // The budgets an approval may be judged against, read before the transaction (their
        // spend asks Tencent for the bills).
        let budgets = if ballot.approve && !self.settings().budgets.is_empty() {
            match self.store().session().await?.request(id).await? {
                Some(record) => {
                    self.budgets_touched((record.requester_id, &record.requester_roles), &record.operation)
                        .await?
                }
                None => Vec::new(),
            }
        } else {
            Vec::new()
        };
        let mut tx = self.store().begin().await?;
        let record = tx.lock_request(id).await?.ok_or(DeskError::NotFound(id))?;
        let votes = tx.votes(id).await?;
        let facts = VoteFacts {
            requester_id: record.requester_id,
            state: record.state,
            expires_at: record.expires_at,
            now,
            current_hash: &record.approval_hash,
            presented_hash: ballot.seen_hash.as_deref(),
            already_voted: votes
                .iter()
                .any(|v| v.voter_id == voter.id && v.approval_hash == record.approval_hash),
        };
        self.settings().policy.check_vote(voter, facts)?;
        let vote = VoteRecord {
            request_id: id,
            voter_id: voter.id,
            voter_name: voter.name.clone(),
            approve: ballot.approve,
            approval_hash: record.approval_hash.clone(),
            reason: ballot.reason.clone(),
            via: ballot.via,
            cast_at: now,
        };
        if !tx.insert_vote(&vote).await? {
            return Err(VoteRefusal::AlreadyVoted.into());
        }
        let decided = if !ballot.approve {
            tx.set_decision(id, &voter.name, ballot.reason.as_deref()).await?;
            Some(RequestState::Rejected)
        } else {
            let approvals = votes
                .iter()
                .filter(|v| v.approve && v.approval_hash == record.approval_hash)
                .count()
                + 1;
            if approvals as u32 >= record.approvals_needed {
                let judging = Judging {
                    requester_id: record.requester_id,
                    again: Some(id),
                };
                // Spend and approvals may have grown since filing: a budget that refuses (a cap is
                // one) still refuses, and one that asks for another approval asks it now if
                // filing did not.
                let monthly = Fen::new(record.monthly_fen).to_yuan();
                let extra = self.check_budgets(&mut tx, &budgets, monthly, judging, now).await?;
                let tier = self
                    .settings()
                    .policy
                    .approvals_needed(monthly)
                    .unwrap_or(record.approvals_needed);
                let required = record.approvals_needed.max(tier + extra);
                if (approvals as u32) < required {
                    info!(required, "over a budget since filing: one more approval needed");
                    tx.set_approvals_needed(id, required).await?;
                    tx.bump_card(id).await?;
                    None
                } else {
                    let token = client_token(&self.inner.installation_id, id, 1);
                    let until = record.operation.keep_trying().map(|d| now + d);
                    tx.set_submission(id, 1, &token, now, until).await?;
                    Some(RequestState::Approved)
                }
            } else {
                tx.bump_card(id).await?;
                None
            }
        };
        let cast = AuditAction::Vote {
            approve: ballot.approve,
            via: ballot.via,
        };
        Step::new(cast, record.state, decided.unwrap_or(record.state))
            .by(voter)
            .detail(ballot.reason.clone())
            .take(&mut tx, id, now)
            .await?;
        let view = self.view_in(&mut tx, id).await?;
        tx.commit().await?;
        if decided == Some(RequestState::Approved) {
            crate::crashpoint::here("vote:approved");
        }
        info!(decided = ?decided, "vote counted");
        if decided == Some(RequestState::Approved) {
            self.wake_submitter();
        }
        self.wake_dispatcher();
        Ok(VoteOutcome { view, decided })
    }

    /// Whether `voter` could vote on request `id` now, without voting (the Reject button asks for
    /// a reason only when the vote would count).
    pub async fn check_vote(&self, id: RequestId, voter: &Person, seen_hash: Option<&str>) -> Result<(), DeskError> {
        let mut session = self.store().session().await?;
        let record = session.request(id).await?.ok_or(DeskError::NotFound(id))?;
        let votes = session.votes(id).await?;
        let facts = VoteFacts {
            requester_id: record.requester_id,
            state: record.state,
            expires_at: record.expires_at,
            now: self.clock().now(),
            current_hash: &record.approval_hash,
            presented_hash: seen_hash,
            already_voted: votes
                .iter()
                .any(|v| v.voter_id == voter.id && v.approval_hash == record.approval_hash),
        };
        Ok(self.settings().policy.check_vote(voter, facts)?)
    }

    /// Asks for the cards of `ids` to be shown again (after a restart, to re-render them).
    pub async fn refresh_cards(&self, ids: &[RequestId]) -> Result<(), DeskError> {
        let mut tx = self.store().begin().await?;
        for id in ids {
            tx.bump_card(*id).await?;
        }
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(())
    }

    /// The request whose card is the message `message_id`, if any.
    pub async fn request_by_message(&self, message_id: MessageId) -> Result<Option<RequestRecord>, DeskError> {
        Ok(self.store().session().await?.request_by_message(message_id).await?)
    }

    /// Casts a vote on the request whose message is `message_id` (a reaction).
    pub async fn vote_on_message(
        &self,
        message_id: MessageId,
        voter: &Person,
        ballot: &Ballot,
    ) -> Result<VoteOutcome, DeskError> {
        let mut session = self.store().session().await?;
        let record = session.request_by_message(message_id).await?;
        drop(session);
        let record = record.ok_or_else(|| DeskError::refused("That message is not a purchase request."))?;
        self.vote(record.id, voter, ballot).await
    }

    /// Withdraws a pending (or approved, not yet submitted) request. The requester or an admin may.
    #[instrument(skip_all, fields(request_id = %id, by = %person.id))]
    pub async fn cancel(&self, id: RequestId, person: &Person, reason: Option<&str>) -> Result<RequestView, DeskError> {
        let now = self.clock().now();
        let mut tx = self.store().begin().await?;
        let record = tx.lock_request(id).await?.ok_or(DeskError::NotFound(id))?;
        if !self.settings().policy.may_cancel(person, record.requester_id) {
            return Err(DeskError::refused(
                "Only the requester or an admin can cancel this request.",
            ));
        }
        if matches!(&record.operation, crate::domain::Operation::Release(r) if r.by_policy)
            && !self.settings().policy.admins.includes(person)
        {
            return Err(DeskError::refused(
                "This release ends a time to live the purchase's approval set; only an admin can cancel it. Extend the time to live instead (/cvm extend).",
            ));
        }
        if !matches!(record.state, RequestState::Pending | RequestState::Approved) {
            return Err(DeskError::refused(format!(
                "Request #{id} is already {}; only pending or approved requests can be cancelled.",
                record.state.label()
            )));
        }
        Step::new(AuditAction::Cancelled, record.state, RequestState::Cancelled)
            .by(person)
            .detail(reason.map(str::to_owned))
            .take(&mut tx, id, now)
            .await?;
        tx.set_decision(id, &person.name, reason).await?;
        tx.set_next_attempt(id, None).await?;
        let view = self.view_in(&mut tx, id).await?;
        tx.commit().await?;
        self.wake_dispatcher();
        Ok(view)
    }

    /// Expires pending requests past their deadline; returns how many.
    #[instrument(name = "expiry", skip_all)]
    pub async fn expire_due(&self) -> Result<usize, DeskError> {
        let now = self.clock().now();
        let ids = self.store().session().await?.expired_pending(now).await?;
        let mut expired = 0;
        for id in ids {
            let mut tx = self.store().begin().await?;
            let Some(record) = tx.lock_request(id).await? else {
                continue;
            };
            if record.state != RequestState::Pending || record.expires_at > now {
                continue;
            }
            Step::new(AuditAction::Expired, RequestState::Pending, RequestState::Expired)
                .take(&mut tx, id, now)
                .await?;
            let notice = Event::Expired {
                request_id: id,
                requester_id: record.requester_id,
            };
            enqueue(&mut tx, &DedupeKey::request(id, RequestNews::Expired), &notice, now).await?;
            tx.commit().await?;
            expired += 1;
        }
        if expired > 0 {
            self.wake_dispatcher();
        }
        Ok(expired)
    }
}

/// Queues `notice` under `key` in the transaction.
pub(super) async fn enqueue(
    tx: &mut Session,
    key: &DedupeKey,
    notice: &Event,
    at: time::OffsetDateTime,
) -> Result<(), DeskError> {
    tx.enqueue_notification(&notice_row(key, notice, at)).await?;
    Ok(())
}
