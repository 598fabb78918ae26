//! RenewInstances, InquiryPriceRenewInstances and ModifyInstancesRenewFlag: prepaid instances
//! only. A renewal is paid at once at the period's price (with the period's discount) and
//! extends ExpiredTime; one renewed out of the recycle bin runs again from now.
//!
//! `RenewPortableDataDisk` is accepted and has nothing to act on: the simulator's data disks are
//! bought with their instance and renewed with it, and there are no portable (elastic) ones.

use super::order::{Order, PERIODS};
use super::price::{Cost, bandwidth_item, instance_item};
use super::targets::{check_ids, record};
use super::{ApiFailure, Ctx, fail, output};
use crate::clock::add_months;
use crate::config::DryRunAnswer;
use crate::world::instance::{Phase, SimInstance};
use crate::world::{EventKind, World};
use cvmbot_tencent::bills::BillAction;
use cvmbot_tencent::cvm::{
    InquiryPriceRenewInstancesRequest, InquiryPriceResponse, InstanceChargePrepaid, ItemPrice,
    ModifyInstancesRenewFlagRequest, Price, RenewInstancesRequest,
};
use cvmbot_tencent::enums::{ChargeType, InternetChargeType, RenewFlag};
use cvmbot_tencent::money::{Fen, Yuan};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// RenewInstances.
pub fn renew_instances(world: &mut World, ctx: &Ctx, request: RenewInstancesRequest) -> Result<Value, ApiFailure> {
    let found = check_ids(world, ctx, &request.instance_ids)?;
    let prepaid = request.instance_charge_prepaid.as_ref().ok_or_else(|| {
        fail(
            "MissingParameter",
            "The request is missing the required parameter `InstanceChargePrepaid`.",
        )
    })?;
    let (months, flag) = check_prepaid(prepaid)?;
    let mut renewals = Vec::with_capacity(found.len());
    for instance in &found {
        if instance.charge_type != ChargeType::Prepaid {
            return Err(fail(
                "UnsupportedOperation.InstanceChargeType",
                format!(
                    "The instance `{}` is {}; only PREPAID instances are renewed.",
                    instance.id, instance.charge_type
                ),
            ));
        }
        check_renewable(instance, true)?;
        let cost = cost_of(world, instance, months)?;
        renewals.push((instance.id.clone(), Yuan::new(cost.upfront()).to_fen_round().get()));
    }
    let total: i64 = renewals.iter().map(|(_, fen)| fen).sum();
    let now = world.now;
    let account = world
        .account_mut(&ctx.secret_id)
        .ok_or_else(|| fail("InternalError", "The account vanished."))?;
    if account.spendable() < total {
        return Err(fail(
            "InvalidAccount.InsufficientBalance",
            format!(
                "The renewal needs {} but the account can spend {}.",
                Fen::new(total),
                Fen::new(account.spendable())
            ),
        ));
    }
    account.pay(total);
    account.recheck_arrears(now);
    for (id, fen) in renewals {
        renew_one(world, &id, months, fen, flag.as_ref());
        record(world, ctx, &id, "RenewInstances");
    }
    Ok(json!({}))
}

/// Extends one paid-for instance by `months`; one in the recycle bin runs again from now.
fn renew_one(world: &mut World, id: &str, months: i64, fen: i64, flag: Option<&RenewFlag>) {
    let now = world.now;
    let Some(instance) = world.instances.get_mut(id) else {
        return;
    };
    if let Some(flag) = flag {
        instance.renew_flag = Some(flag.to_string());
    }
    let recycled = instance.phase == Phase::Shutdown;
    let begin = if recycled {
        now
    } else {
        instance.expired.unwrap_or(now).max(now)
    };
    let next = if recycled {
        instance.phase = Phase::Running;
        instance.restrict_state = "NORMAL".into();
        instance.period_start = now;
        instance.period_paid = fen;
        add_months(now, months)
    } else {
        instance.period_paid += fen;
        add_months(instance.expired.unwrap_or(now).max(now), months)
    };
    instance.expired = Some(next);
    if recycled {
        world.start_billing(id);
    }
    world.record_prepaid(id, BillAction::Renewal, begin, next, fen);
    world.schedule(next, EventKind::Expire(id.to_owned()));
}

/// InquiryPriceRenewInstances: the price of renewing every instance for the period.
pub fn inquiry_price_renew_instances(
    world: &mut World,
    ctx: &Ctx,
    request: InquiryPriceRenewInstancesRequest,
) -> Result<Value, ApiFailure> {
    let found = check_ids(world, ctx, &request.instance_ids)?;
    let (months, _) = check_prepaid(&request.instance_charge_prepaid)?;
    let mut instance_price = ItemPrice::default();
    let mut bandwidth_price: Option<ItemPrice> = None;
    for instance in &found {
        if instance.charge_type != ChargeType::Prepaid {
            return Err(fail(
                "InvalidInstance.NotSupported",
                format!(
                    "The instance `{}` is not PREPAID and has no renewal price.",
                    instance.id
                ),
            ));
        }
        check_renewable(instance, false)?;
        let order = order_of(world, instance, months)?;
        let cost = Cost::of(&world.cat, &order, Decimal::ZERO);
        add(&mut instance_price, &instance_item(&order, &cost, 1));
        if order.internet_charge_type == InternetChargeType::BandwidthPrepaid {
            add(
                bandwidth_price.get_or_insert_with(ItemPrice::default),
                &bandwidth_item(&world.cat, &order, &cost, 1),
            );
        }
    }
    if request.dry_run.unwrap_or(false) {
        return match world.cat.config.dry_run_answer {
            DryRunAnswer::DryRunOperation => Err(fail(
                "DryRunOperation",
                "The request would have succeeded, but DryRun was set.",
            )),
            DryRunAnswer::RequestId => Ok(json!({})),
        };
    }
    output(&InquiryPriceResponse {
        price: Price {
            instance_price: Some(instance_price),
            bandwidth_price,
        },
    })
}

