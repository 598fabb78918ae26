//! The gateway event handler: ready (register commands, reconcile), interactions, reactions.

use super::commands::{self, Invocation};
use super::convert::{create_message, person, reaction, response_message};
use crate::chat::model::{APPROVE_EMOJI, REJECT_EMOJI};
use crate::chat::render::{self, TimeStyle, parse_vote_button_id};
use crate::desk::{Ballot, Desk, DeskError, Origin};
use crate::domain::{BillingKind, Person};
use serenity::all::{
    ActionRowComponent, AutocompleteChoice, ChannelId, Command, CommandInteraction, ComponentInteraction, Context,
    CreateActionRow, CreateAutocompleteResponse, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateModal, CreateThread, EditInteractionResponse, EventHandler, GuildId,
    InputTextStyle, Interaction, ModalInteraction, Reaction, ReactionType, Ready,
};
use std::sync::OnceLock;
use tracing::{error, info, warn};

/// What the handler needs besides the desk.
#[derive(Clone, Debug)]
pub struct HandlerSettings {
    /// Guilds to register commands in (empty: global).
    pub guild_ids: Vec<u64>,
    /// Post progress in a thread under each request.
    pub thread_per_request: bool,
}

/// The event handler.
pub struct Handler {
    pub(super) desk: Desk,
    pub(super) settings: HandlerSettings,
    pub(super) bot_id: OnceLock<u64>,
}

impl Handler {
    /// A handler over `desk`.
    pub fn new(desk: Desk, settings: HandlerSettings) -> Handler {
        Handler {
            desk,
            settings,
            bot_id: OnceLock::new(),
        }
    }
}

/// Replies privately with `text`.
pub(super) fn private(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content(text).ephemeral(true))
}

fn log_if_internal(error: &DeskError) {
    if let DeskError::Internal(cause) = error {
        error!(error = %format!("{cause:#}"), "request handling failed");
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let _ = self.bot_id.set(ready.user.id.get());
        info!(bot = %ready.user.name, "connected to Discord");
        let definition = vec![commands::definition()];
        if self.settings.guild_ids.is_empty() {
            if let Err(e) = Command::set_global_commands(&ctx.http, definition).await {
                error!(error = %e, "could not register the /cvm command globally");
            }
        } else {
            for guild in &self.settings.guild_ids {
                if let Err(e) = GuildId::new(*guild).set_commands(&ctx.http, definition.clone()).await {
                    error!(guild, error = %e, "could not register the /cvm command");
                }
            }
        }
        self.desk.catalogue().refresh().await;
        if let Err(e) = super::reactions::reconcile(self, &ctx).await {
            log_if_internal(&e);
            warn!(error = %e, "could not reconcile reactions cast while offline");
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) => self.command(&ctx, &command).await,
            Interaction::Autocomplete(command) => self.autocomplete(&ctx, &command).await,
            Interaction::Component(component) => self.button(&ctx, &component).await,
            Interaction::Modal(modal) => self.modal(&ctx, &modal).await,
            _ => {}
        }
    }

    async fn reaction_add(&self, ctx: Context, added: Reaction) {
        super::reactions::on_reaction(self, &ctx, &added).await;
    }
}

impl Handler {
    async fn respond(&self, ctx: &Context, command: &CommandInteraction, response: CreateInteractionResponse) {
        if let Err(e) = command.create_response(&ctx.http, response).await {
            warn!(error = %e, "could not answer an interaction");
        }
    }

    async fn command(&self, ctx: &Context, command: &CommandInteraction) {
        let invocation = Invocation::from_options(&command.data.options);
        let me = person(&command.user, command.member.as_deref());
        if let Some(kind) = invocation.buy_kind() {
            return self.buy(ctx, command, &me, &invocation, kind).await;
        }
        let path: Vec<&str> = invocation.path.iter().map(String::as_str).collect();
        let reply = match path.as_slice() {
            ["status"] => match invocation.id() {
                Some(id) => match self.desk.view(id).await {
                    Ok(view) => {
                        let mut card = render::request_card(&view, TimeStyle::Discord);
                        card.buttons.clear();
                        CreateInteractionResponse::Message(response_message(&card).ephemeral(true))
                    }
                    Err(e) => private(&e.user_message()),
                },
                None => private("Give the request number: /cvm status id:12"),
            },
            ["list"] => {
                let filter = match invocation.options.get("filter").map(String::as_str) {
                    Some("mine") => crate::store::ListFilter::Mine(me.id),
                    Some("all") => crate::store::ListFilter::All,
                    _ => crate::store::ListFilter::Pending,
                };
                private(&self.listing(filter).await)
            }
            ["history"] => {
                let user = invocation
                    .options
                    .get("user")
                    .and_then(|u| u.parse().ok())
                    .unwrap_or(me.id);
                private(&self.listing(crate::store::ListFilter::Mine(user)).await)
            }
            ["cancel"] => match invocation.id() {
                Some(id) => match self
                    .desk
                    .cancel(id, &me, invocation.options.get("reason").map(String::as_str))
                    .await
                {
                    Ok(_) => private(&format!("Request #{id} is cancelled.")),
                    Err(e) => {
                        log_if_internal(&e);
                        private(&e.user_message())
                    }
                },
                None => private("Give the request number: /cvm cancel id:12"),
            },
            ["balance"] => return self.balance(ctx, command).await,
            _ => private("Unknown command; try /cvm buy, status, list, cancel, balance or history."),
        };
        self.respond(ctx, command, reply).await;
    }

