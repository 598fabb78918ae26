//! Votes by button and by reaction: who may, what they are told when they may not, and that a
//! refused vote buys nothing.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, APPROVE, BOB, CAROL, DAVE, DiscordApp, button};
use crate::support::fake_discord::{MessageView, WAIT};
use cvmbot::domain::{RequestId, RequestState};

/// Request `id` as stored, with its votes.
async fn stored(app: &DiscordApp, id: RequestId) -> cvmbot::desk::RequestView {
    app.test.desk().view(id).await.expect("the request is stored")
}

/// A click on a card's button refused with `why`, privately, leaving the request pending.
async fn button_is_refused(app: &DiscordApp, user: u64, card: &MessageView, prefix: &str, why: &str) {
    let click = app.fake.click_button(user, card.id, &button(card, prefix));
    let answer = app.fake.interaction_response(&click, WAIT).await;
    assert_eq!(answer.callback_type, Some(4), "{answer:#?}");
    assert!(answer.ephemeral(), "only the clicker sees the refusal");
    let text = answer.data["content"].as_str().unwrap_or_default();
    assert!(text.contains(why), "{text}");
}

/// A refused reaction: the bot removes it.
async fn reaction_is_removed(app: &DiscordApp, user: u64, card: &MessageView) {
    let reaction = app.fake.react(user, app.channel, card.id, APPROVE);
    app.fake.wait_for_delivery(&reaction, WAIT).await;
    let route = "DELETE /channels/{channel}/messages/{message}/reactions/{emoji}/{user}";
    let user_path = format!("/{user}");
    app.fake
        .wait_for_request(
            |r| r.route == route && r.path.ends_with(&user_path) && r.status == 204,
            WAIT,
        )
        .await;
    let card = app.fake.message(card.id).expect("the card");
    assert!(
        !card.reaction_users(APPROVE).contains(&user),
        "the refused reaction is gone"
    );
}

