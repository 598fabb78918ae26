//! Where later posts go: a thread under each request when configured, the alert channel for the
//! balance, and answers that must fit Discord's limits however much there is to say.

use crate::support::app::{Backend, spot_form};
use crate::support::discord_app::{ALICE, APPROVE, BOB, DiscordApp};
use crate::support::fake_discord::WAIT;
use cvmbot::desk::Origin;
use cvmbot::domain::Person;
use cvmbot::money::Fen;
use cvmbot::sim::DEFAULT_SECRET_ID;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_a_thread_per_request_the_progress_is_posted_in_a_thread_under_the_card() {
    let app = DiscordApp::start_with(Backend::Sqlite, "[discord]\nthread_per_request = true\n")
        .await
        .expect("SQLite");
    let (id, card) = app.file_spot(ALICE).await;
    let thread = app
        .fake
        .wait_for_request(
            |r| r.route == "POST /channels/{channel}/messages/{message}/threads",
            WAIT,
        )
        .await;
    assert_eq!(thread.status, 201, "{thread:#?}");
    assert_eq!(thread.body.as_ref().expect("a body")["name"], format!("Request #{id}"));
    let reaction = app.fake.react(BOB, app.channel, card.id, APPROVE);
    app.fake.wait_for_delivery(&reaction, WAIT).await;
    // A thread started from a message has the message's id.
    let submitted = app.wait_until_submitted_in(card.id).await;
    assert!(
        submitted.content.contains(&format!("Request #{id}")),
        "{}",
        submitted.content
    );
    let in_channel = app.fake.messages(app.channel);
    assert!(
        in_channel.iter().all(|m| !m.content.contains("was submitted")),
        "progress stays in the thread"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_low_balance_is_announced_in_the_alert_channel_with_the_bot_token() {
    let app = DiscordApp::start_with(Backend::Sqlite, "[balance]\ncheck_interval = \"200ms\"\n")
        .await
        .expect("SQLite");
    app.test
        .sim
        .set_balance(DEFAULT_SECRET_ID, Fen::new(15_000))
        .expect("the default account");
    let warning = app
        .fake
        .wait_for_message(app.alerts, |m| m.content.contains("Tencent Cloud balance is"), WAIT)
        .await;
    assert!(
        warning.content.contains("150.00 CNY") && warning.content.contains("below 200"),
        "{}",
        warning.content
    );
    assert!(!warning.is_ephemeral());
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_listing_still_fits_in_one_discord_message() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let requester = Person {
        id: cvmbot::domain::UserId::new(106),
        name: "Maximilian Alexander Longname-Smith".into(),
        roles: vec![],
    };
    for _ in 0..22 {
        let form = spot_form().with("count", "10");
        app.test
            .desk()
            .create(&requester, &form, Origin::default())
            .await
            .expect("filed");
    }
    let list = app
        .fake
        .slash_command(BOB, app.channel, "cvm list", &[("filter", serde_json::json!("all"))]);
    let text = app.private_answer(&list).await;
    assert!(text.chars().count() <= 2000, "{} characters", text.chars().count());
    assert!(text.starts_with("**#22**"), "newest first: {text}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_notice_discord_fails_to_take_is_posted_again_once_with_the_same_nonce() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (_, card) = app.file_spot(ALICE).await;
    app.fake.fail_next("POST /channels/{channel}/messages", 500);
    app.expect_refusal(0);
    let reaction = app.fake.react(BOB, app.channel, card.id, APPROVE);
    app.fake.wait_for_delivery(&reaction, WAIT).await;
    app.wait_until_submitted().await;
    let attempts: Vec<_> = app
        .fake
        .requests_to("POST /channels/{channel}/messages")
        .into_iter()
        .filter(|r| {
            r.body
                .as_ref()
                .is_some_and(|b| b["content"].as_str().is_some_and(|c| c.contains("was submitted")))
        })
        .collect();
    assert_eq!(
        attempts.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 200],
        "failed once, then posted"
    );
    let nonce = |i: usize| {
        attempts[i]
            .body
            .as_ref()
            .map(|b| (b["nonce"].clone(), b["enforce_nonce"].clone()))
    };
    assert_eq!(nonce(0), nonce(1), "the retry carries the same enforced nonce");
    let shown = app
        .fake
        .messages(app.channel)
        .into_iter()
        .filter(|m| m.content.contains("was submitted"))
        .count();
    assert_eq!(shown, 1);
    app.finish().await;
}
