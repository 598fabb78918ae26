//! The request-body rules Discord enforces and a bot can break: message limits, component
//! layout and application-command shape. Violations become Discord's 400 responses.

use serde_json::{Value, json};

/// One `Invalid Form Body` error at a dotted path, e.g. `components.0.components.1.custom_id`.
#[derive(Debug)]
pub struct FormError {
    pub path: String,
    pub code: &'static str,
    pub message: String,
}

type Check = Result<(), FormError>;

fn fail(path: impl Into<String>, code: &'static str, message: impl Into<String>) -> Check {
    Err(FormError {
        path: path.into(),
        code,
        message: message.into(),
    })
}

impl FormError {
    /// Discord's error body: `{"code":50035,"message":"Invalid Form Body","errors":{…}}`.
    pub fn to_json(&self) -> Value {
        let mut inner = json!({"_errors": [{"code": self.code, "message": self.message}]});
        for seg in self.path.split('.').rev().filter(|s| !s.is_empty()) {
            inner = json!({ seg: inner });
        }
        json!({"code": 50035, "message": "Invalid Form Body", "errors": inner})
    }
}

fn str_len(v: &Value, key: &str) -> usize {
    v.get(key).and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

fn max_len(v: &Value, key: &str, max: usize, path: &str) -> Check {
    let n = str_len(v, key);
    if n > max {
        return fail(
            format!("{path}{key}"),
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
    }
    Ok(())
}

/// Whether a create-message body has anything to show (Discord error 50006 otherwise).
pub fn is_empty_message(body: &Value, files: usize) -> bool {
    let nonempty = |k: &str| match body.get(k) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true,
    };
    files == 0
        && !["content", "embeds", "components", "sticker_ids", "poll"]
            .iter()
            .any(|k| nonempty(k))
}

/// Content, embed and component limits shared by every message-creating route.
pub fn message_body(body: &Value) -> Check {
    max_len(body, "content", 2000, "")?;
    let nonce = body.get("nonce").and_then(Value::as_str);
    if nonce.is_some_and(|s| s.chars().count() > 25) {
        return fail("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
    }
    let embeds = body
        .get("embeds")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    if embeds.len() > 10 {
        return fail("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.");
    }
    let mut total = 0;
    for (i, e) in embeds.iter().enumerate() {
        let p = format!("embeds.{i}.");
        max_len(e, "title", 256, &p)?;
        max_len(e, "description", 4096, &p)?;
        total += str_len(e, "title") + str_len(e, "description");
        if let Some(f) = e.get("footer") {
            max_len(f, "text", 2048, &format!("{p}footer."))?;
            total += str_len(f, "text");
        }
        if let Some(a) = e.get("author") {
            max_len(a, "name", 256, &format!("{p}author."))?;
            total += str_len(a, "name");
        }
        let fields = e.get("fields").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        if fields.len() > 25 {
            return fail(
                format!("{p}fields"),
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            );
        }
        for (j, f) in fields.iter().enumerate() {
            let fp = format!("{p}fields.{j}.");
            for (key, max) in [("name", 256), ("value", 1024)] {
                if str_len(f, key) == 0 {
                    return fail(format!("{fp}{key}"), "BASE_TYPE_REQUIRED", "This field is required");
                }
                max_len(f, key, max, &fp)?;
                total += str_len(f, key);
            }
        }
    }
    if total > 6000 {
        return fail(
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            "Embed size exceeds maximum size of 6000",
        );
    }
    components(body.get("components"))
}

fn components(rows: Option<&Value>) -> Check {
    let rows = rows.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if rows.len() > 5 {
        return fail("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.");
    }
    let mut seen = std::collections::HashSet::new();
    for (i, row) in rows.iter().enumerate() {
        let p = format!("components.{i}");
        if row.get("type").and_then(Value::as_u64) != Some(1) {
            return fail(
                format!("{p}.type"),
                "UNION_TYPE_CHOICES",
                "Top-level components must be action rows",
            );
        }
        let items = row
            .get("components")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if items.is_empty() || items.len() > 5 {
            return fail(
                format!("{p}.components"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            );
        }
        for (j, c) in items.iter().enumerate() {
            let cp = format!("{p}.components.{j}");
            let kind = c.get("type").and_then(Value::as_u64).unwrap_or(0);
            if kind != 2 && items.len() > 1 {
                return fail(
                    format!("{p}.components"),
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "The specified component exceeds the maximum width",
                );
            }
            let link = kind == 2 && c.get("style").and_then(Value::as_u64) == Some(5);
            if link {
                if c.get("url").and_then(Value::as_str).is_none() {
                    return fail(format!("{cp}.url"), "BASE_TYPE_REQUIRED", "This field is required");
                }
                continue;
            }
            let n = str_len(c, "custom_id");
            if !(1..=100).contains(&n) {
                return fail(
                    format!("{cp}.custom_id"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                );
            }
            if !seen.insert(c["custom_id"].as_str().unwrap_or_default().to_string()) {
                return fail(
                    format!("{cp}.custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                );
            }
            max_len(c, "label", 80, &format!("{cp}."))?;
        }
    }
    Ok(())
}

/// The largest magnitude of an INTEGER or NUMBER option (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

fn is_valid_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=32).contains(&n)
        && name
            .chars()
            .all(|c| c == '-' || c == '_' || c.is_numeric() || (c.is_alphabetic() && !c.is_uppercase()))
}

/// Rules for one application command (CHAT_INPUT when `type` is absent or 1).
pub fn command(cmd: &Value, path: &str) -> Check {
    let chat_input = cmd.get("type").and_then(Value::as_u64).unwrap_or(1) == 1;
    let name = cmd.get("name").and_then(Value::as_str).unwrap_or_default();
    if chat_input && !is_valid_name(name) {
        return fail(
            format!("{path}name"),
            "APPLICATION_COMMAND_INVALID_NAME",
            format!("Command name is invalid: {name:?}"),
        );
    }
    if chat_input && !(1..=100).contains(&str_len(cmd, "description")) {
        return fail(
            format!("{path}description"),
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 100 in length.",
        );
    }
    let size = combined_size(cmd);
    if chat_input && size > MAX_COMMAND_SIZE {
        return fail(
            path.to_owned(),
            "APPLICATION_COMMAND_TOO_LARGE",
            format!("Command exceeds maximum size ({MAX_COMMAND_SIZE}); it is {size}."),
        );
    }
    options(cmd.get("options"), &format!("{path}options"), 0)
}

/// The most characters a command's names, descriptions and choice values may add up to.
pub const MAX_COMMAND_SIZE: usize = 8000;

/// Characters in a command's (or an option's) name and description, its options' and their
/// choices' names and values, recursively: what Discord's size limit counts.
pub fn combined_size(v: &Value) -> usize {
    let text = |key: &str| v.get(key).and_then(Value::as_str).map_or(0, |s| s.chars().count());
    let choices: usize = v
        .get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let name = c.get("name").and_then(Value::as_str).map_or(0, |s| s.chars().count());
            let value = match c.get("value") {
                Some(Value::String(s)) => s.chars().count(),
                Some(other) => other.to_string().chars().count(),
                None => 0,
            };
            name + value
        })
        .sum();
    let options: usize = v
        .get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(combined_size)
        .sum();
    text("name") + text("description") + choices + options
}

fn options(opts: Option<&Value>, path: &str, depth: u8) -> Check {
    let opts = opts.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
    if opts.len() > 25 {
        return fail(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.");
    }
    let kinds: Vec<u64> = opts
        .iter()
        .map(|o| o.get("type").and_then(Value::as_u64).unwrap_or(0))
        .collect();
    let subs = kinds.iter().filter(|k| **k == 1 || **k == 2).count();
    if subs != 0 && subs != kinds.len() {
        return fail(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        );
    }
    let mut optional_seen = false;
    let mut names = std::collections::HashSet::new();
    for (i, o) in opts.iter().enumerate() {
        let p = format!("{path}.{i}.");
        let name = o.get("name").and_then(Value::as_str).unwrap_or_default();
        if !is_valid_name(name) {
            return fail(
                format!("{p}name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                format!("Option name is invalid: {name:?}"),
            );
        }
        if !names.insert(name) {
            return fail(
                format!("{p}name"),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            );
        }
        if !(1..=100).contains(&str_len(o, "description")) {
            return fail(
                format!("{p}description"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            );
        }
        match kinds[i] {
            2 if depth > 0 => {
                return fail(
                    format!("{p}type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups cannot be nested",
                );
            }
            1 if depth > 1 => {
                return fail(
                    format!("{p}type"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-commands cannot be nested here",
                );
            }
            2 if o["options"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s["type"] != 1)) =>
            {
                return fail(
                    format!("{p}options"),
                    "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                    "Sub-command groups may only contain sub-commands",
                );
            }
            1 | 2 => options(o.get("options"), &format!("{p}options"), depth + 1)?,
            _ => {
                let required = o.get("required").and_then(Value::as_bool).unwrap_or(false);
                if required && optional_seen {
                    return fail(
                        format!("{p}required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    );
                }
                optional_seen |= !required;
                // INTEGER and NUMBER options hold -(2^53 - 1)..=2^53 - 1 (JavaScript's safe
                // integers); bounds outside that are refused.
                for key in ["min_value", "max_value"] {
                    if o.get(key)
                        .and_then(Value::as_f64)
                        .is_some_and(|v| v.abs() > MAX_SAFE_INTEGER)
                    {
                        return fail(
                            format!("{p}{key}"),
                            "NUMBER_TYPE_MAX",
                            "Value should be less than or equal to 9007199254740991.",
                        );
                    }
                }
                let choices = o.get("choices").and_then(Value::as_array).map_or(0, Vec::len);
                if choices > 25 {
                    return fail(
                        format!("{p}choices"),
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 25 or fewer in length.",
                    );
                }
                if choices > 0 && o.get("autocomplete").and_then(Value::as_bool) == Some(true) {
                    return fail(
                        format!("{p}autocomplete"),
                        "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                        "Autocomplete cannot be set with choices",
                    );
                }
            }
        }
    }
    Ok(())
}
