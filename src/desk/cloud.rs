//! Translation between the domain and Tencent's API: a spec becomes a RunInstances request, a
//! price answer becomes a quote, an error becomes an explanation with the facts that matter.

use crate::domain::{BillingKind, BillingMode, PurchaseSpec, Quote, RequestId};
use crate::money::Yuan;
use crate::tencent::cvm::{
    DataDisk, Filter, InstanceChargePrepaid, InstanceMarketOptions, InternetAccessible, ItemPrice, LoginSettings,
    Placement, Price, RunInstancesRequest, SpotMarketOptions, SystemDisk, Tag, TagSpecification, VirtualPrivateCloud,
};
use crate::tencent::enums::{ChargeType, DiskType, InternetChargeType, RenewFlag};
use crate::tencent::{ApiError, ErrorKind, TencentClient};
use rust_decimal::Decimal;

/// The RunInstances (or InquiryPriceRunInstances) request for `spec`. `request_id` tags the
/// instances with the cvmbot request and names them after it when the spec names nothing.
pub fn run_request(
    spec: &PurchaseSpec,
    request_id: Option<RequestId>,
    client_token: Option<String>,
) -> RunInstancesRequest {
    let kind = spec.billing().kind();
    let prepaid = match spec.billing() {
        BillingMode::Prepaid { months, auto_renew } => Some(InstanceChargePrepaid {
            period: i64::from(*months),
            renew_flag: Some(if *auto_renew {
                RenewFlag::NotifyAndAutoRenew
            } else {
                RenewFlag::NotifyAndManualRenew
            }),
        }),
        _ => None,
    };
    let market = match spec.billing() {
        BillingMode::Spot { max_price } => Some(InstanceMarketOptions {
            market_type: Some("spot".into()),
            spot_options: SpotMarketOptions {
                max_price: max_price.amount().normalize().to_string(),
                spot_instance_type: Some("one-time".into()),
            },
        }),
        _ => None,
    };
    let mut tags: Vec<Tag> = spec
        .tags()
        .iter()
        .map(|(k, v)| Tag {
            key: k.clone(),
            value: v.clone(),
        })
        .collect();
    if let Some(id) = request_id {
        tags.push(Tag {
            key: "cvmbot-request".into(),
            value: id.to_string(),
        });
    }
    let bandwidth = spec.bandwidth();
    RunInstancesRequest {
        instance_charge_type: Some(ChargeType::from(kind.charge_type().to_owned())),
        instance_charge_prepaid: prepaid,
        placement: Some(Placement {
            zone: spec.zone().as_str().to_owned(),
            project_id: None,
        }),
        instance_type: Some(spec.instance_type().as_str().to_owned()),
        image_id: Some(spec.image().as_str().to_owned()),
        system_disk: Some(SystemDisk {
            disk_type: Some(DiskType::from(spec.system_disk().disk_type.clone())),
            disk_size: Some(i64::from(spec.system_disk().size_gib)),
        }),
        data_disks: (!spec.data_disks().is_empty()).then(|| {
            spec.data_disks()
                .iter()
                .map(|d| DataDisk {
                    disk_size: i64::from(d.size_gib),
                    disk_type: Some(DiskType::from(d.disk_type.clone())),
                    delete_with_instance: Some(true),
                })
                .collect()
        }),
        virtual_private_cloud: spec.network().map(|n| VirtualPrivateCloud {
            vpc_id: n.vpc.clone(),
            subnet_id: n.subnet.clone(),
        }),
        internet_accessible: Some(InternetAccessible {
            internet_charge_type: Some(InternetChargeType::from(bandwidth.charge.clone())),
            internet_max_bandwidth_out: Some(i64::from(bandwidth.mbps)),
            public_ip_assigned: Some(bandwidth.mbps > 0),
        }),
        instance_count: Some(i64::from(spec.count())),
        instance_name: spec
            .name()
            .map(str::to_owned)
            .or_else(|| request_id.map(|id| format!("cvmbot-{id}"))),
        login_settings: (!spec.key_ids().is_empty()).then(|| LoginSettings {
            key_ids: Some(spec.key_ids().iter().map(|k| k.as_str().to_owned()).collect()),
            ..Default::default()
        }),
        security_group_ids: (!spec.security_groups().is_empty())
            .then(|| spec.security_groups().iter().map(|s| s.as_str().to_owned()).collect()),
        tag_specification: (!tags.is_empty()).then(|| {
            vec![TagSpecification {
                resource_type: "instance".into(),
                tags,
            }]
        }),
        instance_market_options: market,
        client_token,
        ..RunInstancesRequest::default()
    }
}

fn unit(price: Option<&ItemPrice>) -> Yuan {
    let price = price.and_then(|p| p.unit_price_discount.filter(|d| !d.is_zero()).or(p.unit_price));
    Yuan::new(price.unwrap_or(Decimal::ZERO))
}

fn hourly(price: Option<&ItemPrice>) -> Yuan {
    match price.and_then(|p| p.charge_unit.as_deref()) {
        Some("GB") => Yuan::ZERO,
        _ => unit(price),
    }
}

