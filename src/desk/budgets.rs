//! Budgets at work: a budget's spend this billing month (from [`Desk::spend`], its scope's
//! groups) and its forecast; the pass that tells the alert channel, once, of each threshold the
//! spend or the forecast reaches; and the check at filing (inside the filing transaction, under
//! the budget's lock, so two requests cannot both pass a budget only one fits under).

use super::{Desk, DeskError, Event, Spend};
use crate::domain::budget::{self, Budget, BudgetScope};
use crate::domain::spend::{BILLING_OFFSET, SpendBy, SpendPeriod};
use crate::domain::{BillingKind, Operation, OverBudget};
use crate::money::{Fen, Yuan};
use crate::store::{NewNotification, RequestRecord, Session};
use crate::tencent::enums::InstanceState;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use tracing::info;

/// A budget's figures this billing month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetSpend {
    /// The scope's spend per day this month (its groups only), for the chart.
    pub spend: Spend,
    /// Spent so far this month.
    pub spent: Yuan,
    /// What the scope's running hourly servers burn per hour.
    pub burn_per_hour: Yuan,
    /// Spent so far plus the burn for the hours left in the month.
    pub forecast: Yuan,
}

/// The tags of the servers `operation` buys (none for what buys nothing).
fn tags_of(operation: &Operation) -> BTreeMap<String, String> {
    match operation {
        Operation::Buy(spec) => spec.tags().clone(),
        Operation::Fleet(fleet) => fleet.template.tags().clone(),
        _ => BTreeMap::new(),
    }
}

/// Whether `record` falls in `scope`.
fn covers(scope: &BudgetScope, record: &RequestRecord) -> bool {
    scope.covers(record.requester_id, &tags_of(&record.operation))
}

/// The billing month of `now` so far.
fn this_month(now: OffsetDateTime) -> SpendPeriod {
    let today = now.to_offset(BILLING_OFFSET).date();
    SpendPeriod::parse("month", today).expect("this month is a period")
}

impl Desk {
    /// The budget named `name`, if the configuration has it.
    pub fn budget(&self, name: &str) -> Option<&Budget> {
        self.settings().budgets.iter().find(|b| b.name == name)
    }

    /// `budget`'s spend this billing month and its forecast: [`Desk::spend`] of the servers of
    /// the requests in its scope (by requester id, or carrying its tag), grouped by requester or
    /// by tag.
    pub async fn budget_spend(&self, budget: &Budget) -> Result<BudgetSpend, DeskError> {
        let bills = self.period_bills(&this_month(self.clock().now())).await;
        self.budget_spend_from(budget, &bills).await
    }

    /// [`Desk::budget_spend`] from this month's bills read once for every budget.
    async fn budget_spend_from(
        &self,
        budget: &Budget,
        bills: &(Vec<crate::domain::spend::BillLine>, crate::desk::Bills),
    ) -> Result<BudgetSpend, DeskError> {
        let now = self.clock().now();
        let period = this_month(now);
        let by = match budget.scope {
            BudgetScope::Tag(..) => SpendBy::Tag,
            _ => SpendBy::Requester,
        };
        let mut spend = self
            .spend_where(&period, by, &|r| covers(&budget.scope, r), bills)
            .await?;
        let (start, _) = period.bounds();
        let mut session = self.store().session().await?;
        let instances = session.instances_costing_between(start, now).await?;
        let mut records: BTreeMap<crate::domain::RequestId, Option<RequestRecord>> = BTreeMap::new();
        for instance in &instances {
            if let std::collections::btree_map::Entry::Vacant(slot) = records.entry(instance.request_id) {
                slot.insert(session.request(instance.request_id).await?);
            }
        }
        drop(session);
        let in_scope = |id| {
            records
                .get(&id)
                .and_then(Option::as_ref)
                .filter(|r| covers(&budget.scope, r))
        };
        let burning = |i: &&crate::store::InstanceRecord| {
            i.billing != BillingKind::Prepaid
                && i.gone_at.is_none()
                && i.released_at.is_none()
                && !matches!(
                    i.state,
                    InstanceState::LaunchFailed | InstanceState::Terminating | InstanceState::Shutdown
                )
        };
        let burn_per_hour = Yuan::new(
            instances
                .iter()
                .filter(burning)
                .filter(|i| in_scope(i.request_id).is_some())
                .map(|i| i.hourly_price.amount())
                .sum::<Decimal>(),
        );
        spend.series.title = format!("Budget \"{}\" spend {}", budget.name, period.label());
        let spent = spend.series.total();
        let forecast = budget::forecast(spent, burn_per_hour, budget::hours_left_in_month(now));
        Ok(BudgetSpend {
            spend,
            spent,
            burn_per_hour,
            forecast,
        })
    }

