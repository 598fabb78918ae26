//! Parsers for the individual options of a purchase: each reads what a person typed and says,
//! when it can't, what it accepts.

use super::names::ResourceId;
use super::spec::{DISK_TYPES, Disk, PREPAID_MONTHS};
use crate::money::Yuan;
use std::collections::BTreeMap;

/// A whole number in `min..=max`.
pub(super) fn number_in(text: &str, min: u32, max: u32) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a whole number from {min} to {max}")),
    }
}

pub(super) fn one_of(text: &str, allowed: &[&str]) -> Result<String, String> {
    let upper = text.trim().to_ascii_uppercase().replace('-', "_");
    if allowed.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(format!("`{text}` is not one of {}", allowed.join(", ")))
    }
}

pub(super) fn parse_disk_type(text: &str) -> Result<String, String> {
    one_of(text, DISK_TYPES)
}

pub(super) fn parse_bid(text: &str) -> Result<Yuan, String> {
    let bid: Yuan = text.parse()?;
    if bid <= Yuan::ZERO || bid.amount().scale() > 4 || bid > Yuan::new(1000.into()) {
        return Err(format!(
            "`{text}` is not a price per hour between 0.0001 and 1000 CNY (at most 4 decimals)"
        ));
    }
    Ok(bid)
}

pub(super) fn parse_months(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(m) if PREPAID_MONTHS.contains(&m) => Ok(m),
        _ => Err(format!(
            "`{text}` is not a prepaid period: 1–12, 24, 36, 48 or 60 months"
        )),
    }
}

/// `true`/`false`, `yes`/`no`, `on`/`off`, `1`/`0`.
pub(super) fn parse_bool(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!("`{text}` is not true or false")),
    }
}

pub(super) fn parse_data_disks(text: &str) -> Result<Vec<Disk>, String> {
    let disks: Vec<Disk> = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (disk_type, size) = match part.split_once(':') {
                Some((disk_type, size)) => (parse_disk_type(disk_type)?, size),
                None => ("CLOUD_PREMIUM".to_owned(), part),
            };
            let size_gib = number_in(size, 10, 32_000).map_err(|e| format!("disk size {e}"))?;
            Ok(Disk { disk_type, size_gib })
        })
        .collect::<Result<_, String>>()
        .map_err(|e| format!("{e}; write disks as TYPE:GiB separated by commas, e.g. CLOUD_SSD:100,200"))?;
    if disks.len() > 21 {
        return Err("at most 21 data disks".into());
    }
    Ok(disks)
}

pub(super) fn default_or_id(text: &str, prefix: &str, what: &str) -> Result<String, String> {
    if text.trim().eq_ignore_ascii_case("default") {
        return Ok("DEFAULT".into());
    }
    ResourceId::parse(text, prefix, what)
        .map(|id| id.as_str().to_owned())
        .map_err(|e| format!("{e}, or DEFAULT"))
}

pub(super) fn id_list(text: &str, prefix: &str, what: &str, max: usize) -> Result<Vec<ResourceId>, String> {
    let ids: Vec<ResourceId> = text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| ResourceId::parse(part, prefix, what))
        .collect::<Result<_, _>>()?;
    if ids.len() > max {
        return Err(format!("at most {max} ids"));
    }
    Ok(ids)
}

pub(super) fn parse_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err("a name is 1–60 printable characters".into());
    }
    Ok(name.to_owned())
}

pub(super) fn parse_reason(text: &str) -> Result<String, String> {
    let reason = text.trim();
    if reason.chars().count() > 300 {
        return Err("a reason is at most 300 characters".into());
    }
    Ok(reason.to_owned())
}

pub(super) fn parse_tags(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut tags = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not key=value; write tags as team=web,env=test"))?;
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || key.len() > 127 || value.len() > 255 {
            return Err(format!(
                "`{part}`: a tag key is 1–127 characters and a value at most 255"
            ));
        }
        if tags.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!("tag `{key}` is given twice"));
        }
    }
    if tags.len() > 50 {
        return Err("at most 50 tags".into());
    }
    Ok(tags)
}
