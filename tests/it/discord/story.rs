//! The whole story: `/cvm buy spot` → a request card → ✅ by an approver → one RunInstances →
//! RUNNING with its IPs, the card edited in place through every state.

use crate::on_both_backends;
use crate::support::discord_app::{ALICE, APPROVE, BOB, DiscordApp, REJECT, button_ids, card_title};
use crate::support::fake_discord::{MessageView, WAIT};
use cvmbot::domain::{RequestId, RequestState};
use std::time::Duration;

/// The status line of each version of a card (the embed description's last line), oldest first.
fn card_states(card: &MessageView) -> Vec<String> {
    let mut versions: Vec<serde_json::Value> = card.history.clone();
    versions.push(card.json.clone());
    let mut states: Vec<String> = Vec::new();
    for version in versions {
        let description = version["embeds"][0]["description"].as_str().unwrap_or_default();
        let line = description.lines().last().unwrap_or_default().to_owned();
        if states.last() != Some(&line) {
            states.push(line);
        }
    }
    states
}

fn field<'a>(card: &'a MessageView, name: &str) -> &'a str {
    card.embeds[0]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["name"].as_str().is_some_and(|n| n.starts_with(name)))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("the card has no field {name}: {:#?}", card.embeds))
}

on_both_backends! {
    async fn a_spot_request_goes_from_slash_command_to_running_servers_with_their_ips(backend) {
        let Some(app) = DiscordApp::start(backend).await else { return };
        let filing = app.buy_spot(ALICE);

        let first = app.fake.interaction_response(&filing, WAIT).await;
        assert_eq!(first.callback_type, Some(5), "the buy is deferred while Tencent quotes: {first:#?}");
        assert!(first.ephemeral(), "the deferral is private to the requester");
        assert!(first.acknowledged_after.expect("acknowledged") < Duration::from_secs(3));
        let answer = app.answer(&filing).await;
        let text = answer.original.as_ref().expect("the answer").content.clone();
        assert!(text.starts_with("Filed request #1;"), "{text}");
        assert!(text.contains("1 approval"), "{text}");

        let bot = app.fake.bot_user_id();
        let card = app
            .wait_for_card(RequestId::new(1), |c| c.reaction_users(APPROVE) == [bot] && c.reaction_users(REJECT) == [bot])
            .await;
        assert_eq!(card_title(&card), "Request #1: 1 × S5.MEDIUM4 spot in ap-guangzhou-3");
        assert!(!card.is_ephemeral(), "the card is public");
        assert_eq!(field(&card, "Requested by"), "alice");
        assert!(field(&card, "Price").contains("CNY"), "{}", field(&card, "Price"));
        assert_eq!(field(&card, "Approvals"), "none yet");
        assert!(card.text().contains("Approvals (0 of 1)"), "{}", card.text());
        let description = card.embeds[0]["description"].as_str().unwrap_or_default();
        assert!(description.contains("> load test"), "{description}");
        assert!(description.contains("Expires <t:"), "the expiry in each reader's time zone: {description}");
        let buttons = button_ids(&card);
        assert_eq!(buttons.len(), 2, "{buttons:?}");
        assert!(buttons[0].starts_with("cvm:approve:1:"), "{buttons:?}");
        assert!(buttons[1].starts_with("cvm:reject:1:"), "{buttons:?}");
        let posted = app.fake.requests_to("POST /channels/{channel}/messages");
        assert_eq!(posted.len(), 1, "the card is posted with the bot token, once");

        let reaction = app.fake.react(BOB, app.channel, card.id, APPROVE);
        app.fake.wait_for_delivery(&reaction, WAIT).await;
        let submitted = app.wait_until_submitted().await;
        assert!(submitted.content.starts_with("📨 Request #1"), "{}", submitted.content);
        let purchases = app.purchases();
        assert_eq!(purchases.len(), 1, "RunInstances exactly once: {purchases:#?}");
        assert!(purchases[0].client_token.as_deref().is_some_and(|t| !t.is_empty()), "with a ClientToken");

        app.test.sim.advance(Duration::from_secs(600));
        let running = app
            .fake
            .wait_for_message(app.channel, |m| m.content.contains("is RUNNING"), WAIT)
            .await;
        let instance = &app.test.sim.instances()[0];
        assert!(running.content.contains(&instance.instance_id), "{}", running.content);
        assert!(running.content.contains(&instance.private_ip), "{}", running.content);
        let public_ip = instance.public_ip.clone().expect("a public IP after 10 minutes");
        assert!(running.content.contains(&public_ip), "{}", running.content);

        let card = app.wait_for_card(RequestId::new(1), |c| c.text().contains("🟢 Active")).await;
        assert!(card.components.is_empty(), "the buttons go once decided: {:#?}", card.components);
        assert!(field(&card, "Instances").contains(&public_ip), "{}", field(&card, "Instances"));
        let states = card_states(&card);
        assert!(states[0].starts_with("⏳ Waiting for approval: 0 of 1"), "{states:#?}");
        assert!(states.iter().any(|s| s.starts_with("🚀 Submitted")), "{states:#?}");
        assert!(states.last().is_some_and(|s| s.starts_with("🟢 Active")), "{states:#?}");
        let cards = app.fake.messages(app.channel).into_iter().filter(|m| card_title(m).starts_with("Request #"));
        assert_eq!(cards.count(), 1, "one card, edited in place");

        let record = app.test.desk().view(RequestId::new(1)).await.expect("request 1").record;
        assert_eq!(record.state, RequestState::Active);
        assert_eq!(app.purchases().len(), 1, "still exactly one purchase");
        let webhooks = app.fake.requests().into_iter().filter(|r| r.route.contains("/webhooks/")).count();
        assert_eq!(webhooks, 1, "only the filing answer used the interaction token; later posts use the bot token");
        app.finish().await;
    }
}
