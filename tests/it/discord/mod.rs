//! The Discord adapter end to end: the real `Bot` (serenity 0.12.5) against the fake Discord,
//! the engine on the Tencent Cloud simulator and a fresh database. Assertions are on what the
//! fake received (messages, edits, reactions, callbacks), rows in the database and requests the
//! simulator received. One test binary; the cases live in `tests/discord/`.

mod autocomplete;
mod channels;
mod commands;
mod fleets;
mod input;
mod lifecycle;
mod permissions;
mod processes;
mod replicas;
mod restart;
mod servers;
mod spend;
mod story;
mod votes;
