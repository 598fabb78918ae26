//! The command line: `cvmbot run | demo | sim | doctor | migrate | audit export`. Parsing lives
//! here so `main.rs` stays a one-liner and tests can drive the same entry points.

mod audit;
mod doctor;
mod logging;

use crate::config::Config;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// cvmbot: a Discord purchasing desk for Tencent Cloud CVM servers, with two-person approval.
#[derive(Debug, Parser)]
#[command(name = "cvmbot", version, about)]
pub struct Cli {
    /// Log format: text for people, json for collectors (default: the config's log.format).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration, the database, Tencent Cloud and the Discord token, and say how to fix what fails.
    Doctor {
        /// Configuration file (layered over the built-in defaults; CVMBOT_… variables override it).
        #[arg(long, env = "CVMBOT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Create the database if needed and apply migrations.
    Migrate {
        /// Configuration file.
        #[arg(long, env = "CVMBOT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// The audit log.
    Audit {
        /// What to do with it.
        #[command(subcommand)]
        action: AuditAction,
    },
}

/// `cvmbot audit …`
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Print every audit event (who did what, when, from which state to which, Tencent's RequestId).
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only events on or after this UTC date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Configuration file.
        #[arg(long, env = "CVMBOT_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Audit export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array.
    Json,
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cvmbot: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Doctor { config } => return doctor::run(config.as_deref(), cli.log_format).await,
        Command::Migrate { config } => migrate(config, cli.log_format).await,
        Command::Audit {
            action: AuditAction::Export { format, since, config },
        } => audit::export(config.as_deref(), format, since.as_deref()).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cvmbot: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the configuration and starts logging as it says (the flag wins over the file).
pub fn load(config: Option<&std::path::Path>, log_format: Option<LogFormat>) -> anyhow::Result<Config> {
    let config = Config::load(config)?;
    logging::init(
        log_format.map_or(config.settings.log.format.as_str(), |f| match f {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }),
        &config.settings.log.level,
    );
    Ok(config)
}

async fn migrate(config: Option<PathBuf>, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let config = load(config.as_deref(), log_format)?;
    let store = crate::store::Store::open(&config.database, 1).await?;
    println!(
        "{} database is migrated: {}",
        store.backend(),
        crate::app::redact_url(&config.settings.database.url)
    );
    Ok(())
}
