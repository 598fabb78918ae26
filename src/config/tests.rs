use super::*;
use std::io::Write;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.entry("CVMBOT_POLICY__APPROVERS".into())
        .or_insert_with(|| "{ users = [\"42\"] }".into());
    env
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(text.as_bytes()).expect("write");
    file
}

#[test]
fn the_built_in_defaults_load_once_approvers_are_named() {
    let config = Config::load_from(None, &env(&[])).expect("defaults are valid");
    assert_eq!(
        config.database.target,
        crate::store::DatabaseTarget::Sqlite("sqlite://cvmbot.db".into())
    );
    assert_eq!(
        config.tencent.endpoint.template(),
        "https://{service}.tencentcloudapi.com"
    );
    assert_eq!(config.desk.policy.approvers.users, vec![42]);
    assert_eq!(config.desk.policy.tiers.len(), 2);
    assert!(config.desk.parse.presets.contains_key("small-web"));
}

#[test]
fn the_defaults_alone_refuse_to_start_because_nobody_could_approve() {
    let error = Config::load_from(None, &BTreeMap::new()).expect_err("no approvers");
    assert_eq!(error.key, "policy.approvers");
    assert!(error.to_string().contains("names nobody"), "{error}");
}

#[test]
fn the_environment_overrides_the_file_which_overrides_the_defaults() {
    let config_file = file("[policy]\nmax_count = 5\nrequest_expiry = \"2h\"\n");
    let only_file = Config::load_from(Some(config_file.path()), &env(&[])).expect("valid");
    assert_eq!(only_file.desk.policy.max_count, 5);
    let both = Config::load_from(Some(config_file.path()), &env(&[("CVMBOT_POLICY__MAX_COUNT", "7")])).expect("valid");
    assert_eq!(both.desk.policy.max_count, 7);
    assert_eq!(both.desk.policy.expiry, std::time::Duration::from_secs(7200));
    let rate = Config::load_from(None, &env(&[("CVMBOT_TENCENT__RATE_LIMITS__RUNINSTANCES", "0")])).expect("valid");
    assert_eq!(
        rate.tencent.rate_limits.get("RunInstances"),
        Some(&0),
        "keys match whatever their case"
    );
}

#[test]
fn tencentcloud_region_sets_the_default_region_and_a_file_or_cvmbot_variable_still_wins() {
    let shanghai = ("TENCENTCLOUD_REGION", "ap-shanghai");
    let from_tencent = Config::load_from(None, &env(&[shanghai])).expect("valid");
    assert_eq!(from_tencent.tencent.region, "ap-shanghai");
    assert_eq!(from_tencent.desk.catalogue_regions, vec!["ap-shanghai".to_owned()]);
    let config_file = file("[tencent]\nregion = \"ap-beijing\"\n");
    let file_wins = Config::load_from(Some(config_file.path()), &env(&[shanghai])).expect("valid");
    assert_eq!(file_wins.tencent.region, "ap-beijing");
    let variable_wins =
        Config::load_from(None, &env(&[shanghai, ("CVMBOT_TENCENT__REGION", "ap-singapore")])).expect("valid");
    assert_eq!(variable_wins.tencent.region, "ap-singapore");
    let unset = Config::load_from(None, &env(&[("TENCENTCLOUD_REGION", " ")])).expect("valid");
    assert_eq!(unset.tencent.region, "ap-guangzhou", "empty is unset");
    let error = Config::load_from(None, &env(&[("TENCENTCLOUD_REGION", "Shanghai")])).expect_err("not a region");
    assert_eq!(error.key, "tencent.region");
    assert_eq!(error.origin, "environment variable TENCENTCLOUD_REGION");
}

#[test]
fn an_unknown_key_is_refused_with_its_name_and_file() {
    let config_file = file("[policy]\naprovers = { anyone = true }\n");
    let error = Config::load_from(Some(config_file.path()), &env(&[])).expect_err("typo");
    assert!(error.problem.contains("unknown field `aprovers`"), "{error}");
    assert_eq!(error.origin, config_file.path().display().to_string());
}

#[test]
fn a_bad_value_names_the_key_the_value_the_variable_and_what_is_allowed() {
    let error = Config::load_from(None, &env(&[("CVMBOT_POLICY__REQUEST_EXPIRY", "soon")])).expect_err("bad");
    assert_eq!(error.key, "policy.request_expiry");
    assert_eq!(error.value.as_deref(), Some("\"soon\""));
    assert_eq!(error.origin, "environment variable CVMBOT_POLICY__REQUEST_EXPIRY");
    assert!(
        error.problem.contains("\"24h\""),
        "says what a duration looks like: {error}"
    );

    let error = Config::load_from(None, &env(&[("CVMBOT_DATABASE__URL", "mysql://x")])).expect_err("bad");
    assert_eq!(error.key, "database.url");
    assert!(
        error.problem.contains("sqlite://") && error.problem.contains("postgres://"),
        "{error}"
    );

    let error = Config::load_from(None, &env(&[("CVMBOT_TENCENT__ENDPOINT", "ftp://x")])).expect_err("bad");
    assert_eq!(error.key, "tencent.endpoint");

    let error = Config::load_from(None, &env(&[("CVMBOT_DISCORD__GUILD_IDS", "[\"abc\"]")])).expect_err("bad");
    assert_eq!(error.key, "discord.guild_ids.0");
    assert!(error.problem.contains("Discord id"), "{error}");
}

