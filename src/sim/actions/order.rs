//! RunInstances / InquiryPriceRunInstances input checked the way CVM checks it, in order, with
//! the real error codes; what passes becomes an [`Order`].

use super::{ApiFailure, fail, well_formed_id};
use crate::sim::catalogue::Catalogue;
use crate::sim::config::{ImageConfig, InstanceTypeConfig};
use crate::sim::world::instance::Disk;
use crate::tencent::cvm::RunInstancesRequest;
use crate::tencent::enums::{ChargeType, InternetChargeType, RenewFlag};
use rust_decimal::Decimal;
use std::collections::HashSet;

/// Prepaid periods CVM sells, in months.
pub const PERIODS: &[i64] = &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 24, 36, 48, 60];

/// A purchase that passed every format and catalogue check.
#[derive(Clone, Debug)]
pub struct Order {
    pub zone: String,
    pub zone_id: String,
    pub kind: InstanceTypeConfig,
    pub image: ImageConfig,
    pub charge: ChargeType,
    /// Months, for PREPAID.
    pub period: Option<i64>,
    pub renew_flag: Option<String>,
    /// The spot bid; `None`: the market price at purchase.
    pub max_price: Option<Decimal>,
    pub system_disk: Disk,
    pub data_disks: Vec<Disk>,
    pub bandwidth: i64,
    pub internet_charge_type: InternetChargeType,
    pub public_ip: bool,
    pub count: i64,
    pub min_count: Option<i64>,
    pub name: Option<String>,
    pub tags: Vec<(String, String)>,
    pub client_token: Option<String>,
    pub dry_run: bool,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    pub key_ids: Vec<String>,
}

/// Checks `request` for `region`. `max_count` is 500 for RunInstances and 100 for inquiries.
pub fn parse_order(
    cat: &Catalogue,
    region: &str,
    request: &RunInstancesRequest,
    max_count: i64,
) -> Result<Order, ApiFailure> {
    let zone_name = request.placement.as_ref().map(|p| p.zone.trim()).unwrap_or_default();
    if zone_name.is_empty() {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `Placement.Zone`.",
        ));
    }
    let image_id = request.image_id.as_deref().unwrap_or_default();
    if image_id.is_empty() {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `ImageId`.",
        ));
    }
    if let Some(token) = &request.client_token
        && token.len() > 64
    {
        return Err(fail(
            "InvalidClientToken.TooLong",
            "ClientToken must be at most 64 bytes.",
        ));
    }
    if let Some(name) = &request.instance_name
        && name.chars().count() > 60
    {
        return Err(fail(
            "InvalidInstanceName.TooLong",
            "InstanceName must be at most 60 characters.",
        ));
    }
    let charge = request
        .instance_charge_type
        .clone()
        .unwrap_or(ChargeType::PostpaidByHour);
    match &charge {
        ChargeType::Prepaid | ChargeType::PostpaidByHour | ChargeType::SpotPaid => {}
        ChargeType::CdhPaid | ChargeType::CdcPaid => {
            return Err(fail(
                "InvalidParameterCombination",
                format!("InstanceChargeType {charge} needs a dedicated host or cluster, and none exists."),
            ));
        }
        ChargeType::Unknown(other) => {
            return Err(fail(
                "InvalidParameterValue",
                format!("InstanceChargeType `{other}` is not valid."),
            ));
        }
    }
    let count = request.instance_count.unwrap_or(1);
    if !(1..=max_count).contains(&count) {
        return Err(fail(
            "InvalidParameterValue.Range",
            format!("InstanceCount must be between 1 and {max_count}."),
        ));
    }
    if let Some(min) = request.min_count
        && !(1..=count).contains(&min)
    {
        return Err(fail(
            "InvalidParameterValue.InvalidParameterMinCount",
            "MinCount must be a positive integer no greater than InstanceCount.",
        ));
    }
    let zone = check_zone(cat, region, zone_name)?;
    let kind = check_type(cat, zone_name, request.instance_type.as_deref())?;
    let image = check_image(cat, image_id, &kind)?;
    let (period, renew_flag) = check_prepaid(&charge, request)?;
    let max_price = check_spot(cat, region, &charge, &kind, request)?;
    let (system_disk, data_disks) = check_disks(cat, request)?;
    let (bandwidth, internet_charge_type, public_ip) = check_internet(cat, &charge, request)?;
    let key_ids = check_login(request)?;
    let tags = check_tags(request)?;
    let (vpc_id, subnet_id) = check_vpc(request)?;
    if let Some(data) = &request.user_data
        && (data.len() > 16 * 1024 || !data.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)))
    {
        return Err(fail(
            "InvalidParameterValue.InvalidUserDataFormat",
            "UserData must be base64, at most 16 KB.",
        ));
    }
    Ok(Order {
        zone: zone_name.to_owned(),
        zone_id: zone,
        kind,
        image,
        charge,
        period,
        renew_flag,
        max_price,
        system_disk,
        data_disks,
        bandwidth,
        internet_charge_type,
        public_ip,
        count,
        min_count: request.min_count,
        name: request.instance_name.clone(),
        tags,
        client_token: request.client_token.clone(),
        dry_run: request.dry_run.unwrap_or(false),
        vpc_id,
        subnet_id,
        security_group_ids: request.security_group_ids.clone().unwrap_or_default(),
        key_ids,
    })
}

