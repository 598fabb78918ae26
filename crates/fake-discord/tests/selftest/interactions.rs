//! Interactions through the test bot: replies, buttons, reactions, deferrals,
//! autocomplete, modals, typed options (the timing rules are in `rules`).

use serde_json::json;
use serenity::all::ChannelId;

use super::bot::{ALICE, BOB, Seen, fake_with_members, post_request, start_bot};
use fake_discord::{FakeDiscord, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ephemeral_reply_is_only_visible_to_the_invoking_user() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;

    let h = fake.slash_command(
        ALICE,
        fake.default_channel_id(),
        "cvm price",
        &[("zone", json!("ap-guangzhou-3"))],
    );
    let out = fake.interaction_response(&h, WAIT).await;

    assert_eq!(out.callback_type, Some(4));
    assert_eq!(out.data["flags"], json!(64));
    let reply = out.original.expect("response message");
    assert_eq!(
        (reply.ephemeral_to, reply.content.as_str()),
        (Some(ALICE), "price: 42 CNY/h")
    );
    let visible = fake
        .serenity_http()
        .get_messages(ChannelId::new(fake.default_channel_id()), None, None)
        .await
        .expect("GET messages");
    assert!(
        visible.is_empty(),
        "ephemeral replies are not channel messages: {visible:?}"
    );
    fake.assert_interactions_answered(WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_reply_becomes_a_message_and_the_bots_own_reaction_comes_back() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    let msg_id = post_request(&fake).await;
    let msg = fake
        .wait_for_message(
            fake.default_channel_id(),
            |m| m.id == msg_id && !m.reaction_users("✅").is_empty(),
            WAIT,
        )
        .await;

    assert_eq!(msg.author_id, fake.bot_user_id());
    assert_eq!(msg.content, "request #1: 2 servers");
    assert_eq!(msg.reaction_users("✅"), [fake.bot_user_id()]);
    assert_eq!(msg.json["interaction_metadata"]["user"]["id"], json!(ALICE.to_string()));
    assert_eq!(msg.component("approve:1").expect("button")["label"], "Approve");
    let reaction_put = fake.requests_to("PUT /channels/{channel}/messages/{message}/reactions/{emoji}/@me");
    assert_eq!(
        reaction_put[0].path,
        format!(
            "/api/v10/channels/{}/messages/{msg_id}/reactions/%E2%9C%85/@me",
            fake.default_channel_id()
        )
    );
    match bot.next("its own reaction event").await {
        Seen::OwnReaction(m) => assert_eq!(m.get(), msg_id),
        other => panic!("expected the bot's own MESSAGE_REACTION_ADD, got {other:?}"),
    }
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_click_updates_the_message_in_place() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let msg_id = post_request(&fake).await;

    let h = fake.click_button(BOB, msg_id, "approve:1");
    let out = fake.interaction_response(&h, WAIT).await;

    assert_eq!(out.callback_type, Some(7));
    let msg = fake.message(msg_id).expect("message still exists");
    assert_eq!(msg.content, "approved by bob");
    assert_eq!(msg.component("approve:1").expect("button kept")["disabled"], true);
    assert_eq!(msg.history.len(), 1, "the original version is kept in the edit history");
    assert_eq!(msg.history[0]["content"], "request #1: 2 servers");
    assert_eq!(fake.messages(fake.default_channel_id()).len(), 1, "no new message");
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_reaction_is_removed_and_answered_by_the_bot() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();
    let msg_id = post_request(&fake).await;

    let vote = fake.react(ALICE, channel, msg_id, "👍");
    fake.wait_for_delivery(&vote, WAIT).await;
    let answer = fake
        .wait_for_message(channel, |m| m.content.starts_with("vote by"), WAIT)
        .await;

    assert_eq!(answer.content, format!("vote by {ALICE} refused (true)"));
    let removal = fake.requests_to("DELETE /channels/{channel}/messages/{message}/reactions/{emoji}/{user}");
    assert_eq!(
        removal[0].path,
        format!("/api/v10/channels/{channel}/messages/{msg_id}/reactions/%F0%9F%91%8D/{ALICE}")
    );
    assert!(fake.message(msg_id).expect("message").reaction_users("👍").is_empty());
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_followup_after_a_deferral_replaces_the_thinking_message() {
    let fake = fake_with_members().await;
    let mut bot = start_bot(&fake).await;

    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm defer", &[]);
    let Seen::Followups(first, second) = bot.next("its followups").await else {
        panic!("expected followups")
    };

    let out = fake.interaction(&h);
    assert_eq!(out.callback_type, Some(5));
    let original = out.original.expect("deferred message");
    assert_eq!(first.get(), original.id, "first followup edits @original");
    assert_eq!(
        (original.content.as_str(), original.flags & 128),
        ("done", 0),
        "no longer loading"
    );
    assert_eq!(
        out.followups
            .iter()
            .map(|m| (m.id, m.content.as_str()))
            .collect::<Vec<_>>(),
        [(second.get(), "details")]
    );
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_and_modal_round_trips_work() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();

    let ac = fake.autocomplete(ALICE, channel, "cvm price", &[("zone", json!("ap-gu"))], "zone");
    let out = fake.interaction_response(&ac, WAIT).await;
    assert_eq!(out.callback_type, Some(8));
    assert_eq!(
        out.data["choices"],
        json!([{"name": "ap-guangzhou-3", "value": "ap-guangzhou-3"}])
    );

    let form = fake.slash_command(ALICE, channel, "cvm form", &[]);
    assert_eq!(fake.interaction_response(&form, WAIT).await.callback_type, Some(9));
    let submit = fake.submit_modal(ALICE, "buy-form", &[("reason", "load test")]);
    let out = fake.interaction_response(&submit, WAIT).await;
    assert_eq!(out.original.expect("reply").content, "reason: load test");
    fake.assert_interactions_answered(WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_groups_and_typed_options_reach_the_bot_resolved() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let channel = fake.default_channel_id();
    let role = fake.role_id("approver").expect("approver role");

    let h = fake.slash_command(
        ALICE,
        channel,
        "cvm admin quota",
        &[
            ("limit", json!(5)),
            ("verbose", json!(true)),
            ("ratio", json!(0.5)),
            ("who", json!(BOB)),
            ("role", json!(role)),
            ("where", json!(channel)),
        ],
    );
    let out = fake.interaction_response(&h, WAIT).await;

    assert_eq!(
        out.original.expect("reply").content,
        "admin quota limit=5 verbose=true ratio=0.5 who=bob(member:true) role=approver where=general"
    );
    let refused = fake.try_slash_command(ALICE, channel, "cvm admin quota", &[]);
    assert!(refused.expect_err("limit is required").contains("required option"));
    let refused = fake.try_slash_command(ALICE, channel, "cvm admin", &[]);
    assert!(
        refused
            .expect_err("a group is not runnable")
            .contains("needs a subcommand")
    );
    let refused = fake.try_slash_command(ALICE, channel, "cvm buy", &[("count", json!(11))]);
    assert!(refused.expect_err("max_int_value is 10").contains("max_value"));
    fake.assert_dispatches_delivered(WAIT).await;
    fake.assert_no_problems();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_serenity_would_drop_is_caught_by_the_fakes_check() {
    let fake = fake_with_members().await;
    let _bot = start_bot(&fake).await;
    let zone = [("zone", json!("ap-guangzhou-3"))];
    let h = fake.slash_command(ALICE, fake.default_channel_id(), "cvm price", &zone);
    fake.interaction_response(&h, WAIT).await;

    let sent = fake.dispatches().into_iter().find(|d| d.name == "INTERACTION_CREATE");
    let mut payload = sent.expect("the interaction was dispatched").d;
    assert_eq!(FakeDiscord::serenity_accepts("INTERACTION_CREATE", &payload), Ok(()));
    payload.as_object_mut().expect("object").remove("attachment_size_limit");
    let err = FakeDiscord::serenity_accepts("INTERACTION_CREATE", &payload).expect_err("required");
    assert!(err.contains("attachment_size_limit"), "{err}");
    let callback = &fake.requests_to("POST /interactions/{interaction}/{token}/callback")[0];
    assert_eq!(
        callback.content_type, "application/json",
        "serenity sends JSON without files"
    );
    fake.assert_dispatches_delivered(WAIT).await;
}
