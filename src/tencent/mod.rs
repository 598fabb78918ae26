//! Tencent Cloud API v3: signing, transport, errors, and the CVM and Billing actions cvmbot uses.

pub mod billing;
pub mod client;
pub mod cvm;
pub mod enums;
pub mod error;
pub mod limiter;
pub mod sign;

pub use client::{Answer, ClientSettings, Credentials, Endpoint, RetryPolicy, Service, TencentClient};
pub use error::{ApiError, ErrorKind};
