//! Budgets at work: a budget's spend this billing month (from [`Desk::spend`], its scope's
//! groups) and its forecast; the month's requests a budget holds; the pass that tells the alert
//! channel, once, of each threshold reached (`alerts`); and the one check that filing, approval
//! and a re-quote make against every budget a request falls in, spend and requests (the monthly
//! caps) alike (`check`).

mod alerts;
mod check;

pub(super) use check::Judging;

use super::{Desk, DeskError, Spend};
use crate::domain::budget::{self, Budget, BudgetScope};
use crate::domain::spend::{BILLING_OFFSET, SpendBy, SpendPeriod};
use crate::domain::{BillingKind, Operation, RequestId};
use crate::money::{Fen, Yuan};
use crate::store::{Holding, RequestRecord, Session};
use crate::tencent::enums::InstanceState;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use time::OffsetDateTime;

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

/// Whether `record` falls in `scope` (by the roles its requester held when they filed it).
fn covers(scope: &BudgetScope, record: &RequestRecord) -> bool {
    scope.covers(
        record.requester_id,
        &record.requester_roles,
        &tags_of(&record.operation),
    )
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

    /// The month-equivalent fen of the requests filed since `since` that `holding` names and fall
    /// in `scope`, but `except` (the request being judged again, which is not counted twice).
    async fn held(
        &self,
        session: &mut Session,
        scope: &BudgetScope,
        (holding, since): (Holding, OffsetDateTime),
        except: Option<RequestId>,
    ) -> Result<Fen, DeskError> {
        let mut sum = Fen::ZERO;
        for commitment in session.commitments_since(since, holding).await? {
            if Some(commitment.request_id) == except {
                continue;
            }
            let covered = if scope.needs_tags() {
                match session.request(commitment.request_id).await? {
                    Some(record) => covers(scope, &record),
                    None => false,
                }
            } else {
                scope.covers(commitment.requester_id, &commitment.requester_roles, &BTreeMap::new())
            };
            if covered {
                sum = sum.saturating_add(Fen::new(commitment.monthly_fen));
            }
        }
        Ok(sum)
    }
}
