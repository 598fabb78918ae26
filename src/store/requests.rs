//! Queries on requests and votes.

use super::records::{REQUEST_COLUMNS, decode_request, decode_vote};
use super::session::on_backend;
use super::{Failure, NewRequest, RequestRecord, Session, StoreError, StoreResult, VoteRecord, to_ms};
use crate::domain::{ChannelId, MessageId, OperationKind, Quote, RequestId, RequestState, StoredId, UserId};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

/// Which requests `/cvm list` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFilter {
    /// Waiting for approval.
    Pending,
    /// Filed by this user.
    Mine(UserId),
    /// Everything.
    All,
}

/// A guarded state change: applied only if the request is still in `from`.
#[derive(Clone, Copy, Debug)]
pub struct Transition {
    /// The state the change expects.
    pub from: RequestState,
    /// The new state.
    pub to: RequestState,
    /// When.
    pub at: OffsetDateTime,
}

/// A renewed quote, as [`Session::set_quote`] stores it.
#[derive(Clone, Copy, Debug)]
pub struct Requote<'a> {
    /// The new quote.
    pub quote: &'a Quote,
    /// Its approval hash.
    pub approval_hash: &'a str,
    /// Its cost per month-equivalent, fen.
    pub monthly_fen: i64,
    /// The approvals that cost needs.
    pub approvals_needed: u32,
    /// When it was quoted.
    pub at: OffsetDateTime,
    /// Tencent's RequestId of the quote.
    pub quote_request_id: &'a str,
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("stored values serialize")
}

fn select(condition: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE {condition}"))
}

