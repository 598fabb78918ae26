//! The buttons under a reminder: Extend and Release now (time to live), Renew… (prepaid period,
//! which first asks for the months in a form). Each is answered privately to whoever pressed it
//! (deferred: a release or renewal asks Tencent for its price first); the channel hears the
//! outcome from the engine's notices and cards.

use super::convert::person;
use super::handler::{Handler, acknowledge, log_if_internal};
use crate::chat::render::{LifetimeAction, TimeStyle};
use crate::desk::{DeskError, Extension, Origin};
use crate::domain::RequestId;
use serenity::all::{
    ActionRowComponent, ComponentInteraction, Context, CreateActionRow, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateModal, EditInteractionResponse, InputTextStyle, ModalInteraction,
};
use tracing::warn;

/// What a release from a reminder says about itself.
const RELEASE_NOW_REASON: &str = "released from a reminder";

impl Handler {
    pub(super) async fn lifetime_button(
        &self,
        ctx: &Context,
        component: &ComponentInteraction,
        action: LifetimeAction,
        purchase: RequestId,
    ) {
        if action == LifetimeAction::Renew {
            // The months are asked for first; the form's answer files the renewal.
            let form = CreateModal::new(format!("{RENEW_MODAL}{purchase}"), format!("Renew request #{purchase}"))
                .components(vec![CreateActionRow::InputText(
                    CreateInputText::new(InputTextStyle::Short, "Months (1–12, 24, 36, 48 or 60)", MONTHS)
                        .required(true)
                        .max_length(2)
                        .value("1"),
                )]);
            if let Err(e) =
                acknowledge(component.create_response(&ctx.http, CreateInteractionResponse::Modal(form))).await
            {
                warn!(error = %e, "could not answer a button");
            }
            return;
        }
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
        if let Err(e) = acknowledge(component.create_response(&ctx.http, defer)).await {
            warn!(error = %e, "could not answer a button");
            return;
        }
        let me = person(&component.user, component.member.as_ref());
        let origin = Origin {
            guild_id: component.guild_id.map(Into::into),
            channel_id: Some(component.channel_id.into()),
        };
        let text = match action {
            LifetimeAction::Renew => unreachable!("answered with the months form above"),
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

    /// The months form of a Renew… button: files the renewal.
    pub(super) async fn renew_form(&self, ctx: &Context, modal: &ModalInteraction, purchase: RequestId) {
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
        if let Err(e) = acknowledge(modal.create_response(&ctx.http, defer)).await {
            warn!(error = %e, "could not answer a form");
            return;
        }
        let typed = modal
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .find_map(|component| match component {
                ActionRowComponent::InputText(input) if input.custom_id == MONTHS => input.value.clone(),
                _ => None,
            })
            .unwrap_or_default();
        let text = match typed.trim().parse::<u32>() {
            Err(_) => format!("months: `{typed}` is not a number; use 1–12, 24, 36, 48 or 60. Nothing was filed."),
            Ok(months) => {
                let me = person(&modal.user, modal.member.as_ref());
                let origin = Origin {
                    guild_id: modal.guild_id.map(Into::into),
                    channel_id: Some(modal.channel_id.into()),
                };
                match self.desk.renew(&me, purchase, months, &[], origin).await {
                    Ok(view) if view.record.approvals_needed == 0 => format!(
                        "Filed renewal request #{} for {months} month(s); the policy lets it go ahead without an approval.",
                        view.record.id
                    ),
                    Ok(view) => format!(
                        "Filed renewal request #{} for {months} month(s); it needs {} approval(s) from someone else.",
                        view.record.id, view.record.approvals_needed
                    ),
                    Err(e) => {
                        log_if_internal(&e);
                        e.user_message()
                    }
                }
            }
        };
        if let Err(e) = modal
            .edit_response(&ctx.http, EditInteractionResponse::new().content(text))
            .await
        {
            warn!(error = %e, "could not finish a deferred form answer");
        }
    }
}

/// The custom_id prefix of the renewal form: `cvm:renew-months:<purchase>`.
pub(super) const RENEW_MODAL: &str = "cvm:renew-months:";
/// The form's months input.
const MONTHS: &str = "months";

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
