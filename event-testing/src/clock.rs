//! Clocks for tests: [`ManualClock`] moves only when told, [`TokioClock`]
//! follows tokio's (pausable) time.
//!
//! How to use them with the Recorder: see the crate docs, section Time.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use event_core::Clock;

use event_core::clock::truncate_to_micros;
use jiff::Timestamp;

/// Where test clocks start by default: `2025-01-01T00:00:00Z`.
///
/// A fixed start keeps event names, times and `describe` output the same on
/// every run.
pub const DEFAULT_START: Timestamp = Timestamp::constant(1_735_689_600, 0);

/// A clock that moves only when the test says so.
///
/// Clones share the same time: hand one clone to the
/// [`Recorder`](event_core::Recorder) (and the
/// [`MemorySink`](crate::MemorySink)) and keep another to advance.
///
/// Times are truncated to microseconds, like every time the API stores.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use event_core::{Clock, Event, ObjectRef, Recorder};
/// use event_testing::{ManualClock, MemorySink, expect};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), event_core::Error> {
/// let clock = ManualClock::default();
/// let sink = MemorySink::with_clock(clock.clone());
/// let recorder = Recorder::builder(sink.arc(), "example.com/widgets")
///     .clock(Arc::new(clock.clone()))
///     .build()?;
///
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
/// let failed = event_core::Event::warning("ReconcileFailed", "Reconciling");
/// for _ in 0..5 {
///     recorder.publish(&failed, &pod).await?;
///     clock.advance(Duration::from_secs(30));
/// }
/// recorder.flush().await;
///
/// sink.assert_series_count(expect::warning("ReconcileFailed"), 5);
/// assert!(sink.describe(&pod).contains("30s (x5 over 2m30s)"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
}

impl ManualClock {
    /// A clock standing at `start` (truncated to microseconds).
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(Mutex::new(truncate_to_micros(start))),
        }
    }

    /// Moves the clock forward by `by` (sub-microsecond parts are dropped
    /// from the result). Saturates at the latest representable time.
    pub fn advance(&self, by: Duration) {
        let mut now = self.lock();
        let next = now.saturating_add(by).unwrap_or(Timestamp::MAX);
        *now = truncate_to_micros(next);
    }

    /// Sets the clock to `to` (truncated to microseconds); it may go
    /// backwards.
    pub fn set(&self, to: Timestamp) {
        *self.lock() = truncate_to_micros(to);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A panic while holding this lock cannot leave the timestamp half-written.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for ManualClock {
    /// A clock standing at [`DEFAULT_START`].
    fn default() -> Self {
        Self::new(DEFAULT_START)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

/// A clock that follows tokio's time: `start` plus the tokio time elapsed
/// since the clock was made.
///
/// Under `tokio::time::pause` (or `#[tokio::test(start_paused = true)]`,
/// which needs tokio's `test-util` feature) the clock stands still until
/// tokio time is advanced — by `tokio::time::advance` or by the runtime
/// skipping ahead to the next timer when every task is idle. The
/// Recorder's background task sleeps on the same time, so series flushes,
/// heartbeats and evictions happen exactly when they would in production.
///
/// Without a paused runtime it runs at wall-clock speed from `start`.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use event_core::{Clock, Event, ObjectRef, Recorder};
/// use event_testing::{MemorySink, TokioClock, expect};
///
/// # fn main() -> Result<(), event_core::Error> {
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// // In a test: #[tokio::test(start_paused = true)]
/// let clock = TokioClock::default();
/// let sink = MemorySink::with_clock(clock.clone());
/// let recorder = Recorder::builder(sink.arc(), "example.com/widgets")
///     .clock(Arc::new(clock.clone()))
///     .build()?;
///
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
/// let backoff = Event::warning("BackOff", "Starting");
/// for _ in 0..10 {
///     recorder.publish(&backoff, &pod).await?;
/// }
/// // Sleeping lets paused time jump ahead; the background task writes the
/// // series when it falls due, with no flush() call.
/// tokio::time::sleep(Duration::from_secs(60)).await;
///
/// sink.assert_series_count(expect::warning("BackOff").regarding(&pod), 10);
/// # Ok(()) }) }
/// ```
#[derive(Clone, Copy)]
pub struct TokioClock {
    start: Timestamp,
    base: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `start` now, and moving with tokio's time from here.
    pub fn new(start: Timestamp) -> Self {
        Self {
            start: truncate_to_micros(start),
            base: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    /// A clock starting at [`DEFAULT_START`] now.
    fn default() -> Self {
        Self::new(DEFAULT_START)
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = tokio::time::Instant::now().saturating_duration_since(self.base);
        truncate_to_micros(self.start.saturating_add(elapsed).unwrap_or(Timestamp::MAX))
    }
}

impl fmt::Debug for TokioClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokioClock")
            .field("start", &self.start)
            .field("now", &self.now())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_start_on_the_first_of_january_2025() {
        assert_eq!(DEFAULT_START.to_string(), "2025-01-01T00:00:00Z");
        assert_eq!(ManualClock::default().now(), DEFAULT_START);
        let start = Timestamp::constant(1_717_243_200, 0);
        assert_eq!(ManualClock::new(start).now(), start);
    }

    #[test]
    fn manual_clock_clones_share_time() {
        let a = ManualClock::default();
        let b = a.clone();
        a.advance(Duration::from_millis(1500));
        assert_eq!(b.now().duration_since(DEFAULT_START).as_millis(), 1500);
        b.set(Timestamp::UNIX_EPOCH);
        assert_eq!(a.now(), Timestamp::UNIX_EPOCH);
    }

    #[test]
    fn manual_clock_truncates_to_micros() {
        let clock = ManualClock::new(Timestamp::constant(10, 123_456_789));
        assert_eq!(clock.now(), Timestamp::constant(10, 123_456_000));
        clock.advance(Duration::from_nanos(999));
        assert_eq!(clock.now(), Timestamp::constant(10, 123_456_000));
        clock.advance(Duration::from_nanos(1_999));
        assert_eq!(clock.now(), Timestamp::constant(10, 123_457_000));
    }

    #[test]
    fn manual_clock_saturates() {
        let clock = ManualClock::new(Timestamp::MAX);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clock.now(), truncate_to_micros(Timestamp::MAX));
    }

    #[test]
    fn debug_shows_the_time() {
        let clock = ManualClock::new(Timestamp::UNIX_EPOCH);
        assert_eq!(format!("{clock:?}"), "ManualClock(1970-01-01T00:00:00Z)");
    }

    #[tokio::test(start_paused = true)]
    async fn tokio_clock_follows_paused_time() {
        let clock = TokioClock::default();
        assert_eq!(clock.now(), DEFAULT_START);
        tokio::time::advance(Duration::from_secs(42)).await;
        assert_eq!(clock.now().duration_since(DEFAULT_START).as_secs(), 42);
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(clock.now().duration_since(DEFAULT_START).as_secs(), 642);
    }
}
