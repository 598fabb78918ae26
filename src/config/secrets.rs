//! Secrets come from the environment only (or from a file named by `NAME_FILE`), never from a
//! config file that could be committed.

use super::ConfigError;
use crate::secret::Secret;
use crate::tencent::Credentials;
use std::collections::BTreeMap;

/// The secrets cvmbot may need.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    /// `DISCORD_TOKEN`.
    pub discord_token: Option<Secret>,
    /// `TENCENTCLOUD_SECRET_ID` + `TENCENTCLOUD_SECRET_KEY` (+ `TENCENTCLOUD_SESSION_TOKEN`).
    pub tencent: Option<Credentials>,
}

impl Secrets {
    /// Reads the secrets from `env`.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Secrets, ConfigError> {
        let discord_token = read(env, "DISCORD_TOKEN")?;
        let secret_id = read(env, "TENCENTCLOUD_SECRET_ID")?;
        let secret_key = read(env, "TENCENTCLOUD_SECRET_KEY")?;
        let token = read(env, "TENCENTCLOUD_SESSION_TOKEN")?;
        if let Some(id) = &secret_id {
            check_secret_id(env, id.expose())?;
        }
        let tencent = match (secret_id, secret_key) {
            (Some(id), Some(key)) => Some(Credentials {
                secret_id: id.expose().to_owned(),
                secret_key: key,
                token,
            }),
            (None, None) => None,
            (Some(_), None) => return Err(missing_pair("TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SECRET_ID")),
            (None, Some(_)) => return Err(missing_pair("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")),
        };
        Ok(Secrets { discord_token, tencent })
    }
}

fn missing_pair(missing: &str, present: &str) -> ConfigError {
    ConfigError::new(
        missing,
        None,
        "the environment",
        format!("is not set, but {present} is; set both or neither"),
    )
}

/// Where `name` was read from: the variable itself or its `_FILE`.
fn source(env: &BTreeMap<String, String>, name: &str) -> String {
    if env.get(name).is_some_and(|v| !v.trim().is_empty()) {
        name.to_owned()
    } else {
        format!("{name}_FILE")
    }
}

/// A SecretId is `AKID` and letters and digits; anything else (a key pasted into the wrong
/// variable, a quote, a space) would only fail later as a signature error.
fn check_secret_id(env: &BTreeMap<String, String>, id: &str) -> Result<(), ConfigError> {
    let well_formed = id.starts_with("AKID") && id.len() > 4 && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if well_formed {
        return Ok(());
    }
    Err(ConfigError::new(
        source(env, "TENCENTCLOUD_SECRET_ID"),
        None,
        "the environment",
        "is not a Tencent Cloud SecretId: those start with AKID and hold only letters and digits \
         (is the SecretKey in its place?)",
    ))
}

/// A secret with a space, a newline or another control character inside it would be sent as is
/// and refused by Discord or Tencent with a confusing error; refuse it here, naming the variable
/// (never the value).
fn check_secret_text(env: &BTreeMap<String, String>, name: &str, secret: &Secret) -> Result<(), ConfigError> {
    if secret.expose().chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::new(
            source(env, name),
            None,
            "the environment",
            "holds a space, a line break or a control character inside the value; a secret is one word \
             (surrounding whitespace and a final newline are dropped)",
        ));
    }
    Ok(())
}

/// `NAME` from the environment, or the contents of the file `NAME_FILE` points to. Empty is unset.
fn read(env: &BTreeMap<String, String>, name: &str) -> Result<Option<Secret>, ConfigError> {
    let secret = read_raw(env, name)?;
    if let Some(secret) = &secret {
        check_secret_text(env, name, secret)?;
    }
    Ok(secret)
}

fn read_raw(env: &BTreeMap<String, String>, name: &str) -> Result<Option<Secret>, ConfigError> {
    if let Some(value) = env.get(name).filter(|v| !v.trim().is_empty()) {
        return Ok(Some(Secret::new(value)));
    }
    let file_var = format!("{name}_FILE");
    let Some(path) = env.get(&file_var).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(Secret::new(text))),
        Ok(_) => Err(ConfigError::new(
            file_var,
            Some(path.clone()),
            "the environment",
            "the file is empty",
        )),
        Err(e) => {
            Err(ConfigError::new(file_var, Some(path.clone()), "the environment", "cannot read the file").caused_by(e))
        }
    }
}
