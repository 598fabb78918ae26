//! Configuration: typed settings from layered sources, validated at start-up, and secrets from the
//! environment only.
//!
//! Layers, later winning: the built-in `config/default.toml` < Tencent Cloud's own variables
//! (`TENCENTCLOUD_REGION`) < the file given with `--config` < `CVMBOT_SECTION__KEY` variables. Every error names the key, the bad value, where it came from
//! and what is allowed.

mod budgets;
mod layers;
mod secrets;
pub mod settings;
mod validate;
pub mod values;

pub use layers::{DEFAULTS, ENV_PREFIX};
pub use secrets::Secrets;
pub use settings::FileSettings;

use crate::chat::ChatSettings;
use crate::chat::discord::DiscordSettings;
use crate::desk::DeskSettings;
use crate::store::DatabaseSettings;
use crate::tencent::ClientSettings;
use crate::workers::WorkerSettings;
use layers::Layers;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The whole configuration, parsed: each part is the typed settings of the part of cvmbot it
/// configures, built once here and handed over by the assembly (`crate::app`).
#[derive(Clone, Debug)]
pub struct Config {
    /// The database to open.
    pub database: DatabaseSettings,
    /// The Tencent client's settings.
    pub tencent: ClientSettings,
    /// The engine's: the policy, presets, keep-trying and resend timings.
    pub desk: DeskSettings,
    /// The background workers' cadences, balance tiers, digest and lease.
    pub workers: WorkerSettings,
    /// Where the chat posts alerts, and threads.
    pub chat: ChatSettings,
    /// The Discord adapter's.
    pub discord: DiscordSettings,
    /// Logging.
    pub log: LogConfig,
    /// The health and metrics listener.
    pub service: crate::ops::ServiceSettings,
    /// Secrets from the environment.
    pub secrets: Secrets,
    /// The `--config` file, if one was read.
    pub file: Option<PathBuf>,
}

/// How to log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    /// Lines as JSON (for collectors) rather than text.
    pub json: bool,
    /// The level or directives (`info`, `info,cvmbot=debug`); `RUST_LOG` overrides it.
    pub level: String,
}

/// A configuration problem: the key, its value, where the value came from, and what is allowed;
/// a file that could not be read keeps the system's error as its source.
#[derive(Clone, Debug, thiserror::Error)]
#[error("invalid configuration: `{key}`{shown} (from {origin}): {problem}", shown = shown(value))]
pub struct ConfigError {
    /// The dotted key (`policy.max_count`) or the source (`--config`).
    pub key: String,
    /// The offending value as written, if there is one.
    pub value: Option<String>,
    /// Where it came from: a variable, a file, or the built-in defaults.
    pub origin: String,
    /// What is wrong and what is allowed.
    pub problem: String,
    /// The underlying failure, when there is one (reading a file).
    #[source]
    pub cause: Option<Arc<std::io::Error>>,
}

fn shown(value: &Option<String>) -> String {
    value.as_ref().map(|v| format!(" = {v}")).unwrap_or_default()
}

impl ConfigError {
    /// The problem `problem` with `key` (holding `value`, from `origin`).
    pub fn new(
        key: impl Into<String>,
        value: Option<String>,
        origin: impl Into<String>,
        problem: impl Into<String>,
    ) -> Self {
        ConfigError {
            key: key.into(),
            value,
            origin: origin.into(),
            problem: problem.into(),
            cause: None,
        }
    }

    /// The same problem, caused by `cause`.
    pub fn caused_by(self, cause: std::io::Error) -> Self {
        ConfigError {
            cause: Some(Arc::new(cause)),
            ..self
        }
    }
}

impl Config {
    /// Loads from the optional `--config` file and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Config::load_from(file, &env)
    }

    /// Loads from the optional file and the given environment (tests pass their own).
    pub fn load_from(file: Option<&Path>, env: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        Config::load_layered(&[], file, env)
    }

    /// Loads with built-in layers (name, text) between the defaults and the optional file: the
    /// demo's settings, for instance.
    pub fn load_layered(
        built_in: &[(&str, &str)],
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let text = match file {
            Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "--config",
                    Some(path.display().to_string()),
                    "the command line",
                    "cannot read the file",
                )
                .caused_by(e)
            })?),
            None => None,
        };
        let mut files: Vec<(String, &str)> = built_in
            .iter()
            .map(|(name, text)| ((*name).to_owned(), *text))
            .collect();
        if let (Some(path), Some(text)) = (file, text.as_deref()) {
            files.push((path.display().to_string(), text));
        }
        let layers = Layers::build(&files, env).map_err(|problem| {
            ConfigError::new(
                "--config",
                file.map(|p| p.display().to_string()),
                "the command line",
                problem,
            )
        })?;
        let settings = deserialize(&layers)?;
        let secrets = Secrets::from_env(env)?;
        validate::validate(&settings, secrets, &layers, file.map(Path::to_path_buf))
    }
}

fn deserialize(layers: &Layers) -> Result<FileSettings, ConfigError> {
    let value = toml::Value::Table(layers.merged.clone());
    serde_path_to_error::deserialize(value).map_err(|error| {
        let parent = error.path().to_string().replace('[', ".").replace(']', "");
        let parent = if parent == "." { String::new() } else { parent };
        // toml appends where it was ("in `policy`"); the key says that better.
        let problem = error.inner().to_string().lines().next().unwrap_or_default().to_owned();
        let unknown = problem
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(field, _)| field.to_owned());
        let (key, value) = if let Some(field) = unknown {
            // The key that is not a setting, so its origin (a file, a variable) can be named.
            let key = if parent.is_empty() || parent == field || parent.ends_with(&format!(".{field}")) {
                if parent.is_empty() { field } else { parent }
            } else {
                format!("{parent}.{field}")
            };
            (key, None)
        } else {
            let key = parent;
            let value = layers.value_at(&key);
            (key, value)
        };
        ConfigError::new(key.clone(), value, layers.origin(&key), problem)
    })
}

#[cfg(test)]
mod budget_tests;
#[cfg(test)]
mod tests;
