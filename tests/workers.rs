//! The workers against the simulator, on SQLite and on PostgreSQL: activation and IP tracking,
//! launch failures, reclamation, low-balance alerts, expiry, batching of DescribeInstances, and
//! delivery exactly once across restarts.

mod support;

#[path = "workers/rig.rs"]
mod rig;

#[path = "workers/activation.rs"]
mod activation;
#[path = "workers/balance.rs"]
mod balance;
#[path = "workers/batching.rs"]
mod batching;
#[path = "workers/delivery.rs"]
mod delivery;
#[path = "workers/expiry.rs"]
mod expiry;
#[path = "workers/restart.rs"]
mod restart;
#[path = "workers/running.rs"]
mod running;
