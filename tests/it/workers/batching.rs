//! Batching: a round asks DescribeInstances about up to 100 ids per call, ⌈n/100⌉ calls for n
//! instances, never one call per instance.

use crate::on_both_backends;
use crate::support::app::payg_form;
use crate::workers::rig::Rig;
use std::collections::BTreeSet;
use std::time::Duration;

/// Requests of up to 100 instances, one approval whatever they cost.
const LARGE_ORDERS: &str = "[policy]\nmax_count = 100\ntiers = [{ up_to = \"1000000\", approvals = 1 }]\n";

on_both_backends! {
    async fn a_round_over_250_instances_makes_three_describe_calls(backend) {
        let Some(rig) = Rig::start(backend, LARGE_ORDERS).await else { return };
        let mut ids = BTreeSet::new();
        for count in ["100", "100", "50"] {
            let request = rig.buy(&payg_form().with("count", count)).await;
            ids.extend(rig.instances(request).await.into_iter().map(|i| i.instance_id));
        }
        assert_eq!(ids.len(), 250);
        rig.t.sim.clear_requests();

        rig.advance(rig.settings.tracker.initial);
        assert_eq!(rig.tracker().round().await.expect("a round"), 3);
        let calls = rig.describe_calls();
        let mut sizes: Vec<usize> = calls.iter().map(Vec::len).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![50, 100, 100], "⌈250/100⌉ calls");
        let asked: BTreeSet<String> = calls.into_iter().flatten().collect();
        assert_eq!(asked, ids, "every instance once");
    }
}

on_both_backends! {
    async fn instances_polled_on_different_schedules_still_share_full_calls(backend) {
        let Some(rig) = Rig::start(backend, LARGE_ORDERS).await else { return };
        for count in ["100", "100", "50"] {
            rig.buy(&payg_form().with("count", count)).await;
        }
        rig.t.sim.clear_requests();

        // Public IPs arrive at random times over five minutes, which puts every instance on a
        // schedule of its own; then they settle at the longest interval.
        rig.drive(Duration::from_secs(15 * 60), Duration::from_secs(1)).await;
        let calls = rig.describe_calls();
        assert!(calls.iter().all(|c| c.len() <= 100), "no call over 100 ids");
        let partial = calls.iter().filter(|c| c.len() % 100 != 0 && c.len() != 50).count();
        assert_eq!(partial, 0, "every call is full, or covers the 50 left after two full ones: {:?}",
            calls.iter().map(Vec::len).collect::<Vec<_>>());

        // At the longest interval, one sweep over all 250 costs ⌈250/100⌉ = 3 calls.
        rig.t.sim.clear_requests();
        rig.drive(rig.settings.tracker.max, Duration::from_secs(1)).await;
        let polled: usize = rig.describe_calls().iter().map(Vec::len).sum();
        assert!(polled >= 250, "everything was polled within the longest interval: {polled}");
        assert!(rig.describe_calls().len() <= 4, "{:?}", rig.describe_calls().iter().map(Vec::len).collect::<Vec<_>>());
    }
}
