//! What the store keeps, as the engine reads it.

use super::session::RowExt;
use super::{StoreError, StoreResult, from_ms};
use crate::domain::{
    ChannelId, GuildId, MessageId, Operation, OperationKind, Person, Quote, RequestId, RequestState, RoleId, StoredId,
    UserId, VoteVia,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A Tencent refusal as stored with a failed request: the code for support, the explanation for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Classification (`out_of_stock`, …).
    pub kind: String,
    /// Tencent's code.
    pub code: String,
    /// Tencent's message.
    pub message: String,
    /// Plain words for the chat.
    pub explanation: String,
    /// Tencent's RequestId.
    pub request_id: Option<String>,
}

/// A request as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestRecord {
    /// The request's id.
    pub id: RequestId,
    /// Where it stands.
    pub state: RequestState,
    /// Who filed it.
    pub requester_id: UserId,
    /// Their display name when they filed it.
    pub requester_name: String,
    /// The roles they held when they filed it (none for requests filed before these were kept).
    pub requester_roles: Vec<RoleId>,
    /// The guild (server) it was filed from, if any.
    pub guild_id: Option<GuildId>,
    /// The channel it was filed from, then the one its card was posted in, if any.
    pub channel_id: Option<ChannelId>,
    /// Its card's message, once posted.
    pub message_id: Option<MessageId>,
    /// The thread opened under its card, if any.
    pub thread_id: Option<ChannelId>,
    /// What it asks of Tencent Cloud.
    pub operation: Operation,
    /// The current price, for all its instances together.
    pub quote: Quote,
    /// SHA-256 (hex) of the operation and the quote: what an approval approves.
    pub approval_hash: String,
    /// The quote's cost per month-equivalent, fen (rounded up): what tiers and caps count.
    pub monthly_fen: i64,
    /// How many approvals the quote's tier needs.
    pub approvals_needed: u32,
    /// When the current quote was asked for (an old one is renewed before buying).
    pub quoted_at: OffsetDateTime,
    /// Tencent's RequestId of the current quote.
    pub quote_request_id: Option<String>,
    /// Tencent's RequestId of the dry run at filing (none when it did not pass but was let through).
    pub dry_run_request_id: Option<String>,
    /// Warnings from the balance check and the dry run at filing, shown on the card.
    pub balance_warning: Option<String>,
    /// When it was filed.
    pub created_at: OffsetDateTime,
    /// When its state last changed.
    pub updated_at: OffsetDateTime,
    /// When it expires if still pending (renewed when a re-quote sends it back for approval).
    pub expires_at: OffsetDateTime,
    /// Submission attempt number (0 before approval).
    pub attempt: u32,
    /// The ClientToken of the current attempt (set on approval), resent unchanged when the outcome is unknown.
    pub client_token: Option<String>,
    /// When the submitter should next look at it (none when nothing is scheduled).
    pub next_attempt_at: Option<OffsetDateTime>,
    /// Until when an out-of-stock or underbid spot purchase is tried again (none: not at all).
    pub keep_trying_until: Option<OffsetDateTime>,
    /// Tencent's refusal, when it failed on one.
    pub failure: Option<Failure>,
    /// Who rejected or cancelled it.
    pub decided_by: Option<String>,
    /// The rejection or cancellation reason.
    pub note: Option<String>,
    /// Bumped by every change the card shows.
    pub card_version: i64,
    /// The card version the posted card shows; a lower one than `card_version` means it is stale.
    pub card_shown: i64,
    /// Answers to the purchase that could not be read (its outcome was unknown).
    pub unclear_answers: u32,
}

impl RequestRecord {
    /// Where follow-up posts go: the request's thread, else its channel.
    pub fn post_channel(&self) -> Option<ChannelId> {
        self.thread_id.or(self.channel_id)
    }
}

/// The columns of `requests`, in the order the decoder reads them.
pub(super) const REQUEST_COLUMNS: &str = "id, state, requester_id, requester_name, guild_id, channel_id, message_id, \
     thread_id, spec, quote, approval_hash, monthly_fen, approvals_needed, quoted_at, quote_request_id, \
     dry_run_request_id, balance_warning, created_at, updated_at, expires_at, attempt, client_token, next_attempt_at, \
     keep_trying_until, failure, decided_by, note, card_version, card_shown, unclear_answers, kind, requester_roles";

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {error}"))
}

fn snowflake<T: StoredId>(value: Option<i64>) -> Option<T> {
    value.map(T::from_stored)
}

