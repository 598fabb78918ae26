//! The pass that tells the alert channel of each budget threshold reached this month, once: by
//! the spend or its forecast for a budget of spend, by what was approved for a budget of requests.

use super::this_month;
use crate::desk::{Desk, DeskError, Event};
use crate::domain::{Budget, BudgetScope, Counts};
use crate::store::{Holding, NewNotification};
use tracing::info;

impl Desk {
    /// Tells the alert channel of every budget threshold the month's figures reached that it was
    /// not told of yet, each in a post of its own: the forecast's first, then the spend's, each
    /// lowest first (a forecast reaches a threshold before the spend does). Each crossing is
    /// recorded in the transaction that queues its notice, so none is told twice, across restarts
    /// and by a second replica.
    pub async fn watch_budgets(&self) -> Result<(), DeskError> {
        // Each requester's share (the requester cap) has no one figure to tell of, and the caps
        // have no thresholds: they tell nobody, as they never did.
        let watched: Vec<&Budget> = self
            .settings()
            .budgets
            .iter()
            .filter(|b| !b.thresholds.is_empty() && b.scope != BudgetScope::EachRequester)
            .collect();
        let mut bills = None;
        for budget in watched {
            let now = self.clock().now();
            let (spent, forecast) = match budget.counts {
                Counts::Spend => {
                    if bills.is_none() {
                        bills = Some(self.period_bills(&this_month(now)).await);
                    }
                    let figures = self
                        .budget_spend_from(budget, bills.as_ref().expect("read above"))
                        .await?;
                    (figures.spent, figures.forecast)
                }
                Counts::Requested => {
                    let mut session = self.store().session().await?;
                    let approved = (
                        Holding::Requested { with_pending: false },
                        budget.counts.month_start(now),
                    );
                    let requested = self.held(&mut session, &budget.scope, approved, None).await?.to_yuan();
                    (requested, requested)
                }
            };
            let crossings = budget.crossings(spent, forecast);
            if crossings.is_empty() {
                continue;
            }
            let month = budget.counts.month_of(now);
            let mut tx = self.store().begin().await?;
            let mut told = 0;
            for crossing in crossings {
                let figure = crossing.figure;
                if !tx
                    .record_budget_alert(&budget.name, &month, crossing.threshold, figure.as_str(), now)
                    .await?
                {
                    continue;
                }
                let event = Event::BudgetCrossed {
                    budget: budget.name.clone(),
                    scope: budget.scope.describe(),
                    month: month.clone(),
                    threshold: crossing.threshold,
                    figure,
                    spent,
                    forecast,
                    monthly: budget.monthly,
                    counts: budget.counts,
                };
                let row = NewNotification {
                    dedupe_key: format!(
                        "budget:{}:{month}:{}:{}",
                        budget.name,
                        crossing.threshold,
                        figure.as_str()
                    ),
                    request_id: None,
                    target: "alert".into(),
                    body: serde_json::to_string(&event).expect("events serialize"),
                    at: now,
                };
                tx.enqueue_notification(&row).await?;
                told += 1;
                info!(budget = %budget.name, threshold = crossing.threshold, figure = figure.as_str(), "budget threshold reached");
            }
            tx.commit().await?;
            if told > 0 {
                self.wake_dispatcher();
            }
        }
        Ok(())
    }
}
