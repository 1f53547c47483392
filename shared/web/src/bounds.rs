//! Bounds on what a webhook may ask to be recorded: when it happened, and names that become
//! counters. Each refusal is a 422 naming the field, checked before anything is read or written.

use chrono::{DateTime, Duration, Utc};

use crate::ApiError;

/// Days back a reported moment may lie: older dates would rewrite closed days' metrics.
pub const DEFAULT_MAX_AGE_DAYS: i64 = 30;
/// Minutes ahead a reported moment may lie (clock skew): a future date would sit in the queue
/// ahead of every batch.
pub const DEFAULT_MAX_AHEAD_MINUTES: i64 = 5;

/// The window around now that reported moments must fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateWindow {
    pub max_age: Duration,
    pub max_ahead: Duration,
}

impl Default for DateWindow {
    fn default() -> Self {
        Self {
            max_age: Duration::days(DEFAULT_MAX_AGE_DAYS),
            max_ahead: Duration::minutes(DEFAULT_MAX_AHEAD_MINUTES),
        }
    }
}

impl DateWindow {
    /// 422 naming `field` unless `at` lies within the window around `now`.
    pub fn check(&self, field: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ApiError> {
        // chrono's DateTime is bounded (about ±262,000 years), so these cannot overflow.
        if at < now - self.max_age {
            return Err(ApiError::invalid(
                field,
                format!("{field}: more than {} days ago", self.max_age.num_days()),
            ));
        }
        if at > now + self.max_ahead {
            return Err(ApiError::invalid(
                field,
                format!("{field}: more than {} minutes in the future", self.max_ahead.num_minutes()),
            ));
        }
        Ok(())
    }
}

/// Longest name that becomes a counter (a skill): counters live in one item per day shard,
/// which must stay far below DynamoDB's item size limit.
pub const MAX_COUNTER_NAME_CHARS: usize = 64;

/// A name that becomes a counter attribute: 1 to [`MAX_COUNTER_NAME_CHARS`] characters, lower
/// case letters, digits, `_`, `-` and `.`, starting with a letter. The error says what is wrong.
pub fn counter_name_rule(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-.".contains(c);
    if name.is_empty() || name.chars().count() > MAX_COUNTER_NAME_CHARS {
        return Err(format!("must be 1 to {MAX_COUNTER_NAME_CHARS} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || !name.chars().all(allowed) {
        return Err("must start with a lower case letter and hold only a-z, 0-9, '_', '-' and '.'".into());
    }
    Ok(())
}

/// [`counter_name_rule`] as a 422 naming `field`.
pub fn counter_name(field: &str, name: &str) -> Result<(), ApiError> {
    counter_name_rule(name).map_err(|why| ApiError::invalid(field, format!("{field}: {why}")))
}

/// Longest text a send may report: the edit distance costs the product of the draft's and the
/// sent text's lengths.
pub const MAX_SENT_TEXT_CHARS: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_outside_the_window_are_refused_naming_the_field() {
        let now = Utc::now();
        let window = DateWindow::default();
        assert!(window.check("createdAt", now, now).is_ok());
        assert!(window.check("createdAt", now - Duration::days(29), now).is_ok());
        assert!(window.check("createdAt", now + Duration::minutes(4), now).is_ok());
        for at in [
            now - Duration::days(31),
            now + Duration::minutes(6),
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
        ] {
            match window.check("sentAt", at, now) {
                Err(ApiError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("sentAt")),
                other => panic!("{at}: {other:?}"),
            }
        }
    }

    #[test]
    fn counter_names_are_short_plain_and_lower_case() {
        assert!(counter_name("skill", "schedule_showing").is_ok());
        assert!(counter_name("skill", "answer_pet_policy.v2").is_ok());
        for bad in ["", "Schedule", "9lives", "a b", "x#y", "ümlaut", &"a".repeat(65)] {
            assert!(counter_name("skill", bad).is_err(), "{bad:?}");
        }
    }
}
