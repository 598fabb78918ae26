//! Moves the world through simulated time: instance launches and public IPs, by-the-second
//! billing of pay-as-you-go and spot instances, the spot market's random walk, and reclamation
//! (spot instances outbid, servers of accounts in arrears past the grace period; spot capacity
//! taken back is [`crate::reclaim`]).
//!
//! Time is processed as segments between events, so the outcome depends only on simulated time
//! and the seed, not on how often the world is looked at.

use super::clock::{SimClock, SimMs, add_months};
use super::world::instance::{Phase, Visible};
use super::world::{EventKind, KeptDisk, World};
use cvmbot_tencent::bills::BillAction;
use cvmbot_tencent::enums::{ChargeType, OperationState};
use rust_decimal::Decimal;
use tracing::info;

/// Why an instance was destroyed without being asked to.
pub const REASON_OUTBID: &str = "spot instance reclaimed: the market price rose above its bid";
/// Reclaimed because its zone × type needed the spot capacity back.
pub const REASON_CAPACITY: &str = "spot instance reclaimed: the capacity was needed";
/// Reclaimed for debt.
pub const REASON_ARREARS: &str = "reclaimed: the account stayed in arrears past the grace period";
/// Released after expiring unrenewed.
pub const REASON_EXPIRED: &str = "released: the prepaid period ended without renewal";
/// The RenewFlag that renews automatically.
const AUTO_RENEW: &str = "NOTIFY_AND_AUTO_RENEW";

impl World {
    /// Brings the world up to simulated time `to`.
    pub fn tick(&mut self, to: SimMs, clock: &SimClock) {
        loop {
            let next_event = self.events.peek().map(|e| e.0.at.max(self.now));
            let next_arrears = self.next_arrears_deadline();
            let next = [next_event, Some(self.next_spot_step), next_arrears]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(to);
            if next > to {
                break;
            }
            self.accrue_all(next);
            self.now = self.now.max(next);
            if next_event == Some(next) {
                if let Some(event) = self.events.pop() {
                    self.apply(event.0.kind, next, clock);
                }
            } else if self.next_spot_step == next {
                // Spot usage so far at the old prices.
                self.accrue_usage(next);
                self.step_spot_market();
                self.reclaim_outbid(next);
            } else {
                self.reclaim_arrears(next);
            }
        }
        self.accrue_all(to);
        self.now = self.now.max(to);
    }

    /// Accrues every account up to `to` at the prices in force, and cuts the usage of every hour
    /// that ended into bill lines.
    pub fn accrue_all(&mut self, to: SimMs) {
        self.cut_hours(to);
        let prices = self.spot_prices.clone();
        for account in &mut self.accounts {
            let rate = account.rate(|key| prices.get(key).copied().unwrap_or_default());
            account.accrue(to, rate);
        }
    }

    fn next_arrears_deadline(&self) -> Option<SimMs> {
        let grace = self.cat.config.billing.arrears_grace_secs as i64 * 1000;
        self.accounts
            .iter()
            .filter(|a| !a.arrears_handled)
            .filter_map(|a| a.arrears_since.map(|since| (since + grace).max(self.now)))
            .min()
    }

    fn apply(&mut self, kind: EventKind, at: SimMs, clock: &SimClock) {
        match kind {
            EventKind::Launch(id) => self.launch(&id, at, clock),
            EventKind::PublicIp(id) => {
                let ip = self.public_ip();
                let Some(instance) = self.instances.get_mut(&id) else {
                    self.public_ips.remove(&ip);
                    return;
                };
                if instance.phase == Phase::Running && instance.public_ip.is_none() {
                    instance.public_ip = Some(ip);
                    instance.public_ip_visible = Some(Visible {
                        sim_ms: at,
                        wall_ms: clock.wall_time_of(at),
                    });
                } else {
                    self.public_ips.remove(&ip);
                }
            }
            EventKind::Vanish(id) => self.remove_instance(&id),
            EventKind::Expire(id) => self.expire(&id, at),
        }
    }

