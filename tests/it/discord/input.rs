//! Bad `/cvm buy` options: answered at once and privately, naming the option; nothing is stored,
//! nothing reaches Tencent Cloud, nothing is posted in the channel.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, DiscordApp, card_title, filed_request_id, spot_options};
use crate::support::fake_discord::WAIT;
use crate::support::sim::{IMAGE, TYPE, ZONE};
use cvmbot::store::ListFilter;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_options_get_a_private_error_naming_the_option_and_nothing_is_stored_or_sent() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let sent_before = app.test.sim.requests().len();
    let table = [
        ("max-price", "cheap", "`max-price`"),
        ("max-price", "-1", "`max-price`"),
        ("zone", "guangzhou", "`zone`"),
        ("type", "medium", "`type`"),
        ("image", "ubuntu", "`image`"),
        ("data-disks", "CLOUD_SSD:lots", "`data-disks`"),
        ("tags", "team", "`tags`"),
        ("keep-trying", "forever", "`keep-trying`"),
        ("preset", "huge", "`preset`"),
    ];
    for (option, value, named) in table {
        let mut options = spot_options();
        options.retain(|(name, _)| *name != option);
        options.push((option, json!(value)));
        let command = app.fake.slash_command(ALICE, app.channel, "cvm buy spot", &options);
        let answer = app.fake.interaction_response(&command, WAIT).await;
        assert_eq!(
            answer.callback_type,
            Some(4),
            "{option}={value}: answered at once, {answer:#?}"
        );
        assert!(answer.ephemeral(), "{option}={value}: privately");
        let text = answer.data["content"].as_str().unwrap_or_default();
        assert!(text.contains(named), "{option}={value} should name {named}: {text}");
    }
    let stored = app.test.desk().list(ListFilter::All, 100).await.expect("list");
    assert!(stored.is_empty(), "no request was stored: {stored:?}");
    assert_eq!(
        app.test.sim.requests().len(),
        sent_before,
        "nothing was sent to Tencent Cloud"
    );
    assert!(
        app.fake.requests_to("POST /channels/{channel}/messages").is_empty(),
        "nothing was posted"
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn integer_and_boolean_options_reach_the_request_a_prepaid_buy_with_renewal_for_two() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let options = [
        ("months", json!(3)),
        ("zone", json!(ZONE)),
        ("type", json!(TYPE)),
        ("image", json!(IMAGE)),
        ("count", json!(2)),
        ("disk-size", json!(80)),
        ("renew", json!(true)),
    ];
    let filing = app.fake.slash_command(ALICE, app.channel, "cvm buy prepaid", &options);
    let answer = app.answer(&filing).await;
    let id = filed_request_id(&answer);
    let card = app.wait_for_card(id, |_| true).await;
    assert!(
        card_title(&card).ends_with("2 × S5.MEDIUM4 prepaid in ap-guangzhou-3"),
        "{}",
        card_title(&card)
    );
    let text = card.text();
    assert!(text.contains("prepaid, 3 month(s), auto-renew"), "{text}");
    assert!(text.contains("80 GiB"), "{text}");
    let cvmbot::domain::Operation::Buy(spec) = app.test.desk().view(id).await.expect("stored").record.operation else {
        panic!("a purchase")
    };
    assert_eq!(spec.count(), 2);
    app.finish().await;
}
