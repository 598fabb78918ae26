//! RunInstances: checks, idempotency by ClientToken, quota, spot bid, stock, money, then
//! PENDING instances whose launch, public IP and billing the billing engine carries on.

use super::order::{Order, parse_order};
use super::price::Cost;
use super::{ApiFailure, Ctx, fail};
use crate::clock::add_months;
use crate::config::DryRunAnswer;
use crate::world::instance::{Phase, SimInstance};
use crate::world::{EventKind, World, quota_key};
use cvmbot_tencent::bills::BillAction;
use cvmbot_tencent::enums::{ChargeType, OperationState};
use cvmbot_tencent::money::Yuan;
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// RunInstances (`body` as sent, for the members the request type does not carry).
pub fn run_instances(
    world: &mut World,
    ctx: &Ctx,
    request: cvmbot_tencent::cvm::RunInstancesRequest,
    body: &Value,
) -> Result<Value, ApiFailure> {
    let mut order = parse_order(&world.cat, &ctx.region, &request, 500)?;
    super::absent::encryption(body, &mut order.system_disk, &mut order.data_disks);
    let token_key = order.client_token.as_ref().map(|t| format!("{}/{t}", ctx.uin));
    if !order.dry_run
        && let Some(ids) = token_key.as_ref().and_then(|k| world.tokens.get(k))
    {
        // The same token bought these already: answer the same ids, buy and charge nothing.
        return Ok(json!({ "InstanceIdSet": ids }));
    }
    check_quota(world, ctx, &order)?;
    let market_key = format!("{}/{}", order.zone, order.kind.instance_type);
    let market = world.spot_price(&market_key);
    let bid = if order.charge == ChargeType::SpotPaid {
        let bid = order.max_price.unwrap_or(market);
        if bid < market {
            return Err(fail(
                "InvalidParameterValue.InsufficientPrice",
                format!("The bid {bid} is below the market price {market}."),
            ));
        }
        Some(bid)
    } else {
        None
    };
    let count = available_count(world, &order, &market_key)?;
    let cost = Cost::of(&world.cat, &order, market);
    let upfront = Yuan::new(cost.upfront()).to_fen_round().get();
    let freeze = Yuan::new(cost.first_hour(&order.charge)).to_fen_ceil().get();
    let needed = (upfront + freeze) * count;
    let account = world
        .account_mut(&ctx.secret_id)
        .ok_or_else(|| fail("InternalError", "The account vanished."))?;
    if account.spendable() < needed {
        return Err(fail(
            "InvalidAccount.InsufficientBalance",
            format!(
                "The purchase needs {} but the account can spend {}.",
                cvmbot_tencent::money::Fen::new(needed),
                cvmbot_tencent::money::Fen::new(account.spendable())
            ),
        ));
    }
    if order.dry_run {
        return match world.cat.config.dry_run_answer {
            DryRunAnswer::DryRunOperation => Err(fail(
                "DryRunOperation",
                "The request would have succeeded, but DryRun was set.",
            )),
            DryRunAnswer::RequestId => Ok(json!({ "InstanceIdSet": [] })),
        };
    }
    account.pay(upfront * count);
    account.freeze += freeze * count;
    let now = world.now;
    if let Some(account) = world.account_mut(&ctx.secret_id) {
        account.recheck_arrears(now);
    }
    let stock = world
        .stock
        .entry(market_key)
        .or_insert(crate::world::Stock { regular: 0, spot: 0 });
    if order.charge == ChargeType::SpotPaid {
        stock.spot -= count as u32;
    } else {
        stock.regular -= count as u32;
    }
    // An automatic renewal pays one month at the one-month price.
    let renew = if order.charge == ChargeType::Prepaid {
        let month = Order {
            period: Some(1),
            ..order.clone()
        };
        Yuan::new(Cost::of(&world.cat, &month, market).upfront())
            .to_fen_round()
            .get()
    } else {
        0
    };
    let money = Money {
        upfront,
        freeze,
        bid,
        renew,
    };
    let ids: Vec<String> = (0..count)
        .map(|i| create(world, ctx, &order, &cost, money, i, count))
        .collect();
    if let Some(key) = token_key {
        world.tokens.insert(key, ids.clone());
    }
    Ok(json!({ "InstanceIdSet": ids }))
}

