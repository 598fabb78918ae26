//! The rest of a server's life through Discord: a release someone else must approve, and a
//! time-to-live reminder whose Extend and Release now buttons work for the owner only.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, BOB, DAVE, DiscordApp, ERIN, button, card_title};
use crate::support::fake_discord::{MessageView, WAIT};
use cvmbot::domain::{RequestId, RequestState};
use serde_json::json;
use std::time::Duration;

/// Reminders are due as soon as a spot server (1d by default) is bought.
const REMIND_AT_ONCE: &str = r#"
[policy.ttl]
reminders = ["2d"]
renewal_reminders = ["40d"]
pay_as_you_go = { default = "3d", max = "30d", allow_none = false }
spot = { default = "1d", max = "7d", allow_none = false }
prepaid = { default = "none", max = "none", allow_none = true }

[workers]
lifetimes_interval = "200ms"
"#;

/// Alice's spot server, approved by bob, bought and running.
async fn a_running_spot_server(app: &DiscordApp) -> (RequestId, String) {
    let (id, card) = app.file_spot(ALICE).await;
    app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    app.wait_until_submitted().await;
    app.test.sim.advance(Duration::from_secs(60));
    app.fake
        .wait_for_message(app.channel, |m| m.content.contains("is RUNNING"), WAIT)
        .await;
    let instance = app.test.desk().view(id).await.expect("view").instances[0]
        .instance_id
        .clone();
    (id, instance)
}

fn terminations(app: &DiscordApp) -> usize {
    app.test
        .sim
        .requests()
        .iter()
        .filter(|r| r.action == "TerminateInstances")
        .count()
}

fn ended(app: &DiscordApp, instance: &str) -> bool {
    app.test
        .sim
        .instances()
        .into_iter()
        .find(|i| i.instance_id == instance)
        .is_none_or(|i| i.ended.is_some())
}

