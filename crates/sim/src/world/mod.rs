//! The simulator's mutable state: accounts, instances, stock, spot prices, idempotency tokens and
//! scheduled events. One `World` sits behind one mutex that is held only for synchronous work,
//! never across an `.await`.

pub mod account;
pub mod instance;

use self::account::Account;
use self::instance::SimInstance;
use super::catalogue::Catalogue;
use super::clock::SimMs;
use cvmbot_tencent::random::SplitMix64;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

/// Something that happens to an instance at a set simulated time.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// PENDING ends: RUNNING or LAUNCH_FAILED.
    Launch(String),
    /// The public IP becomes visible.
    PublicIp(String),
    /// The instance disappears from the API.
    Vanish(String),
    /// A prepaid instance reaches its ExpiredTime: renewed or isolated; an isolated one is
    /// released when this comes again after the retention.
    Expire(String),
}

/// A scheduled event; ordered by time, then by scheduling order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: SimMs,
    /// Tie-breaker: scheduling order.
    pub seq: u64,
    /// What.
    pub kind: EventKind,
}

/// Remaining stock of one zone × type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stock {
    /// For PREPAID and POSTPAID_BY_HOUR.
    pub regular: u32,
    /// For SPOTPAID.
    pub spot: u32,
}

/// A data disk that outlived its instance: a pay-as-you-go disk bought with
/// `DeleteWithInstance: false`, or a prepaid one whose instance was destroyed without
/// `ReleasePrepaidDataDisks`. The simulator has no disk API; the control endpoint lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptDisk {
    /// The account.
    pub uin: u64,
    /// Where it is.
    pub zone: String,
    /// The instance it was bought with.
    pub instance_id: String,
    /// The disk.
    pub disk: instance::Disk,
    /// When its instance was destroyed.
    pub since: SimMs,
}

/// All mutable state.
#[derive(Serialize, Deserialize)]
pub struct World {
    #[serde(skip, default = "empty_catalogue")]
    pub cat: Arc<Catalogue>,
    /// Time the world has been brought up to.
    pub now: SimMs,
    pub accounts: Vec<Account>,
    pub instances: HashMap<String, SimInstance>,
    /// `uin/region` → creation seq → instance id: listing order without scanning everything.
    pub index: BTreeMap<String, BTreeMap<u64, String>>,
    /// `uin/ClientToken` → the InstanceIdSet it bought.
    pub tokens: HashMap<String, Vec<String>>,
    /// `zone/type` → stock.
    pub stock: BTreeMap<String, Stock>,
    /// `zone/type` → spot market price, yuan per hour.
    pub spot_prices: BTreeMap<String, Decimal>,
    /// When the spot market moves next.
    pub next_spot_step: SimMs,
    pub events: BinaryHeap<Reverse<Event>>,
    pub seq: u64,
    /// `zone` → private addresses handed out.
    pub ip_counters: HashMap<String, u32>,
    pub public_ips: HashSet<String>,
    /// Data disks left behind by destroyed instances.
    #[serde(default)]
    pub kept_disks: Vec<KeptDisk>,
    /// The bill lines written from what the engine charged.
    #[serde(default)]
    pub ledger: crate::ledger::Ledger,
    /// Seeds the generators again after a load, so a saved run continues reproducibly.
    pub reseed: u64,
    #[serde(skip, default = "unseeded")]
    pub rng: SplitMix64,
    #[serde(skip, default = "unseeded")]
    pub spot_rng: SplitMix64,
    /// Picks the spot instances a reclaim by count or percentage takes, apart from `rng` so a
    /// reclaim does not change the ids bought after it.
    #[serde(skip, default = "unseeded")]
    pub reclaim_rng: SplitMix64,
    /// `zone/type` → spot instances there (rebuilt after a load).
    #[serde(skip)]
    pub spot_index: BTreeMap<String, BTreeSet<String>>,
    /// `uin/zone/charge type` → instances holding stock there: what quotas count (rebuilt after
    /// a load), so a purchase need not walk every instance.
    #[serde(skip)]
    pub quota_used: HashMap<String, u32>,
}

fn empty_catalogue() -> Arc<Catalogue> {
    Arc::new(Catalogue::new(super::config::SimConfig {
        accounts: Vec::new(),
        regions: Vec::new(),
        instance_types: Vec::new(),
        images: Vec::new(),
        stock: Vec::new(),
        ..Default::default()
    }))
}

fn unseeded() -> SplitMix64 {
    SplitMix64::seeded(0)
}

impl World {
    /// A fresh world at `now`.
    pub fn new(cat: Arc<Catalogue>, seed: u64, now: SimMs) -> Self {
        let mut world = World {
            cat: cat.clone(),
            now,
            accounts: Vec::new(),
            instances: HashMap::new(),
            index: BTreeMap::new(),
            tokens: HashMap::new(),
            stock: BTreeMap::new(),
            spot_prices: BTreeMap::new(),
            next_spot_step: now + cat.config.spot.step_secs as i64 * 1000,
            events: BinaryHeap::new(),
            seq: 0,
            ip_counters: HashMap::new(),
            public_ips: HashSet::new(),
            kept_disks: Vec::new(),
            ledger: crate::ledger::Ledger::default(),
            reseed: seed,
            rng: unseeded(),
            spot_rng: unseeded(),
            reclaim_rng: unseeded(),
            spot_index: BTreeMap::new(),
            quota_used: HashMap::new(),
        };
        world.seed_generators(seed);
        world.fill_from_catalogue();
        world
    }

