//! Tencent Cloud API v3: signing, transport, errors, and the CVM and Billing actions cvmbot uses.

pub mod billing;
pub mod client;
pub mod cvm;
pub mod endpoint;
pub mod enums;
pub mod error;
pub mod limiter;
pub mod sign;

pub use client::{Answer, ClientSettings, Credentials, RetryPolicy, TencentClient};
pub use endpoint::{Endpoint, Service};
pub use error::{ApiError, ErrorKind};

/// Every action cvmbot calls (what `tencent.rate_limits` may name, besides `default`, and what the
/// README's CAM policy grants).
pub const ACTIONS: &[&str] = &[
    "RunInstances",
    "InquiryPriceRunInstances",
    "DescribeInstances",
    "DescribeZones",
    "DescribeZoneInstanceConfigInfos",
    "DescribeImages",
    "DescribeAccountBalance",
];
