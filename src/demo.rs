//! `cvmbot demo`: the whole story on one machine, with no Discord application and no Tencent
//! account. The simulator runs in-process with an accelerated clock, the database is a fresh
//! SQLite file, and the console adapter stands in for Discord, on the same engine.

use crate::app::App;
use crate::chat::console::{Console, ConsoleNotifier, Paint, Screen, SimControls};
use crate::chat::render::TimeStyle;
use crate::clock::Clock;
use crate::money::Fen;
use crate::sim::{Control, DEFAULT_SECRET_ID, SimConfig, Simulator};
use anyhow::Context;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// The conversation `cvmbot demo` plays when given no script.
pub const STORY: &str = include_str!("../config/demo-story.txt");

/// What the demo runs.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// A script to play instead of the story (`None`: the story).
    pub script: Option<String>,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Colour output.
    pub colour: bool,
    /// Continue interactively after the script.
    pub interactive: bool,
    /// An extra configuration file layered over the demo's.
    pub config: Option<std::path::PathBuf>,
}

impl SimControls for Control {
    fn set_balance(&self, balance: Fen) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(
            async move { Control::set_balance(self, DEFAULT_SECRET_ID, balance).map_err(|e| anyhow::anyhow!("{e}")) },
        )
    }

    fn advance(&self, by: Duration) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            Control::advance(self, by);
            Ok(())
        })
    }

    fn reclaim(&self, percent: u32) -> BoxFuture<'_, anyhow::Result<Vec<String>>> {
        Box::pin(async move {
            self.reclaim_spot(None, None, crate::sim::Reclaim::Percent(percent))
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
    }
}

/// Runs the demo, writing the conversation to `screen`.
pub async fn run(options: DemoOptions, screen: Screen) -> anyhow::Result<()> {
    let mut sim_config = SimConfig {
        speed: options.speed,
        seed: Some(42),
        ..SimConfig::default()
    };
    // The simulator's clock runs fast; a server Tencent reclaims shows TERMINATING for ten seconds
    // of real time, so the tracker (polling at most every 5 s here) sees it go as it would at
    // Tencent's pace.
    sim_config.lifecycle.terminating_secs = sim_config.lifecycle.terminating_secs.max((options.speed * 10.0) as u64);
    let sim = Simulator::start(sim_config, "127.0.0.1:0".parse().expect("a loopback address")).await?;
    let dir = tempfile::tempdir().context("creating a directory for the demo database")?;
    let config = crate::app::sandbox_config(sim.url(), dir.path(), options.config.as_deref())?;
    let app = App::build(config, Clock::System).await?;
    let paint = Paint {
        enabled: options.colour,
    };
    let notifier = Arc::new(ConsoleNotifier::new(screen.clone(), paint));
    let workers = app.start(notifier.clone(), TimeStyle::Utc).await;
    app.desk.catalogue().refresh().await;
    let mut console = Console::new(
        app.desk.clone(),
        notifier,
        screen.clone(),
        paint,
        Some(Arc::new(sim.control())),
    );
    console.run_script(options.script.as_deref().unwrap_or(STORY)).await;
    if options.interactive {
        crate::chat::console::print(&screen, "\nYour turn: type /help for the commands, Ctrl-D to leave.\n");
        interactive(&mut console, &screen).await;
    }
    // Let the workers post what the last commands raised before leaving.
    tokio::time::sleep(Duration::from_millis(300)).await;
    workers.shutdown().await;
    app.store().close().await;
    sim.shutdown().await;
    Ok(())
}

async fn interactive(console: &mut Console, screen: &Screen) {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        crate::chat::console::print(screen, &console.prompt());
        match lines.next_line().await {
            Ok(Some(line)) => console.run_line(&line).await,
            _ => break,
        }
    }
}
