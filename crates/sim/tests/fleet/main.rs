//! A fleet of spot servers reclaimed and refilled: reclaims by capacity, count and percentage
//! through the control endpoint, and ClientTokens that keep answering what they bought. Driven
//! through the signed API with cvmbot's client, as the bot sees it.

mod reclaim;
mod tokens;

use cvmbot_sim::{Control, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, SimConfig, Simulator};
use cvmbot_tencent::cvm::{Placement, RunInstancesRequest, SystemDisk};
use cvmbot_tencent::enums::{ChargeType, DiskType, InstanceState};
use cvmbot_tencent::secret::Secret;
use cvmbot_tencent::{ClientSettings, Credentials, Endpoint, RetryPolicy, TencentClient};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// The region the fleet runs in.
pub const REGION: &str = "ap-guangzhou";
/// Its zone.
pub const ZONE: &str = "ap-guangzhou-3";
/// Another zone of it.
pub const OTHER_ZONE: &str = "ap-guangzhou-4";
/// A type sold as spot everywhere.
pub const TYPE: &str = "S5.MEDIUM4";
/// A public image.
pub const IMAGE: &str = "img-487zeit5";

/// A fixed seed and start, a clock that moves only when told, no rate limits, and a spot market
/// that holds still, so only the control endpoint reclaims.
pub fn config() -> SimConfig {
    let mut config = SimConfig {
        seed: Some(11),
        speed: 0.0,
        start_time: Some("2025-01-01T00:00:00Z".into()),
        ..SimConfig::default()
    };
    config.rate_limits.enabled = false;
    config.spot.volatility = Decimal::ZERO;
    config
}

/// A simulator on 127.0.0.1:0.
pub async fn start() -> Simulator {
    Simulator::start(config(), "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("the simulator starts")
}

/// cvmbot's client for the default account, retrying quickly, without a client-side limit.
pub fn client(sim: &Simulator) -> TencentClient {
    let settings = ClientSettings {
        endpoint: Endpoint::parse(sim.url()).expect("endpoint"),
        region: REGION.into(),
        language: "en-US".into(),
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        rate_limits: ["default", "RunInstances", "DescribeInstances", "TerminateInstances"]
            .iter()
            .map(|action| ((*action).to_owned(), 0))
            .collect::<HashMap<_, _>>(),
    };
    let credentials = Credentials {
        secret_id: DEFAULT_SECRET_ID.into(),
        secret_key: Secret::new(DEFAULT_SECRET_KEY),
        token: None,
    };
    TencentClient::new(settings, credentials).expect("client")
}

/// `count` spot instances of `instance_type` in `zone` at the market price, without public
/// bandwidth (they bill the market price and their disk).
pub fn spot_in(zone: &str, instance_type: &str, count: i64) -> RunInstancesRequest {
    RunInstancesRequest {
        instance_charge_type: Some(ChargeType::SpotPaid),
        placement: Some(Placement {
            zone: zone.into(),
            project_id: None,
        }),
        instance_type: Some(instance_type.into()),
        image_id: Some(IMAGE.into()),
        system_disk: Some(SystemDisk {
            disk_type: Some(DiskType::CloudPremium),
            disk_size: Some(50),
        }),
        instance_count: Some(count),
        ..RunInstancesRequest::default()
    }
}

/// `count` spot instances of [`TYPE`] in [`ZONE`].
pub fn spot(count: i64) -> RunInstancesRequest {
    spot_in(ZONE, TYPE, count)
}

/// Buys `request`; the InstanceIdSet.
pub async fn buy(client: &TencentClient, request: &RunInstancesRequest) -> Vec<String> {
    client
        .run_instances(REGION, request)
        .await
        .expect("bought")
        .data
        .instance_id_set
}

/// What DescribeInstances shows of `ids`: id → state (a vanished instance is absent).
pub async fn states(client: &TencentClient, ids: &[String]) -> BTreeMap<String, InstanceState> {
    client
        .describe_instances(REGION, ids)
        .await
        .expect("described")
        .into_iter()
        .map(|i| (i.instance_id, i.instance_state.expect("a state")))
        .collect()
}

/// The ids among `all` that DescribeInstances shows in `state`.
pub async fn in_state(client: &TencentClient, all: &[String], state: InstanceState) -> Vec<String> {
    states(client, all)
        .await
        .into_iter()
        .filter(|(_, s)| *s == state)
        .map(|(id, _)| id)
        .collect()
}

/// The spot stock left in [`ZONE`] × [`TYPE`].
pub fn spot_stock(control: &Control) -> u32 {
    control.stock(ZONE, TYPE).expect("a stock entry").spot
}

/// The default account's figure `field` of DescribeAccountBalance, fen.
pub fn fen(control: &Control, field: fn(&cvmbot_tencent::billing::DescribeAccountBalanceResponse) -> Decimal) -> i64 {
    let account = control.account(DEFAULT_SECRET_ID).expect("the default account");
    rust_decimal::prelude::ToPrimitive::to_i64(&field(&account)).expect("whole fen")
}

/// `POST path` of the control endpoint: the status and the JSON answer.
pub async fn post(sim: &Simulator, path: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// The ids in a `{"reclaimed": [...]}` answer.
pub fn reclaimed(answer: &Value) -> Vec<String> {
    answer["reclaimed"]
        .as_array()
        .unwrap_or_else(|| panic!("no reclaimed list in {answer}"))
        .iter()
        .map(|id| id.as_str().expect("an id").to_owned())
        .collect()
}
