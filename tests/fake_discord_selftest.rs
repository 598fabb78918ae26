//! Proves the fake Discord is faithful enough for an unmodified serenity 0.12.5 client: the
//! small bot in `selftest_bot` registers a command, answers interactions, reacts, removes
//! users' reactions and survives gateway outages, and the fake records what real Discord
//! would. The remaining tests drive serenity's `Http` (or raw HTTP) directly.

mod selftest_bot;
mod support;

use std::time::Duration;

use selftest_bot::{
    ALICE, BOB, Seen, build_client, discord_code, fake_with_members, post_request, start_bot,
};
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, ChannelType, CommandOptionType, CreateAttachment, CreateCommand,
    CreateCommandOption, CreateMessage, CreateThread, EditMessage, GatewayIntents, GuildId,
    HttpBuilder, Nonce, ReactionType, UserId,
};
use support::fake_discord::{FakeConfig, FakeDiscord, InteractionHandle, WAIT};

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
        [
            "price", "buy", "slow", "twice", "defer", "form", "quiet", "admin"
        ]
    );
    let admin = &commands[0]["options"][7];
    assert_eq!(
        (admin["type"].as_u64(), admin["options"][0]["name"].as_str()),
        (Some(2), Some("quota"))
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
    let callback = |h: &InteractionHandle| {
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

    // Followups need an accepted callback, and the token expires (Discord: 15 minutes).
    fake.set_interaction_deadline(Duration::from_secs(3));
    fake.set_interaction_token_lifetime(Duration::from_millis(300));
    let fresh = fake.slash_command(ALICE, fake.default_channel_id(), "cvm quiet", &[]);
    let followup = |h: &InteractionHandle| {
        let url = format!(
            "{}/api/v10/webhooks/{}/{}",
            fake.rest_url(),
            fake.application_id(),
            h.token
        );
        http.post(url).json(&json!({"content": "later"})).send()
    };
    let early = followup(&fresh).await.expect("followup before callback");
    assert_eq!(early.json::<Value>().await.expect("json")["code"], 10015);
    assert_eq!(callback(&fresh).await.expect("callback").status(), 204);
    assert_eq!(followup(&fresh).await.expect("followup").status(), 200);
    tokio::time::sleep(Duration::from_millis(400)).await; // let the token expire
    let expired = followup(&fresh).await.expect("followup after expiry");
    assert_eq!(expired.status(), 401);
    assert_eq!(expired.json::<Value>().await.expect("json")["code"], 50027);
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
        heartbeat_interval: Duration::from_millis(1000),
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

    assert!(fake.resume_count() >= 1, "serenity resumed the session");
    assert_eq!(fake.identifies().len(), 1, "and did not identify again");
    fake.wait_for_message(channel, WAIT, |m| m.content.starts_with("vote by"))
        .await;
    let missed = fake
        .dispatches()
        .into_iter()
        .find(|d| d.name == "MESSAGE_REACTION_ADD" && d.d["user_id"] == json!(ALICE.to_string()));
    let connection = missed
        .expect("the outage reaction")
        .connection
        .expect("delivered");
    assert!(connection > mark, "replayed on the resumed connection");
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

    let intents = GatewayIntents::GUILDS;
    let mut client = build_client(&fake, "wrong-token", intents).await;
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

fn error_paths(e: &serenity::Error) -> Vec<String> {
    match e {
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            r.error.errors.iter().map(|e| e.path.clone()).collect()
        }
        _ => vec![],
    }
}

fn status(e: &serenity::Error) -> Option<u16> {
    match e {
        serenity::Error::Http(h) => h.status_code().map(|s| s.as_u16()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_groups_and_typed_options_reach_the_bot_resolved() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();
    let role = fake.role_id("approver").expect("approver role");

    let h = fake.slash_command(
        ALICE,
        channel,
        "cvm admin quota",
        &[
            ("limit", json!(5)),
            ("verbose", json!(true)),
            ("ratio", json!(0.5)),
            ("who", json!(BOB)),
            ("role", json!(role)),
            ("where", json!(channel)),
        ],
    );
    let out = fake.interaction_response(&h, WAIT).await;

    assert_eq!(
        out.original.expect("reply").content,
        "admin quota limit=5 verbose=true ratio=0.5 who=bob(member:true) role=approver where=general"
    );
    let refused = fake.try_slash_command(ALICE, channel, "cvm admin quota", &[]);
    assert!(
        refused
            .expect_err("limit is required")
            .contains("required option")
    );
    let refused = fake.try_slash_command(ALICE, channel, "cvm admin", &[]);
    assert!(
        refused
            .expect_err("a group is not runnable")
            .contains("needs a subcommand")
    );
    let refused = fake.try_slash_command(ALICE, channel, "cvm buy", &[("count", json!(11))]);
    assert!(
        refused
            .expect_err("max_int_value is 10")
            .contains("max_value")
    );
    fake.assert_dispatches_delivered(WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_guild_and_message_routes_answer_like_discord() {
    let fake = fake_with_members().await;
    let http = fake.serenity_http();
    let guild = GuildId::new(fake.guild_id());
    let channel = ChannelId::new(fake.default_channel_id());

    let me = http.get_current_user().await.expect("GET /users/@me");
    assert_eq!((me.id.get(), me.bot), (fake.bot_user_id(), true));
    let app = http
        .get_current_application_info()
        .await
        .expect("GET /oauth2/applications/@me");
    assert_eq!(app.id.get(), fake.application_id());
    assert_eq!(
        http.get_bot_gateway().await.expect("GET /gateway/bot").url,
        fake.gateway_url()
    );
    let bob = http
        .get_member(guild, UserId::new(BOB))
        .await
        .expect("GET member");
    let roles: Vec<u64> = bob.roles.iter().map(|r| r.get()).collect();
    assert_eq!(roles, [fake.role_id("approver").expect("role")]);
    let stranger = http
        .get_member(guild, UserId::new(999))
        .await
        .expect_err("unknown member");
    assert_eq!(discord_code(&stranger), 10007);
    let guild_roles = http.get_guild_roles(guild).await.expect("GET roles");
    assert!(guild_roles.iter().any(|r| r.name == "approver"));

    let msg = channel.say(&http, "request #3").await.expect("post");
    let edit = EditMessage::new().content("request #3 (approved)");
    let edited = channel
        .edit_message(&http, msg.id, edit)
        .await
        .expect("edit");
    assert!(edited.edited_timestamp.is_some());
    let thread = channel
        .create_thread_from_message(&http, msg.id, CreateThread::new("request-3"))
        .await
        .expect("thread from message");
    assert_eq!(
        (thread.id.get(), thread.kind),
        (msg.id.get(), ChannelType::PublicThread)
    );
    channel.delete_message(&http, msg.id).await.expect("delete");
    let gone = channel
        .message(&http, msg.id)
        .await
        .expect_err("deleted message");
    assert_eq!(discord_code(&gone), 10008);

    let view = fake
        .message(msg.id.get())
        .expect("the fake keeps deleted messages");
    assert!(view.deleted);
    assert_eq!(view.history[0]["content"], "request #3");
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_discord_would_reject_are_refused_with_its_error() {
    let fake = FakeDiscord::start().await;
    let http = fake.serenity_http();
    let guild = GuildId::new(fake.guild_id());
    let string = |name: &str, required: bool| {
        CreateCommandOption::new(CommandOptionType::String, name, "x").required(required)
    };

    let upper = CreateCommand::new("Buy").description("Upper case is not allowed");
    let err = guild
        .set_commands(&http, vec![upper])
        .await
        .expect_err("invalid name");
    assert_eq!(
        (discord_code(&err), error_paths(&err)),
        (50035, vec!["0.name".to_string()])
    );
    let order = CreateCommand::new("buy")
        .description("Required options first")
        .add_option(string("zone", false))
        .add_option(string("kind", true));
    let err = guild
        .set_commands(&http, vec![order])
        .await
        .expect_err("order");
    assert_eq!(error_paths(&err), ["0.options.1.required"]);

    let v1 = vec![CreateCommand::new("cvm").description("v1")];
    let first = http
        .create_global_commands(&v1)
        .await
        .expect("PUT global commands");
    let v2 = vec![CreateCommand::new("cvm").description("v2")];
    let second = http
        .create_global_commands(&v2)
        .await
        .expect("PUT them again");
    assert_eq!(first[0].id, second[0].id, "same name keeps its id");
    assert_eq!(http.get_global_commands().await.expect("GET").len(), 1);
    assert_eq!(fake.commands(None)[0]["description"], "v2");
    assert!(fake.commands(Some(fake.guild_id())).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_failure_reaches_serenity_as_discords_error() {
    let fake = FakeDiscord::start().await;
    let http = fake.serenity_http();
    let channel = ChannelId::new(fake.default_channel_id());

    fake.fail_next("POST /channels/{channel}/messages", 503);
    let failed = channel
        .say(&http, "first try")
        .await
        .expect_err("injected 503");
    fake.fail_next("POST /channels/{channel}/messages", 429);
    let limited = channel
        .say(&http, "second try")
        .await
        .expect_err("injected 429");
    channel
        .say(&http, "third try")
        .await
        .expect("faults apply once");

    assert_eq!((status(&failed), status(&limited)), (Some(503), Some(429)));
    let log = fake.requests_to("POST /channels/{channel}/messages");
    assert_eq!(
        log[1].response.as_ref().expect("429 body")["retry_after"],
        1.0
    );
    let contents: Vec<String> = fake
        .messages(channel.get())
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["third try"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_arrive_as_multipart_and_become_attachments() {
    let fake = FakeDiscord::start().await;
    let http = fake.serenity_http();
    let channel = ChannelId::new(fake.default_channel_id());

    let file = CreateAttachment::bytes(b"ip=10.0.0.1".to_vec(), "report.txt");
    let with_file = CreateMessage::new().content("report").add_file(file);
    let msg = channel
        .send_message(&http, with_file)
        .await
        .expect("send with a file");
    channel
        .say(&http, "plain")
        .await
        .expect("send without a file");

    assert_eq!(
        (
            msg.attachments[0].filename.as_str(),
            msg.attachments[0].size
        ),
        ("report.txt", 11)
    );
    let sent = fake.requests_to("POST /channels/{channel}/messages");
    assert!(
        sent[0]
            .content_type
            .starts_with("multipart/form-data; boundary=")
    );
    assert_eq!(sent[0].files, ["report.txt"]);
    assert_eq!(
        sent[0].body.as_ref().expect("payload_json")["content"],
        "report"
    );
    assert_eq!(sent[1].content_type, "application/json");
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_serenity_would_drop_is_caught_by_the_fakes_check() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let zone = [("zone", json!("ap-guangzhou-3"))];
    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm price", &zone);
    fake.interaction_response(&h, WAIT).await;

    let sent = fake
        .dispatches()
        .into_iter()
        .find(|d| d.name == "INTERACTION_CREATE");
    let mut payload = sent.expect("the interaction was dispatched").d;
    assert_eq!(
        FakeDiscord::serenity_accepts("INTERACTION_CREATE", &payload),
        Ok(())
    );
    payload
        .as_object_mut()
        .expect("object")
        .remove("attachment_size_limit");
    let err = FakeDiscord::serenity_accepts("INTERACTION_CREATE", &payload).expect_err("required");
    assert!(err.contains("attachment_size_limit"), "{err}");
    let callback = &fake.requests_to("POST /interactions/{interaction}/{token}/callback")[0];
    assert_eq!(
        callback.content_type, "application/json",
        "serenity sends JSON without files"
    );
    fake.assert_dispatches_delivered(WAIT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_need_the_matching_intent_and_privileged_ones_are_refused() {
    let fake = fake_with_members().await;
    let mut client = build_client(&fake, &fake.token(), GatewayIntents::GUILDS).await;
    let task = tokio::spawn(async move { client.start().await });
    fake.wait_until_ready(WAIT).await;
    let channel = ChannelId::new(fake.default_channel_id());
    let msg = channel
        .say(&fake.serenity_http(), "request #9")
        .await
        .expect("post");

    fake.react(ALICE, channel.get(), msg.id.get(), "👍");

    let reaction = fake
        .dispatches()
        .into_iter()
        .find(|d| d.name == "MESSAGE_REACTION_ADD");
    let why = reaction
        .expect("recorded")
        .dropped
        .expect("not sent without the intent");
    assert!(why.contains("intent"), "{why}");
    task.abort();
    let members = GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS;
    let mut privileged = build_client(&fake, &fake.token(), members).await;
    let outcome = tokio::time::timeout(WAIT, privileged.start())
        .await
        .expect("closed with 4014");
    assert!(
        outcome.is_err(),
        "GUILD_MEMBERS is privileged and not enabled in the fake"
    );
}
