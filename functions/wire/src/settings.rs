//! Configuration pieces both binaries read the same way: the error naming the variable, the
//! secret that never prints, and the checks for required values, secrets and URLs.

use std::fmt;

/// A configuration problem, naming the variable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{0} is not set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("{name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// A secret: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Returns the value, for signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Looks a variable up: the process environment in binaries, a map in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Reads a variable that must be set.
pub fn required(get: Lookup<'_>, name: &'static str) -> Result<String, ConfigError> {
    get(name).ok_or(ConfigError::Missing(name))
}

/// Reads a shared secret: at least 16 characters, so a placeholder is not taken for one.
pub fn secret(get: Lookup<'_>, name: &'static str) -> Result<Secret, ConfigError> {
    let v = required(get, name)?;
    if v.len() < 16 {
        return Err(ConfigError::Invalid {
            name,
            why: "a secret needs at least 16 characters".into(),
        });
    }
    Ok(Secret(v))
}

/// Checks a URL's scheme and host, dropping a trailing `/`.
pub fn url(name: &'static str, value: &str, schemes: &[&str]) -> Result<String, ConfigError> {
    let v = value.trim().trim_end_matches('/').to_owned();
    let ok = schemes.iter().any(|s| {
        v.strip_prefix(s)
            .and_then(|r| r.strip_prefix("://"))
            .is_some_and(|h| !h.is_empty())
    });
    if ok {
        Ok(v)
    } else {
        Err(ConfigError::Invalid {
            name,
            why: format!("expected a {} URL, got {v:?}", schemes.join(" or ")),
        })
    }
}
