//! What the bot does when the server did not give it every permission it asks for.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, APPROVE, BOB, DiscordApp, REJECT, button};
use crate::support::fake_discord::{WAIT, permissions};
use cvmbot::domain::RequestId;
use cvmbot::store::ListFilter;

/// Takes `permission` from the bot's invite role and from @everyone.
fn revoke(app: &DiscordApp, permission: u64) {
    let bot_role = app.fake.role_id("cvmbot").expect("the bot's managed role");
    app.fake
        .set_role_permissions(bot_role, permissions::BOT_DEFAULT & !permission);
    let everyone = app.fake.guild_id();
    let everyone_now = app.fake.role_permissions(everyone);
    app.fake.set_role_permissions(everyone, everyone_now & !permission);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_send_messages_in_the_channel_a_buy_is_refused_before_anything_is_filed() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    revoke(&app, permissions::SEND_MESSAGES);
    let sent_before = app.test.sim.requests().len();
    let text = app.private_answer(&app.buy_spot(ALICE)).await;
    assert!(text.contains("can't post the request card in this channel"), "{text}");
    assert!(text.contains("Send Messages"), "names the permission: {text}");
    assert!(
        app.test
            .desk()
            .list(ListFilter::All, 10)
            .await
            .expect("list")
            .is_empty(),
        "nothing filed"
    );
    assert_eq!(
        app.test.sim.requests().len(),
        sent_before,
        "nothing sent to Tencent Cloud"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_add_reactions_the_request_is_still_filed_and_approved_by_button() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    revoke(&app, permissions::ADD_REACTIONS);
    app.expect_refusal(50013);
    let filing = app.buy_spot(ALICE);
    let text = app.private_answer(&filing).await;
    assert!(
        text.starts_with("Filed request #1;"),
        "the card is up even without reactions: {text}"
    );
    let card = app.wait_for_card(RequestId::new(1), |_| true).await;
    assert!(card.reaction_users(APPROVE).is_empty() && card.reaction_users(REJECT).is_empty());
    let click = app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    app.fake.interaction_response(&click, WAIT).await;
    app.wait_until_submitted().await;
    assert_eq!(app.purchases().len(), 1);
    let refused: Vec<_> = app.fake.requests().into_iter().filter(|r| r.status == 403).collect();
    assert_eq!(
        refused.len(),
        1,
        "one refused reaction, then no more tries: {refused:#?}"
    );
    app.finish().await;
}
