//! Budgets' memory and guard: which threshold crossings were told (once per budget, month,
//! threshold and figure), a lock per budget so concurrent filings can't both pass a budget only
//! one fits under, and the month's requests a budget holds against its amount.

use super::records::roles_from_stored;
use super::session::on_backend;
use super::{Session, StoreResult, to_ms};
use crate::domain::{RequestId, RoleId, StoredId, UserId};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;

/// Which of the month's requests a budget holds against its amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holding {
    /// For a budget of spend: those that commit money but do not spend it yet (pending, approved,
    /// or being bought); what they bought is counted as spend.
    NotSpendingYet,
    /// For a budget of requests, as the monthly caps count: every request but those rejected,
    /// refused, cancelled, expired or failed; pending ones only `with_pending` (at a filing, not at
    /// an approval).
    Requested {
        /// Whether pending requests count.
        with_pending: bool,
    },
}

impl Holding {
    /// The states held, as SQL. (`done`: a carried-out renewal or fleet change keeps what it
    /// committed; a release's or an extension's month-equivalent is 0.)
    pub(super) fn states(self) -> &'static str {
        match self {
            Holding::NotSpendingYet => "'pending', 'approved', 'submitting'",
            Holding::Requested { with_pending: true } => {
                "'pending', 'approved', 'submitting', 'submitted', 'active', 'partially_active', 'launch_failed', 'done'"
            }
            Holding::Requested { with_pending: false } => {
                "'approved', 'submitting', 'submitted', 'active', 'partially_active', 'launch_failed', 'done'"
            }
        }
    }
}

/// A request of the month that a budget holds against its amount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commitment {
    /// The request.
    pub request_id: RequestId,
    /// Who asked.
    pub requester_id: UserId,
    /// The roles they held when they asked.
    pub requester_roles: Vec<RoleId>,
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

    /// Requests filed since `since` in the states `holding` names. (A budget of spend holds only
    /// positive month-equivalents; a budget of requests sums them all, as the caps did.)
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn commitments_since(&mut self, since: OffsetDateTime, holding: Holding) -> StoreResult<Vec<Commitment>> {
        let positive = match holding {
            Holding::NotSpendingYet => "AND monthly_fen > 0",
            Holding::Requested { .. } => "",
        };
        let sql = AssertSqlSafe(format!(
            "SELECT id, requester_id, monthly_fen, requester_roles FROM requests WHERE created_at >= $1 {positive} \
             AND state IN ({}) ORDER BY id",
            holding.states()
        ));
        let rows = on_backend!(self, |conn| sqlx::query_as::<_, (i64, i64, i64, String)>(sql)
            .bind(to_ms(since))
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter()
            .map(|(id, requester, monthly_fen, roles)| {
                Ok(Commitment {
                    request_id: RequestId::new(id),
                    requester_id: UserId::from_stored(requester),
                    requester_roles: roles_from_stored(&roles)?,
                    monthly_fen,
                })
            })
            .collect()
    }
}
