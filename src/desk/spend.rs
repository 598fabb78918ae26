//! What cvmbot's servers cost, for the spend charts: each server it bought in the period, grouped
//! as asked, at the rate it was bought at, and Tencent's bill lines for them where the key may
//! read the bills. Reads only.

use super::{Desk, DeskError};
use crate::domain::spend::{self, BillLine, Rate, SpendBy, SpendPeriod, Spending};
use crate::domain::{BalanceHistory, BillingKind, Operation, Payment, Quote, SpendSeries};
use crate::money::Yuan;
use crate::store::{InstanceRecord, RequestRecord};
use crate::tencent::ErrorKind;
use crate::tencent::bills::BillMonth;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use time::OffsetDateTime;
use tracing::warn;

/// How far back the runway chart shows the balance.
pub const HISTORY: time::Duration = time::Duration::days(28);

/// How far ahead it looks for renewals and the balance's end.
pub const AHEAD: time::Duration = time::Duration::days(60);

/// Whether Tencent's bills went into a spend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Bills {
    /// They were read: figures they cover are billed.
    Read,
    /// They could not be read (the key may not, or Tencent did not answer): every figure is
    /// cvmbot's estimate, and this says why in plain words.
    Unread(String),
}

/// A spend chart's figures and where they come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spend {
    /// Spend per day by group.
    pub series: SpendSeries,
    /// Whether the bills went into it.
    pub bills: Bills,
    /// How it was grouped.
    pub by: SpendBy,
}

impl Desk {
    /// What cvmbot's servers cost per day of `period`, grouped `by`, from its own records and
    /// Tencent's bills for them.
    pub async fn spend(&self, period: &SpendPeriod, by: SpendBy) -> Result<Spend, DeskError> {
        let bills = self.period_bills(period).await;
        self.spend_where(period, by, &|_| true, &bills).await
    }

    /// Tencent's bill lines for `period` (so far), or why there are none: read once for every
    /// spend of the period that is figured from them.
    pub(super) async fn period_bills(&self, period: &SpendPeriod) -> (Vec<BillLine>, Bills) {
        let (start, end) = period.bounds();
        self.bill_lines(start, end.min(self.clock().now())).await
    }

    /// [`Desk::spend`] of the servers bought by the requests `keep` takes (a budget's scope),
    /// from `bills` read for the period.
    pub(super) async fn spend_where(
        &self,
        period: &SpendPeriod,
        by: SpendBy,
        keep: &(dyn Fn(&RequestRecord) -> bool + Send + Sync),
        (lines, bills): &(Vec<BillLine>, Bills),
    ) -> Result<Spend, DeskError> {
        let now = self.clock().now();
        let (start, end) = period.bounds();
        let mut session = self.store().session().await?;
        let instances = session.instances_costing_between(start, end.min(now)).await?;
        let mut requests: BTreeMap<crate::domain::RequestId, RequestRecord> = BTreeMap::new();
        for instance in &instances {
            if !requests.contains_key(&instance.request_id)
                && let Some(record) = session.request(instance.request_id).await?
            {
                requests.insert(instance.request_id, record);
            }
        }
        drop(session);
        let spendings: Vec<Spending> = instances
            .iter()
            .filter_map(|i| {
                let record = requests.get(&i.request_id).filter(|r| keep(r))?;
                spending(i, record, by, now)
            })
            .collect();
        let title = format!("cvmbot spend {} by {}", period.label(), by.name());
        Ok(Spend {
            series: spend::series(title, period, &spendings, lines),
            bills: bills.clone(),
            by,
        })
    }

    /// The balance over the last [`HISTORY`] (its readings, and `now` as the latest), today's
    /// burn, the prepaid renewals due within [`AHEAD`] (servers that renew themselves), and when
    /// that takes the balance to zero.
    pub async fn balance_history(&self, now_spendable: Option<crate::money::Fen>) -> Result<BalanceHistory, DeskError> {
        let now = self.clock().now();
        let mut session = self.store().session().await?;
        let mut readings = session.balance_readings(now - HISTORY).await?;
        let renewing: Vec<InstanceRecord> = session
            .prepaid_expiring(now, now + AHEAD)
            .await?
            .into_iter()
            .filter(|i| i.auto_renew)
            .collect();
        let mut payments = Vec::new();
        for instance in &renewing {
            let Some(record) = session.request(instance.request_id).await? else {
                continue;
            };
            if let (Quote::Prepaid { total, months, .. }, Some(at)) = (&record.quote, instance.expires_at) {
                let per_month = total.amount() / Decimal::from((*months).max(1) * servers_of(&record.operation).max(1));
                payments.push(Payment {
                    at,
                    amount: Yuan::new(per_month).to_fen_ceil(),
                    what: format!("renewal of {} (request #{})", instance.instance_id, instance.request_id),
                });
            }
        }
        drop(session);
        if let Some(spendable) = now_spendable {
            readings.push((now, spendable));
        }
        let burn_per_day = Yuan::new(self.burn_per_hour().await?.amount() * Decimal::from(24));
        let runs_out_at = readings
            .last()
            .and_then(|(at, spendable)| spend::runs_out(*spendable, *at, burn_per_day, &payments, AHEAD));
        Ok(BalanceHistory {
            readings,
            burn_per_day,
            payments,
            runs_out_at,
        })
    }

