//! Building the merged settings tree: built-in defaults < `--config` file < `CVMBOT_…` variables,
//! remembering where each value came from so an error can say where to fix it.

use std::collections::BTreeMap;
use toml::{Table, Value};

/// The built-in defaults: `config/default.toml`, compiled in.
pub const DEFAULTS: &str = include_str!("../../config/default.toml");

/// The prefix of override variables.
pub const ENV_PREFIX: &str = "CVMBOT_";

/// Variables with the prefix that are not settings.
const NOT_SETTINGS: &[&str] = &["CVMBOT_CONFIG"];

/// The layers after merging, and where values came from.
#[derive(Debug)]
pub struct Layers {
    /// The merged tree.
    pub merged: Table,
    /// The `--config` file's own tree, if one was given.
    file: Option<(String, Table)>,
    /// Dotted key → variable that set it.
    env_origins: BTreeMap<String, String>,
}

impl Layers {
    /// Merges the defaults, then each file (name, text) in order, then the environment. The last
    /// file is the one whose name is reported as the origin of its values.
    pub fn build(files: &[(String, &str)], env: &BTreeMap<String, String>) -> Result<Layers, String> {
        let mut merged: Table = DEFAULTS
            .parse()
            .map_err(|e| format!("the built-in defaults do not parse: {e}"))?;
        let mut file = None;
        for (name, text) in files {
            let table: Table = text
                .parse()
                .map_err(|e: toml::de::Error| format!("{name} is not valid TOML: {e}"))?;
            merge(&mut merged, &table);
            file = Some((name.clone(), table));
        }
        let mut env_origins = BTreeMap::new();
        for (name, raw) in env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if NOT_SETTINGS.contains(&name.as_str()) || rest.is_empty() {
                continue;
            }
            let path: Vec<String> = rest.split("__").map(str::to_owned).collect();
            let key = insert_path(&mut merged, &path, env_value(raw));
            env_origins.insert(key, name.clone());
        }
        Ok(Layers {
            merged,
            file,
            env_origins,
        })
    }

    /// Where the value at dotted `key` came from: a variable, the file, or the defaults.
    pub fn origin(&self, key: &str) -> String {
        let mut probe = key.to_owned();
        loop {
            if let Some(variable) = self.env_origins.get(&probe) {
                return format!("environment variable {variable}");
            }
            match probe.rsplit_once('.') {
                Some((parent, _)) => probe = parent.to_owned(),
                None => break,
            }
        }
        if let Some((path, table)) = &self.file
            && lookup(table, key).is_some()
        {
            return path.clone();
        }
        "the built-in defaults".to_owned()
    }

    /// The merged value at dotted `key`, as TOML text.
    pub fn value_at(&self, key: &str) -> Option<String> {
        lookup(&self.merged, key).map(|v| v.to_string())
    }
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

fn merge(base: &mut Table, overlay: &Table) {
    for (key, value) in overlay {
        match (base.get_mut(key), value) {
            (Some(Value::Table(existing)), Value::Table(incoming)) => merge(existing, incoming),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Same key ignoring case and `-`/`_` (variable names can't hold dashes or lowercase reliably).
fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| x.eq_ignore_ascii_case(&y) || (matches!(x, '-' | '_') && matches!(y, '-' | '_')))
}

/// Inserts `value` at `path`, matching existing keys loosely; returns the dotted key used.
fn insert_path(table: &mut Table, path: &[String], value: Value) -> String {
    let existing = table.keys().find(|k| same_key(k, &path[0])).cloned();
    let key = existing.unwrap_or_else(|| path[0].to_ascii_lowercase());
    if path.len() == 1 {
        table.insert(key.clone(), value);
        return key;
    }
    let child = table.entry(key.clone()).or_insert_with(|| Value::Table(Table::new()));
    if !child.is_table() {
        *child = Value::Table(Table::new());
    }
    let rest = insert_path(child.as_table_mut().expect("a table"), &path[1..], value);
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
