//! The policy's money checks, shared by filing, approval and re-quotes: the approval tier of a
//! cost, the monthly caps (checked under a lock, so concurrent requests can't both pass a cap only
//! one fits under) and the balance. Every re-quote runs all of them again.

use super::{Desk, DeskError};
use crate::clock::month_start;
use crate::domain::{BalanceCheck, RequestId, UserId};
use crate::money::{Fen, Yuan};
use crate::store::Session;
use crate::tencent::billing::AccountBalance;
use crate::tencent::{Answer, ApiError};
use time::OffsetDateTime;
use tracing::warn;

/// Whose spending a cap check counts, and what it leaves out.
#[derive(Clone, Copy, Debug)]
pub(super) struct CapCheck {
    /// The requester.
    pub requester_id: UserId,
    /// Count pending requests too (filing), or only approved and later ones (approving).
    pub with_pending: bool,
    /// The request being judged, which must not count against itself.
    pub except: Option<RequestId>,
}

impl Desk {
    /// Whether a further `monthly` fits under the monthly caps. Takes the caps lock first, so the
    /// sum it reads stays true until the transaction commits.
    pub(super) async fn check_caps(
        &self,
        tx: &mut Session,
        monthly: Yuan,
        check: CapCheck,
        now: OffsetDateTime,
    ) -> Result<(), DeskError> {
        let policy = &self.settings().policy;
        if !policy.has_caps() {
            return Ok(());
        }
        tx.lock_monthly_caps().await?;
        let (mine, team) = tx
            .committed_since(check.requester_id, month_start(now), check.with_pending, check.except)
            .await?;
        policy.check_caps(monthly, Fen::new(mine).to_yuan(), Fen::new(team).to_yuan())?;
        Ok(())
    }
}

/// Compares the spendable balance with what must be paid or frozen at purchase. A balance that
/// could not be read is not a balance that suffices: with `block` the request is refused (saying
/// why), with `warn` it goes ahead with a warning.
pub(super) fn check_balance(
    mode: BalanceCheck,
    balance: &Result<Answer<AccountBalance>, ApiError>,
    up_front: Yuan,
    warnings: &mut Vec<String>,
) -> Result<(), DeskError> {
    let balance = match balance {
        Ok(answer) => answer.data,
        Err(error) => {
            warn!(%error, "could not read the Tencent Cloud balance to check a request against it");
            let why = format!(
                "cvmbot could not read the Tencent Cloud balance ({}), so it can't tell whether the account can pay.",
                error.explain().trim_end_matches('.')
            );
            return match mode {
                BalanceCheck::Block => Err(DeskError::refused(format!(
                    "{why} The policy refuses what it can't check (policy.balance_check = \"block\"); nothing was \
                     filed. Give cvmbot's key the finance:DescribeAccountBalance permission, or try again later."
                ))),
                BalanceCheck::Warn => {
                    warnings.push(format!("{why} It was not checked."));
                    Ok(())
                }
            };
        }
    };
    let spendable = balance.spendable();
    let needed = up_front.to_fen_ceil();
    if spendable >= needed {
        return Ok(());
    }
    let message = format!(
        "The spendable balance {spendable} can't cover the {needed} this purchase needs up front (the prepaid total, \
         or one hour frozen for pay-as-you-go and spot)."
    );
    match mode {
        BalanceCheck::Block => Err(DeskError::refused(format!(
            "{message} Top up the Tencent Cloud account first."
        ))),
        BalanceCheck::Warn => {
            warnings.push(message);
            Ok(())
        }
    }
}
