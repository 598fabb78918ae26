//! The bench's world: a seeded simulator whose spot market stays below the fleet's bid, cvmbot's
//! configuration on a SQLite file with a policy that admits the fleet's budget, and the fleet
//! filed by one person and approved by another.

use anyhow::{Context, ensure};
use cvmbot::chat::console::person;
use cvmbot::config::Config;
use cvmbot::desk::{Ballot, Desk, Origin};
use cvmbot::domain::{BillingKind, ChannelId, GuildId, MessageId, PurchaseForm, RequestId, RequestState, VoteVia};
use cvmbot::sim::{AccountPatch, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, SimConfig, Simulator};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// The fleet's zone.
pub const ZONE: &str = "ap-guangzhou-3";
/// The fleet's instance type.
pub const TYPE: &str = "S5.MEDIUM4";
const IMAGE: &str = "img-487zeit5";
/// The channel the fleet's card and summaries are posted in.
pub const CHANNEL: ChannelId = ChannelId::new(10);
/// The simulator's seed.
pub const SEED: u64 = 7;
/// Simulated start (the engine's manual clock starts at the same instant).
pub const START: &str = "2025-01-01T00:00:00Z";

/// The fleet's bid and the market it starts from, CNY per hour.
pub struct Market {
    /// The bid (`max-price`).
    pub bid: Decimal,
    /// The market price set at the start.
    pub start: Decimal,
    /// The highest price the simulator's random walk may reach.
    pub ceiling: Decimal,
    /// The walk's largest relative move per step.
    pub volatility: Decimal,
    /// Simulated seconds between moves.
    pub step_secs: u64,
}

impl Market {
    /// A bid of 0.2 CNY/h over a market that starts at 0.1 and may walk up to 80% of the bid.
    pub fn chosen() -> Market {
        let bid = Decimal::new(2, 1);
        Market {
            bid,
            start: Decimal::new(1, 1),
            ceiling: bid * Decimal::new(8, 1),
            volatility: SimConfig::default().spot.volatility,
            step_secs: SimConfig::default().spot.step_secs,
        }
    }
}

/// The simulator's settings: seeded, a clock that moves only when told, Tencent's documented
/// rate limits (the defaults), and a spot walk whose ceiling stays below the bid.
pub fn sim_config(market: &Market) -> anyhow::Result<SimConfig> {
    let mut config = SimConfig {
        seed: Some(SEED),
        speed: 0.0,
        start_time: Some(START.into()),
        ..SimConfig::default()
    };
    let hourly = config
        .instance_types
        .iter()
        .find(|t| t.instance_type == TYPE)
        .map(|t| t.hourly)
        .context("the catalogue sells the fleet's type")?;
    config.spot.max_ratio = market.ceiling / hourly;
    ensure!(
        config.spot.min_ratio * hourly < market.start,
        "the walk's floor is above the start price"
    );
    Ok(config)
}

/// Room for every server twice over, so stock is never what stops a refill, and money enough
/// for any run.
pub fn provision(sim: &Simulator, servers: u32, market: &Market) -> anyhow::Result<()> {
    let stock = sim.stock(ZONE, TYPE).context("the fleet's zone sells its type")?;
    sim.set_stock(ZONE, TYPE, stock.regular, servers.saturating_mul(2))?;
    sim.set_spot_price(ZONE, TYPE, market.start)?;
    sim.patch_account(
        DEFAULT_SECRET_ID,
        AccountPatch {
            cash_fen: Some(10_000_000_000),
            ..AccountPatch::default()
        },
    )?;
    Ok(())
}

/// cvmbot's configuration: the built-in defaults (the client's rate limits at Tencent's documented
/// values among them) with the simulator, a SQLite file, and a policy whose tier and fleet size
/// admit the fleet.
pub fn config(sim_url: &str, db_path: &str, servers: u32) -> anyhow::Result<Config> {
    let text = format!(
        r#"
[database]
url = "sqlite://{db_path}"
[tencent]
endpoint = "{sim_url}"
[policy]
requesters = {{ anyone = true }}
approvers = {{ roles = [900] }}
tiers = [{{ up_to = "100000000", approvals = 1 }}]
[policy.fleet]
max_count = {servers}
"#
    );
    let env = BTreeMap::from([
        ("TENCENTCLOUD_SECRET_ID".to_owned(), DEFAULT_SECRET_ID.to_owned()),
        ("TENCENTCLOUD_SECRET_KEY".to_owned(), DEFAULT_SECRET_KEY.to_owned()),
    ]);
    Ok(Config::load_layered(&[("the bench settings", &text)], None, &env)?)
}

/// Alice files the fleet, its card is shown, bob approves it and the submitter carries it out.
pub async fn start_fleet(desk: &Desk, servers: u32, market: &Market) -> anyhow::Result<RequestId> {
    let form = PurchaseForm::new(BillingKind::Spot)
        .with("zone", ZONE)
        .with("type", TYPE)
        .with("image", IMAGE)
        .with("max-price", market.bid.to_string())
        .with("name", "bench")
        .with("count", servers.to_string())
        .with("reason", "fleet bench");
    let origin = Origin {
        guild_id: Some(GuildId::new(1)),
        channel_id: Some(CHANNEL),
    };
    let id = desk
        .create_fleet(&person("alice"), &form, origin)
        .await
        .context("filing the fleet")?
        .record
        .id;
    desk.attach_message(id, CHANNEL, MessageId::new(5_000 + id.get() as u64), None)
        .await?;
    let ballot = Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: VoteVia::Console,
    };
    desk.vote(id, &person("bob"), &ballot)
        .await
        .context("approving the fleet")?;
    desk.submit_due().await?;
    let state = desk.view(id).await?.record.state;
    ensure!(
        state == RequestState::Active,
        "the fleet is {state:?} after its approval"
    );
    Ok(id)
}
