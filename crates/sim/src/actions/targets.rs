//! The `InstanceIds` every instance action takes, checked the same way, and the
//! `LatestOperation*` members a changing action leaves on each instance it touched.

use super::{ApiFailure, Ctx, fail, well_formed_id};
use crate::world::World;
use crate::world::instance::SimInstance;
use cvmbot_tencent::enums::OperationState;
use std::collections::HashSet;

/// At most this many instances per call.
const MAX_IDS: usize = 100;

/// Checks `ids`: present, at most 100, well formed, each once, each the caller's in this region.
pub fn check_ids<'w>(world: &'w World, ctx: &Ctx, ids: &[String]) -> Result<Vec<&'w SimInstance>, ApiFailure> {
    if ids.is_empty() {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `InstanceIds`.",
        ));
    }
    if ids.len() > MAX_IDS {
        return Err(fail(
            "InvalidParameterValue.LimitExceeded",
            format!("At most {MAX_IDS} InstanceIds are allowed, {} were given.", ids.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        if !well_formed_id(id, "ins") {
            return Err(fail(
                "InvalidInstanceId.Malformed",
                format!("`{id}` is not an instance id."),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(fail(
                "InvalidParameterValue",
                format!("The instance `{id}` is listed twice in InstanceIds."),
            ));
        }
        let instance = world
            .instances
            .get(id)
            .filter(|i| i.uin == ctx.uin && i.region == ctx.region)
            .ok_or_else(|| {
                fail(
                    "InvalidInstanceId.NotFound",
                    format!("The instance `{id}` does not exist."),
                )
            })?;
        found.push(instance);
    }
    Ok(found)
}

/// Notes `operation` (done at once, so `SUCCESS`) as the latest operation of instance `id`.
pub fn record(world: &mut World, ctx: &Ctx, id: &str, operation: &str) {
    if let Some(instance) = world.instances.get_mut(id) {
        instance.latest_operation = operation.to_owned();
        instance.latest_operation_state = OperationState::Success;
        instance.latest_request_id = ctx.request_id.clone();
        instance.latest_error = None;
    }
}
