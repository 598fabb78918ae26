//! RunInstances / InquiryPriceRunInstances input checked the way CVM checks it, in order, with
//! the real error codes; what passes becomes an [`Order`].

use super::checks::{check_disks, check_internet, check_login, check_tags, check_vpc};
use super::{ApiFailure, fail, well_formed_id};
use crate::catalogue::Catalogue;
use crate::config::{ImageConfig, InstanceTypeConfig};
use crate::world::instance::Disk;
use cvmbot_tencent::cvm::RunInstancesRequest;
use cvmbot_tencent::enums::{ChargeType, InternetChargeType, RenewFlag};
use rust_decimal::Decimal;

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
    /// `HostName` as asked for (a pattern), checked against the image's platform.
    pub host_name: Option<String>,
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
    if let Some(pattern) = &request.host_name {
        super::hostname::check(pattern, count, is_windows(&image))?;
    }
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
        host_name: request.host_name.clone(),
        tags,
        client_token: request.client_token.clone(),
        dry_run: request.dry_run.unwrap_or(false),
        vpc_id,
        subnet_id,
        security_group_ids: request.security_group_ids.clone().unwrap_or_default(),
        key_ids,
    })
}

/// True for a Windows image (its host names follow Windows' rules).
pub fn is_windows(image: &ImageConfig) -> bool {
    image.platform.eq_ignore_ascii_case("Windows")
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
