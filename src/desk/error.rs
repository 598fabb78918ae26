//! What can go wrong in a use case, split into what the person is told and what only the log
//! sees. Each failure keeps what caused it as its `source()`, so the log shows the whole chain
//! (see [`Chain`]) while the person reads plain words ([`DeskError::user_message`]).

use crate::domain::{Refusal, RequestId, SpecErrors, VoteRefusal};
use crate::store::StoreError;
use crate::tencent::ApiError;
use std::error::Error;
use std::fmt;

/// A use case's failure.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The options are invalid; each problem names its option.
    #[error("That request has problems:\n{}", bullet(.0))]
    Invalid(SpecErrors),
    /// The policy refuses; plain words.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A vote is not counted, and why.
    #[error(transparent)]
    Vote(#[from] VoteRefusal),
    /// No such request.
    #[error("There is no request #{0}.")]
    NotFound(RequestId),
    /// Tencent Cloud refused; plain words, and Tencent's answer as the source.
    #[error("{explanation}")]
    Cloud {
        /// What to tell the person.
        explanation: String,
        /// Tencent's refusal.
        #[source]
        cause: ApiError,
    },
    /// Tencent Cloud (or the database) cannot be used now; try again later.
    #[error("{explanation}")]
    Unavailable {
        /// What to tell the person.
        explanation: String,
        /// What failed.
        #[source]
        cause: Box<dyn Error + Send + Sync>,
    },
    /// A fault of ours; details go to the log only.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl DeskError {
    /// Wraps an internal failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> DeskError {
        DeskError::Internal(error.into())
    }

    /// A refusal in plain words.
    pub fn refused(words: impl Into<String>) -> DeskError {
        DeskError::Refused(Refusal::new(words))
    }

    /// What to tell the person, privately. Internal details are never included.
    pub fn user_message(&self) -> String {
        match self {
            DeskError::Unavailable { explanation, .. } => format!("{explanation} Try again in a minute."),
            DeskError::Internal(_) => {
                "Something went wrong on our side; it has been logged. Try again in a minute.".into()
            }
            other => other.to_string(),
        }
    }
}

fn bullet(errors: &SpecErrors) -> String {
    errors.0.iter().map(|e| format!("• {e}")).collect::<Vec<_>>().join("\n")
}

/// An error and its causes on one line (`a: b: c`), for the log.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
    }
}

impl From<StoreError> for DeskError {
    fn from(error: StoreError) -> Self {
        if matches!(error, StoreError::Fenced) {
            return DeskError::Unavailable {
                explanation: "Another cvmbot process has taken over from this one, so nothing was changed here.".into(),
                cause: Box::new(error),
            };
        }
        if error.is_storage_failure() {
            // The store logs the cause once, when writes start failing.
            return DeskError::Unavailable {
                explanation: "cvmbot cannot save anything right now: its database does not take writes (is its \
                              disk full?), so nothing was changed."
                    .into(),
                cause: Box::new(error),
            };
        }
        DeskError::Internal(error.into())
    }
}

impl From<SpecErrors> for DeskError {
    fn from(errors: SpecErrors) -> Self {
        DeskError::Invalid(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_internal_failure_keeps_its_cause_chain_for_the_log_but_not_for_the_person() {
        let cause = std::io::Error::other("disk on fire");
        let error = DeskError::internal(anyhow::Error::new(cause).context("writing the outbox"));
        assert_eq!(
            Chain(&error).to_string(),
            "internal error: writing the outbox: disk on fire"
        );
        assert!(!error.user_message().contains("fire"), "{}", error.user_message());
    }

    #[test]
    fn a_refusal_is_its_own_words() {
        let error = DeskError::from(VoteRefusal::OwnRequest);
        assert_eq!(error.user_message(), VoteRefusal::OwnRequest.to_string());
        assert!(error.source().is_none(), "the words are the whole story");
    }
}
