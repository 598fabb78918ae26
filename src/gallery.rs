//! `cvmbot gallery DIR`: draws the README's charts from a fortnight on the simulator, the same
//! way every time. A team buys servers (pay-as-you-go for the web, spot for CI, prepaid for the
//! database, each tagged with its project), the simulated clock and cvmbot's run together hour by
//! hour with the tracker and the balance monitor doing their work, some servers are given back,
//! and then the spend of the month so far (by project) and the balance's runway are drawn from
//! what cvmbot recorded and what the simulator billed.

use crate::app::App;
use crate::chat::console::person;
use crate::clock::Clock;
use crate::desk::{Ballot, Origin};
use crate::domain::{BillingKind, Person, PurchaseForm, RequestId, SpendBy, SpendPeriod, VoteVia};
use crate::money::Fen;
use crate::sim::{DEFAULT_SECRET_ID, SimConfig, Simulator};
use crate::workers::{BalanceMonitor, Tracker};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// When the fortnight begins (UTC).
const START: &str = "2026-11-01T00:00:00Z";

/// How long it runs.
const DAYS: u64 = 14;

/// What was drawn: the files and their figures in words.
pub struct Gallery {
    /// The spend chart.
    pub spend: PathBuf,
    /// The runway chart.
    pub runway: PathBuf,
    /// Both charts' figures, as their alt text says them.
    pub tables: String,
}

/// Runs the fortnight and writes `spend.png` and `runway.png` into `dir`.
pub async fn draw(dir: &Path) -> anyhow::Result<Gallery> {
    let sim_config = SimConfig {
        seed: Some(42),
        speed: 0.0,
        start_time: Some(START.into()),
        ..SimConfig::default()
    };
    let sim = Simulator::start(sim_config, "127.0.0.1:0".parse().expect("a loopback address")).await?;
    let work = tempfile::tempdir().context("creating a directory for the gallery's database")?;
    let config = crate::app::sandbox_config(sim.url(), work.path(), None)?;
    let start = time::OffsetDateTime::parse(START, &time::format_description::well_known::Rfc3339)?;
    let clock = Clock::manual(start);
    let app = App::build(config, clock.clone()).await?;
    let result = fortnight(&app, &sim, &clock, dir).await;
    app.store().close().await;
    sim.shutdown().await;
    result
}

async fn fortnight(app: &App, sim: &Simulator, clock: &Clock, dir: &Path) -> anyhow::Result<Gallery> {
    let desk = &app.desk;
    sim.set_balance(DEFAULT_SECRET_ID, Fen::new(180_000))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let tracker = Tracker::new(desk.clone(), app.config.workers.tracker.clone());
    let monitor = BalanceMonitor::new(desk.clone(), Vec::new(), Duration::ZERO, None);
    let form = |kind: BillingKind, count: u32, project: &str| {
        let form = PurchaseForm::new(kind)
            .with("zone", "ap-guangzhou-3")
            .with("type", "S5.MEDIUM4")
            .with("image", "img-487zeit5")
            .with("count", count.to_string())
            .with("tags", format!("project={project}"));
        match kind {
            BillingKind::PayAsYouGo => form.with("ttl", "30d").with("bandwidth", "5"),
            BillingKind::Spot => form.with("ttl", "7d").with("max-price", "0.6"),
            BillingKind::Prepaid => form.with("months", "1"),
        }
    };
    buy(app, &person("alice"), &form(BillingKind::PayAsYouGo, 2, "web")).await?;
    let mut ci = None;
    let mut more_web = None;
    for hour in 0..DAYS * 24 {
        match hour {
            // Day 2: CI gets spot servers; day 4: the database a prepaid one.
            24 => ci = Some(buy(app, &person("dave"), &form(BillingKind::Spot, 4, "ci")).await?),
            72 => {
                buy(app, &person("carol"), &form(BillingKind::Prepaid, 1, "db")).await?;
            }
            // Day 6: a load test doubles the web servers for three days.
            120 => more_web = Some(buy(app, &person("alice"), &form(BillingKind::PayAsYouGo, 2, "web")).await?),
            192 => give_back(app, &person("alice"), more_web).await?,
            // Day 10: CI is given back.
            216 => give_back(app, &person("dave"), ci).await?,
            _ => {}
        }
        sim.advance(Duration::from_secs(3600));
        clock.advance(Duration::from_secs(3600));
        tracker.round().await?;
        if hour % 6 == 5 {
            monitor.run_once().await?;
        }
    }
    let today = clock.now().to_offset(crate::domain::spend::BILLING_OFFSET).date();
    let month = SpendPeriod::parse("month", today).map_err(anyhow::Error::msg)?;
    let spend = desk.spend(&month, SpendBy::Tag).await?;
    let history = desk.balance_history(None).await?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let spend_path = dir.join("spend.png");
    let runway_path = dir.join("runway.png");
    std::fs::write(&spend_path, crate::chat::charts::spend_png(&spend.series)?)
        .with_context(|| format!("writing {}", spend_path.display()))?;
    std::fs::write(&runway_path, crate::chat::charts::runway_png(&history)?)
        .with_context(|| format!("writing {}", runway_path.display()))?;
    Ok(Gallery {
        spend: spend_path,
        runway: runway_path,
        tables: format!(
            "{}\n\n{}",
            crate::chat::charts::spend_table(&spend.series),
            crate::chat::charts::runway_table(&history)
        ),
    })
}

/// Files `form` as `who`, has bob (and carol, where a second approval is needed) approve it, and
/// buys it.
async fn buy(app: &App, who: &Person, form: &PurchaseForm) -> anyhow::Result<RequestId> {
    let desk = &app.desk;
    let id = desk.create(who, form, Origin::default()).await?.record.id;
    let ballot = Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: VoteVia::Console,
    };
    for approver in ["bob", "carol"] {
        if desk.view(id).await?.record.state == crate::domain::RequestState::Pending {
            desk.vote(id, &person(approver), &ballot).await?;
        }
    }
    desk.submit(id).await?;
    Ok(id)
}

/// Gives back every server of purchase `id`, if there is one.
async fn give_back(app: &App, who: &Person, id: Option<RequestId>) -> anyhow::Result<()> {
    let Some(id) = id else { return Ok(()) };
    let release = app
        .desk
        .release(who, id, &[], Some("done with them"), Origin::default())
        .await?;
    app.desk.submit(release.record.id).await?;
    Ok(())
}
