use super::*;

fn context() -> ParseContext {
    let preset = BTreeMap::from([
        ("type".to_owned(), "S5.MEDIUM4".to_owned()),
        ("image".to_owned(), "img-l8og963d".to_owned()),
        ("bandwidth".to_owned(), "5".to_owned()),
    ]);
    ParseContext {
        presets: BTreeMap::from([("small-web".to_owned(), preset)]),
        keep_trying_default: Duration::from_secs(6 * 3600),
        ttl: TtlPolicy::default(),
    }
}

fn spot() -> PurchaseForm {
    PurchaseForm::new(BillingKind::Spot)
        .with("zone", "ap-guangzhou-3")
        .with("type", "S5.MEDIUM4")
        .with("image", "img-l8og963d")
        .with("max-price", "0.6")
}

#[test]
fn a_complete_spot_form_parses_with_sensible_defaults() {
    let spec = PurchaseSpec::parse(&spot(), &context()).expect("valid");
    assert_eq!(spec.region(), "ap-guangzhou");
    assert_eq!(
        spec.billing(),
        &BillingMode::Spot {
            max_price: "0.6".parse().expect("yuan")
        }
    );
    assert_eq!(spec.count(), 1);
    assert_eq!(
        spec.system_disk(),
        &Disk {
            disk_type: "CLOUD_PREMIUM".into(),
            size_gib: 50
        }
    );
    assert_eq!(
        spec.bandwidth(),
        &Bandwidth {
            mbps: 0,
            charge: "BANDWIDTH_POSTPAID_BY_HOUR".into()
        }
    );
    assert_eq!(spec.keep_trying(), None);
}

#[test]
fn every_invalid_option_is_named_with_what_it_accepts() {
    let table: &[(&str, &str, &str)] = &[
        ("zone", "guangzhou", "ap-guangzhou-3"),
        ("type", "medium", "S5.MEDIUM4"),
        ("image", "ubuntu", "img-1a2b3c4d"),
        ("max-price", "cheap", "0.6"),
        ("max-price", "-1", "between 0.0001 and 1000"),
        ("count", "0", "from 1 to 100"),
        ("count", "101", "from 1 to 100"),
        ("disk-type", "HDD", "CLOUD_PREMIUM"),
        ("disk-size", "10", "from 20 to 1024"),
        ("data-disks", "CLOUD_SSD:x", "TYPE:GiB"),
        ("bandwidth", "5000", "from 0 to 1000"),
        ("bandwidth-charge", "FREE", "TRAFFIC_POSTPAID_BY_HOUR"),
        ("bandwidth-charge", "BANDWIDTH_PREPAID", "needs prepaid"),
        ("security-groups", "sg-1", "sg-1a2b3c4d"),
        ("key-ids", "key", "skey-1a2b3c4d"),
        ("tags", "team", "key=value"),
        ("keep-trying", "forever", "duration up to 7d"),
        ("months", "3", "only to `/cvm buy prepaid`"),
        ("renew", "true", "only to `/cvm buy prepaid`"),
        ("preset", "huge", "presets: small-web"),
        ("colour", "blue", "options are zone, type"),
    ];
    for (field, value, expected) in table {
        let errors = PurchaseSpec::parse(&spot().with(field, *value), &context()).expect_err(field);
        let error = errors
            .for_field(field)
            .unwrap_or_else(|| panic!("{field}={value} should be named in {errors}"));
        assert!(
            error.problem.contains(expected),
            "{field}={value}: {error} should mention {expected}"
        );
        assert!(errors.to_string().starts_with(&format!("`{field}`")), "{errors}");
    }
}

#[test]
fn missing_required_options_are_all_reported_at_once() {
    let errors = PurchaseSpec::parse(&PurchaseForm::new(BillingKind::Spot), &context()).expect_err("empty");
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["zone", "type", "image", "max-price"]);
    let prepaid = PurchaseForm::new(BillingKind::Prepaid)
        .with("zone", "ap-guangzhou-3")
        .with("preset", "small-web");
    let errors = PurchaseSpec::parse(&prepaid, &context()).expect_err("months");
    assert!(
        errors
            .for_field("months")
            .is_some_and(|e| e.problem.contains("1–12, 24, 36, 48 or 60")),
        "{errors}"
    );
}

