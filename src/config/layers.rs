//! Building the merged settings tree: built-in defaults < Tencent Cloud's own variables
//! (`TENCENTCLOUD_REGION`) < `--config` file < `CVMBOT_…` variables, remembering where each value
//! came from so an error can say where to fix it.
//!
//! Layers merge key by key, except the tables in [`WHOLE_TABLES`]: a layer that writes any part of
//! one of those replaces it whole. A policy table means exactly what the layer that wrote it says
//! (`requesters = { roles = ["R"] }` admits holders of R only, not also "anyone" from the defaults),
//! and a preset is exactly the options it lists.

use std::collections::BTreeMap;
use toml::{Table, Value};

/// The built-in defaults: `config/default.toml`, compiled in.
pub const DEFAULTS: &str = include_str!("../../config/default.toml");

/// The prefix of override variables.
pub const ENV_PREFIX: &str = "CVMBOT_";

/// Variables with the prefix that are not settings: the configuration file, and the fault
/// injection the crash tests use (see `crate::crashpoint`).
pub const NOT_SETTINGS: &[&str] = &["CVMBOT_CONFIG", crate::crashpoint::VARIABLE];

/// Variables Tencent Cloud's SDKs and tccli read, and the setting each gives its default: an
/// operator who already exports them for those tools gets the same region from cvmbot, while a
/// file or a `CVMBOT_…` variable still says what cvmbot itself uses.
pub const TENCENT_VARIABLES: &[(&str, &str)] = &[("TENCENTCLOUD_REGION", "tencent.region")];

/// Tables a layer replaces whole rather than merging into (`*` stands for any one key). Arrays
/// (`policy.tiers`, `balance.warn_below`, …) are always replaced whole. `tencent.rate_limits` is
/// deliberately merged per action: each limit is a setting of its own, and an action a file does
/// not list keeps Tencent's documented limit rather than losing its limit.
pub const WHOLE_TABLES: &[&str] = &["policy.requesters", "policy.approvers", "policy.admins", "presets.*"];

/// Where the built-in defaults' values are said to come from.
const DEFAULTS_ORIGIN: &str = "the built-in defaults";

/// The layers after merging, and where values came from.
#[derive(Debug)]
pub struct Layers {
    /// The merged tree.
    pub merged: Table,
    /// Dotted key of every value written → the layer that wrote it last.
    origins: BTreeMap<String, String>,
}

impl Layers {
    /// Merges the defaults, then each file (name, text) in order, then the environment.
    pub fn build(files: &[(String, &str)], env: &BTreeMap<String, String>) -> Result<Layers, String> {
        let defaults: Table = DEFAULTS
            .parse()
            .map_err(|e| format!("the built-in defaults do not parse: {e}"))?;
        let mut layers = Layers {
            merged: Table::new(),
            origins: BTreeMap::new(),
        };
        layers.apply(&defaults, DEFAULTS_ORIGIN);
        for (name, key) in TENCENT_VARIABLES {
            if let Some(value) = env.get(*name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                let table = table_at(key, Value::String(value.to_owned()));
                layers.apply(&table, &format!("environment variable {name}"));
            }
        }
        for (name, text) in files {
            let table: Table = text
                .parse()
                .map_err(|e: toml::de::Error| format!("{name} is not valid TOML: {e}"))?;
            layers.apply(&table, name);
        }
        let mut overlay = Table::new();
        let mut variables = BTreeMap::new();
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if NOT_SETTINGS.contains(&name.as_str()) {
                continue;
            }
            if rest.is_empty() || rest.split("__").any(str::is_empty) {
                return Err(format!(
                    "the environment variable {name} is not a setting: settings are named \
                     {ENV_PREFIX}<SECTION>__<KEY>, such as CVMBOT_POLICY__MAX_COUNT"
                ));
            }
            let path: Vec<String> = rest.split("__").map(str::to_owned).collect();
            let key = insert_path(&mut overlay, &layers.merged, &path, env_value(raw));
            variables.insert(key, format!("environment variable {name}"));
        }
        layers.apply_env(&overlay, &variables);
        Ok(layers)
    }

    /// Merges one file layer.
    fn apply(&mut self, overlay: &Table, origin: &str) {
        let mut written = Vec::new();
        merge(&mut self.merged, overlay, "", &mut written);
        for key in written {
            self.record(key, origin.to_owned());
        }
    }

    /// Merges the environment layer: each value's origin is its own variable.
    fn apply_env(&mut self, overlay: &Table, variables: &BTreeMap<String, String>) {
        let mut written = Vec::new();
        merge(&mut self.merged, overlay, "", &mut written);
        for key in written {
            let below = format!("{key}.");
            let origin = prefixes(&key)
                .find_map(|prefix| variables.get(prefix))
                .or_else(|| variables.iter().find(|(k, _)| k.starts_with(&below)).map(|(_, v)| v))
                .cloned()
                .unwrap_or_else(|| "the environment".to_owned());
            self.record(key, origin);
        }
    }

    fn record(&mut self, key: String, origin: String) {
        if let Some(unit) = whole_table_of(&key) {
            // A replaced table keeps no origins from the layers below it.
            let below = format!("{unit}.");
            self.origins.retain(|k, _| k != &unit && !k.starts_with(&below));
        }
        self.origins.insert(key, origin);
    }

    /// Where the value at dotted `key` came from: a variable, a file, or the defaults.
    pub fn origin(&self, key: &str) -> String {
        if let Some(origin) = prefixes(key).find_map(|prefix| self.origins.get(prefix)) {
            return origin.clone();
        }
        // A table: where its values came from, if one layer wrote them all.
        let below = format!("{key}.");
        let mut sources = self
            .origins
            .iter()
            .filter(|(k, _)| k.starts_with(&below))
            .map(|(_, origin)| origin);
        match sources.next() {
            Some(first) if sources.all(|o| o == first) => first.clone(),
            _ => DEFAULTS_ORIGIN.to_owned(),
        }
    }

    /// The merged value at dotted `key`, as TOML text.
    pub fn value_at(&self, key: &str) -> Option<String> {
        lookup(&self.merged, key).map(|v| v.to_string())
    }
}

