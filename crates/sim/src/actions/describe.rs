//! DescribeInstances and DescribeInstancesStatus. Ids are looked up in a map; listing walks only
//! the caller's instances in the region, in creation order.

use super::{ApiFailure, Ctx, check_filters, fail, paging, well_formed_id};
use crate::clock::parse_plain;
use crate::world::World;
use crate::world::instance::SimInstance;
use cvmbot_tencent::cvm::{DescribeInstancesRequest, DescribeInstancesStatusRequest, Filter};
use serde_json::{Value, json};

const FILTERS: &[&str] = &[
    "zone",
    "project-id",
    "host-id",
    "dedicated-cluster-id",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "uuid",
    "security-group-id",
    "instance-name",
    "instance-charge-type",
    "instance-state",
    "private-ip-address",
    "public-ip-address",
    "ipv6-address",
    "tag-key",
    "tag-value",
    "tag:",
    "creation-start-time",
    "creation-end-time",
];

/// DescribeInstances.
pub fn describe_instances(
    world: &mut World,
    ctx: &Ctx,
    request: DescribeInstancesRequest,
) -> Result<Value, ApiFailure> {
    let (offset, limit) = paging(request.offset, request.limit)?;
    let found = select(world, ctx, request.instance_ids.as_deref(), request.filters.as_deref())?;
    let page: Vec<Value> = found.iter().skip(offset).take(limit).map(|i| i.to_api()).collect();
    Ok(json!({ "TotalCount": found.len(), "InstanceSet": page }))
}

/// DescribeInstancesStatus.
pub fn describe_instances_status(
    world: &mut World,
    ctx: &Ctx,
    request: DescribeInstancesStatusRequest,
) -> Result<Value, ApiFailure> {
    let (offset, limit) = paging(request.offset, request.limit)?;
    let found = select(world, ctx, request.instance_ids.as_deref(), None)?;
    let page: Vec<Value> = found
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| json!({ "InstanceId": i.id, "InstanceState": i.phase.state() }))
        .collect();
    Ok(json!({ "TotalCount": found.len(), "InstanceStatusSet": page }))
}

/// The caller's instances in the region: by id (unknown ids are left out, as CVM does), or
/// through the filters.
fn select<'w>(
    world: &'w World,
    ctx: &Ctx,
    ids: Option<&[String]>,
    filters: Option<&[Filter]>,
) -> Result<Vec<&'w SimInstance>, ApiFailure> {
    let ids = ids.filter(|ids| !ids.is_empty());
    let filters = filters.unwrap_or_default();
    if ids.is_some() && !filters.is_empty() {
        // The code DescribeInstances documents for it: `InvalidParameterCombination` is not
        // among the action's codes.
        return Err(fail(
            "InvalidParameter",
            "InstanceIds and Filters cannot be used together.",
        ));
    }
    let mine = |i: &&SimInstance| i.uin == ctx.uin && i.region == ctx.region;
    if let Some(ids) = ids {
        if ids.len() > 100 {
            return Err(fail(
                "InvalidParameterValue.LimitExceeded",
                format!("At most 100 InstanceIds are allowed, {} were given.", ids.len()),
            ));
        }
        if let Some(bad) = ids.iter().find(|id| !well_formed_id(id, "ins")) {
            return Err(fail(
                "InvalidInstanceId.Malformed",
                format!("`{bad}` is not an instance id."),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        return Ok(ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .filter_map(|id| world.instances.get(id))
            .filter(mine)
            .collect());
    }
    check_filters(filters, 10, 5, FILTERS)?;
    let bounds = creation_bounds(filters)?;
    Ok(world
        .listed(ctx.uin, &ctx.region)
        .iter()
        .filter_map(|id| world.instances.get(id))
        .filter(|i| filters.iter().all(|f| matches(i, f)))
        .filter(|i| bounds.0.is_none_or(|start| i.created >= start) && bounds.1.is_none_or(|end| i.created <= end))
        .collect())
}

fn creation_bounds(filters: &[Filter]) -> Result<(Option<i64>, Option<i64>), ApiFailure> {
    let mut bounds = (None, None);
    for filter in filters {
        let slot = match filter.name.as_str() {
            "creation-start-time" => &mut bounds.0,
            "creation-end-time" => &mut bounds.1,
            _ => continue,
        };
        let value = filter.values.first().map(String::as_str).unwrap_or_default();
        *slot = Some(parse_plain(value).ok_or_else(|| {
            fail(
                "InvalidParameterValue.InvalidTimeFormat",
                format!("`{value}` is not a time like 2023-06-01 00:00:00."),
            )
        })?);
    }
    Ok(bounds)
}

fn matches(instance: &SimInstance, filter: &Filter) -> bool {
    let any = |value: &str| filter.values.iter().any(|v| v == value);
    match filter.name.as_str() {
        "zone" => any(&instance.zone),
        "project-id" => any("0"),
        "vpc-id" => any(&instance.vpc_id),
        "subnet-id" => any(&instance.subnet_id),
        "instance-id" => any(&instance.id),
        "uuid" => any(&instance.uuid),
        "security-group-id" => instance.security_group_ids.iter().any(|sg| any(sg)),
        "instance-name" => filter.values.iter().any(|v| instance.name.contains(v.as_str())),
        "instance-charge-type" => any(instance.charge_type.as_str()),
        "instance-state" => any(instance.phase.state().as_str()),
        "private-ip-address" => any(&instance.private_ip),
        "public-ip-address" => instance.public_ip.as_deref().is_some_and(any),
        "tag-key" => instance.tags.iter().any(|(k, _)| any(k)),
        "tag-value" => instance.tags.iter().any(|(_, v)| any(v)),
        "creation-start-time" | "creation-end-time" => true,
        name => match name.strip_prefix("tag:") {
            Some(key) => instance.tags.iter().any(|(k, v)| k == key && any(v)),
            // host-id, dedicated-cluster-id, ipv6-address: the simulator has none of these.
            None => false,
        },
    }
}
