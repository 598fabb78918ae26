//! The minimal serenity 0.12.5 bot the fake-Discord self-test drives, and helpers to start
//! it. It only exists to exercise the fake; it is not cvmbot.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use serenity::all::{
    ButtonStyle, Client, ClientBuilder, CommandOptionType, Context, CreateActionRow, CreateAutocompleteResponse,
    CreateButton, CreateCommand, CreateCommandOption, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateModal, EventHandler, GatewayIntents,
    HttpBuilder, InputTextStyle, Interaction, MessageId, ReactionType, Ready, ResolvedValue, UserId,
};
use serenity::async_trait;
use tokio::sync::mpsc;

use fake_discord::{FakeDiscord, WAIT};

pub const ALICE: u64 = 1001;
pub const BOB: u64 = 1002;

/// What the test bot observed or got back from serenity, sent to the test.
#[derive(Debug)]
pub enum Seen {
    Registered(Result<usize, String>),
    OwnReaction(MessageId),
    /// (label, Discord error code or -1) of a call the bot expected might fail.
    CallResult(&'static str, Result<(), i64>),
    Followups(MessageId, MessageId),
}

/// The Discord JSON error code inside a serenity error, or -1.
pub fn discord_code(e: &serenity::Error) -> i64 {
    match e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => r.error.code as i64,
        _ => -1,
    }
}

fn result(r: serenity::Result<()>) -> Result<(), i64> {
    r.map_err(|e| discord_code(&e))
}

struct TestBot {
    seen: mpsc::UnboundedSender<Seen>,
    me: Mutex<Option<UserId>>,
}

fn cvm_command() -> CreateCommand {
    let sub = |name: &str, desc: &str| CreateCommandOption::new(CommandOptionType::SubCommand, name, desc);
    CreateCommand::new("cvm")
        .description("Buy Tencent Cloud servers")
        .add_option(
            sub("price", "Show a price").add_sub_option(
                CreateCommandOption::new(CommandOptionType::String, "zone", "Availability zone")
                    .required(true)
                    .set_autocomplete(true),
            ),
        )
        .add_option(
            sub("buy", "Request servers").add_sub_option(
                CreateCommandOption::new(CommandOptionType::Integer, "count", "How many")
                    .required(true)
                    .min_int_value(1)
                    .max_int_value(10),
            ),
        )
        .add_option(sub("slow", "Answers too late"))
        .add_option(sub("twice", "Answers twice"))
        .add_option(sub("defer", "Defers, then follows up"))
        .add_option(sub("form", "Opens a modal"))
        .add_option(sub("quiet", "The bot leaves this one to the test"))
        .add_option(admin_group())
}

/// `/cvm admin quota …`: a subcommand group whose options cover every value type.
fn admin_group() -> CreateCommandOption {
    let opt = |kind, name: &str| CreateCommandOption::new(kind, name, format!("The {name}"));
    let quota = CreateCommandOption::new(CommandOptionType::SubCommand, "quota", "Set a quota")
        .add_sub_option(opt(CommandOptionType::Integer, "limit").required(true))
        .add_sub_option(opt(CommandOptionType::Boolean, "verbose"))
        .add_sub_option(opt(CommandOptionType::Number, "ratio"))
        .add_sub_option(opt(CommandOptionType::User, "who"))
        .add_sub_option(opt(CommandOptionType::Role, "role"))
        .add_sub_option(opt(CommandOptionType::Channel, "where"));
    CreateCommandOption::new(CommandOptionType::SubCommandGroup, "admin", "Administration").add_sub_option(quota)
}

fn approve_row(disabled: bool) -> Vec<CreateActionRow> {
    let button = CreateButton::new("approve:1")
        .label("Approve")
        .style(ButtonStyle::Success)
        .disabled(disabled);
    vec![CreateActionRow::Buttons(vec![button])]
}

