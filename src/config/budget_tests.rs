//! The budgets' configuration: what a budget counts, and the two caps as budgets that count
//! requests, layered as the caps always were.

use super::*;
use crate::domain::{BudgetScope, Counts, OverBudget};

fn env() -> BTreeMap<String, String> {
    BTreeMap::from([("CVMBOT_POLICY__APPROVERS".to_owned(), "{ users = [\"42\"] }".to_owned())])
}

fn load(layers: &[(&str, &str)], env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
    Config::load_layered(layers, None, env)
}

fn budget<'a>(config: &'a Config, name: &str) -> Option<&'a crate::domain::Budget> {
    config.desk.budgets.iter().find(|b| b.name == name)
}

#[test]
fn a_budget_counts_spend_unless_it_says_it_counts_requests_which_have_no_forecast() {
    let config = load(
        &[(
            "budgets",
            "[[budgets]]\nname = \"web\"\ntag = \"project=web\"\nmonthly = \"500\"\n\n\
             [[budgets]]\nname = \"asks\"\nrequester = \"7\"\nmonthly = \"900\"\ncounts = \"requested\"\n",
        )],
        &env(),
    )
    .expect("valid budgets");
    let web = budget(&config, "web").expect("web");
    assert_eq!(
        (web.counts, web.forecast),
        (Counts::Spend, true),
        "spend, with its forecast, by default"
    );
    let asks = budget(&config, "asks").expect("asks");
    assert_eq!(asks.counts, Counts::Requested);
    assert!(!asks.forecast, "what was requested has no forecast");
    assert_eq!(asks.thresholds, vec![50, 80, 100], "it is told of like any other");

    let cases = [
        (
            "counts = \"bills\"",
            "budgets.0.counts",
            "one of spend, requested (`bills` is not)",
        ),
        (
            "counts = \"requested\"\nforecast = true",
            "budgets.0.forecast",
            "counts = \"requested\"",
        ),
    ];
    for (setting, key, problem) in cases {
        let text = format!("[[budgets]]\nname = \"b\"\ntag = \"a=b\"\nmonthly = \"5\"\n{setting}\n");
        let error = load(&[("budgets", &text)], &env()).expect_err(setting);
        assert_eq!(error.key, key, "{setting}: {error}");
        assert!(error.problem.contains(problem), "{setting}: {error}");
    }
}

#[test]
fn the_monthly_caps_are_budgets_that_count_requests_and_refuse() {
    let caps = "[policy]\nrequester_monthly_cap = \"900\"\nteam_monthly_cap = \"1000\"\n";
    let config = load(&[("caps", caps)], &env()).expect("valid caps");
    let mine = budget(&config, "policy.requester_monthly_cap").expect("the requester cap");
    assert_eq!(mine.scope, BudgetScope::EachRequester);
    assert_eq!(mine.monthly, "900".parse().expect("yuan"));
    assert_eq!(
        (mine.counts, mine.over, mine.forecast),
        (Counts::Requested, OverBudget::Refuse, false)
    );
    assert!(mine.thresholds.is_empty(), "a cap tells nobody, as it never did");
    let team = budget(&config, "policy.team_monthly_cap").expect("the team cap");
    assert_eq!(team.scope, BudgetScope::Everyone);
    assert_eq!(team.monthly, "1000".parse().expect("yuan"));
    assert_eq!(config.desk.budgets.len(), 2);

    let error = load(
        &[(
            "budgets",
            "[[budgets]]\nname = \"policy.team_monthly_cap\"\ntag = \"a=b\"\nmonthly = \"5\"\n",
        )],
        &env(),
    )
    .expect_err("the cap's name is taken");
    assert_eq!(error.key, "budgets.0.name");
    assert!(error.problem.contains("policy.team_monthly_cap sets"), "{error}");
}

#[test]
fn a_cap_holds_whatever_a_later_layer_writes_of_the_budgets_and_only_its_own_key_changes_it() {
    let caps = ("caps", "[policy]\nrequester_monthly_cap = \"900\"\n");
    let later = (
        "later",
        "[[budgets]]\nname = \"web\"\ntag = \"project=web\"\nmonthly = \"500\"\n",
    );
    let config = load(&[caps, later], &env()).expect("valid");
    assert!(budget(&config, "web").is_some(), "the later layer's budget");
    assert!(
        budget(&config, "policy.requester_monthly_cap").is_some(),
        "a later [[budgets]] replaces the list of budgets, not the cap below it"
    );

    let mut variables = env();
    variables.insert(
        "CVMBOT_BUDGETS".into(),
        "[{ name = \"api\", tag = \"project=api\", monthly = \"50\" }]".into(),
    );
    let config = load(&[caps, later], &variables).expect("valid");
    let names: Vec<&str> = config.desk.budgets.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        vec!["api", "policy.requester_monthly_cap"],
        "the variable's list and the cap"
    );

    variables.insert("CVMBOT_POLICY__REQUESTER_MONTHLY_CAP".into(), "1200".into());
    let raised = load(&[caps], &variables).expect("valid");
    let cap = budget(&raised, "policy.requester_monthly_cap").expect("the cap");
    assert_eq!(
        cap.monthly,
        "1200".parse().expect("yuan"),
        "the cap's own key, written later, wins"
    );
    variables.insert("CVMBOT_POLICY__REQUESTER_MONTHLY_CAP".into(), String::new());
    let lifted = load(&[caps], &variables).expect("valid");
    assert!(
        budget(&lifted, "policy.requester_monthly_cap").is_none(),
        "\"\" is no cap"
    );
}

#[test]
fn a_team_may_be_the_holders_of_a_discord_role() {
    let text = "[[budgets]]\nname = \"ops\"\nteam_role = \"777\"\nmonthly = \"500\"\n";
    let config = load(&[("budgets", text)], &env()).expect("valid");
    let ops = budget(&config, "ops").expect("ops");
    assert_eq!(ops.scope, BudgetScope::TeamRole(crate::domain::RoleId::new(777)));
    assert_eq!(ops.scope.describe(), "team <@&777>");

    let both = "[[budgets]]\nname = \"ops\"\nteam_role = \"777\"\nrequester = \"7\"\nmonthly = \"500\"\n";
    let error = load(&[("budgets", both)], &env()).expect_err("two scopes");
    assert_eq!(error.key, "budgets.0");
    assert!(error.problem.contains("team_role = \"<Discord role id>\""), "{error}");
    let error = load(
        &[(
            "budgets",
            "[[budgets]]\nname = \"ops\"\nteam_role = \"ops\"\nmonthly = \"5\"\n",
        )],
        &env(),
    )
    .expect_err("not an id");
    assert!(error.to_string().contains("team_role"), "{error}");
}