impl Session {
    /// Stores a new pending request; returns its id.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn insert_request(&mut self, new: &NewRequest) -> StoreResult<RequestId> {
        const SQL: &str = "INSERT INTO requests (state, requester_id, requester_name, guild_id, channel_id, spec, quote, \
             approval_hash, monthly_fen, approvals_needed, quoted_at, quote_request_id, dry_run_request_id, \
             balance_warning, created_at, updated_at, expires_at, kind, requester_roles) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $11, $11, $15, $16, $17) RETURNING id";
        let (payload, quote) = (new.operation.payload(), json(&new.quote));
        let roles = super::records::roles_to_stored(&new.requester.roles);
        on_backend!(self, |conn| {
            Ok(RequestId::new(
                sqlx::query_scalar::<_, i64>(SQL)
                    .bind(RequestState::Pending.as_str())
                    .bind(new.requester.id.to_stored())
                    .bind(&new.requester.name)
                    .bind(new.guild_id.map(StoredId::to_stored))
                    .bind(new.channel_id.map(StoredId::to_stored))
                    .bind(&payload)
                    .bind(&quote)
                    .bind(&new.approval_hash)
                    .bind(new.monthly_fen)
                    .bind(i64::from(new.approvals_needed))
                    .bind(to_ms(new.now))
                    .bind(&new.quote_request_id)
                    .bind(&new.dry_run_request_id)
                    .bind(&new.balance_warning)
                    .bind(to_ms(new.expires_at))
                    .bind(new.operation.kind().as_str())
                    .bind(&roles)
                    .fetch_one(&mut *conn)
                    .await?,
            ))
        })
    }

    /// The request `id`.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn request(&mut self, id: RequestId) -> StoreResult<Option<RequestRecord>> {
        self.find_request(select("id = $1"), id.get()).await
    }

    /// The request `sql` finds with `key` as `$1`.
    async fn find_request(&mut self, sql: AssertSqlSafe<String>, key: i64) -> StoreResult<Option<RequestRecord>> {
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?
                .map(|r| decode_request(&r))
                .transpose()
        })
    }

    /// Locks the request row for the rest of the transaction and returns it. Every state change
    /// starts here, so changes to one request are serialized on both backends.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn lock_request(&mut self, id: RequestId) -> StoreResult<Option<RequestRecord>> {
        let sql = AssertSqlSafe(format!(
            "UPDATE requests SET version = version + 1 WHERE id = $1 RETURNING {REQUEST_COLUMNS}"
        ));
        self.find_request(sql, id.get()).await
    }

    /// Requests of `kind` that are not final yet (filed, approved or being carried out).
    #[tracing::instrument(level = "debug", skip_all, fields(kind = %kind))]
    pub async fn open_requests(&mut self, kind: OperationKind) -> StoreResult<Vec<RequestRecord>> {
        let sql = select(
            "kind = $1 AND state IN ('pending', 'approved', 'submitting', 'submitted', 'partially_active') ORDER BY id",
        );
        on_backend!(self, |conn| {
            sqlx::query(sql)
                .bind(kind.as_str())
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(decode_request)
                .collect()
        })
    }

    /// The request whose chat message is `message_id`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn request_by_message(&mut self, message_id: MessageId) -> StoreResult<Option<RequestRecord>> {
        self.find_request(select("message_id = $1"), message_id.to_stored())
            .await
    }

    /// Records where the request's card was posted, and the card version it showed (a vote cast
    /// while it was being posted leaves the card stale, to be edited; `None`: the current one).
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn attach_message(
        &mut self,
        id: RequestId,
        channel_id: ChannelId,
        message_id: MessageId,
        thread_id: Option<ChannelId>,
        shown_version: Option<i64>,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET channel_id = $2, message_id = $3, thread_id = COALESCE($4, thread_id), \
             card_shown = COALESCE($5, card_version) WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(channel_id.to_stored())
                .bind(message_id.to_stored())
                .bind(thread_id.map(StoredId::to_stored))
                .bind(shown_version)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Requests still under way whose card was never posted (filed with a channel but no message,
    /// by a version of cvmbot that posted cards outside the outbox): their cards are queued.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn requests_without_cards(&mut self) -> StoreResult<Vec<RequestId>> {
        const SQL: &str = "SELECT id FROM requests WHERE message_id IS NULL AND channel_id IS NOT NULL \
             AND state IN ('pending', 'approved', 'submitting', 'submitted', 'partially_active') ORDER BY id";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(RequestId::new)
            .collect()))
    }

    /// Requests for a listing, newest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_requests(&mut self, filter: ListFilter, limit: i64) -> StoreResult<Vec<RequestRecord>> {
        let (condition, user) = match filter {
            ListFilter::Pending => ("state = 'pending'", 0),
            ListFilter::Mine(user) => ("requester_id = $2", user.to_stored()),
            ListFilter::All => ("1 = 1", 0),
        };
        let sql = AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE {condition} ORDER BY id DESC LIMIT $1"
        ));
        on_backend!(self, |conn| {
            let mut query = sqlx::query(sql).bind(limit);
            if user != 0 {
                query = query.bind(user);
            }
            query.fetch_all(&mut *conn).await?.iter().map(decode_request).collect()
        })
    }

    /// Moves the request from `t.from` to `t.to`. Every caller has locked the row and seen it in
    /// `t.from`, so a request found in another state is an error (the transaction rolls back),
    /// never a silent no-op. The chat card is marked for re-rendering.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn transition(&mut self, id: RequestId, t: Transition) -> StoreResult<()> {
        if !t.from.can_become(t.to) {
            return Err(StoreError::Corrupt(format!(
                "request {id}: {} cannot become {}",
                t.from, t.to
            )));
        }
        const SQL: &str = "UPDATE requests SET state = $3, updated_at = $4, card_version = card_version + 1 \
             WHERE id = $1 AND state = $2";
        let moved = on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(t.from.as_str())
                .bind(t.to.as_str())
                .bind(to_ms(t.at))
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        if moved != 1 {
            return Err(StoreError::Corrupt(format!(
                "request {id} was to move from {} to {} but is no longer {}",
                t.from, t.to, t.from
            )));
        }
        Ok(())
    }

    /// Sets the submission attempt, its ClientToken and when to (re)try it; a new attempt starts
    /// with no unclear answers.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_submission(
        &mut self,
        id: RequestId,
        attempt: u32,
        client_token: &str,
        next_attempt_at: OffsetDateTime,
        keep_trying_until: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET attempt = $2, client_token = $3, next_attempt_at = $4, \
             keep_trying_until = COALESCE($5, keep_trying_until), unclear_answers = 0 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(i64::from(attempt))
                .bind(client_token)
                .bind(to_ms(next_attempt_at))
                .bind(keep_trying_until.map(to_ms))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Sets when the submitter should look at the request again.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_next_attempt(&mut self, id: RequestId, at: Option<OffsetDateTime>) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET next_attempt_at = $2 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(at.map(to_ms))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Stores (or clears) the explained Tencent failure.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_failure(&mut self, id: RequestId, failure: Option<&Failure>) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET failure = $2, card_version = card_version + 1 WHERE id = $1";
        let failure = failure.map(json);
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(&failure)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Records who decided (rejected, cancelled) and why.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_decision(&mut self, id: RequestId, by: &str, note: Option<&str>) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET decided_by = $2, note = $3 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(by)
                .bind(note)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Raises the approvals a pending request needs (a budget it now goes over asks one more).
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_approvals_needed(&mut self, id: RequestId, needed: u32) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET approvals_needed = $2 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(i64::from(needed))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Replaces the quote after a re-quote: with it the approval hash (so only votes on the new
    /// price count), the monthly cost and the approvals that cost needs.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_quote(&mut self, id: RequestId, requote: &Requote<'_>) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET quote = $2, approval_hash = $3, monthly_fen = $4, approvals_needed = $5, \
             quoted_at = $6, quote_request_id = $7, card_version = card_version + 1 WHERE id = $1";
        let quote = json(requote.quote);
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(&quote)
                .bind(requote.approval_hash)
                .bind(requote.monthly_fen)
                .bind(i64::from(requote.approvals_needed))
                .bind(to_ms(requote.at))
                .bind(requote.quote_request_id)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Gives a request sent back for approval a new deadline.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn set_expiry(&mut self, id: RequestId, expires_at: OffsetDateTime) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET expires_at = $2 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(to_ms(expires_at))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Counts one more answer to the request's purchase that could not be read; returns the count.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn note_unclear_answer(&mut self, id: RequestId) -> StoreResult<i64> {
        const SQL: &str =
            "UPDATE requests SET unclear_answers = unclear_answers + 1 WHERE id = $1 RETURNING unclear_answers";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(id.get())
            .fetch_one(&mut *conn)
            .await?))
    }

    /// Takes the filing lock for the rest of the transaction: the claims a filing makes (no other
    /// open release or renewal of these servers, no second fleet of a name, …) and the release a
    /// lifetime files take it first, so two of them can't both pass (on PostgreSQL the row lock
    /// waits for the other transaction to commit; SQLite has one writer at a time anyway). Its row
    /// is named for the caps, which took it once; they are budgets now, each under its own lock
    /// ([`Session::lock_budget`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lock_monthly_caps(&mut self) -> StoreResult<()> {
        // An upsert, so the lock holds even if the row was lost: it locks the row it inserts or updates.
        const SQL: &str = "INSERT INTO budget_locks (scope, touched) VALUES ('monthly_caps', 1) \
             ON CONFLICT (scope) DO UPDATE SET touched = budget_locks.touched + 1";
        on_backend!(self, |conn| {
            sqlx::query(SQL).execute(&mut *conn).await?;
            Ok(())
        })
    }

    /// Ids of requests the submitter should work on now: approved ones that are due, and
    /// submissions whose outcome is unknown (a crash or network failure after sending) that are due
    /// for a resend with the same ClientToken.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn due_submissions(&mut self, now: OffsetDateTime, limit: i64) -> StoreResult<Vec<RequestId>> {
        const SQL: &str = "SELECT id FROM requests WHERE state IN ('approved', 'submitting') \
             AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2";
        on_backend!(self, |conn| {
            Ok(sqlx::query_scalar::<_, i64>(SQL)
                .bind(to_ms(now))
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(RequestId::new)
                .collect())
        })
    }

    /// Ids of pending requests past their expiry.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn expired_pending(&mut self, now: OffsetDateTime) -> StoreResult<Vec<RequestId>> {
        const SQL: &str = "SELECT id FROM requests WHERE state = 'pending' AND expires_at <= $1 ORDER BY id";
        on_backend!(self, |conn| Ok(sqlx::query_scalar::<_, i64>(SQL)
            .bind(to_ms(now))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(RequestId::new)
            .collect()))
    }

    /// Month-equivalent fen committed since `since` by `requester_id` and by everyone, counting
    /// pending requests too when `with_pending`, and never `except` (the request being decided):
    /// in one sum, what the two caps' budgets hold (the desk judges them, like every budget of
    /// requests, from [`Session::commitments_since`] over the same states).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn committed_since(
        &mut self,
        requester_id: UserId,
        since: OffsetDateTime,
        with_pending: bool,
        except: Option<RequestId>,
    ) -> StoreResult<(i64, i64)> {
        // The states a budget of requests holds, as the caps always counted.
        let states = super::Holding::Requested { with_pending }.states();
        let sql = AssertSqlSafe(format!(
            "SELECT CAST(COALESCE(SUM(CASE WHEN requester_id = $1 THEN monthly_fen ELSE 0 END), 0) AS BIGINT), \
                    CAST(COALESCE(SUM(monthly_fen), 0) AS BIGINT) \
             FROM requests WHERE created_at >= $2 AND id <> $3 AND state IN ({states})"
        ));
        on_backend!(self, |conn| {
            Ok(sqlx::query_as::<_, (i64, i64)>(sql)
                .bind(requester_id.to_stored())
                .bind(to_ms(since))
                .bind(except.map_or(0, RequestId::get))
                .fetch_one(&mut *conn)
                .await?)
        })
    }

    /// Requests whose chat card changed since it was last shown.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn stale_cards(&mut self, limit: i64) -> StoreResult<Vec<RequestRecord>> {
        let sql = AssertSqlSafe(format!(
            "SELECT {REQUEST_COLUMNS} FROM requests WHERE card_version > card_shown AND message_id IS NOT NULL \
             ORDER BY updated_at LIMIT $1"
        ));
        on_backend!(self, |conn| sqlx::query(sql)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode_request)
            .collect())
    }

    /// Marks the card as shown up to `version` (never backwards).
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn mark_card_shown(&mut self, id: RequestId, version: i64) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET card_shown = $2 WHERE id = $1 AND card_shown < $2";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(id.get())
                .bind(version)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Asks for the card to be re-rendered.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %id))]
    pub async fn bump_card(&mut self, id: RequestId) -> StoreResult<()> {
        const SQL: &str = "UPDATE requests SET card_version = card_version + 1 WHERE id = $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL).bind(id.get()).execute(&mut *conn).await?;
            Ok(())
        })
    }

    /// Records a vote; false when this voter already voted on the request at this approval hash.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn insert_vote(&mut self, vote: &VoteRecord) -> StoreResult<bool> {
        const SQL: &str = "INSERT INTO votes (request_id, voter_id, voter_name, approve, approval_hash, reason, via, cast_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (request_id, voter_id, approval_hash) DO NOTHING";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(vote.request_id.get())
                .bind(vote.voter_id.to_stored())
                .bind(&vote.voter_name)
                .bind(vote.approve)
                .bind(&vote.approval_hash)
                .bind(&vote.reason)
                .bind(vote.via.as_str())
                .bind(to_ms(vote.cast_at))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// The votes on a request, oldest first.
    #[tracing::instrument(level = "debug", skip_all, fields(request_id = %request_id))]
    pub async fn votes(&mut self, request_id: RequestId) -> StoreResult<Vec<VoteRecord>> {
        const SQL: &str = "SELECT request_id, voter_id, voter_name, approve, approval_hash, reason, via, cast_at \
             FROM votes WHERE request_id = $1 ORDER BY cast_at, voter_id";
        on_backend!(self, |conn| sqlx::query(SQL)
            .bind(request_id.get())
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(decode_vote)
            .collect())
    }
}