#[test]
fn tiers_must_ascend_and_charge_types_must_be_known() {
    let config_file =
        file("[policy]\ntiers = [{ up_to = \"500\", approvals = 1 }, { up_to = \"100\", approvals = 2 }]\n");
    let error = Config::load_from(Some(config_file.path()), &env(&[])).expect_err("descending");
    assert_eq!(error.key, "policy.tiers.1.up_to");
    let error =
        Config::load_from(None, &env(&[("CVMBOT_POLICY__ALLOWED_CHARGE_TYPES", "[\"FREE\"]")])).expect_err("unknown");
    assert_eq!(error.key, "policy.allowed_charge_types.0");
    assert!(error.problem.contains("SPOTPAID"), "{error}");
}

#[test]
fn a_bad_preset_fails_at_start_up_naming_its_option() {
    let config_file = file("[presets.big]\ntype = \"S5.MEDIUM4\"\ndisk-size = \"5000\"\n");
    let error = Config::load_from(Some(config_file.path()), &env(&[])).expect_err("bad preset");
    assert_eq!(error.key, "presets.big.disk-size");
    assert!(error.problem.contains("20 to 1024"), "{error}");
    let config_file = file("[presets.odd]\nmax-price = \"1\"\n");
    let error = Config::load_from(Some(config_file.path()), &env(&[])).expect_err("not presettable");
    assert_eq!(error.key, "presets.odd.max-price");
}

#[test]
fn secrets_come_from_the_environment_or_a_file_and_never_print() {
    let key_file = file("from-a-file-secret\n");
    let path = key_file.path().display().to_string();
    let config = Config::load_from(
        None,
        &env(&[
            ("DISCORD_TOKEN", "discord-token-value"),
            ("TENCENTCLOUD_SECRET_ID", "AKIDexample"),
            ("TENCENTCLOUD_SECRET_KEY_FILE", &path),
        ]),
    )
    .expect("valid");
    let credentials = config.secrets.tencent.as_ref().expect("credentials");
    assert_eq!(credentials.secret_key.expose(), "from-a-file-secret");
    let printed = format!("{config:?}");
    assert!(
        !printed.contains("discord-token-value") && !printed.contains("from-a-file-secret"),
        "{printed}"
    );
    assert!(printed.contains("AKIDexample"), "the SecretId is not secret");

    let error = Config::load_from(None, &env(&[("TENCENTCLOUD_SECRET_ID", "AKIDexample")])).expect_err("half");
    assert_eq!(error.key, "TENCENTCLOUD_SECRET_KEY");
}

#[test]
fn a_file_that_names_requester_roles_admits_only_those_roles() {
    let config_file = file("[policy]\nrequesters = { roles = [\"77\"] }\n");
    let config = Config::load_from(Some(config_file.path()), &env(&[])).expect("valid");
    let requesters = &config.desk.policy.requesters;
    assert!(
        !requesters.anyone,
        "the defaults' `anyone = true` must not survive under the file's table"
    );
    assert_eq!(requesters.roles, vec![77]);

    let from_env = Config::load_from(None, &env(&[("CVMBOT_POLICY__REQUESTERS__ROLES", "[\"78\"]")])).expect("valid");
    assert!(
        !from_env.desk.policy.requesters.anyone,
        "a variable naming roles restricts too"
    );
    assert_eq!(from_env.desk.policy.requesters.roles, vec![78]);
}

#[test]
fn every_policy_audience_in_a_file_means_exactly_what_it_lists() {
    let config_file = file("[policy]\napprovers = { users = [\"5\"] }\nadmins = { roles = [\"6\"] }\n");
    let over = file("[policy]\napprovers = { roles = [\"9\"] }\n");
    let config = Config::load_layered(
        &[(
            "the first file",
            &std::fs::read_to_string(config_file.path()).expect("read"),
        )],
        Some(over.path()),
        &BTreeMap::new(),
    )
    .expect("valid");
    assert_eq!(config.desk.policy.approvers.roles, vec![9]);
    assert!(
        config.desk.policy.approvers.users.is_empty(),
        "the later file's approvers replace the earlier ones whole"
    );
    assert_eq!(config.desk.policy.admins.roles, vec![6]);
}

