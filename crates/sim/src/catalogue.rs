//! The catalogue as lookups: what is sold where, at which price. Built once from a [`SimConfig`]
//! and shared read-only by every request.

use super::config::*;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// A zone and the region it belongs to.
#[derive(Clone, Debug)]
pub struct ZoneRef {
    /// The region's name.
    pub region: String,
    /// The zone's settings.
    pub zone: ZoneConfig,
    /// Position among all zones (gives each zone its own 10.x subnet).
    pub index: usize,
}

/// Read-only lookups over the configuration.
#[derive(Debug)]
pub struct Catalogue {
    /// The whole configuration.
    pub config: SimConfig,
    zones: HashMap<String, ZoneRef>,
    types: HashMap<String, InstanceTypeConfig>,
    offered: HashSet<(String, String)>,
    images: HashMap<String, ImageConfig>,
    disks: HashMap<String, DiskPrice>,
    accounts: HashMap<String, AccountConfig>,
}

impl Catalogue {
    /// Indexes `config`.
    pub fn new(config: SimConfig) -> Self {
        let mut zones = HashMap::new();
        let mut all_zones = Vec::new();
        for region in &config.regions {
            for zone in &region.zones {
                let index = all_zones.len();
                all_zones.push(zone.zone.clone());
                zones.insert(
                    zone.zone.clone(),
                    ZoneRef {
                        region: region.region.clone(),
                        zone: zone.clone(),
                        index,
                    },
                );
            }
        }
        let mut offered = HashSet::new();
        for kind in &config.instance_types {
            let sold_in = if kind.zones.is_empty() { &all_zones } else { &kind.zones };
            for zone in sold_in {
                offered.insert((zone.clone(), kind.instance_type.clone()));
            }
        }
        Catalogue {
            types: config
                .instance_types
                .iter()
                .map(|t| (t.instance_type.clone(), t.clone()))
                .collect(),
            images: config.images.iter().map(|i| (i.image_id.clone(), i.clone())).collect(),
            disks: config
                .pricing
                .disks
                .iter()
                .map(|d| (d.disk_type.clone(), d.clone()))
                .collect(),
            accounts: config
                .accounts
                .iter()
                .map(|a| (a.secret_id.clone(), a.clone()))
                .collect(),
            zones,
            offered,
            config,
        }
    }

    /// A region by name.
    pub fn region(&self, name: &str) -> Option<&RegionConfig> {
        self.config.regions.iter().find(|r| r.region == name)
    }

    /// A zone by name.
    pub fn zone(&self, zone: &str) -> Option<&ZoneRef> {
        self.zones.get(zone)
    }

    /// An instance type by name.
    pub fn instance_type(&self, name: &str) -> Option<&InstanceTypeConfig> {
        self.types.get(name)
    }

    /// Whether `zone` sells `instance_type`.
    pub fn sells(&self, zone: &str, instance_type: &str) -> bool {
        self.offered.contains(&(zone.to_owned(), instance_type.to_owned()))
    }

    /// The types `zone` sells, in catalogue order.
    pub fn types_in_zone<'a>(&'a self, zone: &'a str) -> impl Iterator<Item = &'a InstanceTypeConfig> + 'a {
        self.config
            .instance_types
            .iter()
            .filter(move |t| self.sells(zone, &t.instance_type))
    }

    /// Every (zone, type) on sale, in catalogue order.
    pub fn offerings(&self) -> Vec<(String, &InstanceTypeConfig)> {
        let mut out = Vec::new();
        for region in &self.config.regions {
            for zone in &region.zones {
                for kind in self.types_in_zone(&zone.zone) {
                    out.push((zone.zone.clone(), kind));
                }
            }
        }
        out
    }

    /// Starting (regular, spot) stock of a zone × type.
    pub fn initial_stock(&self, zone: &str, kind: &InstanceTypeConfig) -> (u32, u32) {
        self.config
            .stock
            .iter()
            .find(|s| s.zone == zone && s.instance_type == kind.instance_type)
            .map_or((kind.stock, if kind.spot { kind.spot_stock } else { 0 }), |s| {
                (s.stock, s.spot_stock)
            })
    }

    /// An image by id.
    pub fn image(&self, id: &str) -> Option<&ImageConfig> {
        self.images.get(id)
    }

    /// The images, in catalogue order.
    pub fn images(&self) -> &[ImageConfig] {
        &self.config.images
    }

    /// The price of a disk type, if sold.
    pub fn disk(&self, disk_type: &str) -> Option<&DiskPrice> {
        self.disks.get(disk_type)
    }

    /// The fraction of the list price paid for a prepaid period.
    pub fn prepaid_ratio(&self, months: i64) -> Decimal {
        self.config
            .pricing
            .prepaid_discounts
            .iter()
            .find(|d| d.months == months)
            .map_or(Decimal::ONE, |d| d.ratio)
    }

    /// The settings of an API key.
    pub fn account(&self, secret_id: &str) -> Option<&AccountConfig> {
        self.accounts.get(secret_id)
    }

    /// Whether `image` runs on `kind`.
    pub fn image_fits(image: &ImageConfig, kind: &InstanceTypeConfig) -> bool {
        image.families.is_empty() || image.families.contains(&kind.family)
    }
}
