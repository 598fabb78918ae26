//! Read-only use cases: a request with its votes and instances, listings, history, the balance.

use super::{Desk, DeskError, Runway};
use crate::domain::Operation;
use crate::domain::RequestId;
use crate::money::{Fen, Yuan};
use crate::store::{
    FleetRecord, InstanceRecord, LifetimeRecord, ListFilter, RequestRecord, Session, SlotState, VoteRecord,
};
use rust_decimal::Decimal;
use time::OffsetDateTime;

/// A request with everything a card shows.
#[derive(Clone, Debug)]
pub struct RequestView {
    /// The request.
    pub record: RequestRecord,
    /// Its votes.
    pub votes: Vec<VoteRecord>,
    /// Its instances, once bought.
    pub instances: Vec<InstanceRecord>,
    /// When its servers are released automatically (a purchase with a time to live, once bought).
    pub lifetime: Option<LifetimeRecord>,
    /// The release requests that gave its instances back: who asked, and why.
    pub releases: Vec<ReleaseNote>,
    /// How a fleet stands, for a fleet's request once it runs.
    pub fleet: Option<FleetView>,
}

/// How a fleet stands: what its card shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FleetView {
    /// The fleet.
    pub record: FleetRecord,
    /// Its servers Tencent shows RUNNING, in slots it keeps.
    pub running: u32,
    /// Every server of it Tencent shows RUNNING, those being given back included.
    pub live: u32,
    /// Its slots still to fill or whose server is starting.
    pub pending: u32,
    /// Its servers by placement (`S5.MEDIUM4 in ap-guangzhou-3`), running or starting.
    pub by_placement: Vec<(String, u32)>,
    /// What its servers cost since the start of this month (UTC), at the market price quoted
    /// when it was approved: an estimate (Tencent bills spot at the market price of each hour).
    pub spent_this_month: Yuan,
    /// Its approved budget per month-equivalent (approved servers at the bid).
    pub budget_per_month: Yuan,
}

/// Who released some of a purchase's instances, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseNote {
    /// The release request.
    pub request_id: RequestId,
    /// Who asked for it.
    pub by: String,
    /// Why.
    pub reason: String,
}

impl RequestView {
    /// Approvals that count: on the current approval hash.
    pub fn approvals(&self) -> u32 {
        self.votes
            .iter()
            .filter(|v| v.approve && v.approval_hash == self.record.approval_hash)
            .count() as u32
    }
}

/// The account's money as `/cvm balance` and the balance monitor see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BalanceReport {
    /// Spendable now (RealBalance, or RealCreditBalance on credit accounts).
    pub spendable: Fen,
    /// Frozen (the one-hour holds of hourly purchases).
    pub freeze: Fen,
    /// Owed.
    pub owe: Fen,
    /// Whether the account has a credit line.
    pub credit: bool,
    /// What cvmbot's running pay-as-you-go and spot instances burn per hour.
    pub burn_per_hour: Yuan,
    /// Spendable ÷ burn; `None` when nothing burns.
    pub runway: Option<Runway>,
    /// Tencent's RequestId of the reading.
    pub request_id: String,
}

impl Desk {
    /// Request `id` with its votes and instances.
    pub async fn view(&self, id: RequestId) -> Result<RequestView, DeskError> {
        let mut session = self.store().session().await?;
        self.view_in(&mut session, id).await
    }

    /// Like [`Desk::view`], inside an open session or transaction.
    pub(super) async fn view_in(&self, session: &mut Session, id: RequestId) -> Result<RequestView, DeskError> {
        let record = session.request(id).await?.ok_or(DeskError::NotFound(id))?;
        let votes = session.votes(id).await?;
        // A fleet's card shows the servers it has now, not every one it ever had.
        let instances = match &record.operation {
            Operation::Fleet(_) => session.fleet_instances(id).await?,
            _ => session.instances_of(id).await?,
        };
        let lifetime = session.lifetime(id).await?;
        let mut releases: Vec<ReleaseNote> = Vec::new();
        for release in instances.iter().filter_map(|i| i.release_request) {
            if releases.iter().any(|r| r.request_id == release) {
                continue;
            }
            if let Some(found) = session.request(release).await? {
                releases.push(ReleaseNote {
                    request_id: release,
                    by: found.requester_name.clone(),
                    reason: found.operation.reason().unwrap_or_default().to_owned(),
                });
            }
        }
        let fleet = match &record.operation {
            Operation::Fleet(spec) => match session.fleet(id).await? {
                Some(fleet) => Some(fleet_view(session, spec, fleet, &record.quote, self.clock().now()).await?),
                None => None,
            },
            _ => None,
        };
        Ok(RequestView {
            record,
            votes,
            instances,
            lifetime,
            releases,
            fleet,
        })
    }

