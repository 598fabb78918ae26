//! Fidelity to the API spec seen on the wire: members a request may not carry, members an
//! answer must carry, and `HostName` as RunInstances documents it.

use crate::support::sim::*;
use serde_json::{Value, json};
use std::time::Duration;

async fn call(sim: &cvmbot::sim::Simulator, action: &str, body: &Value) -> Value {
    let text = body.to_string();
    Raw {
        action,
        body_signed: &text,
        body_sent: &text,
        timestamp: now(),
        ..Raw::describe_zones()
    }
    .send(sim)
    .await
}

fn purchase(extra: Value) -> Value {
    let mut body = json!({
        "InstanceChargeType": "POSTPAID_BY_HOUR",
        "Placement": {"Zone": ZONE},
        "InstanceType": TYPE,
        "ImageId": IMAGE,
    });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

#[tokio::test]
async fn a_member_the_spec_does_not_name_is_refused_and_nothing_is_bought() {
    let sim = start(test_config()).await;
    let cases = [
        (purchase(json!({"Datadisks": [{"DiskSize": 100}]})), "`Datadisks`"),
        (
            purchase(json!({"Placement": {"Zone": ZONE, "Zonee": ZONE}})),
            "`Placement.Zonee`",
        ),
        (
            purchase(json!({"DataDisks": [{"DiskSize": 100}, {"DiskSise": 100}]})),
            "`DataDisks.1.DiskSise`",
        ),
    ];
    for (body, named) in cases {
        let answer = call(&sim, "RunInstances", &body).await;
        assert_eq!(code(&answer), "UnknownParameter", "{body}");
        let message = answer["Error"]["Message"].as_str().unwrap_or_default();
        assert!(message.contains(named), "{message}");
    }
    assert!(sim.instances().is_empty(), "nothing was bought");
    let answer = call(&sim, "DescribeInstances", &json!({"InstanceId": ["ins-12345678"]})).await;
    assert_eq!(code(&answer), "UnknownParameter");
    let known = purchase(json!({"DataDisks": [{"DiskSize": 100, "DeleteWithInstance": true}]}));
    assert_eq!(code(&call(&sim, "RunInstances", &known).await), "ok");
}

#[tokio::test]
async fn run_instances_keeps_the_host_name_and_refuses_an_illegal_one() {
    let sim = start(test_config()).await;
    let bought = call(
        &sim,
        "RunInstances",
        &purchase(json!({"HostName": "web-{R:1}", "InstanceCount": 2})),
    )
    .await;
    assert_eq!(code(&bought), "ok", "{bought}");
    let plain = call(&sim, "RunInstances", &purchase(json!({}))).await;
    assert_eq!(code(&plain), "ok");
    sim.advance(Duration::from_secs(60));
    let seen = call(&sim, "DescribeInstances", &json!({})).await;
    let names: Vec<&str> = seen["InstanceSet"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i["HostName"].as_str().expect("HostName is a string"))
        .collect();
    assert_eq!(names[..2], ["web-1", "web-2"]);
    assert!(names[2].starts_with("VM-"), "CVM names one itself: {}", names[2]);

    for bad in ["-web", "web..1", "under_score", "x"] {
        let refused = call(&sim, "RunInstances", &purchase(json!({"HostName": bad}))).await;
        assert_eq!(code(&refused), "InvalidParameterValue.IllegalHostName", "{bad}");
    }
    assert_eq!(sim.instances().len(), 3, "the refused purchases bought nothing");
}

#[tokio::test]
async fn describe_answers_carry_every_member_the_spec_requires() {
    let sim = start(test_config()).await;
    let body = purchase(json!({"DataDisks": [{"DiskSize": 100}]}));
    assert_eq!(code(&call(&sim, "RunInstances", &body).await), "ok");
    let seen = call(&sim, "DescribeInstances", &json!({})).await;
    let instance = &seen["InstanceSet"][0];
    for member in [
        "HostName",
        "CamRoleName",
        "DedicatedClusterId",
        "DisasterRecoverGroupId",
        "HpcClusterId",
        "IsolatedSource",
        "ExpiredTime",
        "RenewFlag",
    ] {
        assert!(instance[member].is_string(), "{member}: {}", instance[member]);
    }
    for member in ["DisasterRecoverGroupIds", "RdmaIpAddresses"] {
        assert!(instance[member].is_array(), "{member}");
    }
    assert_eq!(instance["SystemDisk"]["Encrypt"], false);
    assert_eq!(instance["SystemDisk"]["KmsKeyId"], "");
    assert_eq!(instance["DataDisks"][0]["Encrypt"], false);

    let images = call(&sim, "DescribeImages", &json!({})).await;
    let image = &images["ImageSet"][0];
    assert!(image["ImageDescription"].is_string(), "{image}");
    assert_eq!(image["SyncPercent"], 100);
}

/// Our client for the default account, asking for messages in `language`, sending once.
fn client_in(sim: &cvmbot::sim::Simulator, language: &str) -> cvmbot::tencent::TencentClient {
    use cvmbot::secret::Secret;
    use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};
    use cvmbot::tencent::{ClientSettings, Credentials, Endpoint, RetryPolicy};
    let settings = ClientSettings {
        endpoint: Endpoint::parse(sim.url()).expect("endpoint"),
        region: REGION.into(),
        language: language.into(),
        timeout: Duration::from_secs(30),
        connect_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        rate_limits: [("default".to_owned(), 0)].into_iter().collect(),
    };
    let credentials = Credentials {
        secret_id: DEFAULT_SECRET_ID.into(),
        secret_key: Secret::new(DEFAULT_SECRET_KEY),
        token: None,
    };
    cvmbot::tencent::TencentClient::new(settings, credentials).expect("client")
}

