//! `PurchaseSpec`: what to buy, parsed from the options a person typed. A `PurchaseSpec` that
//! exists is valid; every error names the option and what it accepts.

use super::fields::{
    default_or_id, id_list, number_in, one_of, parse_bid, parse_bool, parse_data_disks, parse_disk_type, parse_months,
    parse_name, parse_reason, parse_tags,
};
use super::form::{FieldError, PurchaseForm, SpecErrors};
use super::lifetime::TtlPolicy;
use super::names::{InstanceType, ResourceId, Zone};
use crate::money::Yuan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Months a prepaid instance can be bought for.
pub const PREPAID_MONTHS: &[u32] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60];
/// Disk types Tencent sells.
pub const DISK_TYPES: &[&str] = &[
    "CLOUD_PREMIUM",
    "CLOUD_SSD",
    "CLOUD_BSSD",
    "CLOUD_HSSD",
    "CLOUD_TSSD",
    "CLOUD_BASIC",
    "LOCAL_BASIC",
    "LOCAL_SSD",
];
/// Ways to pay for public bandwidth.
pub const BANDWIDTH_CHARGES: &[&str] = &[
    "BANDWIDTH_POSTPAID_BY_HOUR",
    "TRAFFIC_POSTPAID_BY_HOUR",
    "BANDWIDTH_PREPAID",
    "BANDWIDTH_PACKAGE",
];
/// Most instances one request may ask for (Tencent quotes at most 100 per call).
pub const MAX_COUNT: u32 = 100;

/// The three ways to pay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingKind {
    /// `POSTPAID_BY_HOUR`.
    PayAsYouGo,
    /// `SPOTPAID`.
    Spot,
    /// `PREPAID`.
    Prepaid,
}

impl BillingKind {
    /// Every kind.
    pub const ALL: [BillingKind; 3] = [BillingKind::PayAsYouGo, BillingKind::Spot, BillingKind::Prepaid];

    /// Tencent's `InstanceChargeType`.
    pub fn charge_type(self) -> &'static str {
        match self {
            BillingKind::PayAsYouGo => "POSTPAID_BY_HOUR",
            BillingKind::Spot => "SPOTPAID",
            BillingKind::Prepaid => "PREPAID",
        }
    }

    /// The subcommand name: `payg`, `spot`, `prepaid`.
    pub fn command(self) -> &'static str {
        match self {
            BillingKind::PayAsYouGo => "payg",
            BillingKind::Spot => "spot",
            BillingKind::Prepaid => "prepaid",
        }
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            BillingKind::PayAsYouGo => "pay-as-you-go",
            BillingKind::Spot => "spot",
            BillingKind::Prepaid => "prepaid",
        }
    }

    /// Reads a subcommand name or a charge type.
    pub fn parse(text: &str) -> Option<BillingKind> {
        let text = text.trim();
        BillingKind::ALL
            .into_iter()
            .find(|k| text.eq_ignore_ascii_case(k.command()) || text.eq_ignore_ascii_case(k.charge_type()))
    }
}

/// How the instances are paid for, with each mode's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum BillingMode {
    /// Billed by the second, settled hourly; one hour is frozen at purchase.
    PayAsYouGo,
    /// Preemptible, at the market price up to `max_price` per instance-hour.
    Spot {
        /// The bid: highest price per instance-hour.
        max_price: Yuan,
    },
    /// Paid up front for `months`.
    Prepaid {
        /// The period.
        months: u32,
        /// Renew automatically at the end.
        auto_renew: bool,
    },
}

impl BillingMode {
    /// The kind without its terms.
    pub fn kind(&self) -> BillingKind {
        match self {
            BillingMode::PayAsYouGo => BillingKind::PayAsYouGo,
            BillingMode::Spot { .. } => BillingKind::Spot,
            BillingMode::Prepaid { .. } => BillingKind::Prepaid,
        }
    }
}