async fn click(app: &DiscordApp, user: u64, message: &MessageView, id: &str) -> String {
    let pressed = app.fake.click_button(user, message.id, id);
    app.private_answer(&pressed).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_admins_release_of_someone_elses_server_waits_for_an_approver_and_then_terminates_it_once() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (purchase, instance) = a_running_spot_server(&app).await;

    let asked = app.fake.slash_command(
        ERIN,
        app.channel,
        "cvm release",
        &[
            ("request", json!(purchase.get())),
            ("reason", json!("the load test is over")),
        ],
    );
    let told = app.private_answer(&asked).await;
    assert!(told.contains("Filed request #2"), "{told}");
    assert!(told.contains("1 approval(s) from someone else"), "{told}");
    let card = app.wait_for_card(RequestId::new(2), |c| !c.components.is_empty()).await;
    assert!(
        card_title(&card).contains(&format!("release {instance} of #{purchase}")),
        "{}",
        card_title(&card)
    );
    assert!(
        card.text().contains("Refund"),
        "the refund is on the card: {}",
        card.text()
    );
    assert_eq!(terminations(&app), 0, "nothing is released before approval");

    // dave may not release alice's servers at all.
    let refused = app.fake.slash_command(
        DAVE,
        app.channel,
        "cvm release",
        &[("request", json!(purchase.get())), ("reason", json!("mine now"))],
    );
    let told = app.private_answer(&refused).await;
    assert!(
        told.contains("Only the person who bought these servers, or an admin"),
        "{told}"
    );

    app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    app.fake
        .wait_for_message(
            app.channel,
            |m| m.content.contains("were destroyed") && m.content.contains(&instance),
            WAIT,
        )
        .await;
    assert_eq!(
        app.test
            .desk()
            .view(RequestId::new(2))
            .await
            .expect("view")
            .record
            .state,
        RequestState::Done
    );
    assert_eq!(terminations(&app), 1, "TerminateInstances once");
    assert!(ended(&app, &instance), "the spot server is destroyed");
    app.wait_for_card(purchase, |c| c.text().contains("released")).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ttl_reminder_offers_extend_and_release_now_to_the_owner() {
    let app = DiscordApp::start_with(Backend::Sqlite, REMIND_AT_ONCE)
        .await
        .expect("SQLite");
    let (purchase, instance) = a_running_spot_server(&app).await;
    let reminder = app
        .fake
        .wait_for_message(app.channel, |m| m.content.contains("time to live"), WAIT)
        .await;
    assert!(
        reminder.content.contains(&format!("<@{ALICE}>")),
        "the owner is pinged: {}",
        reminder.content
    );
    assert!(reminder.content.contains(&instance), "{}", reminder.content);
    let extend = button(&reminder, "cvm:extend:");
    let release_now = button(&reminder, "cvm:release-now:");
    let before = app
        .test
        .desk()
        .view(purchase)
        .await
        .expect("view")
        .lifetime
        .expect("a lifetime");

    let told = click(&app, DAVE, &reminder, &extend).await;
    assert!(told.contains("Only the person who bought these servers"), "{told}");
    let told = click(&app, ALICE, &reminder, &extend).await;
    assert!(told.contains("now run until"), "{told}");
    let after = app
        .test
        .desk()
        .view(purchase)
        .await
        .expect("view")
        .lifetime
        .expect("a lifetime");
    assert_eq!(after.release_at, before.release_at + Duration::from_secs(86_400));
    app.fake
        .wait_for_message(app.channel, |m| m.content.contains("extended the time to live"), WAIT)
        .await;

    let told = click(&app, ALICE, &reminder, &release_now).await;
    assert!(told.contains("Releasing the servers of #1 now"), "{told}");
    app.fake
        .wait_for_message(
            app.channel,
            |m| m.content.contains("were destroyed") && m.content.contains(&instance),
            WAIT,
        )
        .await;
    assert_eq!(terminations(&app), 1);
    assert!(ended(&app, &instance));
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_renewal_reminder_asks_for_the_months_and_an_approved_renewal_pays_once() {
    // The simulator's clock starts today, so its expiry times are the bot's.
    let mut sim = crate::support::sim::test_config();
    sim.start_time = Some(
        time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a time"),
    );
    let app = DiscordApp::start_with_sim(Backend::Sqlite, sim, REMIND_AT_ONCE)
        .await
        .expect("SQLite");
    let options = [
        ("months", json!(1)),
        ("zone", json!(crate::support::sim::ZONE)),
        ("type", json!(crate::support::sim::TYPE)),
        ("image", json!(crate::support::sim::IMAGE)),
    ];
    let filing = app.fake.slash_command(ALICE, app.channel, "cvm buy prepaid", &options);
    let id = crate::support::discord_app::filed_request_id(&app.answer(&filing).await);
    let card = app.wait_for_card(id, |c| !c.components.is_empty()).await;
    app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    app.wait_until_submitted().await;
    app.test.sim.advance(Duration::from_secs(60));

    let reminder = app
        .fake
        .wait_for_message(app.channel, |m| m.content.contains("prepaid period"), WAIT)
        .await;
    assert!(
        reminder.content.contains(&format!("<@{ALICE}>")),
        "{}",
        reminder.content
    );
    let pressed = app
        .fake
        .click_button(ALICE, reminder.id, &button(&reminder, "cvm:renew:"));
    let form = app.fake.interaction_response(&pressed, WAIT).await;
    assert_eq!(form.callback_type, Some(9), "a form asks for the months: {form:#?}");
    let form_id = form.data["custom_id"].as_str().expect("the form's id").to_owned();
    let submitted = app.fake.submit_modal(ALICE, &form_id, &[("months", "2")]);
    let told = app.private_answer(&submitted).await;
    assert!(told.contains("Filed renewal request #2 for 2 month(s)"), "{told}");

    let renewal = app.wait_for_card(RequestId::new(2), |c| !c.components.is_empty()).await;
    assert!(renewal.text().contains("Renewing"), "{}", renewal.text());
    let own = app
        .fake
        .click_button(ALICE, renewal.id, &button(&renewal, "cvm:approve:"));
    assert!(app.private_answer(&own).await.contains("your own request"));
    app.fake
        .click_button(BOB, renewal.id, &button(&renewal, "cvm:approve:"));
    app.fake
        .wait_for_message(app.channel, |m| m.content.contains("renewed for 2 month(s)"), WAIT)
        .await;
    let renewals = app
        .test
        .sim
        .requests()
        .iter()
        .filter(|r| r.action == "RenewInstances")
        .count();
    assert_eq!(renewals, 1, "RenewInstances once");
    app.finish().await;
}
