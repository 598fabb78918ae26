//! Activation and IPs: what the tracker posts as instances start, fail, hang or are reclaimed.

use crate::on_both_backends;
use crate::support::app::{payg_form, spot_form};
use crate::workers::rig::{REQUEST_CHANNEL, Rig, count, sim_with};
use cvmbot::domain::RequestState;
use rust_decimal::Decimal;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

on_both_backends! {
    async fn running_is_posted_first_and_the_public_ip_later_each_exactly_once(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&payg_form()).await;
        let instance = rig.instances(id).await.remove(0).instance_id;

        rig.drive(Duration::from_secs(10 * 60), SECOND).await;

        let seen = rig.t.sim.instances().into_iter().find(|i| i.instance_id == instance).expect("in the simulator");
        let public_ip = seen.public_ip.clone().expect("the simulator assigned a public IP");
        let (running, ip) = (seen.running_visible.expect("running"), seen.public_ip_visible.expect("ip visible"));
        assert!(
            (60_000..=300_000).contains(&(ip.sim_ms - running.sim_ms + 30_000)),
            "the simulator shows the IP 1–5 min after the purchase, after RUNNING: {running:?} {ip:?}"
        );
        let keys = rig.posted_keys();
        let running_key = format!("instance:{instance}:running");
        let ip_key = format!("instance:{instance}:public-ip");
        assert_eq!(count(&keys, &running_key), 1, "{keys:?}");
        assert_eq!(count(&keys, &ip_key), 1, "{keys:?}");
        let position = |key: &str| keys.iter().position(|k| k == key).expect("posted");
        assert!(position(&format!("request:{id}:submitted")) < position(&running_key), "{keys:?}");
        assert!(position(&running_key) < position(&ip_key), "{keys:?}");

        let texts = rig.texts_in(REQUEST_CHANNEL);
        let running_text = texts.iter().find(|t| t.contains("is RUNNING")).expect("a RUNNING post");
        assert!(running_text.contains("public IP not assigned yet"), "{running_text}");
        assert!(!running_text.contains(&public_ip), "the IP was not visible yet: {running_text}");
        let ip_text = texts.iter().find(|t| t.contains("has its public IP")).expect("an IP post");
        assert!(ip_text.contains(&public_ip), "{ip_text}");

        assert_eq!(rig.state(id).await, RequestState::Active);
        let row = rig.instances(id).await.remove(0);
        assert_eq!(row.state.as_str(), "RUNNING");
        assert_eq!(row.public_ips, vec![public_ip]);
        assert!(row.running_at.is_some() && row.public_ip_at > row.running_at, "{row:?}");
        assert!(row.watching, "running instances stay watched, so reclamation is seen");
    }
}

on_both_backends! {
    async fn a_launch_failure_is_explained_with_tencents_message(backend) {
        let sim = sim_with(|c| c.lifecycle.launch_failure_per_million = 1_000_000);
        let message = sim.lifecycle.launch_failure_message.clone();
        let Some(rig) = Rig::start_with(backend, sim, "").await else { return };
        let id = rig.buy(&payg_form()).await;
        let instance = rig.instances(id).await.remove(0).instance_id;

        rig.drive(Duration::from_secs(2 * 60), SECOND).await;

        let texts = rig.texts_in(REQUEST_CHANNEL);
        let failed: Vec<&String> = texts.iter().filter(|t| t.contains("failed to launch")).collect();
        assert_eq!(failed.len(), 1, "{texts:?}");
        assert!(failed[0].contains(&message), "LatestOperationErrorMsg is quoted: {}", failed[0]);
        assert!(failed[0].contains(&instance), "{}", failed[0]);
        assert_eq!(rig.state(id).await, RequestState::LaunchFailed);
        let row = rig.instances(id).await.remove(0);
        assert_eq!(row.error.as_deref(), Some(message.as_str()));
        assert!(!row.watching, "a failed launch is not polled again");

        rig.t.sim.clear_requests();
        rig.drive(Duration::from_secs(5 * 60), SECOND).await;
        assert!(rig.describe_calls().is_empty(), "nothing is left to watch");
        assert_eq!(rig.posted_keys().iter().filter(|k| k.ends_with(":launch-failed")).count(), 1);
    }
}

on_both_backends! {
    async fn an_instance_still_pending_is_warned_about_once(backend) {
        let sim = sim_with(|c| c.lifecycle.launch_secs = 3 * 3600);
        let Some(rig) = Rig::start_with(backend, sim, "").await else { return };
        let id = rig.buy(&payg_form()).await;
        let instance = rig.instances(id).await.remove(0).instance_id;

        rig.drive(Duration::from_secs(9 * 60), SECOND).await;
        assert!(rig.texts_in(REQUEST_CHANNEL).iter().all(|t| !t.contains("still PENDING")), "not before 10 minutes");

        rig.drive(Duration::from_secs(30 * 60), Duration::from_secs(5)).await;
        let warnings: Vec<String> =
            rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("still PENDING")).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains(&instance) && warnings[0].contains("after 10 minutes"), "{}", warnings[0]);
        assert_eq!(rig.state(id).await, RequestState::Submitted, "still waiting for Tencent Cloud");
    }
}

on_both_backends! {
    async fn a_reclaimed_spot_instance_is_posted_once(backend) {
        let Some(rig) = Rig::start(backend, "").await else { return };
        let id = rig.buy(&spot_form()).await;
        let instance = rig.instances(id).await.remove(0).instance_id;
        rig.drive(Duration::from_secs(6 * 60), SECOND).await;
        assert_eq!(rig.state(id).await, RequestState::Active);

        let zone = crate::support::sim::ZONE;
        let market = crate::support::sim::TYPE;
        rig.t.sim.set_spot_price(zone, market, Decimal::new(65, 2)).expect("a spot market");
        assert!(rig.t.sim.instances().iter().any(|i| i.instance_id == instance && i.state == "TERMINATING"));

        rig.drive(Duration::from_secs(3 * 60), SECOND).await;
        let gone: Vec<String> =
            rig.texts_in(REQUEST_CHANNEL).into_iter().filter(|t| t.contains("is gone")).collect();
        assert_eq!(gone.len(), 1, "{gone:?}");
        assert!(gone[0].contains(&instance) && gone[0].contains("reclaimed the spot instance"), "{}", gone[0]);
        let row = rig.instances(id).await.remove(0);
        assert!(row.gone_at.is_some() && !row.watching, "{row:?}");
        assert_eq!(rig.desk().burn_per_hour().await.expect("burn"), cvmbot::money::Yuan::ZERO, "it burns nothing now");
    }
}
