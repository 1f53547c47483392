//! How long customer text is kept: the TTL the store gives the items that hold it.

use std::ops::RangeInclusive;

use chrono::{DateTime, Duration, Utc};

/// The default retention of customer text, in days (`RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: u32 = 400;

/// The retentions allowed, in days. At least 35: the webhooks refuse moments more than 30 days
/// old, so an execution or a send replayed after its item expired can never be counted again;
/// and the weekly batch must find a week's feedback and gaps. At most ten years.
pub const RETENTION_DAYS_RANGE: RangeInclusive<u32> = 35..=3650;

/// How long items holding customer text live after their last write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Self { days: DEFAULT_RETENTION_DAYS }
    }
}

impl Retention {
    /// A retention of `days`, which must lie in [`RETENTION_DAYS_RANGE`].
    pub fn days(days: u32) -> Option<Self> {
        RETENTION_DAYS_RANGE.contains(&days).then_some(Self { days })
    }

    pub fn in_days(self) -> u32 {
        self.days
    }

    /// The TTL of an item written at `now`: epoch seconds.
    pub fn expires_at(self, now: DateTime<Utc>) -> i64 {
        (now + Duration::days(i64::from(self.days))).timestamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retention_lies_within_its_range() {
        assert_eq!(Retention::default().in_days(), 400);
        assert!(Retention::days(34).is_none());
        assert!(Retention::days(3651).is_none());
        let now = Utc::now();
        assert_eq!(Retention::days(35).unwrap().expires_at(now), now.timestamp() + 35 * 86_400);
    }
}
