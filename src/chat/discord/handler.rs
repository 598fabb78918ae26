//! The gateway event handler: ready (register commands, load the catalogue, reconcile),
//! interactions (`slash`: commands and autocomplete; `buttons`: votes and the reject modal),
//! reactions (`reactions`). Only in the servers cvmbot is set up for: anything from another
//! server (where a command registered before, or globally, can linger) is refused privately.

use super::commands;
use super::convert::fit;
use crate::chat::model::{APPROVE_EMOJI, REJECT_EMOJI};
use crate::desk::{Chain, Desk, DeskError};
use serenity::all::{
    Command, Context, CreateAutocompleteResponse, CreateInteractionResponse, CreateInteractionResponseMessage,
    EventHandler, GuildId, Interaction, Reaction, ReactionType, Ready, ResumedEvent,
};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tokio::sync::watch;
use tracing::{error, info, warn};

/// What the handler needs besides the desk.
#[derive(Clone, Debug)]
pub struct HandlerSettings {
    /// Guilds to register commands in and answer in (empty: global, and every guild).
    pub guild_ids: Vec<u64>,
}

/// The private answer in a server cvmbot is not set up for.
pub const NOT_SET_UP: &str = "cvmbot is not set up for this server.";

/// The private answer outside any server (a direct message).
pub const SERVERS_ONLY: &str = "cvmbot works only in a server it is set up for.";

/// The event handler.
pub struct Handler {
    pub(super) desk: Desk,
    pub(super) settings: HandlerSettings,
    pub(super) bot_id: OnceLock<crate::domain::UserId>,
    ready: watch::Sender<bool>,
}

impl Handler {
    /// A handler over `desk`.
    pub fn new(desk: Desk, settings: HandlerSettings) -> Handler {
        Handler {
            desk,
            settings,
            bot_id: OnceLock::new(),
            ready: watch::channel(false).0,
        }
    }

    /// Why cvmbot does not answer in `guild`, if it does not: outside any server, or in one that
    /// is not among `discord.guild_ids` (when some are configured; otherwise every server is).
    pub(super) fn refusal(&self, guild: Option<u64>) -> Option<&'static str> {
        let ids = &self.settings.guild_ids;
        match guild {
            None => Some(SERVERS_ONLY),
            Some(guild) if ids.is_empty() || ids.contains(&guild) => None,
            Some(_) => Some(NOT_SET_UP),
        }
    }

    /// Answers an interaction from where cvmbot does not work with `text`, privately (an
    /// autocomplete with no suggestions); nothing else is done.
    async fn refuse(&self, ctx: &Context, interaction: &Interaction, text: &str) {
        let answered = match interaction {
            Interaction::Command(command) => acknowledge(command.create_response(&ctx.http, private(text))).await,
            Interaction::Autocomplete(command) => {
                let none = CreateInteractionResponse::Autocomplete(CreateAutocompleteResponse::new());
                acknowledge(command.create_response(&ctx.http, none)).await
            }
            Interaction::Component(component) => acknowledge(component.create_response(&ctx.http, private(text))).await,
            Interaction::Modal(modal) => acknowledge(modal.create_response(&ctx.http, private(text))).await,
            _ => return,
        };
        if let Err(e) = answered {
            warn!(error = %e, "could not refuse an interaction");
        }
    }

    /// Becomes true once READY has been handled: the command registered, the catalogue loaded
    /// and the votes cast while offline counted (false again while a new READY is handled).
    pub fn readiness(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }
}

/// The interaction being handled on this task: when it reached the handler, its kind, and
/// whether its acknowledgement was counted yet.
struct Received {
    at: Instant,
    kind: &'static str,
    acknowledged: AtomicBool,
}

tokio::task_local! {
    static RECEIVED: Received;
}

/// Sends an interaction's acknowledgement (its answer, deferral, form or autocomplete choices)
/// and counts how long after the interaction reached the handler it went out: the first one sent
/// for each interaction, when Discord took it.
pub(super) async fn acknowledge<T>(
    sending: impl std::future::Future<Output = serenity::Result<T>>,
) -> serenity::Result<T> {
    let sent = sending.await;
    if sent.is_ok() {
        let _ = RECEIVED.try_with(|received| {
            if !received.acknowledged.swap(true, Ordering::SeqCst) {
                crate::ops::metrics().interaction_acknowledged(received.kind, received.at.elapsed());
            }
        });
    }
    sent
}

/// Replies privately with `text` (cut to Discord's 2,000 characters).
pub(super) fn private(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(fit(text))
            .ephemeral(true),
    )
}

pub(super) fn log_if_internal(error: &DeskError) {
    if let DeskError::Internal(cause) = error {
        error!(error = %format!("{cause:#}"), "request handling failed");
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        // The first READY starts the bot's session; any later one begins a session again.
        if self.bot_id.set(ready.user.id.into()).is_err() {
            crate::ops::metrics().gateway_reconnected("identify");
        }
        self.ready.send_replace(false);
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
            warn!(error = %Chain(&e), "could not reconcile reactions cast while offline");
        }
        self.ready.send_replace(true);
    }

    async fn resume(&self, _ctx: Context, _resumed: ResumedEvent) {
        crate::ops::metrics().gateway_reconnected("resume");
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let kind = match &interaction {
            Interaction::Command(_) => "command",
            Interaction::Autocomplete(_) => "autocomplete",
            Interaction::Component(_) => "button",
            Interaction::Modal(_) => "modal",
            _ => return,
        };
        let received = Received {
            at: Instant::now(),
            kind,
            acknowledged: AtomicBool::new(false),
        };
        RECEIVED.scope(received, self.interaction(ctx, interaction)).await;
    }

    async fn reaction_add(&self, ctx: Context, added: Reaction) {
        super::reactions::on_reaction(self, &ctx, &added).await;
    }
}

impl Handler {
    async fn interaction(&self, ctx: Context, interaction: Interaction) {
        let guild = match &interaction {
            Interaction::Command(command) | Interaction::Autocomplete(command) => command.guild_id,
            Interaction::Component(component) => component.guild_id,
            Interaction::Modal(modal) => modal.guild_id,
            _ => return,
        };
        if let Some(refusal) = self.refusal(guild.map(GuildId::get)) {
            info!(guild = ?guild.map(GuildId::get), "refused an interaction from where cvmbot is not set up");
            return self.refuse(&ctx, &interaction, refusal).await;
        }
        match interaction {
            Interaction::Command(command) => self.command(&ctx, &command).await,
            Interaction::Autocomplete(command) => self.autocomplete(&ctx, &command).await,
            Interaction::Component(component) => self.button(&ctx, &component).await,
            Interaction::Modal(modal) => self.modal(&ctx, &modal).await,
            _ => {}
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