/// `a.b.c`, then `a.b`, then `a`.
fn prefixes(key: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(Some(key), |k| k.rsplit_once('.').map(|(parent, _)| parent))
}

/// The whole table (as a dotted key) that `key` lies in or is, if any.
fn whole_table_of(key: &str) -> Option<String> {
    let parts: Vec<&str> = key.split('.').collect();
    WHOLE_TABLES.iter().find_map(|pattern| {
        let pattern: Vec<&str> = pattern.split('.').collect();
        let matches = parts.len() >= pattern.len() && pattern.iter().zip(&parts).all(|(p, k)| *p == "*" || p == k);
        matches.then(|| parts[..pattern.len()].join("."))
    })
}

/// A variable's text as a TOML value when it is one (`20`, `true`, `["a"]`, `{ x = 1 }`), else a string.
fn env_value(raw: &str) -> Value {
    let looks_structured = raw.starts_with('[') || raw.starts_with('{');
    let looks_scalar = raw.parse::<i64>().is_ok() || raw.parse::<f64>().is_ok() || raw == "true" || raw == "false";
    if (looks_structured || looks_scalar)
        && let Ok(mut table) = format!("v = {raw}").parse::<Table>()
        && let Some(value) = table.remove("v")
    {
        return value;
    }
    Value::String(raw.to_owned())
}

/// Merges `overlay` into `base` (at dotted `path`), collecting the dotted keys of the values written.
fn merge(base: &mut Table, overlay: &Table, path: &str, written: &mut Vec<String>) {
    for (key, value) in overlay {
        let dotted = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        let whole = whole_table_of(&dotted).is_some_and(|unit| unit == dotted);
        match (base.get_mut(key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) if !whole => {
                merge(existing, incoming, &dotted, written);
            }
            _ => {
                base.insert(key.clone(), value.clone());
                written.push(dotted);
            }
        }
    }
}

/// A table holding only `value` at dotted `key`.
fn table_at(key: &str, value: Value) -> Table {
    let mut parts = key.rsplit('.');
    let last = parts.next().unwrap_or(key);
    let mut table = Table::from_iter([(last.to_owned(), value)]);
    for part in parts {
        table = Table::from_iter([(part.to_owned(), Value::Table(table))]);
    }
    table
}

/// Same key ignoring case and `-`/`_` (variable names can't hold dashes or lowercase reliably).
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| x.eq_ignore_ascii_case(&y) || (matches!(x, '-' | '_') && matches!(y, '-' | '_')))
}

/// Inserts `value` at `path` in `overlay`, spelling each key as `known` (the layers below) does
/// when they have it; returns the dotted key used.
fn insert_path(overlay: &mut Table, known: &Table, path: &[String], value: Value) -> String {
    let spelled = overlay
        .keys()
        .chain(known.keys())
        .find(|k| same_key(k, &path[0]))
        .cloned();
    let key = spelled.unwrap_or_else(|| path[0].to_ascii_lowercase());
    if path.len() == 1 {
        overlay.insert(key.clone(), value);
        return key;
    }
    let known_child = match known.get(&key) {
        Some(Value::Table(table)) => table.clone(),
        _ => Table::new(),
    };
    let child = overlay.entry(key.clone()).or_insert_with(|| Value::Table(Table::new()));
    if !child.is_table() {
        *child = Value::Table(Table::new());
    }
    let rest = insert_path(child.as_table_mut().expect("a table"), &known_child, &path[1..], value);
    format!("{key}.{rest}")
}

fn lookup<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut value = table.get(parts.next()?)?;
    for part in parts {
        value = match value {
            Value::Table(t) => t.get(part)?,
            Value::Array(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_tables_are_found_by_pattern() {
        assert_eq!(
            whole_table_of("policy.requesters.roles").as_deref(),
            Some("policy.requesters")
        );
        assert_eq!(whole_table_of("presets.web.type").as_deref(), Some("presets.web"));
        assert_eq!(whole_table_of("presets").as_deref(), None);
        assert_eq!(whole_table_of("policy.max_count"), None);
    }
}
