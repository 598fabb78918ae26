//! Filing requests: what is quoted, dry-run and stored, and what writes nothing.

use crate::on_both_backends;
use crate::support::app::{alice, spawn_app, spot_form};
use cvmbot::desk::Origin;
use cvmbot::domain::{Quote, RequestState};
use cvmbot::store::ListFilter;

async fn stored_requests(app: &crate::support::app::TestApp) -> usize {
    app.desk().list(ListFilter::All, 1000).await.expect("list").len()
}

on_both_backends! {
    async fn a_valid_spot_request_is_quoted_dry_run_and_stored_pending(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let view = app.desk().create(&alice(), &spot_form(), Origin::default()).await.expect("filed");
        assert_eq!(view.record.state, RequestState::Pending);
        assert!(matches!(view.record.quote, Quote::Spot { .. }), "{:?}", view.record.quote);
        assert!(view.record.dry_run_request_id.is_some(), "the dry run passed and its RequestId is kept");
        let actions: Vec<String> = app.sim.requests().iter().map(|r| r.action.clone()).collect();
        assert!(actions.contains(&"InquiryPriceRunInstances".to_owned()), "{actions:?}");
        assert!(actions.contains(&"RunInstances".to_owned()), "a dry run: {actions:?}");
        assert!(app.sim.instances().is_empty(), "a dry run buys nothing");
        assert_eq!(stored_requests(&app).await, 1);
    }
}

on_both_backends! {
    async fn an_invalid_request_names_the_field_and_writes_nothing(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        let error = app.desk().create(&alice(), &spot_form().with("max-price", "cheap"), Origin::default()).await.expect_err("invalid");
        assert!(error.user_message().contains("`max-price`"), "{}", error.user_message());
        assert_eq!(stored_requests(&app).await, 0);
        assert!(app.sim.requests().is_empty(), "nothing was sent to Tencent Cloud");
    }
}
