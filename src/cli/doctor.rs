//! `cvmbot doctor`: checks everything cvmbot needs and says how to fix what fails. Nothing secret
//! is printed; the exit code is non-zero when a required check fails.

use super::LogFormat;
use crate::config::Config;
use crate::secret::Secret;
use crate::store::Store;
use crate::tencent::TencentClient;
use std::path::Path;
use std::process::ExitCode;

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
    check_database(&config, &mut report).await;
    check_tencent(&config, &mut report).await;
    check_discord(&config, &mut report).await;
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

async fn check_database(config: &Config, report: &mut Report) {
    let url = config.database.target.redacted();
    let database = crate::store::DatabaseSettings {
        max_connections: 1,
        ..config.database.clone()
    };
    match Store::open(&database).await {
        Ok(store) => {
            report.ok("database", format!("{url} ({}, migrations applied)", store.backend()));
            store.close().await;
        }
        Err(error) => report.fail(
            "database",
            format!("{url}: {error}"),
            "check database.url (CVMBOT_DATABASE__URL); for SQLite the directory must be writable, for PostgreSQL the server must accept the user",
        ),
    }
}

async fn check_tencent(config: &Config, report: &mut Report) {
    let Some(credentials) = config.secrets.tencent.clone() else {
        report.fail(
            "Tencent Cloud credentials",
            "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY are not set",
            "export both (an API key of a CAM sub-user with the policy in the README), or use `cvmbot run --simulate`",
        );
        return;
    };
    report.ok(
        "Tencent Cloud credentials",
        format!(
            "SecretId {} at {}",
            mask(&credentials.secret_id),
            config.tencent.endpoint.template()
        ),
    );
    let client = match TencentClient::new(config.tencent.clone(), credentials) {
        Ok(client) => client,
        Err(error) => return report.fail("Tencent Cloud client", error.to_string(), "check tencent.* settings"),
    };
    match client.describe_account_balance().await {
        Ok(answer) => {
            let b = answer.data;
            report.ok(
                "DescribeAccountBalance",
                format!(
                    "{} spendable (frozen {}, owed {}); RequestId {}",
                    b.spendable(),
                    b.freeze,
                    b.owe,
                    answer.request_id
                ),
            );
            if b.owe.get() > 0 {
                report.warn(
                    "balance",
                    format!("the account owes {}", b.owe),
                    "top up: Tencent reclaims servers of accounts that owe money",
                );
            }
        }
        Err(error) => report.fail(
            "DescribeAccountBalance",
            format!("{} ({error})", error.explain()),
            tencent_fix(&error),
        ),
    }
    let region = client.region().to_owned();
    match client.describe_zones(&region).await {
        Ok(answer) => {
            let zones: Vec<String> = answer
                .data
                .zone_set
                .iter()
                .map(|z| format!("{} ({})", z.zone, z.zone_state))
                .collect();
            report.ok(
                &format!("DescribeZones {region}"),
                if zones.is_empty() {
                    "no zones".into()
                } else {
                    zones.join(", ")
                },
            );
        }
        Err(error) => report.fail(
            &format!("DescribeZones {region}"),
            format!("{} ({error})", error.explain()),
            tencent_fix(&error),
        ),
    }
}

fn tencent_fix(error: &crate::tencent::ApiError) -> &'static str {
    use crate::tencent::ErrorKind::*;
    match error.kind {
        Auth => "check TENCENTCLOUD_SECRET_ID/KEY and the sub-user's CAM policy (README: Tencent Cloud permissions)",
        Network | Timeout => "check network access to tencent.endpoint (a proxy? a firewall?)",
        _ => "see the error above; `RUST_LOG=debug cvmbot doctor` shows the exchange",
    }
}

async fn check_discord(config: &Config, report: &mut Report) {
    let discord = &config.discord;
    match &config.secrets.discord_token {
        Some(token) => match bot_user(&discord.api_base, token).await {
            Ok(name) => report.ok("Discord token", format!("valid for bot {name}")),
            Err(problem) => report.fail(
                "Discord token",
                problem,
                "copy the token again from the Developer Portal (Bot → Reset Token) into DISCORD_TOKEN",
            ),
        },
        None => report.warn(
            "Discord token",
            "DISCORD_TOKEN is not set",
            "needed by `cvmbot run`: export DISCORD_TOKEN (or DISCORD_TOKEN_FILE)",
        ),
    }
    if discord.guild_ids.is_empty() {
        report.warn(
            "discord.guild_ids",
            "empty: commands are registered globally and can take up to an hour to appear",
            "list your server's id for instant registration",
        );
    }
    if config.chat.alert_channel.is_none() {
        report.warn(
            "discord.alert_channel_id",
            "not set: balance warnings go to the log only",
            "set it to a channel id the bot can post in",
        );
    }
}

/// `GET /users/@me` with the bot token: the bot's name, or what went wrong.
async fn bot_user(api_base: &str, token: &Secret) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!("{}/api/v10/users/@me", api_base.trim_end_matches('/'));
    let response = client
        .get(&url)
        .header(reqwest::header::AUTHORIZATION, format!("Bot {}", token.expose()))
        .send()
        .await
        .map_err(|e| format!("{api_base} could not be reached: {e}"))?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err("Discord refused the token (401 Unauthorized)".into());
    }
    if !status.is_success() {
        return Err(format!("Discord answered HTTP {status}"));
    }
    let user: serde_json::Value = response.json().await.map_err(|e| format!("unreadable answer: {e}"))?;
    let name = user.get("username").and_then(|v| v.as_str()).unwrap_or("?");
    let id = user.get("id").and_then(|v| v.as_str()).unwrap_or("?");
    Ok(format!("{name} (id {id})"))
}
