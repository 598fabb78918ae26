//! The catalogue: zones, instance types with stock and prices, images, and quotes.

use crate::support::sim::*;
use cvmbot::tencent::cvm::{DescribeImagesRequest, Filter, RunInstancesRequest};
use cvmbot::tencent::enums::ChargeType;
use rust_decimal::Decimal;

fn yuan(text: &str) -> Option<Decimal> {
    Some(text.parse().expect("decimal"))
}

#[tokio::test]
async fn zones_are_listed_per_region() {
    let sim = start(test_config()).await;
    let zones = client(&sim).describe_zones("ap-shanghai").await.expect("zones").data;
    assert_eq!(zones.total_count, 3);
    assert_eq!(zones.zone_set[0].zone, "ap-shanghai-2");
    assert_eq!(zones.zone_set[0].zone_state, "AVAILABLE");
}

#[tokio::test]
async fn zone_instance_configs_show_stock_prices_and_the_spot_market() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    sim.set_stock(ZONE, TYPE, 5, 0).expect("stock set");
    let filters = vec![Filter::new("zone", [ZONE]), Filter::new("instance-type", [TYPE])];
    let items = client
        .describe_zone_instance_config_infos(REGION, filters)
        .await
        .expect("configs")
        .data
        .instance_type_quota_set;
    assert_eq!(items.len(), 3, "PREPAID, POSTPAID_BY_HOUR, SPOTPAID");
    let by = |charge: ChargeType| {
        items
            .iter()
            .find(|i| i.instance_charge_type.as_ref() == Some(&charge))
            .expect("listed")
    };
    let hourly = by(ChargeType::PostpaidByHour);
    assert_eq!(
        (hourly.status.as_str(), hourly.status_category.as_deref()),
        ("SELL", Some("UnderStock"))
    );
    assert_eq!(hourly.price.unit_price, yuan("0.41"));
    assert_eq!(hourly.price.charge_unit.as_deref(), Some("HOUR"));
    let spot = by(ChargeType::SpotPaid);
    assert_eq!(
        (spot.status.as_str(), spot.status_category.as_deref()),
        ("SOLD_OUT", Some("WithoutStock"))
    );
    assert_eq!(spot.price.unit_price_discount, sim.spot_price(ZONE, TYPE));
    assert_eq!(by(ChargeType::Prepaid).price.original_price, yuan("157"));

    let gpus = client
        .describe_zone_instance_config_infos(REGION, vec![Filter::new("instance-family", ["GN7"])])
        .await
        .expect("configs")
        .data
        .instance_type_quota_set;
    assert!(
        gpus.iter()
            .all(|i| i.zone == "ap-guangzhou-6" && i.instance_charge_type != Some(ChargeType::SpotPaid))
    );
    let spot_only = client
        .describe_zone_instance_config_infos(REGION, vec![Filter::new("instance-charge-type", ["SPOTPAID"])])
        .await
        .expect("configs")
        .data
        .instance_type_quota_set;
    assert!(
        !spot_only.is_empty()
            && spot_only
                .iter()
                .all(|i| i.instance_charge_type == Some(ChargeType::SpotPaid))
    );
    let error = client
        .describe_zone_instance_config_infos(REGION, vec![Filter::new("colour", ["red"])])
        .await
        .expect_err("unknown filter");
    assert_eq!(error.code, "InvalidFilter");
}

#[tokio::test]
async fn images_are_found_by_id_platform_and_instance_type() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let all = client
        .describe_images(REGION, &DescribeImagesRequest::default())
        .await
        .expect("images")
        .data;
    assert_eq!(all.total_count, 6);
    let ubuntu = DescribeImagesRequest {
        filters: Some(vec![Filter::new("platform", ["ubuntu"])]),
        ..DescribeImagesRequest::default()
    };
    assert_eq!(
        client
            .describe_images(REGION, &ubuntu)
            .await
            .expect("images")
            .data
            .total_count,
        2
    );
    let for_s5 = DescribeImagesRequest {
        instance_type: Some(TYPE.into()),
        ..DescribeImagesRequest::default()
    };
    assert_eq!(
        client
            .describe_images(REGION, &for_s5)
            .await
            .expect("images")
            .data
            .total_count,
        5
    );
    let paged = DescribeImagesRequest {
        offset: Some(4),
        limit: Some(1),
        ..DescribeImagesRequest::default()
    };
    let page = client.describe_images(REGION, &paged).await.expect("images").data;
    assert_eq!((page.total_count, page.image_set.len()), (6, 1));
    let both = DescribeImagesRequest {
        image_ids: Some(vec![IMAGE.into()]),
        filters: Some(vec![Filter::new("image-type", ["PUBLIC_IMAGE"])]),
        ..DescribeImagesRequest::default()
    };
    assert_eq!(
        client.describe_images(REGION, &both).await.expect_err("both").code,
        "InvalidParameter.InvalidParameterCoexistImageIdsFilters"
    );
}

#[tokio::test]
async fn quotes_cover_the_whole_request_for_each_charge_type() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let two = |request: RunInstancesRequest| RunInstancesRequest {
        instance_count: Some(2),
        ..request
    };
    let hourly = client
        .inquiry_price_run_instances(REGION, &two(postpaid()))
        .await
        .expect("quoted")
        .data;
    let instance = hourly.instance_price.expect("instance");
    assert_eq!(instance.unit_price_discount, yuan("0.87"), "(0.41 + 50 × 0.0005) × 2");
    assert_eq!(instance.charge_unit.as_deref(), Some("HOUR"));
    assert_eq!(instance.unit_price_discount_second_step, yuan("0.87"));
    let bandwidth = hourly.bandwidth_price.expect("bandwidth");
    assert_eq!(
        bandwidth.unit_price_discount,
        yuan("3.13"),
        "(5 × 0.063 + 5 × 0.25) × 2"
    );

    let monthly = client
        .inquiry_price_run_instances(REGION, &two(prepaid(12)))
        .await
        .expect("quoted")
        .data;
    let instance = monthly.instance_price.expect("instance");
    assert_eq!(instance.original_price, yuan("4188"), "174.5 × 12 × 2");
    assert_eq!(instance.discount_price, yuan("3476.04"), "× 0.83");
    assert_eq!(instance.discount, yuan("83"));
    assert_eq!(
        monthly.bandwidth_price.expect("bandwidth").discount_price,
        yuan("2290.8"),
        "5 × 23 × 12 × 0.83 × 2"
    );

    let market = sim.spot_price(ZONE, TYPE).expect("market");
    let spot_quote = client
        .inquiry_price_run_instances(REGION, &spot(None))
        .await
        .expect("quoted")
        .data;
    let instance = spot_quote.instance_price.expect("instance");
    assert_eq!(instance.unit_price, yuan("0.435"));
    assert_eq!(instance.unit_price_discount, Some(market + Decimal::new(25, 3)));
    let too_many = RunInstancesRequest {
        instance_count: Some(101),
        ..postpaid()
    };
    assert_eq!(
        client
            .inquiry_price_run_instances(REGION, &too_many)
            .await
            .expect_err("101")
            .code,
        "InvalidParameterValue.Range"
    );
}
