//! Proves the fake Discord is faithful enough for an unmodified serenity 0.12.5 client: a
//! tiny bot built here registers a command, answers interactions, reacts, removes users'
//! reactions and survives gateway outages, and the fake records what real Discord would.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};
use serenity::all::{
    ButtonStyle, ChannelId, Client, ClientBuilder, CommandOptionType, Context, CreateActionRow,
    CreateAutocompleteResponse, CreateButton, CreateCommand, CreateCommandOption, CreateInputText,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage,
    CreateMessage, CreateModal, EventHandler, GatewayIntents, HttpBuilder, InputTextStyle,
    Interaction, MessageId, Nonce, ReactionType, Ready, UserId,
};
use serenity::async_trait;
use support::fake_discord::{FakeConfig, FakeDiscord, WAIT};
use tokio::sync::mpsc;

const ALICE: u64 = 1001;
const BOB: u64 = 1002;

/// What the test bot observed or got back from serenity, sent to the test.
#[derive(Debug)]
enum Seen {
    Registered(Result<usize, String>),
    OwnReaction(MessageId),
    /// (label, Discord error code or -1) of a call the bot expected might fail.
    CallResult(&'static str, Result<(), i64>),
    Followups(MessageId, MessageId),
}

/// The Discord JSON error code inside a serenity error, or -1.
fn discord_code(e: &serenity::Error) -> i64 {
    match e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            r.error.code as i64
        }
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
    let sub = |name: &str, desc: &str| {
        CreateCommandOption::new(CommandOptionType::SubCommand, name, desc)
    };
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
}

fn approve_row(disabled: bool) -> Vec<CreateActionRow> {
    let button = CreateButton::new("approve:1")
        .label("Approve")
        .style(ButtonStyle::Success)
        .disabled(disabled);
    vec![CreateActionRow::Buttons(vec![button])]
}