impl TestBot {
    async fn command(&self, ctx: &Context, cmd: &serenity::all::CommandInteraction) -> serenity::Result<()> {
        let sub = cmd.data.options.first().map_or("", |o| o.name.as_str());
        let say = |content: String| {
            CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content(content))
        };
        match sub {
            "price" => {
                let msg = CreateInteractionResponseMessage::new()
                    .content("price: 42 CNY/h")
                    .ephemeral(true);
                cmd.create_response(&ctx.http, CreateInteractionResponse::Message(msg))
                    .await
            }
            "buy" => {
                let msg = CreateInteractionResponseMessage::new()
                    .content("request #1: 2 servers")
                    .components(approve_row(false));
                cmd.create_response(&ctx.http, CreateInteractionResponse::Message(msg))
                    .await?;
                let posted = cmd.get_response(&ctx.http).await?;
                posted
                    .react(&ctx.http, ReactionType::Unicode("✅".into()))
                    .await
                    .map(|_| ())
            }
            "slow" => {
                // Slow work (say, a cloud API call) that outlasts the test's 300 ms deadline.
                tokio::time::sleep(Duration::from_millis(900)).await;
                let r = cmd.create_response(&ctx.http, say("too late".into())).await;
                let _ = self.seen.send(Seen::CallResult("slow", result(r)));
                Ok(())
            }
            "twice" => {
                cmd.create_response(&ctx.http, say("first".into())).await?;
                let r = cmd.create_response(&ctx.http, say("second".into())).await;
                let _ = self.seen.send(Seen::CallResult("twice", result(r)));
                Ok(())
            }
            "defer" => {
                cmd.defer(&ctx.http).await?;
                let first = cmd
                    .create_followup(&ctx.http, CreateInteractionResponseFollowup::new().content("done"))
                    .await?;
                let second = cmd
                    .create_followup(&ctx.http, CreateInteractionResponseFollowup::new().content("details"))
                    .await?;
                let _ = self.seen.send(Seen::Followups(first.id, second.id));
                Ok(())
            }
            "form" => {
                let input = CreateInputText::new(InputTextStyle::Short, "Reason", "reason");
                let modal = CreateModal::new("buy-form", "Why?").components(vec![CreateActionRow::InputText(input)]);
                cmd.create_response(&ctx.http, CreateInteractionResponse::Modal(modal))
                    .await
            }
            "admin" => {
                let msg = CreateInteractionResponseMessage::new()
                    .content(describe_options(&cmd.data.options()))
                    .ephemeral(true);
                cmd.create_response(&ctx.http, CreateInteractionResponse::Message(msg))
                    .await
            }
            _ => Ok(()),
        }
    }
}

/// Renders resolved options as `name=value` pairs, descending into groups and subcommands.
fn describe_options(options: &[serenity::all::ResolvedOption<'_>]) -> String {
    let parts: Vec<String> = options
        .iter()
        .map(|o| match &o.value {
            ResolvedValue::SubCommandGroup(inner) | ResolvedValue::SubCommand(inner) => {
                format!("{} {}", o.name, describe_options(inner))
            }
            ResolvedValue::Integer(v) => format!("{}={v}", o.name),
            ResolvedValue::Boolean(v) => format!("{}={v}", o.name),
            ResolvedValue::Number(v) => format!("{}={v}", o.name),
            ResolvedValue::User(u, member) => {
                format!("{}={}(member:{})", o.name, u.name, member.is_some())
            }
            ResolvedValue::Role(r) => format!("{}={}", o.name, r.name),
            ResolvedValue::Channel(c) => format!("{}={}", o.name, c.name.as_deref().unwrap_or("?")),
            other => format!("{}=?{other:?}", o.name),
        })
        .collect();
    parts.join(" ")
}

#[async_trait]
impl EventHandler for TestBot {
    async fn ready(&self, ctx: Context, ready: Ready) {
        *self.me.lock().expect("bot id lock") = Some(ready.user.id);
        let guild = ready.guilds.first().expect("READY lists the fake guild").id;
        let r = guild.set_commands(&ctx.http, vec![cvm_command()]).await;
        let _ = self
            .seen
            .send(Seen::Registered(r.map(|c| c.len()).map_err(|e| e.to_string())));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let r = match interaction {
            Interaction::Command(cmd) => self.command(&ctx, &cmd).await,
            Interaction::Autocomplete(ac) => {
                let typed = ac.data.autocomplete().map_or(String::new(), |o| o.value.to_string());
                let choices = ["ap-guangzhou-3", "ap-shanghai-2"]
                    .into_iter()
                    .filter(|z| z.starts_with(&typed));
                let resp = choices.fold(CreateAutocompleteResponse::new(), |r, z| r.add_string_choice(z, z));
                ac.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(resp))
                    .await
            }
            Interaction::Component(c) => {
                let msg = CreateInteractionResponseMessage::new()
                    .content(format!("approved by {}", c.user.name))
                    .components(approve_row(true));
                c.create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(msg))
                    .await
            }
            Interaction::Modal(m) => {
                let reason = m
                    .data
                    .components
                    .iter()
                    .flat_map(|r| &r.components)
                    .find_map(|c| match c {
                        serenity::all::ActionRowComponent::InputText(t) => t.value.clone(),
                        _ => None,
                    });
                let msg =
                    CreateInteractionResponseMessage::new().content(format!("reason: {}", reason.unwrap_or_default()));
                m.create_response(&ctx.http, CreateInteractionResponse::Message(msg))
                    .await
            }
            _ => Ok(()),
        };
        if let Err(e) = r {
            eprintln!("test bot: interaction handling failed: {e:?}");
        }
    }

    async fn reaction_add(&self, ctx: Context, reaction: serenity::all::Reaction) {
        let me = *self.me.lock().expect("bot id lock");
        if reaction.user_id == me {
            let _ = self.seen.send(Seen::OwnReaction(reaction.message_id));
            return;
        }
        // Refuse the vote: remove the user's reaction and say so.
        let removed = reaction.delete(&ctx.http).await;
        let text = format!(
            "vote by {} refused ({})",
            reaction.user_id.map_or(0, |u| u.get()),
            removed.is_ok()
        );
        if let Err(e) = reaction.channel_id.say(&ctx.http, text).await {
            eprintln!("test bot: could not post: {e:?}");
        }
    }
}

