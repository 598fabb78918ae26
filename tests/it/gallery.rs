//! The README's gallery is what `cvmbot gallery` draws: the committed PNGs are the command's
//! output byte for byte (a fortnight on the simulator, the same every time).

use std::process::Command;

#[test]
fn the_committed_gallery_is_what_the_gallery_command_draws() {
    let dir = tempfile::tempdir().expect("a directory");
    let output = Command::new(env!("CARGO_BIN_EXE_cvmbot"))
        .arg("gallery")
        .arg(dir.path())
        .output()
        .expect("cvmbot runs");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("by tag") && said.contains("runs out on"), "{said}");
    for chart in ["spend.png", "runway.png"] {
        let drawn = std::fs::read(dir.path().join(chart)).expect("drawn");
        let committed =
            std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/gallery/").to_owned() + chart).expect("committed");
        assert!(
            drawn == committed,
            "docs/gallery/{chart} is not what the command draws now: run `cargo run -- gallery` and commit it"
        );
    }
}
