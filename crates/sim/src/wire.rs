//! How a request arrives: the v3 API takes `POST /` with a JSON body, and also `GET /` (or a form
//! `POST`) with the parameters form-urlencoded and flattened the way the SDKs flatten them
//! (`Placement.Zone=…`, `InstanceIds.0=…`, `Filters.0.Values.0=…`). A form request may be signed
//! with TC3-HMAC-SHA256 (common parameters in `X-TC-*` headers) or with the older HmacSHA1 /
//! HmacSHA256 method (common parameters, `SecretId` and `Signature` among the form fields).
//! This module turns any of these into one shape: the common parameters and a JSON tree.

use super::actions::{ApiFailure, fail};
use axum::http::HeaderMap;
use serde_json::{Map, Value};

/// The common parameters of the older signature method, which are not the action's input.
const COMMON: [&str; 11] = [
    "Action",
    "Version",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Token",
    "Language",
    "RequestClient",
];

/// An HTTP request to `/` as received.
pub struct Incoming<'a> {
    /// `GET` or `POST`.
    pub method: &'a str,
    /// The raw query string (without `?`), empty when there is none.
    pub query: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body bytes.
    pub body: &'a [u8],
}

impl Incoming<'_> {
    /// A header's value, trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    }

    /// The form fields of a `GET`, or of a form-urlencoded `POST`; `None` for a JSON body.
    pub fn form(&self) -> Option<Vec<(String, String)>> {
        if self.method.eq_ignore_ascii_case("GET") {
            return Some(decode(self.query.as_bytes()));
        }
        let content_type = self.header("content-type").unwrap_or_default().to_ascii_lowercase();
        content_type
            .starts_with("application/x-www-form-urlencoded")
            .then(|| decode(self.body))
    }
}

fn decode(bytes: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The value of the form field `name`, if sent.
pub fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Rebuilds the JSON tree of a flattened form, leaving out the common parameters. Every leaf is
/// a string, as on the wire; [`coerce`] turns one into a number or a boolean where the action's
/// input needs it.
pub fn unflatten(form: &[(String, String)]) -> Result<Value, ApiFailure> {
    let mut root = Value::Object(Map::new());
    for (key, value) in form.iter().filter(|(k, _)| !COMMON.contains(&k.as_str())) {
        let mut node = &mut root;
        let segments: Vec<&str> = key.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return Err(fail(
                "InvalidParameter",
                format!("The parameter name `{key}` is not valid."),
            ));
        }
        for (i, segment) in segments.iter().enumerate() {
            let Value::Object(map) = node else {
                return Err(conflict(key));
            };
            let last = i + 1 == segments.len();
            let entry = map
                .entry(segment.to_string())
                .or_insert_with(|| if last { Value::Null } else { Value::Object(Map::new()) });
            if last {
                if !entry.is_null() {
                    return Err(conflict(key));
                }
                *entry = Value::String(value.clone());
            }
            node = entry;
        }
    }
    Ok(arrays(root))
}

fn conflict(key: &str) -> ApiFailure {
    fail(
        "InvalidParameter",
        format!("The parameter `{key}` is given twice or is both a value and a structure."),
    )
}

/// Objects whose keys are all indexes become arrays in index order.
fn arrays(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let indexed = !map.is_empty() && map.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, Value)> = map
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(0), arrays(v)))
                    .collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(map.into_iter().map(|(k, v)| (k, arrays(v))).collect())
            }
        }
        other => other,
    }
}

/// Turns the string leaf at `path` into the number or boolean the input expects, when `error`
/// (serde's message) says a string was found where something else was wanted. False when it
/// cannot: the original error stands.
pub fn coerce(root: &mut Value, path: &serde_path_to_error::Path, error: &str) -> bool {
    use serde_path_to_error::Segment;
    let Some(expected) = error
        .strip_prefix("invalid type: string")
        .and_then(|rest| rest.rsplit(", expected ").next())
    else {
        return false;
    };
    let mut node = root;
    for segment in path.iter() {
        node = match (segment, node) {
            (Segment::Map { key }, Value::Object(map)) => match map.get_mut(key) {
                Some(next) => next,
                None => return false,
            },
            (Segment::Seq { index }, Value::Array(items)) => match items.get_mut(*index) {
                Some(next) => next,
                None => return false,
            },
            _ => return false,
        };
    }
    let Value::String(text) = node else {
        return false;
    };
    let replacement = if expected.contains("bool") {
        match text.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return false,
        }
    } else {
        match serde_json::from_str::<serde_json::Number>(text.trim()) {
            Ok(number) => Value::Number(number),
            Err(_) => return false,
        }
    };
    *node = replacement;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_flattened_form_becomes_the_json_tree_the_sdk_flattened() {
        let tree = unflatten(&form(&[
            ("Action", "RunInstances"),
            ("Placement.Zone", "ap-guangzhou-3"),
            ("InstanceIds.1", "ins-b"),
            ("InstanceIds.0", "ins-a"),
            ("Filters.0.Name", "zone"),
            ("Filters.0.Values.0", "ap-guangzhou-3"),
            ("InstanceCount", "2"),
        ]))
        .unwrap();
        assert_eq!(
            tree,
            json!({
                "Placement": {"Zone": "ap-guangzhou-3"},
                "InstanceIds": ["ins-a", "ins-b"],
                "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3"]}],
                "InstanceCount": "2",
            })
        );
    }

    #[test]
    fn a_parameter_given_as_both_value_and_structure_is_refused() {
        let error = unflatten(&form(&[("Placement", "x"), ("Placement.Zone", "y")])).unwrap_err();
        assert_eq!(error.code, "InvalidParameter");
        assert!(unflatten(&form(&[("A..B", "x")])).is_err());
    }

    #[test]
    fn a_string_leaf_is_coerced_only_where_a_number_or_boolean_is_expected() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Input {
            count: i64,
            flags: Vec<bool>,
            name: String,
        }
        let mut tree = json!({"count": "3", "flags": ["True", "false"], "name": "42"});
        let parsed = loop {
            match serde_path_to_error::deserialize::<_, Input>(tree.clone()) {
                Ok(parsed) => break parsed,
                Err(e) => {
                    let expected = e.inner().to_string();
                    assert!(coerce(&mut tree, e.path(), &expected), "{expected}");
                }
            }
        };
        assert_eq!(
            (parsed.count, parsed.flags, parsed.name.as_str()),
            (3, vec![true, false], "42")
        );
        let mut bad = json!({"count": "three"});
        let e = serde_path_to_error::deserialize::<_, Input>(bad.clone()).unwrap_err();
        assert!(!coerce(&mut bad, e.path(), &e.inner().to_string()));
    }
}
