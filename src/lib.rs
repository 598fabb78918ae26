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
pub mod money;
pub mod rand;
pub mod secret;
pub mod signal;
pub mod sim;
pub mod store;
pub mod tencent;
pub mod workers;
