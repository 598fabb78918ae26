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

/// How long balance readings are kept (the runway chart shows the last weeks).
pub const READINGS_KEPT: time::Duration = time::Duration::days(90);

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

    /// The balance readings since `since`, oldest first: (when, spendable).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn balance_readings(&mut self, since: OffsetDateTime) -> StoreResult<Vec<(OffsetDateTime, Fen)>> {
        const SQL: &str =
            "SELECT checked_at, spendable_fen FROM balance_readings WHERE checked_at >= $1 ORDER BY checked_at";
        on_backend!(self, |conn| Ok(sqlx::query_as::<_, (i64, i64)>(SQL)
            .bind(to_ms(since))
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(at, fen)| (from_ms(at), Fen::new(fen)))
            .collect()))
    }

    /// Saves the monitor's state, and the reading among the readings (dropping those older than
    /// [`READINGS_KEPT`]).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn save_balance_watch(&mut self, watch: &BalanceWatch) -> StoreResult<()> {
        const SQL: &str = "INSERT INTO balance_watch (id, spendable_fen, owe_fen, checked_at, warned_level, last_alert_at) \
             VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET spendable_fen = excluded.spendable_fen, \
             owe_fen = excluded.owe_fen, checked_at = excluded.checked_at, warned_level = excluded.warned_level, \
             last_alert_at = excluded.last_alert_at";
        const READING: &str = "INSERT INTO balance_readings (checked_at, spendable_fen, owe_fen) VALUES ($1, $2, $3) \
             ON CONFLICT (checked_at) DO UPDATE SET spendable_fen = excluded.spendable_fen, owe_fen = excluded.owe_fen";
        const PRUNE: &str = "DELETE FROM balance_readings WHERE checked_at < $1";
        on_backend!(self, |conn| {
            sqlx::query(SQL)
                .bind(watch.spendable.get())
                .bind(watch.owe.get())
                .bind(to_ms(watch.checked_at))
                .bind(i64::from(watch.warned_level))
                .bind(watch.last_alert_at.map(to_ms))
                .execute(&mut *conn)
                .await?;
            sqlx::query(READING)
                .bind(to_ms(watch.checked_at))
                .bind(watch.spendable.get())
                .bind(watch.owe.get())
                .execute(&mut *conn)
                .await?;
            sqlx::query(PRUNE)
                .bind(to_ms(watch.checked_at - READINGS_KEPT))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    }
}
