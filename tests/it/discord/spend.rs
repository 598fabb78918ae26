//! Spend you can see, through the real serenity client: `/cvm spend` posts a PNG chart in the
//! channel as a multipart attachment, with the figures in the message and as its alt text, and
//! `/cvm balance` answers privately with the runway chart; bad options are refused privately,
//! naming the option.

use crate::support::app::Backend;
use crate::support::discord_app::{ALICE, BOB, DiscordApp, button_ids, spot_options};
use cvmbot::domain::RequestId;
use serde_json::json;
use std::time::Duration;

/// The width and height of a PNG, read by decoding it.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let reader = decoder.read_info().expect("a PNG the decoder reads");
    let info = reader.info();
    (info.width, info.height)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spend_posts_a_png_chart_with_its_figures_and_balance_answers_with_the_runway_chart() {
    // The simulated Tencent's clock runs six hours behind the bot's, so its bills for the hours
    // below fall within the last 7 days.
    let six_hours_ago = time::OffsetDateTime::now_utc() - time::Duration::hours(6);
    let sim = cvmbot::sim::SimConfig {
        start_time: Some(
            six_hours_ago
                .format(&time::format_description::well_known::Rfc3339)
                .expect("a time"),
        ),
        ..crate::support::sim::test_config()
    };
    let app = DiscordApp::start_with_sim(Backend::Sqlite, sim, "")
        .await
        .expect("SQLite");
    let mut options = spot_options();
    options.push(("tags", json!("project=web")));
    let filing = app.fake.slash_command(ALICE, app.channel, "cvm buy spot", &options);
    app.answer(&filing).await;
    let card = app
        .wait_for_card(RequestId::new(1), |c| {
            button_ids(c).iter().any(|b| b.starts_with("cvm:approve:1:"))
        })
        .await;
    let approve = button_ids(&card)
        .into_iter()
        .find(|b| b.starts_with("cvm:approve:1:"))
        .expect("Approve");
    app.fake.click_button(BOB, card.id, &approve);
    app.wait_for_card(RequestId::new(1), |c| c.text().contains("Submitted"))
        .await;
    // Three hours later Tencent has billed the whole hours, and the current one runs.
    app.test.sim.advance(Duration::from_secs(3 * 3600));

    let refused = app
        .fake
        .slash_command(ALICE, app.channel, "cvm spend", &[("period", json!("2026-13"))]);
    let said = app.private_answer(&refused).await;
    assert!(said.contains("period:") && said.contains("YYYY-MM"), "{said}");

    let asked = app.fake.slash_command(
        BOB,
        app.channel,
        "cvm spend",
        &[("period", json!("7d")), ("by", json!("tag"))],
    );
    let answer = app.answer(&asked).await;
    assert!(!answer.ephemeral(), "the chart is for the channel");
    let message = answer.original.expect("the response message");
    let text = message.text();
    assert!(text.contains("by tag") && text.contains("project=web"), "{text}");
    assert!(text.contains("CNY in all"), "the currency is shown: {text}");
    assert!(text.contains("Tencent's bills"), "{text}");
    let files = app.fake.attachments(message.id);
    assert_eq!(files.len(), 1, "one chart: {files:?}");
    let (name, description, bytes) = &files[0];
    assert_eq!(name, "cvmbot-spend.png");
    assert_eq!(
        png_size(bytes),
        (cvmbot::chat::charts::WIDTH, cvmbot::chat::charts::HEIGHT)
    );
    let alt = description.as_deref().expect("alt text");
    assert!(alt.contains("project=web") && alt.chars().count() <= 1024, "{alt}");
    let uploaded = app
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.content_type.starts_with("multipart/form-data"))
        .count();
    assert!(uploaded >= 1, "serenity sent the chart as multipart");

    let balance = app.fake.slash_command(ALICE, app.channel, "cvm balance", &[]);
    let answer = app.answer(&balance).await;
    assert!(answer.ephemeral(), "the balance is private");
    let message = answer.original.expect("the balance answer");
    assert!(
        message.text().starts_with("Tencent Cloud balance: "),
        "{}",
        message.text()
    );
    let files = app.fake.attachments(message.id);
    assert_eq!(files.len(), 1, "the runway chart: {files:?}");
    assert_eq!(files[0].0, "cvmbot-runway.png");
    assert_eq!(
        png_size(&files[0].2),
        (cvmbot::chat::charts::WIDTH, cvmbot::chat::charts::HEIGHT)
    );
    app.finish().await;
}
