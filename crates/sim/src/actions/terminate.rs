//! TerminateInstances and InquiryPriceTerminateInstances. Pay-as-you-go and spot instances are
//! destroyed at once; a prepaid instance is refunded the unused part of its period and goes to
//! the recycle bin (SHUTDOWN, `IsolatedSource` MANMADE) first, and a second call destroys it.

use super::targets::{check_ids, record};
use super::{ApiFailure, Ctx, fail, output};
use crate::world::World;
use crate::world::instance::{Phase, SimInstance};
use cvmbot_tencent::bills::BillAction;
use cvmbot_tencent::cvm::{
    InquiryPriceTerminateInstancesRequest, InquiryPriceTerminateInstancesResponse, InstanceRefund,
    TerminateInstancesRequest,
};
use cvmbot_tencent::enums::ChargeType;
use cvmbot_tencent::money::Fen;
use serde_json::{Value, json};

/// TerminateInstances.
pub fn terminate_instances(
    world: &mut World,
    ctx: &Ctx,
    request: TerminateInstancesRequest,
) -> Result<Value, ApiFailure> {
    let ids = request.instance_ids;
    {
        let found = check_ids(world, ctx, &ids)?;
        for instance in &found {
            let refused = match instance.phase {
                Phase::Pending => Some(("UnsupportedOperation.InstanceStatePending", "is still being created")),
                Phase::Terminating => Some(("UnsupportedOperation.InstanceStateTerminating", "is being destroyed")),
                Phase::LaunchFailed => Some(("UnsupportedOperation.InstanceStateLaunchFailed", "failed to launch")),
                Phase::Running | Phase::Shutdown => None,
            };
            if let Some((code, why)) = refused {
                return Err(fail(code, format!("The instance `{}` {why}.", instance.id)));
            }
        }
        one_charge_type(&found)?;
    }
    let release_disks = request.release_prepaid_data_disks.unwrap_or(false);
    let now = world.now;
    for id in &ids {
        let Some(instance) = world.instances.get_mut(id) else {
            continue;
        };
        instance.release_prepaid_data_disks |= release_disks;
        if instance.charge_type == ChargeType::Prepaid && instance.phase == Phase::Running {
            let refund = instance.refund_fen(now);
            let period_end = instance.expired.unwrap_or(now);
            instance.period_paid -= refund;
            instance.phase = Phase::Shutdown;
            let uin = instance.uin;
            // Hourly bandwidth of a prepaid instance stops in the recycle bin; the stock stays taken.
            world.stop_billing(id);
            if let Some(account) = world.account_of_uin(uin) {
                account.refund(refund);
                account.recheck_arrears(now);
            }
            world.record_prepaid(id, BillAction::Refund, now, period_end, -refund);
        } else {
            world.destroy(id, now, "terminated by TerminateInstances");
        }
        record(world, ctx, id, "TerminateInstances");
    }
    Ok(json!({}))
}

/// InquiryPriceTerminateInstances: what terminating each instance would give back now, in yuan.
pub fn inquiry_price_terminate_instances(
    world: &mut World,
    ctx: &Ctx,
    request: InquiryPriceTerminateInstancesRequest,
) -> Result<Value, ApiFailure> {
    let found = check_ids(world, ctx, &request.instance_ids)?;
    if let Some(gone) = found
        .iter()
        .find(|i| matches!(i.phase, Phase::Terminating | Phase::LaunchFailed))
    {
        return Err(fail(
            "InvalidInstance.NotSupported",
            format!(
                "The instance `{}` cannot be returned in state {}.",
                gone.id,
                gone.phase.state()
            ),
        ));
    }
    one_charge_type(&found)?;
    let refunds = found
        .iter()
        .map(|instance| {
            let yuan = Fen::new(instance.refund_fen(world.now)).to_yuan();
            InstanceRefund {
                instance_id: instance.id.clone(),
                refunds: yuan.amount(),
                price_detail: Some(format!("退款：{:.2}元，现金券：0元，代金券/折扣券不退", yuan.amount())),
            }
        })
        .collect();
    output(&InquiryPriceTerminateInstancesResponse {
        instance_refunds_set: refunds,
    })
}

/// All instances of one call must share a charge type.
fn one_charge_type(found: &[&SimInstance]) -> Result<(), ApiFailure> {
    match found.split_first() {
        Some((first, rest)) if rest.iter().any(|i| i.charge_type != first.charge_type) => Err(fail(
            "UnsupportedOperation.InstanceMixedPricingModel",
            "All instances of one call must have the same charge type.",
        )),
        _ => Ok(()),
    }
}
