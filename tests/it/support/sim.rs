//! Helpers for tests against the Tencent Cloud simulator: a deterministic simulator on port 0,
//! our client pointed at it, raw signed requests, and common purchase requests.

#![allow(dead_code)]

use cvmbot::secret::Secret;
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, SimConfig, Simulator};
use cvmbot::tencent::cvm::{InstanceChargePrepaid, InternetAccessible, Placement, RunInstancesRequest, SystemDisk};
use cvmbot::tencent::enums::{ChargeType, DiskType, InternetChargeType};
use cvmbot::tencent::sign::{SigningRequest, sign_post};
use cvmbot::tencent::{ClientSettings, Credentials, Endpoint, RetryPolicy, TencentClient};
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The region the tests buy in.
pub const REGION: &str = "ap-guangzhou";
/// A zone of it.
pub const ZONE: &str = "ap-guangzhou-3";
/// A small type sold everywhere.
pub const TYPE: &str = "S5.MEDIUM4";
/// A public image.
pub const IMAGE: &str = "img-487zeit5";

/// The default catalogue with a fixed seed, a fixed start, a clock that moves only when told and
/// no rate limits (the rate-limit test turns them on).
pub fn test_config() -> SimConfig {
    let mut config = SimConfig {
        seed: Some(7),
        speed: 0.0,
        start_time: Some("2025-01-01T00:00:00Z".into()),
        ..SimConfig::default()
    };
    config.rate_limits.enabled = false;
    config
}

/// A simulator on 127.0.0.1:0.
pub async fn start(config: SimConfig) -> Simulator {
    Simulator::start(config, "127.0.0.1:0".parse().expect("address"))
        .await
        .expect("the simulator starts")
}

/// Our client for the default account, retrying quickly, with no client-side rate limit.
pub fn client(sim: &Simulator) -> TencentClient {
    client_with(sim, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, 4)
}

/// Our client with given credentials and attempts.
pub fn client_with(sim: &Simulator, secret_id: &str, secret_key: &str, attempts: u32) -> TencentClient {
    let unlimited: HashMap<String, u32> = [
        "default",
        "RunInstances",
        "InquiryPriceRunInstances",
        "DescribeInstances",
        "DescribeAccountBalance",
    ]
    .iter()
    .map(|a| ((*a).to_owned(), 0))
    .collect();
    let settings = ClientSettings {
        endpoint: Endpoint::parse(sim.url()).expect("endpoint"),
        region: REGION.into(),
        language: "en-US".into(),
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        rate_limits: unlimited,
    };
    let credentials = Credentials {
        secret_id: secret_id.into(),
        secret_key: Secret::new(secret_key),
        token: None,
    };
    TencentClient::new(settings, credentials).expect("client")
}

/// A pay-as-you-go purchase of one small instance with 10 Mbps of hourly bandwidth.
pub fn postpaid() -> RunInstancesRequest {
    RunInstancesRequest {
        instance_charge_type: Some(ChargeType::PostpaidByHour),
        placement: Some(Placement {
            zone: ZONE.into(),
            project_id: None,
        }),
        instance_type: Some(TYPE.into()),
        image_id: Some(IMAGE.into()),
        system_disk: Some(SystemDisk {
            disk_type: Some(DiskType::CloudPremium),
            disk_size: Some(50),
        }),
        internet_accessible: Some(InternetAccessible {
            internet_charge_type: Some(InternetChargeType::BandwidthPostpaidByHour),
            internet_max_bandwidth_out: Some(10),
            public_ip_assigned: Some(true),
        }),
        instance_count: Some(1),
        ..RunInstancesRequest::default()
    }
}

/// The same without public bandwidth (bills only the instance and its disk).
pub fn postpaid_private() -> RunInstancesRequest {
    RunInstancesRequest {
        internet_accessible: None,
        ..postpaid()
    }
}