    /// Re-attaches a loaded world to the catalogue: new accounts and offerings are added, the
    /// generators are reseeded from the saved seed and the spot index is rebuilt.
    pub fn attach(mut self, cat: Arc<Catalogue>) -> Self {
        self.cat = cat;
        self.seed_generators(self.reseed);
        self.fill_from_catalogue();
        self.spot_index.clear();
        self.quota_used.clear();
        for instance in self.instances.values() {
            count_instance(&mut self.spot_index, &mut self.quota_used, instance);
        }
        self
    }

    /// Prepares the world to be saved: draws the seed a reload will continue from.
    pub fn prepare_save(&mut self) {
        self.reseed = self.rng.next_u64();
        self.seed_generators(self.reseed);
    }

    fn seed_generators(&mut self, seed: u64) {
        self.rng = SplitMix64::seeded(seed);
        self.spot_rng = SplitMix64::seeded(seed ^ 0x5EED_5EED_5EED_5EED);
        self.reclaim_rng = SplitMix64::seeded(seed ^ 0x2EC1_A135_2EC1_A135);
    }

    fn fill_from_catalogue(&mut self) {
        let cat = self.cat.clone();
        for config in &cat.config.accounts {
            if !self.accounts.iter().any(|a| a.secret_id == config.secret_id) {
                self.accounts.push(Account::new(
                    &config.secret_id,
                    config.uin,
                    config.cash_fen,
                    config.credit_amount_fen,
                    config.allow_arrears,
                    self.now,
                ));
            }
        }
        let spot = &cat.config.spot;
        for (zone, kind) in cat.offerings() {
            let key = format!("{zone}/{}", kind.instance_type);
            let (regular, spot_stock) = cat.initial_stock(&zone, kind);
            self.stock.entry(key.clone()).or_insert(Stock {
                regular,
                spot: spot_stock,
            });
            if kind.spot {
                self.spot_prices
                    .entry(key)
                    .or_insert_with(|| (kind.hourly * spot.start_ratio).round_dp(4));
            }
        }
    }

    /// The account of an API key.
    pub fn account_mut(&mut self, secret_id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.secret_id == secret_id)
    }

    /// The account that owns instances of `uin`.
    pub fn account_of_uin(&mut self, uin: u64) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.uin == uin)
    }

    /// Schedules `kind` at `at`.
    pub fn schedule(&mut self, at: SimMs, kind: EventKind) {
        self.seq += 1;
        self.events.push(Reverse(Event {
            at,
            seq: self.seq,
            kind,
        }));
    }

    /// A fresh id `prefix-xxxxxxxx` (8 lowercase letters and digits).
    pub fn fresh_id(&mut self, prefix: &str) -> String {
        loop {
            let id = format!("{prefix}-{}", self.rng.id_chars(8));
            if !self.instances.contains_key(&id) {
                return id;
            }
        }
    }

    /// The next private address in `zone`'s subnet 10.<zone>.0.0/16.
    pub fn private_ip(&mut self, zone: &str) -> String {
        let zone_index = self.cat.zone(zone).map_or(0, |z| z.index);
        let counter = self.ip_counters.entry(zone.to_owned()).or_insert(0);
        let n = *counter;
        *counter += 1;
        format!("10.{}.{}.{}", (zone_index % 250) + 1, (n / 250) % 256, n % 250 + 2)
    }

    /// An unused public address.
    pub fn public_ip(&mut self) -> String {
        loop {
            let n = self.rng.next_u64();
            let ip = format!("43.{}.{}.{}", 128 + (n % 64), (n >> 8) % 256, 1 + (n >> 16) % 254);
            if self.public_ips.insert(ip.clone()) {
                return ip;
            }
        }
    }

    /// Adds an instance to the maps and indexes.
    pub fn insert_instance(&mut self, instance: SimInstance) {
        self.index
            .entry(index_key(instance.uin, &instance.region))
            .or_default()
            .insert(instance.seq, instance.id.clone());
        count_instance(&mut self.spot_index, &mut self.quota_used, &instance);
        self.instances.insert(instance.id.clone(), instance);
    }

    /// Removes an instance for good.
    pub fn remove_instance(&mut self, id: &str) {
        if let Some(instance) = self.instances.remove(id) {
            if let Some(listed) = self.index.get_mut(&index_key(instance.uin, &instance.region)) {
                listed.remove(&instance.seq);
            }
            if let Some(set) = self.spot_index.get_mut(&instance.market_key()) {
                set.remove(id);
            }
            if let Some(ip) = &instance.public_ip {
                self.public_ips.remove(ip);
            }
        }
    }

    /// The ids of `uin`'s instances in `region`, oldest first.
    pub fn listed(&self, uin: u64, region: &str) -> Vec<String> {
        self.index
            .get(&index_key(uin, region))
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The current spot price of a `zone/type` market.
    pub fn spot_price(&self, key: &str) -> Decimal {
        self.spot_prices.get(key).copied().unwrap_or_default()
    }
}

/// The key of [`World::quota_used`].
pub fn quota_key(uin: u64, zone: &str, charge_type: &str) -> String {
    format!("{uin}/{zone}/{charge_type}")
}

/// The key of [`World::index`].
pub fn index_key(uin: u64, region: &str) -> String {
    format!("{uin}/{region}")
}

/// Counts `instance` in the spot market it bids in and against the quota it holds.
fn count_instance(
    spot_index: &mut BTreeMap<String, BTreeSet<String>>,
    quota_used: &mut HashMap<String, u32>,
    instance: &SimInstance,
) {
    if instance.is_spot() {
        spot_index
            .entry(instance.market_key())
            .or_default()
            .insert(instance.id.clone());
    }
    if instance.holds_stock {
        *quota_used
            .entry(quota_key(instance.uin, &instance.zone, instance.charge_type.as_str()))
            .or_default() += 1;
    }
}