    /// [`Desk::spend`] for `period:` and `by:` as typed (empty: 30 days by requester); bad ones
    /// are refused naming the option and what it takes.
    pub async fn spend_as_asked(&self, period: &str, by: &str) -> Result<Spend, DeskError> {
        let today = self.clock().now().to_offset(spend::BILLING_OFFSET).date();
        let period = SpendPeriod::parse(period, today).map_err(DeskError::refused)?;
        let by = SpendBy::parse(by).map_err(DeskError::refused)?;
        self.spend(&period, by).await
    }

    /// Tencent's bill lines of the months `[from, until)` touches, or why there are none.
    async fn bill_lines(&self, from: OffsetDateTime, until: OffsetDateTime) -> (Vec<BillLine>, Bills) {
        let mut lines = Vec::new();
        let mut month = BillMonth::of(from);
        let last = BillMonth::of(until - time::Duration::seconds(1));
        loop {
            match self.tencent().all_bill_lines(month).await {
                Ok(found) => lines.extend(found.into_iter().map(|line| BillLine {
                    resource: line.resource_id,
                    from: line.fee_begin,
                    // Tencent writes a fee period's end as its last second.
                    until: line.fee_end + time::Duration::seconds(1),
                    cost: line.cost,
                })),
                Err(error) => {
                    warn!(error = %error, "could not read Tencent's bills; the spend is cvmbot's estimate");
                    let why = if error.kind == ErrorKind::Auth {
                        format!(
                            "the API key may not read them: grant it finance:DescribeBillDetail ({})",
                            error.code
                        )
                    } else {
                        error.explain()
                    };
                    return (Vec::new(), Bills::Unread(why));
                }
            }
            if month == last {
                break;
            }
            month = month.next();
        }
        (lines, Bills::Read)
    }
}

/// What `instance` cost as cvmbot knows it, in its group; `None` for a server that never cost.
fn spending(instance: &InstanceRecord, record: &RequestRecord, by: SpendBy, now: OffsetDateTime) -> Option<Spending> {
    let until = [instance.gone_at, instance.released_at, Some(now)]
        .into_iter()
        .flatten()
        .min()?;
    let rate = match instance.billing {
        BillingKind::PayAsYouGo | BillingKind::Spot => Rate::PerHour(instance.hourly_price),
        BillingKind::Prepaid => {
            let (total, months) = match &record.quote {
                Quote::Prepaid { total, months, .. } => (*total, *months),
                _ => return None,
            };
            let count = servers_of(&record.operation).max(1);
            Rate::Spread {
                total: Yuan::new(total.amount() / Decimal::from(count)),
                from: instance.created_at,
                until: add_months(instance.created_at, months),
            }
        }
    };
    Some(Spending {
        resource: instance.instance_id.clone(),
        group: group_of(instance, record, by),
        from: instance.created_at,
        until,
        rate,
    })
}

/// How many servers the request bought.
fn servers_of(operation: &Operation) -> u32 {
    match operation {
        Operation::Buy(spec) => spec.count(),
        Operation::Fleet(fleet) => fleet.count,
        _ => 1,
    }
}

/// The name of `instance`'s group.
fn group_of(instance: &InstanceRecord, record: &RequestRecord, by: SpendBy) -> String {
    let template = match &record.operation {
        Operation::Buy(spec) => Some(spec),
        Operation::Fleet(fleet) => Some(&fleet.template),
        _ => None,
    };
    match by {
        SpendBy::Requester => record.requester_name.clone(),
        SpendBy::Zone => instance.zone.clone(),
        SpendBy::Tag => match template.map(|spec| spec.tags()).filter(|tags| !tags.is_empty()) {
            Some(tags) => tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            None => "untagged".into(),
        },
        SpendBy::Type => match &record.operation {
            // A fleet's server is of the placement in its zone (the first such, when several share it).
            Operation::Fleet(fleet) => {
                std::iter::once((fleet.template.zone().to_string(), fleet.template.instance_type()))
                    .chain(fleet.fallbacks.iter().map(|p| (p.zone.to_string(), &p.instance_type)))
                    .find(|(zone, _)| *zone == instance.zone)
                    .map_or_else(|| fleet.template.instance_type().to_string(), |(_, t)| t.to_string())
            }
            _ => template.map_or_else(|| "unknown".into(), |spec| spec.instance_type().to_string()),
        },
        SpendBy::Fleet => match &record.operation {
            Operation::Fleet(fleet) => fleet.name.to_string(),
            _ => "not in a fleet".into(),
        },
    }
}

/// `at` plus `months` calendar months (the day clamped to the month's length).
fn add_months(at: OffsetDateTime, months: u32) -> OffsetDateTime {
    let date = at.date();
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months as i32;
    let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(month).expect("1 to 12");
    let day = date.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).expect("a day of the month");
    at.replace_date(date)
}
