//! The workers as production runs them (`Workers::spawn`, real time, the lease), stopped and
//! started again on the same database in the middle of a purchase.

use crate::on_both_backends;
use crate::support::app::{TestApp, alice, bob, payg_form, spawn_app};
use crate::workers::rig::{REQUEST_CHANNEL, count, eventually};
use cvmbot::chat::render::TimeStyle;
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, Origin};
use cvmbot::domain::RequestState;
use cvmbot::workers::Workers;
use std::time::Duration;

/// Quick cadences, so real time stays short; the simulator's clock still moves only by hand.
const QUICK: &str = r#"
[submitter]
poll_interval = "100ms"
[tracker]
initial_interval = "50ms"
waiting_interval = "200ms"
max_interval = "1s"
"#;

const WAIT: Duration = Duration::from_secs(20);

async fn spawn_workers(app: &TestApp) -> Workers {
    let workers = app.app.start(app.notifier.clone(), TimeStyle::Utc).await;
    assert!(workers.is_leader(), "the only process takes the workers lease");
    workers
}

fn keys(app: &TestApp) -> Vec<String> {
    crate::workers::rig::posts(&app.notifier)
        .into_iter()
        .filter_map(|(_, m)| m.dedupe_key)
        .collect()
}

async fn has_posted(app: &TestApp, key: &str) {
    eventually(key, WAIT, || keys(app).iter().any(|k| k == key)).await;
}

on_both_backends! {
    async fn running_workers_post_activation_and_the_ip_once_across_a_restart(backend) {
        let Some(mut app) = spawn_app(backend, QUICK).await else { return };
        let mut workers = spawn_workers(&app).await;
        let origin = Origin { guild_id: Some(cvmbot::domain::GuildId::new(1)), channel_id: Some(REQUEST_CHANNEL) };
        let id = app.desk().create(&alice(), &payg_form(), origin).await.expect("filed").record.id;
        // The dispatcher posts the card from the outbox.
        let card = app.desk().wait_for_card(id, WAIT).await.expect("a view").expect("the card is posted");
        let ballot = Ballot { approve: true, reason: None, seen_hash: None, via: cvmbot::domain::VoteVia::Console };
        app.desk().vote(id, &bob(), &ballot).await.expect("approved");

        // The submitter buys it on its own.
        has_posted(&app, &format!("request:{id}:submitted")).await;
        let instance = app.desk().view(id).await.expect("view").instances.remove(0).instance_id;
        app.sim.advance(Duration::from_secs(31));
        has_posted(&app, &format!("instance:{instance}:running")).await;
        assert!(matches!(app.desk().view(id).await.expect("view").record.state, RequestState::Active));

        // Stop, restart on the same database, start the workers again; then the IP appears.
        workers.shutdown().await;
        app.app = app.restart(Clock::System).await;
        workers = spawn_workers(&app).await;
        app.sim.advance(Duration::from_secs(300));
        has_posted(&app, &format!("instance:{instance}:public-ip")).await;

        // The card followed along, and a little more time adds nothing.
        tokio::time::sleep(Duration::from_millis(500)).await;
        workers.shutdown().await;
        let keys = keys(&app);
        for key in [format!("request:{id}:submitted"), format!("instance:{instance}:running"), format!("instance:{instance}:public-ip")] {
            assert_eq!(count(&keys, &key), 1, "{key} in {keys:?}");
        }
        let edits = app.notifier.recorded().into_iter().filter(|r| matches!(r,
            cvmbot::chat::notifier::Recorded::Edit { message_id, .. } if *message_id == card)).count();
        assert!(edits >= 2, "the card was updated as the request moved on ({edits} edits)");
    }
}
