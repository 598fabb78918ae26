//! What the store keeps, as the engine reads it.

use super::session::RowExt;
use super::{StoreError, StoreResult, from_ms};
use crate::domain::{
    ChannelId, GuildId, MessageId, Operation, OperationKind, Person, Quote, RequestId, RequestState, StoredId, UserId,
    VoteVia,
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
#[allow(missing_docs)]
pub struct RequestRecord {
    pub id: RequestId,
    pub state: RequestState,
    pub requester_id: UserId,
    pub requester_name: String,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    pub message_id: Option<MessageId>,
    pub thread_id: Option<ChannelId>,
    /// What it asks of Tencent Cloud.
    pub operation: Operation,
    pub quote: Quote,
    pub approval_hash: String,
    pub monthly_fen: i64,
    pub approvals_needed: u32,
    pub quoted_at: OffsetDateTime,
    pub quote_request_id: Option<String>,
    pub dry_run_request_id: Option<String>,
    pub balance_warning: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Submission attempt number (0 before approval).
    pub attempt: u32,
    pub client_token: Option<String>,
    pub next_attempt_at: Option<OffsetDateTime>,
    pub keep_trying_until: Option<OffsetDateTime>,
    pub failure: Option<Failure>,
    /// Who rejected or cancelled it.
    pub decided_by: Option<String>,
    /// The rejection or cancellation reason.
    pub note: Option<String>,
    pub card_version: i64,
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
     keep_trying_until, failure, decided_by, note, card_version, card_shown, unclear_answers, kind";

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

fn operation(kind: &str, payload: &str) -> StoreResult<Operation> {
    let kind = OperationKind::parse(kind).ok_or_else(|| corrupt("request kind", kind))?;
    Operation::from_stored(kind, payload).map_err(|e| corrupt("request operation", e))
}

/// A request to store.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub struct NewRequest {
    pub requester: Person,
    pub guild_id: Option<GuildId>,
    pub channel_id: Option<ChannelId>,
    pub operation: Operation,
    pub quote: Quote,
    pub approval_hash: String,
    pub monthly_fen: i64,
    pub approvals_needed: u32,
    pub quote_request_id: Option<String>,
    pub dry_run_request_id: Option<String>,
    pub balance_warning: Option<String>,
    pub now: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A vote as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VoteRecord {
    pub request_id: RequestId,
    pub voter_id: UserId,
    pub voter_name: String,
    pub approve: bool,
    /// The approval hash the vote was cast on; only votes on the current hash count.
    pub approval_hash: String,
    pub reason: Option<String>,
    /// How it was cast.
    pub via: VoteVia,
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
