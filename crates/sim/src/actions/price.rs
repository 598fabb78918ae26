//! Prices of an [`Order`] and InquiryPriceRunInstances. Quotes cover the whole request
//! (× InstanceCount), except the per-GB traffic price, which does not depend on the count.

use super::order::{Order, parse_order};
use super::{ApiFailure, Ctx, fail, output};
use crate::catalogue::Catalogue;
use crate::world::World;
use cvmbot_tencent::cvm::{InquiryPriceResponse, ItemPrice, Price, RunInstancesRequest};
use cvmbot_tencent::enums::{ChargeType, InternetChargeType};
use rust_decimal::Decimal;
use serde_json::Value;

/// The cost of one instance of an order, in yuan.
#[derive(Clone, Debug, Default)]
pub struct Cost {
    /// Pay-as-you-go list price of the type per hour.
    pub compute_hourly: Decimal,
    /// Disks per hour (pay-as-you-go and spot).
    pub disks_hourly: Decimal,
    /// BANDWIDTH_POSTPAID_BY_HOUR per hour.
    pub bandwidth_hourly: Decimal,
    /// Prepaid instance with disks for the period, at list price.
    pub prepaid_original: Decimal,
    /// The same after the period discount.
    pub prepaid_discounted: Decimal,
    /// BANDWIDTH_PREPAID for the period, at list price.
    pub bandwidth_prepaid_original: Decimal,
    /// The same after the period discount.
    pub bandwidth_prepaid_discounted: Decimal,
    /// Fraction paid after the prepaid discount.
    pub ratio: Decimal,
    /// The spot market price per hour now.
    pub market: Decimal,
}

impl Cost {
    /// Prices one instance of `order` with the spot market at `market`.
    pub fn of(cat: &Catalogue, order: &Order, market: Decimal) -> Cost {
        let prices = &cat.config.pricing;
        let disks = std::iter::once(&order.system_disk).chain(&order.data_disks);
        let (disk_monthly, disk_hourly) = disks.fold((Decimal::ZERO, Decimal::ZERO), |(m, h), disk| {
            let price = cat.disk(&disk.disk_type);
            let size = Decimal::from(disk.size);
            (
                m + price.map_or(Decimal::ZERO, |p| p.monthly_per_gb) * size,
                h + price.map_or(Decimal::ZERO, |p| p.hourly_per_gb) * size,
            )
        });
        let band = &prices.bandwidth;
        let tiered = |first: Decimal, above: Decimal| {
            let low = order.bandwidth.min(band.tier_mbps).max(0);
            let high = (order.bandwidth - band.tier_mbps).max(0);
            first * Decimal::from(low) + above * Decimal::from(high)
        };
        let mut cost = Cost {
            compute_hourly: order.kind.hourly,
            market,
            ratio: Decimal::ONE,
            ..Cost::default()
        };
        match &order.charge {
            ChargeType::Prepaid => {
                let months = order.period.unwrap_or(1);
                cost.ratio = cat.prepaid_ratio(months);
                cost.prepaid_original = ((order.kind.monthly + disk_monthly) * Decimal::from(months)).round_dp(2);
                cost.prepaid_discounted = (cost.prepaid_original * cost.ratio).round_dp(2);
            }
            _ => cost.disks_hourly = disk_hourly,
        }
        match order.internet_charge_type {
            InternetChargeType::BandwidthPrepaid => {
                let months = Decimal::from(order.period.unwrap_or(1));
                cost.bandwidth_prepaid_original =
                    (tiered(band.monthly_per_mbps, band.monthly_per_mbps_above) * months).round_dp(2);
                cost.bandwidth_prepaid_discounted = (cost.bandwidth_prepaid_original * cost.ratio).round_dp(2);
            }
            InternetChargeType::BandwidthPostpaidByHour => {
                cost.bandwidth_hourly = tiered(band.hourly_per_mbps, band.hourly_per_mbps_above);
            }
            _ => {}
        }
        cost
    }

    /// What runs by the hour besides the spot price: pay-as-you-go compute, disks, bandwidth.
    pub fn hourly_fixed(&self, charge: &ChargeType) -> Decimal {
        let compute = if *charge == ChargeType::PostpaidByHour {
            self.compute_hourly
        } else {
            Decimal::ZERO
        };
        compute + self.disks_hourly + self.bandwidth_hourly
    }

