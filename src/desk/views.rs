//! Read-only use cases: a request with its votes and instances, listings, history, the balance.

use super::{Desk, DeskError};
use crate::money::{Fen, Yuan};
use crate::store::{InstanceRecord, ListFilter, RequestRecord, Session, VoteRecord};
use rust_decimal::Decimal;

/// A request with everything a card shows.
#[derive(Clone, Debug)]
pub struct RequestView {
    /// The request.
    pub record: RequestRecord,
    /// Its votes.
    pub votes: Vec<VoteRecord>,
    /// Its instances, once bought.
    pub instances: Vec<InstanceRecord>,
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
    /// Spendable ÷ burn, in words; `None` when nothing burns.
    pub runway: Option<String>,
    /// Tencent's RequestId of the reading.
    pub request_id: String,
}

/// `spendable ÷ burn` in words (`3 days 4 hours`), exact decimal arithmetic.
pub fn runway(spendable: Fen, burn_per_hour: Yuan) -> Option<String> {
    if burn_per_hour <= Yuan::ZERO {
        return None;
    }
    if spendable <= Fen::ZERO {
        return Some("none: the balance is used up".into());
    }
    let hours = (spendable.to_yuan().amount() / burn_per_hour.amount()).floor();
    let hours = i64::try_from(hours).unwrap_or(i64::MAX);
    Some(match hours {
        0 => "less than an hour".into(),
        h if h < 48 => format!("about {h} hour(s)"),
        h => format!("about {} days {} hours", h / 24, h % 24),
    })
}

impl Desk {
    /// Request `id` with its votes and instances.
    pub async fn view(&self, id: i64) -> Result<RequestView, DeskError> {
        let mut session = self.store().session().await?;
        self.view_in(&mut session, id).await
    }

    /// Like [`Desk::view`], inside an open session or transaction.
    pub(super) async fn view_in(&self, session: &mut Session, id: i64) -> Result<RequestView, DeskError> {
        let record = session.request(id).await?.ok_or(DeskError::NotFound(id))?;
        let votes = session.votes(id).await?;
        let instances = session.instances_of(id).await?;
        Ok(RequestView {
            record,
            votes,
            instances,
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
                DeskError::Unavailable(error.explain())
            } else {
                DeskError::Cloud(format!(
                    "Tencent Cloud refused the balance query: {} ({})",
                    error.explain(),
                    error.code
                ))
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
            runway: runway(balance.spendable(), burn_per_hour),
            request_id: answer.request_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runway_is_spendable_over_burn_in_words() {
        let burn: Yuan = "0.52".parse().expect("yuan");
        assert_eq!(runway(Fen::new(10_000), burn).as_deref(), Some("about 8 days 0 hours"));
        assert_eq!(runway(Fen::new(100), burn).as_deref(), Some("about 1 hour(s)"));
        assert_eq!(runway(Fen::new(10), burn).as_deref(), Some("less than an hour"));
        assert_eq!(
            runway(Fen::new(0), burn).as_deref(),
            Some("none: the balance is used up")
        );
        assert_eq!(runway(Fen::new(100), Yuan::ZERO), None);
    }
}
