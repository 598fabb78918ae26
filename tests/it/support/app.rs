//! The whole application against local fakes: the simulator on port 0 and a fresh database
//! (SQLite file, or a PostgreSQL schema of its own), built by the same `App::build` production uses.

use super::sim::{IMAGE, TYPE, ZONE, test_config};
use cvmbot::app::App;
use cvmbot::chat::RecordingNotifier;
use cvmbot::clock::Clock;
use cvmbot::config::Config;
use cvmbot::desk::{Desk, Origin};
use cvmbot::domain::{BillingKind, Person, PurchaseForm, RequestId};
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, SimConfig, Simulator};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// The variable naming the PostgreSQL server tests may use (`.ci/run` sets it).
pub const POSTGRES_ENV: &str = "POSTGRES_TEST_URL";

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh schema on the server named by `POSTGRES_TEST_URL`.
    Postgres,
}

/// A database for one test; the SQLite directory lives as long as this does.
pub struct TestDb {
    /// Its URL.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh database, or `None` (with a clear message) when PostgreSQL is not configured here.
/// Under CI (`CI=true`) a missing PostgreSQL fails the test instead of skipping it.
pub async fn test_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            let url = format!("sqlite://{}", dir.path().join("cvmbot.db").display());
            Some(TestDb { url, _dir: Some(dir) })
        }
        Backend::Postgres => {
            let Ok(server) = std::env::var(POSTGRES_ENV) else {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{POSTGRES_ENV} is not set under CI: the PostgreSQL tests must run");
                }
                eprintln!("SKIPPED (PostgreSQL half): set {POSTGRES_ENV}=postgres://user@127.0.0.1:5432/db to run it");
                return None;
            };
            let schema = format!("cvmbot_test_{:016x}", cvmbot::random::entropy());
            let pool = sqlx::PgPool::connect(&server).await.expect("PostgreSQL is reachable");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&pool)
                .await
                .expect("a schema");
            pool.close().await;
            let separator = if server.contains('?') { '&' } else { '?' };
            let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
            Some(TestDb { url, _dir: None })
        }
    }
}

/// People: alice and dave request, bob and carol approve (role 900), erin is an admin (role 901).
pub fn alice() -> Person {
    cvmbot::chat::console::person("alice")
}
/// An approver.
pub fn bob() -> Person {
    cvmbot::chat::console::person("bob")
}
/// Another approver.
pub fn carol() -> Person {
    cvmbot::chat::console::person("carol")
}
/// Not an approver.
pub fn dave() -> Person {
    cvmbot::chat::console::person("dave")
}
/// An admin.
pub fn erin() -> Person {
    cvmbot::chat::console::person("erin")
}

/// The test configuration: approvers by role 900, admins 901, fast retries, no client-side rate
/// limits, the simulator's default account; `extra` is TOML layered on top.
pub fn config(sim_url: &str, db_url: &str, extra: &str) -> Config {
    let base = format!(
        r#"
[database]
url = "{db_url}"
max_connections = 8

[tencent]
endpoint = "{sim_url}"
backoff_base = "5ms"
backoff_max = "20ms"
rate_limits = {{ RunInstances = 0, InquiryPriceRunInstances = 0, DescribeInstances = 0, DescribeAccountBalance = 0, default = 0 }}

[discord]
alert_channel_id = 2

[policy]
requesters = {{ anyone = true }}
approvers = {{ roles = [900] }}
admins = {{ roles = [901] }}
"#
    );
    let env = BTreeMap::from([
        ("TENCENTCLOUD_SECRET_ID".to_owned(), DEFAULT_SECRET_ID.to_owned()),
        ("TENCENTCLOUD_SECRET_KEY".to_owned(), DEFAULT_SECRET_KEY.to_owned()),
    ]);
    Config::load_layered(
        &[("the test settings", &base), ("the test's own settings", extra)],
        None,
        &env,
    )
    .unwrap_or_else(|e| panic!("test configuration: {e}"))
}

/// The application against a simulator, on a fresh database.
pub struct TestApp {
    /// The simulator.
    pub sim: Simulator,
    /// The application.
    pub app: App,
    /// Where posts went (for workers started with it).
    pub notifier: Arc<RecordingNotifier>,
    /// The database (kept alive).
    pub db: TestDb,
}

impl TestApp {
    /// The desk.
    pub fn desk(&self) -> &Desk {
        &self.app.desk
    }

    /// The same application rebuilt on the same database and simulator: a restart.
    pub async fn restart(&self, clock: Clock) -> App {
        let config = self.app.config.clone();
        App::build(config, clock).await.expect("the application restarts")
    }

