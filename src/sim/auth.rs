//! TC3-HMAC-SHA256 verification, as Tencent's gateway does it: over whatever headers the client
//! says it signed (at least `content-type` and `host`), the exact body bytes, a credential scope
//! that matches the timestamp's UTC date and the API's service, and a timestamp within five
//! minutes of the wall clock.

use super::actions::{ApiFailure, fail};
use super::catalogue::Catalogue;
use crate::tencent::sign::{
    Authorization, canonical_request, sha256_hex, signature, signing_key, string_to_sign, utc_date,
};
use axum::http::HeaderMap;

/// How far `X-TC-Timestamp` may be from the wall clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The parts of a request that authentication looks at.
pub struct SignedRequest<'a> {
    /// The headers as received.
    pub headers: &'a HeaderMap,
    /// The body bytes as received.
    pub body: &'a [u8],
    /// The service the action belongs to: `cvm`, `billing`.
    pub service: &'a str,
    /// The wall clock, Unix seconds (never the accelerated simulated clock).
    pub wall_now: i64,
}

/// The SecretId from `Authorization`, when one can be read, for the request log.
pub fn claimed_secret_id(headers: &HeaderMap) -> Option<String> {
    let header = headers.get("authorization")?.to_str().ok()?;
    Authorization::parse(header).map(|a| a.secret_id)
}

/// Verifies the request; on success returns the caller's SecretId.
pub fn verify(cat: &Catalogue, request: &SignedRequest<'_>) -> Result<String, ApiFailure> {
    let timestamp = header(request.headers, "x-tc-timestamp").ok_or_else(|| {
        fail(
            "MissingParameter",
            "The request is missing the required parameter `Timestamp`.",
        )
    })?;
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| {
        fail(
            "InvalidParameter",
            format!("Timestamp `{timestamp}` is not a number of seconds."),
        )
    })?;
    let raw = header(request.headers, "authorization").ok_or_else(|| {
        fail(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header is missing.",
        )
    })?;
    let auth = Authorization::parse(&raw).ok_or_else(|| {
        fail(
            "AuthFailure.InvalidAuthorization",
            "Authorization must read `TC3-HMAC-SHA256 Credential=…/date/service/tc3_request, SignedHeaders=…, Signature=…`.",
        )
    })?;
    for required in ["content-type", "host"] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return Err(fail(
                "AuthFailure.InvalidAuthorization",
                format!("SignedHeaders must include `{required}`."),
            ));
        }
    }
    let account = cat.account(&auth.secret_id).ok_or_else(|| {
        if auth.secret_id.starts_with("AKID") {
            fail("AuthFailure.SecretIdNotFound", "The SecretId does not exist.")
        } else {
            fail(
                "AuthFailure.InvalidSecretId",
                "The SecretId is not a Tencent Cloud API key.",
            )
        }
    })?;
    if (request.wall_now - timestamp).abs() > MAX_SKEW_SECS {
        return Err(fail(
            "AuthFailure.SignatureExpire",
            format!(
                "The timestamp {timestamp} is more than 5 minutes from the server time {}.",
                request.wall_now
            ),
        ));
    }
    if auth.date != utc_date(timestamp) {
        return Err(fail(
            "AuthFailure.SignatureFailure",
            format!(
                "The credential date {} is not the UTC date of the timestamp.",
                auth.date
            ),
        ));
    }
    if auth.service != request.service {
        return Err(fail(
            "AuthFailure.SignatureFailure",
            format!(
                "The credential scope names service `{}`, not `{}`.",
                auth.service, request.service
            ),
        ));
    }
    let mut signed = Vec::new();
    for name in &auth.signed_headers {
        let value = header(request.headers, name).ok_or_else(|| {
            fail(
                "AuthFailure.SignatureFailure",
                format!("The signed header `{name}` was not sent."),
            )
        })?;
        signed.push((name.clone(), value));
    }
    let key = signing_key(&account.secret_key, &auth.date, request.service);
    if !candidates(&signed, request.body)
        .iter()
        .any(|canonical| signature(&key, &string_to_sign(timestamp, request.service, canonical)) == auth.signature)
    {
        return Err(fail(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        ));
    }
    if let Some(token) = &account.token
        && header(request.headers, "x-tc-token").as_deref() != Some(token.as_str())
    {
        return Err(fail("AuthFailure.TokenFailure", "The X-TC-Token is missing or wrong."));
    }
    Ok(auth.secret_id)
}

/// The canonical requests a correct client may have signed: header values lowercased, as the v3
/// document says, or as sent, as the SDKs do (the two differ only for values with capitals).
fn candidates(signed: &[(String, String)], body: &[u8]) -> Vec<String> {
    let pairs: Vec<(&str, &str)> = signed.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (lowercased, _) = canonical_request("POST", "", &pairs, body);
    let mut sorted: Vec<(String, &str)> = signed.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.trim())).collect();
    sorted.sort();
    let headers: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names = sorted.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let as_sent = format!("POST\n/\n\n{headers}\n{names}\n{}", sha256_hex(body));
    vec![lowercased, as_sent]
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| {
        v.to_str()
            .map_or_else(|_| String::from_utf8_lossy(v.as_bytes()).into_owned(), str::to_owned)
    })
}
