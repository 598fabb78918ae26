//! What Tencent sells where, checked before a request is quoted: a zone that does not exist, or a
//! type its zone does not sell, is a mistake in an option (named, with what is allowed), not "no
//! stock right now". Facts are fetched per region on first use and kept for a few minutes; when
//! they can't be fetched, nothing is refused here and Tencent's own answer decides.

use crate::domain::{BillingKind, FieldError, PurchaseSpec, SpecErrors};
use crate::tencent::cvm::{Filter, InstanceTypeQuotaItem, ZoneInfo};
use crate::tencent::{ErrorKind, TencentClient};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tracing::warn;

/// How long a region's facts are reused.
const TIME_TO_LIVE: Duration = Duration::from_secs(300);

/// How many allowed values an error lists.
const LISTED: usize = 12;

/// One region's zones and instance types.
#[derive(Clone, Debug)]
enum Facts {
    /// Tencent has no such region.
    NoRegion,
    /// Its zones, and what each sells by billing kind (empty when that could not be read).
    Known {
        zones: Vec<ZoneInfo>,
        types: Vec<InstanceTypeQuotaItem>,
    },
}

/// The per-region cache.
#[derive(Clone)]
pub(super) struct Sold {
    tencent: TencentClient,
    regions: Arc<Mutex<HashMap<String, (Instant, Facts)>>>,
}

impl Sold {
    pub(super) fn new(tencent: TencentClient) -> Sold {
        Sold {
            tencent,
            regions: Arc::default(),
        }
    }

    /// Refuses a zone Tencent does not have and a type its zone does not sell for the spec's billing.
    pub(super) async fn check(&self, spec: &PurchaseSpec) -> Result<(), SpecErrors> {
        let region = spec.region();
        let Some(facts) = self.facts(region).await else {
            return Ok(());
        };
        let zone = spec.zone().as_str();
        let (zones, types) = match facts {
            Facts::NoRegion => {
                return Err(error(
                    "zone",
                    format!("{zone} is not a zone Tencent Cloud sells in: it has no region {region}."),
                ));
            }
            Facts::Known { zones, types } => (zones, types),
        };
        match zones.iter().find(|z| z.zone == zone) {
            None => {
                let known: Vec<&str> = zones.iter().map(|z| z.zone.as_str()).collect();
                return Err(error(
                    "zone",
                    format!("{zone} is not a zone of {region}; its zones are {}.", list(&known)),
                ));
            }
            Some(found) if found.zone_state != "AVAILABLE" => {
                return Err(error(
                    "zone",
                    format!(
                        "{zone} is not available now ({}); choose another zone.",
                        found.zone_state
                    ),
                ));
            }
            Some(_) => {}
        }
        let kind = spec.billing().kind();
        let sold_here: BTreeSet<&str> = types
            .iter()
            .filter(|t| t.zone == zone && sold_as(t, kind))
            .map(|t| t.instance_type.as_str())
            .collect();
        let wanted = spec.instance_type().as_str();
        if !sold_here.is_empty() && !sold_here.contains(wanted) {
            let sold: Vec<&str> = sold_here.into_iter().collect();
            return Err(error(
                "type",
                format!(
                    "{wanted} is not sold in {zone} as {}; sold there: {}.",
                    kind.label(),
                    list(&sold)
                ),
            ));
        }
        Ok(())
    }

    /// The region's facts, fetched if missing or old; `None` when Tencent could not say.
    async fn facts(&self, region: &str) -> Option<Facts> {
        if let Some((at, facts)) = self.regions.lock().expect("sold lock").get(region)
            && at.elapsed() < TIME_TO_LIVE
        {
            return Some(facts.clone());
        }
        let zones = match self.tencent.describe_zones(region).await {
            Ok(answer) => answer.data.zone_set,
            Err(error) if error.kind == ErrorKind::InvalidParameter && error.message.contains("Region") => {
                return Some(self.keep(region, Facts::NoRegion));
            }
            Err(error) => {
                warn!(%error, region, "could not read the region's zones to check a request; Tencent will judge it");
                return None;
            }
        };
        let types = match self
            .tencent
            .describe_zone_instance_config_infos(region, Vec::<Filter>::new())
            .await
        {
            Ok(answer) => answer.data.instance_type_quota_set,
            Err(error) => {
                warn!(%error, region, "could not read the region's instance types to check a request");
                Vec::new()
            }
        };
        Some(self.keep(region, Facts::Known { zones, types }))
    }

    fn keep(&self, region: &str, facts: Facts) -> Facts {
        self.regions
            .lock()
            .expect("sold lock")
            .insert(region.to_owned(), (Instant::now(), facts.clone()));
        facts
    }
}

fn sold_as(item: &InstanceTypeQuotaItem, kind: BillingKind) -> bool {
    item.instance_charge_type
        .as_ref()
        .is_none_or(|charge| charge.as_str() == kind.charge_type())
}

fn list(values: &[&str]) -> String {
    let mut text = values.iter().take(LISTED).copied().collect::<Vec<_>>().join(", ");
    if values.len() > LISTED {
        text.push_str(&format!(
            " and {} more (autocomplete shows them all)",
            values.len() - LISTED
        ));
    }
    text
}

fn error(field: &str, problem: String) -> SpecErrors {
    SpecErrors(vec![FieldError {
        field: field.into(),
        problem,
    }])
}