    /// One hour of everything billed by the hour, at today's spot price: the freeze.
    pub fn first_hour(&self, charge: &ChargeType) -> Decimal {
        let spot = if *charge == ChargeType::SpotPaid {
            self.market
        } else {
            Decimal::ZERO
        };
        self.hourly_fixed(charge) + spot
    }

    /// Paid up front.
    pub fn upfront(&self) -> Decimal {
        self.prepaid_discounted + self.bandwidth_prepaid_discounted
    }
}

/// The documented ItemPrice for the instance part of `count` instances.
pub fn instance_item(order: &Order, cost: &Cost, count: i64) -> ItemPrice {
    let n = Decimal::from(count);
    match &order.charge {
        ChargeType::Prepaid => ItemPrice {
            original_price: Some(cost.prepaid_original * n),
            discount_price: Some(cost.prepaid_discounted * n),
            discount: Some((cost.ratio * Decimal::ONE_HUNDRED).round_dp(2)),
            ..ItemPrice::default()
        },
        ChargeType::SpotPaid => hourly_quote(
            (cost.compute_hourly + cost.disks_hourly) * n,
            (cost.market + cost.disks_hourly) * n,
            "HOUR",
        ),
        _ => {
            let price = (cost.compute_hourly + cost.disks_hourly) * n;
            hourly_quote(price, price, "HOUR")
        }
    }
}

/// The documented ItemPrice for the bandwidth of `count` instances.
pub fn bandwidth_item(cat: &Catalogue, order: &Order, cost: &Cost, count: i64) -> ItemPrice {
    let n = Decimal::from(count);
    match order.internet_charge_type {
        InternetChargeType::BandwidthPrepaid => ItemPrice {
            original_price: Some(cost.bandwidth_prepaid_original * n),
            discount_price: Some(cost.bandwidth_prepaid_discounted * n),
            discount: Some((cost.ratio * Decimal::ONE_HUNDRED).round_dp(2)),
            ..ItemPrice::default()
        },
        InternetChargeType::TrafficPostpaidByHour if order.bandwidth > 0 => {
            let per_gb = cat.config.pricing.bandwidth.traffic_per_gb;
            hourly_quote(per_gb, per_gb, "GB")
        }
        InternetChargeType::TrafficPostpaidByHour => hourly_quote(Decimal::ZERO, Decimal::ZERO, "GB"),
        _ => hourly_quote(cost.bandwidth_hourly * n, cost.bandwidth_hourly * n, "HOUR"),
    }
}

/// An hourly (or per-GB) ItemPrice with the same figures for every usage step.
pub fn hourly_quote(list: Decimal, discounted: Decimal, unit: &str) -> ItemPrice {
    // One price for every usage step: the simulator has no tiered hourly prices.
    ItemPrice {
        unit_price: Some(list),
        charge_unit: Some(unit.to_owned()),
        unit_price_discount: Some(discounted),
        unit_price_second_step: Some(list),
        unit_price_discount_second_step: Some(discounted),
        unit_price_third_step: Some(list),
        unit_price_discount_third_step: Some(discounted),
        ..ItemPrice::default()
    }
}

/// InquiryPriceRunInstances: validated like RunInstances (InstanceCount 1–100), priced for the
/// whole request; a spot bid below the market fails as RunInstances would.
pub fn inquiry_price(world: &mut World, ctx: &Ctx, request: RunInstancesRequest) -> Result<Value, ApiFailure> {
    let order = parse_order(&world.cat, &ctx.region, &request, 100)?;
    let market = world.spot_price(&format!("{}/{}", order.zone, order.kind.instance_type));
    if order.charge == ChargeType::SpotPaid
        && let Some(bid) = order.max_price
        && bid < market
    {
        return Err(fail(
            "InvalidParameterValue.InsufficientPrice",
            format!("The bid {bid} is below the market price {market}."),
        ));
    }
    let cost = Cost::of(&world.cat, &order, market);
    output(&InquiryPriceResponse {
        price: Price {
            instance_price: Some(instance_item(&order, &cost, order.count)),
            bandwidth_price: Some(bandwidth_item(&world.cat, &order, &cost, order.count)),
        },
    })
}
