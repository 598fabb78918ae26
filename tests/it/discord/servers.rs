//! Servers cvmbot is not set up for: a server taken out of `discord.guild_ids` still has the
//! `/cvm` command registered there and the cards filed there, so commands, autocomplete, buttons
//! and reactions from it keep coming. Each is answered privately and nothing is filed, voted or
//! bought.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, APPROVE, BOB, CAROL, DiscordApp, button_ids, card_title, spot_options};
use crate::support::fake_discord::{MessageView, WAIT};
use cvmbot::domain::{RequestId, RequestState};
use cvmbot::store::ListFilter;
use serde_json::json;

const NOT_SET_UP: &str = "cvmbot is not set up for this server.";

/// Bob and carol approve by their user ids, so that their votes would count in any server if
/// cvmbot took them.
const APPROVERS_ANYWHERE: &str = "[policy]\napprovers = { users = [\"102\", \"103\"] }\n";

/// A server cvmbot was set up for, where alice filed request #1, then taken out of
/// `discord.guild_ids` and the bot restarted; `while_down` is done while the bot is stopped.
struct Elsewhere {
    app: DiscordApp,
    channel: u64,
    card: MessageView,
}

async fn taken_out(while_down: impl FnOnce(&DiscordApp, u64, &MessageView)) -> Elsewhere {
    let mut app = DiscordApp::start_with(Backend::Sqlite, APPROVERS_ANYWHERE)
        .await
        .expect("SQLite");
    let main = app.fake.guild_id();
    let (elsewhere, channel) = app.fake.add_other_guild("Elsewhere");
    app.stop_bot().await;
    app.test.app.config.discord.guild_ids = vec![main, elsewhere];
    app.start_bot().await;
    let card = card_filed_in(&app, channel).await;

    app.stop_bot().await;
    while_down(&app, channel, &card);
    app.test.app.config.discord.guild_ids = vec![main];
    app.start_bot().await;
    assert!(
        !app.fake.commands(Some(elsewhere)).is_empty(),
        "/cvm stays registered in the server it was registered in"
    );
    Elsewhere { app, channel, card }
}

/// Files a spot request as alice in `channel` and returns its card once it has its reactions.
async fn card_filed_in(app: &DiscordApp, channel: u64) -> MessageView {
    let filing = app.fake.slash_command(ALICE, channel, "cvm buy spot", &spot_options());
    app.answer(&filing).await;
    let bot = app.fake.bot_user_id();
    app.fake
        .wait_for_message(
            channel,
            |m| {
                m.author_id == bot
                    && card_title(m).starts_with("Request #1:")
                    && m.reaction_users(APPROVE).contains(&bot)
            },
            WAIT,
        )
        .await
}

/// Request #1 is as it was filed: the only request, pending, without votes, nothing bought.
async fn only_request_one_pending_without_votes(app: &DiscordApp) {
    let requests = app.test.desk().list(ListFilter::All, 10).await.expect("requests");
    assert_eq!(requests.len(), 1, "nothing more was filed: {requests:?}");
    let view = app.test.desk().view(RequestId::new(1)).await.expect("request #1");
    assert_eq!(view.record.state, RequestState::Pending);
    assert!(view.votes.is_empty(), "no vote was counted: {:?}", view.votes);
    assert!(app.purchases().is_empty(), "nothing was bought");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_from_a_server_cvmbot_is_not_set_up_for_are_answered_privately_and_file_nothing() {
    let Elsewhere { app, channel, .. } = taken_out(|_, _, _| {}).await;
    let buy = app.fake.slash_command(ALICE, channel, "cvm buy spot", &spot_options());
    assert_eq!(app.private_answer(&buy).await, NOT_SET_UP);
    let status = app.fake.slash_command(BOB, channel, "cvm status", &[("id", json!(1))]);
    assert_eq!(app.private_answer(&status).await, NOT_SET_UP);
    let typing = app
        .fake
        .autocomplete(ALICE, channel, "cvm buy payg", &[("zone", json!("guang"))], "zone");
    let suggested = app.fake.interaction_response(&typing, WAIT).await;
    assert_eq!(suggested.callback_type, Some(8), "{suggested:#?}");
    assert_eq!(suggested.data["choices"], json!([]), "no catalogue for another server");
    only_request_one_pending_without_votes(&app).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_button_or_reaction_from_a_server_cvmbot_is_not_set_up_for_is_refused_privately_and_counts_for_nothing() {
    let Elsewhere { app, channel, card } = taken_out(|_, _, _| {}).await;
    let bot = app.fake.bot_user_id();
    let posts = |app: &DiscordApp| {
        let posts = app.fake.messages(channel).into_iter();
        posts.filter(|m| m.author_id == bot && !m.is_ephemeral()).count()
    };
    let posted = posts(&app);
    let approve = button_ids(&card)
        .into_iter()
        .find(|b| b.starts_with("cvm:approve:1:"))
        .expect("an Approve button");
    let click = app.fake.click_button(BOB, card.id, &approve);
    assert_eq!(app.private_answer(&click).await, NOT_SET_UP);

    let reaction = app.fake.react(BOB, channel, card.id, APPROVE);
    app.fake.wait_for_delivery(&reaction, WAIT).await;
    let removed = format!("/{BOB}");
    app.fake
        .wait_for_request(
            |r| {
                r.route == "DELETE /channels/{channel}/messages/{message}/reactions/{emoji}/{user}"
                    && r.path.ends_with(&removed)
                    && r.status == 204
            },
            WAIT,
        )
        .await;
    app.fake
        .wait_for_request(|r| r.route == "POST /users/@me/channels", WAIT)
        .await;
    let dm = app.fake.dm_channel(BOB).expect("a DM channel with bob");
    let told = app
        .fake
        .wait_for_message(dm, |m| m.content.contains("not counted"), WAIT)
        .await;
    assert_eq!(told.content, format!("Your ✅ was not counted: {NOT_SET_UP}"));
    only_request_one_pending_without_votes(&app).await;
    assert_eq!(posts(&app), posted, "cvmbot posted nothing in that server");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reactions_made_there_while_the_bot_was_down_are_not_counted_when_it_comes_back() {
    let Elsewhere { app, card, .. } = taken_out(|app, channel, card| {
        app.fake.react_offline(CAROL, channel, card.id, APPROVE);
    })
    .await;
    only_request_one_pending_without_votes(&app).await;
    let card = app.fake.message(card.id).expect("the card");
    assert!(!button_ids(&card).is_empty(), "the card still asks for a vote");
    assert!(app.fake.dm_channel(CAROL).is_none(), "nobody was written to about it");
    app.finish().await;
}
