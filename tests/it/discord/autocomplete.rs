//! Autocomplete for zone, instance type and image: answered from the cached catalogue within
//! Discord's deadline, at most 25 choices, filtered by what was typed (types also by zone and
//! billing).

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, DiscordApp};
use crate::support::fake_discord::{InteractionOutcome, WAIT};
use crate::support::sim::{IMAGE, TYPE, ZONE};
use serde_json::{Value, json};
use std::time::Duration;

/// Types `typed` into `focused` of `/cvm buy <kind>` with `others` filled in; returns the
/// (label, value) choices.
async fn suggest(
    app: &DiscordApp,
    kind: &str,
    others: &[(&str, Value)],
    focused: &str,
    typed: &str,
) -> Vec<(String, String)> {
    let mut options = others.to_vec();
    options.push((focused, json!(typed)));
    let path = format!("cvm buy {kind}");
    let typing = app.fake.autocomplete(ALICE, app.channel, &path, &options, focused);
    let answer: InteractionOutcome = app.fake.interaction_response(&typing, WAIT).await;
    assert_eq!(answer.callback_type, Some(8), "{answer:#?}");
    assert!(answer.acknowledged_after.expect("answered") < Duration::from_secs(3));
    let choices = answer.data["choices"].as_array().cloned().unwrap_or_default();
    assert!(
        choices.len() <= 25,
        "Discord shows at most 25 choices: {}",
        choices.len()
    );
    choices
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_owned(),
                c["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn zones_are_suggested_from_what_was_typed() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let zones = suggest(&app, "payg", &[], "zone", "guangzhou").await;
    assert!(zones.iter().any(|(_, value)| value == ZONE), "{zones:?}");
    assert!(
        zones.iter().all(|(_, value)| value.starts_with("ap-guangzhou-")),
        "{zones:?}"
    );
    let everything = suggest(&app, "payg", &[], "zone", "").await;
    assert!(!everything.is_empty());
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instance_types_are_filtered_by_zone_and_billing_and_show_cpu_memory_price_and_stock() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let zone = [("zone", json!(ZONE))];
    let spot = suggest(
        &app,
        "spot",
        &[("max-price", json!("0.6")), zone[0].clone()],
        "type",
        "s5",
    )
    .await;
    let medium = spot
        .iter()
        .find(|(_, value)| value == TYPE)
        .unwrap_or_else(|| panic!("{TYPE} in {spot:?}"));
    assert!(medium.0.contains("vCPU") && medium.0.contains("GiB"), "{medium:?}");
    assert!(medium.0.contains("CNY/h"), "an hourly price for spot: {medium:?}");
    assert!(spot.iter().all(|(_, value)| value.starts_with("S5.")), "{spot:?}");
    let prepaid = suggest(
        &app,
        "prepaid",
        &[("months", json!(1)), zone[0].clone()],
        "type",
        "S5.MEDIUM",
    )
    .await;
    let medium = prepaid
        .iter()
        .find(|(_, value)| value == TYPE)
        .unwrap_or_else(|| panic!("{TYPE} in {prepaid:?}"));
    assert!(
        medium.0.contains("CNY/month"),
        "a monthly price for prepaid: {medium:?}"
    );
    assert!(medium.0.ends_with("Stock"), "the stock is shown: {medium:?}");
    let everything = suggest(&app, "payg", &zone, "type", "").await;
    assert!(!everything.is_empty() && everything.len() <= 25, "{}", everything.len());

    // The GPU type is sold only in ap-guangzhou-6, and never as spot.
    let gpu = |choices: &[(String, String)]| choices.iter().any(|(_, value)| value.starts_with("GN7."));
    let in_zone_3 = suggest(&app, "payg", &zone, "type", "GN7").await;
    assert!(!gpu(&in_zone_3), "not sold in {ZONE}: {in_zone_3:?}");
    let zone_6 = [("zone", json!("ap-guangzhou-6"))];
    let payg_in_zone_6 = suggest(&app, "payg", &zone_6, "type", "GN7").await;
    assert!(
        gpu(&payg_in_zone_6),
        "sold pay-as-you-go in ap-guangzhou-6: {payg_in_zone_6:?}"
    );
    let bid = ("max-price", json!("9"));
    let spot_in_zone_6 = suggest(&app, "spot", &[bid, zone_6[0].clone()], "type", "GN7").await;
    assert!(!gpu(&spot_in_zone_6), "no spot GPUs: {spot_in_zone_6:?}");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn images_are_suggested_by_id_or_name() {
    let app = DiscordApp::start(Backend::Sqlite).await.expect("SQLite");
    let by_id = suggest(&app, "payg", &[], "image", &IMAGE[..8]).await;
    assert!(by_id.iter().any(|(_, value)| value == IMAGE), "{by_id:?}");
    let all = suggest(&app, "payg", &[], "image", "").await;
    assert!(!all.is_empty());
    assert!(
        all.iter()
            .all(|(label, value)| value.starts_with("img-") && label.starts_with(value.as_str())),
        "{all:?}"
    );
    app.finish().await;
}
