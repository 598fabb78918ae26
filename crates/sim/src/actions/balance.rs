//! Billing DescribeAccountBalance: the caller's account, amounts in fen.

use super::{ApiFailure, Ctx, fail, output};
use crate::world::World;
use serde_json::Value;

/// DescribeAccountBalance.
pub fn describe_account_balance(world: &mut World, ctx: &Ctx) -> Result<Value, ApiFailure> {
    let account = world
        .account_mut(&ctx.secret_id)
        .ok_or_else(|| fail("InternalError", "The account vanished."))?;
    output(&account.to_response())
}
