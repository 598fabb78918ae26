//! TC3-HMAC-SHA256 verification, as Tencent's gateway does it: over whatever headers the client
//! says it signed (at least `content-type` and `host`), the exact body bytes, a credential scope
//! that matches the timestamp's UTC date and the API's service, and a timestamp within five
//! minutes of the wall clock.

use super::actions::{ApiFailure, fail};
use super::catalogue::Catalogue;
use super::wire::field;
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cvmbot_tencent::sign::{
    Authorization, canonical_request, hmac_sha256, sha256_hex, signature, signing_key, string_to_sign, utc_date,
};

/// How far `X-TC-Timestamp` may be from the wall clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;

/// The parts of a request that authentication looks at.
pub struct SignedRequest<'a> {
    /// The request method: `POST`, or `GET` (whose parameters are the query string).
    pub method: &'a str,
    /// The query string as sent (the canonical query string of a `GET`).
    pub query: &'a str,
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
    // The hashed payload: the body, nothing for a GET, or the literal `UNSIGNED-PAYLOAD` when the
    // client said so in `X-TC-Content-SHA256`.
    let payload: &[u8] = if header(request.headers, "x-tc-content-sha256").as_deref() == Some("UNSIGNED-PAYLOAD") {
        b"UNSIGNED-PAYLOAD"
    } else if request.method.eq_ignore_ascii_case("GET") {
        b""
    } else {
        request.body
    };
    let key = signing_key(&account.secret_key, &auth.date, request.service);
    if !candidates(request.method, request.query, &signed, payload)
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
fn candidates(method: &str, query: &str, signed: &[(String, String)], payload: &[u8]) -> Vec<String> {
    let method = method.to_ascii_uppercase();
    let pairs: Vec<(&str, &str)> = signed.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (lowercased, _) = canonical_request(&method, query, &pairs, payload);
    let mut sorted: Vec<(String, &str)> = signed.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.trim())).collect();
    sorted.sort();
    let headers: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names = sorted.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let as_sent = format!("{method}\n/\n{query}\n{headers}\n{names}\n{}", sha256_hex(payload));
    vec![lowercased, as_sent]
}

/// The older signature method (`HmacSHA1`, the default, or `HmacSHA256`), whose common
/// parameters travel among the form fields: `Signature` is the Base64 HMAC, keyed with the
/// SecretKey, of `METHOD` + host + `/?` + every other field as `name=value` (values decoded, names
/// sorted, `_` in a name read as `.`) joined with `&`. On success returns the caller's SecretId.
pub fn verify_v1(
    cat: &Catalogue,
    method: &str,
    host: &str,
    form: &[(String, String)],
    wall_now: i64,
) -> Result<String, ApiFailure> {
    let get = |name: &str| field(form, name);
    let required = |name: &str| {
        get(name).ok_or_else(|| {
            fail(
                "MissingParameter",
                format!("The request is missing the required parameter `{name}`."),
            )
        })
    };
    let secret_id = required("SecretId")?;
    let signature = required("Signature")?;
    let timestamp = required("Timestamp")?;
    required("Nonce")?;
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| {
        fail(
            "InvalidParameter",
            format!("Timestamp `{timestamp}` is not a number of seconds."),
        )
    })?;
    let sign_method = get("SignatureMethod").unwrap_or("HmacSHA1");
    if !matches!(sign_method, "HmacSHA1" | "HmacSHA256") {
        return Err(fail(
            "InvalidParameterValue",
            format!("SignatureMethod `{sign_method}` is not valid: use HmacSHA1, HmacSHA256 or TC3-HMAC-SHA256."),
        ));
    }
    let account = cat
        .account(secret_id)
        .ok_or_else(|| fail("AuthFailure.SecretIdNotFound", "The SecretId does not exist."))?;
    if (wall_now - timestamp).abs() > MAX_SKEW_SECS {
        return Err(fail(
            "AuthFailure.SignatureExpire",
            format!("The timestamp {timestamp} is more than 5 minutes from the server time {wall_now}."),
        ));
    }
    let mut fields: Vec<(String, &str)> = form
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.replace('_', "."), v.as_str()))
        .collect();
    fields.sort();
    let query = fields
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let text = format!("{}{host}/?{query}", method.to_ascii_uppercase());
    let key = account.secret_key.as_bytes();
    let expected = if sign_method == "HmacSHA256" {
        BASE64.encode(hmac_sha256(key, text.as_bytes()))
    } else {
        BASE64.encode(hmac_sha1(key, text.as_bytes()))
    };
    if expected != signature {
        return Err(fail(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.",
        ));
    }
    if let Some(token) = &account.token
        && get("Token") != Some(token.as_str())
    {
        return Err(fail("AuthFailure.TokenFailure", "The Token is missing or wrong."));
    }
    Ok(secret_id.to_owned())
}

/// HMAC-SHA1, for the v1 signature (`SignatureMethod=HmacSHA1`).
fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| {
        v.to_str()
            .map_or_else(|_| String::from_utf8_lossy(v.as_bytes()).into_owned(), str::to_owned)
    })
}

#[cfg(test)]
mod tests {
    use super::hmac_sha1;

    #[test]
    fn hmac_sha1_matches_rfc_2202() {
        assert_eq!(
            hex::encode(hmac_sha1(&[0x0b; 20], b"Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00"
        );
        assert_eq!(
            hex::encode(hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            hex::encode(hmac_sha1(
                &[0xaa; 80],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }
}
