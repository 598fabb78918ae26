//! Authentication as Tencent does it, and the envelope's common errors.

use crate::support::sim::*;
use cvmbot::sim::DEFAULT_SECRET_ID;

#[tokio::test]
async fn a_correct_signature_over_either_signed_header_set_is_accepted() {
    let sim = start(test_config()).await;
    let plain = Raw::describe_zones().send(&sim).await;
    assert_eq!(code(&plain), "ok");
    assert_eq!(plain["TotalCount"], 4);
    let with_action = Raw {
        signed: &["content-type", "host", "x-tc-action"],
        ..Raw::describe_zones()
    };
    assert_eq!(code(&with_action.send(&sim).await), "ok");
    assert!(sim.requests().iter().all(|r| r.signature == "ok"));
}

#[tokio::test]
async fn bad_credentials_get_the_documented_auth_failures() {
    let sim = start(test_config()).await;
    let cases = [
        (
            Raw {
                secret_key: "not-the-key",
                ..Raw::describe_zones()
            },
            "AuthFailure.SignatureFailure",
        ),
        (
            Raw {
                secret_id: "AKIDnobodyHasThisKey000000000000000",
                ..Raw::describe_zones()
            },
            "AuthFailure.SecretIdNotFound",
        ),
        (
            Raw {
                secret_id: "someone",
                ..Raw::describe_zones()
            },
            "AuthFailure.InvalidSecretId",
        ),
        (
            Raw {
                timestamp: now() - 301,
                ..Raw::describe_zones()
            },
            "AuthFailure.SignatureExpire",
        ),
        (
            Raw {
                timestamp: now() + 600,
                ..Raw::describe_zones()
            },
            "AuthFailure.SignatureExpire",
        ),
        (
            Raw {
                body_sent: r#"{"Limit":1}"#,
                ..Raw::describe_zones()
            },
            "AuthFailure.SignatureFailure",
        ),
        (
            Raw {
                service: "billing",
                ..Raw::describe_zones()
            },
            "AuthFailure.SignatureFailure",
        ),
        (
            Raw {
                signed: &["host"],
                ..Raw::describe_zones()
            },
            "AuthFailure.InvalidAuthorization",
        ),
    ];
    for (raw, expected) in cases {
        let response = raw.send(&sim).await;
        assert_eq!(code(&response), expected, "{response}");
        assert!(response["RequestId"].as_str().is_some_and(|id| id.len() == 36));
    }
    let verdicts: Vec<String> = sim.requests().into_iter().map(|r| r.signature).collect();
    assert_eq!(verdicts[0], "AuthFailure.SignatureFailure");
    assert_eq!(sim.requests()[0].secret_id.as_deref(), Some(DEFAULT_SECRET_ID));
}

#[tokio::test]
async fn our_client_with_a_wrong_key_is_refused_and_not_retried() {
    let sim = start(test_config()).await;
    let client = client_with(&sim, DEFAULT_SECRET_ID, "wrong", 4);
    let error = client.describe_zones(REGION).await.expect_err("refused");
    assert_eq!(error.code, "AuthFailure.SignatureFailure");
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test]
async fn action_version_and_region_are_checked_before_anything_runs() {
    let sim = start(test_config()).await;
    let cases = [
        (
            Raw {
                action: "FlyToTheMoon",
                ..Raw::describe_zones()
            },
            "InvalidAction",
        ),
        (
            Raw {
                version: "2099-01-01",
                ..Raw::describe_zones()
            },
            "NoSuchVersion",
        ),
        (
            Raw {
                region: None,
                ..Raw::describe_zones()
            },
            "MissingParameter",
        ),
        (
            Raw {
                region: Some("ap-atlantis"),
                ..Raw::describe_zones()
            },
            "InvalidParameterValue",
        ),
        (
            Raw {
                action: "DescribeAccountBalance",
                version: "2018-07-09",
                service: "billing",
                region: None,
                ..Raw::describe_zones()
            },
            "ok",
        ),
    ];
    for (raw, expected) in cases {
        assert_eq!(code(&raw.send(&sim).await), expected);
    }
}

#[tokio::test]
async fn a_request_without_authorization_is_refused_as_invalid_authorization() {
    let sim = start(test_config()).await;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/", sim.url()))
        .header("Content-Type", "application/json")
        .header("X-TC-Action", "DescribeZones")
        .header("X-TC-Version", "2017-03-12")
        .header("X-TC-Region", REGION)
        .header("X-TC-Timestamp", now().to_string())
        .body("{}")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("JSON");
    assert_eq!(code(&answer["Response"]), "AuthFailure.InvalidAuthorization");
}

#[tokio::test]
async fn temporary_credentials_need_their_token() {
    let mut config = test_config();
    config.accounts[0].token = Some("session-token".into());
    let sim = start(config).await;
    let refused = client(&sim).describe_zones(REGION).await.expect_err("no token");
    assert_eq!(refused.code, "AuthFailure.TokenFailure");
    let settings_client = {
        let base = client(&sim);
        let credentials = cvmbot::tencent::Credentials {
            secret_id: DEFAULT_SECRET_ID.into(),
            secret_key: cvmbot::secret::Secret::new(cvmbot::sim::DEFAULT_SECRET_KEY),
            token: Some(cvmbot::secret::Secret::new("session-token")),
        };
        let settings = cvmbot::tencent::ClientSettings {
            endpoint: base.endpoint().clone(),
            region: REGION.into(),
            language: "en-US".into(),
            timeout: std::time::Duration::from_secs(10),
            connect_timeout: std::time::Duration::from_secs(5),
            retry: cvmbot::tencent::RetryPolicy::default(),
            rate_limits: Default::default(),
        };
        cvmbot::tencent::TencentClient::new(settings, credentials).expect("client")
    };
    settings_client
        .describe_zones(REGION)
        .await
        .expect("the token is accepted");
}
