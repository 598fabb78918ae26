//! Budgets: so much money per month for one scope (a requester, a team, or the servers bought
//! with a tag), counting what the scope spends or what it requested, with the thresholds at which
//! the alert channel hears of it, and what happens to a request that would take the scope over.
//! The monthly caps are budgets that count requests. Pure rules; the desk supplies the figures.

use super::{RoleId, UserId};
use crate::money::Yuan;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Whose spending a budget counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BudgetScope {
    /// What one person asked for.
    Requester(UserId),
    /// What each person asked for, each on their own (`policy.requester_monthly_cap`).
    EachRequester,
    /// What the team's members asked for, together.
    Team(Vec<UserId>),
    /// What everyone asked for, together (`policy.team_monthly_cap`).
    Everyone,
    /// What the holders of this Discord role asked for, together: the roles a requester held
    /// when they filed.
    TeamRole(RoleId),
    /// The servers bought with this tag (`key`, `value`).
    Tag(String, String),
}

impl BudgetScope {
    /// Whether a request by `requester`, holding `roles` as they filed it, for servers tagged
    /// `tags` falls in the scope. Every request falls in [`BudgetScope::EachRequester`]: in its
    /// requester's share of it.
    pub fn covers(&self, requester: UserId, roles: &[RoleId], tags: &BTreeMap<String, String>) -> bool {
        match self {
            BudgetScope::Requester(id) => *id == requester,
            BudgetScope::EachRequester | BudgetScope::Everyone => true,
            BudgetScope::Team(members) => members.contains(&requester),
            BudgetScope::TeamRole(role) => roles.contains(role),
            BudgetScope::Tag(key, value) => tags.get(key) == Some(value),
        }
    }

    /// The scope as it stands for a request by `requester`: each requester's share is theirs
    /// alone; every other scope is itself.
    pub fn for_requester(&self, requester: UserId) -> BudgetScope {
        match self {
            BudgetScope::EachRequester => BudgetScope::Requester(requester),
            other => other.clone(),
        }
    }

    /// Whether telling which requests fall in the scope needs their tags.
    pub fn needs_tags(&self) -> bool {
        matches!(self, BudgetScope::Tag(..))
    }

    /// As people read it: `requester <@1>`, `team <@1>, <@2>`, `team <@&9>`, `tag project=web`.
    pub fn describe(&self) -> String {
        match self {
            BudgetScope::Requester(id) => format!("requester <@{id}>"),
            BudgetScope::EachRequester => "each requester".to_owned(),
            BudgetScope::Team(members) => {
                let names: Vec<String> = members.iter().map(|m| format!("<@{m}>")).collect();
                format!("team {}", names.join(", "))
            }
            BudgetScope::Everyone => "everyone".to_owned(),
            BudgetScope::TeamRole(role) => format!("team <@&{role}>"),
            BudgetScope::Tag(key, value) => format!("tag {key}={value}"),
        }
    }
}

/// What a budget counts against its amount.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counts {
    /// What the scope spends in the billing month (China Standard Time): Tencent's bills and
    /// cvmbot's records, and at a filing what it requested but does not spend on yet.
    #[default]
    Spend,
    /// The month-equivalents the scope requested in the calendar month (UTC), as the monthly caps
    /// count: at a filing every request but those rejected, refused, cancelled, expired or failed,
    /// pending ones too; at an approval or a re-quote, and in alerts, the approved ones (and later).
    Requested,
}

impl Counts {
    /// The values `counts` takes.
    pub const NAMES: &[&str] = &["spend", "requested"];

    /// Reads `counts`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Counts> {
        match text {
            "spend" => Some(Counts::Spend),
            "requested" => Some(Counts::Requested),
            _ => None,
        }
    }

    /// When the month that `now` falls in starts, for what is counted: the billing month (China
    /// Standard Time) for spend, the calendar month (UTC) for requests, as the caps always did.
    pub fn month_start(self, now: OffsetDateTime) -> OffsetDateTime {
        let local = now.to_offset(self.offset());
        local
            .date()
            .replace_day(1)
            .expect("day 1 exists")
            .midnight()
            .assume_offset(self.offset())
    }

    /// That month, as `YYYY-MM`.
    pub fn month_of(self, now: OffsetDateTime) -> String {
        let local = now.to_offset(self.offset());
        format!("{:04}-{:02}", local.year(), u8::from(local.month()))
    }

    fn offset(self) -> time::UtcOffset {
        match self {
            Counts::Spend => super::spend::BILLING_OFFSET,
            Counts::Requested => time::UtcOffset::UTC,
        }
    }
}

