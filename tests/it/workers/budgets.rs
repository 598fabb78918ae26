//! Budgets: a threshold reached by the forecast, then by the spend, is told once each in the
//! alert channel with the scope's spend chart, across a restart.

use crate::on_both_backends;
use crate::support::app::{alice, payg_form};
use crate::workers::rig::{ALERT_CHANNEL, Rig, count, posts};
use std::time::Duration;

/// alice's budget of `monthly` CNY with thresholds 50 and 100 %, `over` as given.
fn budget(monthly: &str, over: &str) -> String {
    format!(
        "[[budgets]]\nname = \"alice\"\nrequester = \"{}\"\nmonthly = \"{monthly}\"\nthresholds = [50, 100]\nover = \"{over}\"\n",
        alice().id
    )
}

const FORECAST_100: &str = "budget:alice:2025-01:100:forecast";
const ACTUAL_50: &str = "budget:alice:2025-01:50:actual";

/// A monitor pass and a dispatcher pass.
async fn watch(rig: &Rig) {
    rig.monitor().run_once().await.expect("a monitor pass");
    rig.dispatcher().run_once().await.expect("a dispatcher pass");
}

on_both_backends! {
    async fn the_forecast_then_the_spend_reaching_a_threshold_is_told_once_each_with_the_chart_across_a_restart(backend) {
        let Some(mut rig) = Rig::start(backend, &budget("2", "approval")).await else { return };
        rig.buy(&payg_form()).await;
        rig.drive(Duration::from_secs(600), Duration::from_secs(300)).await;
        watch(&rig).await;
        let keys = rig.posted_keys();
        assert_eq!(count(&keys, FORECAST_100), 1, "the month's forecast is far over 2 CNY: {keys:?}");
        assert_eq!(count(&keys, ACTUAL_50), 0, "nothing near 1 CNY spent yet: {keys:?}");

        let mut hours = 0;
        while count(&rig.posted_keys(), ACTUAL_50) == 0 {
            hours += 1;
            assert!(hours < 200, "1 CNY is spent within 200 hours");
            rig.drive(Duration::from_secs(3600), Duration::from_secs(3600)).await;
            watch(&rig).await;
        }
        let keys = rig.posted_keys();
        let at = |key: &str| keys.iter().position(|k| k == key).expect(key);
        assert!(at(FORECAST_100) < at(ACTUAL_50), "the forecast was told first: {keys:?}");

        rig.restart().await;
        watch(&rig).await;
        let keys = rig.posted_keys();
        assert_eq!(count(&keys, FORECAST_100), 1, "not told again after the restart: {keys:?}");
        assert_eq!(count(&keys, ACTUAL_50), 1, "not told again after the restart: {keys:?}");
        assert_eq!(keys.iter().filter(|k| k.starts_with("budget:")).count(), 2, "one post per crossing: {keys:?}");

        let alerts: Vec<_> = posts(&rig.t.notifier)
            .into_iter()
            .filter(|(channel, m)| *channel == ALERT_CHANNEL && m.dedupe_key.as_deref() == Some(ACTUAL_50))
            .collect();
        let [(_, message)] = alerts.as_slice() else { panic!("one actual alert: {alerts:?}") };
        let text = message.text.as_deref().unwrap_or_default();
        assert!(
            text.contains("Budget \"alice\"") && text.contains("50 %") && text.contains("2.00 CNY") && text.contains("spent so far"),
            "{text}"
        );
        let [chart] = message.attachments.as_slice() else { panic!("the spend chart attached") };
        assert_eq!(chart.filename, "cvmbot-spend.png");
        assert!(chart.bytes.starts_with(b"\x89PNG"), "a PNG");
    }
}