/// A disk: its type and size.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// One of [`DISK_TYPES`].
    pub disk_type: String,
    /// GiB.
    pub size_gib: u32,
}

/// Public bandwidth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bandwidth {
    /// Outbound cap in Mbps; 0 means no public IP.
    pub mbps: u32,
    /// One of [`BANDWIDTH_CHARGES`].
    pub charge: String,
}

/// VPC and subnet ids (or `DEFAULT`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    /// `vpc-…` or `DEFAULT`.
    pub vpc: String,
    /// `subnet-…` or `DEFAULT`.
    pub subnet: String,
}

/// A valid description of servers to buy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseSpec {
    zone: Zone,
    instance_type: InstanceType,
    image: ResourceId,
    billing: BillingMode,
    count: u32,
    system_disk: Disk,
    data_disks: Vec<Disk>,
    bandwidth: Bandwidth,
    network: Option<Network>,
    security_groups: Vec<ResourceId>,
    key_ids: Vec<ResourceId>,
    name: Option<String>,
    tags: BTreeMap<String, String>,
    reason: Option<String>,
    keep_trying_secs: Option<u64>,
    preset: Option<String>,
    /// How long after the purchase cvmbot releases the servers (absent: never). Left out of the
    /// stored form when absent, so requests filed before TTLs existed keep their approval hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl_secs: Option<u64>,
}

/// What parsing needs besides the form: the configured presets and defaults.
#[derive(Clone, Debug, Default)]
pub struct ParseContext {
    /// Preset name → option name → value.
    pub presets: BTreeMap<String, BTreeMap<String, String>>,
    /// How long spot keep-trying lasts when the option is just `true`.
    pub keep_trying_default: Duration,
    /// Time-to-live defaults and maxima.
    pub ttl: TtlPolicy,
}

#[allow(missing_docs, reason = "accessors of the fields documented on PurchaseSpec")]
impl PurchaseSpec {
    pub fn zone(&self) -> &Zone {
        &self.zone
    }
    pub fn region(&self) -> &str {
        self.zone.region()
    }
    pub fn instance_type(&self) -> &InstanceType {
        &self.instance_type
    }
    pub fn image(&self) -> &ResourceId {
        &self.image
    }
    pub fn billing(&self) -> &BillingMode {
        &self.billing
    }
    pub fn count(&self) -> u32 {
        self.count
    }
    pub fn system_disk(&self) -> &Disk {
        &self.system_disk
    }
    pub fn data_disks(&self) -> &[Disk] {
        &self.data_disks
    }
    pub fn bandwidth(&self) -> &Bandwidth {
        &self.bandwidth
    }
    pub fn network(&self) -> Option<&Network> {
        self.network.as_ref()
    }
    pub fn security_groups(&self) -> &[ResourceId] {
        &self.security_groups
    }
    pub fn key_ids(&self) -> &[ResourceId] {
        &self.key_ids
    }
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    pub fn tags(&self) -> &BTreeMap<String, String> {
        &self.tags
    }
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    pub fn preset(&self) -> Option<&str> {
        self.preset.as_deref()
    }
    /// How long to keep retrying a spot purchase that finds no stock or a market above the bid.
    pub fn keep_trying(&self) -> Option<Duration> {
        self.keep_trying_secs.map(Duration::from_secs)
    }
    /// How long after the purchase the servers are released automatically.
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl_secs.map(Duration::from_secs)
    }

    /// The same servers in another zone or of another type (a fleet's fallback placement).
    pub fn placed(&self, zone: Zone, instance_type: InstanceType) -> PurchaseSpec {
        PurchaseSpec {
            zone,
            instance_type,
            ..self.clone()
        }
    }
}