/// What happens to a request that would take a budget over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverBudget {
    /// It is refused.
    Refuse,
    /// It needs one more approval than its cost tier asks.
    Approval,
}

impl OverBudget {
    /// The values `over` takes.
    pub const NAMES: &[&str] = &["refuse", "approval"];

    /// Reads `over`; `None` for anything else.
    pub fn parse(text: &str) -> Option<OverBudget> {
        match text {
            "refuse" => Some(OverBudget::Refuse),
            "approval" => Some(OverBudget::Approval),
            _ => None,
        }
    }
}

/// One `[[budgets]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Its name, unique among budgets.
    pub name: String,
    /// Whose spending it counts.
    pub scope: BudgetScope,
    /// What the scope may spend per billing month.
    pub monthly: Yuan,
    /// Percentages of `monthly` at which the alert channel is told, ascending.
    pub thresholds: Vec<u32>,
    /// Whether the month's forecast crossing a threshold is told too.
    pub forecast: bool,
    /// What happens to a request that would take it over.
    pub over: OverBudget,
    /// What it counts.
    pub counts: Counts,
}

/// What a budget holds already when a request is judged against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// Spent this month (nothing for a budget that counts requests).
    pub spent: Yuan,
    /// Month-equivalents committed: requested but not spending yet (spend), or requested (requests).
    pub committed: Yuan,
}

/// Which figure crossed a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    /// Where the month is heading at today's burn.
    Forecast,
    /// What was spent so far.
    Actual,
}

impl Figure {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Figure::Forecast => "forecast",
            Figure::Actual => "actual",
        }
    }
}

/// A threshold a figure has reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crossing {
    /// The threshold, percent.
    pub threshold: u32,
    /// Which figure reached it.
    pub figure: Figure,
}

impl Budget {
    /// The thresholds `spent` and `forecast` have reached, in the order they are told: the
    /// forecast's first (a forecast reaches a threshold before the spend does), then the spend's,
    /// each lowest first. Forecast crossings only when the budget asks for them.
    pub fn crossings(&self, spent: Yuan, forecast: Yuan) -> Vec<Crossing> {
        let reached = |figure: Yuan, threshold: u32| {
            figure.amount() * Decimal::from(100) >= self.monthly.amount() * Decimal::from(threshold)
        };
        let forecasts = self
            .thresholds
            .iter()
            .filter(|&&threshold| self.forecast && reached(forecast.max(spent), threshold))
            .map(|&threshold| Crossing {
                threshold,
                figure: Figure::Forecast,
            });
        let actuals = self
            .thresholds
            .iter()
            .filter(|&&threshold| reached(spent, threshold))
            .map(|&threshold| Crossing {
                threshold,
                figure: Figure::Actual,
            });
        forecasts.chain(actuals).collect()
    }

    /// Whether a further `monthly` on top of `committed` (spent this month, and committed but not
    /// yet spending) takes the budget over.
    pub fn exceeded_by(&self, committed: Yuan, monthly: Yuan) -> bool {
        committed.plus(monthly) > self.monthly
    }

    /// Whether a request of `monthly` per month-equivalent fits on top of what the budget `held`;
    /// when it does not, why, in words fit for the requester. The caps say it as they always did.
    pub fn judge(&self, held: Held, monthly: Yuan) -> Option<String> {
        let so_far = held.spent.plus(held.committed);
        if !self.exceeded_by(so_far, monthly) {
            return None;
        }
        let total = so_far.plus(monthly);
        let cents = |y: Yuan| Yuan::new(y.amount().round_dp(2));
        Some(match (self.counts, &self.scope) {
            (Counts::Requested, BudgetScope::EachRequester) => format!(
                "This would take your requests this month to {total} per month-equivalent, over your cap of {}.",
                self.monthly
            ),
            (Counts::Requested, BudgetScope::Everyone) => format!(
                "This would take the team's purchases this month to {total} per month-equivalent, over the team cap \
                 of {}.",
                self.monthly
            ),
            (Counts::Requested, scope) => format!(
                "This would take what was requested this month under budget \"{}\" ({}) to {total} per \
                 month-equivalent, over its {}: {} requested before, and this request's {monthly}.",
                self.name,
                scope.describe(),
                self.monthly,
                held.committed
            ),
            (Counts::Spend, scope) => format!(
                "This would take budget \"{}\" ({}) to {} this month, over its {}: {} spent and {} requested but \
                 not bought yet, and this request's {} per month-equivalent.",
                self.name,
                scope.describe(),
                cents(total),
                self.monthly,
                cents(held.spent),
                held.committed,
                monthly
            ),
        })
    }
}

