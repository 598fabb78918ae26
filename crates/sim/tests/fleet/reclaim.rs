//! Reclaims by percentage, count and shrinking capacity, and the refill that follows.

use super::*;
use cvmbot_sim::Reclaim;
use cvmbot_tencent::enums::InstanceState::{Pending, Running, Terminating};
use serde_json::json;

const CAPACITY_NEEDED: &str = "spot instance reclaimed: the capacity was needed";

#[tokio::test]
async fn reclaiming_thirty_percent_of_ten_running_spot_instances_takes_three_and_gives_their_stock_back() {
    let sim = start().await;
    let client = client(&sim);
    let fleet = buy(&client, &spot(10)).await;
    sim.advance(Duration::from_secs(40));
    assert_eq!(in_state(&client, &fleet, Running).await.len(), 10);
    assert_eq!(spot_stock(&sim), 490);
    let freeze_of_ten = fen(&sim, |a| a.freeze_amount);
    let before_hour = fen(&sim, |a| a.cash_account_balance);
    sim.advance(Duration::from_secs(3600));
    let burn_of_ten = before_hour - fen(&sim, |a| a.cash_account_balance);

    let (status, answer) = post(
        &sim,
        "/_sim/reclaim",
        json!({ "zone": ZONE, "instance_type": TYPE, "percent": 30 }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let gone = reclaimed(&answer);
    assert_eq!(gone.len(), 3);
    assert!(gone.iter().all(|id| fleet.contains(id)), "{gone:?}");
    assert_eq!(in_state(&client, &fleet, Terminating).await, sorted(&gone));
    assert_eq!(in_state(&client, &fleet, Running).await.len(), 7);
    assert_eq!(spot_stock(&sim), 493, "each reclaimed instance gives its unit back");
    assert_eq!(fen(&sim, |a| a.freeze_amount) * 10, freeze_of_ten * 7);
    let reasons: Vec<_> = sim
        .instances()
        .into_iter()
        .filter(|i| gone.contains(&i.instance_id))
        .map(|i| i.ended.expect("ended").reason)
        .collect();
    assert_eq!(reasons, [CAPACITY_NEEDED; 3]);

    let after_hour = fen(&sim, |a| a.cash_account_balance);
    sim.advance(Duration::from_secs(3600));
    let burn_of_seven = after_hour - fen(&sim, |a| a.cash_account_balance);
    assert!(
        (burn_of_seven * 10 - burn_of_ten * 7).abs() <= 20,
        "seven bill as seven: {burn_of_seven} fen against {burn_of_ten} for ten"
    );
    let left = states(&client, &fleet).await;
    assert_eq!(left.len(), 7, "the reclaimed vanished: {left:?}");
    assert!(gone.iter().all(|id| !left.contains_key(id)));
}

#[tokio::test]
async fn a_refill_after_a_reclaim_launches_on_the_stock_it_gave_back() {
    let sim = start().await;
    let client = client(&sim);
    sim.set_stock(ZONE, TYPE, 2000, 4).expect("stock set");
    let fleet = buy(&client, &spot(4)).await;
    sim.advance(Duration::from_secs(40));
    let refused = client.run_instances(REGION, &spot(1)).await.expect_err("sold out");
    assert_eq!(refused.code, "InvalidParameterValue.InsufficientOffering");

    let gone = sim
        .reclaim_spot(Some(ZONE), Some(TYPE), Reclaim::Count(2))
        .expect("reclaimed");
    assert_eq!(gone.len(), 2);
    assert_eq!(spot_stock(&sim), 2);
    let refill = buy(&client, &spot(2)).await;
    assert_eq!(spot_stock(&sim), 0);
    sim.advance(Duration::from_secs(40));
    let mut running = in_state(&client, &fleet, Running).await;
    running.extend(in_state(&client, &refill, Running).await);
    assert_eq!(running.len(), 4, "two survivors and two refills run");
}

#[tokio::test]
async fn a_reclaim_touches_only_the_spot_instances_of_the_markets_it_names() {
    let sim = start().await;
    let client = client(&sim);
    let here = buy(&client, &spot(3)).await;
    let other_zone = buy(&client, &spot_in(OTHER_ZONE, TYPE, 3)).await;
    let other_type = buy(&client, &spot_in(ZONE, "S5.SMALL2", 2)).await;
    let postpaid = RunInstancesRequest {
        instance_charge_type: Some(ChargeType::PostpaidByHour),
        ..spot(1)
    };
    let regular = buy(&client, &postpaid).await;
    sim.advance(Duration::from_secs(40));

    let gone = sim
        .reclaim_spot(Some(ZONE), Some(TYPE), Reclaim::Percent(100))
        .expect("reclaimed");
    assert_eq!(gone, here);
    let zone_wide = sim
        .reclaim_spot(Some(ZONE), None, Reclaim::Count(50))
        .expect("reclaimed");
    assert_eq!(
        zone_wide, other_type,
        "only what is left in the zone, however many were asked"
    );
    let everywhere = sim.reclaim_spot(None, None, Reclaim::Count(50)).expect("reclaimed");
    assert_eq!(everywhere, other_zone);
    assert_eq!(
        in_state(&client, &regular, Running).await,
        regular,
        "pay-as-you-go is never reclaimed"
    );
    assert_eq!(
        sim.reclaim_spot(None, None, Reclaim::Percent(100))
            .expect("nothing left"),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn the_instances_a_reclaim_picks_repeat_with_the_seed() {
    let mut picks = Vec::new();
    for _ in 0..2 {
        let sim = start().await;
        let client = client(&sim);
        buy(&client, &spot(6)).await;
        buy(&client, &spot_in(OTHER_ZONE, TYPE, 6)).await;
        let first = sim
            .reclaim_spot(None, Some(TYPE), Reclaim::Count(4))
            .expect("reclaimed");
        let second = sim.reclaim_spot(None, None, Reclaim::Percent(50)).expect("reclaimed");
        assert_eq!(first.len(), 4);
        assert_eq!(second.len(), 4, "half of the eight left");
        picks.push((first, second));
    }
    assert_eq!(picks[0], picks[1]);
}

#[tokio::test]
async fn shrinking_spot_capacity_reclaims_the_newest_excess_and_leaves_nothing_on_sale() {
    let sim = start().await;
    let client = client(&sim);
    let first = buy(&client, &spot(3)).await;
    sim.advance(Duration::from_secs(40));
    let newest = buy(&client, &spot(2)).await;
    let all: Vec<String> = first.iter().chain(&newest).cloned().collect();

    let (status, answer) = post(
        &sim,
        "/_sim/stock",
        json!({ "zone": ZONE, "instance_type": TYPE, "spot_capacity": 3 }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["ok"], true);
    assert_eq!(reclaimed(&answer), newest, "the newest, still pending, go first");
    assert_eq!(in_state(&client, &all, Terminating).await.len(), 2);
    assert_eq!(in_state(&client, &all, Running).await, sorted(&first));
    assert_eq!(spot_stock(&sim), 0, "the capacity is all in use");
    let refused = client.run_instances(REGION, &spot(1)).await.expect_err("no capacity");
    assert_eq!(refused.code, "InvalidParameterValue.InsufficientOffering");

    let grown = sim.set_spot_capacity(ZONE, TYPE, 5).expect("capacity set");
    assert_eq!(grown, Vec::<String>::new(), "growing reclaims nothing");
    assert_eq!(spot_stock(&sim), 2);
    let refill = buy(&client, &spot(2)).await;
    assert_eq!(in_state(&client, &refill, Pending).await, sorted(&refill));
    let (_, unchanged) = post(
        &sim,
        "/_sim/stock",
        json!({ "zone": ZONE, "instance_type": TYPE, "stock": 7 }),
    )
    .await;
    assert_eq!(reclaimed(&unchanged), Vec::<String>::new());
    assert_eq!(sim.stock(ZONE, TYPE).map(|s| (s.regular, s.spot)), Some((7, 0)));
}

#[tokio::test]
async fn bad_reclaim_and_stock_bodies_are_refused_naming_the_field() {
    let sim = start().await;
    let client = client(&sim);
    let fleet = buy(&client, &spot(2)).await;
    let cases = [
        (
            "/_sim/reclaim",
            json!({ "count": 1, "percent": 10 }),
            400,
            &["count", "percent"][..],
        ),
        ("/_sim/reclaim", json!({ "zone": ZONE }), 400, &["count or percent"]),
        ("/_sim/reclaim", json!({ "percent": 101 }), 400, &["percent", "101"]),
        ("/_sim/reclaim", json!({ "percent": 12.5 }), 400, &["percent"]),
        ("/_sim/reclaim", json!({ "count": -1 }), 400, &["count"]),
        ("/_sim/reclaim", json!({ "count": 1, "fleet": "web" }), 400, &["fleet"]),
        (
            "/_sim/reclaim",
            json!({ "zone": "mars-1", "count": 1 }),
            404,
            &["zone", "mars-1"],
        ),
        (
            "/_sim/reclaim",
            json!({ "instance_type": "GN7.2XLARGE32", "count": 1 }),
            404,
            &["instance_type", "GN7.2XLARGE32"],
        ),
        (
            "/_sim/reclaim",
            json!({ "zone": OTHER_ZONE, "instance_type": "C5.2XLARGE16", "count": 1 }),
            404,
            &["instance_type", "zone", OTHER_ZONE],
        ),
        (
            "/_sim/stock",
            json!({ "zone": ZONE, "instance_type": TYPE, "spot_stock": 1, "spot_capacity": 1 }),
            400,
            &["spot_stock", "spot_capacity"],
        ),
        (
            "/_sim/stock",
            json!({ "zone": ZONE, "instance_type": TYPE, "spot_capacity": -3 }),
            400,
            &["spot_capacity"],
        ),
        (
            "/_sim/stock",
            json!({ "zone": "mars-1", "instance_type": TYPE, "spot_capacity": 0 }),
            404,
            &["mars-1"],
        ),
    ];
    for (path, body, status, named) in cases {
        let (got, answer) = post(&sim, path, body.clone()).await;
        assert_eq!(got, status, "{path} {body}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        for word in named {
            assert!(error.contains(word), "{path} {body}: `{error}` does not name {word}");
        }
    }
    let refused = sim
        .reclaim_spot(None, None, Reclaim::Percent(150))
        .expect_err("refused");
    assert_eq!(refused.0.as_u16(), 400);
    assert_eq!(
        in_state(&client, &fleet, Pending).await,
        sorted(&fleet),
        "nothing was reclaimed"
    );
    assert_eq!(spot_stock(&sim), 498);
}

fn sorted(ids: &[String]) -> Vec<String> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids
}
