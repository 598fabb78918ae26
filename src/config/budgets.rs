//! `[[budgets]]`: each entry checked into a [`Budget`], every problem named by its key
//! (`budgets.0.monthly`) and the allowed values; and the monthly caps of `[policy]`, which are
//! budgets that count requests.

use super::ConfigError;
use super::settings::{BudgetSettings, PolicySettings};
use crate::domain::{Budget, BudgetScope, Counts, OverBudget, RoleId, UserId};
use crate::money::Yuan;

/// The thresholds a budget has when it names none, percent.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

/// The names of the budgets `policy.requester_monthly_cap` and `policy.team_monthly_cap` set,
/// which no `[[budgets]]` entry may take.
pub const CAP_NAMES: [&str; 2] = ["policy.requester_monthly_cap", "policy.team_monthly_cap"];

/// The budgets the monthly caps are short for: the month-equivalents each requester, and
/// everyone together, requested this calendar month (UTC), refused past the cap, told to nobody.
/// Read from the merged `[policy]` after layering, so a cap is whatever the last layer that wrote
/// its key said, whatever any layer writes of `[[budgets]]`.
pub(super) fn caps(policy: &PolicySettings) -> Vec<Budget> {
    let cap = |name: &str, scope, monthly: Option<Yuan>| {
        monthly.map(|monthly| Budget {
            name: name.to_owned(),
            scope,
            monthly,
            thresholds: Vec::new(),
            forecast: false,
            over: OverBudget::Refuse,
            counts: Counts::Requested,
        })
    };
    [
        cap(CAP_NAMES[0], BudgetScope::EachRequester, policy.requester_monthly_cap.0),
        cap(CAP_NAMES[1], BudgetScope::Everyone, policy.team_monthly_cap.0),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Checks every `[[budgets]]` entry; `error(key, problem)` makes the error for a key.
pub(super) fn budgets(
    entries: &[BudgetSettings],
    error: impl Fn(&str, String) -> ConfigError,
) -> Result<Vec<Budget>, ConfigError> {
    let mut budgets: Vec<Budget> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let key = |field: &str| format!("budgets.{i}.{field}");
        let name = entry.name.trim();
        if name.is_empty() || name.len() > 64 {
            return Err(error(&key("name"), "must name the budget (1 to 64 characters)".into()));
        }
        if let Some(cap) = CAP_NAMES.iter().find(|cap| **cap == name) {
            return Err(error(
                &key("name"),
                format!("`{name}` is the name of the budget {cap} sets; choose another"),
            ));
        }
        if budgets.iter().any(|b| b.name == name) {
            return Err(error(
                &key("name"),
                format!("`{name}` names two budgets; names must be unique"),
            ));
        }
        let budget =
            budget(entry, name, &key).map_err(|(field, problem)| error(key(field).trim_end_matches('.'), problem))?;
        budgets.push(budget);
    }
    Ok(budgets)
}

/// One entry, or the field at fault and what is wrong with it.
fn budget(entry: &BudgetSettings, name: &str, key: &dyn Fn(&str) -> String) -> Result<Budget, (&'static str, String)> {
    let scopes = [
        entry.requester.is_some(),
        entry.team.is_some(),
        entry.team_role.is_some(),
        entry.tag.is_some(),
    ];
    if scopes.iter().filter(|set| **set).count() != 1 {
        return Err((
            "",
            format!(
                "budget `{name}` must have exactly one scope: requester = \"<Discord user id>\", \
                 team = [\"<user id>\", …], team_role = \"<Discord role id>\" or tag = \"key=value\" \
                 (set {}, {}, {} or {})",
                key("requester"),
                key("team"),
                key("team_role"),
                key("tag")
            ),
        ));
    }
    let scope = if let Some(id) = entry.requester {
        BudgetScope::Requester(UserId::new(id.0))
    } else if let Some(role) = entry.team_role {
        BudgetScope::TeamRole(RoleId::new(role.0))
    } else if let Some(team) = &entry.team {
        if team.is_empty() {
            return Err(("team", "must list the team's Discord user ids, at least one".into()));
        }
        BudgetScope::Team(team.iter().map(|id| UserId::new(id.0)).collect())
    } else {
        let tag = entry.tag.as_deref().unwrap_or_default();
        match tag.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
                BudgetScope::Tag(k.trim().to_owned(), v.trim().to_owned())
            }
            _ => return Err(("tag", "must be a tag as key=value, such as \"project=web\"".into())),
        }
    };
    let monthly = entry.monthly.map(|a| a.0).unwrap_or(Yuan::ZERO);
    if monthly <= Yuan::ZERO {
        return Err((
            "monthly",
            "must be the CNY the scope may spend per month, more than 0, such as \"500\"".into(),
        ));
    }
    let thresholds = match &entry.thresholds {
        None => DEFAULT_THRESHOLDS.to_vec(),
        Some(list) => {
            let mut thresholds = Vec::new();
            for percent in list {
                match u32::try_from(*percent) {
                    Ok(p) if (1..=1000).contains(&p) => thresholds.push(p),
                    _ => {
                        return Err((
                            "thresholds",
                            format!("must be percentages from 1 to 1000, such as [50, 80, 100]; {percent} is not"),
                        ));
                    }
                }
            }
            if thresholds.is_empty() {
                return Err((
                    "thresholds",
                    "must list at least one percentage, such as [50, 80, 100]".into(),
                ));
            }
            thresholds.sort_unstable();
            thresholds.dedup();
            thresholds
        }
    };
    let counts = match entry.counts.as_deref() {
        None => Counts::Spend,
        Some(text) => Counts::parse(text.trim()).ok_or_else(|| {
            (
                "counts",
                format!("must be one of {} (`{text}` is not)", Counts::NAMES.join(", ")),
            )
        })?,
    };
    let forecast = match (counts, entry.forecast) {
        (Counts::Requested, Some(true)) => {
            return Err((
                "forecast",
                "has nothing to forecast in a budget with counts = \"requested\" (what was requested is known); \
                 leave it out or set it to false"
                    .into(),
            ));
        }
        (Counts::Requested, _) => false,
        (Counts::Spend, forecast) => forecast.unwrap_or(true),
    };
    let over = match entry.over.as_deref() {
        None => OverBudget::Refuse,
        Some(text) => OverBudget::parse(text.trim()).ok_or_else(|| {
            (
                "over",
                format!("must be one of {} (`{text}` is not)", OverBudget::NAMES.join(", ")),
            )
        })?,
    };
    Ok(Budget {
        name: name.to_owned(),
        scope,
        monthly,
        thresholds,
        forecast,
        over,
        counts,
    })
}
