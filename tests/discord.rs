//! The Discord adapter end to end: the real `Bot` (serenity 0.12.5) against the fake Discord,
//! the engine on the Tencent Cloud simulator and a fresh database. Assertions are on what the
//! fake received (messages, edits, reactions, callbacks), rows in the database and requests the
//! simulator received. One test binary; the cases live in `tests/discord/`.

mod support;

#[path = "discord/autocomplete.rs"]
mod autocomplete;
#[path = "discord/channels.rs"]
mod channels;
#[path = "discord/commands.rs"]
mod commands;
#[path = "discord/input.rs"]
mod input;
#[path = "discord/permissions.rs"]
mod permissions;
#[path = "discord/processes.rs"]
mod processes;
#[path = "discord/restart.rs"]
mod restart;
#[path = "discord/story.rs"]
mod story;
#[path = "discord/votes.rs"]
mod votes;