    /// Tells the alert channel of every budget threshold the month's spend or forecast reached
    /// that it was not told of yet, each in a post of its own: the forecast's first, then the
    /// spend's, each lowest first (a forecast reaches a threshold before the spend does). Each
    /// crossing is recorded in the transaction that queues its notice, so none is told twice,
    /// across restarts and by a second replica.
    pub async fn watch_budgets(&self) -> Result<(), DeskError> {
        if self.settings().budgets.is_empty() {
            return Ok(());
        }
        let bills = self.period_bills(&this_month(self.clock().now())).await;
        for budget in &self.settings().budgets {
            let figures = self.budget_spend_from(budget, &bills).await?;
            let crossings = budget.crossings(figures.spent, figures.forecast);
            if crossings.is_empty() {
                continue;
            }
            let now = self.clock().now();
            let month = budget::month_of(now);
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
                    spent: figures.spent,
                    forecast: figures.forecast,
                    monthly: budget.monthly,
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

    /// The budgets a request by `requester_id` for `operation` falls in, with each one's spend so
    /// far this month. Read before the filing transaction (it asks Tencent for the bills).
    pub(super) async fn budgets_touched(
        &self,
        requester_id: crate::domain::UserId,
        operation: &Operation,
    ) -> Result<Vec<(Budget, Yuan)>, DeskError> {
        let tags = tags_of(operation);
        let scopes: Vec<&Budget> = self
            .settings()
            .budgets
            .iter()
            .filter(|b| b.scope.covers(requester_id, &tags))
            .collect();
        let mut touched = Vec::new();
        if scopes.is_empty() {
            return Ok(touched);
        }
        let bills = self.period_bills(&this_month(self.clock().now())).await;
        for budget in scopes {
            let spent = self.budget_spend_from(budget, &bills).await?.spent;
            touched.push((budget.clone(), spent));
        }
        touched.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        Ok(touched)
    }

    /// Whether a further `monthly` fits under each of the `touched` budgets, given their spend and
    /// what requests filed this month in their scope commit without spending yet. Takes each
    /// budget's lock first (in name order), so the sum stays true until `tx` commits. A budget it
    /// would go over refuses the request (`over = "refuse"`) or asks one more approval
    /// (`over = "approval"`); returns the approvals to add. `except` is a stored request judged
    /// again (at its approval or a re-quote), which is not counted twice.
    pub(super) async fn check_budgets(
        &self,
        tx: &mut Session,
        touched: &[(Budget, Yuan)],
        monthly: Yuan,
        except: Option<crate::domain::RequestId>,
        now: OffsetDateTime,
    ) -> Result<u32, DeskError> {
        if touched.is_empty() || monthly <= Yuan::ZERO {
            return Ok(0);
        }
        let (start, _) = this_month(now).bounds();
        let mut extra = 0;
        for (budget, spent) in touched {
            tx.lock_budget(&budget.name).await?;
            let mut committed = Fen::ZERO;
            for commitment in tx.commitments_since(start).await? {
                // The request judged again (approved, or re-quoted) is `monthly` itself.
                if Some(commitment.request_id) == except {
                    continue;
                }
                let covered = match &budget.scope {
                    BudgetScope::Tag(..) => match tx.request(commitment.request_id).await? {
                        Some(record) => covers(&budget.scope, &record),
                        None => false,
                    },
                    scope => scope.covers(commitment.requester_id, &BTreeMap::new()),
                };
                if covered {
                    committed = committed.saturating_add(Fen::new(commitment.monthly_fen));
                }
            }
            let so_far = spent.plus(committed.to_yuan());
            if !budget.exceeded_by(so_far, monthly) {
                continue;
            }
            let cents = |y: Yuan| Yuan::new(y.amount().round_dp(2));
            let words = format!(
                "This would take budget \"{}\" ({}) to {} this month, over its {}: {} spent and {} requested but \
                 not bought yet, and this request's {} per month-equivalent.",
                budget.name,
                budget.scope.describe(),
                cents(so_far.plus(monthly)),
                budget.monthly,
                cents(*spent),
                committed.to_yuan(),
                monthly
            );
            match budget.over {
                OverBudget::Refuse => {
                    return Err(DeskError::refused(format!("{words} Nothing was filed.")));
                }
                OverBudget::Approval => {
                    info!(budget = %budget.name, "over budget: one more approval needed");
                    extra = 1;
                }
            }
        }
        Ok(extra)
    }
}
