//! Tencent Cloud API v3 as cvmbot and its simulator speak it: TC3-HMAC-SHA256 signing, the
//! client (transport, retries with jitter, per-action rate limits, typed errors), the CVM
//! 2017-03-12 and Billing 2018-07-09 request and response types, and the money units Tencent
//! counts in (fen and yuan). Secrets are held in [`secret::Secret`].

pub mod billing;
pub mod bills;
pub mod client;
pub mod cvm;
pub mod endpoint;
pub mod enums;
pub mod error;
pub mod limiter;
pub mod money;
pub mod random;
pub mod secret;
pub mod sign;

pub use client::{Answer, Attempt, CallObserver, ClientSettings, Credentials, RetryPolicy, TencentClient};
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
    "InquiryPriceTerminateInstances",
    "TerminateInstances",
    "InquiryPriceRenewInstances",
    "RenewInstances",
    "ModifyInstancesRenewFlag",
    "DescribeAccountBalance",
    "DescribeBillDetail",
];