    /// Another application on the same database and simulator with `extra` configuration (a
    /// second replica, or the same one restarted with another policy).
    pub async fn replica(&self, extra: &str) -> App {
        let config = config(self.sim.url(), &self.db.url, extra);
        App::build(config, Clock::System).await.expect("the replica builds")
    }
}

/// The application on `backend` (None when that backend is unavailable here), with the default
/// deterministic simulator and `extra` configuration.
pub async fn spawn_app(backend: Backend, extra: &str) -> Option<TestApp> {
    spawn_app_with(backend, test_config(), extra).await
}

/// Like [`spawn_app`] with a simulator configuration of the test's choosing.
pub async fn spawn_app_with(backend: Backend, sim_config: SimConfig, extra: &str) -> Option<TestApp> {
    let db = test_db(backend).await?;
    let sim = super::sim::start(sim_config).await;
    let config = config(sim.url(), &db.url, extra);
    let app = App::build(config, Clock::System).await.expect("the application builds");
    Some(TestApp {
        sim,
        app,
        notifier: Arc::new(RecordingNotifier::default()),
        db,
    })
}

/// Files `form` as alice from no channel; returns the request's id.
pub async fn file_as_alice(desk: &Desk, form: &PurchaseForm) -> RequestId {
    desk.create(&alice(), form, Origin::default())
        .await
        .expect("filed")
        .record
        .id
}

/// Alice buys `form` (bob approves, and carol when one approval is not enough), the purchase
/// goes through and the simulated servers come up; returns the purchase and its instance ids.
pub async fn bought_by_alice(app: &TestApp, form: &PurchaseForm) -> (RequestId, Vec<String>) {
    let id = file_as_alice(app.desk(), form).await;
    let ballot = cvmbot::desk::Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Button,
    };
    for approver in [bob(), carol()] {
        if app.desk().view(id).await.expect("view").record.state == cvmbot::domain::RequestState::Pending {
            app.desk().vote(id, &approver, &ballot).await.expect("approved");
        }
    }
    assert!(matches!(
        app.desk().submit(id).await.expect("bought"),
        cvmbot::desk::SubmitOutcome::Submitted(_)
    ));
    app.sim.advance(Duration::from_secs(120));
    let view = app.desk().view(id).await.expect("view");
    (id, view.instances.iter().map(|i| i.instance_id.clone()).collect())
}

/// Files a request on `app` and rewrites its stored quote as a much cheaper one from two hours
/// ago that needed one approval: as if the price rose after it was quoted.
pub async fn file_with_an_old_cheap_quote(app: &App) -> RequestId {
    let id = file_as_alice(&app.desk, &payg_form()).await;
    let record = app.desk.view(id).await.expect("view").record;

    let cheaper = cvmbot::domain::Quote::Hourly {
        per_hour: "0.01".parse().expect("yuan"),
        traffic_per_gb: None,
    };
    let hash = cvmbot::domain::approval_hash(&record.operation, &cheaper);
    let mut tx = app.store().begin().await.expect("tx");
    let requote = cvmbot::store::Requote {
        quote: &cheaper,
        approval_hash: &hash,
        monthly_fen: 730,
        approvals_needed: 1,
        at: time::OffsetDateTime::now_utc() - Duration::from_secs(7200),
        quote_request_id: "old",
    };
    tx.set_quote(id, &requote).await.expect("quote");
    tx.commit().await.expect("commit");
    id
}

/// A valid spot request form (bid 0.6, 5 Mbps).
pub fn spot_form() -> PurchaseForm {
    PurchaseForm::new(BillingKind::Spot)
        .with("zone", ZONE)
        .with("type", TYPE)
        .with("image", IMAGE)
        .with("max-price", "0.6")
        .with("bandwidth", "5")
        .with("reason", "load test")
}

/// A valid pay-as-you-go request form.
pub fn payg_form() -> PurchaseForm {
    PurchaseForm::new(BillingKind::PayAsYouGo)
        .with("zone", ZONE)
        .with("type", TYPE)
        .with("image", IMAGE)
        .with("bandwidth", "5")
}

/// A valid prepaid request form for `months`.
pub fn prepaid_form(months: u32) -> PurchaseForm {
    PurchaseForm::new(BillingKind::Prepaid)
        .with("zone", ZONE)
        .with("type", TYPE)
        .with("image", IMAGE)
        .with("months", months.to_string())
}

/// Runs a test body once per backend, as `NAME::sqlite` and `NAME::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($backend:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($backend: $crate::support::app::Backend) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                run($crate::support::app::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                run($crate::support::app::Backend::Postgres).await
            }
        }
    };
}