fn per_gb(price: Option<&ItemPrice>) -> Option<Yuan> {
    (price.and_then(|p| p.charge_unit.as_deref()) == Some("GB"))
        .then(|| unit(price))
        .filter(|p| *p > Yuan::ZERO)
}

fn total(price: Option<&ItemPrice>) -> Yuan {
    let amount = price.and_then(|p| p.discount_price.filter(|d| !d.is_zero()).or(p.original_price));
    Yuan::new(amount.unwrap_or(Decimal::ZERO))
}

/// The quote of a renewal for `months` from an InquiryPriceRenewInstances answer: the instances'
/// and their prepaid bandwidth's totals.
pub fn renewal_quote(price: &Price, months: u32) -> Quote {
    Quote::Prepaid {
        total: total(price.instance_price.as_ref()).plus(total(price.bandwidth_price.as_ref())),
        months,
        extra_per_hour: Yuan::ZERO,
        traffic_per_gb: None,
    }
}

/// The quote for `spec` from an InquiryPriceRunInstances answer, which prices the whole request
/// (every instance): hourly terms from `UnitPriceDiscount`, prepaid totals from `DiscountPrice`.
pub fn quote_from_price(spec: &PurchaseSpec, price: &Price) -> Quote {
    let instance = price.instance_price.as_ref();
    let bandwidth = price.bandwidth_price.as_ref();
    let traffic_per_gb = per_gb(bandwidth);
    match spec.billing() {
        BillingMode::PayAsYouGo => Quote::Hourly {
            per_hour: unit(instance).plus(hourly(bandwidth)),
            traffic_per_gb,
        },
        BillingMode::Spot { max_price } => {
            let market_per_hour = unit(instance).plus(hourly(bandwidth));
            // The instance price may include disks the bid does not cover; never budget below today's price.
            let at_bid = max_price.times(spec.count()).plus(hourly(bandwidth));
            Quote::Spot {
                market_per_hour,
                ceiling_per_hour: at_bid.max(market_per_hour),
                traffic_per_gb,
            }
        }
        BillingMode::Prepaid { months, .. } => {
            let bandwidth_prepaid = spec.bandwidth().charge == "BANDWIDTH_PREPAID";
            let (bandwidth_total, extra_per_hour) = if bandwidth_prepaid {
                (total(bandwidth), Yuan::ZERO)
            } else {
                (Yuan::ZERO, hourly(bandwidth))
            };
            Quote::Prepaid {
                total: total(instance).plus(bandwidth_total),
                months: *months,
                extra_per_hour,
                traffic_per_gb,
            }
        }
    }
}

/// A Tencent refusal as stored with a failed request, with its plain-words `explanation`.
pub fn failure_of(error: &ApiError, explanation: String) -> crate::store::Failure {
    crate::store::Failure {
        kind: error.kind.as_str().to_owned(),
        code: error.code.clone(),
        message: error.message.clone(),
        explanation,
        request_id: error.request_id.clone(),
    }
}

/// Plain words for a refused purchase, with the facts Tencent's error leaves out: the market price
/// when a spot bid is too low, the type and zone when stock ran out.
pub async fn explain_failure(tencent: &TencentClient, spec: &PurchaseSpec, error: &ApiError) -> String {
    match error.kind {
        ErrorKind::SpotPriceTooLow => {
            let bid = match spec.billing() {
                BillingMode::Spot { max_price } => max_price.plain(),
                _ => "?".into(),
            };
            match spot_market_price(tencent, spec).await {
                Some(market) => format!(
                    "Spot bid {bid} is below the market price {} CNY/h in {}.",
                    market.plain(),
                    spec.zone()
                ),
                None => format!(
                    "Spot bid {bid} CNY/h is below the current market price in {}.",
                    spec.zone()
                ),
            }
        }
        ErrorKind::OutOfStock => format!(
            "Tencent Cloud has no stock of {} ({}) in {} right now.",
            spec.instance_type(),
            spec.billing().kind().label(),
            spec.zone()
        ),
        _ => match option_of(error) {
            Some(option) => format!("Tencent Cloud refused `{option}`: {}", tencent_words(error)),
            None => error.explain(),
        },
    }
}

/// Tencent's own message (what it says is wrong and what it allows), or the plain explanation
/// when it gave none.
pub fn tencent_words(error: &ApiError) -> String {
    let message = error.message.trim();
    if message.is_empty() {
        error.explain()
    } else {
        message.to_owned()
    }
}

