//! Proves the fake Discord is faithful enough for an unmodified serenity 0.12.5 client: the
//! small bot in `bot` registers a command, answers interactions, reacts, removes users'
//! reactions and survives gateway outages, and the fake records what real Discord would.
//! The `rest` tests drive serenity's `Http` (or raw HTTP) directly.

mod support;

#[path = "fake_discord_selftest/additions.rs"]
mod additions;
#[path = "fake_discord_selftest/bot.rs"]
mod bot;
#[path = "fake_discord_selftest/gateway.rs"]
mod gateway;
#[path = "fake_discord_selftest/interactions.rs"]
mod interactions;
#[path = "fake_discord_selftest/rest.rs"]
mod rest;
#[path = "fake_discord_selftest/rules.rs"]
mod rules;