impl TestBot {
    async fn command(
        &self,
        ctx: &Context,
        cmd: &serenity::all::CommandInteraction,
    ) -> serenity::Result<()> {
        let sub = cmd.data.options.first().map_or("", |o| o.name.as_str());
        let say = |content: String| {
            CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new().content(content),
            )
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
                    .create_followup(
                        &ctx.http,
                        CreateInteractionResponseFollowup::new().content("done"),
                    )
                    .await?;
                let second = cmd
                    .create_followup(
                        &ctx.http,
                        CreateInteractionResponseFollowup::new().content("details"),
                    )
                    .await?;
                let _ = self.seen.send(Seen::Followups(first.id, second.id));
                Ok(())
            }
            "form" => {
                let input = CreateInputText::new(InputTextStyle::Short, "Reason", "reason");
                let modal = CreateModal::new("buy-form", "Why?")
                    .components(vec![CreateActionRow::InputText(input)]);
                cmd.create_response(&ctx.http, CreateInteractionResponse::Modal(modal))
                    .await
            }
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl EventHandler for TestBot {
    async fn ready(&self, ctx: Context, ready: Ready) {
        *self.me.lock().expect("bot id lock") = Some(ready.user.id);
        let guild = ready.guilds.first().expect("READY lists the fake guild").id;
        let r = guild.set_commands(&ctx.http, vec![cvm_command()]).await;
        let _ = self.seen.send(Seen::Registered(
            r.map(|c| c.len()).map_err(|e| e.to_string()),
        ));
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let r = match interaction {
            Interaction::Command(cmd) => self.command(&ctx, &cmd).await,
            Interaction::Autocomplete(ac) => {
                let typed = ac
                    .data
                    .autocomplete()
                    .map_or(String::new(), |o| o.value.to_string());
                let choices = ["ap-guangzhou-3", "ap-shanghai-2"]
                    .into_iter()
                    .filter(|z| z.starts_with(&typed));
                let resp = choices.fold(CreateAutocompleteResponse::new(), |r, z| {
                    r.add_string_choice(z, z)
                });
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
                let msg = CreateInteractionResponseMessage::new()
                    .content(format!("reason: {}", reason.unwrap_or_default()));
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
struct Running {
    seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<serenity::Result<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Running {
    async fn next(&mut self, what: &str) -> Seen {
        tokio::time::timeout(WAIT, self.seen.recv())
            .await
            .unwrap_or_else(|_| panic!("the test bot did not report {what} within {WAIT:?}"))
            .expect("test bot channel open")
    }
}

async fn build_client(fake: &FakeDiscord, token: &str) -> Client {
    let http = HttpBuilder::new(token)
        .proxy(fake.rest_url())
        .ratelimiter_disabled(true)
        .build();
    ClientBuilder::new_with_http(
        http,
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGE_REACTIONS,
    )
    .await
    .expect("build serenity client")
}

/// Starts the test bot against `fake` and waits until it registered its command.
async fn start_bot(fake: &FakeDiscord) -> Running {
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

async fn fake_with_members() -> FakeDiscord {
    let fake = FakeDiscord::start().await;
    let approver = fake.add_role("approver", 0);
    fake.add_member(ALICE, "alice", &[]);
    fake.add_member(BOB, "bob", &[approver]);
    fake
}

/// Runs `/cvm buy count:2` and returns the public request message's id.
async fn post_request(fake: &FakeDiscord) -> u64 {
    let h = fake.slash_command(
        ALICE,
        fake.default_channel_id(),
        "cvm buy",
        &[("count", json!(2))],
    );
    let out = fake.interaction_response(&h, WAIT).await;
    out.original
        .expect("a type 4 response creates a message")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serenity_identifies_and_registers_its_guild_command() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;

    let identify = &fake.identifies()[0];
    assert_eq!(identify["token"], json!(format!("Bot {}", fake.token())));
    assert_eq!(
        identify["intents"],
        json!((GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGE_REACTIONS).bits())
    );
    let commands = fake.commands(Some(fake.guild_id()));
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["name"], "cvm");
    assert_eq!(commands[0]["description"], "Buy Tencent Cloud servers");
    let subs: Vec<&str> = commands[0]["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(
        subs,
        ["price", "buy", "slow", "twice", "defer", "form", "quiet"]
    );
    let zone = &commands[0]["options"][0]["options"][0];
    assert_eq!(
        (
            zone["type"].as_u64(),
            zone["required"].as_bool(),
            zone["autocomplete"].as_bool()
        ),
        (Some(3), Some(true), Some(true))
    );
    assert!(
        fake.commands(None).is_empty(),
        "nothing registered globally"
    );
    assert_eq!(
        fake.requests()[0].route,
        "GET /gateway",
        "serenity asks for the gateway URL first"
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_reply_is_only_visible_to_the_invoking_user() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;

    let h = fake.slash_command(
        ALICE,
        fake.default_channel_id(),
        "cvm price",
        &[("zone", json!("ap-guangzhou-3"))],
    );
    let out = fake.interaction_response(&h, WAIT).await;

    assert_eq!(out.callback_type, Some(4));
    assert_eq!(out.data["flags"], json!(64));
    let reply = out.original.expect("response message");
    assert_eq!(
        (reply.ephemeral_to, reply.content.as_str()),
        (Some(ALICE), "price: 42 CNY/h")
    );
    let visible = fake
        .serenity_http()
        .get_messages(ChannelId::new(fake.default_channel_id()), None, None)
        .await
        .expect("GET messages");
    assert!(
        visible.is_empty(),
        "ephemeral replies are not channel messages: {visible:?}"
    );
    fake.assert_interactions_answered(WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_reply_becomes_a_message_and_the_bots_own_reaction_comes_back() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    let msg_id = post_request(&fake).await;
    let msg = fake
        .wait_for_message(fake.default_channel_id(), WAIT, |m| {
            m.id == msg_id && !m.reaction_users("✅").is_empty()
        })
        .await;

    assert_eq!(msg.author_id, fake.bot_user_id());
    assert_eq!(msg.content, "request #1: 2 servers");
    assert_eq!(msg.reaction_users("✅"), [fake.bot_user_id()]);
    assert_eq!(
        msg.json["interaction_metadata"]["user"]["id"],
        json!(ALICE.to_string())
    );
    assert_eq!(
        msg.component("approve:1").expect("button")["label"],
        "Approve"
    );
    let reaction_put =
        fake.requests_to("PUT /channels/{channel}/messages/{message}/reactions/{emoji}/@me");
    assert_eq!(
        reaction_put[0].path,
        format!(
            "/api/v10/channels/{}/messages/{msg_id}/reactions/%E2%9C%85/@me",
            fake.default_channel_id()
        )
    );
    match bot.next("its own reaction event").await {
        Seen::OwnReaction(m) => assert_eq!(m.get(), msg_id),
        other => panic!("expected the bot's own MESSAGE_REACTION_ADD, got {other:?}"),
    }
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_click_updates_the_message_in_place() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let msg_id = post_request(&fake).await;

    let h = fake.click_button(BOB, msg_id, "approve:1");
    let out = fake.interaction_response(&h, WAIT).await;

    assert_eq!(out.callback_type, Some(7));
    let msg = fake.message(msg_id).expect("message still exists");
    assert_eq!(msg.content, "approved by bob");
    assert_eq!(
        msg.component("approve:1").expect("button kept")["disabled"],
        true
    );
    assert_eq!(
        msg.history.len(),
        1,
        "the original version is kept in the edit history"
    );
    assert_eq!(msg.history[0]["content"], "request #1: 2 servers");
    assert_eq!(
        fake.messages(fake.default_channel_id()).len(),
        1,
        "no new message"
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_reaction_is_removed_and_answered_by_the_bot() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();
    let msg_id = post_request(&fake).await;

    fake.react(ALICE, channel, msg_id, "👍");
    let answer = fake
        .wait_for_message(channel, WAIT, |m| m.content.starts_with("vote by"))
        .await;

    assert_eq!(answer.content, format!("vote by {ALICE} refused (true)"));
    let removal =
        fake.requests_to("DELETE /channels/{channel}/messages/{message}/reactions/{emoji}/{user}");
    assert_eq!(
        removal[0].path,
        format!("/api/v10/channels/{channel}/messages/{msg_id}/reactions/%F0%9F%91%8D/{ALICE}")
    );
    assert!(
        fake.message(msg_id)
            .expect("message")
            .reaction_users("👍")
            .is_empty()
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_after_the_deadline_is_refused_with_unknown_interaction() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;
    // The bot answers after 900 ms; a 300 ms deadline stands in for Discord's 3 s.
    fake.set_interaction_deadline(Duration::from_millis(300));

    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm slow", &[]);

    match bot.next("the late callback's result").await {
        Seen::CallResult("slow", r) => assert_eq!(r, Err(10062)),
        other => panic!("unexpected {other:?}"),
    }
    let out = fake.interaction(&h);
    assert_eq!(out.callback_type, None);
    assert_eq!(
        out.refused.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
        [(404, 10062)]
    );
    assert!(
        fake.problems()
            .iter()
            .any(|p| p.contains("past the deadline"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_callback_is_refused_like_discord_does() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm twice", &[]);

    match bot.next("the second callback's result").await {
        Seen::CallResult("twice", r) => assert_eq!(r, Err(40060)),
        other => panic!("unexpected {other:?}"),
    }
    let out = fake.interaction(&h);
    assert_eq!(out.original.expect("first reply kept").content, "first");
    assert_eq!(
        out.refused.iter().map(|r| (r.0, r.1)).collect::<Vec<_>>(),
        [(400, 40060)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_rules_hold_for_raw_http_calls_too() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    fake.set_interaction_deadline(Duration::from_millis(200));
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    let callback = |h: &support::fake_discord::InteractionHandle| {
        let url = format!(
            "{}/api/v10/interactions/{}/{}/callback",
            fake.rest_url(),
            h.id,
            h.token
        );
        http.post(url)
            .json(&json!({"type": 4, "data": {"content": "hi"}}))
            .send()
    };

    let on_time = fake.slash_command(ALICE, fake.default_channel_id(), "cvm quiet", &[]);
    assert_eq!(
        callback(&on_time).await.expect("first callback").status(),
        204
    );
    let again = callback(&on_time).await.expect("second callback");
    assert_eq!(again.status(), 400);
    assert_eq!(again.json::<Value>().await.expect("json")["code"], 40060);

    let late = fake.slash_command(ALICE, fake.default_channel_id(), "cvm quiet", &[]);
    tokio::time::sleep(Duration::from_millis(400)).await; // the rule under test is about time
    let refused = callback(&late).await.expect("late callback");
    assert_eq!(refused.status(), 404);
    assert_eq!(
        refused.json::<Value>().await.expect("json"),
        json!({"message": "Unknown interaction", "code": 10062})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_followup_after_a_deferral_replaces_the_thinking_message() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm defer", &[]);
    let Seen::Followups(first, second) = bot.next("its followups").await else {
        panic!("expected followups")
    };

    let out = fake.interaction(&h);
    assert_eq!(out.callback_type, Some(5));
    let original = out.original.expect("deferred message");
    assert_eq!(first.get(), original.id, "first followup edits @original");
    assert_eq!(
        (original.content.as_str(), original.flags & 128),
        ("done", 0),
        "no longer loading"
    );
    assert_eq!(
        out.followups
            .iter()
            .map(|m| (m.id, m.content.as_str()))
            .collect::<Vec<_>>(),
        [(second.get(), "details")]
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_and_modal_round_trips_work() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();

    let ac = fake.autocomplete(
        ALICE,
        channel,
        "cvm price",
        &[("zone", json!("ap-gu"))],
        "zone",
    );
    let out = fake.interaction_response(&ac, WAIT).await;
    assert_eq!(out.callback_type, Some(8));
    assert_eq!(
        out.data["choices"],
        json!([{"name": "ap-guangzhou-3", "value": "ap-guangzhou-3"}])
    );

    let form = fake.slash_command(ALICE, channel, "cvm form", &[]);
    assert_eq!(
        fake.interaction_response(&form, WAIT).await.callback_type,
        Some(9)
    );
    let submit = fake.submit_modal(ALICE, "buy-form", &[("reason", "load test")]);
    let out = fake.interaction_response(&submit, WAIT).await;
    assert_eq!(out.original.expect("reply").content, "reason: load test");
    fake.assert_interactions_answered(WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_nonce_returns_the_existing_message_instead_of_a_duplicate() {
    let fake = fake_with_members().await;
    let http = fake.serenity_http();
    let channel = ChannelId::new(fake.default_channel_id());
    let send = |nonce: &str, enforce: bool| {
        let b = CreateMessage::new()
            .content("server ready")
            .nonce(Nonce::String(nonce.into()))
            .enforce_nonce(enforce);
        channel.send_message(&http, b)
    };

    let first = send("req-1-ready", true).await.expect("first send");
    let retry = send("req-1-ready", true).await.expect("retried send");
    let unenforced = send("req-1-ready", false)
        .await
        .expect("send without enforce");

    assert_eq!(retry.id, first.id);
    assert_ne!(unenforced.id, first.id);
    assert_eq!(fake.messages(channel.get()).len(), 2);
    assert_eq!(
        fake.requests_to("POST /channels/{channel}/messages")[0]
            .body
            .as_ref()
            .expect("json body")["enforce_nonce"],
        true
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_made_while_the_bot_was_offline_are_listed_by_get_reactions() {
    let fake = fake_with_members().await;
    let http = fake.serenity_http();
    let channel = ChannelId::new(fake.default_channel_id());
    let msg = channel.say(&http, "request #7").await.expect("post");

    fake.react_offline(BOB, channel.get(), msg.id.get(), "✅");
    fake.react_offline(ALICE, channel.get(), msg.id.get(), "✅");
    let check = ReactionType::Unicode("✅".into());
    let all = http
        .get_reaction_users(channel, msg.id, &check, 100, None)
        .await
        .expect("GET reactions");
    let page = http
        .get_reaction_users(channel, msg.id, &check, 1, Some(ALICE))
        .await
        .expect("GET reactions after");

    assert_eq!(
        all.iter().map(|u| u.id.get()).collect::<Vec<_>>(),
        [ALICE, BOB],
        "sorted by user id"
    );
    assert_eq!(page.iter().map(|u| u.id.get()).collect::<Vec<_>>(), [BOB]);
    assert!(
        fake.dispatches()
            .iter()
            .all(|d| !d.name.starts_with("MESSAGE_REACTION")),
        "offline reactions are not dispatched"
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_gateway_outage_serenity_resumes_and_receives_the_missed_event() {
    let cfg = FakeConfig {
        heartbeat_interval: Duration::from_millis(500),
        ..FakeConfig::default()
    };
    let fake = FakeDiscord::start_with(cfg).await;
    fake.add_member(ALICE, "alice", &[]);
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();
    let msg_id = post_request(&fake).await;

    let mark = fake.disconnect();
    fake.react(ALICE, channel, msg_id, "👍"); // happens during the outage
    fake.wait_until_reconnected(mark, WAIT).await;

    assert_eq!(
        (fake.resume_count(), fake.identifies().len()),
        (1, 1),
        "resumed, not re-identified"
    );
    fake.wait_for_message(channel, WAIT, |m| m.content.starts_with("vote by"))
        .await;
    let later = fake.slash_command(
        ALICE,
        channel,
        "cvm price",
        &[("zone", json!("ap-shanghai-2"))],
    );
    assert_eq!(
        fake.interaction_response(&later, WAIT).await.callback_type,
        Some(4)
    );
    fake.wait_for_heartbeats(2, WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_resume_is_refused_serenity_identifies_again() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    fake.refuse_resume(true);
    let mark = fake.disconnect();
    fake.wait_until_reconnected(mark, Duration::from_secs(20))
        .await;

    assert_eq!(fake.identifies().len(), 2);
    assert!(matches!(
        bot.next("re-registration after the new READY").await,
        Seen::Registered(Ok(1))
    ));
    let h = fake.slash_command(
        ALICE,
        fake.default_channel_id(),
        "cvm price",
        &[("zone", json!("ap-shanghai-2"))],
    );
    assert_eq!(
        fake.interaction_response(&h, WAIT).await.callback_type,
        Some(4)
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused_on_rest_and_on_the_gateway() {
    let fake = fake_with_members().await;

    let http = HttpBuilder::new("wrong-token")
        .proxy(fake.rest_url())
        .ratelimiter_disabled(true)
        .build();
    let err = http
        .get_current_user()
        .await
        .expect_err("bad token must fail");
    assert!(err.to_string().contains("401"), "{err}");
    let me = fake
        .serenity_http()
        .get_current_user()
        .await
        .expect("good token works");
    assert_eq!(me.id.get(), fake.bot_user_id());

    let mut client = build_client(&fake, "wrong-token").await;
    let outcome = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("client gives up on 4004");
    assert!(outcome.is_err(), "serenity reports invalid authentication");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_get_a_404_and_are_reported() {
    let fake = FakeDiscord::start().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    let url = format!(
        "{}/api/v10/guilds/{}/bans",
        fake.rest_url(),
        fake.guild_id()
    );

    let resp = http
        .get(url)
        .header("Authorization", format!("Bot {}", fake.token()))
        .send()
        .await
        .expect("request");

    assert_eq!(resp.status(), 404);
    assert_eq!(fake.requests()[0].route, "UNKNOWN");
    assert!(
        fake.problems()[0].contains("/bans"),
        "{:?}",
        fake.problems()
    );
}