#[test]
fn prepaid_months_are_only_the_periods_tencent_sells() {
    for months in ["1", "12", "24", "60"] {
        let form = PurchaseForm::new(BillingKind::Prepaid)
            .with("preset", "small-web")
            .with("zone", "ap-guangzhou-3");
        let spec = PurchaseSpec::parse(&form.with("months", months).with("renew", "yes"), &context()).expect(months);
        assert!(matches!(spec.billing(), BillingMode::Prepaid { auto_renew: true, .. }));
        assert_eq!(
            spec.bandwidth().charge,
            "BANDWIDTH_PREPAID",
            "prepaid defaults to prepaid bandwidth"
        );
    }
    for months in ["0", "13", "18", "61", "x"] {
        let form = PurchaseForm::new(BillingKind::Prepaid)
            .with("preset", "small-web")
            .with("zone", "ap-guangzhou-3");
        assert!(
            PurchaseSpec::parse(&form.with("months", months), &context()).is_err(),
            "{months}"
        );
    }
}

#[test]
fn a_preset_fills_only_what_the_request_leaves_out() {
    let form = PurchaseForm::new(BillingKind::PayAsYouGo)
        .with("preset", "small-web")
        .with("zone", "ap-guangzhou-3")
        .with("bandwidth", "10");
    let spec = PurchaseSpec::parse(&form, &context()).expect("valid");
    assert_eq!(spec.instance_type().as_str(), "S5.MEDIUM4");
    assert_eq!(spec.bandwidth().mbps, 10, "the request wins over its preset");
    assert_eq!(spec.preset(), Some("small-web"));
}

#[test]
fn keep_trying_takes_a_flag_or_a_duration_and_only_for_spot() {
    let spec = PurchaseSpec::parse(&spot().with("keep-trying", "true"), &context()).expect("flag");
    assert_eq!(spec.keep_trying(), Some(Duration::from_secs(6 * 3600)));
    let spec = PurchaseSpec::parse(&spot().with("keep-trying", "30m"), &context()).expect("duration");
    assert_eq!(spec.keep_trying(), Some(Duration::from_secs(1800)));
    let payg = PurchaseForm::new(BillingKind::PayAsYouGo)
        .with("preset", "small-web")
        .with("zone", "ap-guangzhou-3");
    assert!(PurchaseSpec::parse(&payg.with("keep-trying", "true"), &context()).is_err());
}

#[test]
fn data_disks_tags_and_network_parse_from_their_compact_forms() {
    let form = spot()
        .with("data-disks", "CLOUD_SSD:100, 200")
        .with("tags", "team=web,env=test")
        .with("vpc", "vpc-1a2b3c4d")
        .with("subnet", "default");
    let spec = PurchaseSpec::parse(&form, &context()).expect("valid");
    assert_eq!(spec.data_disks().len(), 2);
    assert_eq!(
        spec.data_disks()[1],
        Disk {
            disk_type: "CLOUD_PREMIUM".into(),
            size_gib: 200
        }
    );
    assert_eq!(spec.tags().get("env").map(String::as_str), Some("test"));
    assert_eq!(
        spec.network(),
        Some(&Network {
            vpc: "vpc-1a2b3c4d".into(),
            subnet: "DEFAULT".into()
        })
    );
    let errors = PurchaseSpec::parse(&spot().with("vpc", "vpc-1a2b3c4d"), &context()).expect_err("half network");
    assert!(errors.for_field("subnet").is_some());
}

#[test]
fn a_ttl_is_parsed_against_the_policy_of_the_billing_mode() {
    let mut context = context();
    context.ttl.spot = crate::domain::TtlRule {
        default: Some(Duration::from_secs(86_400)),
        max: Some(Duration::from_secs(7 * 86_400)),
        allow_none: false,
    };
    let spec = PurchaseSpec::parse(&spot(), &context).expect("default");
    assert_eq!(spec.ttl(), Some(Duration::from_secs(86_400)));
    let spec = PurchaseSpec::parse(&spot().with("ttl", "3d"), &context).expect("typed");
    assert_eq!(spec.ttl(), Some(Duration::from_secs(3 * 86_400)));
    let errors = PurchaseSpec::parse(&spot().with("ttl", "none"), &context).unwrap_err();
    assert_eq!(errors.0[0].field, "ttl");
    assert!(errors.0[0].problem.contains("cannot be `none`"), "{errors}");
    let errors = PurchaseSpec::parse(&spot().with("ttl", "30d"), &context).unwrap_err();
    assert!(errors.0[0].problem.contains("at most 7d"), "{errors}");
}
