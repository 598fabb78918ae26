//! TC3-HMAC-SHA256, Tencent Cloud API v3 request signing.
//!
//! The steps follow the "签名方法 v3" document and the official SDKs: a canonical request over the
//! signed headers and the SHA-256 of the exact body bytes, a string to sign scoped to the UTC date
//! and the service, and a key derived from the SecretKey by a chain of HMACs. The simulator uses the
//! same functions to verify what a client sent, so both directions are checked against the
//! published vectors in the tests below.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use time::OffsetDateTime;

/// The algorithm name that opens every `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The UTC calendar date (`YYYY-MM-DD`) of a Unix timestamp, as the credential scope needs it.
pub fn utc_date(timestamp: i64) -> String {
    let date = OffsetDateTime::from_unix_timestamp(timestamp)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date();
    format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day())
}

/// The canonical request and its `SignedHeaders` list.
///
/// `headers` are the headers to sign as sent, in any order; names and values are lowercased and
/// trimmed and sorted by name, as the v3 document prescribes.
pub fn canonical_request(method: &str, query: &str, headers: &[(&str, &str)], payload: &[u8]) -> (String, String) {
    let mut normalized: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_ascii_lowercase()))
        .collect();
    normalized.sort();
    let canonical_headers: String = normalized.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = normalized.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(";");
    let canonical = format!(
        "{method}\n/\n{query}\n{canonical_headers}\n{signed_headers}\n{}",
        sha256_hex(payload)
    );
    (canonical, signed_headers)
}

/// `TC3-HMAC-SHA256\n<timestamp>\n<date>/<service>/tc3_request\n<sha256(canonical request)>`.
pub fn string_to_sign(timestamp: i64, service: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{}/{service}/tc3_request\n{}",
        utc_date(timestamp),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The derived signing key: `HMAC(HMAC(HMAC("TC3"+SecretKey, date), service), "tc3_request")`.
pub fn signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac_sha256(&k_date, service.as_bytes());
    hmac_sha256(&k_service, b"tc3_request")
}

/// Lowercase hex `HMAC(signing key, string to sign)`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// Everything that goes into one signature.
#[derive(Clone, Copy)]
pub struct SigningRequest<'a> {
    /// The service of the credential scope: `cvm`, `billing`.
    pub service: &'a str,
    /// The headers to sign, as sent (at least `content-type` and `host`).
    pub headers: &'a [(&'a str, &'a str)],
    /// Unix seconds, the value of `X-TC-Timestamp`.
    pub timestamp: i64,
    /// The exact body bytes.
    pub payload: &'a [u8],
}

/// The signature of a POST request and the `Authorization` header that carries it.
pub fn sign_post(secret_id: &str, secret_key: &str, request: SigningRequest<'_>) -> Signed {
    let (canonical, signed_headers) = canonical_request("POST", "", request.headers, request.payload);
    let to_sign = string_to_sign(request.timestamp, request.service, &canonical);
    let date = utc_date(request.timestamp);
    let signature = signature(&signing_key(secret_key, &date, request.service), &to_sign);
    let authorization = format!(
        "{ALGORITHM} Credential={secret_id}/{date}/{}/tc3_request, SignedHeaders={signed_headers}, Signature={signature}",
        request.service
    );
    Signed {
        signature,
        authorization,
    }
}

/// A computed signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Signed {
    /// Lowercase hex signature.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// An `Authorization` header taken apart, as a server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// The SecretId from the credential.
    pub secret_id: String,
    /// The credential scope's date.
    pub date: String,
    /// The credential scope's service.
    pub service: String,
    /// The signed header names, in the order given.
    pub signed_headers: Vec<String>,
    /// The hex signature.
    pub signature: String,
}

