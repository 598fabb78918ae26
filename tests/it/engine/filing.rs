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

on_both_backends! {
    async fn options_tencent_would_refuse_are_named_with_what_is_allowed_and_write_nothing(backend) {
        let Some(app) = spawn_app(backend, "").await else { return };
        // (case, form, the option named, what the answer says, checked before asking Tencent)
        let table: &[(&str, cvmbot::domain::PurchaseForm, &str, &[&str], bool)] = &[
            ("a zone of no region", spot_form().with("zone", "ap-nowhere-1"), "zone", &["no region ap-nowhere"], true),
            ("a zone its region lacks", spot_form().with("zone", "ap-guangzhou-9"), "zone", &["ap-guangzhou-3", "ap-guangzhou-4"], true),
            ("a type the zone does not sell", spot_form().with("zone", "ap-guangzhou-4").with("type", "C5.2XLARGE16"), "type", &["not sold in ap-guangzhou-4", "S5.MEDIUM4"], true),
            ("too much bandwidth", spot_form().with("bandwidth", "500"), "bandwidth", &["Tencent Cloud refused it", "InternetMaxBandwidthOut"], false),
            ("too small an SSD", spot_form().with("data-disks", "CLOUD_SSD:50"), "data-disks", &["Tencent Cloud refused it", "100 GiB"], false),
        ];
        for (case, form, option, says, before_tencent) in table {
            app.sim.clear_requests();
            let error = app.desk().create(&alice(), form, Origin::default()).await.expect_err(case);
            let text = error.user_message();
            assert!(text.contains(&format!("`{option}`")), "{case}: names `{option}`: {text}");
            for words in *says {
                assert!(text.contains(words), "{case}: says {words:?}: {text}");
            }
            assert!(!text.contains("no stock"), "{case}: a mistake is not a shortage: {text}");
            if *before_tencent {
                let asked: Vec<String> = app.sim.requests().into_iter().map(|r| r.action)
                    .filter(|a| a == "RunInstances" || a == "InquiryPriceRunInstances").collect();
                assert!(asked.is_empty(), "{case}: refused before quoting: {asked:?}");
            }
        }
        assert_eq!(stored_requests(&app).await, 0, "nothing was filed");
        assert!(app.sim.instances().is_empty());
    }
}
