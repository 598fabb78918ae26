//! REST routes driven through serenity's `Http` (or raw HTTP) without a gateway client.

use serenity::all::{
    ChannelId, ChannelType, CommandOptionType, CreateAttachment, CreateCommand, CreateCommandOption, CreateMessage,
    CreateThread, EditMessage, GuildId, Nonce, ReactionType, UserId,
};

use super::bot::{ALICE, BOB, discord_code, fake_with_members};
use fake_discord::{FakeConfig, FakeDiscord, Overwrite, permissions};

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
    let unenforced = send("req-1-ready", false).await.expect("send without enforce");

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
async fn unknown_routes_get_a_404_and_are_reported() {
    let fake = FakeDiscord::start().await;
    let http = reqwest::Client::builder().no_proxy().build().expect("reqwest client");
    let url = format!("{}/api/v10/guilds/{}/bans", fake.rest_url(), fake.guild_id());

    let resp = http
        .get(url)
        .header("Authorization", format!("Bot {}", fake.token()))
        .send()
        .await
        .expect("request");

    assert_eq!(resp.status(), 404);
    assert_eq!(fake.requests()[0].route, "UNKNOWN");
    assert!(fake.problems()[0].contains("/bans"), "{:?}", fake.problems());
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
    let bob = http.get_member(guild, UserId::new(BOB)).await.expect("GET member");
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
    let edited = channel.edit_message(&http, msg.id, edit).await.expect("edit");
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
    let gone = channel.message(&http, msg.id).await.expect_err("deleted message");
    assert_eq!(discord_code(&gone), 10008);

    let view = fake.message(msg.id.get()).expect("the fake keeps deleted messages");
    assert!(view.deleted);
    assert_eq!(view.history[0]["content"], "request #3");
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_discord_would_reject_are_refused_with_its_error() {
    let fake = FakeDiscord::start().await;
    let http = fake.serenity_http();
    let guild = GuildId::new(fake.guild_id());
    let string =
        |name: &str, required: bool| CreateCommandOption::new(CommandOptionType::String, name, "x").required(required);

    let upper = CreateCommand::new("Buy").description("Upper case is not allowed");
    let err = guild.set_commands(&http, vec![upper]).await.expect_err("invalid name");
    assert_eq!(
        (discord_code(&err), error_paths(&err)),
        (50035, vec!["0.name".to_string()])
    );
    let order = CreateCommand::new("buy")
        .description("Required options first")
        .add_option(string("zone", false))
        .add_option(string("kind", true));
    let err = guild.set_commands(&http, vec![order]).await.expect_err("order");
    assert_eq!(error_paths(&err), ["0.options.1.required"]);

    let v1 = vec![CreateCommand::new("cvm").description("v1")];
    let first = http.create_global_commands(&v1).await.expect("PUT global commands");
    let v2 = vec![CreateCommand::new("cvm").description("v2")];
    let second = http.create_global_commands(&v2).await.expect("PUT them again");
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
    let failed = channel.say(&http, "first try").await.expect_err("injected 503");
    fake.fail_next("POST /channels/{channel}/messages", 429);
    let limited = channel.say(&http, "second try").await.expect_err("injected 429");
    channel.say(&http, "third try").await.expect("faults apply once");

    assert_eq!((status(&failed), status(&limited)), (Some(503), Some(429)));
    let log = fake.requests_to("POST /channels/{channel}/messages");
    assert_eq!(log[1].response.as_ref().expect("429 body")["retry_after"], 1.0);
    let contents: Vec<String> = fake.messages(channel.get()).into_iter().map(|m| m.content).collect();
    assert_eq!(contents, ["third try"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_arrive_as_multipart_and_become_attachments() {
    let fake = FakeDiscord::start().await;
    let http = fake.serenity_http();
    let channel = ChannelId::new(fake.default_channel_id());

    let file = CreateAttachment::bytes(b"ip=10.0.0.1".to_vec(), "report.txt");
    let with_file = CreateMessage::new().content("report").add_file(file);
    let msg = channel.send_message(&http, with_file).await.expect("send with a file");
    channel.say(&http, "plain").await.expect("send without a file");

    assert_eq!(
        (msg.attachments[0].filename.as_str(), msg.attachments[0].size),
        ("report.txt", 11)
    );
    let sent = fake.requests_to("POST /channels/{channel}/messages");
    assert!(sent[0].content_type.starts_with("multipart/form-data; boundary="));
    assert_eq!(sent[0].files, ["report.txt"]);
    assert_eq!(sent[0].body.as_ref().expect("payload_json")["content"], "report");
    assert_eq!(sent[1].content_type, "application/json");

    let reworded = EditMessage::new().content("report v2");
    let kept = channel
        .edit_message(&http, msg.id, reworded)
        .await
        .expect("edit text only");
    let cleared = EditMessage::new().remove_all_attachments();
    let cleared = channel
        .edit_message(&http, msg.id, cleared)
        .await
        .expect("drop the files");
    assert_eq!((kept.attachments.len(), cleared.attachments.len()), (1, 0));
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_bots_invite_permissions_do_not_cover_is_refused() {
    let without = permissions::MANAGE_MESSAGES | permissions::ADD_REACTIONS;
    let cfg = FakeConfig {
        bot_permissions: permissions::BOT_DEFAULT & !without,
        ..FakeConfig::default()
    };
    let fake = FakeDiscord::start_with(cfg).await;
    let everyone = fake.guild_id();
    fake.set_role_permissions(everyone, permissions::VIEW_CHANNEL | permissions::SEND_MESSAGES);
    fake.add_member(ALICE, "alice", &[]);
    let http = fake.serenity_http();
    let channel = ChannelId::new(fake.default_channel_id());
    let msg = channel.say(&http, "request #5").await.expect("post");
    let check = ReactionType::Unicode("✅".into());

    let new_emoji = msg.react(&http, check.clone()).await.expect_err("needs ADD_REACTIONS");
    fake.react_offline(ALICE, channel.get(), msg.id.get(), "✅");
    msg.react(&http, check.clone())
        .await
        .expect("joining an existing reaction is allowed");
    let removal = channel.delete_reaction(&http, msg.id, Some(UserId::new(ALICE)), check);
    let removal = removal.await.expect_err("needs MANAGE_MESSAGES");

    assert_eq!((discord_code(&new_emoji), discord_code(&removal)), (50013, 50013));
    let users = fake.message(msg.id.get()).expect("message").reaction_users("✅");
    assert_eq!(users, [ALICE, fake.bot_user_id()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_overwrites_decide_what_the_bot_may_do_there_in_discords_order() {
    let fake = fake_with_members().await;
    let http = fake.serenity_http();
    let (guild, bot_role) = (fake.guild_id(), fake.role_id("cvmbot").expect("the bot's role"));
    let quiet = fake.add_channel("quiet");
    // @everyone may not post in #quiet, the bot's role may again, the bot itself may not react.
    fake.set_permission_overwrite(quiet, Overwrite::Role(guild), 0, permissions::SEND_MESSAGES);
    fake.set_permission_overwrite(quiet, Overwrite::Role(bot_role), permissions::SEND_MESSAGES, 0);
    fake.set_permission_overwrite(
        quiet,
        Overwrite::Member(fake.bot_user_id()),
        0,
        permissions::ADD_REACTIONS,
    );
    let channel = ChannelId::new(quiet);
    let shown = channel
        .to_channel(&http)
        .await
        .expect("the channel")
        .guild()
        .expect("a guild channel");
    assert_eq!(
        shown.permission_overwrites.len(),
        3,
        "{:?}",
        shown.permission_overwrites
    );
    let msg = channel
        .say(&http, "the role's allow wins over @everyone's deny")
        .await
        .expect("post");
    let refused = msg
        .react(&http, ReactionType::Unicode("✅".into()))
        .await
        .expect_err("denied to the bot");
    assert_eq!(discord_code(&refused), 50013);

    fake.set_permission_overwrite(quiet, Overwrite::Role(bot_role), 0, permissions::VIEW_CHANNEL);
    let hidden = channel.to_channel(&http).await.expect_err("the bot cannot see it");
    let posting = channel.say(&http, "hello").await.expect_err("nor post there");
    assert_eq!((discord_code(&hidden), discord_code(&posting)), (50001, 50001));
    let general = ChannelId::new(fake.default_channel_id());
    general.say(&http, "other channels are untouched").await.expect("post");
    fake.assert_no_problems();
}
