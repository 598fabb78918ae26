//! Slash commands and their autocomplete: `/cvm buy` (answered at once when the options are
//! bad, deferred while Tencent quotes), the private read-only commands and `/cvm cancel`.

use super::commands::Invocation;
use super::convert::{fit, fit_lines, person, response_message};
use super::handler::{Handler, acknowledge, log_if_internal, private};
use crate::chat::render::{self, TimeStyle};
use crate::desk::{DeskError, Origin};
use crate::domain::spend;
use crate::domain::{BillingKind, Operation, Person};
use crate::store::ListFilter;
use serenity::all::{
    AutocompleteChoice, ChannelType, CommandInteraction, Context, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseMessage, EditInteractionResponse, Permissions,
};
use tracing::warn;

/// How many requests `/cvm list` and `/cvm history` read.
const LISTED: i64 = 20;

/// How long the answer to `/cvm buy` waits for the request's card to be posted.
const CARD_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Handler {
    pub(super) async fn respond(
        &self,
        ctx: &Context,
        command: &CommandInteraction,
        response: CreateInteractionResponse,
    ) {
        if let Err(e) = acknowledge(command.create_response(&ctx.http, response)).await {
            warn!(error = %e, "could not answer an interaction");
        }
    }

    /// Replaces a deferred answer ("thinking…") with `text`.
    pub(super) async fn finish_deferred(&self, ctx: &Context, command: &CommandInteraction, text: &str) {
        let edit = EditInteractionResponse::new().content(fit(text));
        if let Err(e) = command.edit_response(&ctx.http, edit).await {
            warn!(error = %e, command = %command.data.name, "could not finish a deferred answer");
        }
    }

    pub(super) async fn command(&self, ctx: &Context, command: &CommandInteraction) {
        let invocation = Invocation::from_options(&command.data.options);
        let me = person(&command.user, command.member.as_deref());
        if let Some(kind) = invocation.buy_kind() {
            return self.buy(ctx, command, &me, &invocation, kind).await;
        }
        let path: Vec<&str> = invocation.path.iter().map(String::as_str).collect();
        let reply = match path.as_slice() {
            ["status"] => match invocation.id() {
                Some(id) => private_card(self.desk.view(id).await),
                None => private("Give the request number: /cvm status id:12"),
            },
            ["list"] => {
                let filter = match invocation.options.get("filter").map(String::as_str) {
                    Some("mine") => ListFilter::Mine(me.id),
                    Some("all") => ListFilter::All,
                    _ => ListFilter::Pending,
                };
                private(&self.listing(filter).await)
            }
            ["history"] => {
                let user = invocation
                    .options
                    .get("user")
                    .and_then(|u| u.parse().ok())
                    .unwrap_or(me.id);
                private(&self.listing(ListFilter::Mine(user)).await)
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
            ["spend"] => return self.spend(ctx, command, &invocation).await,
            ["release"] => return self.release(ctx, command, &me, &invocation).await,
            ["extend"] => return self.extend(ctx, command, &me, &invocation).await,
            ["renew"] => return self.renew(ctx, command, &me, &invocation).await,
            ["autorenew"] => return self.autorenew(ctx, command, &me, &invocation).await,
            ["fleet", what] => return self.fleet(ctx, command, &me, &invocation, what).await,
            _ => private(
                "Unknown command; try /cvm buy, status, list, cancel, release, extend, renew, autorenew, fleet, balance \
                 or history.",
            ),
        };
        self.respond(ctx, command, reply).await;
    }

    /// One line per request, newest first, as many as fit in one message.
    async fn listing(&self, filter: ListFilter) -> String {
        match self.desk.list(filter, LISTED).await {
            Ok(records) if records.is_empty() => "No requests.".into(),
            Ok(records) => {
                let lines: Vec<String> = records
                    .iter()
                    .map(|r| render::listing_line(r, TimeStyle::Discord))
                    .collect();
                fit_lines(&lines, "/cvm status id:N shows one")
            }
            Err(e) => {
                log_if_internal(&e);
                e.user_message()
            }
        }
    }

    /// `/cvm balance`: the balance and its runway in words, privately, with the runway chart.
    async fn balance(&self, ctx: &Context, command: &CommandInteraction) {
        self.defer_privately(ctx, command).await;
        let edit = match self.desk.balance_report().await {
            Ok(report) => {
                let text = EditInteractionResponse::new().content(fit(&crate::chat::console::balance_text(&report)));
                match self.desk.balance_history(Some(report.spendable)).await {
                    Ok(history) => with_chart(text, crate::chat::charts::runway_attachment(&history)),
                    Err(e) => {
                        log_if_internal(&e);
                        text
                    }
                }
            }
            Err(e) => {
                log_if_internal(&e);
                EditInteractionResponse::new().content(e.user_message())
            }
        };
        if let Err(e) = command.edit_response(&ctx.http, edit).await {
            warn!(error = %e, "could not answer /cvm balance");
        }
    }

    /// `/cvm spend [period] [by]`: bad options are answered at once, privately; the chart is
    /// posted in the channel for everyone, its figures in the message text.
    async fn spend(&self, ctx: &Context, command: &CommandInteraction, invocation: &Invocation) {
        let option = |name: &str| invocation.options.get(name).cloned().unwrap_or_default();
        let today = self.desk.clock().now().to_offset(spend::BILLING_OFFSET).date();
        let asked = spend::SpendPeriod::parse(&option("period"), today)
            .and_then(|period| Ok((period, spend::SpendBy::parse(&option("by"))?)));
        let (period, by) = match asked {
            Ok(asked) => asked,
            Err(problem) => return self.respond(ctx, command, private(&format!("❗ {problem}"))).await,
        };
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new());
        self.respond(ctx, command, defer).await;
        let edit = match self.desk.spend(&period, by).await {
            Ok(spend) => with_chart(
                EditInteractionResponse::new().content(fit(&render::spend_summary(&spend))),
                crate::chat::charts::spend_attachment(&spend.series),
            ),
            Err(e) => {
                log_if_internal(&e);
                EditInteractionResponse::new().content(e.user_message())
            }
        };
        if let Err(e) = command.edit_response(&ctx.http, edit).await {
            warn!(error = %e, "could not post the spend chart");
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
        if let Some(text) = cannot_post_here(command) {
            return self.respond(ctx, command, private(&text)).await;
        }
        let origin = self.defer_privately(ctx, command).await;
        let filed = self.desk.file(me, Operation::Buy(spec), origin).await;
        let text = self.filed_text(filed).await;
        self.finish_deferred(ctx, command, &text).await;
    }

    /// `/cvm release request:N reason:… [instances:…]`.
    async fn release(&self, ctx: &Context, command: &CommandInteraction, me: &Person, invocation: &Invocation) {
        let Some(purchase) = invocation.purchase() else {
            let text = "Give the purchase request whose servers go: /cvm release request:12 reason:…";
            return self.respond(ctx, command, private(text)).await;
        };
        if let Some(text) = cannot_post_here(command) {
            return self.respond(ctx, command, private(&text)).await;
        }
        let origin = self.defer_privately(ctx, command).await;
        let reason = invocation.options.get("reason").map(String::as_str);
        let filed = self
            .desk
            .release(me, purchase, &invocation.id_list("instances"), reason, origin)
            .await;
        let text = self.filed_text(filed).await;
        self.finish_deferred(ctx, command, &text).await;
    }

    /// `/cvm renew request:N months:M [instances:…]`.
    async fn renew(&self, ctx: &Context, command: &CommandInteraction, me: &Person, invocation: &Invocation) {
        let purchase = invocation.purchase();
        let months = invocation.options.get("months").and_then(|m| m.parse::<u32>().ok());
        let (Some(purchase), Some(months)) = (purchase, months) else {
            let text = "Give the purchase and the months: /cvm renew request:12 months:1";
            return self.respond(ctx, command, private(text)).await;
        };
        let origin = self.defer_privately(ctx, command).await;
        let filed = self
            .desk
            .renew(me, purchase, months, &invocation.id_list("instances"), origin)
            .await;
        let text = self.filed_text(filed).await;
        self.finish_deferred(ctx, command, &text).await;
    }

    /// `/cvm autorenew request:N on:true|false`.
    async fn autorenew(&self, ctx: &Context, command: &CommandInteraction, me: &Person, invocation: &Invocation) {
        let purchase = invocation.purchase();
        let on = invocation.options.get("on").and_then(|o| o.parse::<bool>().ok());
        let (Some(purchase), Some(on)) = (purchase, on) else {
            let text = "Give the purchase and on:true or on:false: /cvm autorenew request:12 on:true";
            return self.respond(ctx, command, private(text)).await;
        };
        self.defer_privately(ctx, command).await;
        let text = match self.desk.set_auto_renew(me, purchase, on).await {
            Ok(ids) => format!(
                "Automatic renewal is {} for {} server(s) of #{purchase}.",
                if on { "on" } else { "off" },
                ids.len()
            ),
            Err(e) => {
                log_if_internal(&e);
                e.user_message()
            }
        };
        self.finish_deferred(ctx, command, &text).await;
    }

    /// `/cvm extend request:N [by:1d]`.
    async fn extend(&self, ctx: &Context, command: &CommandInteraction, me: &Person, invocation: &Invocation) {
        let Some(purchase) = invocation.purchase() else {
            let text = "Give the purchase request to extend: /cvm extend request:12";
            return self.respond(ctx, command, private(text)).await;
        };
        let by = match invocation
            .options
            .get("by")
            .map(|t| crate::domain::duration::parse_duration(t))
        {
            None => None,
            Some(Ok(by)) => Some(by),
            Some(Err(problem)) => {
                let text = format!("by: {problem}");
                return self.respond(ctx, command, private(&text)).await;
            }
        };
        let origin = self.defer_privately(ctx, command).await;
        let extended = self.desk.extend(me, purchase, by, origin).await;
        let text = super::lifetime::extension_text(purchase, extended);
        self.finish_deferred(ctx, command, &text).await;
    }

    /// Answers "thinking…" privately (what follows asks Tencent and may take a while) and returns
    /// where the command was typed, for what it files.
    pub(super) async fn defer_privately(&self, ctx: &Context, command: &CommandInteraction) -> Origin {
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
        self.respond(ctx, command, defer).await;
        Origin {
            guild_id: command.guild_id.map(Into::into),
            channel_id: Some(command.channel_id.into()),
        }
    }

    /// What the person who filed a request is told: its number and what happens next, once its
    /// card is up (the dispatcher posts it from the outbox; this waits a moment for it).
    pub(super) async fn filed_text(&self, filed: Result<crate::desk::RequestView, DeskError>) -> String {
        let view = match filed {
            Ok(view) => view,
            Err(e) => {
                log_if_internal(&e);
                return e.user_message();
            }
        };
        let id = view.record.id;
        let next = match view.record.approvals_needed {
            0 => "the policy lets it go ahead without an approval".to_owned(),
            needed => format!("it needs {needed} approval(s) from someone else"),
        };
        match self.desk.wait_for_card(id, CARD_WAIT).await {
            Ok(Some(_)) => format!("Filed request #{id}; {next}."),
            Ok(None) => format!(
                "Filed request #{id}; {next}. Its card will appear in this channel shortly (if it does not, check \
                 the bot's permissions here)."
            ),
            Err(e) => {
                log_if_internal(&e);
                format!("Filed request #{id}; {next}.")
            }
        }
    }

    /// Zone, type and image suggestions from the cached catalogue (never waits on Tencent).
    pub(super) async fn autocomplete(&self, ctx: &Context, command: &CommandInteraction) {
        let invocation = Invocation::from_options(&command.data.options);
        let Some((focused, typed)) = &invocation.focused else {
            return;
        };
        let kind = match invocation.buy_kind() {
            Some(kind) => kind,
            None if invocation.is_fleet() => BillingKind::Spot,
            None => BillingKind::PayAsYouGo,
        };
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
        if let Err(e) = acknowledge(command.create_response(&ctx.http, response)).await {
            warn!(error = %e, "could not answer autocomplete");
        }
    }
}

/// A request's card shown only to whoever asked (without its buttons), or why it can't be.
pub(super) fn private_card(view: Result<crate::desk::RequestView, DeskError>) -> CreateInteractionResponse {
    match view {
        Ok(view) => {
            let mut card = render::request_card(&view, TimeStyle::Discord);
            card.buttons.clear();
            CreateInteractionResponse::Message(response_message(&card).ephemeral(true))
        }
        Err(e) => {
            log_if_internal(&e);
            private(&e.user_message())
        }
    }
}

/// Why a card can't be posted in the command's channel, in words for whoever typed it.
pub(super) fn cannot_post_here(command: &CommandInteraction) -> Option<String> {
    missing_permissions(command).map(|missing| {
        format!(
            "I can't post the request card in this channel: I am missing {missing} here. Ask a server admin to allow \
             it, or use another channel. Nothing was filed."
        )
    })
}

/// What the bot lacks in the command's channel to post a card there, from the interaction's
/// `app_permissions` (the bot's permissions in that channel, overwrites included); `None` when it
/// has them all or Discord did not say.
fn missing_permissions(command: &CommandInteraction) -> Option<String> {
    let in_thread = command.channel.as_ref().is_some_and(|c| {
        matches!(
            c.kind,
            ChannelType::PublicThread | ChannelType::PrivateThread | ChannelType::NewsThread
        )
    });
    let send = if in_thread {
        Permissions::SEND_MESSAGES_IN_THREADS
    } else {
        Permissions::SEND_MESSAGES
    };
    let needed = Permissions::VIEW_CHANNEL | send | Permissions::EMBED_LINKS;
    let missing = needed - command.app_permissions?;
    (!missing.is_empty()).then(|| missing.get_permission_names().join(", "))
}

/// `edit` with `chart` attached; a chart that could not be drawn is logged and left out.
fn with_chart(
    edit: EditInteractionResponse,
    chart: anyhow::Result<crate::chat::model::Attachment>,
) -> EditInteractionResponse {
    match chart {
        Ok(file) => edit.new_attachment(super::convert::attachment(&file)),
        Err(error) => {
            warn!(error = %format!("{error:#}"), "could not draw a chart; the figures go as text only");
            edit
        }
    }
}