fn check_zone(cat: &Catalogue, region: &str, zone: &str) -> Result<String, ApiFailure> {
    match cat.zone(zone) {
        Some(found) if found.region != region => Err(fail(
            "InvalidZone.MismatchRegion",
            format!("The zone `{zone}` does not belong to the region `{region}`."),
        )),
        Some(found) if found.zone.state != "AVAILABLE" => Err(fail(
            "InvalidParameterValue.ZoneNotSupported",
            format!("The zone `{zone}` is not available."),
        )),
        Some(found) => Ok(found.zone.zone_id.clone()),
        None if zone.starts_with(&format!("{region}-")) => Err(fail(
            "InvalidParameterValue.ZoneNotSupported",
            format!("The zone `{zone}` is not supported."),
        )),
        None => Err(fail(
            "InvalidZone.MismatchRegion",
            format!("The zone `{zone}` does not exist in `{region}`."),
        )),
    }
}

/// True for `FAMILY.SIZE` in capitals and digits, e.g. `S5.MEDIUM4`.
pub fn well_formed_type(name: &str) -> bool {
    let ok = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    name.split_once('.')
        .is_some_and(|(family, size)| ok(family) && ok(size) && family.as_bytes()[0].is_ascii_uppercase())
}

fn check_type(cat: &Catalogue, zone: &str, name: Option<&str>) -> Result<InstanceTypeConfig, ApiFailure> {
    let Some(name) = name else {
        // CVM picks a type when none is named: the first one the zone sells.
        return cat.types_in_zone(zone).next().cloned().ok_or_else(|| {
            fail(
                "ResourceInsufficient.AvailabilityZoneSoldOut",
                format!("The zone `{zone}` sells nothing."),
            )
        });
    };
    if !well_formed_type(name) {
        return Err(fail(
            "InvalidInstanceType.Malformed",
            format!("`{name}` is not an instance type."),
        ));
    }
    let Some(kind) = cat.instance_type(name) else {
        return Err(fail(
            "InvalidParameterValue.InstanceTypeNotFound",
            format!("The instance type `{name}` does not exist."),
        ));
    };
    if !cat.sells(zone, name) {
        return Err(fail(
            "ResourceUnavailable.InstanceType",
            format!("The zone `{zone}` does not sell `{name}`."),
        ));
    }
    Ok(kind.clone())
}

fn check_image(cat: &Catalogue, id: &str, kind: &InstanceTypeConfig) -> Result<ImageConfig, ApiFailure> {
    if !well_formed_id(id, "img") {
        return Err(fail("InvalidImageId.Malformed", format!("`{id}` is not an image id.")));
    }
    let image = cat
        .image(id)
        .ok_or_else(|| fail("InvalidImageId.NotFound", format!("The image `{id}` does not exist.")))?;
    if !Catalogue::image_fits(image, kind) {
        return Err(fail(
            "InvalidParameterValue.InvalidImageForGivenInstanceType",
            format!("The image `{id}` does not run on `{}`.", kind.instance_type),
        ));
    }
    Ok(image.clone())
}

fn check_prepaid(
    charge: &ChargeType,
    request: &RunInstancesRequest,
) -> Result<(Option<i64>, Option<String>), ApiFailure> {
    if *charge != ChargeType::Prepaid {
        return Ok((None, None));
    }
    let Some(prepaid) = &request.instance_charge_prepaid else {
        return Err(fail(
            "MissingParameter",
            "PREPAID needs `InstanceChargePrepaid.Period`.",
        ));
    };
    if !PERIODS.contains(&prepaid.period) {
        return Err(fail(
            "InvalidPeriod",
            format!(
                "Period {} is not sold; choose 1-12, 24, 36, 48 or 60 months.",
                prepaid.period
            ),
        ));
    }
    let flag = prepaid.renew_flag.clone().unwrap_or(RenewFlag::NotifyAndManualRenew);
    if let RenewFlag::Unknown(other) = &flag {
        return Err(fail(
            "InvalidParameterValue",
            format!("RenewFlag `{other}` is not valid."),
        ));
    }
    Ok((Some(prepaid.period), Some(flag.to_string())))
}

