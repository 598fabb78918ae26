//! The purchasing domain: pure types and rules, no I/O. Nothing here knows Discord, HTTP or SQL.

pub mod budget;
pub mod duration;
mod fields;
pub mod fleet;
pub mod form;
pub mod ids;
pub mod lifetime;
pub mod names;
pub mod operation;
pub mod policy;
pub mod quote;
pub mod request;
pub mod spec;
pub mod spend;

pub use budget::{Budget, BudgetScope, Counts, Figure, Held, OverBudget};
pub use fleet::{FleetChangeSpec, FleetName, FleetSpec, Placement};
pub use form::{FieldError, PurchaseForm, SpecErrors};
pub use ids::{ChannelId, GuildId, MessageId, RequestId, RoleId, StoredId, UserId};
pub use lifetime::{TtlPolicy, TtlRule};
pub use operation::{ExtendSpec, Operation, OperationKind, ReleaseSpec, RenewSpec};
pub use policy::{
    Audience, BalanceCheck, FleetPolicy, Person, Policy, Refusal, ReleasePolicy, ReleaseRule, Tier, VoteFacts,
    VoteRefusal, VoteVia,
};
pub use quote::Quote;
pub use request::{RequestState, approval_hash, client_token};
pub use spec::{BillingKind, BillingMode, ParseContext, PurchaseSpec};
pub use spend::{BalanceHistory, DaySpend, Payment, Source, SpendBy, SpendGroup, SpendPeriod, SpendSeries};
