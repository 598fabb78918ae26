//! A request judged against every budget it falls in, at its filing, its approval and a re-quote:
//! one path for budgets of spend and of requests (the monthly caps among them), inside the
//! transaction that stores the outcome and under each budget's lock, so two requests cannot both
//! pass a budget only one fits under.

use super::{tags_of, this_month};
use crate::desk::{Desk, DeskError};
use crate::domain::{Budget, Counts, Held, Operation, OverBudget, RequestId, RoleId, UserId};
use crate::money::Yuan;
use crate::store::{Holding, Session};
use time::OffsetDateTime;
use tracing::info;

/// Whose request is judged, and at which step.
#[derive(Clone, Copy, Debug)]
pub(in crate::desk) struct Judging {
    /// Who asked.
    pub requester_id: UserId,
    /// `None` at the filing; at an approval or a re-quote, the stored request judged again, which
    /// is not counted against itself (and then pending requests no longer count for a budget of
    /// requests, as the caps never counted them at an approval).
    pub again: Option<RequestId>,
}

/// A budget a request falls in, and what its scope spent so far this month (read before the
/// transaction: it asks Tencent for the bills; nothing for a budget of requests).
#[derive(Clone, Debug)]
pub(in crate::desk) struct Touched {
    /// The budget.
    pub budget: Budget,
    /// Its scope's spend this billing month.
    pub spent: Yuan,
}

impl Desk {
    /// The budgets a request by `requester_id`, holding `roles` (as they file it, or as stored
    /// with it), for `operation` falls in, in name order, each with its spend so far this month.
    /// Tencent's bills are read only when one of them counts spend.
    pub(in crate::desk) async fn budgets_touched(
        &self,
        (requester_id, roles): (UserId, &[RoleId]),
        operation: &Operation,
    ) -> Result<Vec<Touched>, DeskError> {
        let tags = tags_of(operation);
        let mut budgets: Vec<&Budget> = self
            .settings()
            .budgets
            .iter()
            .filter(|b| b.scope.covers(requester_id, roles, &tags))
            .collect();
        budgets.sort_by(|a, b| a.name.cmp(&b.name));
        let bills = if budgets.iter().any(|b| b.counts == Counts::Spend) {
            Some(self.period_bills(&this_month(self.clock().now())).await)
        } else {
            None
        };
        let mut touched = Vec::new();
        for budget in budgets {
            let spent = match (budget.counts, &bills) {
                (Counts::Spend, Some(bills)) => self.budget_spend_from(budget, bills).await?.spent,
                _ => Yuan::ZERO,
            };
            touched.push(Touched {
                budget: budget.clone(),
                spent,
            });
        }
        Ok(touched)
    }

    /// Whether a further `monthly` fits under each of the `touched` budgets, given what each holds
    /// this month: for spend, its spend and what its scope committed without spending yet; for
    /// requests, what its scope requested. Takes every budget's lock first (in name order), so
    /// what it reads stays true until `tx` commits. A budget it would go over refuses the request
    /// (`over = "refuse"`, as a cap does) or asks one more approval (`over = "approval"`); returns
    /// the approvals to add.
    pub(in crate::desk) async fn check_budgets(
        &self,
        tx: &mut Session,
        touched: &[Touched],
        monthly: Yuan,
        judging: Judging,
        now: OffsetDateTime,
    ) -> Result<u32, DeskError> {
        if touched.is_empty() || monthly <= Yuan::ZERO {
            return Ok(0);
        }
        for Touched { budget, .. } in touched {
            tx.lock_budget(&budget.name).await?;
        }
        let mut extra = 0;
        for Touched { budget, spent } in touched {
            let holding = match budget.counts {
                Counts::Spend => Holding::NotSpendingYet,
                Counts::Requested => Holding::Requested {
                    with_pending: judging.again.is_none(),
                },
            };
            let scope = budget.scope.for_requester(judging.requester_id);
            let month = (holding, budget.counts.month_start(now));
            let committed = self.held(tx, &scope, month, judging.again).await?;
            let held = Held {
                spent: *spent,
                committed: committed.to_yuan(),
            };
            let Some(words) = budget.judge(held, monthly) else {
                continue;
            };
            match budget.over {
                OverBudget::Refuse if judging.again.is_none() => {
                    return Err(DeskError::refused(format!("{words} Nothing was filed.")));
                }
                OverBudget::Refuse => return Err(DeskError::refused(words)),
                OverBudget::Approval => {
                    info!(budget = %budget.name, "over budget: one more approval needed");
                    extra = 1;
                }
            }
        }
        Ok(extra)
    }
}
