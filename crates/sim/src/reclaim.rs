//! Spot capacity taken back while the price stays put: a zone × type whose spot capacity shrinks
//! reclaims its newest spot instances, and a reclaim by number or percentage takes instances the
//! seeded generator picks. Either way they end as outbid ones do ([`World::destroy`]): billing
//! stops, the freeze and the stock unit come back, and they show TERMINATING until they vanish.

use super::billing_engine::REASON_CAPACITY;
use super::clock::SimMs;
use super::world::instance::Phase;
use super::world::{Stock, World};
use tracing::info;

/// How many spot instances a reclaim takes of those that match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reclaim {
    /// This many, or every one when fewer match.
    Count(u32),
    /// This percentage (0–100), rounded down.
    Percent(u32),
}

impl Reclaim {
    /// How many of `live` instances it takes.
    fn of(self, live: usize) -> usize {
        match self {
            Reclaim::Count(count) => live.min(count as usize),
            Reclaim::Percent(percent) => (live as u64 * u64::from(percent) / 100) as usize,
        }
    }
}

impl World {
    /// The PENDING or RUNNING spot instances of the markets (`zone/type`) `matches` accepts,
    /// oldest first. Each holds one unit of its market's spot stock.
    fn live_spot(&self, matches: impl Fn(&str) -> bool) -> Vec<String> {
        let mut live: Vec<(u64, &str)> = self
            .spot_index
            .iter()
            .filter(|(key, _)| matches(key))
            .flat_map(|(_, ids)| ids.iter())
            .filter_map(|id| self.instances.get(id))
            .filter(|i| matches!(i.phase, Phase::Pending | Phase::Running))
            .map(|i| (i.seq, i.id.as_str()))
            .collect();
        live.sort_unstable();
        live.into_iter().map(|(_, id)| id.to_owned()).collect()
    }

    /// Lets at most `capacity` spot instances run in market `key`: the newest beyond it are
    /// reclaimed (returned oldest first) and the capacity they leave unused is the spot stock.
    pub fn set_spot_capacity(&mut self, key: &str, capacity: u32, at: SimMs) -> Vec<String> {
        let live = self.live_spot(|k| k == key);
        let kept = live.len().min(capacity as usize);
        let excess = live[kept..].to_vec();
        self.reclaim_for_capacity(&excess, at);
        let stock = self
            .stock
            .entry(key.to_owned())
            .or_insert(Stock { regular: 0, spot: 0 });
        // Reclaiming gave the excess units back; the stock is what the survivors leave free.
        stock.spot = capacity - kept as u32;
        excess
    }

    /// Reclaims `how` many of the live spot instances in the markets `matches` accepts, picked
    /// by the seeded generator; returns them oldest first.
    pub fn reclaim_spot(&mut self, matches: impl Fn(&str) -> bool, how: Reclaim, at: SimMs) -> Vec<String> {
        let mut picked = self.live_spot(matches);
        let count = how.of(picked.len());
        // A partial Fisher–Yates shuffle: the first `count` are a uniform pick.
        for i in 0..count {
            let j = i + self.reclaim_rng.below((picked.len() - i) as u64) as usize;
            picked.swap(i, j);
        }
        picked.truncate(count);
        picked.sort_by_key(|id| self.instances.get(id).map(|i| i.seq));
        self.reclaim_for_capacity(&picked, at);
        picked
    }

    fn reclaim_for_capacity(&mut self, ids: &[String], at: SimMs) {
        for id in ids {
            info!(instance = %id, "spot instance reclaimed: capacity needed");
            self.destroy(id, at, REASON_CAPACITY);
        }
    }
}
