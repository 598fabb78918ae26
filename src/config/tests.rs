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
    assert_eq!(config.database, DatabaseTarget::Sqlite("sqlite://cvmbot.db".into()));
    assert_eq!(
        config.tencent.endpoint.template(),
        "https://{service}.tencentcloudapi.com"
    );
    assert_eq!(config.policy.approvers.users, vec![42]);
    assert_eq!(config.policy.tiers.len(), 2);
    assert!(config.parse.presets.contains_key("small-web"));
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
    assert_eq!(only_file.policy.max_count, 5);
    let both = Config::load_from(Some(config_file.path()), &env(&[("CVMBOT_POLICY__MAX_COUNT", "7")])).expect("valid");
    assert_eq!(both.policy.max_count, 7);
    assert_eq!(both.policy.expiry, std::time::Duration::from_secs(7200));
    let rate = Config::load_from(None, &env(&[("CVMBOT_TENCENT__RATE_LIMITS__RUNINSTANCES", "0")])).expect("valid");
    assert_eq!(
        rate.tencent.rate_limits.get("RunInstances"),
        Some(&0),
        "keys match whatever their case"
    );
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
