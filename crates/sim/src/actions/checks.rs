//! The RunInstances checks of disks, public network, login, tags and VPC.

use super::{ApiFailure, fail, well_formed_id};
use crate::catalogue::Catalogue;
use crate::world::instance::Disk;
use cvmbot_tencent::cvm::RunInstancesRequest;
use cvmbot_tencent::enums::{ChargeType, InternetChargeType};
use std::collections::HashSet;

pub(super) fn check_disks(cat: &Catalogue, request: &RunInstancesRequest) -> Result<(Disk, Vec<Disk>), ApiFailure> {
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
            encrypt: false,
            kms_key_id: None,
        });
    }
    let system = Disk {
        disk_type: system_type,
        size: system_size,
        delete_with_instance: true,
        encrypt: false,
        kms_key_id: None,
    };
    Ok((system, disks))
}

pub(super) fn check_internet(
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

pub(super) fn check_login(request: &RunInstancesRequest) -> Result<Vec<String>, ApiFailure> {
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

pub(super) fn check_tags(request: &RunInstancesRequest) -> Result<Vec<(String, String)>, ApiFailure> {
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

pub(super) fn check_vpc(request: &RunInstancesRequest) -> Result<(Option<String>, Option<String>), ApiFailure> {
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
