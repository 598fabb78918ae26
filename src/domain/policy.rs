//! The purchasing policy: who may request and approve, what may be bought, and how many approvals a
//! cost needs. Pure decisions; the desk supplies the facts. (The monthly caps are budgets: see
//! `budget.rs`.)

use super::ids::{RoleId, UserId};
use super::request::RequestState;
use super::spec::{BillingKind, PurchaseSpec};
use crate::money::Yuan;
use std::fmt;
use std::time::Duration;
use time::OffsetDateTime;

/// A person in the chat, with the roles they hold there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// Their chat user id.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Their roles.
    pub roles: Vec<RoleId>,
}

/// A group of people: everyone, or the holders of some roles and some users.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Audience {
    /// Everyone belongs.
    pub anyone: bool,
    /// Holders of any of these roles belong.
    pub roles: Vec<RoleId>,
    /// These users belong.
    pub users: Vec<UserId>,
}

impl Audience {
    /// True when `person` belongs.
    pub fn includes(&self, person: &Person) -> bool {
        self.anyone || self.users.contains(&person.id) || person.roles.iter().any(|r| self.roles.contains(r))
    }

    /// True when nobody belongs.
    pub fn is_nobody(&self) -> bool {
        !self.anyone && self.roles.is_empty() && self.users.is_empty()
    }
}

/// Costs up to `up_to` CNY per month-equivalent need `approvals` approvals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tier {
    /// Upper bound of the tier, inclusive.
    pub up_to: Yuan,
    /// Approvals needed.
    pub approvals: u32,
}

/// What to do when the balance cannot cover a request's up-front cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalanceCheck {
    /// Refuse the request.
    Block,
    /// File it with a warning.
    Warn,
}

/// How a vote was cast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VoteVia {
    /// The card's Approve or Reject button.
    Button,
    /// A ✅ or ❌ reaction on the card.
    Reaction,
    /// The console's `/approve` or `/reject`.
    Console,
}

impl VoteVia {
    /// Every way.
    pub const ALL: [VoteVia; 3] = [VoteVia::Button, VoteVia::Reaction, VoteVia::Console];

    /// The stored name (also the audit log's).
    pub fn as_str(self) -> &'static str {
        match self {
            VoteVia::Button => "button",
            VoteVia::Reaction => "reaction",
            VoteVia::Console => "console",
        }
    }

    /// Reads a stored name.
    pub fn parse(text: &str) -> Option<VoteVia> {
        VoteVia::ALL.into_iter().find(|v| v.as_str() == text)
    }
}

impl fmt::Display for VoteVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refusal in plain words, fit to show the person who asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Refusal {
    /// A refusal saying `words`.
    pub fn new(words: impl Into<String>) -> Refusal {
        Refusal(words.into())
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refusal {}

/// Whether a release is carried out at once or waits for someone else's approval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseRule {
    /// At once.
    AtOnce,
    /// After an approver (never the one who asked) approves.
    Approval,
}

impl ReleaseRule {
    /// Reads the configured word: `at_once` or `approval`.
    pub fn parse(text: &str) -> Option<ReleaseRule> {
        match text.trim() {
            "at_once" => Some(ReleaseRule::AtOnce),
            "approval" => Some(ReleaseRule::Approval),
            _ => None,
        }
    }
}

/// Who may release what cvmbot bought, and when someone else must approve first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleasePolicy {
    /// The buyer's own pay-as-you-go and spot servers.
    pub own_hourly: ReleaseRule,
    /// The buyer's own prepaid servers.
    pub own_prepaid: ReleaseRule,
    /// Someone else's servers (only admins may ask).
    pub others: ReleaseRule,
    /// A release of more servers than this at once waits for an approver, whoever asks.
    pub bulk_at_once: u32,
}

