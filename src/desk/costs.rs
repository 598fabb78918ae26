//! The balance check shared by filing and re-quotes. (The monthly caps are budgets, judged with
//! the others in `budgets/check.rs`.)

use super::DeskError;
use crate::domain::BalanceCheck;
use crate::money::Yuan;
use crate::tencent::billing::AccountBalance;
use crate::tencent::{Answer, ApiError};
use tracing::warn;

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
