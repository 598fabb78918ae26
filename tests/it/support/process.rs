//! The real `cvmbot run` binary as a child process against the fake Discord and the simulator
//! (both in the test process, so they outlive the bot): for what only a process can show —
//! signals, `kill -9`, crash points, what reaches its log.

use super::discord_app::{ALICE, BOB, CAROL, DAVE, ERIN};
use super::fake_discord::FakeDiscord;
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, Simulator};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

/// How long a process may take to start, stop or get somewhere.
pub const PROCESS_WAIT: Duration = Duration::from_secs(30);

/// The fake Discord, the simulator and a database directory, shared by the bot processes.
pub struct Deployment {
    /// The fake Discord.
    pub fake: FakeDiscord,
    /// The simulator.
    pub sim: Simulator,
    /// `#general`.
    pub channel: u64,
    /// `#alerts`.
    pub alerts: u64,
    approver_role: u64,
    dir: tempfile::TempDir,
    /// A PostgreSQL schema instead of the SQLite file, for replicas.
    postgres: Option<super::app::TestDb>,
}

/// One `cvmbot run` process; killed when dropped.
pub struct BotProcess {
    child: Child,
    log: PathBuf,
    /// Started in a PID namespace of its own (as on another machine): `child` is `unshare`, and
    /// cvmbot is its only child.
    namespaced: bool,
}

impl Deployment {
    /// The guild of the Discord tests (alice, bob and carol approvers, dave, erin), a simulator
    /// with its clock still, and an empty directory for the SQLite database.
    pub async fn start() -> Deployment {
        let fake = FakeDiscord::start().await;
        let approver_role = fake.add_role("approver", 0);
        fake.add_member(ALICE, "alice", &[]);
        fake.add_member(BOB, "bob", &[approver_role]);
        fake.add_member(CAROL, "carol", &[approver_role]);
        fake.add_member(DAVE, "dave", &[]);
        fake.add_member(ERIN, "erin", &[]);
        let alerts = fake.add_channel("alerts");
        let sim = super::sim::start(super::sim::test_config()).await;
        Deployment {
            channel: fake.default_channel_id(),
            fake,
            sim,
            alerts,
            approver_role,
            dir: tempfile::tempdir().expect("a directory"),
            postgres: None,
        }
    }

    /// Like [`Self::start`] with a fresh PostgreSQL schema as the database, which replicas
    /// share; `None` when PostgreSQL is not configured here (never under CI).
    pub async fn start_on_postgres() -> Option<Deployment> {
        let postgres = super::app::test_db(super::app::Backend::Postgres).await?;
        Some(Deployment {
            postgres: Some(postgres),
            ..Deployment::start().await
        })
    }

