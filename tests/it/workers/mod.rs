//! The workers against the simulator, on SQLite and on PostgreSQL: activation and IP tracking,
//! launch failures, reclamation, low-balance alerts, expiry, batching of DescribeInstances, and
//! delivery exactly once across restarts.

mod rig;

mod activation;
mod balance;
mod batching;
mod budgets;
mod delivery;
mod expiry;
mod fence;
mod fleets;
mod lifetime;
mod requested_budgets;
mod restart;
mod running;
mod spend;