    /// A prepaid instance at its ExpiredTime: renewed for a month when it auto-renews and the
    /// account can pay, isolated otherwise; an isolated one is released after the retention.
    fn expire(&mut self, id: &str, at: SimMs) {
        let retention = self.cat.config.lifecycle.expired_retention_secs as i64 * 1000;
        let Some(instance) = self.instances.get(id) else {
            return;
        };
        let Some(expired) = instance.expired.filter(|e| at >= *e) else {
            return;
        };
        let (uin, phase, price) = (instance.uin, instance.phase, instance.renew_fen);
        let auto_renew = instance.renew_flag.as_deref() == Some(AUTO_RENEW);
        let isolated_on_expiry = instance.restrict_state == "EXPIRED";
        match phase {
            Phase::Running => {
                let paid = auto_renew
                    && self.account_of_uin(uin).is_some_and(|account| {
                        let affordable = account.spendable() >= price;
                        if affordable {
                            account.pay(price);
                            account.recheck_arrears(at);
                        }
                        affordable
                    });
                if paid {
                    let next = add_months(expired, 1);
                    if let Some(instance) = self.instances.get_mut(id) {
                        instance.expired = Some(next);
                        instance.period_paid += price;
                    }
                    self.record_prepaid(id, BillAction::Renewal, expired, next, price);
                    info!(instance = id, fen = price, "prepaid instance renewed for a month");
                    self.schedule(next, EventKind::Expire(id.to_owned()));
                } else {
                    self.stop_billing(id);
                    if let Some(instance) = self.instances.get_mut(id) {
                        instance.phase = Phase::Shutdown;
                        instance.restrict_state = "EXPIRED".into();
                    }
                    info!(instance = id, "prepaid instance expired and isolated");
                    self.schedule(at + retention, EventKind::Expire(id.to_owned()));
                }
            }
            Phase::Shutdown if !isolated_on_expiry || at >= expired + retention => {
                self.destroy(id, at, REASON_EXPIRED);
            }
            Phase::Shutdown | Phase::Pending | Phase::LaunchFailed | Phase::Terminating => {}
        }
    }

    fn launch(&mut self, id: &str, at: SimMs, clock: &SimClock) {
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        if instance.phase != Phase::Pending {
            return;
        }
        if instance.fails {
            let message = self.cat.config.lifecycle.launch_failure_message.clone();
            let retention = self.cat.config.lifecycle.launch_failed_retention_secs as i64 * 1000;
            instance.phase = Phase::LaunchFailed;
            instance.latest_operation_state = OperationState::Failed;
            instance.latest_error = Some(message);
            instance.ended = Some((at, "launch failed".into()));
            let (uin, freeze, refund) = (instance.uin, instance.freeze, instance.paid_upfront);
            let period_end = instance.expired.unwrap_or(at);
            instance.freeze = 0;
            instance.paid_upfront = 0;
            instance.period_paid = 0;
            self.release_stock(id);
            if let Some(account) = self.account_of_uin(uin) {
                account.freeze -= freeze;
                account.refund(refund);
                account.recheck_arrears(at);
            }
            self.record_prepaid(id, BillAction::Refund, at, period_end, -refund);
            self.schedule(at + retention, EventKind::Vanish(id.to_owned()));
            return;
        }
        instance.phase = Phase::Running;
        instance.latest_operation_state = OperationState::Success;
        instance.running_visible = Some(Visible {
            sim_ms: at,
            wall_ms: clock.wall_time_of(at),
        });
        let (uin, hourly, spot_key) = (
            instance.uin,
            instance.hourly_fixed,
            instance.is_spot().then(|| instance.market_key()),
        );
        instance.billing = true;
        self.open_usage(id, at);
        if let Some(account) = self.account_of_uin(uin) {
            account.fixed_rate += hourly;
            if let Some(key) = spot_key {
                *account.spot_counts.entry(key).or_default() += 1;
            }
        }
    }

