//! The balance monitor's memory: the last reading and the deepest warning given, so a warning is
//! not repeated until the balance recovers, falls to a lower tier, or the reminder is due.

use super::session::{RowExt, on_backend};
use super::{Session, StoreResult, from_ms, to_ms};
use crate::money::Fen;
use time::OffsetDateTime;

/// The balance monitor's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalanceWatch {
    /// Spendable balance at the last reading.
    pub spendable: Fen,
    /// Owed at the last reading.
    pub owe: Fen,
    /// When it was read.
    pub checked_at: OffsetDateTime,
    /// How many warning tiers the balance is below (0: none); one past the last tier means owing.
    pub warned_level: u32,
    /// When the last alert was posted.
    pub last_alert_at: Option<OffsetDateTime>,
}

fn decode(row: &impl RowExt) -> StoreResult<BalanceWatch> {
    Ok(BalanceWatch {
        spendable: Fen::new(row.int("spendable_fen")?),
        owe: Fen::new(row.int("owe_fen")?),
        checked_at: from_ms(row.int("checked_at")?),
        warned_level: row.int("warned_level")? as u32,
        last_alert_at: row.opt_int("last_alert_at")?.map(from_ms),
    })
}

impl Session {
    /// The monitor's state, if a balance was ever read.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn balance_watch(&mut self) -> StoreResult<Option<BalanceWatch>> {
        const SQL: &str =
            "SELECT spendable_fen, owe_fen, checked_at, warned_level, last_alert_at FROM balance_watch WHERE id = 1";
        on_backend!(self, |conn| sqlx::query(SQL)
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| decode(&r))
            .transpose())
    }

    /// Saves the monitor's state.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_balance_watch(&mut self, watch: &BalanceWatch) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO balance_watch (id, spendable_fen, owe_fen, checked_at, warned_level, last_alert_at) \
             VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET spendable_fen = excluded.spendable_fen, \
             owe_fen = excluded.owe_fen, checked_at = excluded.checked_at, warned_level = excluded.warned_level, \
             last_alert_at = excluded.last_alert_at";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(watch.spendable.get())
                .bind(watch.owe.get())
                .bind(to_ms(watch.checked_at))
                .bind(i64::from(watch.warned_level))
                .bind(watch.last_alert_at.map(to_ms))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }
}
