//! Configuration from the environment, read and validated once at cold start.

use std::fmt::Display;
use std::ops::RangeInclusive;
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

/// A variable with a default, checked by `parse` when present (set and not blank). Each variable
/// a template parameter feeds has its `parse` public, so that the template test can hold the
/// parameter's allowed values to exactly what `parse` accepts.
pub fn optional_with<T>(
    name: &'static str,
    default: T,
    parse: impl FnOnce(&str) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => parse(value.trim()),
        _ => Ok(default),
    }
}

/// A share in [0, 1], written as the template's rate parameters allow
/// (`^(0(\.\d+)?|1(\.0+)?)$`): `0`, `0.25`, `1`, `1.0`; no sign, exponent, leading zero or
/// bare point.
pub fn parse_unit_interval(name: &'static str, raw: &str) -> Result<f64, ConfigError> {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let well_formed = match raw.split_once('.') {
        None => raw == "0" || raw == "1",
        Some(("0", fraction)) => digits(fraction),
        Some(("1", fraction)) => digits(fraction) && fraction.bytes().all(|b| b == b'0'),
        Some(_) => false,
    };
    match raw.parse::<f64>() {
        Ok(value) if well_formed => Ok(value),
        _ => Err(ConfigError::Invalid {
            name,
            why: format!("{raw:?} is not a decimal from 0 to 1 (such as 0, 0.25 or 1)"),
        }),
    }
}

/// The variable `name` holding a Bedrock model id or inference profile id (letters, digits,
/// `.`, `:`, `-`, `_`).
pub fn parse_bedrock_model_id(name: &'static str, raw: &str) -> Result<String, ConfigError> {
    let id = raw.trim();
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || ".:-_".contains(c)) {
        Ok(id.to_owned())
    } else {
        Err(ConfigError::Invalid { name, why: format!("{raw:?} is not a Bedrock model id") })
    }
}

/// A whole number within `range`, in plain decimal digits.
pub fn parse_whole_in<T>(name: &'static str, raw: &str, range: RangeInclusive<T>) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd + Display,
{
    let plain = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<T>() {
        Ok(value) if plain && range.contains(&value) => Ok(value),
        _ => Err(ConfigError::Invalid {
            name,
            why: format!("{raw:?} is not a whole number from {} to {}", range.start(), range.end()),
        }),
    }
}

/// The environment variables every function reads.
pub const TABLE_NAME: &str = "TABLE_NAME";

/// Days customer text is kept after its last write (the TTL of the items holding it); every
/// function that writes such items reads it.
pub const RETENTION_DAYS: &str = "RETENTION_DAYS";

/// A value of `RETENTION_DAYS`: whole days within
/// [`autolearn_model::retention::RETENTION_DAYS_RANGE`], as the template's `RetentionDays` allows.
pub fn parse_retention_days(raw: &str) -> Result<autolearn_model::Retention, ConfigError> {
    let days = parse_whole_in(RETENTION_DAYS, raw, autolearn_model::retention::RETENTION_DAYS_RANGE)?;
    autolearn_model::Retention::days(days)
        .ok_or_else(|| ConfigError::Invalid { name: RETENTION_DAYS, why: format!("{days} is out of range") })
}

/// `RETENTION_DAYS` (default [`autolearn_model::retention::DEFAULT_RETENTION_DAYS`]).
pub fn retention() -> Result<autolearn_model::Retention, ConfigError> {
    optional_with(RETENTION_DAYS, autolearn_model::Retention::default(), parse_retention_days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_variable_is_named() {
        let error = required("AUTOLEARN_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(error.to_string(), "missing environment variable AUTOLEARN_TEST_SURELY_UNSET");
        assert_eq!(optional("AUTOLEARN_TEST_SURELY_UNSET", 7u32), Ok(7));
        assert_eq!(optional_with("AUTOLEARN_TEST_SURELY_UNSET", 7u32, |_| Ok(8)), Ok(7));
    }

    #[test]
    fn a_unit_interval_is_a_plain_decimal_from_0_to_1() {
        for (raw, value) in
            [("0", 0.0), ("0.0", 0.0), ("0.25", 0.25), ("0.999", 0.999), ("1", 1.0), ("1.00", 1.0)]
        {
            assert_eq!(parse_unit_interval("X", raw), Ok(value), "{raw}");
        }
        for raw in [
            "", "1.01", "2", "-0", "-0.1", ".5", "0.", "1.", "01", "+0.5", "1e-1", "0,5", "NaN", "inf",
            " 0.2",
        ] {
            let error = parse_unit_interval("X", raw).unwrap_err();
            assert!(error.to_string().starts_with("environment variable X is invalid: "), "{raw}: {error}");
        }
    }

    #[test]
    fn a_retention_is_whole_days_from_35_to_3650_and_its_errors_name_the_variable() {
        assert_eq!(parse_retention_days("400").map(|r| r.in_days()), Ok(400));
        assert_eq!(parse_retention_days("35").map(|r| r.in_days()), Ok(35));
        for raw in ["34", "3651", "0", "1e3", "400.0", "-1"] {
            let error = parse_retention_days(raw).unwrap_err();
            assert!(
                error.to_string().starts_with("environment variable RETENTION_DAYS is invalid"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_whole_number_is_plain_digits_within_its_range() {
        assert_eq!(parse_whole_in("X", "7", 7u32..=365), Ok(7));
        assert_eq!(parse_whole_in("X", "365", 7u32..=365), Ok(365));
        for raw in ["", "6", "366", "+7", "7.0", "-1", "1e2", "99999999999"] {
            assert!(parse_whole_in("X", raw, 7u32..=365).is_err(), "{raw}");
        }
    }
}
