//! The bills: every charge the billing engine makes, as bill lines. Pay-as-you-go and spot usage
//! accrues per instance exactly (yuan/hour × ms) and is cut into one line per instance per clock
//! hour it ran; a prepaid purchase or renewal is one line, a refund one negative line.
//!
//! Lines are in whole fen, rounded the way the engine charges: the engine takes the whole fen of
//! an account's running sum of usage, so a usage line, when it closes, is given the fen by which
//! the whole-fen part of the account's sum of closed usage grew (cumulative flooring). Once every
//! usage line is closed — at the top of each hour, or when an account's servers stop — the lines
//! of an account add up to exactly what the engine took from its balance.

use crate::clock::SimMs;
use crate::world::World;
use crate::world::instance::SimInstance;
use cvmbot_tencent::bills::{BillAction, PayMode};
use cvmbot_tencent::enums::ChargeType;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An hour in milliseconds.
pub const HOUR_MS: SimMs = 3_600_000;
/// yuan/hour × ms per fen.
const MS_YUAN_PER_FEN: i64 = 36_000;

/// One bill line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BillLine {
    /// A number unique in the world, in the order lines were written.
    pub id: u64,
    /// The owner and payer.
    pub uin: u64,
    /// The instance id.
    pub resource_id: String,
    /// The instance's name.
    pub resource_name: String,
    /// `ap-guangzhou`.
    pub region: String,
    /// `ap-guangzhou-3`.
    pub zone: String,
    /// `S5.MEDIUM4`.
    pub instance_type: String,
    /// The instance's tags when the line was written.
    pub tags: Vec<(String, String)>,
    /// `prePay` or `postPay`.
    pub prepaid: bool,
    /// A spot instance's usage.
    pub spot: bool,
    /// Tencent's `ActionTypeName`.
    pub action: String,
    /// The first instant billed.
    pub fee_begin: SimMs,
    /// The instant after the last one billed.
    pub fee_end: SimMs,
    /// When it was charged.
    pub pay_time: SimMs,
    /// Fen charged (negative for a refund).
    pub fen: i64,
    /// The exact usage billed, yuan/hour × ms (zero for a prepaid line).
    pub usage: Decimal,
}

impl BillLine {
    /// The pay mode.
    pub fn pay_mode(&self) -> PayMode {
        if self.prepaid {
            PayMode::Prepaid
        } else {
            PayMode::Postpaid
        }
    }

    /// The amount in yuan.
    pub fn yuan(&self) -> Decimal {
        Decimal::new(self.fen, 2)
    }
}

/// An instance's usage in the hour under way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct OpenUsage {
    /// When this hour's usage began.
    begin: SimMs,
    /// Accrued up to here.
    until: SimMs,
    /// yuan/hour × ms accrued this hour.
    accrued: Decimal,
}

/// An account's closed usage: the exact sum and the fen its lines were given.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Settled {
    exact: Decimal,
    fen: i64,
}

/// The lines written so far and the usage not yet cut into lines.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ledger {
    /// Every line, in the order written.
    pub lines: Vec<BillLine>,
    open: BTreeMap<String, OpenUsage>,
    settled: BTreeMap<u64, Settled>,
    /// Every billing instance's usage is cut into lines up to the hour that holds this instant.
    #[serde(default)]
    hours_cut_to: SimMs,
}

impl World {
    /// Accrues every billing instance's usage from where it stands to `to` at the rate in force,
    /// writing a line at each hour it crosses, hour by hour. Needed only where a rate is about to
    /// change (a spot price moves): between those, an instance's usage is one rate times its
    /// time, so it is brought up to date lazily (see [`World::cut_hours`]).
    pub(crate) fn accrue_usage(&mut self, to: SimMs) {
        let mut ids: Vec<(u64, String)> = self
            .instances
            .values()
            .filter(|i| i.billing)
            .map(|i| (i.seq, i.id.clone()))
            .collect();
        ids.sort();
        let mut hour_end = (self.now.div_euclid(HOUR_MS) + 1) * HOUR_MS;
        while hour_end < to {
            for (_, id) in &ids {
                self.accrue_instance_usage(id, hour_end);
            }
            hour_end += HOUR_MS;
        }
        for (_, id) in &ids {
            self.accrue_instance_usage(id, to);
        }
        self.ledger.hours_cut_to = self.ledger.hours_cut_to.max(to);
    }

