//! The gateway: IDENTIFY and command registration, resuming after an outage, re-identifying when RESUME is refused, bad
//! tokens, intents.

use std::time::Duration;

use serde_json::json;
use serenity::all::{ChannelId, GatewayIntents, HttpBuilder};

use super::bot::{ALICE, Seen, build_client, fake_with_members, post_request, start_bot};
use fake_discord::{FakeConfig, FakeDiscord, WAIT};

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
    let vote = fake.react(ALICE, channel, msg_id, "👍"); // during the outage
    fake.wait_until_reconnected(mark, WAIT).await;

    assert!(fake.resume_count() >= 1, "serenity resumed the session");
    assert_eq!(fake.identifies().len(), 1, "and did not identify again");
    let replayed = fake.wait_for_delivery(&vote, WAIT).await;
    assert!(replayed.connection > Some(mark), "replayed on the resumed connection");
    fake.wait_for_message(channel, |m| m.content.starts_with("vote by"), WAIT)
        .await;
    let later = fake.slash_command(ALICE, channel, "cvm price", &[("zone", json!("ap-shanghai-2"))]);
    assert_eq!(fake.interaction_response(&later, WAIT).await.callback_type, Some(4));
    fake.wait_for_heartbeats(2, WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_resume_is_refused_serenity_identifies_again() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    fake.refuse_resume(true);
    let mark = fake.disconnect();
    fake.wait_until_reconnected(mark, Duration::from_secs(20)).await;

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
    assert_eq!(fake.interaction_response(&h, WAIT).await.callback_type, Some(4));
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_is_refused_on_rest_and_on_the_gateway() {
    let fake = fake_with_members().await;

    let http = HttpBuilder::new("wrong-token")
        .proxy(fake.rest_url())
        .ratelimiter_disabled(true)
        .build();
    let err = http.get_current_user().await.expect_err("bad token must fail");
    assert!(err.to_string().contains("401"), "{err}");
    let me = fake.serenity_http().get_current_user().await.expect("good token works");
    assert_eq!(me.id.get(), fake.bot_user_id());

    let intents = GatewayIntents::GUILDS;
    let mut client = build_client(&fake, "wrong-token", intents).await;
    let outcome = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("client gives up on 4004");
    assert!(outcome.is_err(), "serenity reports invalid authentication");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_need_the_matching_intent_and_privileged_ones_are_refused() {
    let fake = fake_with_members().await;
    let mut client = build_client(&fake, &fake.token(), GatewayIntents::GUILDS).await;
    let task = tokio::spawn(async move { client.start().await });
    fake.wait_until_ready(WAIT).await;
    let channel = ChannelId::new(fake.default_channel_id());
    let msg = channel.say(&fake.serenity_http(), "request #9").await.expect("post");

    let vote = fake.react(ALICE, channel.get(), msg.id.get(), "👍");

    let index = vote.index.expect("recorded in the dispatch log");
    let why = fake.dispatches()[index]
        .dropped
        .clone()
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
        ["price", "buy", "slow", "twice", "defer", "form", "quiet", "admin"]
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
    assert!(fake.commands(None).is_empty(), "nothing registered globally");
    assert_eq!(
        fake.requests()[0].route,
        "GET /gateway",
        "serenity asks for the gateway URL first"
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_changes_reach_a_bot_with_the_members_intent() {
    let cfg = FakeConfig {
        privileged_intents: GatewayIntents::GUILD_MEMBERS.bits(),
        ..FakeConfig::default()
    };
    let fake = FakeDiscord::start_with(cfg).await;
    let intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MEMBERS;
    let mut client = build_client(&fake, &fake.token(), intents).await;
    let task = tokio::spawn(async move { client.start().await });
    fake.wait_until_ready(WAIT).await;

    let approver = fake.add_role("approver", 0);
    fake.add_member(ALICE, "alice", &[]);
    fake.set_member_roles(ALICE, &[approver]);
    fake.set_role_permissions(approver, 1 << 13);
    fake.add_channel("purchases");

    let names = [
        "GUILD_ROLE_CREATE",
        "GUILD_MEMBER_ADD",
        "GUILD_MEMBER_UPDATE",
        "GUILD_ROLE_UPDATE",
        "CHANNEL_CREATE",
    ];
    for name in names {
        fake.wait_for_delivered(|d| d.name == name, WAIT).await;
    }
    let guild = fake
        .dispatches()
        .into_iter()
        .find(|d| d.name == "GUILD_CREATE")
        .expect("sent");
    assert!(guild.d["members"].as_array().is_some_and(|m| !m.is_empty()));
    fake.assert_no_problems();
    task.abort();
}
