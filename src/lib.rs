//! cvmbot: a team's purchasing desk for Tencent Cloud CVM servers.
//!
//! One engine ([`desk`]) knows the purchasing rules; thin adapters bring it to Discord and to a
//! local console; [`tencent`] talks to Tencent Cloud (or to the [`sim`]ulator); [`store`] keeps
//! everything in SQLite or PostgreSQL.

pub mod app;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crashpoint;
pub mod demo;
pub mod desk;
pub mod domain;
pub mod gallery;
pub mod ops;
pub mod signal;
pub mod store;
pub mod systemd;
pub mod workers;

/// The Tencent Cloud simulator (the `cvmbot-sim` crate), which `cvmbot sim`, `run --simulate`
/// and the demo serve.
pub use cvmbot_sim as sim;
/// Tencent Cloud API v3 (the `cvmbot-tencent` crate).
pub use cvmbot_tencent as tencent;
pub use cvmbot_tencent::{money, random, secret};