fn check_quota(world: &World, ctx: &Ctx, order: &Order) -> Result<(), ApiFailure> {
    let quota = &world.cat.config.quota;
    let (limit, code) = match order.charge {
        ChargeType::Prepaid => (quota.prepaid_per_zone, "LimitExceeded.PrepayQuota"),
        ChargeType::SpotPaid => (quota.spot_per_zone, "LimitExceeded.SpotQuota"),
        _ => (quota.postpaid_per_zone, "LimitExceeded.InstanceQuota"),
    };
    let used = i64::from(
        world
            .quota_used
            .get(&quota_key(ctx.uin, &order.zone, order.charge.as_str()))
            .copied()
            .unwrap_or(0),
    );
    if used + order.count > i64::from(limit) {
        return Err(fail(
            code,
            format!(
                "The quota allows {limit} such instances in {}; {used} exist.",
                order.zone
            ),
        ));
    }
    Ok(())
}

/// How many instances stock allows: all of InstanceCount, or at least MinCount.
fn available_count(world: &World, order: &Order, market_key: &str) -> Result<i64, ApiFailure> {
    let stock = world
        .stock
        .get(market_key)
        .copied()
        .unwrap_or(crate::world::Stock { regular: 0, spot: 0 });
    let spot = order.charge == ChargeType::SpotPaid;
    let left = i64::from(if spot { stock.spot } else { stock.regular });
    if left >= order.count {
        return Ok(order.count);
    }
    if let Some(min) = order.min_count
        && left >= min
    {
        return Ok(left);
    }
    let what = format!("{} in {}", order.kind.instance_type, order.zone);
    Err(match (spot, left, order.min_count) {
        (true, _, _) => fail(
            "InvalidParameterValue.InsufficientOffering",
            format!("Not enough spot stock of {what}."),
        ),
        (false, _, Some(min)) => fail(
            "ResourceInsufficient.InsufficientOfferingMinimum",
            format!("Only {left} of {what} left, fewer than MinCount {min}."),
        ),
        (false, 0, None) => fail("ResourcesSoldOut.SpecifiedInstanceType", format!("{what} is sold out.")),
        (false, _, None) => fail(
            "ResourceInsufficient.SpecifiedInstanceType",
            format!("Only {left} of {what} left, {} asked for.", order.count),
        ),
    })
}

#[derive(Clone, Copy)]
struct Money {
    upfront: i64,
    freeze: i64,
    bid: Option<Decimal>,
    renew: i64,
}

