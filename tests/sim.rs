//! The Tencent Cloud simulator, driven through our own client, raw signed requests, its control
//! endpoint and the official Python SDK. One test binary; the cases live in `tests/sim/`.

mod support;

#[path = "sim/auth.rs"]
mod auth;
#[path = "sim/catalogue.rs"]
mod catalogue;
#[path = "sim/control.rs"]
mod control;
#[path = "sim/faults.rs"]
mod faults;
#[path = "sim/interop.rs"]
mod interop;
#[path = "sim/lifecycle.rs"]
mod lifecycle;
#[path = "sim/money.rs"]
mod money;
#[path = "sim/purchases.rs"]
mod purchases;
