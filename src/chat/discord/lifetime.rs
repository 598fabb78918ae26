//! The buttons under a time-to-live reminder: Extend, and Release now. Both are answered
//! privately to whoever pressed them (deferred: a release asks Tencent for the refund first); the
//! channel hears the outcome from the engine's notices and cards.

use super::convert::person;
use super::handler::{Handler, log_if_internal};
use crate::chat::render::{LifetimeAction, TimeStyle};
use crate::desk::{DeskError, Extension, Origin};
use crate::domain::RequestId;
use serenity::all::{
    ComponentInteraction, Context, CreateInteractionResponse, CreateInteractionResponseMessage, EditInteractionResponse,
};
use tracing::warn;

/// What a release from a reminder says about itself.
const RELEASE_NOW_REASON: &str = "released from the time-to-live reminder";

impl Handler {
    pub(super) async fn lifetime_button(
        &self,
        ctx: &Context,
        component: &ComponentInteraction,
        action: LifetimeAction,
        purchase: RequestId,
    ) {
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
        if let Err(e) = component.create_response(&ctx.http, defer).await {
            warn!(error = %e, "could not answer a button");
            return;
        }
        let me = person(&component.user, component.member.as_ref());
        let origin = Origin {
            guild_id: component.guild_id.map(Into::into),
            channel_id: Some(component.channel_id.into()),
        };
        let text = match action {
            LifetimeAction::Extend => extension_text(purchase, self.desk.extend(&me, purchase, None, origin).await),
            LifetimeAction::ReleaseNow => {
                let filed = self
                    .desk
                    .release(&me, purchase, &[], Some(RELEASE_NOW_REASON), origin)
                    .await;
                match filed {
                    Ok(view) if view.record.approvals_needed == 0 => {
                        format!(
                            "Releasing the servers of #{purchase} now (release request #{}).",
                            view.record.id
                        )
                    }
                    Ok(view) => format!(
                        "Filed release request #{} for the servers of #{purchase}; it needs {} approval(s) from someone else.",
                        view.record.id, view.record.approvals_needed
                    ),
                    Err(e) => {
                        log_if_internal(&e);
                        e.user_message()
                    }
                }
            }
        };
        if let Err(e) = component
            .edit_response(&ctx.http, EditInteractionResponse::new().content(text))
            .await
        {
            warn!(error = %e, "could not finish a deferred button answer");
        }
    }
}

/// What an Extend (button or command) is answered with.
pub(super) fn extension_text(purchase: RequestId, extended: Result<Extension, DeskError>) -> String {
    match extended {
        Ok(Extension::Extended { until }) => format!(
            "The servers of #{purchase} now run until {}.",
            TimeStyle::Discord.at(until)
        ),
        Ok(Extension::Filed(view)) => format!(
            "That goes past the policy's maximum lifetime, so extension request #{} asks for {} approval(s) from someone else.",
            view.record.id, view.record.approvals_needed
        ),
        Err(e) => {
            log_if_internal(&e);
            e.user_message()
        }
    }
}