/// The rules.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Who may file requests.
    pub requesters: Audience,
    /// Who may approve.
    pub approvers: Audience,
    /// Who may cancel anyone's request.
    pub admins: Audience,
    /// Allowed zones (empty: any).
    pub allowed_zones: Vec<String>,
    /// Allowed instance types, exact or `FAMILY.*` (empty: any).
    pub allowed_types: Vec<String>,
    /// Allowed billing kinds.
    pub allowed_billing: Vec<BillingKind>,
    /// Most instances per request.
    pub max_count: u32,
    /// Pending requests expire after this.
    pub expiry: Duration,
    /// Approvals by cost tier, ascending.
    pub tiers: Vec<Tier>,
    /// Balance shortfall handling.
    pub balance_check: BalanceCheck,
    /// Quotes older than this are renewed before submission.
    pub requote_after: Duration,
    /// Releases.
    pub release: ReleasePolicy,
    /// Fleets.
    pub fleet: FleetPolicy,
}

/// What fleets may be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetPolicy {
    /// The most servers one fleet keeps.
    pub max_count: u32,
    /// A fleet's time to live.
    pub ttl: super::TtlRule,
}

impl Default for FleetPolicy {
    fn default() -> Self {
        FleetPolicy {
            max_count: 500,
            ttl: super::TtlRule {
                default: None,
                max: None,
                allow_none: true,
            },
        }
    }
}

/// Why a vote is not counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VoteRefusal {
    /// The requester tried to vote on their own request.
    OwnRequest,
    /// The voter is not an approver.
    NotApprover,
    /// The request is no longer pending.
    AlreadyDecided(RequestState),
    /// The request expired.
    Expired,
    /// The voter has already voted.
    AlreadyVoted,
    /// The vote was cast on an outdated version of the request (the price changed).
    Outdated,
}

impl fmt::Display for VoteRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VoteRefusal::OwnRequest => f.write_str("You can't approve or reject your own request; someone else must."),
            VoteRefusal::NotApprover => f.write_str("Only approvers can vote on purchase requests."),
            VoteRefusal::AlreadyDecided(state) => write!(f, "This request is already {}.", state.label()),
            VoteRefusal::Expired => f.write_str("This request has expired; file a new one."),
            VoteRefusal::AlreadyVoted => f.write_str("You have already voted on this request."),
            VoteRefusal::Outdated => f.write_str(
                "This request changed since that message was shown (its price was renewed); vote on the current one.",
            ),
        }
    }
}

impl std::error::Error for VoteRefusal {}

/// The facts a vote is judged on.
#[derive(Clone, Copy, Debug)]
pub struct VoteFacts<'a> {
    /// Who filed the request.
    pub requester_id: UserId,
    /// Its state now.
    pub state: RequestState,
    /// When it expires.
    pub expires_at: OffsetDateTime,
    /// Now.
    pub now: OffsetDateTime,
    /// The hash of its spec and quote now.
    pub current_hash: &'a str,
    /// The hash the voter saw, when the vote carries one (buttons do; reactions vote on the current message).
    pub presented_hash: Option<&'a str>,
    /// Whether this voter already voted.
    pub already_voted: bool,
}

impl Policy {
    /// Whether `person` may file requests.
    pub fn check_requester(&self, person: &Person) -> Result<(), Refusal> {
        if self.requesters.includes(person) {
            Ok(())
        } else {
            Err(Refusal(
                "You are not allowed to file purchase requests here; ask an admin for the requester role.".into(),
            ))
        }
    }

