//! A request's steps: the guarded state change and the audit row saying who made it and why,
//! written together in the caller's transaction, and the lock a step starts from.

use super::keys::AuditAction;
use super::{Desk, DeskError};
use crate::domain::{Person, RequestId, RequestState, UserId};
use crate::store::{AuditEntry, RequestRecord, Session, StoreResult, Transition};
use time::OffsetDateTime;

/// One step of a request: from a state to another (or to the same one, when something happened
/// without a move), by cvmbot unless a person took it.
pub(super) struct Step {
    action: AuditAction,
    from: RequestState,
    to: RequestState,
    actor: Option<(UserId, String)>,
    detail: Option<String>,
    tencent_request_id: Option<String>,
}

impl Step {
    /// cvmbot takes request from `from` to `to`, for `action`.
    pub fn new(action: AuditAction, from: RequestState, to: RequestState) -> Step {
        Step {
            action,
            from,
            to,
            actor: None,
            detail: None,
            tencent_request_id: None,
        }
    }

    /// Taken by `person` rather than cvmbot.
    pub fn by(self, person: &Person) -> Step {
        Step {
            actor: Some((person.id, person.name.clone())),
            ..self
        }
    }

    /// With words for the audit log: a reason, an error, what changed.
    pub fn detail(self, detail: impl Into<Option<String>>) -> Step {
        Step {
            detail: detail.into(),
            ..self
        }
    }

    /// With Tencent's RequestId of the call behind it.
    pub fn tencent_request_id(self, id: impl Into<Option<String>>) -> Step {
        Step {
            tencent_request_id: id.into(),
            ..self
        }
    }

    /// Takes it for request `id` at `at`, in `tx`: the state change (guarded by `from`) and its
    /// audit row.
    pub async fn take(self, tx: &mut Session, id: RequestId, at: OffsetDateTime) -> StoreResult<()> {
        if self.from != self.to {
            let transition = Transition {
                from: self.from,
                to: self.to,
                at,
            };
            tx.transition(id, transition).await?;
        }
        let (actor_id, actor_name) = match self.actor {
            Some((id, name)) => (Some(id), name),
            None => (None, "cvmbot".to_owned()),
        };
        tx.insert_audit(&AuditEntry {
            request_id: Some(id),
            at,
            actor_id,
            actor_name,
            action: self.action.to_string(),
            from_state: Some(self.from.as_str().into()),
            to_state: Some(self.to.as_str().into()),
            detail: self.detail,
            tencent_request_id: self.tencent_request_id,
        })
        .await
    }
}

impl Desk {
    /// A transaction holding request `id`'s row, if the request is still in `state` (and, when
    /// `hash` is given, still carries that approval hash): the step a pass prepared is still its
    /// to take. `None` when another pass, a person or a re-quote moved it first.
    pub(super) async fn lock_in(
        &self,
        id: RequestId,
        state: RequestState,
        hash: Option<&str>,
    ) -> Result<Option<(Session, RequestRecord)>, DeskError> {
        let mut tx = self.store().begin().await?;
        Ok(match tx.lock_request(id).await? {
            Some(current) if current.state == state && hash.is_none_or(|h| h == current.approval_hash) => {
                Some((tx, current))
            }
            _ => None,
        })
    }
}
