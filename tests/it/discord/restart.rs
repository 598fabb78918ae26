//! Reactions made while the bot was down: Discord sends no events for them, so the bot reads
//! them back from each pending card when it connects (READY), counts or refuses them, and
//! re-renders the cards.

use crate::on_both_backends;
use crate::support::discord_app::{ALICE, APPROVE, BOB, DiscordApp};
use crate::support::fake_discord::WAIT;
use cvmbot::domain::RequestState;

on_both_backends! {
    async fn reactions_made_while_the_bot_was_down_are_judged_when_it_comes_back(backend) {
        let Some(mut app) = DiscordApp::start(backend).await else { return };
        let (id, card) = app.file_spot(ALICE).await;
        let versions_before = card.history.len();

        app.stop_bot().await;
        app.fake.react_offline(ALICE, app.channel, card.id, APPROVE);
        app.fake.react_offline(BOB, app.channel, card.id, APPROVE);
        let bob = BOB.to_string();
        let dispatched = app
            .fake
            .dispatches()
            .into_iter()
            .any(|d| d.name == "MESSAGE_REACTION_ADD" && d.d["user_id"] == bob.as_str());
        assert!(!dispatched, "Discord sends nothing for a reaction made while the bot is away");
        app.restart().await;

        let card = app
            .wait_for_card(id, |c| c.history.len() > versions_before && c.text().contains("✅ bob"))
            .await;
        assert!(!card.reaction_users(APPROVE).contains(&ALICE), "alice's own approval was removed");
        assert!(card.reaction_users(APPROVE).contains(&BOB), "bob's approval stays");
        app.wait_until_submitted().await;
        assert_eq!(app.purchases().len(), 1, "bought exactly once");
        let view = app.test.desk().view(id).await.expect("the request");
        assert_ne!(view.record.state, RequestState::Pending);
        assert_eq!(view.votes.len(), 1, "only bob's vote counts: {:?}", view.votes);
        assert_eq!((view.votes[0].voter_id.get(), view.votes[0].via.as_str()), (BOB, "reaction"));
        let dm = app.fake.dm_channel(ALICE).expect("alice is told why by DM");
        let told = app.fake.wait_for_message(dm, |m| m.content.contains("not counted"), WAIT).await;
        assert!(told.content.contains("your own request"), "{}", told.content);
        app.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reaction_during_a_gateway_outage_is_replayed_on_resume_and_counted() {
    let app = DiscordApp::start(crate::support::app::Backend::Sqlite)
        .await
        .expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    let mark = app.fake.disconnect();
    let reaction = app.fake.react(BOB, app.channel, card.id, APPROVE);
    app.fake.wait_until_reconnected(mark, WAIT).await;
    app.fake.wait_for_delivery(&reaction, WAIT).await;
    assert_eq!(app.fake.resume_count(), 1, "the session was resumed, not re-identified");
    app.wait_for_card(id, |c| c.text().contains("✅ bob")).await;
    app.wait_until_submitted().await;
    assert_eq!(app.purchases().len(), 1);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reaction_lost_with_an_unresumable_session_is_found_when_the_bot_identifies_again() {
    let app = DiscordApp::start(crate::support::app::Backend::Sqlite)
        .await
        .expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    app.fake.refuse_resume(true);
    let mark = app.fake.disconnect();
    // Queued on the old session; Discord drops it when that session cannot be resumed.
    let _lost = app.fake.react(BOB, app.channel, card.id, APPROVE);
    app.fake.wait_until_reconnected(mark, WAIT).await;
    assert_eq!(app.fake.identifies().len(), 2, "the bot identified again");
    app.wait_for_card(id, |c| c.text().contains("✅ bob")).await;
    app.wait_until_submitted().await;
    assert_eq!(app.purchases().len(), 1, "bought once");
    app.finish().await;
}