    /// Deletes the database, as a rebuilt installation would start (no bot may be running).
    pub fn delete_database(&self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(self.dir.path().join(format!("cvmbot.db{suffix}")));
        }
    }

    /// A file in the deployment's directory (which outlives its processes).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The database URL every process uses.
    pub fn database_url(&self) -> String {
        match &self.postgres {
            Some(postgres) => postgres.url.clone(),
            None => format!("sqlite://{}", self.dir.path().join("cvmbot.db").display()),
        }
    }

    /// Starts `cvmbot run` as a replica on another machine would run, in a PID namespace of
    /// its own (so no replica can tell whether another's process is alive, and a killed leader's
    /// lease must run out), without waiting for it. Where namespaces cannot be made, it runs as
    /// a plain process.
    pub fn spawn_replica(&self, env: &[(&str, &str)]) -> BotProcess {
        self.spawn_process(&[], env, namespaces_work())
    }

    /// Starts `cvmbot run` with the deployment's settings and `env` on top, and waits until it
    /// is connected and READY.
    pub async fn spawn(&self, env: &[(&str, &str)]) -> BotProcess {
        self.spawn_with_args(&[], env).await
    }

    /// Like [`Self::spawn`] with more arguments after `run --config FILE`.
    pub async fn spawn_with_args(&self, args: &[&str], env: &[(&str, &str)]) -> BotProcess {
        let mark = self.fake.connection_mark();
        let bot = self.spawn_unready_with_args(args, env);
        self.fake.wait_until_reconnected(mark, PROCESS_WAIT).await;
        self.fake
            .wait_for_commands(Some(self.fake.guild_id()), PROCESS_WAIT)
            .await;
        bot
    }

    /// Starts `cvmbot run` without waiting for it.
    pub fn spawn_unready(&self, env: &[(&str, &str)]) -> BotProcess {
        self.spawn_unready_with_args(&[], env)
    }

    fn spawn_unready_with_args(&self, args: &[&str], env: &[(&str, &str)]) -> BotProcess {
        self.spawn_process(args, env, false)
    }

    fn spawn_process(&self, args: &[&str], env: &[(&str, &str)], namespaced: bool) -> BotProcess {
        let runs = std::fs::read_dir(self.dir.path()).map_or(0, Iterator::count);
        let log = self.dir.path().join(format!("bot-{runs}.log"));
        let config = self.dir.path().join("cvmbot.toml");
        std::fs::write(&config, format!("{FAST}{}", super::discord_app::FAST_WORKERS)).expect("the configuration file");
        let mut command = if namespaced {
            let mut unshare = Command::new("unshare");
            unshare
                .args(["--pid", "--fork", "--mount-proc", "--kill-child=SIGKILL"])
                .arg(env!("CARGO_BIN_EXE_cvmbot"));
            unshare
        } else {
            Command::new(env!("CARGO_BIN_EXE_cvmbot"))
        };
        command
            .args(["run", "--config"])
            .arg(&config)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "cvmbot=info,warn")
            .env("DISCORD_TOKEN", self.fake.token())
            .env("TENCENTCLOUD_SECRET_ID", DEFAULT_SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", DEFAULT_SECRET_KEY)
            .env("CVMBOT_DISCORD__API_BASE", self.fake.rest_url())
            .env("CVMBOT_DISCORD__GUILD_IDS", format!("[\"{}\"]", self.fake.guild_id()))
            .env("CVMBOT_DISCORD__ALERT_CHANNEL_ID", self.alerts.to_string())
            .env("CVMBOT_DATABASE__URL", self.database_url())
            .env("CVMBOT_TENCENT__ENDPOINT", self.sim.url())
            .env(
                "CVMBOT_POLICY__APPROVERS",
                format!("{{ roles = [\"{}\"] }}", self.approver_role),
            )
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("a log file"));
        BotProcess {
            child: command.spawn().expect("cvmbot runs"),
            log,
            namespaced,
        }
    }
}

/// No client-side rate limits and short back-offs (the workers are made quick by
/// [`super::discord_app::FAST_WORKERS`]).
const FAST: &str = r#"
[tencent]
backoff_base = "5ms"
backoff_max = "20ms"
rate_limits = { RunInstances = 0, InquiryPriceRunInstances = 0, DescribeInstances = 0, DescribeAccountBalance = 0, default = 0 }
"#;

impl BotProcess {
    /// The process id (of cvmbot itself, also when it runs in a namespace of its own).
    pub fn pid(&self) -> u32 {
        if !self.namespaced {
            return self.child.id();
        }
        let deadline = std::time::Instant::now() + PROCESS_WAIT;
        loop {
            let children =
                std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", self.child.id())).unwrap_or_default();
            if let Some(pid) = children.split_whitespace().next().and_then(|p| p.parse().ok()) {
                return pid;
            }
            assert!(std::time::Instant::now() < deadline, "unshare started no cvmbot");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Its log (stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Its exit status if it has ended.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("the child's status")
    }

    /// Waits up to `timeout` for it to end.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// `kill -9`.
    pub async fn kill9(&mut self) {
        if self.namespaced {
            self.signal("KILL");
        }
        let _ = self.child.kill();
        let _ = self.wait_exit(PROCESS_WAIT).await;
    }

    /// Sends a signal by name (`TERM`, `INT`).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{name} {}", self.pid());
    }
}

impl Drop for BotProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether this machine lets a test start a process in a PID namespace of its own.
fn namespaces_work() -> bool {
    static WORKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WORKS.get_or_init(|| {
        let works = Command::new("unshare")
            .args(["--pid", "--fork", "--mount-proc", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !works {
            eprintln!("NOTE: no PID namespaces here: replicas run as plain processes on one machine");
        }
        works
    })
}
