//! Discord's interaction rules: the first callback within the deadline (3 s), only one
//! callback, followups only after it, tokens that expire.

use std::time::Duration;

use serde_json::{Value, json};

use super::bot::{ALICE, Seen, fake_with_members, start_bot};
use fake_discord::{InteractionHandle, WAIT};

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
    assert!(fake.problems().iter().any(|p| p.contains("past the deadline")));
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
    let http = reqwest::Client::builder().no_proxy().build().expect("reqwest client");
    let callback = |h: &InteractionHandle| {
        let url = format!("{}/api/v10/interactions/{}/{}/callback", fake.rest_url(), h.id, h.token);
        http.post(url)
            .json(&json!({"type": 4, "data": {"content": "hi"}}))
            .send()
    };

    let on_time = fake.slash_command(ALICE, fake.default_channel_id(), "cvm quiet", &[]);
    assert_eq!(callback(&on_time).await.expect("first callback").status(), 204);
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
#[should_panic(expected = "got no accepted callback")]
async fn an_unanswered_interaction_fails_soon_after_the_deadline() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    fake.set_interaction_deadline(Duration::from_millis(300));

    let ignored = fake.slash_command(ALICE, fake.default_channel_id(), "cvm quiet", &[]);

    // Fails after ~0.8 s instead of the 10 s WAIT: a later callback could only be refused.
    fake.interaction_response(&ignored, WAIT).await;
}
