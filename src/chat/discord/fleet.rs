//! `/cvm fleet create|scale|status|release`: bad options are answered at once, privately; a
//! valid request is deferred while Tencent prices it, then posted as a card like any request.

use super::commands::Invocation;
use super::handler::{Handler, private};
use super::slash::{cannot_post_here, private_card};
use crate::domain::{BillingKind, Operation, Person};
use serenity::all::{CommandInteraction, Context};

impl Handler {
    pub(super) async fn fleet(
        &self,
        ctx: &Context,
        command: &CommandInteraction,
        me: &Person,
        invocation: &Invocation,
        what: &str,
    ) {
        let name = invocation.options.get("name").cloned().unwrap_or_default();
        let reason = invocation.options.get("reason").map(String::as_str);
        if what == "status" {
            let reply = private_card(self.desk.fleet_view(&name).await);
            return self.respond(ctx, command, reply).await;
        }
        let create = match what {
            "create" => match self.desk.prepare_fleet(me, &invocation.form(BillingKind::Spot)) {
                Ok(fleet) => Some(fleet),
                Err(e) => return self.respond(ctx, command, private(&e.user_message())).await,
            },
            "scale" | "release" => None,
            _ => {
                let text = "Unknown fleet command; try /cvm fleet create, scale, status or release.";
                return self.respond(ctx, command, private(text)).await;
            }
        };
        let count = match (what, invocation.options.get("count").map(|c| c.parse::<u32>())) {
            ("scale", Some(Ok(count))) => Some(count),
            ("scale", _) => {
                let text =
                    "count: how many servers the fleet keeps from now on, e.g. /cvm fleet scale name:ci count:20";
                return self.respond(ctx, command, private(text)).await;
            }
            _ => None,
        };
        if let Some(text) = cannot_post_here(command) {
            return self.respond(ctx, command, private(&text)).await;
        }
        let origin = self.defer_privately(ctx, command).await;
        let filed = match create {
            Some(fleet) => self.desk.file(me, Operation::Fleet(fleet), origin).await,
            None => self.desk.change_fleet(me, &name, count, reason, origin).await,
        };
        let text = self.filed_text(filed).await;
        self.finish_deferred(ctx, command, &text).await;
    }
}
