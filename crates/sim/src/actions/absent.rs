//! RunInstances members that the spec knows but the shared request type does not carry, read from
//! the request as sent: disk encryption, which the simulator keeps and reports, and the resources
//! it does not have (CAM roles, placement groups, HPC and dedicated clusters, launch templates),
//! which are refused with the codes CVM documents for a missing one instead of being ignored.

use super::{ApiFailure, fail, well_formed_id};
use crate::world::instance::Disk;
use serde_json::Value;

/// Refuses a purchase that names a resource the simulator does not have.
pub fn check(body: &Value) -> Result<(), ApiFailure> {
    let text = |name: &str| body.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    if let Some(role) = text("CamRoleName") {
        if !role.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)) {
            return Err(fail(
                "InvalidParameterValue.CamRoleNameMalformed",
                format!("The CamRoleName `{role}` may hold only letters, digits and +=,.@_-."),
            ));
        }
        return Err(fail(
            "AuthFailure.CamRoleNameAuthenticateFailed",
            format!("The CAM role `{role}` does not exist in this account."),
        ));
    }
    if let Some(group) = body
        .get("DisasterRecoverGroupIds")
        .and_then(Value::as_array)
        .and_then(|groups| groups.first())
    {
        return Err(fail(
            "FailedOperation.DisasterRecoverGroupNotFound",
            format!(
                "The placement group `{}` does not exist.",
                group.as_str().unwrap_or_default()
            ),
        ));
    }
    if let Some(cluster) = text("HpcClusterId") {
        return Err(fail(
            "ResourceNotFound.HpcCluster",
            format!("The HPC cluster `{cluster}` does not exist."),
        ));
    }
    if let Some(cluster) = text("DedicatedClusterId") {
        return Err(fail(
            "InvalidParameterValue",
            format!("The dedicated cluster `{cluster}` does not exist."),
        ));
    }
    if let Some(template) = body
        .get("LaunchTemplate")
        .and_then(|t| t.get("LaunchTemplateId"))
        .and_then(Value::as_str)
    {
        return Err(if well_formed_id(template, "lt") {
            fail(
                "InvalidParameterValue.LaunchTemplateNotFound",
                format!("The launch template `{template}` does not exist."),
            )
        } else {
            fail(
                "InvalidParameterValue.LaunchTemplateIdMalformed",
                format!("`{template}` is not a launch template id."),
            )
        });
    }
    Ok(())
}

/// Copies `Encrypt` and `KmsKeyId` of the request's system disk and data disks onto the disks
/// bought.
pub fn encryption(body: &Value, system: &mut Disk, data: &mut [Disk]) {
    let apply = |disk: &mut Disk, given: Option<&Value>| {
        let Some(given) = given else {
            return;
        };
        let key = given.get("KmsKeyId").and_then(Value::as_str).filter(|k| !k.is_empty());
        disk.encrypt = given.get("Encrypt").and_then(as_bool).unwrap_or(false) || key.is_some();
        disk.kms_key_id = key.map(str::to_owned);
    };
    apply(system, body.get("SystemDisk"));
    let given = body.get("DataDisks").and_then(Value::as_array);
    for (i, disk) in data.iter_mut().enumerate() {
        apply(disk, given.and_then(|g| g.get(i)));
    }
}

/// A boolean, also as a form sends it (`"true"`).
fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
