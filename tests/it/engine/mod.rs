//! The purchasing engine end to end against the simulator, on SQLite and on PostgreSQL: filing,
//! the approval rules, exactly-once submission and crash recovery.

mod disk;
mod filing;
mod release;
mod renewal;
mod rules;
mod submission;
mod trust;
mod upgrade;
