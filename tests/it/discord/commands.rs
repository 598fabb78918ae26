//! The registered `/cvm` command, the gateway intents, and the read-only and cancel commands:
//! each answers privately with real content.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, BOB, DAVE, DiscordApp, ERIN, spot_options};
use crate::support::fake_discord::{WAIT, intents};
use cvmbot::domain::RequestState;
use serde_json::{Value, json};

/// Every option (recursively) as (dotted name, definition).
fn walk(prefix: &str, options: &Value, out: &mut Vec<(String, Value)>) {
    for option in options.as_array().into_iter().flatten() {
        let name = format!("{prefix}{}", option["name"].as_str().unwrap_or_default());
        out.push((name.clone(), option.clone()));
        walk(&format!("{name} "), &option["options"], out);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cvm_is_registered_in_the_guild_with_every_subcommand_and_short_descriptions() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    assert!(
        app.fake.commands(None).is_empty(),
        "nothing global: guild commands update at once"
    );
    let commands = app.fake.commands(Some(app.fake.guild_id()));
    assert_eq!(commands.len(), 1, "{commands:#?}");
    let cvm = &commands[0];
    assert_eq!(cvm["name"], "cvm");
    let mut options = Vec::new();
    walk("", &cvm["options"], &mut options);
    let names: Vec<&str> = options.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "buy",
        "buy payg",
        "buy spot",
        "buy prepaid",
        "status",
        "list",
        "cancel",
        "balance",
        "history",
        "buy spot max-price",
        "buy spot zone",
        "buy spot type",
        "buy spot image",
        "buy spot count",
        "buy prepaid months",
        "buy prepaid renew",
        "status id",
        "cancel id",
        "history user",
        "fleet create name",
        "fleet create count",
        "fleet create fallbacks",
        "fleet scale count",
        "fleet status name",
        "fleet release reason",
    ] {
        assert!(names.contains(&expected), "/cvm {expected} is registered: {names:?}");
    }
    // Discord refuses a command whose names, descriptions and choices add up to more than 8,000
    // characters; leave room for the next subcommand.
    let size = crate::support::fake_discord::combined_size(cvm);
    assert!(
        size <= crate::support::fake_discord::MAX_COMMAND_SIZE - 200,
        "/cvm is {size} characters"
    );
    let mut described = vec![("cvm".to_owned(), cvm.clone())];
    described.extend(options.iter().cloned());
    for (name, definition) in &described {
        let description = definition["description"].as_str().unwrap_or_default();
        assert!(
            (1..=100).contains(&description.chars().count()),
            "{name}: {description:?}"
        );
    }
    let option = |name: &str| {
        options
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone())
            .expect(name)
    };
    assert_eq!(option("buy spot max-price")["required"], true, "the bid is required");
    for subcommand in ["buy payg", "buy spot", "buy prepaid", "fleet create"] {
        for what in ["zone", "type", "image"] {
            let name = format!("{subcommand} {what}");
            assert_eq!(option(&name)["required"], true, "/cvm {name} is required");
        }
    }
    let first_options = |subcommand: &str, n: usize| -> Vec<String> {
        let prefix = format!("{subcommand} ");
        options
            .iter()
            .filter_map(|(name, _)| name.strip_prefix(&prefix))
            .filter(|name| !name.contains(' '))
            .take(n)
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        first_options("fleet create", 6),
        ["name", "count", "max-price", "zone", "type", "image"],
        "the fleet's own required options stay first"
    );
    assert_eq!(first_options("buy prepaid", 4), ["months", "zone", "type", "image"]);
    for autocompleted in ["buy spot zone", "buy spot type", "buy spot image", "buy payg preset"] {
        assert_eq!(option(autocompleted)["autocomplete"], true, "{autocompleted}");
    }
    assert_eq!(option("buy spot count")["type"], 4, "an integer");
    assert_eq!(
        (
            option("buy spot count")["min_value"].clone(),
            option("buy spot count")["max_value"].clone()
        ),
        (json!(1), json!(100))
    );
    assert_eq!(option("history user")["type"], 6, "a user picker");
    let sent = app
        .fake
        .requests_to("PUT /applications/{application}/guilds/{guild}/commands")
        .pop()
        .and_then(|put| put.body)
        .expect("the registration the bot sent");
    assert_eq!(sent[0]["contexts"], json!([0]), "servers only, no direct messages");
    assert_eq!(
        sent[0]["integration_types"],
        json!([0]),
        "installed in a server, not by a user"
    );
    assert!(
        sent[0].get("dm_permission").is_none(),
        "not the deprecated dm_permission: {sent}"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn discord_does_not_send_a_buy_without_its_zone_type_or_image() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    for missing in ["zone", "type", "image"] {
        let mut options = spot_options();
        options.retain(|(name, _)| *name != missing);
        let refused = app
            .fake
            .try_slash_command(ALICE, app.channel, "cvm buy spot", &options)
            .expect_err("Discord keeps the command until every required option is given");
        assert!(
            refused.contains(&format!("required option \"{missing}\" missing")),
            "{refused}"
        );
    }
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_bot_asks_only_for_guild_and_reaction_events_without_message_content() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let identify = app.fake.identifies().pop().expect("the bot identified");
    let asked = identify["intents"].as_u64().expect("intents");
    assert_eq!(asked, intents::GUILDS | intents::GUILD_MESSAGE_REACTIONS, "{asked:#b}");
    assert_eq!(asked & intents::MESSAGE_CONTENT, 0);
    assert_eq!(asked & intents::PRIVILEGED, 0, "no privileged intent to apply for");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn status_list_history_and_balance_answer_privately_with_the_facts() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, _) = app.file_spot(ALICE).await;

    let status = app
        .fake
        .slash_command(BOB, app.channel, "cvm status", &[("id", json!(id))]);
    let status = app.answer(&status).await;
    assert!(status.ephemeral());
    let embed = &status.data["embeds"][0];
    assert_eq!(
        embed["title"], "Request #1: 1 × S5.MEDIUM4 spot in ap-guangzhou-3",
        "{embed}"
    );
    assert!(
        status.data["components"].as_array().is_none_or(Vec::is_empty),
        "no vote buttons in a private view"
    );

    let missing = app
        .fake
        .slash_command(BOB, app.channel, "cvm status", &[("id", json!(99))]);
    assert!(app.private_answer(&missing).await.contains("There is no request #99."));

    let list = app.fake.slash_command(BOB, app.channel, "cvm list", &[]);
    let list = app.private_answer(&list).await;
    assert!(
        list.contains("**#1** 1 × S5.MEDIUM4 spot in ap-guangzhou-3 by alice: pending approval"),
        "{list}"
    );
    let mine = app
        .fake
        .slash_command(BOB, app.channel, "cvm list", &[("filter", json!("mine"))]);
    assert_eq!(app.private_answer(&mine).await, "No requests.");

    let history = app
        .fake
        .slash_command(BOB, app.channel, "cvm history", &[("user", json!(ALICE))]);
    assert!(app.private_answer(&history).await.contains("**#1**"));
    let own = app.fake.slash_command(ALICE, app.channel, "cvm history", &[]);
    assert!(app.private_answer(&own).await.contains("by alice"));

    let balance = app.fake.slash_command(BOB, app.channel, "cvm balance", &[]);
    let first = app.fake.interaction_response(&balance, WAIT).await;
    assert_eq!(first.callback_type, Some(5), "deferred while Tencent answers");
    let balance = app.private_answer(&balance).await;
    assert!(balance.starts_with("Tencent Cloud balance: "), "{balance}");
    assert!(balance.contains("CNY spendable"), "{balance}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_requester_cancels_their_request_and_the_card_says_so_but_others_may_not() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let (id, _) = app.file_spot(ALICE).await;
    let by_dave = app
        .fake
        .slash_command(DAVE, app.channel, "cvm cancel", &[("id", json!(id))]);
    assert!(
        app.private_answer(&by_dave)
            .await
            .contains("Only the requester or an admin")
    );
    assert_eq!(
        app.test.desk().view(id).await.expect("request").record.state,
        RequestState::Pending
    );

    let options = [("id", json!(id)), ("reason", json!("wrong zone"))];
    let by_alice = app.fake.slash_command(ALICE, app.channel, "cvm cancel", &options);
    assert_eq!(
        app.private_answer(&by_alice).await,
        format!("Request #{id} is cancelled.")
    );
    let card = app
        .wait_for_card(id, |c| c.text().contains("🚫 Cancelled by alice"))
        .await;
    assert!(card.components.is_empty(), "no buttons on a cancelled request");
    assert_eq!(
        app.test.desk().view(id).await.expect("request").record.state,
        RequestState::Cancelled
    );
    assert!(app.purchases().is_empty());

    let (other, _) = app.file_spot(ALICE).await;
    let by_admin = app
        .fake
        .slash_command(ERIN, app.channel, "cvm cancel", &[("id", json!(other))]);
    assert_eq!(
        app.private_answer(&by_admin).await,
        format!("Request #{other} is cancelled.")
    );
    app.wait_for_card(other, |c| c.text().contains("🚫 Cancelled by erin"))
        .await;
    app.finish().await;
}