/// ModifyInstancesRenewFlag.
pub fn modify_instances_renew_flag(
    world: &mut World,
    ctx: &Ctx,
    request: ModifyInstancesRenewFlagRequest,
) -> Result<Value, ApiFailure> {
    let found = check_ids(world, ctx, &request.instance_ids)?;
    let flag = known_flag(&request.renew_flag)?;
    for instance in &found {
        let refused = match (&instance.charge_type, instance.phase) {
            (ChargeType::Prepaid, Phase::Running) => None,
            (ChargeType::Prepaid, Phase::Pending) => {
                Some(("UnsupportedOperation.InstanceStatePending", "is still being created"))
            }
            (ChargeType::Prepaid, Phase::Shutdown) => {
                Some(("UnsupportedOperation.InstanceStateShutdown", "is in the recycle bin"))
            }
            (ChargeType::Prepaid, _) => Some(("InvalidInstance.NotSupported", "is gone")),
            _ => Some(("InvalidInstance.NotSupported", "is not PREPAID and has no renewal")),
        };
        if let Some((code, why)) = refused {
            return Err(fail(code, format!("The instance `{}` {why}.", instance.id)));
        }
    }
    let ids: Vec<String> = found.iter().map(|i| i.id.clone()).collect();
    for id in ids {
        if let Some(instance) = world.instances.get_mut(&id) {
            instance.renew_flag = Some(flag.to_string());
        }
        record(world, ctx, &id, "ModifyInstancesRenewFlag");
    }
    Ok(json!({}))
}

/// The period (a sold one) and the RenewFlag (a known one), if given.
fn check_prepaid(prepaid: &InstanceChargePrepaid) -> Result<(i64, Option<RenewFlag>), ApiFailure> {
    if !PERIODS.contains(&prepaid.period) {
        return Err(fail(
            "InvalidPeriod",
            format!(
                "Period {} is not sold; choose 1-12, 24, 36, 48 or 60 months.",
                prepaid.period
            ),
        ));
    }
    let flag = prepaid.renew_flag.as_ref().map(known_flag).transpose()?;
    Ok((prepaid.period, flag))
}

fn known_flag(flag: &RenewFlag) -> Result<RenewFlag, ApiFailure> {
    match flag {
        RenewFlag::Unknown(other) => Err(fail(
            "InvalidParameterValue",
            format!("RenewFlag `{other}` is not valid; use {}.", RenewFlag::KNOWN.join(", ")),
        )),
        known => Ok(known.clone()),
    }
}

/// A renewal needs an instance that was created and is not being destroyed. `paying` picks the
/// codes of RenewInstances, else those of the inquiry.
fn check_renewable(instance: &SimInstance, paying: bool) -> Result<(), ApiFailure> {
    let code = match instance.phase {
        Phase::Running | Phase::Shutdown => return Ok(()),
        Phase::Pending if paying => "UnsupportedOperation.InstanceStatePending",
        Phase::Terminating if paying => "UnsupportedOperation.InstanceStateTerminating",
        _ => "InvalidInstance.NotSupported",
    };
    Err(fail(
        code,
        format!(
            "The instance `{}` cannot be renewed in state {}.",
            instance.id,
            instance.phase.state()
        ),
    ))
}

fn cost_of(world: &World, instance: &SimInstance, months: i64) -> Result<Cost, ApiFailure> {
    let order = order_of(world, instance, months)?;
    Ok(Cost::of(&world.cat, &order, Decimal::ZERO))
}

/// The purchase of `months` more of `instance` as it was bought.
fn order_of(world: &World, instance: &SimInstance, months: i64) -> Result<Order, ApiFailure> {
    let cat = &world.cat;
    let (Some(kind), Some(image)) = (
        cat.instance_type(&instance.instance_type),
        cat.image(&instance.image_id),
    ) else {
        return Err(fail(
            "InternalError.TradeUnknownError",
            format!("The instance `{}` is no longer sold and cannot be priced.", instance.id),
        ));
    };
    Ok(Order {
        zone: instance.zone.clone(),
        zone_id: instance.zone_id.clone(),
        kind: kind.clone(),
        image: image.clone(),
        charge: ChargeType::Prepaid,
        period: Some(months),
        renew_flag: None,
        max_price: None,
        system_disk: instance.system_disk.clone(),
        data_disks: instance.data_disks.clone(),
        bandwidth: instance.bandwidth_mbps,
        internet_charge_type: InternetChargeType::from(instance.internet_charge_type.clone()),
        public_ip: instance.wants_public_ip,
        count: 1,
        min_count: None,
        name: None,
        host_name: None,
        tags: Vec::new(),
        client_token: None,
        dry_run: false,
        vpc_id: None,
        subnet_id: None,
        security_group_ids: Vec::new(),
        key_ids: Vec::new(),
    })
}

/// Adds a prepaid quote to a running total.
fn add(total: &mut ItemPrice, item: &ItemPrice) {
    let sum = |a: Option<Decimal>, b: Option<Decimal>| Some(a.unwrap_or_default() + b.unwrap_or_default());
    total.original_price = sum(total.original_price, item.original_price);
    total.discount_price = sum(total.discount_price, item.discount_price);
    total.discount = item.discount.or(total.discount);
}
