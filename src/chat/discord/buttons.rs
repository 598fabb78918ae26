//! Votes by button. Approve counts at once; Reject first asks for a reason in a modal. The card
//! itself is only ever edited by the dispatcher (with the bot token), so a click is acknowledged
//! without a new message body: two writers (this answer and the dispatcher's edit of a later
//! state) could otherwise reach Discord out of order and leave an old state on the card.

use super::convert::person;
use super::handler::{Handler, acknowledge, log_if_internal, private};
use crate::chat::render::{parse_lifetime_button_id, parse_vote_button_id};
use crate::desk::Ballot;
use crate::domain::VoteVia;
use serenity::all::{
    ActionRowComponent, ComponentInteraction, Context, CreateActionRow, CreateInputText, CreateInteractionResponse,
    CreateModal, InputTextStyle, ModalInteraction,
};
use tracing::warn;

/// The custom_id prefix of the reject modal: `cvm:reject-reason:<request>:<hash>`.
const REJECT_MODAL: &str = "cvm:reject-reason:";
/// The modal's text input.
const REASON: &str = "reason";

impl Handler {
    pub(super) async fn button(&self, ctx: &Context, component: &ComponentInteraction) {
        if let Some((action, purchase)) = parse_lifetime_button_id(&component.data.custom_id) {
            return self.lifetime_button(ctx, component, action, purchase).await;
        }
        let Some((approve, id, hash)) = parse_vote_button_id(&component.data.custom_id) else {
            warn!(custom_id = %component.data.custom_id, "a button cvmbot does not know");
            if let Err(e) =
                acknowledge(component.create_response(&ctx.http, private("That button is no longer in use."))).await
            {
                warn!(error = %e, "could not answer a button");
            }
            return;
        };
        let me = person(&component.user, component.member.as_ref());
        let response = if approve {
            let ballot = Ballot {
                approve: true,
                reason: None,
                seen_hash: Some(hash),
                via: VoteVia::Button,
            };
            match self.desk.vote(id, &me, &ballot).await {
                // The vote woke the dispatcher, which edits the card.
                Ok(_) => CreateInteractionResponse::Acknowledge,
                Err(e) => {
                    log_if_internal(&e);
                    private(&e.user_message())
                }
            }
        } else {
            match self.desk.check_vote(id, &me, Some(&hash)).await {
                Ok(()) => CreateInteractionResponse::Modal(
                    CreateModal::new(format!("{REJECT_MODAL}{id}:{hash}"), format!("Reject request #{id}")).components(
                        vec![CreateActionRow::InputText(
                            CreateInputText::new(InputTextStyle::Paragraph, "Why? (shown on the request)", REASON)
                                .required(true)
                                .max_length(300),
                        )],
                    ),
                ),
                Err(e) => {
                    log_if_internal(&e);
                    private(&e.user_message())
                }
            }
        };
        if let Err(e) = acknowledge(component.create_response(&ctx.http, response)).await {
            warn!(error = %e, "could not answer a button");
        }
    }

    pub(super) async fn modal(&self, ctx: &Context, modal: &ModalInteraction) {
        if let Some(purchase) = modal
            .data
            .custom_id
            .strip_prefix(super::lifetime::RENEW_MODAL)
            .and_then(|id| id.parse::<crate::domain::RequestId>().ok())
        {
            return self.renew_form(ctx, modal, purchase).await;
        }
        let parsed = modal.data.custom_id.strip_prefix(REJECT_MODAL).and_then(|rest| {
            let (id, hash) = rest.split_once(':')?;
            Some((id.parse::<crate::domain::RequestId>().ok()?, hash.to_owned()))
        });
        let Some((id, hash)) = parsed else {
            warn!(custom_id = %modal.data.custom_id, "a modal cvmbot does not know");
            if let Err(e) =
                acknowledge(modal.create_response(&ctx.http, private("That form is no longer in use."))).await
            {
                warn!(error = %e, "could not answer a modal");
            }
            return;
        };
        let reason = modal
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .find_map(|component| match component {
                ActionRowComponent::InputText(input) if input.custom_id == REASON => input.value.clone(),
                _ => None,
            })
            .filter(|r| !r.trim().is_empty());
        let me = person(&modal.user, modal.member.as_ref());
        let ballot = Ballot {
            approve: false,
            reason,
            seen_hash: Some(hash),
            via: VoteVia::Button,
        };
        let response = match self.desk.vote(id, &me, &ballot).await {
            Ok(_) => private(&format!("You rejected request #{id}.")),
            Err(e) => {
                log_if_internal(&e);
                private(&e.user_message())
            }
        };
        if let Err(e) = acknowledge(modal.create_response(&ctx.http, response)).await {
            warn!(error = %e, "could not answer a modal");
        }
    }
}