/// `figure` as a whole percentage of `of` (rounded down; 0 for a budget of nothing).
pub fn percent(figure: Yuan, of: Yuan) -> u32 {
    if of.amount() <= Decimal::ZERO {
        return 0;
    }
    let share = (figure.amount() * Decimal::from(100) / of.amount()).floor();
    rust_decimal::prelude::ToPrimitive::to_u32(&share).unwrap_or(u32::MAX)
}

/// The month's forecast: `spent` so far plus `burn_per_hour` for the `hours_left`.
pub fn forecast(spent: Yuan, burn_per_hour: Yuan, hours_left: Decimal) -> Yuan {
    Yuan::new(spent.amount() + burn_per_hour.amount() * hours_left.max(Decimal::ZERO))
}

/// The hours from `now` to the end of its billing month (China Standard Time), by the second.
pub fn hours_left_in_month(now: OffsetDateTime) -> Decimal {
    let local = now.to_offset(super::spend::BILLING_OFFSET);
    let (year, month) = (local.year(), local.month());
    let (next_year, next_month) = match month {
        time::Month::December => (year + 1, time::Month::January),
        other => (year, other.next()),
    };
    let end = time::Date::from_calendar_date(next_year, next_month, 1)
        .expect("the first of a month")
        .midnight()
        .assume_offset(super::spend::BILLING_OFFSET);
    Decimal::from((end - now).whole_seconds()) / Decimal::from(3600)
}

