//! The balance monitor: reads the balance on a schedule (the desk judges it: warnings by tier with
//! hysteresis, reminders, recovery, that it can't be read, the daily digest), and on the same
//! schedule tells the alert channel of budget thresholds reached.

use crate::desk::{BalanceRules, Desk, DeskError};
use crate::money::Yuan;
use std::time::Duration;

/// The balance monitor.
#[derive(Clone)]
pub struct BalanceMonitor {
    desk: Desk,
    rules: BalanceRules,
}

impl BalanceMonitor {
    /// A monitor with warning `tiers` (any order), a reminder interval and an optional digest time.
    pub fn new(desk: Desk, tiers: Vec<Yuan>, reminder: Duration, digest_at: Option<(u8, u8)>) -> BalanceMonitor {
        BalanceMonitor {
            desk,
            rules: BalanceRules::new(tiers, reminder, digest_at),
        }
    }

    /// Reads the balance once and raises what it calls for; then the budgets' pass (which runs
    /// even when the balance could not be read: budgets are about spend, not the balance).
    #[tracing::instrument(name = "balance watch", skip_all)]
    pub async fn run_once(&self) -> Result<(), DeskError> {
        let balance = self.desk.watch_balance(&self.rules).await;
        let budgets = self.desk.watch_budgets().await;
        balance.and(budgets)
    }
}