    /// Writes the lines of every hour that ended by `to` (a cheap check when none did): bills
    /// read at any moment show every finished hour, as Tencent's hourly settlement does.
    pub(crate) fn cut_hours(&mut self, to: SimMs) {
        if to.div_euclid(HOUR_MS) > self.ledger.hours_cut_to.div_euclid(HOUR_MS) {
            self.accrue_usage(to);
        }
    }

    /// An instance's billing starts at `at`: its usage is counted from there.
    pub(crate) fn open_usage(&mut self, id: &str, at: SimMs) {
        self.ledger.open.entry(id.to_owned()).or_insert(OpenUsage {
            begin: at,
            until: at,
            accrued: Decimal::ZERO,
        });
    }

    /// Accrues one instance's usage from where it stands to `to` at the rate in force, writing a
    /// line at each hour it crosses.
    pub(crate) fn accrue_instance_usage(&mut self, id: &str, to: SimMs) {
        let Some(instance) = self.instances.get(id).filter(|i| i.billing) else {
            return;
        };
        let rate = instance.hourly_fixed
            + if instance.is_spot() {
                self.spot_prices
                    .get(&instance.market_key())
                    .copied()
                    .unwrap_or_default()
            } else {
                Decimal::ZERO
            };
        let mut at = self.ledger.open.get(id).map_or(self.now, |open| open.until);
        while at < to {
            let hour_end = (at.div_euclid(HOUR_MS) + 1) * HOUR_MS;
            let step = hour_end.min(to);
            let open = self.ledger.open.entry(id.to_owned()).or_insert(OpenUsage {
                begin: at,
                until: at,
                accrued: Decimal::ZERO,
            });
            open.accrued += rate * Decimal::from(step - at);
            open.until = step;
            at = step;
            if step == hour_end {
                self.close_usage(id, step);
                self.open_usage(id, step);
            }
        }
    }

    /// Writes an instance's usage so far as a line (its billing stopped, or an hour ended).
    pub(crate) fn close_usage(&mut self, id: &str, at: SimMs) {
        let Some(open) = self.ledger.open.remove(id) else {
            return;
        };
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        if open.accrued.is_zero() {
            return;
        }
        let settled = self.ledger.settled.entry(instance.uin).or_default();
        settled.exact += open.accrued;
        let whole = (settled.exact / Decimal::from(MS_YUAN_PER_FEN))
            .floor()
            .to_i64()
            .unwrap_or(i64::MAX);
        let fen = whole - settled.fen;
        settled.fen = whole;
        let spot = instance.is_spot();
        let action = if spot {
            BillAction::SpotHourlySettlement
        } else {
            BillAction::HourlySettlement
        };
        let mut line = line_of(instance, action, open.begin, open.until.max(at), at, fen, open.accrued);
        // Hourly usage is pay-as-you-go, whatever else the instance pays in advance.
        line.prepaid = false;
        line.spot = spot;
        self.write_line(line);
    }

    /// Writes a prepaid charge of `fen` for an instance's period `begin..end` (a refund's `fen`
    /// is negative).
    pub(crate) fn record_prepaid(&mut self, id: &str, action: BillAction, begin: SimMs, end: SimMs, fen: i64) {
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        if fen == 0 {
            return;
        }
        let line = line_of(instance, action, begin, end, self.now, fen, Decimal::ZERO);
        self.write_line(line);
    }

    fn write_line(&mut self, mut line: BillLine) {
        line.id = self.ledger.lines.len() as u64 + 1;
        self.ledger.lines.push(line);
    }
}

fn line_of(
    instance: &SimInstance,
    action: BillAction,
    begin: SimMs,
    end: SimMs,
    paid: SimMs,
    fen: i64,
    usage: Decimal,
) -> BillLine {
    BillLine {
        id: 0,
        uin: instance.uin,
        resource_id: instance.id.clone(),
        resource_name: instance.name.clone(),
        region: instance.region.clone(),
        zone: instance.zone.clone(),
        instance_type: instance.instance_type.clone(),
        tags: instance.tags.clone(),
        prepaid: instance.charge_type == ChargeType::Prepaid,
        spot: instance.is_spot(),
        action: action.name().to_owned(),
        fee_begin: begin,
        fee_end: end,
        pay_time: paid,
        fen,
        usage,
    }
}