impl PurchaseSpec {
    /// Parses a form, filling what it leaves out from its preset. Returns every problem at once.
    pub fn parse(form: &PurchaseForm, context: &ParseContext) -> Result<PurchaseSpec, SpecErrors> {
        let mut errors = Vec::new();
        let filled = form.with_preset(context, &mut errors);
        let mut p = FieldParser { form: &filled, errors };
        let spec = p.spec(context);
        match spec {
            Some(spec) if p.errors.is_empty() => Ok(spec),
            _ => Err(SpecErrors(p.errors)),
        }
    }
}

struct FieldParser<'a> {
    form: &'a PurchaseForm,
    errors: Vec<FieldError>,
}

impl FieldParser<'_> {
    fn fail(&mut self, field: &str, problem: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            problem: problem.into(),
        });
    }

    fn required<T>(&mut self, field: &str, what: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        match self.form.get(field) {
            Some(text) => self.parsed(field, text, parse),
            None => {
                self.fail(field, format!("required: {what}"));
                None
            }
        }
    }

    fn optional<T>(&mut self, field: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<Option<T>> {
        match self.form.get(field) {
            Some(text) => self.parsed(field, text, parse).map(Some),
            None => Some(None),
        }
    }

    fn parsed<T>(&mut self, field: &str, text: &str, parse: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        match parse(text) {
            Ok(value) => Some(value),
            Err(problem) => {
                self.fail(field, problem);
                None
            }
        }
    }

    fn spec(&mut self, context: &ParseContext) -> Option<PurchaseSpec> {
        let kind = self.form.kind();
        let zone = self.required("zone", "a zone such as ap-guangzhou-3", Zone::parse);
        let instance_type = self.required("type", "an instance type such as S5.MEDIUM4", InstanceType::parse);
        let image = self.required("image", "an image id such as img-l8og963d", |t| {
            ResourceId::parse(t, "img", "an image id")
        });
        let billing = self.billing(kind);
        let count = self
            .optional("count", |t| number_in(t, 1, MAX_COUNT))
            .map(|c| c.unwrap_or(1));
        let system_disk = self.system_disk();
        let data_disks = self
            .optional("data-disks", parse_data_disks)
            .map(Option::unwrap_or_default);
        let bandwidth = self.bandwidth(kind);
        let network = self.network();
        let security_groups = self
            .optional("security-groups", |t| id_list(t, "sg", "a security group id", 5))
            .map(Option::unwrap_or_default);
        let key_ids = self
            .optional("key-ids", |t| id_list(t, "skey", "a key pair id", 10))
            .map(Option::unwrap_or_default);
        let name = self.optional("name", parse_name);
        let tags = self.optional("tags", parse_tags).map(Option::unwrap_or_default);
        let reason = self.optional("reason", parse_reason);
        let keep_trying = self.keep_trying(kind, context.keep_trying_default);
        let ttl = match context.ttl.choose(kind, self.form.get("ttl")) {
            Ok(ttl) => Some(ttl),
            Err(problem) => {
                self.fail("ttl", problem);
                None
            }
        };
        Some(PurchaseSpec {
            zone: zone?,
            instance_type: instance_type?,
            image: image?,
            billing: billing?,
            count: count?,
            system_disk: system_disk?,
            data_disks: data_disks?,
            bandwidth: bandwidth?,
            network: network?,
            security_groups: security_groups?,
            key_ids: key_ids?,
            name: name?,
            tags: tags?,
            reason: reason?,
            keep_trying_secs: keep_trying?.map(|d| d.as_secs()),
            preset: self.form.preset().map(str::to_owned),
            ttl_secs: ttl?.map(|d| d.as_secs()),
        })
    }

    fn billing(&mut self, kind: BillingKind) -> Option<BillingMode> {
        for (field, applies) in [("max-price", BillingKind::Spot), ("months", BillingKind::Prepaid)] {
            if kind != applies && self.form.get(field).is_some() {
                self.fail(field, format!("applies only to `/cvm buy {}`", applies.command()));
            }
        }
        if kind != BillingKind::Prepaid && self.form.get("renew").is_some() {
            self.fail("renew", "applies only to `/cvm buy prepaid`");
        }
        match kind {
            BillingKind::PayAsYouGo => Some(BillingMode::PayAsYouGo),
            BillingKind::Spot => {
                let max_price = self.required(
                    "max-price",
                    "the highest price per instance-hour in CNY, such as 0.6",
                    parse_bid,
                )?;
                Some(BillingMode::Spot { max_price })
            }
            BillingKind::Prepaid => {
                let months = self.required("months", "1–12, 24, 36, 48 or 60", parse_months);
                let auto_renew = self.optional("renew", parse_bool).map(|r| r.unwrap_or(false));
                Some(BillingMode::Prepaid {
                    months: months?,
                    auto_renew: auto_renew?,
                })
            }
        }
    }

    fn system_disk(&mut self) -> Option<Disk> {
        let disk_type = self
            .optional("disk-type", parse_disk_type)
            .map(|t| t.unwrap_or_else(|| "CLOUD_PREMIUM".into()));
        let size = self
            .optional("disk-size", |t| number_in(t, 20, 1024))
            .map(|s| s.unwrap_or(50));
        Some(Disk {
            disk_type: disk_type?,
            size_gib: size?,
        })
    }

    fn bandwidth(&mut self, kind: BillingKind) -> Option<Bandwidth> {
        let mbps = self
            .optional("bandwidth", |t| number_in(t, 0, 1000))
            .map(|m| m.unwrap_or(0));
        let charge = self.optional("bandwidth-charge", |t| one_of(t, BANDWIDTH_CHARGES))?;
        let charge = charge.unwrap_or_else(|| match kind {
            BillingKind::Prepaid => "BANDWIDTH_PREPAID".to_owned(),
            _ => "BANDWIDTH_POSTPAID_BY_HOUR".to_owned(),
        });
        if charge == "BANDWIDTH_PREPAID" && kind != BillingKind::Prepaid {
            let allowed = "BANDWIDTH_POSTPAID_BY_HOUR, TRAFFIC_POSTPAID_BY_HOUR or BANDWIDTH_PACKAGE";
            self.fail(
                "bandwidth-charge",
                format!("BANDWIDTH_PREPAID needs prepaid billing; use {allowed}"),
            );
            return None;
        }
        Some(Bandwidth { mbps: mbps?, charge })
    }

    fn network(&mut self) -> Option<Option<Network>> {
        let vpc = self.optional("vpc", |t| default_or_id(t, "vpc", "a VPC id"))?;
        let subnet = self.optional("subnet", |t| default_or_id(t, "subnet", "a subnet id"))?;
        match (vpc, subnet) {
            (Some(vpc), Some(subnet)) => Some(Some(Network { vpc, subnet })),
            (None, None) => Some(None),
            (Some(_), None) => {
                self.fail(
                    "subnet",
                    "required with `vpc`: a subnet id such as subnet-1a2b3c4d, or DEFAULT",
                );
                None
            }
            (None, Some(_)) => {
                self.fail(
                    "vpc",
                    "required with `subnet`: a VPC id such as vpc-1a2b3c4d, or DEFAULT",
                );
                None
            }
        }
    }

    fn keep_trying(&mut self, kind: BillingKind, default: Duration) -> Option<Option<Duration>> {
        let Some(text) = self.form.get("keep-trying") else {
            return Some(None);
        };
        if kind != BillingKind::Spot {
            self.fail("keep-trying", "applies only to `/cvm buy spot`");
            return None;
        }
        if let Ok(flag) = parse_bool(text) {
            return Some(flag.then_some(default));
        }
        match crate::domain::duration::parse_duration(text) {
            Ok(d) if d > Duration::ZERO && d <= Duration::from_secs(7 * 86_400) => Some(Some(d)),
            _ => {
                self.fail(
                    "keep-trying",
                    format!("`{text}` is not true, false or a duration up to 7d such as 6h"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
mod tests;
