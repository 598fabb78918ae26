//! The Tencent Cloud simulator, driven through our own client, raw signed requests, its control
//! endpoint and the official Python SDK. One test binary; the cases live in `tests/sim/`.

mod auth;
mod bills;
mod catalogue;
mod control;
mod faults;
mod interop;
mod lifecycle;
mod money;
mod purchases;
mod renewals;
mod returns;
mod spec;