/// A prepaid purchase for `months`.
pub fn prepaid(months: i64) -> RunInstancesRequest {
    RunInstancesRequest {
        instance_charge_type: Some(ChargeType::Prepaid),
        instance_charge_prepaid: Some(InstanceChargePrepaid {
            period: months,
            renew_flag: None,
        }),
        internet_accessible: Some(InternetAccessible {
            internet_charge_type: Some(InternetChargeType::BandwidthPrepaid),
            internet_max_bandwidth_out: Some(5),
            public_ip_assigned: Some(true),
        }),
        ..postpaid()
    }
}

/// A spot purchase bidding `max_price` (none: the market price).
pub fn spot(max_price: Option<&str>) -> RunInstancesRequest {
    RunInstancesRequest {
        instance_charge_type: Some(ChargeType::SpotPaid),
        instance_market_options: max_price.map(|price| cvmbot::tencent::cvm::InstanceMarketOptions {
            market_type: Some("spot".into()),
            spot_options: cvmbot::tencent::cvm::SpotMarketOptions {
                max_price: price.into(),
                spot_instance_type: Some("one-time".into()),
            },
        }),
        ..postpaid()
    }
}

/// The cash of the default account, fen.
pub fn cash(sim: &Simulator) -> i64 {
    let account = sim.account(DEFAULT_SECRET_ID).expect("the default account");
    rust_decimal::prelude::ToPrimitive::to_i64(&account.cash_account_balance).expect("fen")
}

/// A raw API call, signed with `key` over `signed` headers (names; `host` and `content-type`
/// are always sent), at `timestamp`; `body_sent` may differ from the body signed.
pub struct Raw<'a> {
    pub action: &'a str,
    pub version: &'a str,
    pub region: Option<&'a str>,
    pub secret_id: &'a str,
    pub secret_key: &'a str,
    pub signed: &'a [&'a str],
    pub timestamp: i64,
    pub body_signed: &'a str,
    pub body_sent: &'a str,
    pub service: &'a str,
}

impl Raw<'_> {
    /// A correctly signed DescribeZones by the default account.
    pub fn describe_zones() -> Raw<'static> {
        Raw {
            action: "DescribeZones",
            version: "2017-03-12",
            region: Some(REGION),
            secret_id: DEFAULT_SECRET_ID,
            secret_key: DEFAULT_SECRET_KEY,
            signed: &["content-type", "host"],
            timestamp: now(),
            body_signed: "{}",
            body_sent: "{}",
            service: "cvm",
        }
    }

    /// Sends it; returns the `Response` object.
    pub async fn send(&self, sim: &Simulator) -> Value {
        let host = sim.url().trim_start_matches("http://").to_owned();
        let all = [
            ("content-type", "application/json".to_owned()),
            ("host", host.clone()),
            ("x-tc-action", self.action.to_owned()),
        ];
        let signed: Vec<(&str, &str)> = all
            .iter()
            .filter(|(name, _)| self.signed.contains(name))
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let signature = sign_post(
            self.secret_id,
            self.secret_key,
            SigningRequest {
                service: self.service,
                headers: &signed,
                timestamp: self.timestamp,
                payload: self.body_signed.as_bytes(),
            },
        );
        let mut request = reqwest::Client::new()
            .post(format!("{}/", sim.url()))
            .header("Content-Type", "application/json")
            .header("Authorization", signature.authorization)
            .header("X-TC-Action", self.action)
            .header("X-TC-Version", self.version)
            .header("X-TC-Timestamp", self.timestamp.to_string())
            .body(self.body_sent.to_owned());
        if let Some(region) = self.region {
            request = request.header("X-TC-Region", region);
        }
        let answer: Value = request.send().await.expect("sent").json().await.expect("JSON");
        answer["Response"].clone()
    }
}

/// The wall clock, Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// The error code of a `Response`, or `ok`.
pub fn code(response: &Value) -> String {
    response["Error"]["Code"].as_str().unwrap_or("ok").to_owned()
}
