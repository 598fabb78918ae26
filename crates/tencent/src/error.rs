//! Tencent Cloud API errors: the `Response.Error` envelope plus transport failures, classified so
//! the engine can decide what to retry and the chat can say what happened in plain words.

use std::fmt;

/// What kind of failure an [`ApiError`] is, which decides retries and the explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `RequestLimitExceeded*`: too many calls; retry later.
    RateLimited,
    /// `InternalError*`, `ServiceUnavailable`, HTTP 5xx: Tencent's side failed; retry.
    ServerError,
    /// The connection failed or dropped before an answer arrived; retry.
    Network,
    /// No answer within the timeout; retry.
    Timeout,
    /// The account cannot pay (`InvalidAccount.InsufficientBalance`, unpaid orders).
    InsufficientBalance,
    /// The zone has no stock of what was asked for (`ResourceInsufficient.*`, `ResourcesSoldOut.*`, spot offering).
    OutOfStock,
    /// The spot bid is below the market price (`InvalidParameterValue.InsufficientPrice`).
    SpotPriceTooLow,
    /// An account or instance quota would be exceeded (`LimitExceeded.*`, `InstancesQuotaLimitExceeded`).
    Quota,
    /// The request itself is wrong: unknown zone, type, image, bad period, missing parameter.
    InvalidParameter,
    /// Credentials or permissions were refused (`AuthFailure.*`, `UnauthorizedOperation*`).
    Auth,
    /// A named resource does not exist (`ResourceNotFound*`, `*.NotFound`).
    NotFound,
    /// An answer arrived but was not a Tencent answer cvmbot can read: an HTTP status other than
    /// 200 that is not a server error, a body that is not the JSON envelope (an HTML page from a
    /// proxy), or an envelope without the members the action must return. Whatever the call was
    /// meant to change may or may not have happened: the outcome is unknown, never "refused".
    Unreadable,
    /// `DryRunOperation`: a dry run that would have succeeded.
    DryRunPassed,
    /// Anything else (`FailedOperation`, `UnsupportedOperation`, an unreadable answer …).
    Other,
}

impl ErrorKind {
    /// Classifies a Tencent error code.
    pub fn of_code(code: &str) -> ErrorKind {
        let starts = |prefix: &str| code == prefix || code.starts_with(&format!("{prefix}."));
        match code {
            "DryRunOperation" => ErrorKind::DryRunPassed,
            "InvalidParameterValue.InsufficientPrice" => ErrorKind::SpotPriceTooLow,
            "InvalidParameterValue.InsufficientOffering" => ErrorKind::OutOfStock,
            // The zone does not sell the type at all: a wrong option, not a shortage.
            "ResourceUnavailable.InstanceType" => ErrorKind::InvalidParameter,
            "InvalidAccount.InsufficientBalance" | "InvalidAccount.UnpaidOrder" | "FailedOperation.PayPriceError" => {
                ErrorKind::InsufficientBalance
            }
            "InstancesQuotaLimitExceeded" => ErrorKind::Quota,
            "InternalError.TradeUnknownError" => ErrorKind::Other,
            _ if starts("RequestLimitExceeded") => ErrorKind::RateLimited,
            _ if starts("InternalError") || starts("ServiceUnavailable") => ErrorKind::ServerError,
            _ if starts("ResourceInsufficient") || starts("ResourcesSoldOut") => ErrorKind::OutOfStock,
            _ if starts("LimitExceeded") => ErrorKind::Quota,
            _ if starts("AuthFailure") || starts("UnauthorizedOperation") => ErrorKind::Auth,
            _ if starts("ResourceNotFound") || code.ends_with(".NotFound") => ErrorKind::NotFound,
            _ if starts("InvalidParameter")
                || starts("InvalidParameterValue")
                || starts("InvalidParameterCombination")
                || starts("MissingParameter")
                || starts("UnknownParameter")
                || code.starts_with("Invalid") =>
            {
                ErrorKind::InvalidParameter
            }
            _ => ErrorKind::Other,
        }
    }

    /// True when trying the same request again may succeed: rate limits, server errors, network
    /// failures and timeouts. A retried RunInstances carries the same ClientToken, so retrying
    /// after a timeout cannot buy twice.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited
                | ErrorKind::ServerError
                | ErrorKind::Network
                | ErrorKind::Timeout
                | ErrorKind::Unreadable
        )
    }

    /// A stable lowercase name, for the database and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::ServerError => "server_error",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InsufficientBalance => "insufficient_balance",
            ErrorKind::OutOfStock => "out_of_stock",
            ErrorKind::SpotPriceTooLow => "spot_price_too_low",
            ErrorKind::Quota => "quota",
            ErrorKind::InvalidParameter => "invalid_parameter",
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Unreadable => "unreadable",
            ErrorKind::DryRunPassed => "dry_run_passed",
            ErrorKind::Other => "other",
        }
    }
}

