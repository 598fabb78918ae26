//! A fleet through Discord: asked for with `/cvm fleet create`, approved with the card's button,
//! and its one card edited in place as Tencent reclaims servers and cvmbot refills them, with the
//! news summarised in a message rather than one per server.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, BOB, DAVE, DiscordApp, button, card_title};
use crate::support::fake_discord::{MessageView, WAIT};
use crate::support::sim::{IMAGE, TYPE, ZONE};
use cvmbot::domain::RequestId;
use cvmbot::sim::Reclaim;
use serde_json::{Value, json};
use std::time::Duration;

/// The fleets worker tends every 100 ms.
const FLEET_WORKERS: &str = r#"
[workers]
fleets_interval = "100ms"
"#;

fn create_options(extra: &[(&'static str, Value)]) -> Vec<(&'static str, Value)> {
    let mut options = vec![
        ("name", json!("ci")),
        ("count", json!(4)),
        ("max-price", json!("0.2")),
        ("zone", json!(ZONE)),
        ("type", json!(TYPE)),
        ("image", json!(IMAGE)),
        ("reason", json!("CI runners")),
    ];
    options.extend_from_slice(extra);
    options
}

/// Servers the simulator runs or is starting.
fn alive(app: &DiscordApp) -> usize {
    app.test
        .sim
        .instances()
        .iter()
        .filter(|i| i.ended.is_none() && matches!(i.state.as_str(), "PENDING" | "RUNNING"))
        .count()
}

/// Moves the simulator's clock on, a little at a time, until the fleet's card says `what` (slowly
/// enough that the tracker, polling every second of real time, sees a reclaimed server in the 30
/// simulated seconds it shows TERMINATING).
async fn card_saying(app: &DiscordApp, id: RequestId, what: &str) -> MessageView {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let card = app.wait_for_card(id, |_| true).await;
        if card.text().contains(what) {
            return card;
        }
        assert!(alive(app) <= 4, "never more servers than the fleet keeps");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the card never said `{what}`:\n{}",
            card.text()
        );
        app.test.sim.advance(Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fleet_is_approved_on_its_card_and_the_card_follows_reclamation_and_refill() {
    let app = DiscordApp::start_with(Backend::Sqlite, FLEET_WORKERS)
        .await
        .expect("SQLite");
    app.test
        .sim
        .set_spot_price(ZONE, TYPE, "0.1".parse().expect("price"))
        .expect("market");

    // A fallback outside the fleet's region is refused privately, naming the option; nothing is filed.
    let bad = app.fake.slash_command(
        ALICE,
        app.channel,
        "cvm fleet create",
        &create_options(&[("fallbacks", json!("S5.MEDIUM4@ap-shanghai-4"))]),
    );
    let told = app.private_answer(&bad).await;
    assert!(told.contains("fallbacks") && told.contains("ap-guangzhou"), "{told}");
    assert!(
        app.test.desk().view(RequestId::new(1)).await.is_err(),
        "nothing was filed"
    );

    let asked = app
        .fake
        .slash_command(ALICE, app.channel, "cvm fleet create", &create_options(&[]));
    let told = app.private_answer(&asked).await;
    assert!(told.contains("Filed request #1"), "{told}");
    let card = app.wait_for_card(RequestId::new(1), |c| !c.components.is_empty()).await;
    assert!(
        card_title(&card).contains("fleet ci: 4 × S5.MEDIUM4 spot"),
        "{}",
        card_title(&card)
    );
    assert!(
        card.text().contains("4 × max 0.20 CNY /h each"),
        "the budget is on the card:\n{}",
        card.text()
    );
    assert_eq!(alive(&app), 0, "nothing is launched before approval");

    app.fake.click_button(BOB, card.id, &button(&card, "cvm:approve:"));
    app.fake
        .wait_for_message(app.channel, |m| m.content.contains("fleet `ci` is approved"), WAIT)
        .await;
    let card = card_saying(&app, RequestId::new(1), "Keeping 4: all running").await;
    assert!(
        card.text().contains("4 × S5.MEDIUM4 in ap-guangzhou-3"),
        "{}",
        card.text()
    );

    // Tencent reclaims two: the card counts it, and cvmbot refills them.
    let reclaimed = app
        .test
        .sim
        .reclaim_spot(Some(ZONE), Some(TYPE), Reclaim::Count(2))
        .expect("reclaimed");
    assert_eq!(reclaimed.len(), 2);
    let card = card_saying(&app, RequestId::new(1), "(2 in all)").await;
    let card = if card.text().contains("Keeping 4: all running") {
        card
    } else {
        card_saying(&app, RequestId::new(1), "Keeping 4: all running").await
    };
    assert!(card.text().contains("last refill"), "{}", card.text());
    let told = || {
        app.fake
            .messages(app.channel)
            .into_iter()
            .any(|m| m.content.contains("2 reclaimed or gone"))
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    while !told() {
        let texts: Vec<String> = app.fake.messages(app.channel).into_iter().map(|m| m.content).collect();
        assert!(tokio::time::Instant::now() < deadline, "no summary: {texts:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(alive(&app), 4);
    let per_server = app
        .fake
        .messages(app.channel)
        .into_iter()
        .filter(|m| m.content.contains("is RUNNING") || m.content.contains("reclaimed the spot instance"))
        .count();
    assert_eq!(per_server, 0, "a fleet's servers have no messages of their own");

    // Someone else may not release alice's fleet.
    let refused = app.fake.slash_command(
        DAVE,
        app.channel,
        "cvm fleet release",
        &[("name", json!("ci")), ("reason", json!("mine now"))],
    );
    let told = app.private_answer(&refused).await;
    assert!(
        told.contains("Only the person who asked for fleet `ci`, or an admin"),
        "{told}"
    );

    // `/cvm fleet status` shows the card privately.
    let status = app
        .fake
        .slash_command(ALICE, app.channel, "cvm fleet status", &[("name", json!("ci"))]);
    let told = app.private_answer(&status).await;
    assert!(told.contains("desired 4 · running 4"), "{told}");
    app.finish().await;
}
