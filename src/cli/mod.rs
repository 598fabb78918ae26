//! The command line: `cvmbot run | demo | sim | doctor | healthcheck | migrate | backup | audit
//! export`. Parsing lives here so `main.rs` stays a one-liner and tests can drive the same entry
//! points.

mod audit;
mod doctor;
mod healthcheck;
mod logging;

use crate::config::Config;
use anyhow::Context;
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
    /// Run the Discord bot and its workers (submitter, tracker, balance monitor).
    Run {
        /// Configuration file (layered over the built-in defaults; CVMBOT_… variables override it).
        #[arg(long, env = "CVMBOT_CONFIG")]
        config: Option<PathBuf>,
        /// Run against an in-process Tencent Cloud simulator instead of Tencent: a sandbox where
        /// nothing is spent (no Tencent credentials needed).
        #[arg(long)]
        simulate: bool,
        /// With --simulate: simulated seconds per real second (instances start after 30 simulated seconds).
        #[arg(long, default_value_t = 1.0)]
        sim_speed: f64,
        /// With --simulate: keep the simulated world (balance, servers, time) in this file across
        /// restarts, as `cvmbot sim --state` does: read at start if it exists, written when cvmbot stops.
        #[arg(long, requires = "simulate")]
        state: Option<PathBuf>,
    },
    /// Try cvmbot on your machine: a terminal chat on the simulator and SQLite, playing a short story.
    Demo {
        /// Play this conversation instead of the built-in story ("-": read it from stdin).
        #[arg(long)]
        script: Option<PathBuf>,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
        /// No colours, even on a terminal.
        #[arg(long)]
        no_color: bool,
        /// An extra configuration file layered over the demo's settings.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Draw the README's spend and runway charts from a fortnight on the simulator (the same every time).
    Gallery {
        /// The directory to write spend.png and runway.png into.
        #[arg(default_value = "docs/gallery")]
        dir: PathBuf,
    },
    /// Run the Tencent Cloud simulator (CVM 2017-03-12 and Billing 2018-07-09) on a local address.
    Sim {
        /// Address to listen on; port 0 picks a free port (printed at start).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Simulator settings (config/sim.toml documents them).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Seed for reproducible ids, prices and failures.
        #[arg(long)]
        seed: Option<u64>,
        /// Keep the simulated world in this file across restarts.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Check the configuration, the database's migrations, Tencent Cloud and each action's CAM
    /// permission, the bot's servers and channel permissions, and say how to fix what fails.
    Doctor {
        /// Configuration file (layered over the built-in defaults; CVMBOT_… variables override it).
        #[arg(long, env = "CVMBOT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Ask a running cvmbot's health endpoint and exit 0 when it answers 2xx (for a container's
    /// HEALTHCHECK: the image needs no curl).
    Healthcheck {
        /// The URL to ask.
        #[arg(default_value = healthcheck::DEFAULT_URL)]
        url: String,
    },
    /// Create the database if needed and apply migrations.
    Migrate {
        /// Configuration file.
        #[arg(long, env = "CVMBOT_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Copy the SQLite database to FILE while cvmbot runs (a consistent copy, checked, readable
    /// by its owner only). PostgreSQL: use pg_dump (see the README).
    Backup {
        /// The new file to write (it must not exist).
        file: PathBuf,
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
    /// Print the audit events (who did what, when, from which state to which, Tencent's RequestId).
    /// JSON writes Discord ids as strings: as numbers, jq and JavaScript would round them.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only events on or after this UTC date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        /// Only events on or before this UTC date (YYYY-MM-DD), the whole day included.
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
        /// Only what this person did: their Discord user id.
        #[arg(long, value_name = "USER_ID")]
        user: Option<crate::domain::UserId>,
        /// Only the events of this request: its number.
        #[arg(long, value_name = "NUMBER")]
        request: Option<crate::domain::RequestId>,
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
        Command::Run {
            config,
            simulate,
            sim_speed,
            state,
        } => {
            let simulate = simulate.then_some(Sandbox {
                speed: sim_speed,
                state,
            });
            run_bot(config, simulate, cli.log_format).await
        }
        Command::Demo {
            script,
            speed,
            no_color,
            config,
        } => demo(script, speed, no_color, config, cli.log_format).await,
        Command::Gallery { dir } => {
            logging::init(log_name(cli.log_format).unwrap_or("text"), "warn");
            crate::gallery::draw(&dir).await.map(|drawn| {
                println!(
                    "{}\n\nwrote {} and {}",
                    drawn.tables,
                    drawn.spend.display(),
                    drawn.runway.display()
                );
            })
        }
        Command::Sim {
            listen,
            config,
            speed,
            seed,
            state,
        } => {
            logging::init(log_name(cli.log_format).unwrap_or("text"), "info");
            crate::sim::run(
                crate::sim::SimOptions {
                    listen,
                    config,
                    speed,
                    seed,
                    state,
                },
                crate::signal::stop_requested(),
            )
            .await
        }
        Command::Doctor { config } => return doctor::run(config.as_deref(), cli.log_format).await,
        Command::Healthcheck { url } => return healthcheck::run(&url).await,
        Command::Migrate { config } => migrate(config, cli.log_format).await,
        Command::Backup { file, config } => backup(&file, config, cli.log_format).await,
        Command::Audit {
            action:
                AuditAction::Export {
                    format,
                    since,
                    until,
                    user,
                    request,
                    config,
                },
        } => {
            let selection = audit::Selection {
                since,
                until,
                user,
                request,
            };
            audit::export(config.as_deref(), format, &selection).await
        }
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
    let configured = if config.log.json { "json" } else { "text" };
    logging::init(log_name(log_format).unwrap_or(configured), &config.log.level);
    Ok(config)
}

fn log_name(format: Option<LogFormat>) -> Option<&'static str> {
    format.map(|f| match f {
        LogFormat::Text => "text",
        LogFormat::Json => "json",
    })
}

/// `run --simulate`: the in-process simulator's speed and state file.
struct Sandbox {
    speed: f64,
    state: Option<PathBuf>,
}

async fn run_bot(
    config: Option<PathBuf>,
    sandbox: Option<Sandbox>,
    log_format: Option<LogFormat>,
) -> anyhow::Result<()> {
    let mut config = load(config.as_deref(), log_format)?;
    let token = config.secrets.discord_token.clone().context(
        "DISCORD_TOKEN is not set: create a bot in the Discord Developer Portal and export its token (see README)",
    )?;
    let Some(sandbox) = sandbox else {
        return serve(config, &token).await;
    };
    let sim_config = crate::sim::SimConfig {
        speed: sandbox.speed,
        ..crate::sim::SimConfig::default()
    };
    let loopback = "127.0.0.1:0".parse().expect("a loopback address");
    let sim = crate::sim::Simulator::start_from(sim_config, loopback, sandbox.state.as_deref()).await?;
    tracing::info!(
        url = sim.url(),
        state = sandbox
            .state
            .as_ref()
            .map(|path| tracing::field::display(path.display())),
        "running against the in-process simulator: nothing is bought"
    );
    crate::app::simulated(&mut config, sim.url())?;
    let result = serve(config, &token).await;
    // The bot and its workers have stopped, so the world is written as they left it.
    let saved = match &sandbox.state {
        Some(path) => sim
            .save_state(path)
            .map(|()| tracing::info!(path = %path.display(), "simulator state saved")),
        None => Ok(()),
    };
    sim.shutdown().await;
    match (result, saved) {
        (Err(error), Err(unsaved)) => {
            tracing::error!(error = %format!("{unsaved:#}"), "the simulator state was not saved");
            Err(error)
        }
        (result, saved) => result.and(saved),
    }
}

/// Runs the bot and its workers on `config` until stopped. Under systemd it says READY=1 once
/// the gateway is READY, STOPPING=1 when told to stop, and pings the watchdog meanwhile.
async fn serve(config: Config, token: &crate::secret::Secret) -> anyhow::Result<()> {
    let app = crate::app::App::build(config, crate::clock::Clock::System).await?;
    let health = app.service_state();
    let listener = match crate::ops::listen(&app.config.service, health.clone()).await {
        Ok(listener) => listener,
        Err(error) => {
            app.store().close().await;
            return Err(error);
        }
    };
    let watchdog = crate::systemd::spawn_watchdog();
    let stop = async {
        crate::signal::stop_requested().await;
        crate::systemd::stopping();
    };
    let result = match app.discord(token).await {
        Ok(service) => {
            service.report_to(&health);
            crate::systemd::follow(service.duty());
            service.run_until(stop).await
        }
        Err(error) => Err(error),
    };
    watchdog.inspect(tokio::task::JoinHandle::abort);
    if let Some(listener) = listener {
        listener.stop().await;
    }
    app.store().close().await;
    result
}

async fn demo(
    script: Option<PathBuf>,
    speed: f64,
    no_color: bool,
    config: Option<PathBuf>,
    log_format: Option<LogFormat>,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    logging::init(log_name(log_format).unwrap_or("text"), "warn");
    let stdin_is_terminal = std::io::stdin().is_terminal();
    let script = match script {
        Some(path) if path.as_os_str() == "-" => Some(read_stdin()?),
        Some(path) => {
            Some(std::fs::read_to_string(&path).with_context(|| format!("reading the script {}", path.display()))?)
        }
        None if !stdin_is_terminal => Some(read_stdin()?).filter(|s| !s.trim().is_empty()),
        None => None,
    };
    let options = crate::demo::DemoOptions {
        interactive: stdin_is_terminal && script.is_none(),
        script,
        speed,
        colour: !no_color && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        config,
    };
    let screen: crate::chat::console::Screen = std::sync::Arc::new(std::sync::Mutex::new(Box::new(std::io::stdout())));
    crate::demo::run(options, screen).await
}

fn read_stdin() -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("reading the script from stdin")?;
    Ok(text)
}

async fn backup(file: &std::path::Path, config: Option<PathBuf>, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let config = load(config.as_deref(), log_format)?;
    let database = crate::store::DatabaseSettings {
        max_connections: 1,
        ..config.database.clone()
    };
    let store = crate::store::Store::connect(&database).await?;
    let backup = store.backup_sqlite(file).await?;
    store.close().await;
    anyhow::ensure!(
        backup.integrity == "ok",
        "the copy at {} does not pass SQLite's integrity check: {}",
        file.display(),
        backup.integrity
    );
    println!(
        "backed up {} to {} ({} bytes; integrity check: ok). To restore: stop cvmbot, copy the backup over the \
         database file, delete the database's -wal and -shm files, start cvmbot.",
        config.database.target.redacted(),
        file.display(),
        backup.bytes
    );
    Ok(())
}

async fn migrate(config: Option<PathBuf>, log_format: Option<LogFormat>) -> anyhow::Result<()> {
    let config = load(config.as_deref(), log_format)?;
    let database = crate::store::DatabaseSettings {
        max_connections: 1,
        ..config.database.clone()
    };
    let store = crate::store::Store::open(&database).await?;
    println!(
        "{} database is migrated: {}",
        store.backend(),
        config.database.target.redacted()
    );
    Ok(())
}
