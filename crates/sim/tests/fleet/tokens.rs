//! RunInstances with a ClientToken it has seen: the same InstanceIdSet, nothing bought or
//! charged, whatever became of the instances and whatever stock and the market say now.

use super::*;
use cvmbot_sim::Reclaim;
use cvmbot_tencent::cvm::{InstanceMarketOptions, SpotMarketOptions};

fn with_token(token: &str, request: RunInstancesRequest) -> RunInstancesRequest {
    RunInstancesRequest {
        client_token: Some(token.into()),
        ..request
    }
}

fn bidding(max_price: Decimal, request: RunInstancesRequest) -> RunInstancesRequest {
    RunInstancesRequest {
        instance_market_options: Some(InstanceMarketOptions {
            market_type: Some("spot".into()),
            spot_options: SpotMarketOptions {
                max_price: max_price.to_string(),
                spot_instance_type: Some("one-time".into()),
            },
        }),
        ..request
    }
}

#[tokio::test]
async fn a_client_token_answers_its_instances_again_after_they_were_reclaimed_or_terminated() {
    let sim = start().await;
    let client = client(&sim);
    let spot_order = with_token("fleet-1", spot(3));
    let postpaid_order = with_token(
        "web-1",
        RunInstancesRequest {
            instance_charge_type: Some(ChargeType::PostpaidByHour),
            ..spot(1)
        },
    );
    let spot_ids = buy(&client, &spot_order).await;
    let postpaid_ids = buy(&client, &postpaid_order).await;
    sim.advance(Duration::from_secs(40));
    sim.reclaim_spot(None, None, Reclaim::Percent(100)).expect("reclaimed");
    client
        .terminate_instances(REGION, &postpaid_ids)
        .await
        .expect("terminated");
    sim.advance(Duration::from_secs(60));
    assert!(sim.instances().is_empty(), "all of them vanished");
    let (cash, stock) = (fen(&sim, |a| a.cash_account_balance), sim.stock(ZONE, TYPE));

    assert_eq!(buy(&client, &spot_order).await, spot_ids);
    assert_eq!(buy(&client, &postpaid_order).await, postpaid_ids);
    assert!(sim.instances().is_empty(), "nothing new was launched");
    assert!(states(&client, &spot_ids).await.is_empty());
    assert_eq!(fen(&sim, |a| a.cash_account_balance), cash);
    assert_eq!(sim.stock(ZONE, TYPE), stock);
}

#[tokio::test]
async fn a_client_token_answers_its_instances_even_when_stock_or_the_market_would_refuse_it_now() {
    let sim = start().await;
    let client = client(&sim);
    let market = sim.spot_price(ZONE, TYPE).expect("a market");
    let order = with_token("fleet-2", bidding(market, spot(2)));
    let ids = buy(&client, &order).await;
    sim.advance(Duration::from_secs(40));
    sim.set_spot_capacity(ZONE, TYPE, 2).expect("capacity set");
    let fresh = client
        .run_instances(REGION, &with_token("fleet-3", spot(2)))
        .await
        .expect_err("no stock for a new purchase");
    assert_eq!(fresh.code, "InvalidParameterValue.InsufficientOffering");
    let freeze = fen(&sim, |a| a.freeze_amount);

    assert_eq!(buy(&client, &order).await, ids, "out of stock, the token still answers");
    assert_eq!(spot_stock(&sim), 0);
    assert_eq!(fen(&sim, |a| a.freeze_amount), freeze, "nothing more is frozen");

    sim.set_spot_price(ZONE, TYPE, market + Decimal::new(1, 1))
        .expect("price set");
    let outbid = client
        .run_instances(REGION, &with_token("fleet-4", bidding(market, spot(1))))
        .await
        .expect_err("a bid below the market");
    assert_eq!(outbid.code, "InvalidParameterValue.InsufficientPrice");
    assert_eq!(
        buy(&client, &order).await,
        ids,
        "outbid and reclaimed, the token still answers"
    );
    assert_eq!(sim.instances().len(), 2, "only the two it bought, now terminating");
    assert!(
        sim.instances()
            .iter()
            .all(|i| i.state == "TERMINATING" && i.client_token.as_deref() == Some("fleet-2"))
    );
}
