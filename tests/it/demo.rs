//! `cvmbot demo`, the README's first command: its built-in story runs to the end and tells the
//! whole story. The binary is run as a user would, with no terminal and no stdin.

use std::process::{Command, Stdio};

fn demo_transcript(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
        .arg("demo")
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cvmbot demo starts");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("script written");
    }
    let output = child.wait_with_output().expect("cvmbot demo finishes");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "cvmbot demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn position(transcript: &str, needle: &str) -> usize {
    transcript
        .find(needle)
        .unwrap_or_else(|| panic!("the transcript should contain {needle:?}:\n{transcript}"))
}

#[test]
fn the_built_in_story_shows_request_refusals_approval_activation_ips_and_a_low_balance() {
    let transcript = demo_transcript(&[], None);
    let steps = [
        "┌ Request #1: 1 × S5.MEDIUM4 spot in ap-guangzhou-3",
        "CNY/h",
        "`count`: `500` is not a whole number from 1 to 100",
        "You can't approve or reject your own request",
        "Only approvers can vote",
        "Approved request #1",
        "was submitted to Tencent Cloud",
        "is RUNNING · private IP 10.",
        "has its public IP",
        "Rejected request #2",
        "Tencent Cloud balance:",
        "below 500.00 CNY",
    ];
    let mut last = 0;
    for step in steps {
        let at = position(&transcript, step);
        assert!(
            at >= last,
            "{step:?} should come after the previous step:\n{transcript}"
        );
        last = at;
    }
    assert!(
        !transcript.contains('\u{1b}'),
        "no colour codes when stdout is not a terminal"
    );
    assert!(
        !transcript.contains("Something went wrong"),
        "no internal error:\n{transcript}"
    );
}

#[test]
fn a_piped_script_is_played_instead_of_the_story() {
    let script =
        "/as bob\n/cvm buy payg zone:ap-guangzhou-3 type:S5.SMALL2 image:img-487zeit5\n/approve 1\n/cvm list all\n";
    let transcript = demo_transcript(&[], Some(script));
    position(&transcript, "Request #1: 1 × S5.SMALL2 pay-as-you-go");
    position(&transcript, "You can't approve or reject your own request");
    position(
        &transcript,
        "#1 1 × S5.SMALL2 pay-as-you-go in ap-guangzhou-3 by bob: pending approval",
    );
    assert!(
        !transcript.contains("load test of the new API"),
        "the story did not play:\n{transcript}"
    );
}
