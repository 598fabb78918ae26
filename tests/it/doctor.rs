//! `cvmbot doctor` as an operator runs it, against the simulator, the fake Discord and a SQLite
//! file: everything good; a channel permission an overwrite takes away, named; a server the bot
//! is not in; an action CAM denies, named with the policy line to add; migrations pending, newer
//! than the binary, and never applied by the doctor itself.

use crate::support::app::{alice, config, spot_form};
use crate::support::fake_discord::{FakeDiscord, Overwrite, permissions};
use crate::support::sim::{start, test_config};
use cvmbot::desk::Origin;
use cvmbot::domain::{ChannelId, GuildId};
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Simulator};
use std::process::{Command, Output, Stdio};

/// A simulator, a fake Discord with a `#requests` channel and a SQLite file, for one doctor run.
struct World {
    sim: Simulator,
    fake: FakeDiscord,
    requests: u64,
    db_url: String,
    _dir: tempfile::TempDir,
}

impl World {
    async fn start() -> World {
        let sim = start(test_config()).await;
        let fake = FakeDiscord::start().await;
        let requests = fake.add_channel("requests");
        let dir = tempfile::tempdir().expect("dir");
        let db_url = format!("sqlite://{}", dir.path().join("cvmbot.db").display());
        World {
            sim,
            fake,
            requests,
            db_url,
            _dir: dir,
        }
    }

    /// Migrates the database and files one request from `#requests`, as the bot would.
    async fn with_a_request_filed(self) -> World {
        let app = cvmbot::app::App::build(config(self.sim.url(), &self.db_url, ""), cvmbot::clock::Clock::System)
            .await
            .expect("the application builds");
        let origin = Origin {
            guild_id: Some(GuildId::new(self.fake.guild_id())),
            channel_id: Some(ChannelId::new(self.requests)),
        };
        app.desk.create(&alice(), &spot_form(), origin).await.expect("filed");
        app.store().close().await;
        self
    }

