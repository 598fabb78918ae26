//! `cvmbot doctor`: checks what operators get wrong and says how to fix what fails: the
//! configuration, the database and its migrations (never applying them), Tencent Cloud's answer
//! to the key and the CAM permission of each action cvmbot calls, the bot's servers and channel
//! permissions on Discord, and the metrics listener. Nothing secret is printed; the exit code is
//! non-zero when a required check fails.

mod database;
mod discord;
mod listener;
mod permissions;
mod tencent;

use super::LogFormat;
use std::path::Path;
use std::process::ExitCode;

/// The tally of a doctor run; each check prints its line as it goes, a failure or a warning
/// with the fix on the line below.
#[derive(Default)]
struct Report {
    failed: usize,
    warned: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl AsRef<str>) {
        println!("  ✓ {what}: {}", detail.as_ref());
    }

    fn fail(&mut self, what: &str, problem: impl AsRef<str>, fix: &str) {
        self.failed += 1;
        println!("  ✗ {what}: {}\n      fix: {fix}", problem.as_ref());
    }

    fn warn(&mut self, what: &str, problem: impl AsRef<str>, fix: &str) {
        self.warned += 1;
        println!("  ! {what}: {}\n      fix: {fix}", problem.as_ref());
    }
}

/// Shows the first and last characters of an identifier only.
fn mask(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 10 {
        return "…".to_owned();
    }
    format!(
        "{}…{}",
        chars[..6].iter().collect::<String>(),
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}

/// Runs every check and prints the report.
pub async fn run(config_path: Option<&Path>, log_format: Option<LogFormat>) -> ExitCode {
    println!("cvmbot doctor");
    let mut report = Report::default();
    let config = match super::load(config_path, log_format) {
        Ok(config) => {
            let source = config.file.as_ref().map_or("built-in defaults".to_owned(), |f| {
                format!("built-in defaults + {}", f.display())
            });
            report.ok("configuration", format!("{source} + CVMBOT_… environment"));
            config
        }
        Err(error) => {
            report.fail(
                "configuration",
                format!("{error:#}"),
                "correct the named setting (see config/default.toml for every setting)",
            );
            return finish(&report);
        }
    };
    let request_channels = database::check(&config, &mut report).await;
    tencent::check(&config, &mut report).await;
    discord::check(&config, &request_channels, &mut report).await;
    listener::check(listener::metrics_listen_address(&config), &mut report).await;
    finish(&report)
}

fn finish(report: &Report) -> ExitCode {
    if report.failed == 0 {
        println!(
            "All required checks passed{}.",
            if report.warned > 0 {
                format!(" ({} warning(s))", report.warned)
            } else {
                String::new()
            }
        );
        ExitCode::SUCCESS
    } else {
        println!("{} required check(s) failed.", report.failed);
        ExitCode::FAILURE
    }
}

/// How to fix a Tencent Cloud failure of this kind.
fn tencent_fix(error: &crate::tencent::ApiError) -> &'static str {
    use crate::tencent::ErrorKind::*;
    match error.kind {
        Auth => "check TENCENTCLOUD_SECRET_ID/KEY and the sub-user's CAM policy (README: Tencent Cloud permissions)",
        Network | Timeout => "check network access to tencent.endpoint (a proxy? a firewall?)",
        _ => "see the error above; `RUST_LOG=debug cvmbot doctor` shows the exchange",
    }
}
