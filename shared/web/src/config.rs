//! Configuration from the environment, read and validated once at cold start.

use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {why}")]
    Invalid { name: &'static str, why: String },
}

/// A variable that must be set and non-empty.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// A variable with a default, parsed and validated when present.
pub fn optional<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map_err(|error: T::Err| ConfigError::Invalid { name, why: error.to_string() }),
        _ => Ok(default),
    }
}

/// The environment variables every function reads.
pub const TABLE_NAME: &str = "TABLE_NAME";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let error = required("AUTOLEARN_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(error.to_string(), "missing environment variable AUTOLEARN_TEST_SURELY_UNSET");
        assert_eq!(optional("AUTOLEARN_TEST_SURELY_UNSET", 7u32), Ok(7));
    }
}
