//! The command line as an operator uses it: `doctor`, `sim`, `migrate`, `audit export`, and
//! start-up failing fast on a bad setting. The binary runs as a child process; Tencent Cloud is
//! the simulator on 127.0.0.1.

use crate::on_both_backends;
use crate::support::app::{Backend, bob, file_as_alice, spawn_app, spot_form};
use crate::support::sim::{start, test_config};
use cvmbot::desk::Ballot;
use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

fn cvmbot(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cvmbot"));
    command.args(args).env_remove("RUST_LOG").stdin(Stdio::null());
    for name in [
        "DISCORD_TOKEN",
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_REGION",
        "CVMBOT_CONFIG",
    ] {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("cvmbot runs")
}

/// `cvmbot doctor` against `sim_url` with a fresh SQLite file in `dir`, these approvers and
/// this SecretKey.
fn doctor(sim_url: &str, dir: &std::path::Path, approvers: &str, secret_key: &str) -> Output {
    let db = format!("sqlite://{}", dir.join("doctor.db").display());
    cvmbot(
        &["doctor"],
        &[
            ("CVMBOT_TENCENT__ENDPOINT", sim_url),
            ("CVMBOT_DATABASE__URL", &db),
            ("CVMBOT_POLICY__APPROVERS", approvers),
            ("TENCENTCLOUD_SECRET_ID", cvmbot::sim::DEFAULT_SECRET_ID),
            ("TENCENTCLOUD_SECRET_KEY", secret_key),
        ],
    )
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_prints_the_balance_in_cny_and_the_zones_and_no_secret() {
    let sim = start(test_config()).await;
    let dir = tempfile::tempdir().expect("dir");
    let output = doctor(
        sim.url(),
        dir.path(),
        "{ roles = [\"900\"] }",
        cvmbot::sim::DEFAULT_SECRET_KEY,
    );
    let report = text(&output);
    assert!(output.status.success(), "{report}");
    assert!(
        report.contains("✓ DescribeAccountBalance: 10,000.00 CNY spendable"),
        "{report}"
    );
    assert!(report.contains("ap-guangzhou-3 (AVAILABLE)"), "{report}");
    assert!(report.contains("✓ database"), "{report}");
    assert!(
        !report.contains(cvmbot::sim::DEFAULT_SECRET_KEY),
        "no secret is printed"
    );
    assert!(dir.path().join("doctor.db").exists(), "the database file was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fails_and_says_how_to_fix_a_wrong_key() {
    let sim = start(test_config()).await;
    let dir = tempfile::tempdir().expect("dir");
    let output = doctor(sim.url(), dir.path(), "{ anyone = true }", "not-the-key");
    let report = text(&output);
    assert!(!output.status.success(), "{report}");
    assert!(report.contains("✗ DescribeAccountBalance"), "{report}");
    assert!(report.contains("AuthFailure.SignatureFailure"), "{report}");
    assert!(report.contains("fix: check TENCENTCLOUD_SECRET_ID/KEY"), "{report}");
    assert!(!report.contains("not-the-key"), "no secret is printed: {report}");
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key_value_and_variable() {
    let output = cvmbot(
        &["migrate"],
        &[
            ("CVMBOT_POLICY__APPROVERS", "{ anyone = true }"),
            ("CVMBOT_POLICY__MAX_COUNT", "0"),
        ],
    );
    let message = text(&output);
    assert!(!output.status.success());
    assert!(
        message.contains(
            "`policy.max_count` = 0 (from environment variable CVMBOT_POLICY__MAX_COUNT): must be from 1 to 100"
        ),
        "{message}"
    );
}

#[test]
fn sim_prints_the_url_it_listens_on_and_answers_there() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
        .args(["sim", "--listen", "127.0.0.1:0", "--seed", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cvmbot sim starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let url = line
        .trim()
        .strip_prefix("cvmbot sim listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let state = reqwest::blocking_get(&format!("{url}/_sim/state"));
    let _ = child.kill();
    let _ = child.wait();
    assert!(state.contains("accounts"), "{state}");
}

/// A plain HTTP GET without an async runtime (the test above is synchronous).
mod reqwest {
    pub fn blocking_get(url: &str) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async { ::reqwest::get(url).await.expect("GET").text().await.expect("body") })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_export_prints_every_transition_as_csv_or_json() {
    let app = spawn_app(Backend::Sqlite, "").await.expect("sqlite");
    let id = file_as_alice(app.desk(), &spot_form()).await;
    let ballot = Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Button,
    };
    app.desk().vote(id, &bob(), &ballot).await.expect("approved");
    let env = [
        ("CVMBOT_DATABASE__URL", app.db.url.as_str()),
        ("CVMBOT_POLICY__APPROVERS", "{ anyone = true }"),
    ];
    let csv = cvmbot(&["audit", "export", "--format", "csv", "--since", "2020-01-01"], &env);
    let csv_text = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(csv.status.success(), "{}", text(&csv));
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(
        lines[0],
        "at,request_id,actor_id,actor_name,action,from_state,to_state,detail,tencent_request_id"
    );
    assert!(lines[1].contains(",1,101,alice,created,,pending,"), "{csv_text}");
    assert!(
        lines[2].contains(",1,102,bob,vote:approve:button,pending,approved,"),
        "{csv_text}"
    );
    let json = cvmbot(&["audit", "export", "--format", "json"], &env);
    let events: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(events.as_array().map(Vec::len), Some(2));
    let future = cvmbot(&["audit", "export", "--since", "2999-01-01"], &env);
    assert_eq!(
        String::from_utf8_lossy(&future.stdout).lines().count(),
        1,
        "only the header"
    );
    let bad = cvmbot(&["audit", "export", "--since", "yesterday"], &env);
    assert!(text(&bad).contains("not a date like 2026-11-01"), "{}", text(&bad));
}

on_both_backends! {
async fn audit_export_picks_events_by_day_person_and_request_and_keeps_every_digit_of_discord_ids(backend) {
    let Some(app) = spawn_app(backend, "").await else { return };
    let first = file_as_alice(app.desk(), &spot_form()).await;
    let ballot = Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Button,
    };
    app.desk().vote(first, &bob(), &ballot).await.expect("approved");
    let second = file_as_alice(app.desk(), &spot_form()).await;
    // An event from 2020 by someone whose id, like every Discord id today, is above 2^53.
    let carol = 1_300_000_000_000_000_123_u64;
    let old = cvmbot::store::AuditEntry {
        request_id: Some(second),
        at: time::macros::datetime!(2020-06-15 12:00 UTC),
        actor_id: Some(cvmbot::domain::UserId::new(carol)),
        actor_name: "carol".into(),
        action: "vote:approve:reaction".into(),
        from_state: Some("pending".into()),
        to_state: Some("pending".into()),
        detail: None,
        tencent_request_id: None,
    };
    let mut session = app.app.store().session().await.expect("session");
    session.insert_audit(&old).await.expect("stored");
    drop(session);
    let env = [
        ("CVMBOT_DATABASE__URL", app.db.url.as_str()),
        ("CVMBOT_POLICY__APPROVERS", "{ anyone = true }"),
    ];
    let export = |selection: &[&str]| -> Vec<(String, String)> {
        let args = [&["audit", "export", "--format", "json"], selection].concat();
        let output = cvmbot(&args, &env);
        assert!(output.status.success(), "{}", text(&output));
        let events: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
        let events = events.as_array().expect("an array").iter();
        let actor = |e: &serde_json::Value| e["actor_id"].as_str().expect("the actor id as a string").to_owned();
        events
            .map(|e| (actor(e), e["action"].as_str().expect("action").to_owned()))
            .collect()
    };
    let pair = |actor: &str, action: &str| (actor.to_owned(), action.to_owned());
    let carol_voted = pair(&carol.to_string(), "vote:approve:reaction");
    assert_eq!(
        export(&["--until", "2020-06-15"]),
        vec![carol_voted.clone()],
        "the whole last day"
    );
    assert_eq!(
        export(&["--since", "2020-06-16"]),
        vec![
            pair("101", "created"),
            pair("102", "vote:approve:button"),
            pair("101", "created"),
        ]
    );
    assert_eq!(export(&["--user", "102"]), vec![pair("102", "vote:approve:button")]);
    assert_eq!(
        export(&["--request", &second.to_string()]),
        vec![carol_voted.clone(), pair("101", "created")]
    );
    assert_eq!(
        export(&["--request", &second.to_string(), "--user", "101"]),
        vec![pair("101", "created")]
    );
    assert_eq!(export(&["--user", &carol.to_string()]), vec![carol_voted]);

    let csv = cvmbot(&["audit", "export", "--user", &carol.to_string()], &env);
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    assert!(
        csv.contains(&format!(
            ",{second},{carol},carol,vote:approve:reaction,pending,pending,"
        )),
        "the id is written out in full: {csv}"
    );
    let backwards = cvmbot(
        &["audit", "export", "--since", "2026-02-01", "--until", "2026-01-31"],
        &env,
    );
    assert!(!backwards.status.success());
    assert!(
        text(&backwards).contains("--until 2026-01-31 is before --since 2026-02-01"),
        "{}",
        text(&backwards)
    );
}
}

#[test]
fn logs_can_be_json_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let output = cvmbot(
        &["--log-format", "json", "migrate"],
        &[
            ("CVMBOT_DATABASE__URL", &db),
            ("CVMBOT_POLICY__APPROVERS", "{ anyone = true }"),
            ("RUST_LOG", "info"),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().find(|l| !l.trim().is_empty()).expect("some log line");
    let parsed: serde_json::Value = serde_json::from_str(first).unwrap_or_else(|e| panic!("{e}: {first}"));
    assert!(parsed.get("level").is_some(), "{parsed}");
}

#[test]
fn text_logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let output = cvmbot(
        &["--log-format", "text", "migrate"],
        &[
            ("CVMBOT_DATABASE__URL", &db),
            ("CVMBOT_POLICY__APPROVERS", "{ anyone = true }"),
            ("RUST_LOG", "info"),
        ],
    );
    assert!(output.status.success(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(" INFO "), "a log line was written: {stderr:?}");
    assert!(!stderr.contains("\x1b["), "no ANSI escape in a piped log: {stderr:?}");
}

/// `cvmbot migrate` run on a pseudo-terminal (util-linux `script`), with `env` set; what the
/// terminal showed, or `None` when `script` is not installed.
fn migrate_on_a_terminal(env: &[(&str, &str)]) -> Option<String> {
    let dir = tempfile::tempdir().expect("dir");
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let line = format!("'{}' migrate", env!("CARGO_BIN_EXE_cvmbot"));
    let mut command = Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CVMBOT_CONFIG")
        .env("CVMBOT_DATABASE__URL", &db)
        .env("CVMBOT_POLICY__APPROVERS", "{ anyone = true }")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stdin(Stdio::null());
    let output = command.output().ok()?;
    assert!(output.status.success(), "{}", text(&output));
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn on_a_terminal_logs_are_coloured_unless_no_color_is_set() {
    let Some(coloured) = migrate_on_a_terminal(&[]) else {
        eprintln!("SKIPPED: util-linux `script` is not installed");
        return;
    };
    assert!(coloured.contains("INFO") && coloured.contains("\x1b["), "{coloured:?}");
    let plain = migrate_on_a_terminal(&[("NO_COLOR", "1")]).expect("script ran before");
    assert!(plain.contains("INFO") && !plain.contains("\x1b["), "{plain:?}");
}

#[test]
fn the_readme_cam_policy_grants_exactly_the_actions_cvmbot_calls_under_their_cam_names() {
    let readme = include_str!("../../README.md");
    assert!(
        readme.contains("### 2. Tencent Cloud permissions"),
        "doctor and deploy/cvmbot.env.example point to this section"
    );
    let start = readme.find("\"action\": [").expect("the policy's action list");
    let end = start + readme[start..].find(']').expect("its end");
    let granted: Vec<String> = readme[start..end]
        .lines()
        .skip(1)
        .map(|l| l.trim().trim_end_matches(',').trim_matches('"').to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    let mut expected: Vec<String> = cvmbot::tencent::ACTIONS
        .iter()
        .map(|action| {
            let service = if matches!(*action, "DescribeAccountBalance" | "DescribeBillDetail") {
                "finance"
            } else {
                "cvm"
            };
            format!("{service}:{action}")
        })
        .collect();
    expected.sort();
    let mut sorted = granted.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "Billing actions are `finance:` in CAM: {granted:?}");
}

#[test]
fn a_database_that_cannot_be_opened_fails_at_once_naming_it() {
    let approvers = ("CVMBOT_POLICY__APPROVERS", "{ anyone = true }");
    let refused = cvmbot(
        &["migrate"],
        &[
            ("CVMBOT_DATABASE__URL", "postgres://postgres@127.0.0.1:1/cvmbot"),
            approvers,
        ],
    );
    let said = text(&refused);
    assert!(!refused.status.success());
    assert!(
        said.contains("PostgreSQL at 127.0.0.1:1") && said.contains("refused"),
        "{said}"
    );
    assert!(
        !said.contains("pool timed out"),
        "the real cause, not a pool timeout: {said}"
    );

    let unopenable = cvmbot(
        &["migrate"],
        &[("CVMBOT_DATABASE__URL", "sqlite:///nonexistent/cvmbot/x.db"), approvers],
    );
    let said = text(&unopenable);
    assert!(!unopenable.status.success());
    assert!(said.contains("/nonexistent/cvmbot/x.db"), "names the file: {said}");
    assert_eq!(said.matches("unable to open").count(), 1, "says it once: {said}");
}

/// `cvmbot backup FILE` with the test's database and credentials.
fn backup(db_url: &str, file: &std::path::Path) -> Output {
    cvmbot(
        &["backup", &file.display().to_string()],
        &[
            ("CVMBOT_DATABASE__URL", db_url),
            ("CVMBOT_POLICY__APPROVERS", "{ roles = [\"900\"] }"),
            ("TENCENTCLOUD_SECRET_ID", cvmbot::sim::DEFAULT_SECRET_ID),
            ("TENCENTCLOUD_SECRET_KEY", cvmbot::sim::DEFAULT_SECRET_KEY),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_a_checked_copy_only_its_owner_can_read_and_it_restores_every_request() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Backend::Sqlite, "").await.expect("SQLite");
    let id = file_as_alice(app.desk(), &spot_form()).await;
    let dir = tempfile::tempdir().expect("a directory");
    let file = dir.path().join("cvmbot-backup.db");

    let out = backup(&app.db.url, &file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("integrity check: ok"), "{stdout}");
    let mode = std::fs::metadata(&file).expect("the backup").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "readable by its owner only");

    // Restored (opened as the database), it has the request.
    let settings = cvmbot::store::DatabaseSettings {
        target: cvmbot::store::DatabaseTarget::Sqlite(format!("sqlite://{}", file.display())),
        max_connections: 1,
    };
    let restored = cvmbot::store::Store::open(&settings).await.expect("the backup opens");
    let record = restored
        .session()
        .await
        .expect("a session")
        .request(id)
        .await
        .expect("a read");
    assert_eq!(record.map(|r| r.id), Some(id));
    let integrity: String = restored.integrity_check().await.expect("checked");
    assert_eq!(integrity, "ok");
    restored.close().await;

    // A backup never overwrites a file.
    let again = backup(&app.db.url, &file);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("cannot create the backup"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_file_is_created_readable_by_its_owner_only_and_a_readable_one_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a directory");
    let open = |name: &str| cvmbot::store::DatabaseSettings {
        target: cvmbot::store::DatabaseTarget::Sqlite(format!("sqlite://{}", dir.path().join(name).display())),
        max_connections: 1,
    };
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .expect("the file")
            .permissions()
            .mode()
            & 0o777
    };
    cvmbot::store::Store::open(&open("new.db"))
        .await
        .expect("opens")
        .close()
        .await;
    assert_eq!(mode("new.db"), 0o600);
    std::fs::write(dir.path().join("old.db"), b"").expect("a file");
    std::fs::set_permissions(dir.path().join("old.db"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    cvmbot::store::Store::open(&open("old.db"))
        .await
        .expect("opens")
        .close()
        .await;
    assert_eq!(mode("old.db"), 0o600);
    for companion in ["old.db-wal", "old.db-shm"] {
        if dir.path().join(companion).exists() {
            assert_eq!(mode(companion), 0o600, "{companion}");
        }
    }
}
