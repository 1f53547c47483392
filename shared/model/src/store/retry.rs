//! Retries of writes DynamoDB refused without applying them: a transaction cancelled only by
//! conflicts or throttling, or a request throttled as a whole. Each retry waits a random time
//! up to an exponentially growing cap ("full jitter"), so writers that collided on a hot item do
//! not collide again in lockstep.
//!
//! Retrying is safe because a cancelled transaction applied none of its actions, and every
//! transaction autolearn commits carries its own exactly-once guard (an idempotency record, a
//! send recorded on its execution, a proposal's status): a retry can apply the writes once, or
//! meet its guard. A transaction cancelled by a failed condition is never retried: that is an
//! answer, not a fault. Errors that may hide an applied write (a timeout, a 500) are left to the
//! SDK's own retry, whose repeat of the request meets the same guard.

use std::time::Duration;

use crate::error::{Cancellation, StoreError};

/// Cancellation reason codes that say "try again": nothing was wrong with the request.
const TRANSIENT_REASONS: [&str; 4] =
    ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"];

/// Error codes of a whole request refused without being applied.
const TRANSIENT_CODES: [&str; 5] = [
    "TransactionConflictException",
    "TransactionInProgressException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// Error codes of a request that may or may not have been applied (the SDK has retried it
/// already): not retried here, but safe for the caller to send again, since every write
/// carries its exactly-once guard.
const UNAVAILABLE_CODES: [&str; 2] = ["InternalServerError", "ServiceUnavailable"];

/// True for an error code after which the caller may send the same request again later.
pub fn is_unavailable_code(code: &str) -> bool {
    is_transient_code(code) || UNAVAILABLE_CODES.contains(&code)
}

/// True when a transaction was cancelled only by transient reasons (at least one), so the same
/// transaction may succeed later. A failed condition or a validation error is not transient.
pub fn is_transient_cancellation(reasons: &[Cancellation]) -> bool {
    reasons.iter().any(|reason| TRANSIENT_REASONS.contains(&reason.code.as_str()))
        && reasons
            .iter()
            .all(|reason| reason.code == "None" || TRANSIENT_REASONS.contains(&reason.code.as_str()))
}

/// True for the error code of a request DynamoDB refused as a whole without applying it.
pub fn is_transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
}

/// How often and how long the store retries a refused transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least 1).
    pub max_attempts: u32,
    /// The cap of the first retry's wait; it doubles with each retry ...
    pub base: Duration,
    /// ... up to this.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Ten attempts: a transaction that meets a conflict 30% of the time fails all ten about
    /// once in 170,000 requests (0.3^10), and the waits add up to at most about 4 seconds.
    fn default() -> Self {
        Self { max_attempts: 10, base: Duration::from_millis(20), max_delay: Duration::from_millis(800) }
    }
}

impl RetryPolicy {
    /// The cap of the wait before retry number `retry` (1 for the first retry).
    pub fn cap(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait before retry number `retry`: uniformly random in `[0, cap]`.
    pub fn delay(&self, retry: u32) -> Duration {
        let cap = self.cap(retry).as_micros() as u64;
        Duration::from_micros(fastrand::u64(0..=cap))
    }
}

/// The error a write ends with when it was still refused after the last attempt.
pub(crate) fn exhausted(attempts: u32, code: String) -> StoreError {
    StoreError::Busy { attempts, code }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<Cancellation> {
        codes.iter().map(|code| Cancellation { code: (*code).to_owned(), old_item: None }).collect()
    }

    #[test]
    fn only_conflicts_and_throttling_are_retried() {
        assert!(is_transient_cancellation(&reasons(&["None", "TransactionConflict", "None"])));
        assert!(is_transient_cancellation(&reasons(&["ThrottlingError"])));
        assert!(!is_transient_cancellation(&reasons(&["ConditionalCheckFailed", "TransactionConflict"])));
        assert!(!is_transient_cancellation(&reasons(&["None", "ValidationError"])));
        assert!(!is_transient_cancellation(&reasons(&["None", "None"])), "no reason at all is not transient");
        assert!(is_transient_code("ThrottlingException"));
        assert!(!is_transient_code("ConditionalCheckFailedException"));
        assert!(!is_transient_code("InternalServerError"), "may have been applied: the SDK retries it");
    }

    #[test]
    fn waits_grow_to_the_cap_and_stay_within_it() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.cap(1), Duration::from_millis(20));
        assert_eq!(policy.cap(2), Duration::from_millis(40));
        assert_eq!(policy.cap(6), Duration::from_millis(640));
        assert_eq!(policy.cap(7), Duration::from_millis(800));
        assert_eq!(policy.cap(200), Duration::from_millis(800), "no overflow on absurd retry numbers");
        for retry in 1..20 {
            assert!(policy.delay(retry) <= policy.cap(retry));
        }
    }
}