/// The billing month of `now`, as `YYYY-MM`.
pub fn month_of(now: OffsetDateTime) -> String {
    let local = now.to_offset(super::spend::BILLING_OFFSET);
    format!("{:04}-{:02}", local.year(), u8::from(local.month()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn yuan(text: &str) -> Yuan {
        text.parse().expect("yuan")
    }

    fn budget(forecast: bool) -> Budget {
        Budget {
            name: "web".into(),
            scope: BudgetScope::Tag("project".into(), "web".into()),
            monthly: yuan("500"),
            thresholds: vec![50, 80, 100],
            forecast,
            over: OverBudget::Refuse,
            counts: Counts::Spend,
        }
    }

    #[test]
    fn a_forecast_reaches_a_threshold_before_the_spend_and_is_listed_first() {
        let crossings = budget(true).crossings(yuan("250"), yuan("420"));
        let listed: Vec<(u32, Figure)> = crossings.iter().map(|c| (c.threshold, c.figure)).collect();
        assert_eq!(
            listed,
            vec![(50, Figure::Forecast), (80, Figure::Forecast), (50, Figure::Actual)],
            "250 is 50 %, the forecast 420 is 84 %: the forecasts first, each lowest first"
        );
        assert!(budget(true).crossings(yuan("249.99"), yuan("249.99")).is_empty());
    }

    #[test]
    fn without_forecasts_only_the_spend_counts() {
        let crossings = budget(false).crossings(yuan("500"), yuan("900"));
        assert!(crossings.iter().all(|c| c.figure == Figure::Actual));
        assert_eq!(crossings.len(), 3, "500 of 500 is every threshold");
    }

    #[test]
    fn the_forecast_adds_the_hourly_burn_for_the_hours_left_in_the_billing_month() {
        // 2025-01-31 12:00 UTC is 20:00 in China: four hours of January left.
        let now = datetime!(2025-01-31 12:00:00 UTC);
        assert_eq!(hours_left_in_month(now), Decimal::from(4));
        assert_eq!(forecast(yuan("10"), yuan("1.5"), hours_left_in_month(now)), yuan("16"));
        assert_eq!(month_of(now), "2025-01");
        assert_eq!(
            month_of(datetime!(2025-01-31 16:00:00 UTC)),
            "2025-02",
            "midnight in China"
        );
        assert_eq!(
            hours_left_in_month(datetime!(2025-12-31 15:30:00 UTC)),
            Decimal::new(5, 1)
        );
    }

    #[test]
    fn a_request_exceeds_a_budget_only_past_its_amount() {
        let b = budget(true);
        assert!(!b.exceeded_by(yuan("400"), yuan("100")), "exactly the budget fits");
        assert!(b.exceeded_by(yuan("400"), yuan("100.01")));
        assert_eq!(percent(yuan("420"), yuan("500")), 84);
        assert_eq!(percent(yuan("1"), yuan("0")), 0);
    }

    #[test]
    fn scopes_cover_their_requester_team_or_tag() {
        let alice = UserId::new(1);
        let tags: BTreeMap<String, String> = [("project".to_owned(), "web".to_owned())].into();
        assert!(BudgetScope::Requester(alice).covers(alice, &[], &BTreeMap::new()));
        assert!(!BudgetScope::Requester(alice).covers(UserId::new(2), &[], &tags));
        assert!(BudgetScope::Team(vec![UserId::new(2), alice]).covers(alice, &[], &BTreeMap::new()));
        assert!(BudgetScope::Tag("project".into(), "web".into()).covers(UserId::new(9), &[], &tags));
        assert!(!BudgetScope::Tag("project".into(), "api".into()).covers(alice, &[], &tags));
        let ops = RoleId::new(7);
        assert!(BudgetScope::TeamRole(ops).covers(alice, &[RoleId::new(3), ops], &BTreeMap::new()));
        assert!(!BudgetScope::TeamRole(ops).covers(alice, &[RoleId::new(3)], &tags));
    }

    #[test]
    fn a_budget_counting_requests_judges_month_equivalents_and_the_caps_say_so_as_they_did() {
        let cap = |scope| Budget {
            name: "policy.requester_monthly_cap".into(),
            scope,
            monthly: yuan("900"),
            thresholds: Vec::new(),
            forecast: false,
            over: OverBudget::Refuse,
            counts: Counts::Requested,
        };
        let held = |committed| Held {
            spent: Yuan::ZERO,
            committed: yuan(committed),
        };
        let mine = cap(BudgetScope::EachRequester);
        assert_eq!(mine.judge(held("400"), yuan("500")), None, "exactly the cap fits");
        assert_eq!(
            mine.judge(held("400"), yuan("500.01")).as_deref(),
            Some(
                "This would take your requests this month to 900.01 CNY per month-equivalent, over your cap of 900.00 CNY."
            )
        );
        let team = cap(BudgetScope::Everyone).judge(held("1000"), yuan("1")).expect("over");
        assert!(
            team.contains("the team's purchases this month to 1,001.00 CNY"),
            "{team}"
        );
        assert!(team.contains("over the team cap of 900.00 CNY"), "{team}");
        let named = Budget {
            name: "alice".into(),
            scope: BudgetScope::Requester(UserId::new(1)),
            ..cap(BudgetScope::EachRequester)
        };
        let words = named.judge(held("600"), yuan("400")).expect("over");
        assert!(
            words.contains("under budget \"alice\" (requester <@1>) to 1,000.00 CNY"),
            "{words}"
        );
        assert!(words.contains("600.00 CNY requested before"), "{words}");
    }

    #[test]
    fn requests_count_in_the_calendar_month_and_spend_in_the_billing_month() {
        // 2025-01-31 20:00 UTC is already February in China.
        let now = datetime!(2025-01-31 20:00:00 UTC);
        assert_eq!(Counts::Requested.month_start(now), datetime!(2025-01-01 00:00:00 UTC));
        assert_eq!(Counts::Requested.month_of(now), "2025-01");
        assert_eq!(Counts::Spend.month_start(now), datetime!(2025-01-31 16:00:00 UTC));
        assert_eq!(Counts::Spend.month_of(now), "2025-02");
    }

    #[test]
    fn each_requester_is_a_scope_of_its_own_for_each_request() {
        let (alice, bob) = (UserId::new(1), UserId::new(2));
        let share = BudgetScope::EachRequester.for_requester(alice);
        assert_eq!(share, BudgetScope::Requester(alice));
        assert!(!share.covers(bob, &[], &BTreeMap::new()));
        assert!(BudgetScope::Everyone.covers(bob, &[], &BTreeMap::new()));
        assert_eq!(BudgetScope::Everyone.for_requester(alice), BudgetScope::Everyone);
    }
}