    /// Whether what `spec` buys is allowed at all.
    pub fn check_spec(&self, spec: &PurchaseSpec) -> Result<(), Refusal> {
        if !self.allowed_billing.contains(&spec.billing().kind()) {
            let allowed: Vec<&str> = self.allowed_billing.iter().map(|k| k.command()).collect();
            return Err(Refusal(format!(
                "{} purchases are not allowed here; allowed: {}",
                spec.billing().kind().label(),
                allowed.join(", ")
            )));
        }
        if !self.allowed_zones.is_empty() && !self.allowed_zones.iter().any(|z| z == spec.zone().as_str()) {
            return Err(Refusal(format!(
                "`zone`: {} is not allowed here; allowed zones: {}",
                spec.zone(),
                self.allowed_zones.join(", ")
            )));
        }
        if !self.allowed_types.is_empty()
            && !self
                .allowed_types
                .iter()
                .any(|p| type_matches(p, spec.instance_type().as_str()))
        {
            return Err(Refusal(format!(
                "`type`: {} is not allowed here; allowed types: {}",
                spec.instance_type(),
                self.allowed_types.join(", ")
            )));
        }
        if spec.count() > self.max_count {
            return Err(Refusal(format!(
                "`count`: {} is more than the {} allowed per request",
                spec.count(),
                self.max_count
            )));
        }
        Ok(())
    }

    /// Approvals a cost needs, or a refusal when it is above the last tier.
    pub fn approvals_needed(&self, monthly: Yuan) -> Result<u32, Refusal> {
        self.tiers.iter().find(|tier| monthly <= tier.up_to).map(|tier| tier.approvals).ok_or_else(|| {
            let limit = self.tiers.last().map_or(Yuan::ZERO, |t| t.up_to);
            Refusal(format!("This costs {monthly} per month-equivalent, above the {limit} limit for requests; split it or ask an admin."))
        })
    }

    /// Whether `voter` may vote now. Self-approval is refused whatever else is true.
    pub fn check_vote(&self, voter: &Person, facts: VoteFacts<'_>) -> Result<(), VoteRefusal> {
        if facts.state != RequestState::Pending {
            return Err(VoteRefusal::AlreadyDecided(facts.state));
        }
        if facts.now >= facts.expires_at {
            return Err(VoteRefusal::Expired);
        }
        if voter.id == facts.requester_id {
            return Err(VoteRefusal::OwnRequest);
        }
        if !self.approvers.includes(voter) {
            return Err(VoteRefusal::NotApprover);
        }
        if facts
            .presented_hash
            .is_some_and(|seen| !facts.current_hash.starts_with(seen))
        {
            return Err(VoteRefusal::Outdated);
        }
        if facts.already_voted {
            return Err(VoteRefusal::AlreadyVoted);
        }
        Ok(())
    }

    /// Whether `person` may cancel a request filed by `requester_id`.
    pub fn may_cancel(&self, person: &Person, requester_id: UserId) -> bool {
        person.id == requester_id || self.admins.includes(person)
    }

    /// How `person`'s release of `count` servers that `owner` bought, billed as `billing`, goes:
    /// refused unless they bought them or are an admin; more than `bulk_at_once` wait for an
    /// approver whatever the rest says.
    pub fn release_rule(
        &self,
        person: &Person,
        owner: UserId,
        billing: BillingKind,
        count: usize,
    ) -> Result<ReleaseRule, Refusal> {
        let rule = self.release_rule_for_one(person, owner, billing)?;
        Ok(if count > self.release.bulk_at_once as usize {
            ReleaseRule::Approval
        } else {
            rule
        })
    }

    fn release_rule_for_one(
        &self,
        person: &Person,
        owner: UserId,
        billing: BillingKind,
    ) -> Result<ReleaseRule, Refusal> {
        if person.id == owner {
            Ok(match billing {
                BillingKind::Prepaid => self.release.own_prepaid,
                BillingKind::PayAsYouGo | BillingKind::Spot => self.release.own_hourly,
            })
        } else if self.admins.includes(person) {
            Ok(self.release.others)
        } else {
            Err(Refusal::new(
                "Only the person who bought these servers, or an admin, can release them.",
            ))
        }
    }
}

fn type_matches(pattern: &str, instance_type: &str) -> bool {
    match pattern.strip_suffix(".*") {
        Some(family) => instance_type
            .split_once('.')
            .is_some_and(|(f, _)| f.eq_ignore_ascii_case(family)),
        None => pattern.eq_ignore_ascii_case(instance_type),
    }
}