/// A failed Tencent Cloud call: the API's own error or a transport failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The classification.
    pub kind: ErrorKind,
    /// Tencent's error code (`InvalidAccount.InsufficientBalance`), or `ClientNetworkError`,
    /// `ClientTimeout`, `ServerNetworkError`, `ClientParseError` for failures below the API.
    pub code: String,
    /// Tencent's message (or the transport error text).
    pub message: String,
    /// The `RequestId` Tencent assigned, when an answer arrived; quote it to Tencent support.
    pub request_id: Option<String>,
}

impl ApiError {
    /// An error from the `Response.Error` envelope.
    pub fn from_api(code: impl Into<String>, message: impl Into<String>, request_id: Option<String>) -> Self {
        let code = code.into();
        ApiError {
            kind: ErrorKind::of_code(&code),
            code,
            message: message.into(),
            request_id,
        }
    }

    /// A failure below the API, where no `Response.Error` was received.
    pub fn transport(kind: ErrorKind, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            code: code.to_owned(),
            message: message.into(),
            request_id: None,
        }
    }

    /// True when the same request may succeed if tried again.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// True when it is not known whether the call did what it asked: no answer, an answer that
    /// could not be read, or a Tencent error that says its own side failed (`InternalError*`,
    /// among them `InternalError.TradeUnknownError`, "the order may have been placed"). Only a
    /// definite Tencent refusal means nothing happened.
    pub fn outcome_unknown(&self) -> bool {
        let server_side = self.code == "InternalError" || self.code.starts_with("InternalError.");
        matches!(
            self.kind,
            ErrorKind::ServerError | ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Unreadable
        ) || server_side
    }

    /// The plain words cvmbot has for this very code, if any (not just for its kind).
    pub fn specific_explanation(&self) -> Option<&'static str> {
        explain_code(&self.code)
    }

    /// What happened, in plain words fit for a chat message (no stack, no jargon beyond the code).
    pub fn explain(&self) -> String {
        if let Some(specific) = explain_code(&self.code) {
            return specific.to_owned();
        }
        match self.kind {
            ErrorKind::RateLimited => {
                "Tencent Cloud is limiting how fast we call it; the call will be tried again shortly."
            }
            ErrorKind::ServerError => {
                "Tencent Cloud had an internal error; it is usually temporary, so try again shortly."
            }
            ErrorKind::Network => "Tencent Cloud could not be reached (the connection failed or dropped).",
            ErrorKind::Timeout => "Tencent Cloud did not answer in time.",
            ErrorKind::InsufficientBalance => {
                "The Tencent Cloud account balance is too low to pay for this; top it up first."
            }
            ErrorKind::OutOfStock => "Tencent Cloud has no stock of this instance type in this zone right now.",
            ErrorKind::SpotPriceTooLow => "The spot bid is below the current market price.",
            ErrorKind::Quota => "This would exceed a Tencent Cloud quota of the account.",
            ErrorKind::InvalidParameter => "Tencent Cloud refused a parameter of the request as invalid.",
            ErrorKind::Auth => "Tencent Cloud refused our credentials or permissions.",
            ErrorKind::NotFound => "Tencent Cloud does not know a resource the request names.",
            ErrorKind::Unreadable => "Tencent Cloud's answer could not be read.",
            ErrorKind::DryRunPassed => "The dry run passed.",
            ErrorKind::Other => "Tencent Cloud refused the request.",
        }
        .to_owned()
    }
}

fn explain_code(code: &str) -> Option<&'static str> {
    Some(match code {
        "AuthFailure.SignatureExpire" => {
            "Tencent Cloud refused the request because this machine's clock is more than 5 minutes off; fix the system time."
        }
        "AuthFailure.SignatureFailure" => {
            "Tencent Cloud refused the request signature: the SecretKey does not match the SecretId."
        }
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            "Tencent Cloud does not know the configured SecretId (TENCENTCLOUD_SECRET_ID)."
        }
        "AuthFailure.TokenFailure" => {
            "The temporary credential token (TENCENTCLOUD_SESSION_TOKEN) is invalid or expired."
        }
        "AuthFailure.UnauthorizedOperation" | "UnauthorizedOperation" | "UnauthorizedOperation.CamNoAuth" => {
            "The Tencent Cloud sub-account lacks a CAM permission for this action; see the README's \"Tencent Cloud permissions\"."
        }
        "InvalidAccount.UnpaidOrder" => "The Tencent Cloud account has an unpaid order; pay it before buying more.",
        "ResourceUnavailable.InstanceType" => "This instance type is not sold in this zone.",
        "InvalidParameterValue.InsufficientOffering" => {
            "There is no spot capacity for this instance type in this zone right now."
        }
        "InvalidZone.MismatchRegion" => "The zone does not belong to the region the request was sent to.",
        "InvalidParameterValue.ZoneNotSupported" => "Tencent Cloud does not sell in this zone.",
        "InvalidParameterValue.InstanceTypeNotFound" | "InvalidInstanceType.Malformed" => {
            "Tencent Cloud does not know this instance type."
        }
        "InvalidImageId.NotFound" | "InvalidImageId.Malformed" => "Tencent Cloud does not know this image.",
        "InvalidParameterValue.InvalidImageForGivenInstanceType" => "This image cannot run on this instance type.",
        "InvalidPeriod" => "The prepaid period is not one Tencent Cloud sells (1–12, 24, 36, 48 or 60 months).",
        "InvalidClientToken.TooLong" => "The idempotency token was longer than 64 characters.",
        "LimitExceeded.SpotQuota" | "LimitExceeded.UserSpotQuota" => "The account's spot instance quota is used up.",
        "LimitExceeded.InstanceQuota" | "LimitExceeded.CvmInstanceQuota" | "InstancesQuotaLimitExceeded" => {
            "The account's instance quota in this zone is used up."
        }
        "LimitExceeded.PrepayQuota" => "The account's quota of prepaid instances is used up.",
        "UnsupportedOperation.NoInstanceTypeSupportSpot" => "This instance type is not sold as spot.",
        "UnsupportedOperation.SpotUnsupportedRegion" => "Spot instances are not sold in this region.",
        _ => return None,
    })
}

