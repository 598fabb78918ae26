//! Proves the fake Discord is faithful enough for an unmodified serenity 0.12.5 client: the
//! small bot in `bot` registers a command, answers interactions, reacts, removes users'
//! reactions and survives gateway outages, and the fake records what real Discord would.
//! The `rest` tests drive serenity's `Http` (or raw HTTP) directly.

mod additions;
mod bot;
mod gateway;
mod interactions;
mod rest;
mod rules;