    /// Requests for `/cvm list` and `/cvm history`, newest first.
    pub async fn list(&self, filter: ListFilter, limit: i64) -> Result<Vec<RequestRecord>, DeskError> {
        Ok(self.store().session().await?.list_requests(filter, limit).await?)
    }

    /// What cvmbot's instances burn per hour now.
    pub async fn burn_per_hour(&self) -> Result<Yuan, DeskError> {
        let prices = self.store().session().await?.burning_prices().await?;
        Ok(Yuan::new(prices.iter().map(|p| p.amount()).sum::<Decimal>()))
    }

    /// Reads the balance from Tencent and puts it beside what cvmbot's instances burn.
    pub async fn balance_report(&self) -> Result<BalanceReport, DeskError> {
        let answer = self.tencent().describe_account_balance().await.map_err(|error| {
            if error.is_retryable() {
                DeskError::Unavailable {
                    explanation: error.explain(),
                    cause: Box::new(error),
                }
            } else {
                DeskError::Cloud {
                    explanation: format!(
                        "Tencent Cloud refused the balance query: {} ({})",
                        error.explain(),
                        error.code
                    ),
                    cause: error,
                }
            }
        })?;
        let balance = answer.data;
        let burn_per_hour = self.burn_per_hour().await?;
        Ok(BalanceReport {
            spendable: balance.spendable(),
            freeze: balance.freeze,
            owe: balance.owe,
            credit: balance.has_credit(),
            burn_per_hour,
            runway: Runway::of(balance.spendable(), burn_per_hour),
            request_id: answer.request_id,
        })
    }
}

/// A fleet's standing from its slots and every server it ever ran.
async fn fleet_view(
    session: &mut Session,
    spec: &crate::domain::FleetSpec,
    fleet: FleetRecord,
    quote: &crate::domain::Quote,
    now: OffsetDateTime,
) -> Result<FleetView, DeskError> {
    let slots = session.fleet_slots(fleet.request_id).await?;
    let current = session.fleet_instances(fleet.request_id).await?;
    let running = super::fleets::running_servers(&slots, &current);
    let live = current
        .iter()
        .filter(|i| {
            i.state == crate::tencent::enums::InstanceState::Running && i.released_at.is_none() && i.gone_at.is_none()
        })
        .count() as u32;
    let keeping = slots.iter().filter(|s| s.state != SlotState::Retiring).count() as u32;
    let placements = spec.placements();
    let mut by_placement: Vec<(String, u32)> = Vec::new();
    for slot in slots.iter().filter(|s| s.state == SlotState::Filled) {
        let name = placements[(slot.placement as usize).min(placements.len() - 1)].to_string();
        match by_placement.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => by_placement.push((name, 1)),
        }
    }
    let month_start = now
        .replace_day(1)
        .map(|d| d.replace_time(time::Time::MIDNIGHT))
        .unwrap_or(now);
    let ran = session.fleet_runs_since(fleet.request_id, month_start).await?;
    let spent: Decimal = ran
        .iter()
        .filter_map(|i| {
            let from = i.running_at?.max(month_start);
            let to = [i.gone_at, i.released_at]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(now)
                .min(now);
            (to > from)
                .then(|| i.hourly_price.amount() * Decimal::from((to - from).whole_seconds()) / Decimal::from(3600))
        })
        .sum();
    Ok(FleetView {
        running,
        live,
        pending: keeping.saturating_sub(running),
        by_placement,
        spent_this_month: Yuan::new(spent.round_dp(2)),
        budget_per_month: Yuan::new(
            (quote.monthly_equivalent().amount() * Decimal::from(fleet.approved) / Decimal::from(spec.count.max(1)))
                .round_dp(2),
        ),
        record: fleet,
    })
}