pub(super) fn decode_request(row: &impl RowExt) -> StoreResult<RequestRecord> {
    let state_text = row.text("state")?;
    let failure = match row.opt_text("failure")? {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| corrupt("request failure", e))?),
        None => None,
    };
    Ok(RequestRecord {
        id: RequestId::new(row.int("id")?),
        state: RequestState::parse(&state_text).ok_or_else(|| corrupt("request state", &state_text))?,
        requester_id: UserId::from_stored(row.int("requester_id")?),
        requester_name: row.text("requester_name")?,
        requester_roles: roles_from_stored(&row.text("requester_roles")?)?,
        guild_id: snowflake(row.opt_int("guild_id")?),
        channel_id: snowflake(row.opt_int("channel_id")?),
        message_id: snowflake(row.opt_int("message_id")?),
        thread_id: snowflake(row.opt_int("thread_id")?),
        operation: operation(&row.text("kind")?, &row.text("spec")?)?,
        quote: serde_json::from_str(&row.text("quote")?).map_err(|e| corrupt("request quote", e))?,
        approval_hash: row.text("approval_hash")?,
        monthly_fen: row.int("monthly_fen")?,
        approvals_needed: row.int("approvals_needed")? as u32,
        quoted_at: from_ms(row.int("quoted_at")?),
        quote_request_id: row.opt_text("quote_request_id")?,
        dry_run_request_id: row.opt_text("dry_run_request_id")?,
        balance_warning: row.opt_text("balance_warning")?,
        created_at: from_ms(row.int("created_at")?),
        updated_at: from_ms(row.int("updated_at")?),
        expires_at: from_ms(row.int("expires_at")?),
        attempt: row.int("attempt")? as u32,
        client_token: row.opt_text("client_token")?,
        next_attempt_at: row.opt_int("next_attempt_at")?.map(from_ms),
        keep_trying_until: row.opt_int("keep_trying_until")?.map(from_ms),
        failure,
        decided_by: row.opt_text("decided_by")?,
        note: row.opt_text("note")?,
        card_version: row.int("card_version")?,
        card_shown: row.int("card_shown")?,
        unclear_answers: row.int("unclear_answers")? as u32,
    })
}

/// Roles as stored: a JSON array of role ids as strings (`["900"]`).
pub(super) fn roles_to_stored(roles: &[RoleId]) -> String {
    let ids: Vec<String> = roles.iter().map(ToString::to_string).collect();
    serde_json::to_string(&ids).expect("strings serialize")
}

/// Reads [`roles_to_stored`]'s text.
pub(super) fn roles_from_stored(text: &str) -> StoreResult<Vec<RoleId>> {
    let ids: Vec<String> = serde_json::from_str(text).map_err(|e| corrupt("requester roles", e))?;
    ids.iter()
        .map(|id| id.parse().map(RoleId::new).map_err(|e| corrupt("requester role", e)))
        .collect()
}

fn operation(kind: &str, payload: &str) -> StoreResult<Operation> {
    let kind = OperationKind::parse(kind).ok_or_else(|| corrupt("request kind", kind))?;
    Operation::from_stored(kind, payload).map_err(|e| corrupt("request operation", e))
}

/// A request to store.
#[derive(Clone, Debug)]
pub struct NewRequest {
    /// Who files it.
    pub requester: Person,
    /// The guild (server) it is filed from, if any.
    pub guild_id: Option<GuildId>,
    /// The channel it is filed from, where its card is posted, if any.
    pub channel_id: Option<ChannelId>,
    /// What it asks of Tencent Cloud.
    pub operation: Operation,
    /// The price, for all its instances together.
    pub quote: Quote,
    /// SHA-256 (hex) of the operation and the quote: what an approval approves.
    pub approval_hash: String,
    /// The quote's cost per month-equivalent, fen (rounded up).
    pub monthly_fen: i64,
    /// How many approvals the quote's tier needs.
    pub approvals_needed: u32,
    /// Tencent's RequestId of the quote.
    pub quote_request_id: Option<String>,
    /// Tencent's RequestId of the dry run, if it passed.
    pub dry_run_request_id: Option<String>,
    /// Warnings from the balance check and the dry run, shown on the card.
    pub balance_warning: Option<String>,
    /// When it is filed (and quoted).
    pub now: OffsetDateTime,
    /// When it expires if still pending.
    pub expires_at: OffsetDateTime,
}

/// A vote as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteRecord {
    /// The request voted on.
    pub request_id: RequestId,
    /// Who voted.
    pub voter_id: UserId,
    /// Their display name when they voted.
    pub voter_name: String,
    /// Approve (true) or reject.
    pub approve: bool,
    /// The approval hash the vote was cast on; only votes on the current hash count.
    pub approval_hash: String,
    /// Why, if the voter said.
    pub reason: Option<String>,
    /// How it was cast.
    pub via: VoteVia,
    /// When it was cast.
    pub cast_at: OffsetDateTime,
}

pub(super) fn decode_vote(row: &impl RowExt) -> StoreResult<VoteRecord> {
    Ok(VoteRecord {
        request_id: RequestId::new(row.int("request_id")?),
        voter_id: UserId::from_stored(row.int("voter_id")?),
        voter_name: row.text("voter_name")?,
        approve: row.flag("approve")?,
        approval_hash: row.text("approval_hash")?,
        reason: row.opt_text("reason")?,
        via: {
            let text = row.text("via")?;
            VoteVia::parse(&text).ok_or_else(|| corrupt("vote via", &text))?
        },
        cast_at: from_ms(row.int("cast_at")?),
    })
}