/// The `/cvm buy` option a refusal of a parameter is about: read from Tencent's error code when
/// the code names the parameter (`InvalidZone.*`, `InvalidImageId.*`), else from the request
/// parameter its message names (`InternetMaxBandwidthOut`, `DataDisks`). `None` for refusals that
/// are not about a parameter.
pub fn option_of(error: &ApiError) -> Option<&'static str> {
    if !matches!(error.kind, ErrorKind::InvalidParameter | ErrorKind::NotFound)
        && !error.code.starts_with("UnsupportedOperation")
    {
        return None;
    }
    // Parts of codes, most specific first.
    const BY_CODE: &[(&str, &str)] = &[
        ("CloudSsdDataDiskSizeTooSmall", "data-disks"),
        ("InvalidImageForGivenInstanceType", "image"),
        ("SpotUnsupportedRegion", "zone"),
        ("NoInstanceTypeSupportSpot", "type"),
        ("InvalidZone", "zone"),
        ("ZoneNotSupported", "zone"),
        ("InvalidInstanceType", "type"),
        ("InstanceTypeNotFound", "type"),
        ("ResourceUnavailable.InstanceType", "type"),
        ("InvalidImageId", "image"),
        ("InvalidPeriod", "months"),
        ("InvalidKeyPairId", "key-ids"),
        ("InvalidSecurityGroupId", "security-groups"),
        ("VpcIdMalformed", "vpc"),
        ("VpcNotExist", "vpc"),
        ("SubnetIdMalformed", "subnet"),
        ("SubnetNotExist", "subnet"),
        ("BandwidthPackage", "bandwidth-charge"),
        ("InvalidDisk", "disk-type"),
        ("DuplicateTags", "tags"),
        ("InsufficientPrice", "max-price"),
    ];
    // Request parameters as Tencent's messages name them, most specific first.
    const BY_PARAMETER: &[(&str, &str)] = &[
        ("SystemDisk.DiskType", "disk-type"),
        ("SystemDisk.DiskSize", "disk-size"),
        ("SystemDisk", "disk-size"),
        ("DataDisks", "data-disks"),
        ("data disk", "data-disks"),
        ("InternetChargeType", "bandwidth-charge"),
        ("BANDWIDTH_PREPAID", "bandwidth-charge"),
        ("InternetMaxBandwidthOut", "bandwidth"),
        ("InstanceChargePrepaid.Period", "months"),
        ("RenewFlag", "renew"),
        ("MaxPrice", "max-price"),
        ("Placement.Zone", "zone"),
        ("SubnetId", "subnet"),
        ("VpcId", "vpc"),
        ("SecurityGroupIds", "security-groups"),
        ("KeyIds", "key-ids"),
        ("ImageId", "image"),
        ("InstanceType", "type"),
        ("InstanceName", "name"),
        ("HostName", "name"),
        ("TagSpecification", "tags"),
        ("InstanceCount", "count"),
    ];
    BY_CODE
        .iter()
        .find(|(part, _)| error.code.contains(part))
        .or_else(|| BY_PARAMETER.iter().find(|(name, _)| error.message.contains(name)))
        .map(|(_, option)| *option)
}

/// Today's spot price of the spec's type in its zone, per instance-hour.
pub async fn spot_market_price(tencent: &TencentClient, spec: &PurchaseSpec) -> Option<Yuan> {
    let filters = vec![
        Filter::new("zone", [spec.zone().as_str()]),
        Filter::new("instance-type", [spec.instance_type().as_str()]),
        Filter::new("instance-charge-type", [BillingKind::Spot.charge_type()]),
    ];
    let answer = tencent
        .describe_zone_instance_config_infos(spec.region(), filters)
        .await
        .ok()?;
    let item = answer
        .data
        .instance_type_quota_set
        .into_iter()
        .find(|i| i.instance_type == spec.instance_type().as_str())?;
    let price = item
        .price
        .unit_price_discount
        .filter(|d| !d.is_zero())
        .or(item.price.unit_price)?;
    Some(Yuan::new(price))
}

#[cfg(test)]
mod tests {
    use super::option_of;
    use crate::tencent::ApiError;

    #[test]
    fn refused_parameters_are_traced_to_the_option_that_carried_them() {
        let table = [
            (
                "InvalidZone.MismatchRegion",
                "The zone `ap-x-1` does not exist in `ap-x`.",
                Some("zone"),
            ),
            (
                "InvalidParameterValue.Range",
                "InternetMaxBandwidthOut must be 0-100 Mbps.",
                Some("bandwidth"),
            ),
            (
                "InvalidParameterValue.CloudSsdDataDiskSizeTooSmall",
                "at least 100 GiB",
                Some("data-disks"),
            ),
            (
                "InvalidParameterValue.SubnetIdMalformed",
                "`x` is not a subnet id in zone ap-guangzhou-3.",
                Some("subnet"),
            ),
            (
                "InvalidKeyPairId.Malformed",
                "`k` is not a key pair id for this image.",
                Some("key-ids"),
            ),
            (
                "InvalidParameterValue",
                "SystemDisk.DiskSize must be between 20 and 1024 GiB.",
                Some("disk-size"),
            ),
            ("InvalidAccount.InsufficientBalance", "no money", None),
            ("InvalidParameter", "Something unnamed is wrong.", None),
        ];
        for (code, message, option) in table {
            assert_eq!(
                option_of(&ApiError::from_api(code, message, None)),
                option,
                "{code}: {message}"
            );
        }
    }
}
