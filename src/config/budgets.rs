//! `[[budgets]]`: each entry checked into a [`Budget`], every problem named by its key
//! (`budgets.0.monthly`) and the allowed values.

use super::ConfigError;
use super::settings::BudgetSettings;
use crate::domain::{Budget, BudgetScope, OverBudget, UserId};
use crate::money::Yuan;

/// The thresholds a budget has when it names none, percent.
pub const DEFAULT_THRESHOLDS: [u32; 3] = [50, 80, 100];

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
    let scopes = [entry.requester.is_some(), entry.team.is_some(), entry.tag.is_some()];
    if scopes.iter().filter(|set| **set).count() != 1 {
        return Err((
            "",
            format!(
                "budget `{name}` must have exactly one scope: requester = \"<Discord user id>\", \
                 team = [\"<user id>\", …] or tag = \"key=value\" (set {}, {} or {})",
                key("requester"),
                key("team"),
                key("tag")
            ),
        ));
    }
    let scope = if let Some(id) = entry.requester {
        BudgetScope::Requester(UserId::new(id.0))
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
        forecast: entry.forecast.unwrap_or(true),
        over,
    })
}
