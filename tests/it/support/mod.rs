//! Test support shared by integration test binaries (`mod support;`).
// Not every test binary uses every helper or re-export.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod discord_app;
pub use fake_discord;
pub mod process;
pub mod sim;
