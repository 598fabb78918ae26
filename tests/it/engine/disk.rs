//! A full disk under SQLite: filing fails with a plain error and changes nothing, and once space
//! is back everything carries on by itself, without a restart.

use crate::support::app::{Backend, alice, bob, config, payg_form, spawn_app};
use cvmbot::app::App;
use cvmbot::chat::RecordingNotifier;
use cvmbot::chat::notifier::Recorded;
use cvmbot::chat::render::TimeStyle;
use cvmbot::clock::Clock;
use cvmbot::desk::{Ballot, Origin};
use cvmbot::store::ListFilter;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A tiny tmpfs of its own, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts one, or says why it can't (no privilege to mount here).
    fn mount(size: &str) -> Result<SmallDisk, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| e.to_string())?;
        if !mounted.status.success() {
            return Err(String::from_utf8_lossy(&mounted.stderr).trim().to_owned());
        }
        Ok(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills what is left with a file; returns it.
    fn fill(&self) -> PathBuf {
        let filler = self.path().join("filler");
        let mut file = std::fs::File::create(&filler).expect("a filler file");
        let block = vec![0u8; 4096];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Texts posted in the alert channel (2 in the test settings).
fn alerts(notifier: &RecordingNotifier) -> Vec<String> {
    notifier
        .recorded()
        .into_iter()
        .filter_map(|r| match r {
            Recorded::Post { channel, message, .. } if channel == 2 => message.text,
            _ => None,
        })
        .collect()
}

async fn eventually(what: &str, check: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_the_disk_fills_and_frees_sqlite_carries_on_without_a_restart() {
    let disk = match SmallDisk::mount("8m") {
        Ok(disk) => disk,
        Err(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI must be able to mount a tmpfs: {why}"
            );
            eprintln!("SKIPPED (full disk): cannot mount a tmpfs here: {why}");
            return;
        }
    };
    let Some(test) = spawn_app(Backend::Sqlite, "").await else {
        return;
    };
    let url = format!("sqlite://{}", disk.path().join("cvmbot.db").display());
    let quick = "[submitter]\npoll_interval = \"200ms\"\n[workers]\nlease = \"3s\"\n";
    let app = App::build(config(test.sim.url(), &url, quick), Clock::System)
        .await
        .expect("the app builds on the small disk");
    let notifier = Arc::new(RecordingNotifier::default());
    let workers = app.start(notifier.clone(), TimeStyle::Utc).await;
    let waiting = app
        .desk
        .create(&alice(), &payg_form(), Origin::default())
        .await
        .expect("filed while there is room")
        .record
        .id;

    let filler = disk.fill();
    let mut refused = 0;
    for _ in 0..20 {
        if let Err(error) = app.desk.create(&alice(), &payg_form(), Origin::default()).await {
            refused += 1;
            assert!(
                error.user_message().contains("database does not take writes"),
                "plain words: {}",
                error.user_message()
            );
        }
    }
    assert!(refused > 0, "a full disk refuses filings");
    eventually("the alert that the database takes no writes", || {
        alerts(&notifier)
            .iter()
            .any(|t| t.contains("cannot write to its database"))
    })
    .await;

    std::fs::remove_file(filler).expect("space freed");
    let filed = app.desk.create(&alice(), &payg_form(), Origin::default()).await;
    assert!(
        filed.is_ok(),
        "once space is back, filing works again: {:?}",
        filed.err().map(|e| format!("{e}"))
    );
    let ballot = Ballot {
        approve: true,
        reason: None,
        seen_hash: None,
        via: cvmbot::domain::VoteVia::Console,
    };
    app.desk
        .vote(waiting, &bob(), &ballot)
        .await
        .expect("approving works again");
    eventually("the approved request to be bought", || test.sim.instances().len() == 1).await;
    eventually("the alert that the database takes writes again", || {
        alerts(&notifier)
            .iter()
            .any(|t| t.contains("write to its database again"))
    })
    .await;
    assert!(workers.is_leader(), "the workers lease is held again");
    let stored = app.desk.list(ListFilter::All, 100).await.expect("the requests");
    assert_eq!(
        stored.len(),
        1 + (20 - refused) + 1,
        "a refused filing left nothing behind"
    );
    workers.shutdown().await;
}
