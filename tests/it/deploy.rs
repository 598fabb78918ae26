//! What `deploy/` ships, checked as an operator would use it: the environment file and the
//! credentials read by hand as the systemd unit says, and read alike by systemd; the unit's
//! credentials, notifications and hardening (`systemd-analyze security`), and the real binary
//! telling a notify socket it is ready, alive and stopping; the container image and the compose
//! file agreeing with the configuration (variables, port, volume, user, secrets).

use crate::support::process::{Deployment, PROCESS_WAIT};
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const UNIT: &str = include_str!("../../deploy/cvmbot.service");

/// The secrets cvmbot reads, each with the credential the unit loads it as and a value of its form.
const CREDENTIALS: &[(&str, &str, &str)] = &[
    ("DISCORD_TOKEN", "discord_token", "a-discord-token"),
    (
        "TENCENTCLOUD_SECRET_ID",
        "tencentcloud_secret_id",
        "AKIDFromACredential0000",
    ),
    (
        "TENCENTCLOUD_SECRET_KEY",
        "tencentcloud_secret_key",
        "KeyFromACredential0000",
    ),
];

/// The unit's `[Service]` settings named `key`, in order.
fn unit_settings(key: &str) -> Vec<&'static str> {
    UNIT.lines()
        .filter_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

/// The shell command the unit's header gives for checking the set-up by hand (inside `sh -c '…'`).
fn by_hand_command() -> &'static str {
    let line = UNIT
        .lines()
        .find_map(|l| l.strip_prefix("#   sudo sh -c '"))
        .expect("the unit says how to check the set-up by hand");
    line.strip_suffix('\'').expect("the command ends its quote")
}

/// A value as systemd's `EnvironmentFile=` reads it, for the forms the example's header allows:
/// in single quotes (the text between them), or plain with only letters, digits and `-_.,:/@=+`.
/// Anything else is refused, being where systemd and a shell read a line differently: systemd
/// keeps quotes inside a plain value (`["1"]`) where a shell removes them (`[1]`), a shell ends
/// the value at a space and expands `$`, backticks and `~`.
fn as_systemd_reads(value: &str) -> Result<String, String> {
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\''))
        && !inner.contains('\'')
    {
        return Ok(inner.to_owned());
    }
    match value
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !"-_.,:/@=+".contains(*c))
    {
        Some(c) => Err(format!("{value} holds {c:?} outside single quotes")),
        None => Ok(value.to_owned()),
    }
}

