//! A cached view of what Tencent sells, for autocomplete: zones, instance types with their CPU,
//! memory, price and stock, and public images. Answers come from memory; the cache refreshes in
//! the background when older than its time to live, so a keystroke never waits on Tencent.

use crate::domain::BillingKind;
use crate::tencent::TencentClient;
use crate::tencent::cvm::{DescribeImagesRequest, Filter, Image, InstanceTypeQuotaItem, ZoneInfo};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::warn;

/// How long catalogue answers are reused.
const TIME_TO_LIVE: Duration = Duration::from_secs(300);
/// Discord shows at most 25 choices.
pub const MAX_CHOICES: usize = 25;

/// One autocomplete choice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    /// What the person sees (≤ 100 characters).
    pub label: String,
    /// What the option receives.
    pub value: String,
}

#[derive(Default)]
struct Snapshot {
    zones: Vec<ZoneInfo>,
    types: Vec<InstanceTypeQuotaItem>,
    images: Vec<Image>,
    fetched: Option<Instant>,
}

/// The cache.
#[derive(Clone)]
pub struct Catalogue {
    tencent: TencentClient,
    regions: Vec<String>,
    snapshot: Arc<Mutex<Snapshot>>,
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl Catalogue {
    /// A cache over `regions`.
    pub fn new(tencent: TencentClient, regions: Vec<String>) -> Catalogue {
        Catalogue {
            tencent,
            regions,
            snapshot: Arc::default(),
            refreshing: Arc::default(),
        }
    }

    /// Fetches everything now (at start-up, and when stale).
    pub async fn refresh(&self) {
        let Ok(_guard) = self.refreshing.try_lock() else { return };
        let mut zones = Vec::new();
        let mut types = Vec::new();
        let mut images = Vec::new();
        for region in &self.regions {
            match self.tencent.describe_zones(region).await {
                Ok(answer) => zones.extend(answer.data.zone_set),
                Err(error) => warn!(%error, region, "catalogue: DescribeZones failed"),
            }
            match self
                .tencent
                .describe_zone_instance_config_infos(region, Vec::new())
                .await
            {
                Ok(answer) => types.extend(answer.data.instance_type_quota_set),
                Err(error) => warn!(%error, region, "catalogue: DescribeZoneInstanceConfigInfos failed"),
            }
            if images.is_empty() {
                let request = DescribeImagesRequest {
                    filters: Some(vec![Filter::new("image-type", ["PUBLIC_IMAGE"])]),
                    limit: Some(100),
                    ..Default::default()
                };
                match self.tencent.describe_images(region, &request).await {
                    Ok(answer) => images = answer.data.image_set,
                    Err(error) => warn!(%error, region, "catalogue: DescribeImages failed"),
                }
            }
        }
        let mut snapshot = self.snapshot.lock().expect("catalogue lock");
        *snapshot = Snapshot {
            zones,
            types,
            images,
            fetched: Some(Instant::now()),
        };
    }

    fn refresh_if_stale(&self) {
        let stale = self
            .snapshot
            .lock()
            .expect("catalogue lock")
            .fetched
            .is_none_or(|at| at.elapsed() > TIME_TO_LIVE);
        if stale {
            let this = self.clone();
            tokio::spawn(async move { this.refresh().await });
        }
    }

    /// Zones matching what was typed.
    pub fn zones(&self, typed: &str) -> Vec<Choice> {
        self.refresh_if_stale();
        let typed = typed.trim().to_ascii_lowercase();
        let snapshot = self.snapshot.lock().expect("catalogue lock");
        snapshot
            .zones
            .iter()
            .filter(|z| z.zone.contains(&typed) || z.zone_name.to_ascii_lowercase().contains(&typed))
            .take(MAX_CHOICES)
            .map(|z| {
                let state = if z.zone_state == "AVAILABLE" {
                    ""
                } else {
                    " (unavailable)"
                };
                Choice {
                    label: truncate(&format!("{} · {}{state}", z.zone, z.zone_name)),
                    value: z.zone.clone(),
                }
            })
            .collect()
    }

    /// Instance types on sale in `zone` (if given) under `kind`, with CPU, memory, price and stock.
    pub fn instance_types(&self, zone: Option<&str>, kind: BillingKind, typed: &str) -> Vec<Choice> {
        self.refresh_if_stale();
        let typed = typed.trim().to_ascii_uppercase();
        let snapshot = self.snapshot.lock().expect("catalogue lock");
        let mut seen = std::collections::BTreeSet::new();
        snapshot
            .types
            .iter()
            .filter(|t| zone.is_none_or(|z| t.zone == z))
            .filter(|t| {
                t.instance_charge_type
                    .as_ref()
                    .is_none_or(|c| c.as_str() == kind.charge_type())
            })
            .filter(|t| t.instance_type.contains(&typed))
            .filter(|t| seen.insert(t.instance_type.clone()))
            .take(MAX_CHOICES)
            .map(|t| {
                let price = t
                    .price
                    .unit_price_discount
                    .or(t.price.unit_price)
                    .or(t.price.discount_price);
                let unit = if kind == BillingKind::Prepaid { "/month" } else { "/h" };
                let price = price
                    .map(|p| format!(" · {} CNY{unit}", p.normalize()))
                    .unwrap_or_default();
                let stock =
                    t.status_category
                        .as_deref()
                        .unwrap_or(if t.status == "SELL" { "on sale" } else { "sold out" });
                let label = format!("{} · {} vCPU {} GiB{price} · {stock}", t.instance_type, t.cpu, t.memory);
                Choice {
                    label: truncate(&label),
                    value: t.instance_type.clone(),
                }
            })
            .collect()
    }

    /// Public images matching what was typed (id, name or OS).
    pub fn images(&self, typed: &str) -> Vec<Choice> {
        self.refresh_if_stale();
        let typed = typed.trim().to_ascii_lowercase();
        let snapshot = self.snapshot.lock().expect("catalogue lock");
        snapshot
            .images
            .iter()
            .filter(|i| {
                i.image_id.contains(&typed)
                    || i.os_name
                        .as_deref()
                        .is_some_and(|o| o.to_ascii_lowercase().contains(&typed))
                    || i.image_name
                        .as_deref()
                        .is_some_and(|n| n.to_ascii_lowercase().contains(&typed))
            })
            .take(MAX_CHOICES)
            .map(|i| {
                let name = i.os_name.as_deref().or(i.image_name.as_deref()).unwrap_or("");
                Choice {
                    label: truncate(&format!("{} · {name}", i.image_id)),
                    value: i.image_id.clone(),
                }
            })
            .collect()
    }
}

fn truncate(label: &str) -> String {
    label.chars().take(100).collect()
}