    /// Stops an instance's hourly billing and releases its freeze.
    pub fn stop_billing(&mut self, id: &str) {
        let now = self.now;
        self.accrue_instance_usage(id, now);
        self.close_usage(id, now);
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        let (uin, hourly, freeze, billing) = (instance.uin, instance.hourly_fixed, instance.freeze, instance.billing);
        let spot_key = instance.is_spot().then(|| instance.market_key());
        instance.billing = false;
        instance.freeze = 0;
        let Some(account) = self.account_of_uin(uin) else {
            return;
        };
        account.freeze -= freeze;
        if billing {
            account.fixed_rate -= hourly;
            if let Some(key) = spot_key
                && let Some(count) = account.spot_counts.get_mut(&key)
            {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    account.spot_counts.remove(&key);
                }
            }
        }
    }

    /// Gives an instance's stock unit back.
    pub fn release_stock(&mut self, id: &str) {
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        if !instance.holds_stock {
            return;
        }
        instance.holds_stock = false;
        let spot = instance.is_spot();
        let quota = super::world::quota_key(instance.uin, &instance.zone, instance.charge_type.as_str());
        if let Some(used) = self.quota_used.get_mut(&quota) {
            *used = used.saturating_sub(1);
        }
        if let Some(stock) = self.stock.get_mut(&instance.market_key()) {
            if spot {
                stock.spot += 1;
            } else {
                stock.regular += 1;
            }
        }
    }

    /// Starts an instance's hourly billing again (a prepaid one renewed out of the recycle bin:
    /// its hourly bandwidth, if any).
    pub fn start_billing(&mut self, id: &str) {
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        if instance.billing {
            return;
        }
        instance.billing = true;
        let (uin, hourly) = (instance.uin, instance.hourly_fixed);
        let now = self.now;
        self.open_usage(id, now);
        if let Some(account) = self.account_of_uin(uin) {
            account.fixed_rate += hourly;
        }
    }

    /// Destroys an instance: billing stops, the freeze and the stock are released, the data
    /// disks that outlive it are kept, and it shows as TERMINATING until it disappears.
    pub fn destroy(&mut self, id: &str, at: SimMs, reason: &str) {
        self.stop_billing(id);
        self.release_stock(id);
        self.keep_disks(id, at);
        let terminating = self.cat.config.lifecycle.terminating_secs as i64 * 1000;
        if let Some(instance) = self.instances.get_mut(id) {
            instance.phase = Phase::Terminating;
            instance.latest_operation = "TerminateInstances".into();
            instance.latest_operation_state = OperationState::Success;
            instance.ended = Some((at, reason.to_owned()));
        }
        self.schedule(at + terminating, EventKind::Vanish(id.to_owned()));
    }

    /// Moves the data disks that outlive a destroyed instance to [`World::kept_disks`]: a prepaid
    /// instance's unless `ReleasePrepaidDataDisks` was given, otherwise those bought with
    /// `DeleteWithInstance: false`.
    fn keep_disks(&mut self, id: &str, at: SimMs) {
        let Some(instance) = self.instances.get_mut(id) else {
            return;
        };
        let prepaid = instance.charge_type == ChargeType::Prepaid;
        let release_prepaid = instance.release_prepaid_data_disks;
        let (kept, gone): (Vec<_>, Vec<_>) = std::mem::take(&mut instance.data_disks).into_iter().partition(|disk| {
            if prepaid {
                !release_prepaid
            } else {
                !disk.delete_with_instance
            }
        });
        instance.data_disks = gone;
        let (uin, zone) = (instance.uin, instance.zone.clone());
        self.kept_disks.extend(kept.into_iter().map(|disk| KeptDisk {
            uin,
            zone: zone.clone(),
            instance_id: id.to_owned(),
            disk,
            since: at,
        }));
    }

    fn step_spot_market(&mut self) {
        let spot = self.cat.config.spot.clone();
        let keys: Vec<String> = self.spot_prices.keys().cloned().collect();
        for key in keys {
            let hourly = key
                .split_once('/')
                .and_then(|(_, kind)| self.cat.instance_type(kind))
                .map_or(Decimal::ZERO, |k| k.hourly);
            // A move uniform in [-volatility, +volatility], drawn in millionths.
            let draw = Decimal::from(self.spot_rng.below(2_000_001) as i64 - 1_000_000) / Decimal::from(1_000_000);
            let price = self.spot_price(&key);
            let moved = (price * (Decimal::ONE + spot.volatility * draw))
                .clamp(hourly * spot.min_ratio, hourly * spot.max_ratio)
                .round_dp(4);
            self.spot_prices.insert(key, moved);
        }
        self.next_spot_step += spot.step_secs as i64 * 1000;
    }

    /// Reclaims every spot instance whose bid is now below its market's price.
    pub fn reclaim_outbid(&mut self, at: SimMs) {
        let mut outbid = Vec::new();
        for (key, ids) in &self.spot_index {
            let price = self.spot_price(key);
            for id in ids {
                if let Some(instance) = self.instances.get(id)
                    && matches!(instance.phase, Phase::Pending | Phase::Running)
                    && instance.spot_bid.is_some_and(|bid| bid < price)
                {
                    outbid.push(id.clone());
                }
            }
        }
        for id in outbid {
            info!(instance = %id, "spot instance reclaimed: outbid");
            self.destroy(&id, at, REASON_OUTBID);
        }
    }

    fn reclaim_arrears(&mut self, at: SimMs) {
        let grace = self.cat.config.billing.arrears_grace_secs as i64 * 1000;
        let due: Vec<u64> = self
            .accounts
            .iter()
            .filter(|a| !a.arrears_handled && a.arrears_since.is_some_and(|s| s + grace <= at))
            .map(|a| a.uin)
            .collect();
        for uin in due {
            let ids: Vec<String> = self
                .index
                .iter()
                .filter(|(key, _)| key.starts_with(&format!("{uin}/")))
                .flat_map(|(_, listed)| listed.values().cloned())
                .collect();
            for id in ids {
                let reclaim = self.instances.get(&id).is_some_and(|i| {
                    matches!(i.phase, Phase::Pending | Phase::Running)
                        && matches!(i.charge_type, ChargeType::PostpaidByHour | ChargeType::SpotPaid)
                });
                if reclaim {
                    info!(instance = %id, uin, "instance reclaimed: account in arrears");
                    self.destroy(&id, at, REASON_ARREARS);
                }
            }
            if let Some(account) = self.account_of_uin(uin) {
                account.arrears_handled = true;
            }
        }
    }
}
