//! The catalogue part of the settings: accounts, regions and zones, instance types, stock,
//! images and the prices of disks and bandwidth.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Disk and bandwidth prices in yuan.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PricingConfig {
    /// Disk types on sale.
    pub disks: Vec<DiskPrice>,
    /// Public bandwidth.
    pub bandwidth: BandwidthPrice,
    /// Discount by prepaid period; periods not listed pay the list price.
    pub prepaid_discounts: Vec<PeriodDiscount>,
}

/// One disk type.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiskPrice {
    /// `CLOUD_PREMIUM`, `CLOUD_SSD`, …
    pub disk_type: String,
    /// Prepaid price per GiB-month.
    pub monthly_per_gb: Decimal,
    /// Pay-as-you-go price per GiB-hour.
    pub hourly_per_gb: Decimal,
    /// Smallest data disk, GiB.
    pub min_data_gb: i64,
    /// Largest data disk, GiB.
    pub max_data_gb: i64,
}

/// Bandwidth prices: up to `tier_mbps` at the first price, the rest at the `_above` price.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BandwidthPrice {
    /// Where the second price starts.
    pub tier_mbps: i64,
    /// BANDWIDTH_POSTPAID_BY_HOUR per Mbps-hour.
    pub hourly_per_mbps: Decimal,
    /// The same above the tier.
    pub hourly_per_mbps_above: Decimal,
    /// BANDWIDTH_PREPAID per Mbps-month.
    pub monthly_per_mbps: Decimal,
    /// The same above the tier.
    pub monthly_per_mbps_above: Decimal,
    /// TRAFFIC_POSTPAID_BY_HOUR per GB.
    pub traffic_per_gb: Decimal,
    /// Largest InternetMaxBandwidthOut accepted.
    pub max_mbps: i64,
}

/// A prepaid discount: DiscountPrice = OriginalPrice × ratio.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodDiscount {
    /// Months.
    pub months: i64,
    /// Fraction paid, e.g. 0.83.
    pub ratio: Decimal,
}

/// An API key and the account behind it. Amounts in fen.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// `AKID…`.
    pub secret_id: String,
    /// The signing key.
    pub secret_key: String,
    /// Required `X-TC-Token` (temporary credentials), if any.
    #[serde(default)]
    pub token: Option<String>,
    /// The account id.
    pub uin: u64,
    /// Starting cash balance, fen.
    #[serde(default)]
    pub cash_fen: i64,
    /// Credit limit, fen (a credit account spends RealCreditBalance).
    #[serde(default)]
    pub credit_amount_fen: i64,
    /// `IsAllowArrears`.
    #[serde(default)]
    pub allow_arrears: bool,
}

/// A region.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// `ap-guangzhou`.
    pub region: String,
    /// Whether spot instances are sold here.
    #[serde(default = "yes")]
    pub spot: bool,
    /// Its zones.
    pub zones: Vec<ZoneConfig>,
}

/// An availability zone.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// `ap-guangzhou-3`.
    pub zone: String,
    /// `Guangzhou Zone 3`.
    pub name: String,
    /// `100003`.
    pub zone_id: String,
    /// `AVAILABLE` or `UNAVAILABLE`.
    #[serde(default = "available")]
    pub state: String,
}

/// An instance type, its prices (yuan) and its stock in every zone that sells it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceTypeConfig {
    /// `S5.MEDIUM4`.
    pub instance_type: String,
    /// `S5`.
    pub family: String,
    /// `Standard S5`.
    pub type_name: String,
    /// vCPUs.
    pub cpu: i64,
    /// GiB.
    pub memory: i64,
    /// Pay-as-you-go price per hour.
    pub hourly: Decimal,
    /// Prepaid list price per month.
    pub monthly: Decimal,
    /// Whether it is sold as spot.
    #[serde(default = "yes")]
    pub spot: bool,
    /// Zones that sell it; empty: every zone.
    #[serde(default)]
    pub zones: Vec<String>,
    /// Instances that can still be created per zone (PREPAID and POSTPAID_BY_HOUR share it).
    pub stock: u32,
    /// Spot instances that can still be created per zone.
    pub spot_stock: u32,
}

/// Stock of one zone × type, replacing the type's per-zone default.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StockOverride {
    /// Zone.
    pub zone: String,
    /// Instance type.
    pub instance_type: String,
    /// Regular stock.
    pub stock: u32,
    /// Spot stock.
    pub spot_stock: u32,
}

/// A public image.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageConfig {
    /// `img-xxxxxxxx`.
    pub image_id: String,
    /// `ImageName`.
    pub image_name: String,
    /// `OsName`.
    pub os_name: String,
    /// `Platform`: CentOS, Ubuntu, Windows, …
    pub platform: String,
    /// `x86_64` or `arm`.
    pub architecture: String,
    /// GiB.
    pub image_size: i64,
    /// `DefaultLoginUser` of instances made from it.
    pub default_login_user: String,
    /// `CreatedTime`, RFC 3339.
    pub created_time: String,
    /// Instance families it runs on; empty: all.
    #[serde(default)]
    pub families: Vec<String>,
}

fn yes() -> bool {
    true
}

fn available() -> String {
    "AVAILABLE".into()
}
