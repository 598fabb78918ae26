//! DescribeZones, DescribeZoneInstanceConfigInfos and DescribeImages, computed from the catalogue
//! and the live stock and spot prices.

use super::price::hourly_quote;
use super::{ApiFailure, Ctx, check_filters, fail, output, paging, well_formed_id};
use crate::catalogue::Catalogue;
use crate::config::InstanceTypeConfig;
use crate::world::World;
use cvmbot_tencent::cvm::{
    DescribeImagesRequest, DescribeZonesResponse, Filter, FiltersRequest, Image, InstanceTypeQuotaItem, ItemPrice,
    ZoneInfo,
};
use cvmbot_tencent::enums::ChargeType;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Stock at or below which a type shows as `UnderStock`.
pub const UNDER_STOCK: u32 = 10;
/// Stock at or below which a type shows as `NormalStock` (above it: `EnoughStock`).
pub const NORMAL_STOCK: u32 = 100;

/// DescribeZones of the request's region.
pub fn describe_zones(world: &mut World, ctx: &Ctx) -> Result<Value, ApiFailure> {
    let zones: Vec<ZoneInfo> = world
        .cat
        .region(&ctx.region)
        .map(|r| r.zones.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|z| ZoneInfo {
            zone: z.zone.clone(),
            zone_name: z.name.clone(),
            zone_id: z.zone_id.clone(),
            zone_state: z.state.clone(),
        })
        .collect();
    output(&DescribeZonesResponse {
        total_count: zones.len() as i64,
        zone_set: zones,
    })
}

/// `Status` and `StatusCategory` of a remaining stock.
pub fn stock_status(left: u32) -> (&'static str, &'static str) {
    match left {
        0 => ("SOLD_OUT", "WithoutStock"),
        n if n <= UNDER_STOCK => ("SELL", "UnderStock"),
        n if n <= NORMAL_STOCK => ("SELL", "NormalStock"),
        _ => ("SELL", "EnoughStock"),
    }
}

/// DescribeZoneInstanceConfigInfos with the filters zone, instance-family, instance-type,
/// instance-charge-type and sort-keys.
pub fn describe_zone_instance_config_infos(
    world: &mut World,
    ctx: &Ctx,
    request: FiltersRequest,
) -> Result<Value, ApiFailure> {
    let filters = request.filters.unwrap_or_default();
    check_filters(
        &filters,
        10,
        100,
        &[
            "zone",
            "instance-family",
            "instance-type",
            "instance-charge-type",
            "sort-keys",
        ],
    )?;
    let values = |name: &str| -> Option<Vec<String>> {
        let lists: Vec<&Filter> = filters.iter().filter(|f| f.name == name).collect();
        (!lists.is_empty()).then(|| lists.iter().flat_map(|f| f.values.clone()).collect())
    };
    let allowed = |name: &str, value: &str| values(name).is_none_or(|v| v.iter().any(|x| x == value));
    let Some(region) = world.cat.region(&ctx.region) else {
        return Err(fail(
            "InvalidRegion.NotFound",
            format!("The region `{}` does not exist.", ctx.region),
        ));
    };
    for zone in values("zone").unwrap_or_default() {
        if !region.zones.iter().any(|z| z.zone == zone) {
            return Err(fail(
                "InvalidZone.MismatchRegion",
                format!("The zone `{zone}` is not in `{}`.", ctx.region),
            ));
        }
    }
    let mut items = Vec::new();
    for zone in &region.zones {
        for kind in world.cat.types_in_zone(&zone.zone) {
            let charges = [ChargeType::Prepaid, ChargeType::PostpaidByHour, ChargeType::SpotPaid];
            for charge in charges.into_iter().filter(|c| *c != ChargeType::SpotPaid || kind.spot) {
                if allowed("zone", &zone.zone)
                    && allowed("instance-family", &kind.family)
                    && allowed("instance-type", &kind.instance_type)
                    && allowed("instance-charge-type", charge.as_str())
                {
                    items.push(quota_item(world, &zone.zone, kind, charge));
                }
            }
        }
    }
    if let Some(keys) = values("sort-keys") {
        sort_items(&mut items, &keys)?;
    }
    Ok(json!({ "InstanceTypeQuotaSet": items.into_iter().map(with_extras).collect::<Vec<_>>() }))
}