#[test]
fn a_preset_in_a_file_is_exactly_the_options_it_lists() {
    let config_file = file("[presets.small-web]\ntype = \"S5.LARGE8\"\n");
    let config = Config::load_from(Some(config_file.path()), &env(&[])).expect("valid");
    let preset = &config.desk.parse.presets["small-web"];
    assert_eq!(preset.get("type").map(String::as_str), Some("S5.LARGE8"));
    assert_eq!(
        preset.len(),
        1,
        "nothing of the built-in preset of that name is kept: {preset:?}"
    );
}

#[test]
fn tiers_in_a_file_replace_the_defaults_and_rate_limits_merge_per_action() {
    let config_file =
        file("[policy]\ntiers = [{ up_to = \"100\", approvals = 1 }]\n[tencent.rate_limits]\nRunInstances = 5\n");
    let config = Config::load_from(Some(config_file.path()), &env(&[])).expect("valid");
    assert_eq!(
        config.desk.policy.tiers.len(),
        1,
        "above 100 CNY is refused, as the file says"
    );
    assert_eq!(config.tencent.rate_limits.get("RunInstances"), Some(&5));
    assert_eq!(
        config.tencent.rate_limits.get("DescribeInstances"),
        Some(&40),
        "an action the file does not list keeps Tencent's documented limit"
    );
    let typo = file("[tencent.rate_limits]\nRunInstance = 5\n");
    let error = Config::load_from(Some(typo.path()), &env(&[])).expect_err("not an action");
    assert_eq!(error.key, "tencent.rate_limits.RunInstance");
    assert!(error.problem.contains("RunInstances"), "{error}");
}

#[test]
fn a_dearer_tier_that_needs_fewer_approvals_is_refused() {
    let config_file =
        file("[policy]\ntiers = [{ up_to = \"500\", approvals = 2 }, { up_to = \"5000\", approvals = 1 }]\n");
    let error = Config::load_from(Some(config_file.path()), &env(&[])).expect_err("fewer approvals for more money");
    assert_eq!(error.key, "policy.tiers.1.approvals");
    assert!(error.problem.contains("at least as many approvals"), "{error}");
}