fn check_spot(
    cat: &Catalogue,
    region: &str,
    charge: &ChargeType,
    kind: &InstanceTypeConfig,
    request: &RunInstancesRequest,
) -> Result<Option<Decimal>, ApiFailure> {
    let options = request.instance_market_options.as_ref();
    if *charge != ChargeType::SpotPaid {
        if options.is_some() {
            return Err(fail(
                "InvalidParameterCombination",
                "InstanceMarketOptions needs InstanceChargeType SPOTPAID.",
            ));
        }
        return Ok(None);
    }
    if !cat.region(region).is_some_and(|r| r.spot) {
        return Err(fail(
            "UnsupportedOperation.SpotUnsupportedRegion",
            format!("`{region}` sells no spot instances."),
        ));
    }
    if !kind.spot {
        return Err(fail(
            "UnsupportedOperation.NoInstanceTypeSupportSpot",
            format!("`{}` is not sold as spot.", kind.instance_type),
        ));
    }
    let Some(options) = options else {
        return Ok(None);
    };
    if options.market_type.as_deref().is_some_and(|m| m != "spot") {
        return Err(fail("InvalidParameterValue", "MarketType must be `spot`."));
    }
    let spot = &options.spot_options;
    if spot.spot_instance_type.as_deref().is_some_and(|t| t != "one-time") {
        return Err(fail("InvalidParameterValue", "SpotInstanceType must be `one-time`."));
    }
    if spot.max_price.trim().is_empty() {
        return Ok(None);
    }
    match spot.max_price.trim().parse::<Decimal>() {
        Ok(price) if price > Decimal::ZERO => Ok(Some(price)),
        _ => Err(fail(
            "InvalidParameterValue",
            format!("MaxPrice `{}` is not a positive price.", spot.max_price),
        )),
    }
}

fn check_disks(cat: &Catalogue, request: &RunInstancesRequest) -> Result<(Disk, Vec<Disk>), ApiFailure> {
    let sold = |name: &str| {
        cat.disk(name).ok_or_else(|| {
            fail(
                "UnsupportedOperation.InvalidDisk",
                format!("Disk type `{name}` is not sold."),
            )
        })
    };
    let system = request.system_disk.clone().unwrap_or_default();
    let system_type = system.disk_type.map_or("CLOUD_PREMIUM".to_owned(), |t| t.to_string());
    sold(&system_type)?;
    let system_size = system.disk_size.unwrap_or(50);
    if !(20..=1024).contains(&system_size) {
        return Err(fail(
            "InvalidParameterValue.Range",
            "SystemDisk.DiskSize must be between 20 and 1024 GiB.",
        ));
    }
    let data = request.data_disks.clone().unwrap_or_default();
    if data.len() > 21 {
        return Err(fail(
            "InvalidParameterValue.LimitExceeded",
            "At most 21 data disks are allowed.",
        ));
    }
    let mut disks = Vec::new();
    for disk in data {
        let disk_type = disk.disk_type.map_or("CLOUD_PREMIUM".to_owned(), |t| t.to_string());
        let price = sold(&disk_type)?;
        if disk_type == "CLOUD_SSD" && disk.disk_size < 100 {
            return Err(fail(
                "InvalidParameterValue.CloudSsdDataDiskSizeTooSmall",
                "A CLOUD_SSD data disk must be at least 100 GiB.",
            ));
        }
        if !(price.min_data_gb..=price.max_data_gb).contains(&disk.disk_size) {
            return Err(fail(
                "InvalidParameterValue.Range",
                format!(
                    "A {disk_type} data disk must be {}-{} GiB.",
                    price.min_data_gb, price.max_data_gb
                ),
            ));
        }
        disks.push(Disk {
            disk_type,
            size: disk.disk_size,
            delete_with_instance: disk.delete_with_instance.unwrap_or(true),
        });
    }
    let system = Disk {
        disk_type: system_type,
        size: system_size,
        delete_with_instance: true,
    };
    Ok((system, disks))
}

