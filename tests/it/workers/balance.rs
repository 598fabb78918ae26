//! Low-balance alerts: tiers, hysteresis, reminders, recovery and owing money, in the alert channel.

use crate::on_both_backends;
use crate::support::app::payg_form;
use crate::workers::rig::{ALERT_CHANNEL, Rig};
use cvmbot::money::Fen;
use cvmbot::sim::{AccountPatch, DEFAULT_SECRET_ID};
use std::time::Duration;

/// Sets the cash (fen), reads the balance once and delivers; returns the alert posts it caused.
async fn reading(rig: &Rig, cash_fen: i64) -> Vec<String> {
    rig.t
        .sim
        .set_balance(DEFAULT_SECRET_ID, Fen::new(cash_fen))
        .expect("the default account");
    let before = rig.texts_in(ALERT_CHANNEL).len();
    rig.monitor().run_once().await.expect("a balance pass");
    rig.dispatcher().run_once().await.expect("a dispatcher pass");
    rig.texts_in(ALERT_CHANNEL).split_off(before)
}

#[track_caller]
fn one(posts: Vec<String>, contains: &str) -> String {
    assert_eq!(posts.len(), 1, "one post expected: {posts:?}");
    assert!(posts[0].contains(contains), "`{contains}` expected in {}", posts[0]);
    posts.into_iter().next().unwrap_or_default()
}

on_both_backends! {
    async fn a_balance_falling_through_three_tiers_warns_three_times_reminds_and_recovers_once(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        assert!(reading(&rig, 150_000).await.is_empty(), "1,500 CNY is above every tier");

        one(reading(&rig, 90_000).await, "below 1,000.00 CNY");
        assert!(reading(&rig, 85_000).await.is_empty(), "no repeat while it stays below the same tier");
        one(reading(&rig, 15_000).await, "below 200.00 CNY");
        one(reading(&rig, 4_000).await, "below 50.00 CNY");
        assert!(reading(&rig, 3_000).await.is_empty());
        assert!(reading(&rig, 3_000).await.is_empty());

        rig.advance(Duration::from_secs(23 * 3600));
        assert!(reading(&rig, 3_000).await.is_empty(), "the reminder waits for the whole interval");
        rig.advance(Duration::from_secs(3600));
        one(reading(&rig, 3_000).await, "Reminder");
        assert!(reading(&rig, 3_000).await.is_empty(), "one reminder per interval");

        // 210 CNY is above the 200 tier but within its 10 % margin: still one warning level.
        assert!(reading(&rig, 21_000).await.is_empty());
        one(reading(&rig, 200_000).await, "back to");
        assert!(reading(&rig, 200_000).await.is_empty(), "recovery is posted once");
        let warnings = rig.texts_in(crate::workers::rig::ALERT_CHANNEL);
        assert_eq!(warnings.iter().filter(|t| t.contains(" below ")).count(), 3, "{warnings:#?}");
    }
}

on_both_backends! {
    async fn a_balance_hovering_at_a_tier_does_not_flap(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        one(reading(&rig, 99_000).await, "below 1,000.00 CNY");
        for cash in [101_000, 99_500, 105_000, 98_000, 109_000] {
            assert!(reading(&rig, cash).await.is_empty(), "{cash} fen is within the margin of 1,000 CNY");
        }
        one(reading(&rig, 111_000).await, "back to");
        one(reading(&rig, 99_000).await, "below 1,000.00 CNY");
    }
}

on_both_backends! {
    async fn owing_money_raises_a_critical_alert_with_the_burn(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        rig.buy(&payg_form()).await;
        rig.drive(Duration::from_secs(60), Duration::from_secs(1)).await;
        let burn = rig.desk().burn_per_hour().await.expect("burn");
        assert!(burn > cvmbot::money::Yuan::ZERO, "the running pay-as-you-go server burns money");

        let patch = AccountPatch { cash_fen: Some(0), owe_fen: Some(2_500), ..AccountPatch::default() };
        rig.t.sim.patch_account(DEFAULT_SECRET_ID, patch).expect("the default account");
        rig.monitor().run_once().await.expect("a balance pass");
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        let alert = one(rig.texts_in(ALERT_CHANNEL), "OWES 25.00 CNY");
        assert!(alert.contains(&format!("burning {burn}/h")), "{alert}");

        rig.monitor().run_once().await.expect("a balance pass");
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        assert_eq!(rig.texts_in(ALERT_CHANNEL).len(), 1, "owing is said once until the reminder");
    }
}

