//! RunInstances' `HostName`: the rules the spec states, the `{R:x}`, `{R:x,F:y}` and `{IP}`
//! patterns, and the name CVM gives when none is asked for.

use super::run::instance_name;
use super::{ApiFailure, fail};

/// The host name of instance `i` of `count` with private address `ip`.
pub fn expand(pattern: &str, i: i64, count: i64, ip: &str) -> String {
    instance_name(Some(&pattern.replace("{IP}", ip)), i, count)
}

/// The host name CVM picks when none is given: `VM-<third>-<fourth octet>-<platform>`, as the
/// spec's example `VM-4-18-ubuntu` shows (cut to Windows' 15 characters).
pub fn default_name(ip: &str, platform: &str, windows: bool) -> String {
    let octets: Vec<&str> = ip.split('.').collect();
    let tail = octets.get(2..).map(|o| o.join("-")).unwrap_or_default();
    let mut name = format!("VM-{tail}-{}", platform.to_ascii_lowercase());
    name.retain(|c| c.is_ascii_alphanumeric() || c == '-');
    if windows {
        name.truncate(15);
        name = name.trim_end_matches('-').to_owned();
    }
    name
}

/// Checks the names `pattern` gives the first and the last of `count` instances.
pub fn check(pattern: &str, count: i64, windows: bool) -> Result<(), ApiFailure> {
    // The widest address a subnet of the simulator hands out stands in for `{IP}`.
    for i in [0, count - 1] {
        let name = expand(pattern, i, count, "10.250.255.251");
        if let Some(why) = refusal(&name, windows) {
            return Err(fail(
                "InvalidParameterValue.IllegalHostName",
                format!("The HostName `{name}` is not valid: {why}."),
            ));
        }
    }
    Ok(())
}

/// Why `name` breaks the spec's rules, if it does.
fn refusal(name: &str, windows: bool) -> Option<&'static str> {
    let (min, max) = if windows { (2, 15) } else { (2, 60) };
    let len = name.chars().count();
    if len < min || len > max {
        return Some(if windows {
            "a Windows host name has 2-15 characters"
        } else {
            "a host name has 2-60 characters"
        });
    }
    let punct = |c: char| c == '.' || c == '-';
    let chars: Vec<char> = name.chars().collect();
    if chars.first().copied().is_some_and(punct) || chars.last().copied().is_some_and(punct) {
        return Some("it may not begin or end with `.` or `-`");
    }
    if chars.windows(2).any(|pair| punct(pair[0]) && punct(pair[1])) {
        return Some("`.` and `-` may not follow one another");
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || (!windows && c == '.');
    if !chars.iter().all(|c| allowed(*c)) {
        return Some(if windows {
            "a Windows host name has only letters, digits and `-`"
        } else {
            "a host name has only letters, digits, `-` and `.`"
        });
    }
    if windows && chars.iter().all(char::is_ascii_digit) {
        return Some("a Windows host name may not be all digits");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_follow_the_documented_rules() {
        for good in ["web-1", "db.internal", "VM-4-18-ubuntu", "a1"] {
            assert!(check(good, 1, false).is_ok(), "{good}");
        }
        for bad in ["-web", "web.", "a..b", "a-.b", "x", "under_score", &"a".repeat(61)] {
            assert!(check(bad, 1, false).is_err(), "{bad}");
        }
        assert!(check("win.host", 1, true).is_err(), "no dots on Windows");
        assert!(check("12345", 1, true).is_err(), "not all digits on Windows");
        assert!(check("winbox-{R:1}", 3, true).is_ok());
        assert!(check("a-very-long-windows-name", 1, true).is_err());
    }

    #[test]
    fn patterns_number_and_address_the_instances() {
        assert_eq!(expand("node-{IP}", 0, 1, "10.0.12.8"), "node-10.0.12.8");
        assert_eq!(expand("web-{IP}-{R:1}", 1, 2, "10.0.12.9"), "web-10.0.12.9-2");
        assert_eq!(expand("server", 1, 2, "10.0.0.1"), "server2");
        assert_eq!(default_name("10.4.4.18", "Ubuntu", false), "VM-4-18-ubuntu");
        assert_eq!(default_name("10.4.4.18", "Windows", true), "VM-4-18-windows");
    }
}
