//! Our Tencent Cloud client against local HTTP servers on 127.0.0.1 (the simulator, and a bare
//! server for transport failures): timeouts, error classes, retries, the client-side rate limit.

use crate::support::sim::{REGION, client, client_with, start, test_config};
use cvmbot::sim::Failure;
use cvmbot::tencent::cvm::RunInstancesRequest;
use cvmbot::tencent::{ClientSettings, Credentials, Endpoint, ErrorKind, RetryPolicy, TencentClient};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn settings(url: &str, timeout: Duration, attempts: u32, limits: HashMap<String, u32>) -> ClientSettings {
    ClientSettings {
        endpoint: Endpoint::parse(url).expect("endpoint"),
        region: REGION.into(),
        language: "en-US".into(),
        timeout,
        connect_timeout: Duration::from_secs(2),
        retry: RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        rate_limits: limits,
    }
}

fn credentials() -> Credentials {
    Credentials {
        secret_id: cvmbot::sim::DEFAULT_SECRET_ID.into(),
        secret_key: cvmbot::secret::Secret::new(cvmbot::sim::DEFAULT_SECRET_KEY),
        token: None,
    }
}

fn calls(sim: &cvmbot::sim::Simulator, action: &str) -> Vec<cvmbot::sim::LoggedRequest> {
    sim.requests().into_iter().filter(|r| r.action == action).collect()
}

#[tokio::test]
async fn a_call_that_times_out_is_retried_and_then_reported_as_a_timeout() {
    let sim = start(test_config()).await;
    let mut faults = cvmbot::sim::config::FaultConfig::default();
    faults.actions.insert(
        "DescribeZones".into(),
        cvmbot::sim::config::FaultRates {
            latency_ms: 3_000,
            ..Default::default()
        },
    );
    sim.set_faults(faults);
    let client = TencentClient::new(
        settings(sim.url(), Duration::from_millis(300), 2, HashMap::new()),
        credentials(),
    )
    .expect("client");
    let error = client.describe_zones(REGION).await.expect_err("too slow");
    assert_eq!(error.kind, ErrorKind::Timeout);
    assert_eq!(error.code, "ClientTimeout");
    assert!(
        error.explain().contains("did not answer in time"),
        "{}",
        error.explain()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(calls(&sim, "DescribeZones").len(), 2, "tried twice, then gave up");
}

#[tokio::test]
async fn each_error_class_arrives_typed_explained_and_retried_only_when_transient() {
    let sim = start(test_config()).await;
    let client = client_with(&sim, cvmbot::sim::DEFAULT_SECRET_ID, cvmbot::sim::DEFAULT_SECRET_KEY, 3);
    let table = [
        (
            "InvalidAccount.InsufficientBalance",
            ErrorKind::InsufficientBalance,
            1,
            "balance is too low",
        ),
        (
            "ResourceInsufficient.SpecifiedInstanceType",
            ErrorKind::OutOfStock,
            1,
            "no stock",
        ),
        (
            "InvalidParameterValue.InsufficientPrice",
            ErrorKind::SpotPriceTooLow,
            1,
            "below the current market price",
        ),
        ("LimitExceeded.InstanceQuota", ErrorKind::Quota, 1, "quota"),
        (
            "InvalidZone.MismatchRegion",
            ErrorKind::InvalidParameter,
            1,
            "does not belong to the region",
        ),
        (
            "AuthFailure.UnauthorizedOperation",
            ErrorKind::Auth,
            1,
            "CAM permission",
        ),
        ("InternalError", ErrorKind::ServerError, 3, "internal error"),
        ("RequestLimitExceeded", ErrorKind::RateLimited, 3, "limiting how fast"),
    ];
    for (code, kind, attempts, words) in table {
        sim.clear_requests();
        sim.fail_next("DescribeZones", Failure::code(code), attempts);
        let error = client.describe_zones(REGION).await.expect_err(code);
        assert_eq!((error.code.as_str(), error.kind), (code, kind));
        assert!(error.request_id.is_some(), "{code}: Tencent's RequestId is kept");
        assert!(error.explain().contains(words), "{code}: {}", error.explain());
        assert_eq!(calls(&sim, "DescribeZones").len(), attempts as usize, "{code}");
    }
}

#[tokio::test]
async fn a_retried_run_instances_sends_the_same_client_token_every_time() {
    let sim = start(test_config()).await;
    let client = client(&sim);
    sim.fail_next("RunInstances", Failure::code("InternalError"), 2);
    let request = RunInstancesRequest {
        client_token: Some("cvmbot-test-token".into()),
        ..crate::support::sim::spot(Some("0.9"))
    };
    let answer = client.run_instances(REGION, &request).await.expect("third time lucky");
    assert_eq!(answer.data.instance_id_set.len(), 1);
    let tokens: Vec<Option<String>> = calls(&sim, "RunInstances")
        .into_iter()
        .map(|r| r.client_token)
        .collect();
    assert_eq!(tokens, vec![Some("cvmbot-test-token".into()); 3]);
}

#[tokio::test]
async fn the_client_stays_under_the_rate_limit_of_each_action() {
    let sim = start(test_config()).await;
    let limits = HashMap::from([("DescribeZones".to_owned(), 4)]);
    let client =
        TencentClient::new(settings(sim.url(), Duration::from_secs(10), 1, limits), credentials()).expect("client");
    let all = (0..10).map(|_| client.describe_zones(REGION));
    for result in futures_util::future::join_all(all).await {
        result.expect("every call succeeds");
    }
    let mut times: Vec<i64> = calls(&sim, "DescribeZones").iter().map(|r| r.wall_ms).collect();
    times.sort();
    assert_eq!(times.len(), 10);
    for window in times.windows(5) {
        assert!(window[4] - window[0] >= 1000, "five calls within one second: {times:?}");
    }
}

/// A bare HTTP server answering every request with `status` and `body`.
async fn bare_server(status: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 65536];
            let _ = socket.read(&mut buffer).await;
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn transport_failures_are_typed_too() {
    let unavailable = bare_server("503 Service Unavailable", "<html>busy</html>").await;
    let client = TencentClient::new(
        settings(&unavailable, Duration::from_secs(5), 2, HashMap::new()),
        credentials(),
    )
    .expect("client");
    let error = client.describe_zones(REGION).await.expect_err("503");
    assert_eq!(
        (error.code.as_str(), error.kind),
        ("ServerNetworkError", ErrorKind::ServerError)
    );

    let garbage = bare_server("200 OK", "<html>not json</html>").await;
    let client = TencentClient::new(
        settings(&garbage, Duration::from_secs(5), 2, HashMap::new()),
        credentials(),
    )
    .expect("client");
    let error = client.describe_zones(REGION).await.expect_err("not json");
    assert_eq!(error.code, "ClientParseError");

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address");
        drop(listener);
        format!("http://{address}")
    };
    let client = TencentClient::new(
        settings(&closed, Duration::from_secs(5), 2, HashMap::new()),
        credentials(),
    )
    .expect("client");
    let error = client.describe_zones(REGION).await.expect_err("refused");
    assert_eq!(
        (error.code.as_str(), error.kind),
        ("ClientNetworkError", ErrorKind::Network)
    );
}