async fn nothing_was_bought(app: &DiscordApp, id: RequestId) {
    let view = stored(app, id).await;
    assert_eq!(view.record.state, RequestState::Pending);
    assert!(view.votes.is_empty(), "no vote was recorded: {:?}", view.votes);
    assert!(app.purchases().is_empty(), "nothing was sent to RunInstances");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_requester_cannot_approve_their_own_request_by_button() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    button_is_refused(
        &app,
        ALICE,
        &card,
        "cvm:approve:",
        "can't approve or reject your own request",
    )
    .await;
    nothing_was_bought(&app, id).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_requesters_own_reaction_is_removed_and_explained_by_direct_message() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    reaction_is_removed(&app, ALICE, &card).await;
    app.fake
        .wait_for_request(|r| r.route == "POST /users/@me/channels", WAIT)
        .await;
    let dm = app.fake.dm_channel(ALICE).expect("a DM channel with alice");
    let told = app
        .fake
        .wait_for_message(dm, |m| m.content.contains("not counted"), WAIT)
        .await;
    assert!(told.content.contains(&format!("request #{id}")), "{}", told.content);
    assert!(told.content.contains("your own request"), "{}", told.content);
    nothing_was_bought(&app, id).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_member_without_the_approver_role_cannot_approve_by_button() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    button_is_refused(&app, DAVE, &card, "cvm:approve:", "Only approvers").await;
    button_is_refused(&app, DAVE, &card, "cvm:reject:", "Only approvers").await;
    nothing_was_bought(&app, id).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_non_approvers_reaction_is_removed_and_explained_in_the_channel_when_dms_are_closed() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    app.fake.close_dms(DAVE);
    app.expect_refusal(50007);
    let (id, card) = app.file_spot(ALICE).await;
    reaction_is_removed(&app, DAVE, &card).await;
    let told = app
        .fake
        .wait_for_message(app.channel, |m| m.content.starts_with(&format!("<@{DAVE}>")), WAIT)
        .await;
    assert!(told.content.contains("Only approvers"), "{}", told.content);
    let sent = app
        .fake
        .requests_to("POST /channels/{channel}/messages")
        .into_iter()
        .find(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b["content"].as_str().is_some_and(|c| c.starts_with("<@")))
        })
        .expect("the mention was posted");
    let allowed = &sent.body.expect("a body")["allowed_mentions"];
    assert_eq!(
        allowed["users"],
        serde_json::json!([DAVE.to_string()]),
        "only dave is pinged: {allowed}"
    );
    nothing_was_bought(&app, id).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approvers_button_click_approves_and_the_servers_are_bought_once() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    let click = app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    let answer = app.fake.interaction_response(&click, WAIT).await;
    assert_eq!(
        answer.callback_type,
        Some(6),
        "acknowledged; the card is edited with the bot token: {answer:#?}"
    );
    let card = app
        .wait_for_card(id, |c| c.components.is_empty() && c.text().contains("✅ bob"))
        .await;
    assert!(card.text().contains("Approvals (1 of 1)"), "{}", card.text());
    app.wait_until_submitted().await;
    assert_eq!(app.purchases().len(), 1, "RunInstances exactly once");
    let view = stored(&app, id).await;
    assert_eq!(view.votes.len(), 1);
    assert_eq!(view.votes[0].via.as_str(), "button");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reject_button_asks_for_a_reason_and_the_card_shows_it() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    let click = app.fake.click_button(BOB, card.id, &button(&card, "cvm:reject:"));
    let modal = app.fake.interaction_response(&click, WAIT).await;
    assert_eq!(modal.callback_type, Some(9), "a modal asks for the reason: {modal:#?}");
    let modal_id = modal.data["custom_id"]
        .as_str()
        .expect("the modal's custom_id")
        .to_owned();
    assert!(modal_id.contains(&id.to_string()), "{modal_id}");

    let submit = app
        .fake
        .submit_modal(BOB, &modal_id, &[("reason", "too expensive for a load test")]);
    let text = app.private_answer(&submit).await;
    assert!(text.contains(&format!("rejected request #{id}")), "{text}");
    let card = app
        .wait_for_card(id, |c| {
            c.text().contains("❌ Rejected by bob: too expensive for a load test")
        })
        .await;
    assert!(card.components.is_empty(), "no buttons on a decided request");
    let view = stored(&app, id).await;
    assert_eq!(view.record.state, RequestState::Rejected);
    assert_eq!(view.votes[0].reason.as_deref(), Some("too expensive for a load test"));
    assert!(app.purchases().is_empty(), "nothing was bought");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_costlier_request_needs_two_approvers_one_by_button_and_one_by_reaction() {
    let tiers = "[policy]\ntiers = [{ up_to = \"1\", approvals = 1 }, { up_to = \"20000\", approvals = 2 }]\n";
    let app = DiscordApp::start_with(Backend::Sqlite, tiers).await.expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    assert!(card.text().contains("Approvals (0 of 2)"), "{}", card.text());

    let click = app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    assert_eq!(app.fake.interaction_response(&click, WAIT).await.callback_type, Some(6));
    let card = app.wait_for_card(id, |c| c.text().contains("Approvals (1 of 2)")).await;
    assert_eq!(card.components.len(), 1, "still open for the second approval");
    assert!(app.purchases().is_empty(), "one approval of two buys nothing");

    let again = app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    let answer = app.fake.interaction_response(&again, WAIT).await;
    assert!(
        answer.data["content"]
            .as_str()
            .is_some_and(|t| t.contains("already voted")),
        "{answer:#?}"
    );

    let reaction = app.fake.react(CAROL, app.channel, card.id, APPROVE);
    app.fake.wait_for_delivery(&reaction, WAIT).await;
    let card = app
        .wait_for_card(id, |c| c.components.is_empty() && c.text().contains("✅ carol"))
        .await;
    assert!(card.text().contains("Approvals (2 of 2)"), "{}", card.text());
    app.wait_until_submitted().await;
    assert_eq!(app.purchases().len(), 1);
    app.finish().await;
}
