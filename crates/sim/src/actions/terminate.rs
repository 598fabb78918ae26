//! TerminateInstances: pay-as-you-go and spot instances are destroyed at once; a prepaid
//! instance goes to the recycle bin (SHUTDOWN) first and is destroyed by a second call.

use super::{ApiFailure, Ctx, fail, well_formed_id};
use crate::world::World;
use crate::world::instance::Phase;
use cvmbot_tencent::cvm::TerminateInstancesRequest;
use cvmbot_tencent::enums::{ChargeType, OperationState};
use serde_json::{Value, json};
use std::collections::HashSet;

/// TerminateInstances.
pub fn terminate_instances(
    world: &mut World,
    ctx: &Ctx,
    request: TerminateInstancesRequest,
) -> Result<Value, ApiFailure> {
    let ids = request.instance_ids;
    if ids.is_empty() {
        return Err(fail(
            "MissingParameter",
            "The request is missing the required parameter `InstanceIds`.",
        ));
    }
    if ids.len() > 100 {
        return Err(fail(
            "InvalidParameterValue.LimitExceeded",
            "At most 100 InstanceIds are allowed.",
        ));
    }
    let mut seen = HashSet::new();
    let mut charge: Option<ChargeType> = None;
    for id in &ids {
        if !well_formed_id(id, "ins") {
            return Err(fail(
                "InvalidInstanceId.Malformed",
                format!("`{id}` is not an instance id."),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(fail(
                "InvalidParameterValue.Duplicate",
                format!("`{id}` is listed twice."),
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
        let refused = match instance.phase {
            Phase::Pending => Some(("UnsupportedOperation.InstanceStatePending", "is still being created")),
            Phase::Terminating => Some(("UnsupportedOperation.InstanceStateTerminating", "is being destroyed")),
            Phase::LaunchFailed => Some(("UnsupportedOperation.InstanceStateLaunchFailed", "failed to launch")),
            Phase::Running | Phase::Shutdown => None,
        };
        if let Some((code, why)) = refused {
            return Err(fail(code, format!("The instance `{id}` {why}.")));
        }
        match &charge {
            Some(first) if *first != instance.charge_type => {
                return Err(fail(
                    "UnsupportedOperation.InstanceMixedPricingModel",
                    "All instances of one call must have the same charge type.",
                ));
            }
            _ => charge = Some(instance.charge_type.clone()),
        }
    }
    let now = world.now;
    for id in &ids {
        let Some(instance) = world.instances.get_mut(id) else {
            continue;
        };
        instance.latest_request_id = ctx.request_id.clone();
        if instance.charge_type == ChargeType::Prepaid && instance.phase == Phase::Running {
            instance.phase = Phase::Shutdown;
            instance.latest_operation = "TerminateInstances".into();
            instance.latest_operation_state = OperationState::Success;
            // Hourly bandwidth of a prepaid instance stops in the recycle bin; the stock stays taken.
            world.stop_billing(id);
        } else {
            world.destroy(id, now, "terminated by TerminateInstances");
        }
    }
    Ok(json!({}))
}
