//! The control endpoint over HTTP, and state that survives a restart.

use crate::support::sim::*;
use cvmbot::sim::{DEFAULT_SECRET_ID, Simulator};
use serde_json::{Value, json};

async fn post(sim: &Simulator, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.expect("JSON")
}

async fn get(sim: &Simulator, path: &str) -> Value {
    reqwest::get(format!("{}{path}", sim.url()))
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn the_control_endpoint_drives_the_simulator_over_http() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    let account = post(
        &sim,
        &format!("/_sim/accounts/{DEFAULT_SECRET_ID}"),
        json!({ "cash_fen": 123_456 }),
    )
    .await;
    assert_eq!(account["CashAccountBalance"], 123_456.0);
    post(
        &sim,
        "/_sim/stock",
        json!({ "zone": ZONE, "instance_type": TYPE, "stock": 7 }),
    )
    .await;
    post(
        &sim,
        "/_sim/spot-price",
        json!({ "zone": ZONE, "instance_type": TYPE, "price": "0.2" }),
    )
    .await;
    post(
        &sim,
        "/_sim/fail-next",
        json!({ "action": "RunInstances", "failure": { "code": "InternalError" }, "times": 1 }),
    )
    .await;
    let ids = client
        .run_instances(REGION, &postpaid())
        .await
        .expect("bought after a retry")
        .data
        .instance_id_set;
    let state = get(&sim, "/_sim/state").await;
    assert_eq!(state["stock"][format!("{ZONE}/{TYPE}")]["stock"], 6);
    assert_eq!(state["spot_prices"][format!("{ZONE}/{TYPE}")], "0.2");
    let advanced = post(&sim, "/_sim/advance", json!({ "seconds": 400 })).await;
    assert_eq!(advanced["sim_time"], "2025-01-01T00:06:40Z");
    let instances = get(&sim, "/_sim/instances").await;
    assert_eq!(instances[0]["instance_id"], ids[0]);
    assert_eq!(instances[0]["state"], "RUNNING");
    assert!(instances[0]["public_ip_visible"]["wall_ms"].is_i64());
    let log = get(&sim, "/_sim/requests").await;
    let responses: Vec<&str> = log
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["response"].as_str())
        .collect();
    assert_eq!(responses, ["InternalError", "ok"]);
    assert_eq!(log[1]["params"]["InstanceType"], TYPE);
    assert_eq!(log[1]["region"], REGION);
    let cleared = reqwest::Client::new()
        .delete(format!("{}/_sim/requests", sim.url()))
        .send()
        .await
        .expect("sent");
    assert!(cleared.status().is_success());
    assert_eq!(get(&sim, "/_sim/requests").await, json!([]));
    let missing = reqwest::get(format!("{}/_sim/accounts/AKIDnobody", sim.url()))
        .await
        .expect("sent");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn saved_state_brings_back_instances_money_and_tokens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sim-state.json");
    let request = cvmbot::tencent::cvm::RunInstancesRequest {
        client_token: Some("keep-me".into()),
        ..prepaid(1)
    };
    let sim = start(test_config()).await;
    let ids = client(&sim)
        .run_instances(REGION, &request)
        .await
        .expect("bought")
        .data
        .instance_id_set;
    let paid = cash(&sim);
    sim.save_state(&path).expect("saved");
    sim.shutdown().await;

    let again = Simulator::start_from(test_config(), "127.0.0.1:0".parse().expect("addr"), Some(&path))
        .await
        .expect("restarted");
    assert_eq!(cash(&again), paid);
    let again_ids = client(&again)
        .run_instances(REGION, &request)
        .await
        .expect("answered")
        .data
        .instance_id_set;
    assert_eq!(again_ids, ids, "the token is remembered across restarts");
    assert_eq!(again.instances().len(), 1);
}
