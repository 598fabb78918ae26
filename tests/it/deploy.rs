//! What `deploy/` ships, checked as an operator would use it: the environment file and the
//! credentials read by hand as the systemd unit says, and read alike by systemd; the unit's
//! credentials, notifications and hardening (`systemd-analyze security`), and the real binary
//! telling a notify socket it is ready, alive and stopping.

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
    assert!(before.iter().all(|m| m == "WATCHDOG=1"), "{before:?}");
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