fn quota_item(world: &World, zone: &str, kind: &InstanceTypeConfig, charge: ChargeType) -> InstanceTypeQuotaItem {
    let key = format!("{zone}/{}", kind.instance_type);
    let stock = world.stock.get(&key).copied();
    let left = stock.map_or(0, |s| {
        if charge == ChargeType::SpotPaid {
            s.spot
        } else {
            s.regular
        }
    });
    let (status, category) = stock_status(left);
    let price = match charge {
        ChargeType::Prepaid => ItemPrice {
            original_price: Some(kind.monthly),
            discount_price: Some(kind.monthly),
            discount: Some(Decimal::ONE_HUNDRED),
            ..ItemPrice::default()
        },
        ChargeType::SpotPaid => hourly_quote(kind.hourly, world.spot_price(&key), "HOUR"),
        _ => hourly_quote(kind.hourly, kind.hourly, "HOUR"),
    };
    InstanceTypeQuotaItem {
        zone: zone.to_owned(),
        instance_type: kind.instance_type.clone(),
        instance_charge_type: Some(charge),
        instance_family: Some(kind.family.clone()),
        type_name: Some(kind.type_name.clone()),
        cpu: kind.cpu,
        memory: kind.memory,
        status: status.into(),
        sold_out_reason: Some(if left == 0 {
            "ResourcesSoldOut.SpecifiedInstanceType".into()
        } else {
            String::new()
        }),
        status_category: Some(category.into()),
        price,
    }
}

fn with_extras(item: InstanceTypeQuotaItem) -> Value {
    let gpu = if item.instance_family.as_deref().is_some_and(|f| f.starts_with("GN")) {
        1
    } else {
        0
    };
    let mut value = serde_json::to_value(&item).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut value {
        for (key, extra) in [
            ("NetworkCard", json!(25)),
            ("Externals", json!({})),
            ("LocalDiskTypeList", json!([])),
            ("InstanceBandwidth", json!(1.5 * item.cpu as f64)),
            ("InstancePps", json!(30 * item.cpu)),
            ("StorageBlockAmount", json!(0)),
            ("CpuType", json!("Intel Xeon Cascade Lake 8255C")),
            ("Gpu", json!(gpu)),
            ("GpuCount", json!(gpu as f64)),
            ("Fpga", json!(0)),
            ("Remark", json!("")),
            ("Frequency", json!("2.5GHz/3.1GHz")),
        ] {
            map.insert(key.into(), extra);
        }
    }
    value
}

fn sort_items(items: &mut [InstanceTypeQuotaItem], keys: &[String]) -> Result<(), ApiFailure> {
    for key in keys.iter().rev() {
        let (field, order) = key.split_once(':').unwrap_or((key.as_str(), "asc"));
        let pick = |i: &InstanceTypeQuotaItem| match field {
            "cpu" => Some(i.cpu),
            "mem" => Some(i.memory),
            _ => None,
        };
        if pick(&items.first().cloned().unwrap_or_default()).is_none() && field != "cpu" && field != "mem" {
            return Err(fail(
                "InvalidParameterValue",
                format!("sort-keys `{key}` is not cpu or mem."),
            ));
        }
        items.sort_by_key(|i| pick(i).unwrap_or(0));
        if order == "desc" {
            items.reverse();
        }
    }
    Ok(())
}