#[test]
fn the_env_example_and_the_credentials_read_the_same_by_hand_as_in_systemd() {
    assert_eq!(unit_settings("EnvironmentFile"), ["-/etc/cvmbot/cvmbot.env"]);
    let command = by_hand_command();
    assert!(
        command.starts_with("cd /var/lib/cvmbot && set -a && . /etc/cvmbot/cvmbot.env && "),
        "{command}"
    );
    assert!(command.ends_with(
        " && set +a && exec runuser -u cvmbot -- /usr/local/bin/cvmbot doctor --config /etc/cvmbot/cvmbot.toml"
    ));
    // Every commented-out `NAME=value` is a setting an operator may turn on.
    let example = include_str!("../../deploy/cvmbot.env.example");
    let is_name = |name: &str| {
        !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let filled: Vec<&str> = example
        .lines()
        .map(|line| {
            line.strip_prefix("# ")
                .filter(|rest| rest.split_once('=').is_some_and(|(n, _)| is_name(n)))
                .unwrap_or(line)
        })
        .collect();
    let settings: Vec<(&str, &str)> = filled
        .iter()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split_once('=').unwrap_or_else(|| panic!("not NAME=value: {line}")))
        .collect();
    assert!(settings.len() >= 10, "{settings:?}");
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("cvmbot.env");
    std::fs::write(&file, filled.join("\n") + "\n").expect("the filled-in file");
    for (_, credential, value) in CREDENTIALS {
        std::fs::write(dir.path().join(credential), value).expect("a credential");
    }

    // The unit's own command, with its files here and `env` in place of runuser and doctor.
    let here = dir.path().to_str().expect("a UTF-8 path");
    let script = command
        .replace("cd /var/lib/cvmbot", &format!("cd '{here}'"))
        .replace("/etc/cvmbot/cvmbot.env", &format!("'{here}/cvmbot.env'"))
        .replace("/etc/cvmbot/credentials/", &format!("{here}/"))
        .replace(
            "exec runuser -u cvmbot -- /usr/local/bin/cvmbot doctor --config /etc/cvmbot/cvmbot.toml",
            "exec env -0",
        );
    let read = match Command::new("sh").args(["-c", &script]).env_clear().output() {
        Ok(read) => read,
        Err(error) => {
            eprintln!("SKIPPED: no POSIX shell to read the file with: {error}");
            return;
        }
    };
    assert!(
        read.status.success(),
        "the shell could not read it: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let by_hand: BTreeMap<String, String> = String::from_utf8_lossy(&read.stdout)
        .split('\0')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    for (name, value) in &settings {
        let systemd = as_systemd_reads(value).unwrap_or_else(|why| panic!("{name}: {why}"));
        if let Some((.., read)) = CREDENTIALS.iter().find(|(secret, ..)| secret == name) {
            assert_eq!(
                by_hand.get(*name).map(String::as_str),
                Some(*read),
                "the credential wins: {name}"
            );
        } else {
            assert_eq!(by_hand.get(*name), Some(&systemd), "{name}");
        }
    }

    // What was read is what cvmbot accepts (the secret files the example names do not exist here).
    let mut env: BTreeMap<String, String> = by_hand
        .into_iter()
        .filter(|(name, _)| !name.ends_with("_FILE"))
        .collect();
    env.insert("CVMBOT_POLICY__APPROVERS".into(), "{ anyone = true }".into());
    let config = cvmbot::config::Config::load_from(None, &env).expect("the example's settings are valid");
    assert_eq!(config.discord.guild_ids, vec![123_456_789_012_345_678]);
    assert_eq!(config.tencent.region, "ap-shanghai");
    let token = config.secrets.discord_token.expect("the token was read");
    assert_eq!(token.expose(), "a-discord-token");
}

#[test]
fn the_unit_loads_each_secret_cvmbot_reads_as_a_credential_and_cvmbot_reads_it_from_there() {
    let loaded = unit_settings("LoadCredential");
    let environment = unit_settings("Environment");
    let dir = tempfile::tempdir().expect("dir");
    let mut env = BTreeMap::from([("CVMBOT_POLICY__APPROVERS".to_owned(), "{ anyone = true }".to_owned())]);
    for (name, credential, value) in CREDENTIALS {
        assert!(
            loaded.contains(&format!("{credential}:/etc/cvmbot/credentials/{credential}").as_str()),
            "LoadCredential= for {name}: {loaded:?}"
        );
        let variable = format!("{name}_FILE");
        assert!(
            environment.contains(&format!("{variable}=%d/{credential}").as_str()),
            "Environment={variable}=%d/{credential}: {environment:?}"
        );
        assert!(
            !environment.iter().any(|e| e.starts_with(&format!("{name}="))),
            "{name} itself is never in the unit"
        );
        // %d is $CREDENTIALS_DIRECTORY: cvmbot reads the variable the unit sets.
        let file = dir.path().join(credential);
        std::fs::write(&file, format!("{value}\n")).expect("a credential");
        env.insert(variable, file.display().to_string());
    }
    let config = cvmbot::config::Config::load_from(None, &env).expect("the credentials are read");
    assert_eq!(
        config.secrets.discord_token.expect("the token").expose(),
        "a-discord-token"
    );
    let tencent = config.secrets.tencent.expect("the key pair");
    assert_eq!(tencent.secret_id, "AKIDFromACredential0000");
    assert_eq!(tencent.secret_key.expose(), "KeyFromACredential0000");
}

#[test]
fn the_unit_waits_for_ready_watches_the_bot_keeps_its_files_private_and_rates_at_most_2_0() {
    assert_eq!(unit_settings("Type"), ["notify"]);
    assert_eq!(unit_settings("NotifyAccess"), ["main"]);
    assert_eq!(unit_settings("WatchdogSec"), ["30s"]);
    assert_eq!(unit_settings("UMask"), ["0077"]);
    assert_eq!(unit_settings("StateDirectoryMode"), ["0700"]);
    let analysed = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/cvmbot.service"))
        .output();
    let analysed = match analysed {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout).into_owned(),
        Ok(output) => panic!("systemd-analyze failed: {}", String::from_utf8_lossy(&output.stderr)),
        Err(error) => {
            eprintln!("SKIPPED (the score): no systemd-analyze here: {error}");
            return;
        }
    };
    let score: f64 = analysed
        .lines()
        .find_map(|l| l.split("Overall exposure level for cvmbot.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no overall exposure in:\n{analysed}"));
    assert!(score <= 2.0, "exposure {score}:\n{analysed}");
}

/// A notify socket like systemd's: every datagram the bot sends, in order.
struct NotifySocket {
    socket: std::os::unix::net::UnixDatagram,
    path: std::path::PathBuf,
}

impl NotifySocket {
    fn bind(path: std::path::PathBuf) -> NotifySocket {
        let socket = std::os::unix::net::UnixDatagram::bind(&path).expect("bind the notify socket");
        socket.set_read_timeout(Some(PROCESS_WAIT)).expect("a timeout");
        NotifySocket { socket, path }
    }