#[test]
fn settings_that_would_be_accepted_but_wrong_fail_at_start_up() {
    let error = Config::load_from(None, &env(&[("CVMBOT_LOG__LEVEL", "verbose")])).expect_err("not a level");
    assert_eq!(error.key, "log.level");
    assert!(error.problem.contains("debug"), "{error}");
    Config::load_from(None, &env(&[("CVMBOT_LOG__LEVEL", "info,cvmbot=debug")])).expect("directives are fine");

    let error = Config::load_from(None, &env(&[("CVMBOT_POLICY__MAX_CUONT", "3")])).expect_err("a typo");
    assert_eq!(error.key, "policy.max_cuont");
    assert_eq!(error.origin, "environment variable CVMBOT_POLICY__MAX_CUONT");

    let error = Config::load_from(
        None,
        &env(&[
            ("TENCENTCLOUD_SECRET_ID", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"),
            ("TENCENTCLOUD_SECRET_KEY", "k"),
        ]),
    )
    .expect_err("a key where the id goes");
    assert_eq!(error.key, "TENCENTCLOUD_SECRET_ID");
    assert!(error.problem.contains("AKID"), "{error}");
    assert!(!error.to_string().contains("Gu5t9x"), "{error}");

    let error = Config::load_from(None, &env(&[("DISCORD_TOKEN", "abc\ndef")])).expect_err("a line break inside");
    assert_eq!(error.key, "DISCORD_TOKEN");
    assert!(!error.to_string().contains("abc"), "the value is never shown: {error}");
}

#[test]
fn health_and_metrics_are_off_by_default_and_cvmbot_service_listen_turns_them_on() {
    let defaults = Config::load_from(None, &env(&[])).expect("valid");
    assert_eq!(defaults.service.listen, None, "no port is opened unless asked for");
    assert_eq!(defaults.service.tencent_within, std::time::Duration::from_secs(900));

    let on = Config::load_from(None, &env(&[("CVMBOT_SERVICE__LISTEN", "127.0.0.1:9464")])).expect("valid");
    assert_eq!(on.service.listen, Some("127.0.0.1:9464".parse().expect("an address")));
    let v6 = Config::load_from(None, &env(&[("CVMBOT_SERVICE__LISTEN", "[::1]:9464")])).expect("valid");
    assert_eq!(v6.service.listen, Some("[::1]:9464".parse().expect("an address")));

    for bad in ["9464", "localhost:9464", "127.0.0.1"] {
        let error = Config::load_from(None, &env(&[("CVMBOT_SERVICE__LISTEN", bad)])).expect_err(bad);
        assert_eq!(error.key, "service.listen", "{bad}");
        assert_eq!(error.origin, "environment variable CVMBOT_SERVICE__LISTEN");
        assert!(
            error.problem.contains("127.0.0.1:9464"),
            "says what an address looks like: {error}"
        );
    }

    let error = Config::load_from(None, &env(&[("CVMBOT_SERVICE__TENCENT_WITHIN", "5m")])).expect_err("too short");
    assert_eq!(error.key, "service.tencent_within");
    assert!(error.problem.contains("balance.check_interval (10m)"), "{error}");
}

#[test]
fn budgets_load_with_their_defaults_and_each_bad_setting_names_its_field() {
    let good = file(
        "[[budgets]]\nname = \"web\"\ntag = \"project=web\"\nmonthly = \"500\"\n\n\
         [[budgets]]\nname = \"alice\"\nrequester = \"7\"\nmonthly = \"120.5\"\nthresholds = [100, 50]\n\
         forecast = false\nover = \"approval\"\n",
    );
    let config = Config::load_from(Some(good.path()), &env(&[])).expect("valid budgets");
    let [web, alice] = config.desk.budgets.as_slice() else {
        panic!("two budgets: {:?}", config.desk.budgets);
    };
    assert_eq!(
        web.scope,
        crate::domain::BudgetScope::Tag("project".into(), "web".into())
    );
    assert_eq!(
        (web.thresholds.as_slice(), web.forecast),
        ([50, 80, 100].as_slice(), true)
    );
    assert_eq!(web.over, crate::domain::OverBudget::Refuse, "refusing is the default");
    assert_eq!(
        alice.scope,
        crate::domain::BudgetScope::Requester(crate::domain::UserId::new(7))
    );
    assert_eq!(alice.thresholds, vec![50, 100]);
    assert_eq!(alice.monthly, "120.5".parse().expect("yuan"));
    assert_eq!(alice.over, crate::domain::OverBudget::Approval);
    assert!(
        Config::load_from(None, &env(&[]))
            .expect("defaults")
            .desk
            .budgets
            .is_empty(),
        "none by default"
    );

    let cases = [
        (
            "tag = \"project=web\"\nmonthly = \"500\"",
            "budgets.0.name",
            "must name the budget",
        ),
        ("name = \"b\"\nmonthly = \"500\"", "budgets.0", "exactly one scope"),
        (
            "name = \"b\"\nrequester = \"1\"\ntag = \"a=b\"\nmonthly = \"500\"",
            "budgets.0",
            "exactly one scope",
        ),
        (
            "name = \"b\"\nteam = []\nmonthly = \"500\"",
            "budgets.0.team",
            "at least one",
        ),
        (
            "name = \"b\"\ntag = \"project\"\nmonthly = \"500\"",
            "budgets.0.tag",
            "key=value",
        ),
        ("name = \"b\"\ntag = \"a=b\"", "budgets.0.monthly", "more than 0"),
        (
            "name = \"b\"\ntag = \"a=b\"\nmonthly = \"0\"",
            "budgets.0.monthly",
            "more than 0",
        ),
        (
            "name = \"b\"\ntag = \"a=b\"\nmonthly = \"5\"\nthresholds = [0]",
            "budgets.0.thresholds",
            "from 1 to 1000",
        ),
        (
            "name = \"b\"\ntag = \"a=b\"\nmonthly = \"5\"\nthresholds = []",
            "budgets.0.thresholds",
            "at least one",
        ),
        (
            "name = \"b\"\ntag = \"a=b\"\nmonthly = \"5\"\nover = \"warn\"",
            "budgets.0.over",
            "refuse, approval",
        ),
    ];
    for (entry, key, problem) in cases {
        let bad = file(&format!("[[budgets]]\n{entry}\n"));
        let error = Config::load_from(Some(bad.path()), &env(&[])).expect_err(entry);
        assert_eq!(error.key, key, "{entry}: {error}");
        assert!(error.problem.contains(problem), "{entry}: {error}");
    }
    let twice = file(
        "[[budgets]]\nname = \"b\"\ntag = \"a=b\"\nmonthly = \"5\"\n[[budgets]]\nname = \"b\"\ntag = \"c=d\"\nmonthly = \"5\"\n",
    );
    let error = Config::load_from(Some(twice.path()), &env(&[])).expect_err("two of a name");
    assert_eq!(error.key, "budgets.1.name");
    let typo = file("[[budgets]]\nname = \"b\"\ntag = \"a=b\"\nmontly = \"5\"\n");
    let error = Config::load_from(Some(typo.path()), &env(&[])).expect_err("a typo");
    assert!(error.problem.contains("unknown field `montly`"), "{error}");
}
