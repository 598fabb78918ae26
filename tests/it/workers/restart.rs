//! Restarts: notices are recorded with the change that caused them and delivered once, whatever
//! point the process stops at.

use crate::on_both_backends;
use crate::support::app::payg_form;
use crate::workers::rig::{Rig, count};
use cvmbot::domain::RequestState;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

/// Runs tracker rounds (no dispatcher) a second at a time until `key` is in the outbox.
async fn track_until_recorded(rig: &Rig, key: &str) {
    let tracker = rig.tracker();
    for _ in 0..600 {
        rig.advance(SECOND);
        tracker.round().await.expect("a tracker round");
        if rig.outbox().await.iter().any(|n| n.dedupe_key == key) {
            return;
        }
    }
    panic!("`{key}` was never recorded");
}

on_both_backends! {
    async fn a_restart_between_recording_and_posting_neither_repeats_nor_loses_a_notice(backend) {
        let Some(mut rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&payg_form()).await;
        let instance = rig.instances(id).await.remove(0).instance_id;
        let running = format!("instance:{instance}:running");
        let public_ip = format!("instance:{instance}:public-ip");
        let submitted = format!("request:{id}:submitted");

        // The first process records RUNNING (and settles the request) but stops before posting it.
        track_until_recorded(&rig, &running).await;
        assert_eq!(rig.state(id).await, RequestState::Active, "settled with the notice that caused it");
        assert!(rig.posted_keys().is_empty(), "nothing was posted yet");
        rig.restart().await;

        // The second process posts what was recorded, and polls on until the IP shows.
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        assert_eq!(rig.posted_keys(), vec![submitted.clone(), running.clone()]);
        track_until_recorded(&rig, &public_ip).await;
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        rig.restart().await;

        // A third process finds nothing new to say.
        rig.drive(Duration::from_secs(5 * 60), SECOND).await;
        rig.dispatcher().run_once().await.expect("a dispatcher pass");
        let keys = rig.posted_keys();
        for key in [&submitted, &running, &public_ip] {
            assert_eq!(count(&keys, key), 1, "{key} in {keys:?}");
        }
        assert_eq!(keys.len(), 3, "{keys:?}");
        assert!(rig.outbox().await.iter().all(|n| n.sent_at.is_some()), "every recorded notice was sent");
        assert_eq!(rig.state(id).await, RequestState::Active);
    }
}

on_both_backends! {
    async fn a_restart_while_instances_launch_settles_the_request_without_repeating(backend) {
        let Some(mut rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&payg_form().with("count", "3")).await;
        rig.drive(Duration::from_secs(10), SECOND).await;
        assert_eq!(rig.state(id).await, RequestState::Submitted);
        rig.restart().await;

        rig.drive(Duration::from_secs(6 * 60), SECOND).await;
        assert_eq!(rig.state(id).await, RequestState::Active);
        let keys = rig.posted_keys();
        let running = keys.iter().filter(|k| k.ends_with(":running")).count();
        let ips = keys.iter().filter(|k| k.ends_with(":public-ip")).count();
        assert_eq!((running, ips), (3, 3), "{keys:?}");
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "no notice twice: {keys:?}");
    }
}