    /// The next message whose lines include `line`, and the messages before it.
    async fn wait_for(&self, line: &str) -> (String, Vec<String>) {
        let socket = self.socket.try_clone().expect("the socket");
        let line = line.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut before = Vec::new();
            let mut buffer = [0u8; 4096];
            loop {
                let n = socket
                    .recv(&mut buffer)
                    .unwrap_or_else(|e| panic!("no `{line}` after {before:?}: {e}"));
                let message = String::from_utf8_lossy(&buffer[..n]).into_owned();
                if message.lines().any(|l| l == line) {
                    return (message, before);
                }
                before.push(message);
            }
        })
        .await
        .expect("the reader")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_systemd_the_bot_is_ready_once_discord_is_pings_the_watchdog_and_says_when_it_stops() {
    let deployment = Deployment::start().await;
    let notify = NotifySocket::bind(deployment.file("notify"));
    let path = notify.path.display().to_string();
    let mut bot = deployment.spawn_unready(&[("NOTIFY_SOCKET", &path), ("WATCHDOG_USEC", "400000")]);

    let (ready, before) = notify.wait_for("READY=1").await;
    assert!(ready.contains("STATUS=answering on Discord"), "{ready}");
    assert!(
        !deployment.fake.commands(Some(deployment.fake.guild_id())).is_empty(),
        "READY=1 came after the gateway's READY was handled (the commands are registered)"
    );
    assert!(
        before.iter().all(|m| m == "WATCHDOG=1" || m.starts_with("STATUS=")),
        "only the watchdog and status lines before READY: {before:?}"
    );
    let started = std::time::Instant::now();
    notify.wait_for("WATCHDOG=1").await;
    notify.wait_for("WATCHDOG=1").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "pinged every 200 ms: {:?}",
        started.elapsed()
    );

    bot.signal("TERM");
    let (stopping, _) = notify.wait_for("STOPPING=1").await;
    assert!(stopping.contains("STATUS=stopping"), "{stopping}");
    let status = bot.wait_exit(PROCESS_WAIT).await.expect("it stops");
    assert!(status.success(), "{status:?}\n{}", bot.log());
}

const DOCKERFILE: &str = include_str!("../../Dockerfile");
const COMPOSE: &str = include_str!("../../compose.yaml");

/// The Dockerfile's instruction `name` with its continuation lines joined, for each use.
fn instructions(name: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut lines = DOCKERFILE.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix(&format!("{name} ")) else {
            continue;
        };
        let mut text = rest.trim_end_matches('\\').trim().to_owned();
        let mut continued = line.ends_with('\\');
        while continued {
            let next = lines.next().unwrap_or_default();
            text = format!("{text} {}", next.trim().trim_end_matches('\\').trim());
            continued = next.ends_with('\\');
        }
        found.push(text);
    }
    found
}

/// The runtime image's `ENV` settings.
fn image_env() -> BTreeMap<String, String> {
    let last_stage = DOCKERFILE.rfind("\nFROM ").expect("a runtime stage");
    assert!(instructions("ENV").len() == 1 && DOCKERFILE.rfind("\nENV ").expect("ENV") > last_stage);
    instructions("ENV")[0]
        .split_whitespace()
        .map(|pair| pair.split_once('=').expect("NAME=value"))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
}

/// The port of a `host:port` listen address.
fn port(address: &str) -> &str {
    address.rsplit(':').next().expect("a port")
}

/// Loads the configuration from `env` as cvmbot would (every variable must be accepted).
fn accepted(mut env: BTreeMap<String, String>) -> cvmbot::config::Config {
    env.insert("CVMBOT_POLICY__APPROVERS".into(), "{ anyone = true }".into());
    cvmbot::config::Config::load_from(None, &env).unwrap_or_else(|e| panic!("the settings are refused: {e}"))
}