    /// Runs `cvmbot doctor` with the world's settings and `extra` variables; the exit status and
    /// everything it printed.
    fn doctor(&self, extra: &[(&str, &str)]) -> (Output, String) {
        let guilds = format!("[\"{}\"]", self.fake.guild_id());
        let alert = self.fake.default_channel_id().to_string();
        let token = self.fake.token();
        let rest = self.fake.rest_url();
        let mut command = Command::new(env!("CARGO_BIN_EXE_cvmbot"));
        command.arg("doctor").stdin(Stdio::null()).env_remove("RUST_LOG");
        for name in ["DISCORD_TOKEN", "TENCENTCLOUD_REGION", "CVMBOT_CONFIG"] {
            command.env_remove(name);
        }
        let settings = [
            ("CVMBOT_TENCENT__ENDPOINT", self.sim.url()),
            ("CVMBOT_DATABASE__URL", self.db_url.as_str()),
            ("CVMBOT_POLICY__APPROVERS", "{ roles = [\"900\"] }"),
            ("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID),
            ("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY),
            ("DISCORD_TOKEN", token.as_str()),
            ("CVMBOT_DISCORD__API_BASE", rest.as_str()),
            ("CVMBOT_DISCORD__GUILD_IDS", guilds.as_str()),
            ("CVMBOT_DISCORD__ALERT_CHANNEL_ID", alert.as_str()),
        ];
        for (name, value) in settings.iter().chain(extra) {
            command.env(name, value);
        }
        let output = command.output().expect("cvmbot runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output, text)
    }
}

/// The report's line about `what` (and its fix line, if any).
fn line<'a>(report: &'a str, mark: &str, what: &str) -> &'a str {
    let start = report
        .find(&format!("{mark} {what}"))
        .unwrap_or_else(|| panic!("no `{mark} {what}` line in:\n{report}"));
    let rest = &report[start..];
    let end = rest
        .match_indices('\n')
        .map(|(i, _)| i)
        .find(|i| !rest[i + 1..].starts_with("      fix:"))
        .unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_finds_everything_good_and_asks_every_action_it_can_without_buying_anything() {
    let world = World::start().await.with_a_request_filed().await;
    world.sim.clear_requests();
    let (output, report) = world.doctor(&[]);
    assert!(output.status.success(), "{report}");
    assert!(
        !report.contains('✗') && !report.contains("! "),
        "no failure and no warning:\n{report}"
    );
    line(&report, "✓", &format!("migrations: all {} applied", migrations().len()));
    line(
        &report,
        "✓",
        &format!("server {}: the bot is a member", world.fake.guild_id()),
    );
    line(
        &report,
        "✓",
        &format!("alert channel {} (#general)", world.fake.default_channel_id()),
    );
    line(&report, "✓", &format!("request channel {} (#requests)", world.requests));
    for action in [
        "DescribeAccountBalance",
        "DescribeZones",
        "DescribeZoneInstanceConfigInfos",
        "DescribeImages",
        "DescribeInstances",
        "InquiryPriceRunInstances",
        "InquiryPriceTerminateInstances",
        "InquiryPriceRenewInstances",
    ] {
        line(&report, "✓", action);
    }
    assert!(line(&report, "✓", "RunInstances").contains("dry run"), "{report}");
    assert!(
        line(&report, "✓", "not checked").contains("TerminateInstances, RenewInstances, ModifyInstancesRenewFlag"),
        "{report}"
    );
    let changing: Vec<_> = world
        .sim
        .requests()
        .into_iter()
        .filter(|r| ["TerminateInstances", "RenewInstances", "ModifyInstancesRenewFlag"].contains(&r.action.as_str()))
        .collect();
    assert!(
        changing.is_empty(),
        "nothing that changes servers was sent: {changing:?}"
    );
    let runs: Vec<_> = world
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.action == "RunInstances")
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].params["DryRun"], serde_json::json!(true));
    assert!(world.sim.instances().is_empty(), "nothing was bought");
    world.fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_server_the_bot_is_not_in_and_each_permission_a_channel_takes_from_it() {
    let world = World::start().await.with_a_request_filed().await;
    let fake = &world.fake;
    let bot_role = fake.role_id("cvmbot").expect("the bot's role");
    let everyone = fake.guild_id();
    let no_threads = !permissions::CREATE_PUBLIC_THREADS;
    fake.set_role_permissions(bot_role, permissions::BOT_DEFAULT & no_threads);
    fake.set_role_permissions(everyone, fake.role_permissions(everyone) & no_threads);
    fake.set_permission_overwrite(
        world.requests,
        Overwrite::Role(bot_role),
        0,
        permissions::MANAGE_MESSAGES,
    );
    let alert = fake.default_channel_id();
    fake.set_permission_overwrite(alert, Overwrite::Role(everyone), 0, permissions::SEND_MESSAGES);
    let elsewhere = 1_300_000_000_000_000_999_u64;
    let guilds = format!("[\"{}\", \"{elsewhere}\"]", fake.guild_id());
    let (output, report) = world.doctor(&[
        ("CVMBOT_DISCORD__GUILD_IDS", &guilds),
        ("CVMBOT_DISCORD__THREAD_PER_REQUEST", "true"),
    ]);
    assert!(!output.status.success(), "{report}");

    let missing_server = line(&report, "✗", &format!("server {elsewhere}"));
    assert!(missing_server.contains("not a member"), "{missing_server}");
    let server = line(&report, "!", &format!("server {}", fake.guild_id()));
    assert!(server.contains("lack Create Public Threads"), "{server}");
    let requests = line(&report, "✗", &format!("request channel {} (#requests)", world.requests));
    assert!(
        requests.contains("Manage Messages (to take back a ✅ or ❌"),
        "{requests}"
    );
    assert!(
        requests.contains("Create Public Threads (to open a thread"),
        "{requests}"
    );
    assert!(
        requests.contains("fix: Edit Channel → Permissions → the bot's role (or the bot itself): allow Manage Messages, Create Public Threads"),
        "{requests}"
    );
    assert!(
        !requests.contains("Send Messages ("),
        "the request channel still lets it post: {requests}"
    );
    let alerts = line(&report, "✗", &format!("alert channel {alert} (#general)"));
    assert!(
        alerts.contains("the bot lacks Send Messages (to post balance warnings"),
        "{alerts}"
    );

    fake.set_permission_overwrite(
        world.requests,
        Overwrite::Member(fake.bot_user_id()),
        0,
        permissions::VIEW_CHANNEL,
    );
    let (_, report) = world.doctor(&[]);
    let hidden = line(&report, "✗", &format!("request channel {}", world.requests));
    assert!(
        hidden.contains("cannot see this channel (403 Missing Access)"),
        "{hidden}"
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_action_cam_denies_and_the_policy_line_to_add() {
    let world = World::start().await;
    let url = format!("{}/_sim/cam/{DEFAULT_SECRET_ID}", world.sim.url());
    let denied = reqwest::Client::new()
        .post(&url)
        .json(&serde_json::json!({"deny": ["RunInstances", "DescribeAccountBalance"]}))
        .send()
        .await
        .expect("the control endpoint answers");
    assert!(denied.status().is_success());
    let (output, report) = world.doctor(&[]);
    assert!(!output.status.success(), "{report}");

    let run = line(&report, "✗", "RunInstances");
    assert!(
        run.contains("CAM refused it: the key's sub-user may not call cvm:RunInstances"),
        "{run}"
    );
    assert!(run.contains("AuthFailure.UnauthorizedOperation"), "{run}");
    assert!(
        run.contains("fix: add \"cvm:RunInstances\" to the sub-user's CAM policy"),
        "{run}"
    );
    let balance = line(&report, "✗", "DescribeAccountBalance");
    assert!(
        balance.contains("fix: add \"finance:DescribeAccountBalance\""),
        "{balance}"
    );
    line(&report, "✓", "InquiryPriceRunInstances");
    line(&report, "✓", "DescribeZones");
    assert!(!report.contains(DEFAULT_SECRET_KEY), "no secret is printed");
}

/// The database's `_sqlx_migrations` rows, as (version, success).
async fn applied(db_url: &str) -> Vec<i64> {
    let pool = sqlx::SqlitePool::connect(db_url).await.expect("the file opens");
    let exists: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(&pool)
            .await
            .expect("the catalogue");
    let versions = if exists == 0 {
        Vec::new()
    } else {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&pool)
            .await
            .expect("the migrations")
    };
    pool.close().await;
    versions
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_pending_and_newer_migrations_and_never_applies_them() {
    let world = World::start().await;
    let (output, report) = world.doctor(&[]);
    assert!(output.status.success(), "pending migrations only warn:\n{report}");
    let fresh = line(&report, "!", "migrations");
    let known = migrations();
    let latest = known.len() as i64;
    assert!(
        fresh.contains(&format!("a new database: {latest} migrations to apply")),
        "{fresh}"
    );
    assert!(fresh.contains("fix: `cvmbot migrate` applies them"), "{fresh}");
    assert!(applied(&world.db_url).await.is_empty(), "the doctor applied nothing");

    let world = world.with_a_request_filed().await;
    let pool = sqlx::SqlitePool::connect(&world.db_url).await.expect("the file opens");
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(latest)
        .execute(&pool)
        .await
        .expect("one migration forgotten");
    let (_, report) = world.doctor(&[]);
    let behind = line(&report, "!", "migrations");
    let pending = format!("1 pending: {}", known.last().expect("a migration"));
    assert!(behind.contains(&pending), "{behind}");
    assert_eq!(
        applied(&world.db_url).await,
        (1..latest).collect::<Vec<_>>(),
        "still not applied"
    );

    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         SELECT $1, description, installed_on, success, checksum, execution_time FROM _sqlx_migrations WHERE version = $2",
    )
    .bind(latest)
    .bind(latest - 1)
    .execute(&pool)
    .await
    .expect("a row with the wrong text");
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (9999, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&pool)
    .await
    .expect("a newer cvmbot's migration");
    pool.close().await;
    let (output, report) = world.doctor(&[]);
    assert!(!output.status.success(), "{report}");
    assert!(
        report.contains("✗ migrations: applied but unknown to this cvmbot: 9999 from the future (a newer cvmbot"),
        "{report}"
    );
    assert!(
        report.contains("fix: run the newer cvmbot, or restore the backup"),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "✗ migrations: applied with another text than this cvmbot's: {}",
            known.last().expect("a migration")
        )),
        "{report}"
    );
}

/// This binary's migrations as doctor names them (`0006 fleets`), in order, from the files.
fn migrations() -> Vec<String> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("the migrations")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".sql")?;
            let (version, description) = stem.split_once('_')?;
            Some(format!("{version} {}", description.replace('_', " ")))
        })
        .collect();
    names.sort();
    names
}