fn create(world: &mut World, ctx: &Ctx, order: &Order, cost: &Cost, money: Money, i: i64, count: i64) -> String {
    let now = world.now;
    let life = world.cat.config.lifecycle.clone();
    let id = world.fresh_id("ins");
    let uuid = world.rng.uuid();
    let fails = world.rng.chance(life.launch_failure_per_million);
    let ip_delay = life.public_ip_min_secs + world.rng.below(life.public_ip_max_secs - life.public_ip_min_secs + 1);
    let launch_at = now + life.launch_secs as i64 * 1000;
    let public_ip_at = order.public_ip.then(|| (now + ip_delay as i64 * 1000).max(launch_at));
    let private_ip = world.private_ip(&order.zone);
    world.seq += 1;
    let default_net = format!(
        "{:08x}",
        (ctx.uin ^ world.cat.zone(&order.zone).map_or(0, |z| z.index as u64)) as u32
    );
    let instance = SimInstance {
        id: id.clone(),
        uuid,
        seq: world.seq,
        uin: ctx.uin,
        region: ctx.region.clone(),
        zone: order.zone.clone(),
        zone_id: order.zone_id.clone(),
        instance_type: order.kind.instance_type.clone(),
        cpu: order.kind.cpu,
        memory: order.kind.memory,
        image_id: order.image.image_id.clone(),
        os_name: order.image.os_name.clone(),
        default_login_user: order.image.default_login_user.clone(),
        charge_type: order.charge.clone(),
        name: instance_name(order.name.as_deref(), i, count),
        tags: order.tags.clone(),
        private_ip: private_ip.clone(),
        public_ip: None,
        wants_public_ip: order.public_ip,
        bandwidth_mbps: order.bandwidth,
        internet_charge_type: order.internet_charge_type.to_string(),
        system_disk: order.system_disk.clone(),
        data_disks: order.data_disks.clone(),
        vpc_id: order.vpc_id.clone().unwrap_or_else(|| format!("vpc-{default_net}")),
        subnet_id: order
            .subnet_id
            .clone()
            .unwrap_or_else(|| format!("subnet-{default_net}")),
        security_group_ids: if order.security_group_ids.is_empty() {
            vec![format!("sg-{default_net}")]
        } else {
            order.security_group_ids.clone()
        },
        key_ids: order.key_ids.clone(),
        created: now,
        expired: order.period.map(|months| add_months(now, months)),
        renew_flag: order.renew_flag.clone(),
        host_name: match &order.host_name {
            Some(pattern) => super::hostname::expand(pattern, i, count, &private_ip),
            None => super::hostname::default_name(
                &private_ip,
                &order.image.platform,
                super::order::is_windows(&order.image),
            ),
        },
        period_start: now,
        period_paid: money.upfront,
        release_prepaid_data_disks: false,
        phase: Phase::Pending,
        launch_at,
        public_ip_at,
        fails,
        freeze: money.freeze,
        paid_upfront: money.upfront,
        renew_fen: money.renew,
        hourly_fixed: cost.hourly_fixed(&order.charge),
        spot_bid: money.bid,
        billing: false,
        holds_stock: true,
        latest_operation: "RunInstances".into(),
        latest_operation_state: OperationState::Operating,
        latest_request_id: ctx.request_id.clone(),
        latest_error: None,
        restrict_state: "NORMAL".into(),
        client_token: order.client_token.clone(),
        running_visible: None,
        public_ip_visible: None,
        ended: None,
    };
    let expires = instance.expired;
    world.insert_instance(instance);
    world.schedule(launch_at, EventKind::Launch(id.clone()));
    if let Some(at) = expires {
        world.schedule(at, EventKind::Expire(id.clone()));
        world.record_prepaid(&id, BillAction::NewPurchase, now, at, money.upfront);
    }
    if let Some(at) = public_ip_at {
        world.schedule(at, EventKind::PublicIp(id.clone()));
    }
    id
}

/// The display name of instance `i` of `count`: `{R:x}` / `{R:x,F:y}` patterns count up from x
/// (zero-padded to y digits); without a pattern several instances get the suffixes 1…n.
pub fn instance_name(pattern: Option<&str>, i: i64, count: i64) -> String {
    let Some(pattern) = pattern.filter(|p| !p.is_empty()) else {
        return "未命名".to_owned();
    };
    let mut out = String::new();
    let mut rest = pattern;
    let mut expanded = false;
    while let Some(start) = rest.find("{R:") {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let inner = &rest[start + 3..start + end];
        let (first, width) = match inner.split_once(",F:") {
            Some((x, y)) => (x.parse::<i64>().ok(), y.parse::<usize>().ok().filter(|w| *w <= 8)),
            None => (inner.parse::<i64>().ok(), Some(0)),
        };
        out.push_str(&rest[..start]);
        match (first, width) {
            (Some(first), Some(width)) => {
                out.push_str(&format!("{:0width$}", first + i));
                expanded = true;
            }
            _ => out.push_str(&rest[start..=start + end]),
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    if !expanded && count > 1 {
        out.push_str(&(i + 1).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::instance_name;

    #[test]
    fn name_patterns_number_the_instances() {
        assert_eq!(instance_name(Some("server_{R:3}"), 1, 2), "server_4");
        assert_eq!(instance_name(Some("server_{R:3,F:3}"), 0, 2), "server_003");
        assert_eq!(instance_name(Some("app_{R:99,F:2}"), 1, 2), "app_100");
        assert_eq!(instance_name(Some("server_"), 1, 2), "server_2");
        assert_eq!(instance_name(Some("web"), 0, 1), "web");
        assert_eq!(instance_name(None, 0, 1), "未命名");
    }
}
