//! A string that must never be printed: Discord tokens and Tencent Cloud SecretKeys.

use std::fmt;

/// A secret value. `Debug` and `Display` print `[redacted]`; it has no `Serialize`, so it cannot
/// reach a log line, an error message, the database or a config dump by accident. Call
/// [`Secret::expose`] at the one place the value is needed (signing, the `Authorization` header).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Box<str>);

impl Secret {
    /// Wraps a value; surrounding whitespace (a trailing newline in a secrets file) is dropped.
    pub fn new(value: impl AsRef<str>) -> Self {
        Secret(value.as_ref().trim().into())
    }

    /// The secret itself. Keep the borrow short and never format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is empty (an unset variable exported as `""`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE\n");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{:?}", Some(&secret)), "Some([redacted])");
        assert_eq!(secret.expose(), "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
    }
}
