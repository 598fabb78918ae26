//! The fence on the workers lease: once another process took the lease (this one was paused past
//! its end), this process's writes are refused before it even notices, and nothing of them is
//! stored; it cannot take the lease back while the other holds it.

use crate::on_both_backends;
use crate::support::app::{alice, payg_form, spawn_app};
use cvmbot::app::App;
use cvmbot::clock::Clock;
use cvmbot::desk::Origin;
use cvmbot::store::ListFilter;
use cvmbot::workers::Leadership;
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(3);

on_both_backends! {
async fn a_process_whose_lease_another_took_writes_nothing_even_before_it_notices(backend) {
    let Some(test) = spawn_app(backend, "").await else {
        return;
    };
    let first = Leadership::new(test.desk().clone(), LEASE);
    assert!(first.try_acquire().await, "the first process takes the free lease");
    let first_epoch = first.epoch().expect("the leader's epoch");
    test.desk()
        .create(&alice(), &payg_form(), Origin::default())
        .await
        .expect("the leader files");

    // A second process whose clock is past the first's lease: the first was paused.
    let later = time::OffsetDateTime::now_utc() + Duration::from_secs(60);
    let second_app = App::build(test.app.config.clone(), Clock::manual(later))
        .await
        .expect("a second process");
    let second = Leadership::new(second_app.desk.clone(), LEASE);
    assert!(second.try_acquire().await, "the lease ran out, so the second process takes it");
    assert_eq!(second.epoch(), Some(first_epoch + 1), "the epoch moved on");

    // The first wakes up and files before its next renewal: refused, nothing stored.
    let refused = test
        .desk()
        .create(&alice(), &payg_form(), Origin::default())
        .await
        .expect_err("the old leader's write is fenced off");
    assert!(
        refused.user_message().contains("Another cvmbot process has taken over"),
        "plain words: {}",
        refused.user_message()
    );
    let stored = second_app.desk.list(ListFilter::All, 10).await.expect("the requests");
    assert_eq!(stored.len(), 1, "only the leader's filing is stored");

    assert!(!first.try_acquire().await, "the old leader cannot take the lease back");
    assert!(!first.is_leader());
    second_app
        .desk
        .create(&alice(), &payg_form(), Origin::default())
        .await
        .expect("the new leader files");
}
}