/// DescribeImages: by ids, or filtered by image-id, image-type, image-name, platform; with
/// InstanceType only the images that run on it.
pub fn describe_images(world: &mut World, request: DescribeImagesRequest) -> Result<Value, ApiFailure> {
    let cat: &Catalogue = &world.cat;
    let ids = request.image_ids.unwrap_or_default();
    let filters = request.filters.unwrap_or_default();
    if !ids.is_empty() && !filters.is_empty() {
        return Err(fail(
            "InvalidParameter.InvalidParameterCoexistImageIdsFilters",
            "ImageIds and Filters cannot be used together.",
        ));
    }
    if let Some(bad) = ids.iter().find(|id| !well_formed_id(id, "img")) {
        return Err(fail("InvalidImageId.Malformed", format!("`{bad}` is not an image id.")));
    }
    check_filters(
        &filters,
        10,
        5,
        &[
            "image-id",
            "image-type",
            "image-name",
            "platform",
            "tag-key",
            "tag-value",
            "tag:",
        ],
    )?;
    if request.limit.is_some_and(|l| l > 100) {
        return Err(fail(
            "InvalidParameterValue.InvalidParameterValueLimit",
            "Limit must be at most 100.",
        ));
    }
    let (offset, limit) = paging(request.offset, request.limit)?;
    let kind = match request.instance_type.as_deref() {
        None => None,
        Some(name) if !super::order::well_formed_type(name) => {
            return Err(fail(
                "InvalidInstanceType.Malformed",
                format!("`{name}` is not an instance type."),
            ));
        }
        Some(name) => Some(cat.instance_type(name).ok_or_else(|| {
            fail(
                "InvalidParameterValue.InstanceTypeNotFound",
                format!("The instance type `{name}` does not exist."),
            )
        })?),
    };
    let matching: Vec<Image> = cat
        .images()
        .iter()
        .filter(|i| ids.is_empty() || ids.contains(&i.image_id))
        .filter(|i| kind.is_none_or(|k| Catalogue::image_fits(i, k)))
        .filter(|i| {
            filters.iter().all(|f| {
                let any = |pred: &dyn Fn(&str) -> bool| f.values.iter().any(|v| pred(v));
                match f.name.as_str() {
                    "image-id" => any(&|v| v == i.image_id),
                    "image-type" => any(&|v| v == "PUBLIC_IMAGE"),
                    "image-name" => any(&|v| i.image_name.contains(v)),
                    "platform" => any(&|v| i.platform.to_lowercase().contains(&v.to_lowercase())),
                    _ => false,
                }
            })
        })
        .map(|i| Image {
            image_id: i.image_id.clone(),
            os_name: Some(i.os_name.clone()),
            image_name: Some(i.image_name.clone()),
            image_type: Some("PUBLIC_IMAGE".into()),
            image_state: Some("NORMAL".into()),
            architecture: Some(i.architecture.clone()),
            platform: Some(i.platform.clone()),
            image_size: Some(i.image_size),
            created_time: Some(i.created_time.clone()),
        })
        .collect();
    let total = matching.len();
    let page: Vec<Image> = matching.into_iter().skip(offset).take(limit).collect();
    let mut value = output(&cvmbot_tencent::cvm::DescribeImagesResponse {
        total_count: total as i64,
        image_set: page,
    })?;
    if let Some(Value::Array(set)) = value.get_mut("ImageSet") {
        for image in set.iter_mut().filter_map(Value::as_object_mut) {
            // A public image describes itself by its OS and has finished copying to the region.
            let description = image.get("OsName").cloned().unwrap_or(Value::Null);
            image.insert("ImageDescription".into(), description);
            image.insert("SyncPercent".into(), json!(100));
            image.insert("ImageSource".into(), json!("OFFICIAL"));
            image.insert("ImageCreator".into(), json!("tencent"));
            image.insert("IsSupportCloudinit".into(), json!(true));
            image.insert("LicenseType".into(), json!("TencentCloud"));
            image.insert("Tags".into(), json!([]));
            image.insert("SnapshotSet".into(), json!([]));
        }
    }
    Ok(value)
}