#[tokio::test]
async fn error_messages_come_in_the_language_asked_for() {
    let sim = start(test_config()).await;
    let unknown = ["ins-zzzzzzzz".to_owned()];
    let english = client_in(&sim, "en-US")
        .terminate_instances(REGION, &unknown)
        .await
        .expect_err("no such instance");
    assert_eq!(english.message, "The instance `ins-zzzzzzzz` does not exist.");
    let chinese = client_in(&sim, "zh-CN")
        .terminate_instances(REGION, &unknown)
        .await
        .expect_err("no such instance");
    assert_eq!(chinese.code, "InvalidInstanceId.NotFound");
    assert_eq!(chinese.message, "没有找到相应实例。（`ins-zzzzzzzz`）");
    let refused = client_in(&sim, "fr-FR")
        .describe_zones(REGION)
        .await
        .expect_err("no such language");
    assert_eq!(refused.code, "InvalidParameterValue");
    assert!(refused.message.contains("X-TC-Language"), "{}", refused.message);
}

#[tokio::test]
async fn disks_keep_their_encryption_and_resources_the_simulator_lacks_are_refused() {
    let sim = start(test_config()).await;
    let encrypted = purchase(json!({
        "SystemDisk": {"DiskType": "CLOUD_PREMIUM", "DiskSize": 50, "Encrypt": true},
        "DataDisks": [
            {"DiskSize": 100, "Encrypt": true, "KmsKeyId": "kms-abcd1234"},
            {"DiskSize": 100},
        ],
    }));
    assert_eq!(code(&call(&sim, "RunInstances", &encrypted).await), "ok");
    let seen = call(&sim, "DescribeInstances", &json!({})).await;
    let instance = &seen["InstanceSet"][0];
    assert_eq!(instance["SystemDisk"]["Encrypt"], true);
    assert_eq!(instance["DataDisks"][0]["Encrypt"], true);
    assert_eq!(instance["DataDisks"][0]["KmsKeyId"], "kms-abcd1234");
    assert_eq!(instance["DataDisks"][1]["Encrypt"], false);
    assert_eq!(instance["DataDisks"][1]["KmsKeyId"], Value::Null);

    // InquiryPriceRunInstances has no CamRoleName, placement groups or dedicated clusters in
    // its spec: there they are unknown parameters.
    let unknown = "UnknownParameter";
    let refused = [
        (
            json!({"CamRoleName": "admin"}),
            "AuthFailure.CamRoleNameAuthenticateFailed",
            unknown,
        ),
        (
            json!({"CamRoleName": "bad role"}),
            "InvalidParameterValue.CamRoleNameMalformed",
            unknown,
        ),
        (
            json!({"DisasterRecoverGroupIds": ["ps-12345678"]}),
            "FailedOperation.DisasterRecoverGroupNotFound",
            unknown,
        ),
        (
            json!({"DedicatedClusterId": "cluster-1234"}),
            "InvalidParameterValue",
            unknown,
        ),
        (
            json!({"HpcClusterId": "hpc-12345678"}),
            "ResourceNotFound.HpcCluster",
            "ResourceNotFound.HpcCluster",
        ),
        (
            json!({"LaunchTemplate": {"LaunchTemplateId": "lt-12345678"}}),
            "InvalidParameterValue.LaunchTemplateNotFound",
            "InvalidParameterValue.LaunchTemplateNotFound",
        ),
    ];
    for (extra, run, quote) in refused {
        for (action, expected) in [("RunInstances", run), ("InquiryPriceRunInstances", quote)] {
            let answer = call(&sim, action, &purchase(extra.clone())).await;
            assert_eq!(code(&answer), expected, "{action} {extra}");
        }
    }
    assert_eq!(sim.instances().len(), 1);
}