impl Authorization {
    /// Parses `TC3-HMAC-SHA256 Credential=<id>/<date>/<service>/tc3_request, SignedHeaders=<a;b>, Signature=<hex>`.
    pub fn parse(header: &str) -> Option<Authorization> {
        let rest = header.trim().strip_prefix(ALGORITHM)?.trim_start();
        let mut credential = None;
        let mut signed = None;
        let mut signature = None;
        for part in rest.split(',') {
            let (key, value) = part.trim().split_once('=')?;
            match key.trim() {
                "Credential" => credential = Some(value.trim()),
                "SignedHeaders" => signed = Some(value.trim()),
                "Signature" => signature = Some(value.trim()),
                _ => return None,
            }
        }
        let mut scope = credential?.split('/');
        let (secret_id, date, service, terminator) = (scope.next()?, scope.next()?, scope.next()?, scope.next()?);
        if terminator != "tc3_request" || scope.next().is_some() || secret_id.is_empty() {
            return None;
        }
        let signed_headers: Vec<String> = signed?.split(';').map(|h| h.trim().to_ascii_lowercase()).collect();
        Some(Authorization {
            secret_id: secret_id.to_owned(),
            date: date.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature: signature?.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked example of the "签名方法 v3" document (see ../shared/reference/tencent-cloud-api.md §1).
    const PAYLOAD: &str = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
    const TIMESTAMP: i64 = 1_551_113_065;
    const HOST: &str = "cvm.tencentcloudapi.com";
    const CONTENT_TYPE_DOC: &str = "application/json; charset=utf-8";
    const MASKED_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
    const MASKED_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3*******";

    fn sign(key: &str, headers: &[(&str, &str)]) -> Signed {
        let request = SigningRequest {
            service: "cvm",
            headers,
            timestamp: TIMESTAMP,
            payload: PAYLOAD.as_bytes(),
        };
        sign_post(MASKED_ID, key, request)
    }

    #[test]
    fn the_payload_hash_and_date_match_the_document() {
        assert_eq!(
            sha256_hex(PAYLOAD.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            utc_date(TIMESTAMP),
            "2019-02-25",
            "the date is UTC even though UTC+8 is already the 26th"
        );
    }

    #[test]
    fn the_masked_key_vector_signs_to_2230eefd() {
        let headers = [("content-type", CONTENT_TYPE_DOC), ("host", HOST)];
        let (canonical, signed) = canonical_request("POST", "", &headers, PAYLOAD.as_bytes());
        assert_eq!(
            canonical,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n\
             35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(signed, "content-type;host");
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        let signed = sign(MASKED_KEY, &headers);
        assert_eq!(
            signed.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        assert_eq!(
            signed.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn the_example_key_vector_signs_to_72e494ea() {
        let headers = [("content-type", CONTENT_TYPE_DOC), ("host", HOST)];
        let signed = sign("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &headers);
        assert_eq!(
            signed.signature,
            "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
        );
    }

    #[test]
    fn the_vector_that_signs_x_tc_action_signs_to_10b1a37a() {
        let key = "*".repeat(32);
        let headers = [
            ("content-type", CONTENT_TYPE_DOC),
            ("host", HOST),
            ("x-tc-action", "DescribeInstances"),
        ];
        let (canonical, signed) = canonical_request("POST", "", &headers, PAYLOAD.as_bytes());
        assert!(
            canonical.contains("x-tc-action:describeinstances\n"),
            "the action is signed lowercased"
        );
        assert_eq!(signed, "content-type;host;x-tc-action");
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        assert_eq!(
            hex::encode(signing_key(&key, "2019-02-25", "cvm")),
            "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
        );
        assert_eq!(
            sign(&key, &headers).signature,
            "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
        );
    }

    #[test]
    fn what_the_python_sdk_sends_signs_to_its_own_vectors() {
        let global = [("content-type", "application/json"), ("host", HOST)];
        assert_eq!(
            sign(MASKED_KEY, &global).signature,
            "debf58125f409c97ddcf8f3f0bd71339faf86ce3b4ed6987227ebcc233a6b003"
        );
        let regional = [
            ("content-type", "application/json"),
            ("host", "cvm.ap-guangzhou.tencentcloudapi.com"),
        ];
        assert_eq!(
            sign(MASKED_KEY, &regional).signature,
            "0ded5b80c11e87fce5699a7824f6c0188c7b87d89213bf74f21aaae614a4e0e4"
        );
    }

    #[test]
    fn header_order_does_not_change_the_signature() {
        let forward = [("content-type", CONTENT_TYPE_DOC), ("host", HOST)];
        let backward = [("Host", HOST), ("Content-Type", CONTENT_TYPE_DOC)];
        assert_eq!(sign(MASKED_KEY, &forward), sign(MASKED_KEY, &backward));
    }

    #[test]
    fn an_authorization_header_parses_back_into_its_parts() {
        let headers = [("content-type", CONTENT_TYPE_DOC), ("host", HOST)];
        let parsed = Authorization::parse(&sign(MASKED_KEY, &headers).authorization).expect("parses");
        assert_eq!(parsed.secret_id, MASKED_ID);
        assert_eq!(parsed.date, "2019-02-25");
        assert_eq!(parsed.service, "cvm");
        assert_eq!(parsed.signed_headers, ["content-type", "host"]);
        assert_eq!(
            parsed.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        for bad in [
            "",
            "TC3-HMAC-SHA256",
            "HMAC Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=x",
            "TC3-HMAC-SHA256 Credential=a/b/c/other, SignedHeaders=host, Signature=x",
        ] {
            assert!(Authorization::parse(bad).is_none(), "{bad:?} must not parse");
        }
    }
}
