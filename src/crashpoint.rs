//! Crash points: named places between the steps of a state change where the crash tests stop the
//! process dead, to prove that a restart finishes the work exactly once.
//!
//! Inert unless the variable [`VARIABLE`] names a point (`CVMBOT_CRASH_AT=submit:sent`); then the
//! process aborts when it reaches that point, with no clean-up at all, as `kill -9` would leave it.
//! It exists for the tests that run the real binary; nothing sets it in production.

use std::sync::OnceLock;

/// The variable that names the crash point.
pub const VARIABLE: &str = "CVMBOT_CRASH_AT";

/// Every crash point, in the order a purchase passes them.
pub const POINTS: &[&str] = &[
    "filing:stored",
    "card:posted",
    "card:linked",
    "vote:approved",
    "submit:claimed",
    "submit:sent",
    "submit:stored",
    "notice:posted",
];

/// The crash points of a fleet's launch: its slots marked `launching`, and the launches
/// answered but not yet stored.
pub const FLEET_POINTS: &[&str] = &["fleet:launching", "fleet:sent"];

fn chosen() -> Option<&'static str> {
    static CHOSEN: OnceLock<Option<String>> = OnceLock::new();
    CHOSEN
        .get_or_init(|| std::env::var(VARIABLE).ok().filter(|v| !v.is_empty()))
        .as_deref()
}

/// Aborts the process if `point` is the chosen crash point.
pub fn here(point: &'static str) {
    debug_assert!(
        POINTS.contains(&point) || FLEET_POINTS.contains(&point),
        "unknown crash point {point}"
    );
    if chosen() == Some(point) {
        eprintln!("cvmbot: crash point {point} reached; aborting as {VARIABLE} asks");
        std::process::abort();
    }
}