impl fmt::Display for ApiError {
    /// For logs: the code, Tencent's message and the RequestId.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (RequestId {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::ErrorKind::*;
    use super::*;

    #[test]
    fn codes_are_classified_as_the_documentation_groups_them() {
        let table = [
            ("RequestLimitExceeded", RateLimited),
            ("RequestLimitExceeded.UinLimitExceeded", RateLimited),
            ("RequestLimitExceeded.GlobalRegionUinLimitExceeded", RateLimited),
            ("InternalError", ServerError),
            ("InternalError.GatewayError", ServerError),
            ("ServiceUnavailable", ServerError),
            ("InvalidAccount.InsufficientBalance", InsufficientBalance),
            ("ResourceInsufficient.SpecifiedInstanceType", OutOfStock),
            ("ResourceInsufficient.AvailabilityZoneSoldOut", OutOfStock),
            ("ResourcesSoldOut.SpecifiedInstanceType", OutOfStock),
            ("InvalidParameterValue.InsufficientOffering", OutOfStock),
            ("ResourceUnavailable.InstanceType", InvalidParameter),
            ("InvalidParameterValue.InsufficientPrice", SpotPriceTooLow),
            ("LimitExceeded.SpotQuota", Quota),
            ("InstancesQuotaLimitExceeded", Quota),
            ("InvalidZone.MismatchRegion", InvalidParameter),
            ("InvalidPeriod", InvalidParameter),
            ("MissingParameter", InvalidParameter),
            ("InvalidParameterValue.ZoneNotSupported", InvalidParameter),
            ("AuthFailure.SignatureFailure", Auth),
            ("UnauthorizedOperation.CamNoAuth", Auth),
            ("InvalidInstanceId.NotFound", NotFound),
            ("DryRunOperation", DryRunPassed),
            ("FailedOperation", Other),
            ("InternalError.TradeUnknownError", Other),
        ];
        for (code, kind) in table {
            assert_eq!(ErrorKind::of_code(code), kind, "{code}");
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(ApiError::from_api("RequestLimitExceeded", "slow down", None).is_retryable());
        assert!(ApiError::transport(Timeout, "ClientTimeout", "no answer").is_retryable());
        assert!(!ApiError::from_api("InvalidAccount.InsufficientBalance", "", None).is_retryable());
        assert!(
            !ApiError::from_api("InternalError.TradeUnknownError", "", None).is_retryable(),
            "a trade error may have charged: never blind-retry it"
        );
        assert!(
            ApiError::from_api("InternalError.TradeUnknownError", "", None).outcome_unknown(),
            "but it is no refusal either: whether it bought is unknown"
        );
        assert!(ApiError::transport(Unreadable, "ClientParseError", "<html>").outcome_unknown());
        assert!(!ApiError::from_api("InvalidAccount.InsufficientBalance", "", None).outcome_unknown());
        assert!(!ApiError::from_api("RequestLimitExceeded", "", None).outcome_unknown());
    }

    #[test]
    fn every_kind_explains_itself_in_plain_words() {
        let error = ApiError::from_api("AuthFailure.SignatureExpire", "expired", Some("req-1".into()));
        assert!(error.explain().contains("clock"));
        assert_eq!(
            error.to_string(),
            "AuthFailure.SignatureExpire: expired (RequestId req-1)"
        );
        let balance = ApiError::from_api("InvalidAccount.InsufficientBalance", "余额不足", None);
        assert!(balance.explain().contains("balance is too low"));
    }
}