/// A running test bot plus the channel of its observations.
pub struct Running {
    seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<serenity::Result<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    pub async fn next(&mut self, what: &str) -> Seen {
        tokio::time::timeout(WAIT, self.seen.recv())
            .await
            .unwrap_or_else(|_| panic!("the test bot did not report {what} within {WAIT:?}"))
            .expect("test bot channel open")
    }
}

/// A serenity client without handlers, for tests about the connection itself.
pub async fn build_client(fake: &FakeDiscord, token: &str, intents: GatewayIntents) -> Client {
    let http = HttpBuilder::new(token)
        .proxy(fake.rest_url())
        .ratelimiter_disabled(true)
        .build();
    ClientBuilder::new_with_http(http, intents)
        .await
        .expect("build serenity client")
}

/// Starts the test bot against `fake` (intents GUILDS | GUILD_MESSAGE_REACTIONS) and waits until it registered its command.
pub async fn start_bot(fake: &FakeDiscord) -> Running {
    let (tx, rx) = mpsc::unbounded_channel();
    let bot = TestBot {
        seen: tx,
        me: Mutex::new(None),
    };
    let http = HttpBuilder::new(fake.token())
        .proxy(fake.rest_url())
        .ratelimiter_disabled(true)
        .build();
    let intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGE_REACTIONS;
    let mut client = ClientBuilder::new_with_http(http, intents)
        .event_handler(bot)
        .await
        .expect("build serenity client");
    let task = tokio::spawn(async move { client.start().await });
    let mut running = Running { seen: rx, task };
    fake.wait_until_ready(WAIT).await;
    match running.next("command registration").await {
        Seen::Registered(Ok(1)) => {}
        other => panic!("command registration failed: {other:?}"),
    }
    running
}

pub async fn fake_with_members() -> FakeDiscord {
    let fake = FakeDiscord::start().await;
    let approver = fake.add_role("approver", 0);
    fake.add_member(ALICE, "alice", &[]);
    fake.add_member(BOB, "bob", &[approver]);
    fake
}

/// Runs `/cvm buy count:2` and returns the public request message's id.
pub async fn post_request(fake: &FakeDiscord) -> u64 {
    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm buy", &[("count", json!(2))]);
    let out = fake.interaction_response(&h, WAIT).await;
    out.original.expect("a type 4 response creates a message").id
}