#[test]
fn the_image_runs_as_a_non_root_user_on_its_volume_and_probes_the_port_cvmbot_listens_on() {
    let rust = instructions("ARG")
        .into_iter()
        .find_map(|a| a.strip_prefix("RUST_VERSION=").map(str::to_owned));
    assert_eq!(
        rust.as_deref(),
        Some(env!("CARGO_PKG_RUST_VERSION")),
        "the toolchain Cargo.toml asks for"
    );
    let user = instructions("USER");
    let uid: u32 = user[0]
        .split(':')
        .next()
        .and_then(|u| u.parse().ok())
        .expect("a numeric user");
    assert!(uid != 0, "not root: {user:?}");

    let env = image_env();
    let config = accepted(env.clone());
    let volume = instructions("VOLUME");
    assert_eq!(volume, [r#"["/var/lib/cvmbot"]"#]);
    assert_eq!(
        instructions("WORKDIR").last().map(String::as_str),
        Some("/var/lib/cvmbot")
    );
    assert_eq!(
        config.database.target.redacted(),
        "sqlite:///var/lib/cvmbot/cvmbot.db",
        "on the volume"
    );
    assert!(
        DOCKERFILE.contains("--chown=65532:65532 /out/var/lib/cvmbot /var/lib/cvmbot"),
        "the volume is the user's"
    );
    assert!(config.log.json);

    let listen = &env["CVMBOT_SERVICE__LISTEN"];
    assert_eq!(
        config.service.listen.map(|a| a.to_string()).as_deref(),
        Some(listen.as_str()),
        "the image's listener is the one cvmbot opens"
    );
    assert_eq!(instructions("EXPOSE"), [port(listen)]);
    let healthcheck = &instructions("HEALTHCHECK")[0];
    let probe = healthcheck.split("CMD ").nth(1).expect("CMD");
    let probe: Vec<String> = serde_json::from_str(probe).expect("an exec-form command");
    assert_eq!(probe[..2], ["/usr/local/bin/cvmbot", "healthcheck"]);
    assert_eq!(probe[2], format!("http://127.0.0.1:{}/healthz", port(listen)));
    // The probe the image runs is a command this binary has: here nothing listens, so it fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/healthz", closed.local_addr().expect("address"));
    drop(closed);
    let probed = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
        .args(["healthcheck", &url])
        .output()
        .expect("runs");
    assert_eq!(probed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&probed.stderr).contains("did not answer"));
    assert_eq!(instructions("ENTRYPOINT"), [r#"["/usr/local/bin/cvmbot"]"#]);
    assert_eq!(instructions("CMD").last().map(String::as_str), Some(r#"["run"]"#));
}

/// A compose service's block: its lines up to the next service or top-level key.
fn service(name: &str) -> Vec<&'static str> {
    let start = COMPOSE
        .lines()
        .position(|l| l == format!("  {name}:"))
        .unwrap_or_else(|| panic!("no service {name}"));
    COMPOSE
        .lines()
        .skip(start + 1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .collect()
}

#[test]
fn compose_runs_two_replicas_on_postgresql_with_every_secret_in_a_file_and_the_image_port() {
    let shared: Vec<&str> = COMPOSE
        .lines()
        .skip_while(|l| *l != "x-cvmbot: &cvmbot")
        .skip(1)
        .take_while(|l| l.starts_with("  ") || l.is_empty())
        .collect();
    let env: BTreeMap<String, String> = shared
        .iter()
        .skip_while(|l| l.trim() != "environment:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.trim().split_once(": "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let secrets: Vec<&str> = shared
        .iter()
        .skip_while(|l| l.trim() != "secrets:")
        .skip(1)
        .take_while(|l| l.starts_with("    - "))
        .map(|l| l.trim().trim_start_matches("- "))
        .collect();
    for (name, credential, _) in CREDENTIALS {
        assert!(!env.contains_key(*name), "{name} itself is not in the environment");
        assert_eq!(env[&format!("{name}_FILE")], format!("/run/secrets/{credential}"));
        assert!(
            secrets.contains(credential),
            "{credential} is handed to the replicas: {secrets:?}"
        );
        assert!(COMPOSE.contains(&format!("  {credential}:\n    file: ./secrets/{credential}")));
    }
    assert_eq!(env["PGPASSFILE"], "/run/secrets/pgpass");
    assert!(secrets.contains(&"pgpass"));
    // The secrets as the containers see them, here.
    let dir = tempfile::tempdir().expect("dir");
    let mut mounted = env.clone();
    for (name, credential, value) in CREDENTIALS {
        let file = dir.path().join(credential);
        std::fs::write(&file, value).expect("a secret");
        mounted.insert(format!("{name}_FILE"), file.display().to_string());
    }
    let config = accepted(mounted);
    assert_eq!(
        config.database.target.redacted(),
        "postgres://cvmbot@postgres:5432/cvmbot",
        "no password in it"
    );
    assert!(config.secrets.discord_token.is_some() && config.secrets.tencent.is_some());

    let listen = &env["CVMBOT_SERVICE__LISTEN"];
    assert_eq!(
        listen,
        &image_env()["CVMBOT_SERVICE__LISTEN"],
        "the port the image's healthcheck probes"
    );
    for replica in ["cvmbot-a", "cvmbot-b"] {
        let lines = service(replica);
        assert!(lines.contains(&"    <<: *cvmbot"), "{replica} is a cvmbot replica");
        let published = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("- \"127.0.0.1:"))
            .expect("a port");
        assert!(
            published.ends_with(&format!(":{}\"", port(listen))),
            "{replica}: {published}"
        );
    }
    let postgres = service("postgres");
    assert!(
        postgres
            .iter()
            .any(|l| l.contains("POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password"))
    );
    assert!(postgres.iter().any(|l| l.contains("pg_isready")));
    assert!(
        shared.contains(&"      condition: service_healthy"),
        "replicas wait for PostgreSQL"
    );
}
