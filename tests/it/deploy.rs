//! What `deploy/` ships, checked as an operator would use it: the environment file read by hand as
//! the systemd unit says, and read alike by systemd.

use std::process::Command;

/// How `deploy/cvmbot.service` says to read the environment file when checking the set-up.
const READ_THE_ENV_FILE: &str = "set -a && . /etc/cvmbot/cvmbot.env && set +a";

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
fn the_env_example_with_every_setting_filled_in_reads_the_same_by_hand_as_in_systemd() {
    let unit = include_str!("../../deploy/cvmbot.service");
    assert!(
        unit.contains(&format!(
            "sudo sh -c 'cd /var/lib/cvmbot && {READ_THE_ENV_FILE} && exec runuser"
        )),
        "the unit says how to read the file by hand"
    );
    assert!(unit.contains("EnvironmentFile=/etc/cvmbot/cvmbot.env"));
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

    let path = file.to_str().expect("a UTF-8 path");
    let script = READ_THE_ENV_FILE.replace("/etc/cvmbot/cvmbot.env", &format!("'{path}'")) + " && exec env -0";
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
    let by_hand: std::collections::BTreeMap<String, String> = String::from_utf8_lossy(&read.stdout)
        .split('\0')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    for (name, value) in &settings {
        let systemd = as_systemd_reads(value).unwrap_or_else(|why| panic!("{name}: {why}"));
        assert_eq!(by_hand.get(*name), Some(&systemd), "{name}");
    }

    // What was read is what cvmbot accepts (the secret files named do not exist here).
    let mut env: std::collections::BTreeMap<String, String> = by_hand
        .into_iter()
        .filter(|(name, _)| !name.ends_with("_FILE"))
        .collect();
    env.insert("CVMBOT_POLICY__APPROVERS".into(), "{ anyone = true }".into());
    let config = cvmbot::config::Config::load_from(None, &env).expect("the example's settings are valid");
    assert_eq!(config.discord.guild_ids, vec![123_456_789_012_345_678]);
    assert_eq!(config.tencent.region, "ap-shanghai");
}
