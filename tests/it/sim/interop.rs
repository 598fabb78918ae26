//! The official Python SDK (tencentcloud-sdk-python) against the simulator.

use crate::support::sim::*;
use cvmbot::sim::{DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY};
use std::path::Path;
use std::process::Command;

fn sdk_importable() -> Result<(), String> {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import tencentcloud.cvm.v20170312, tencentcloud.billing.v20180709",
        ])
        .output()
        .map_err(|e| format!("python3 cannot be run: {e}"))?;
    if probe.status.success() {
        Ok(())
    } else {
        Err(format!(
            "tencentcloud-sdk-python is not installed (pip install -r tests/interop/requirements.txt): {}",
            String::from_utf8_lossy(&probe.stderr).trim()
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_drives_the_simulator() {
    if let Err(why) = sdk_importable() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the SDK interop test cannot be skipped in CI: {why}");
        }
        eprintln!("SKIPPED the_official_python_sdk_drives_the_simulator: {why}");
        return;
    }
    let mut config = test_config();
    config.speed = 0.0;
    let sim = start(config).await;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/sdk_interop.py");
    let url = sim.url().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .args([&url, DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY])
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the SDK script failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("ALL OK"), "{stdout}");
    let requests = sim.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.action == "RunInstances" && r.response == "UnknownParameter"),
        "the misspelt member was refused on the wire"
    );
    let actions: Vec<String> = requests.into_iter().map(|r| r.action).collect();
    for action in [
        "RunInstances",
        "DescribeInstances",
        "InquiryPriceRunInstances",
        "DescribeAccountBalance",
        "TerminateInstances",
        "InquiryPriceTerminateInstances",
        "InquiryPriceRenewInstances",
        "RenewInstances",
        "ModifyInstancesRenewFlag",
        "DescribeBillDetail",
        "DescribeBillResourceSummary",
        "DescribeCostSummaryByResource",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} was not called: {actions:?}"
        );
    }
}

/// The README's Python example, pointed at `address` (host:port) instead of 127.0.0.1:8080.
fn readme_python_example(address: &str) -> String {
    let readme = include_str!("../../../README.md");
    let intro = readme
        .find("The official Python SDK drives it unchanged")
        .expect("the README's SDK example");
    let start = intro + readme[intro..].find("```python\n").expect("its code block") + "```python\n".len();
    let end = start + readme[start..].find("```").expect("the block's end");
    let example = &readme[start..end];
    assert!(example.contains("127.0.0.1:8080"), "the example's address: {example}");
    example.replace("127.0.0.1:8080", address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_python_example_runs_as_written_against_the_simulator() {
    if let Err(why) = sdk_importable() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("the README example test cannot be skipped in CI: {why}");
        }
        eprintln!("SKIPPED the_readme_python_example_runs_as_written_against_the_simulator: {why}");
        return;
    }
    let sim = start(test_config()).await;
    let example = readme_python_example(sim.url().trim_start_matches("http://"));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .args(["-c", &example])
            .output()
            .expect("python3 runs")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the README example failed:\n{stdout}\n{stderr}"
    );
    let answer: serde_json::Value = serde_json::from_str(&stdout).expect("DescribeZones as JSON");
    let zones: Vec<&str> = answer["ZoneSet"]
        .as_array()
        .expect("a ZoneSet")
        .iter()
        .filter_map(|z| z["Zone"].as_str())
        .collect();
    assert!(zones.contains(&ZONE), "{zones:?}");
}