    async fn listing(&self, filter: crate::store::ListFilter) -> String {
        match self.desk.list(filter, 20).await {
            Ok(records) if records.is_empty() => "No requests.".into(),
            Ok(records) => records
                .iter()
                .map(|r| {
                    format!(
                        "**#{}** {} × {} {} in {} by {}: {}",
                        r.id,
                        r.spec.count(),
                        r.spec.instance_type(),
                        r.spec.billing().kind().label(),
                        r.spec.zone(),
                        r.requester_name,
                        r.state.label()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => {
                log_if_internal(&e);
                e.user_message()
            }
        }
    }

    async fn balance(&self, ctx: &Context, command: &CommandInteraction) {
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
        self.respond(ctx, command, defer).await;
        let text = match self.desk.balance_report().await {
            Ok(report) => crate::chat::console::balance_text(&report),
            Err(e) => {
                log_if_internal(&e);
                e.user_message()
            }
        };
        if let Err(e) = command
            .edit_response(&ctx.http, EditInteractionResponse::new().content(text))
            .await
        {
            warn!(error = %e, "could not answer /cvm balance");
        }
    }

    /// `/cvm buy`: bad input is answered at once, privately; a valid request is deferred (the
    /// quote and dry run take time), then posted as a public card with votes.
    async fn buy(
        &self,
        ctx: &Context,
        command: &CommandInteraction,
        me: &Person,
        invocation: &Invocation,
        kind: BillingKind,
    ) {
        let form = invocation.form(kind);
        let spec = match self.desk.prepare(me, &form) {
            Ok(spec) => spec,
            Err(e) => return self.respond(ctx, command, private(&e.user_message())).await,
        };
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
        self.respond(ctx, command, defer).await;
        let origin = Origin {
            guild_id: command.guild_id.map(|g| g.get()),
            channel_id: Some(command.channel_id.get()),
        };
        let text = match self.desk.file(me, spec, origin).await {
            Ok(view) => match self.post_card(ctx, command.channel_id, &view).await {
                Ok(()) => format!(
                    "Filed request #{}; it needs {} approval(s) from someone else.",
                    view.record.id, view.record.approvals_needed
                ),
                Err(e) => {
                    error!(error = %format!("{e:#}"), request_id = view.record.id, "could not post a request card");
                    format!(
                        "Filed request #{}, but its card could not be posted here; check the bot's permissions.",
                        view.record.id
                    )
                }
            },
            Err(e) => {
                log_if_internal(&e);
                e.user_message()
            }
        };
        if let Err(e) = command
            .edit_response(&ctx.http, EditInteractionResponse::new().content(text))
            .await
        {
            warn!(error = %e, "could not finish answering /cvm buy");
        }
    }

    /// Posts the request card, records where it is (before adding reactions, so a fast vote finds
    /// it), then adds ✅ and ❌, and opens a thread if configured.
    async fn post_card(
        &self,
        ctx: &Context,
        channel: ChannelId,
        view: &crate::desk::RequestView,
    ) -> anyhow::Result<()> {
        let card = render::request_card(view, TimeStyle::Discord);
        let message = channel.send_message(&ctx.http, create_message(&card)).await?;
        let thread = if self.settings.thread_per_request {
            let name = format!("Request #{}", view.record.id);
            match channel
                .create_thread_from_message(&ctx.http, message.id, CreateThread::new(name))
                .await
            {
                Ok(thread) => Some(thread.id.get()),
                Err(e) => {
                    warn!(error = %e, "could not open a thread for the request");
                    None
                }
            }
        } else {
            None
        };
        self.desk
            .attach_message(view.record.id, channel.get(), message.id.get(), thread)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for emoji in &card.reactions {
            ctx.http.create_reaction(channel, message.id, &reaction(emoji)).await?;
        }
        Ok(())
    }

    async fn autocomplete(&self, ctx: &Context, command: &CommandInteraction) {
        let invocation = Invocation::from_options(&command.data.options);
        let Some((focused, typed)) = &invocation.focused else {
            return;
        };
        let kind = invocation.buy_kind().unwrap_or(BillingKind::PayAsYouGo);
        let catalogue = self.desk.catalogue();
        let choices = match focused.as_str() {
            "zone" => catalogue.zones(typed),
            "type" => catalogue.instance_types(
                invocation
                    .options
                    .get("zone")
                    .map(String::as_str)
                    .filter(|z| !z.is_empty()),
                kind,
                typed,
            ),
            "image" => catalogue.images(typed),
            "preset" => self
                .desk
                .settings()
                .parse
                .presets
                .keys()
                .filter(|name| name.contains(typed.trim()))
                .take(crate::desk::MAX_CHOICES)
                .map(|name| crate::desk::Choice {
                    label: name.clone(),
                    value: name.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        let choices = choices
            .into_iter()
            .map(|c| AutocompleteChoice::new(c.label, c.value))
            .collect();
        let response = CreateInteractionResponse::Autocomplete(CreateAutocompleteResponse::new().set_choices(choices));
        if let Err(e) = command.create_response(&ctx.http, response).await {
            warn!(error = %e, "could not answer autocomplete");
        }
    }

    async fn button(&self, ctx: &Context, component: &ComponentInteraction) {
        let Some((approve, id, hash)) = parse_vote_button_id(&component.data.custom_id) else {
            return;
        };
        let me = person(&component.user, component.member.as_ref());
        let response = if approve {
            let ballot = Ballot {
                approve: true,
                reason: None,
                seen_hash: Some(hash),
                via: "button".into(),
            };
            match self.desk.vote(id, &me, &ballot).await {
                Ok(outcome) => {
                    let card = render::request_card(&outcome.view, TimeStyle::Discord);
                    if let Err(e) = self.desk.mark_card_shown(id, outcome.view.record.card_version).await {
                        log_if_internal(&e);
                    }
                    CreateInteractionResponse::UpdateMessage(response_message(&card))
                }
                Err(e) => {
                    log_if_internal(&e);
                    private(&e.user_message())
                }
            }
        } else {
            match self.desk.check_vote(id, &me, Some(&hash)).await {
                Ok(()) => CreateInteractionResponse::Modal(
                    CreateModal::new(
                        format!("cvm:reject-reason:{id}:{hash}"),
                        format!("Reject request #{id}"),
                    )
                    .components(vec![CreateActionRow::InputText(
                        CreateInputText::new(InputTextStyle::Paragraph, "Why? (shown on the request)", "reason")
                            .required(true)
                            .max_length(300),
                    )]),
                ),
                Err(e) => {
                    log_if_internal(&e);
                    private(&e.user_message())
                }
            }
        };
        if let Err(e) = component.create_response(&ctx.http, response).await {
            warn!(error = %e, "could not answer a button");
        }
    }

    async fn modal(&self, ctx: &Context, modal: &ModalInteraction) {
        let Some(rest) = modal.data.custom_id.strip_prefix("cvm:reject-reason:") else {
            return;
        };
        let Some((id, hash)) = rest
            .split_once(':')
            .and_then(|(id, hash)| Some((id.parse::<i64>().ok()?, hash.to_owned())))
        else {
            return;
        };
        let reason = modal
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .find_map(|component| match component {
                ActionRowComponent::InputText(input) if input.custom_id == "reason" => input.value.clone(),
                _ => None,
            })
            .filter(|r| !r.trim().is_empty());
        let me = person(&modal.user, modal.member.as_ref());
        let ballot = Ballot {
            approve: false,
            reason,
            seen_hash: Some(hash),
            via: "button".into(),
        };
        let response = match self.desk.vote(id, &me, &ballot).await {
            Ok(_) => private(&format!("You rejected request #{id}.")),
            Err(e) => {
                log_if_internal(&e);
                private(&e.user_message())
            }
        };
        if let Err(e) = modal.create_response(&ctx.http, response).await {
            warn!(error = %e, "could not answer a modal");
        }
    }
}

/// True for the two voting emoji.
pub(super) fn vote_emoji(emoji: &ReactionType) -> Option<bool> {
    match emoji {
        ReactionType::Unicode(text) if text == APPROVE_EMOJI => Some(true),
        ReactionType::Unicode(text) if text == REJECT_EMOJI => Some(false),
        _ => None,
    }
}