on_both_backends! {
    async fn a_low_balance_warning_gives_the_runway_of_what_cvmbot_burns(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        rig.buy(&payg_form()).await;
        rig.drive(Duration::from_secs(60), Duration::from_secs(1)).await;
        let warning = one(reading(&rig, 90_000).await, "below 1,000.00 CNY");
        assert!(warning.contains("a runway of about"), "{warning}");
        let charts = charts_in(&rig, "below 1,000.00 CNY");
        assert_eq!(charts, ["cvmbot-runway.png"], "the warning shows where the balance is heading");
    }
}

on_both_backends! {
    async fn the_daily_digest_is_posted_once_a_day_after_its_time(backend) {
        let Some(rig) = Rig::start(backend, "[digest]\nenabled = true\nat = \"09:00\"\n").await else { return };
        rig.buy(&payg_form()).await;
        let pass = || async {
            rig.monitor().run_once().await.expect("a balance pass");
            rig.dispatcher().run_once().await.expect("a dispatcher pass");
            rig.texts_in(ALERT_CHANNEL).into_iter().filter(|t| t.contains("digest")).collect::<Vec<_>>()
        };
        rig.advance(Duration::from_secs(8 * 3600 + 59 * 60));
        assert!(pass().await.is_empty(), "not before 09:00");
        rig.advance(Duration::from_secs(60));
        let digests = pass().await;
        assert_eq!(digests.len(), 1, "{digests:?}");
        assert!(digests[0].contains("digest for 2025-01-01: 1 instance(s) bought"), "{}", digests[0]);
        assert_eq!(charts_in(&rig, "digest for 2025-01-01"), ["cvmbot-spend.png"], "the week's spend");
        assert_eq!(pass().await.len(), 1, "once a day");
        rig.advance(Duration::from_secs(24 * 3600));
        let digests = pass().await;
        assert_eq!(digests.len(), 2, "{digests:?}");
        assert!(digests[1].contains("digest for 2025-01-02: 0 instance(s) bought"), "{}", digests[1]);
    }
}

on_both_backends! {
    async fn a_balance_that_cannot_be_read_is_told_once_and_so_is_its_return(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        // The key lacks the permission: Tencent refuses the query, every time.
        rig.t.sim.fail_next("DescribeAccountBalance", cvmbot::sim::Failure::code("UnauthorizedOperation"), 3);
        let before = rig.texts_in(ALERT_CHANNEL).len();
        for _ in 0..3 {
            rig.monitor().run_once().await.expect("a balance pass");
            rig.dispatcher().run_once().await.expect("a dispatcher pass");
        }
        let told = rig.texts_in(ALERT_CHANNEL).split_off(before);
        let told = one(told, "cannot read the Tencent Cloud balance");
        assert!(told.contains("finance:DescribeAccountBalance"), "{told}");
        one(reading(&rig, 150_000).await, "can read the Tencent Cloud balance again");
        assert!(reading(&rig, 150_000).await.is_empty(), "said once");
    }
}

/// The file names attached to the posts in the alert channel whose text contains `needle`; each
/// is checked to be a PNG of the charts' size with its figures as alt text.
fn charts_in(rig: &Rig, needle: &str) -> Vec<String> {
    crate::workers::rig::posts(&rig.t.notifier)
        .into_iter()
        .filter(|(channel, m)| *channel == ALERT_CHANNEL && m.text.as_deref().is_some_and(|t| t.contains(needle)))
        .flat_map(|(_, m)| m.attachments)
        .map(|file| {
            let reader = png::Decoder::new(std::io::Cursor::new(&file.bytes))
                .read_info()
                .expect("a PNG");
            let size = (reader.info().width, reader.info().height);
            assert_eq!(size, (cvmbot::chat::charts::WIDTH, cvmbot::chat::charts::HEIGHT));
            assert!(!file.description.is_empty(), "alt text");
            file.filename
        })
        .collect()
}
