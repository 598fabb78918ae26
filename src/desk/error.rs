//! What can go wrong in a use case, split into what the person is told and what only the log sees.

use crate::domain::{Refusal, RequestId, SpecErrors, VoteRefusal};
use crate::store::StoreError;
use std::fmt;

/// A use case's failure.
#[derive(Debug)]
pub enum DeskError {
    /// The options are invalid; each problem names its option.
    Invalid(SpecErrors),
    /// The policy refuses (or a vote is not counted); plain words.
    Refused(String),
    /// No such request.
    NotFound(RequestId),
    /// Tencent Cloud refused; plain words.
    Cloud(String),
    /// Tencent Cloud could not be reached; try again later.
    Unavailable(String),
    /// A fault of ours; details go to the log only.
    Internal(anyhow::Error),
}

impl DeskError {
    /// Wraps an internal failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> DeskError {
        DeskError::Internal(error.into())
    }

    /// What to tell the person, privately. Internal details are never included.
    pub fn user_message(&self) -> String {
        match self {
            DeskError::Invalid(errors) => format!("That request has problems:\n{}", bullet(errors)),
            DeskError::Refused(reason) => reason.clone(),
            DeskError::NotFound(id) => format!("There is no request #{id}."),
            DeskError::Cloud(explanation) => explanation.clone(),
            DeskError::Unavailable(explanation) => format!("{explanation} Try again in a minute."),
            DeskError::Internal(_) => {
                "Something went wrong on our side; it has been logged. Try again in a minute.".into()
            }
        }
    }
}

fn bullet(errors: &SpecErrors) -> String {
    errors.0.iter().map(|e| format!("• {e}")).collect::<Vec<_>>().join("\n")
}

impl fmt::Display for DeskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeskError::Internal(error) => write!(f, "internal error: {error:#}"),
            other => f.write_str(&other.user_message()),
        }
    }
}

impl std::error::Error for DeskError {}

impl From<StoreError> for DeskError {
    fn from(error: StoreError) -> Self {
        if error.is_storage_failure() {
            // The store logs the cause once, when writes start failing.
            return DeskError::Unavailable(
                "cvmbot cannot save anything right now: its database does not take writes (is its disk full?), \
                 so nothing was changed."
                    .into(),
            );
        }
        DeskError::Internal(error.into())
    }
}

impl From<Refusal> for DeskError {
    fn from(refusal: Refusal) -> Self {
        DeskError::Refused(refusal.0)
    }
}

impl From<VoteRefusal> for DeskError {
    fn from(refusal: VoteRefusal) -> Self {
        DeskError::Refused(refusal.to_string())
    }
}

impl From<SpecErrors> for DeskError {
    fn from(errors: SpecErrors) -> Self {
        DeskError::Invalid(errors)
    }
}
