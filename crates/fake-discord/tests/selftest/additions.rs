//! Direct messages, integer option bounds and bursts, driven through serenity's `Http`.

use serenity::all::{CommandOptionType, CreateCommand, CreateCommandOption, CreateMessage, GuildId, UserId};

use super::bot::{ALICE, BOB, discord_code, fake_with_members};
use fake_discord::WAIT;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_channel_is_opened_once_and_a_closed_dm_refuses_messages_with_50007() {
    let fake = fake_with_members().await;
    let http = fake.serenity_http();
    let dm = UserId::new(ALICE).create_dm_channel(&http).await.expect("a DM channel");
    let again = UserId::new(ALICE)
        .create_dm_channel(&http)
        .await
        .expect("the same DM channel");
    assert_eq!(
        (dm.id, dm.recipient.id.get()),
        (again.id, ALICE),
        "one DM channel per user"
    );
    assert_eq!(fake.dm_channel(ALICE), Some(dm.id.get()));
    dm.id.say(&http, "your ✅ was not counted").await.expect("a DM");
    assert_eq!(fake.messages(dm.id.get())[0].content, "your ✅ was not counted");
    let created = fake
        .dispatches()
        .into_iter()
        .rfind(|d| d.name == "MESSAGE_CREATE")
        .expect("MESSAGE_CREATE");
    assert!(
        created.d.get("guild_id").is_none(),
        "a DM event has no guild: {}",
        created.d
    );

    fake.close_dms(BOB);
    let bob = UserId::new(BOB)
        .create_dm_channel(&http)
        .await
        .expect("opening works even when closed");
    let refused = bob.id.send_message(&http, CreateMessage::new().content("hi")).await;
    assert_eq!(refused.map(|_| ()).map_err(|e| discord_code(&e)), Err(50007));
    let stranger = UserId::new(999).create_dm_channel(&http).await;
    assert_eq!(
        stranger.map(|_| ()).map_err(|e| discord_code(&e)),
        Err(50033),
        "not a guild member"
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn integer_option_bounds_beyond_two_to_the_53_are_refused_at_registration() {
    let fake = fake_with_members().await;
    let http = fake.serenity_http();
    let guild = GuildId::new(fake.guild_id());
    let with_max = |max: u64| {
        let id = CreateCommandOption::new(CommandOptionType::Integer, "id", "Request number").max_int_value(max);
        vec![CreateCommand::new("cvm").description("Servers").add_option(
            CreateCommandOption::new(CommandOptionType::SubCommand, "status", "Show one").add_sub_option(id),
        )]
    };
    let refused = guild.set_commands(&http, with_max(i64::MAX as u64)).await;
    assert_eq!(refused.map(|_| ()).map_err(|e| discord_code(&e)), Err(50035));
    guild
        .set_commands(&http, with_max((1 << 53) - 1))
        .await
        .expect("2^53 - 1 is the largest");
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_is_queued_whole_and_recorded_with_delivery_and_arrival_times() {
    let fake = fake_with_members().await;
    let _bot = super::bot::start_bot(&fake).await;
    let channel = fake.default_channel_id();
    let runs: Vec<_> = (0..20).map(|_| (ALICE, channel, "cvm quiet", vec![])).collect();
    let handles = fake.slash_command_burst(&runs);
    assert_eq!(handles.len(), 20);
    let last = handles.last().expect("20 handles");
    let id = last.id.to_string();
    let delivered = fake
        .wait_for_delivered(|d| d.name == "INTERACTION_CREATE" && d.d["id"] == id.as_str(), WAIT)
        .await;
    assert!(delivered.delivered_at.is_some());
    let callbacks = fake.requests_to("POST /interactions/{interaction}/{token}/callback");
    assert!(callbacks.is_empty(), "the bot leaves `quiet` unanswered");
}
