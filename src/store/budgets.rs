//! Budgets' memory and guard: which threshold crossings were told (once per budget, billing
//! month, threshold and figure), a lock per budget so concurrent filings can't both pass a
//! budget only one fits under, and the month-equivalents committed but not spending yet.

use super::session::on_backend;
use super::{Session, StoreResult, to_ms};
use crate::domain::{RequestId, StoredId, UserId};
use time::OffsetDateTime;

/// A request committed this month whose servers do not cost money yet (waiting for approval, or
/// approved and not yet bought).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// The request.
    pub request_id: RequestId,
    /// Who asked.
    pub requester_id: UserId,
    /// Its month-equivalent, fen.
    pub monthly_fen: i64,
}

impl Session {
    /// Records that `budget`'s `threshold` was crossed by `kind` (`forecast`, `actual`) in `month`
    /// (`YYYY-MM`); false when it was already recorded, so it is not told again.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_budget_alert(
        &mut self,
        budget: &str,
        month: &str,
        threshold: u32,
        kind: &str,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        const SQL: &str = "INSERT INTO budget_alerts (budget, month, threshold, kind, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (budget, month, threshold, kind) DO NOTHING";
        on_backend!(self, |conn| {
            let done = sqlx::query(SQL)
                .bind(budget)
                .bind(month)
                .bind(i64::from(threshold))
                .bind(kind)
                .bind(to_ms(at))
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Takes `budget`'s lock until the transaction ends, so what it reads of the budget's
    /// commitments stays true until it commits.
    pub async fn lock_budget(&mut self, budget: &str) -> StoreResult<()> {
        // An upsert, so the first filing against a budget creates its row and locks it.
        const SQL: &str = "INSERT INTO budget_locks (scope, touched) VALUES ($1, 1) \
             ON CONFLICT (scope) DO UPDATE SET touched = budget_locks.touched + 1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(format!("budget:{budget}"))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }

    /// Requests filed since `since` that commit money but do not spend it yet: pending, approved,
    /// or being bought.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn commitments_since(&mut self, since: OffsetDateTime) -> StoreResult<Vec<Commitment>> {
        const SQL: &str = "SELECT id, requester_id, monthly_fen FROM requests WHERE created_at >= $1 \
             AND monthly_fen > 0 AND state IN ('pending', 'approved', 'submitting') ORDER BY id";
        on_backend!(self, |conn| Ok(sqlx::query_as::<_, (i64, i64, i64)>(SQL)
            .bind(to_ms(since))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(id, requester, monthly_fen)| Commitment {
                request_id: RequestId::new(id),
                requester_id: UserId::from_stored(requester),
                monthly_fen,
            })
            .collect()))
    }
}
