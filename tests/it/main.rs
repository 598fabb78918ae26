//! cvmbot's integration tests, one binary: the whole application built as production builds it,
//! against the Tencent Cloud simulator (on port 0), a fake Discord (REST and gateway on
//! 127.0.0.1, driving the real serenity client) and a fresh database per test, SQLite and (with
//! `POSTGRES_TEST_URL`) PostgreSQL. Assertions are on outcomes: rows, the requests the simulator
//! received, the messages the fake Discord got.
//!
//! - `cli`: the binary as an operator runs it (doctor, sim, migrate, audit export, bad settings).
//! - `client`: the Tencent client against the simulator (retries, rate limits, signatures).
//! - `demo`: `cvmbot demo`, the README's first command.
//! - `deploy`: what `deploy/` ships: the environment file as systemd and a shell read it.
//! - `discord`: the real bot against the fake Discord, and the binary itself under signals and crashes.
//! - `doctor`: `cvmbot doctor` against the simulator and the fake Discord: permissions, CAM, migrations.
//! - `engine`: the purchasing engine: filing, the approval rules, exactly-once submission, trust at the edges.
//! - `layers`: the import rule of ARCHITECTURE.md, read from the source.
//! - `metrics`: `/healthz`, `/readyz` and `/metrics`, in process and from the real binary.
//! - `sim`: the simulator as the official SDKs see it.
//! - `workers`: the tracker, balance monitor, dispatcher and expiry, and restarts.

mod support;

mod cli;
mod client;
mod demo;
mod deploy;
mod discord;
mod doctor;
mod engine;
mod gallery;
mod layers;
mod metrics;
mod sim;
mod workers;
