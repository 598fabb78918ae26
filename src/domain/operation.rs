//! What a request asks of Tencent Cloud. Every kind goes through one machine: filed and priced,
//! judged by the policy, approved by someone else, executed exactly once, tracked and told. A new
//! kind is a variant here and an executor in `desk::operations`; the machine stays as it is.

use super::spec::PurchaseSpec;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// The kinds of operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// Buy servers (RunInstances).
    Buy,
}

impl OperationKind {
    /// Every kind.
    pub const ALL: [OperationKind; 1] = [OperationKind::Buy];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Buy => "buy",
        }
    }

    /// The kind stored as `text`.
    pub fn parse(text: &str) -> Option<OperationKind> {
        OperationKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// What people call it.
    pub fn label(self) -> &'static str {
        match self {
            OperationKind::Buy => "purchase",
        }
    }
}

impl fmt::Display for OperationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One operation, with everything it needs.
#[derive(Clone, Debug, PartialEq)]
pub enum Operation {
    /// Buy servers as the spec says.
    Buy(PurchaseSpec),
}

impl Operation {
    /// Its kind.
    pub fn kind(&self) -> OperationKind {
        match self {
            Operation::Buy(_) => OperationKind::Buy,
        }
    }

    /// The region it acts in.
    pub fn region(&self) -> &str {
        match self {
            Operation::Buy(spec) => spec.region(),
        }
    }

    /// How long to keep trying after a refusal that may pass (no stock, a spot price too low), if
    /// the requester asked for that.
    pub fn keep_trying(&self) -> Option<Duration> {
        match self {
            Operation::Buy(spec) => spec.keep_trying(),
        }
    }

    /// Why the requester wants it, as they wrote it.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Operation::Buy(spec) => spec.reason(),
        }
    }

    /// What the kind needs, as stored beside the kind (a purchase stores its spec, as it always did).
    pub fn payload(&self) -> String {
        match self {
            Operation::Buy(spec) => serde_json::to_string(spec).expect("a spec serializes"),
        }
    }

    /// The operation stored as `kind` and `payload`.
    pub fn from_stored(kind: OperationKind, payload: &str) -> Result<Operation, serde_json::Error> {
        Ok(match kind {
            OperationKind::Buy => Operation::Buy(serde_json::from_str(payload)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_stored_names() {
        for kind in OperationKind::ALL {
            assert_eq!(OperationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OperationKind::Buy.as_str(), "buy");
        assert_eq!(OperationKind::parse("sell"), None);
    }
}
