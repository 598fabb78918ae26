//! The purchasing engine end to end against the simulator, on SQLite and on PostgreSQL: filing,
//! the approval rules, exactly-once submission and crash recovery.

mod support;

#[path = "engine/disk.rs"]
mod disk;
#[path = "engine/filing.rs"]
mod filing;
#[path = "engine/rules.rs"]
mod rules;
#[path = "engine/submission.rs"]
mod submission;
#[path = "engine/trust.rs"]
mod trust;