fn check_internet(
    cat: &Catalogue,
    charge: &ChargeType,
    request: &RunInstancesRequest,
) -> Result<(i64, InternetChargeType, bool), ApiFailure> {
    let internet = request.internet_accessible.clone().unwrap_or_default();
    let bandwidth = internet.internet_max_bandwidth_out.unwrap_or(0);
    let max = cat.config.pricing.bandwidth.max_mbps;
    if !(0..=max).contains(&bandwidth) {
        return Err(fail(
            "InvalidParameterValue.Range",
            format!("InternetMaxBandwidthOut must be 0-{max} Mbps."),
        ));
    }
    let default_type = if *charge == ChargeType::Prepaid {
        InternetChargeType::BandwidthPrepaid
    } else {
        InternetChargeType::BandwidthPostpaidByHour
    };
    let kind = internet.internet_charge_type.unwrap_or(default_type);
    match &kind {
        InternetChargeType::BandwidthPrepaid if *charge != ChargeType::Prepaid => {
            return Err(fail(
                "InvalidParameterCombination",
                "BANDWIDTH_PREPAID is sold only with PREPAID instances.",
            ));
        }
        InternetChargeType::BandwidthPackage => {
            return Err(fail(
                "InvalidParameterValue.BandwidthPackageIdNotFound",
                "No bandwidth package exists in this account.",
            ));
        }
        InternetChargeType::Unknown(other) => {
            return Err(fail(
                "InvalidParameterValue",
                format!("InternetChargeType `{other}` is not valid."),
            ));
        }
        _ => {}
    }
    let public_ip = internet.public_ip_assigned.unwrap_or(bandwidth > 0);
    if public_ip && bandwidth == 0 {
        return Err(fail(
            "InvalidParameterCombination",
            "A public IP needs InternetMaxBandwidthOut above 0.",
        ));
    }
    Ok((bandwidth, kind, public_ip))
}

fn check_login(request: &RunInstancesRequest) -> Result<Vec<String>, ApiFailure> {
    let Some(login) = &request.login_settings else {
        return Ok(Vec::new());
    };
    let keys = login.key_ids.clone().unwrap_or_default();
    let keep = login
        .keep_image_login
        .as_deref()
        .is_some_and(|k| k.eq_ignore_ascii_case("true"));
    let given = [login.password.is_some(), !keys.is_empty(), keep];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(fail(
            "InvalidParameter.ParameterConflict",
            "Password, KeyIds and KeepImageLogin exclude each other.",
        ));
    }
    if let Some(bad) = keys.iter().find(|k| !well_formed_id(k, "skey")) {
        return Err(fail(
            "InvalidKeyPairId.Malformed",
            format!("`{bad}` is not a key pair id."),
        ));
    }
    if let Some(password) = &login.password {
        let classes = [
            password.bytes().any(|b| b.is_ascii_lowercase()),
            password.bytes().any(|b| b.is_ascii_uppercase()),
            password.bytes().any(|b| b.is_ascii_digit()),
            password.bytes().any(|b| b.is_ascii_punctuation()),
        ];
        if !(8..=30).contains(&password.len()) || classes.iter().filter(|c| **c).count() < 3 {
            return Err(fail(
                "InvalidPassword",
                "The password must be 8-30 characters with at least three of: lower case, upper case, digits, symbols.",
            ));
        }
    }
    Ok(keys)
}

fn check_tags(request: &RunInstancesRequest) -> Result<Vec<(String, String)>, ApiFailure> {
    let mut tags = Vec::new();
    let mut keys = HashSet::new();
    for spec in request.tag_specification.iter().flatten() {
        if spec.resource_type != "instance" {
            continue;
        }
        for tag in &spec.tags {
            if !keys.insert(tag.key.clone()) {
                return Err(fail(
                    "InvalidParameterValue.DuplicateTags",
                    format!("The tag key `{}` is repeated.", tag.key),
                ));
            }
            tags.push((tag.key.clone(), tag.value.clone()));
        }
    }
    Ok(tags)
}

fn check_vpc(request: &RunInstancesRequest) -> Result<(Option<String>, Option<String>), ApiFailure> {
    let Some(vpc) = &request.virtual_private_cloud else {
        return Ok((None, None));
    };
    if vpc.vpc_id == "DEFAULT" && vpc.subnet_id == "DEFAULT" {
        return Ok((None, None));
    }
    if !well_formed_id(&vpc.vpc_id, "vpc") {
        return Err(fail(
            "InvalidParameterValue.VpcIdMalformed",
            format!("`{}` is not a VPC id.", vpc.vpc_id),
        ));
    }
    if !well_formed_id(&vpc.subnet_id, "subnet") {
        return Err(fail(
            "InvalidParameterValue.SubnetIdMalformed",
            format!("`{}` is not a subnet id.", vpc.subnet_id),
        ));
    }
    Ok((Some(vpc.vpc_id.clone()), Some(vpc.subnet_id.clone())))
}
