//! [`RetryPolicy`]: how the Recorder retries a write that failed for a
//! reason that may pass, and the [`Budget`] one write spends.

use std::time::Duration;

use crate::sink::SinkError;

/// Longest single wait before a retry, whatever the server's `Retry-After`
/// says; a longer one ends the attempt, and the series' own backoff (or the
/// next flush) tries again later.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Most attempts for one write (the first try included).
pub const DEFAULT_RETRY_ATTEMPTS: u32 = 5;
/// Backoff before the second attempt; doubled after each further failure.
pub const DEFAULT_RETRY_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// Longest single backoff.
pub const DEFAULT_RETRY_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Most time spent on one write, retries and waits included.
pub const DEFAULT_RETRY_MAX_ELAPSED: Duration = Duration::from_secs(30);

/// Exponential backoff with jitter, bounded in attempts and in total time.
///
/// Applies to [`SinkError::Throttled`] (waiting at least the server's
/// `Retry-After`) and [`SinkError::Transient`]. Other errors are never
/// retried with backoff.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use event_core::config::RetryPolicy;
///
/// use event_core::Recorder;
/// # fn f(sink: std::sync::Arc<dyn event_core::sink::EventSink>) -> Result<(), event_core::Error> {
/// // A controller whose events matter little: two attempts within 5 s.
/// let retry = RetryPolicy::default()
///     .max_attempts(2)
///     .initial_backoff(Duration::from_millis(50))
///     .max_elapsed(Duration::from_secs(5));
/// let recorder = Recorder::builder(sink, "example.com/widgets").retry(retry).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    pub(crate) max_attempts: u32,
    pub(crate) initial_backoff: Duration,
    pub(crate) max_backoff: Duration,
    pub(crate) max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_RETRY_ATTEMPTS,
            initial_backoff: DEFAULT_RETRY_INITIAL_BACKOFF,
            max_backoff: DEFAULT_RETRY_MAX_BACKOFF,
            max_elapsed: DEFAULT_RETRY_MAX_ELAPSED,
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the most attempts (at least 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff.
    #[must_use]
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// Sets the longest single backoff.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// Sets the most total time for one write.
    #[must_use]
    pub fn max_elapsed(mut self, elapsed: Duration) -> Self {
        self.max_elapsed = elapsed;
        self
    }

    /// The wait after failed attempt number `failed` (1-based), for a
    /// jitter sample in `[0, 1]`: the exponential delay scaled into its
    /// upper half, so waits never collapse to zero.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let p = event_core::config::RetryPolicy::default();
    /// assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
    /// assert_eq!(p.backoff(2, 1.0), Duration::from_millis(400));
    /// assert_eq!(p.backoff(1, 0.0), Duration::from_millis(100));
    /// ```
    pub fn backoff(&self, failed: u32, jitter: f64) -> Duration {
        let exp = failed.saturating_sub(1).min(20);
        let base = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let jitter = if jitter.is_nan() {
            1.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        Duration::try_from_secs_f64(base.as_secs_f64() * (0.5 + 0.5 * jitter)).unwrap_or(base)
    }
}

/// The retries one write may still make: attempts and total time, both
/// bounded by the policy.
pub(crate) struct Budget {
    policy: RetryPolicy,
    started: tokio::time::Instant,
    failures: u32,
    detours: u32,
}

impl Budget {
    pub(crate) fn start(policy: RetryPolicy) -> Self {
        Self {
            policy,
            started: tokio::time::Instant::now(),
            failures: 0,
            detours: 0,
        }
    }

    /// Spends one attempt on `err`: how long to wait before the next try,
    /// or `None` when the error is not retryable or the budget is spent
    /// (attempts, total time, or a `Retry-After` over [`MAX_RETRY_AFTER`]).
    pub(crate) fn next_wait(&mut self, err: &SinkError) -> Option<Duration> {
        self.failures = self.failures.saturating_add(1);
        if !err.is_retryable() || self.failures >= self.policy.max_attempts {
            return None;
        }
        let wait = match err {
            SinkError::Throttled {
                retry_after: Some(after),
            } => *after,
            _ => self.policy.backoff(self.failures, fastrand::f64()),
        };
        let in_time = self
            .started
            .elapsed()
            .checked_add(wait)
            .is_some_and(|total| total <= self.policy.max_elapsed);
        (wait <= MAX_RETRY_AFTER && in_time).then_some(wait)
    }

    /// Whether another detour (a re-create, a read, a rename) fits: as many
    /// as the policy has attempts.
    pub(crate) fn detour(&mut self) -> bool {
        self.detours = self.detours.saturating_add(1);
        self.detours <= self.policy.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        let mut last = Duration::ZERO;
        for n in 1..8 {
            let b = p.backoff(n, 1.0);
            assert!(b >= last);
            assert!(b <= DEFAULT_RETRY_MAX_BACKOFF);
            last = b;
        }
        assert_eq!(p.backoff(100, 1.0), DEFAULT_RETRY_MAX_BACKOFF);
    }

    #[tokio::test(start_paused = true)]
    async fn a_budget_ends_on_attempts_time_or_a_long_retry_after() {
        let transient = SinkError::Transient {
            message: String::new(),
        };
        let mut b = Budget::start(RetryPolicy::default().max_attempts(3));
        assert!(b.next_wait(&transient).is_some());
        assert!(b.next_wait(&transient).is_some());
        assert_eq!(
            b.next_wait(&transient),
            None,
            "third failure of three attempts"
        );

        let mut b = Budget::start(RetryPolicy::default());
        let forbidden = SinkError::Forbidden {
            message: String::new(),
        };
        assert_eq!(b.next_wait(&forbidden), None);

        let mut b = Budget::start(RetryPolicy::default());
        let long = SinkError::Throttled {
            retry_after: Some(MAX_RETRY_AFTER + Duration::from_secs(1)),
        };
        assert_eq!(b.next_wait(&long), None);
        let short = SinkError::Throttled {
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(b.next_wait(&short), Some(Duration::from_secs(2)));

        let mut b = Budget::start(RetryPolicy::default().max_elapsed(Duration::from_secs(1)));
        assert_eq!(b.next_wait(&short), None, "beyond the total time");
    }

    #[test]
    fn settings_are_kept_and_attempts_are_at_least_one() {
        assert_eq!(RetryPolicy::none().max_attempts, 1);
        assert_eq!(RetryPolicy::default().max_attempts(0).max_attempts, 1);
        assert_eq!(RetryPolicy::default().max_attempts(7).max_attempts, 7);
        let p = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(30))
            .max_elapsed(Duration::from_secs(5));
        assert_eq!(p.max_elapsed, Duration::from_secs(5));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(10));
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(5));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(30));
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let p = RetryPolicy::default()
            .initial_backoff(Duration::MAX)
            .max_backoff(Duration::MAX);
        for jitter in [f64::NAN, f64::INFINITY, -1.0, 0.0, 1.0] {
            let _ = p.backoff(u32::MAX, jitter);
            let _ = RetryPolicy::default().backoff(1, jitter);
        }
        assert_eq!(
            RetryPolicy::default().backoff(1, f64::NAN),
            DEFAULT_RETRY_INITIAL_BACKOFF
        );
    }
}
