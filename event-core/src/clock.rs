//! Time: the [`Clock`] the engine reads, and microsecond truncation.
//!
//! The Kubernetes API stores `eventTime` and `series.lastObservedTime` as
//! `MicroTime`: microsecond precision. A timestamp with nanoseconds that is
//! written, read back and compared fails the server's immutability check, so
//! every timestamp this crate hands to a sink is truncated to microseconds.

use std::fmt::Debug;

use jiff::Timestamp;

/// A source of the current time.
///
/// The [`Recorder`](crate::Recorder) reads the clock for event times, series
/// times and for deciding when a series is due for a flush, a heartbeat or
/// eviction. Tests inject a manual clock (see the `event-testing` crate) to
/// drive those decisions deterministically.
///
/// Implementations must be cheap and must not block.
pub trait Clock: Send + Sync + Debug {
    /// The current time, already truncated to microseconds.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::Clock;
    /// use jiff::Timestamp;
    ///
    /// /// A clock that always says the same time.
    /// #[derive(Debug)]
    /// struct Fixed(Timestamp);
    ///
    /// impl Clock for Fixed {
    ///     fn now(&self) -> Timestamp {
    ///         self.0
    ///     }
    /// }
    ///
    /// let clock = Fixed(Timestamp::UNIX_EPOCH);
    /// assert_eq!(clock.now(), Timestamp::UNIX_EPOCH);
    /// ```
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        from_system_time(std::time::SystemTime::now())
    }
}

/// A system time as a timestamp truncated to microseconds. Read once per
/// occurrence: whole seconds and microseconds from the system time
/// directly, without the 128-bit nanosecond arithmetic of a round trip
/// through `as_nanosecond` (a fifth of a repeat's cost). A system clock set
/// outside the years jiff represents (-9999 to 9999) gives the nearest end
/// of that range, never a panic.
fn from_system_time(now: std::time::SystemTime) -> Timestamp {
    let since = now.duration_since(std::time::UNIX_EPOCH).ok();
    since
        .and_then(|d| {
            let secs = i64::try_from(d.as_secs()).ok()?;
            let nanos = i32::try_from(d.subsec_micros() * 1_000).ok()?;
            Timestamp::new(secs, nanos).ok()
        })
        // Before the epoch, or past jiff's range: the general path.
        .unwrap_or_else(|| match Timestamp::try_from(now) {
            Ok(t) => truncate_to_micros(t),
            Err(_) if since.is_some() => truncate_to_micros(Timestamp::MAX),
            Err(_) => Timestamp::MIN,
        })
}

/// Drops the sub-microsecond part of a timestamp.
///
/// # Example
///
/// ```
/// use event_core::clock::truncate_to_micros;
/// use jiff::Timestamp;
///
/// let t = Timestamp::from_nanosecond(1_700_000_000_123_456_789).unwrap();
/// assert_eq!(truncate_to_micros(t).as_nanosecond(), 1_700_000_000_123_456_000);
/// ```
pub fn truncate_to_micros(ts: Timestamp) -> Timestamp {
    let nanos = ts.as_nanosecond();
    // `rem_euclid` keeps times before the epoch rounding down as well.
    let truncated = nanos - nanos.rem_euclid(1_000);
    Timestamp::from_nanosecond(truncated).unwrap_or(ts)
}

/// Formats a timestamp the way the API writes a `MicroTime`:
/// `2006-01-02T15:04:05.000000Z`.
///
/// # Example
///
/// ```
/// use event_core::clock::format_micro_time;
/// use jiff::Timestamp;
///
/// let t = Timestamp::from_second(0).unwrap();
/// assert_eq!(format_micro_time(t), "1970-01-01T00:00:00.000000Z");
/// ```
pub fn format_micro_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_times_outside_jiffs_range_are_clamped_not_a_panic() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let year = Duration::from_secs(366 * 24 * 3600);
        // Where the platform's system time reaches that far.
        if let Some(far) = UNIX_EPOCH.checked_add(year * 10_000) {
            assert_eq!(from_system_time(far), truncate_to_micros(Timestamp::MAX));
        }
        if let Some(long_ago) = UNIX_EPOCH.checked_sub(year * 13_000) {
            assert_eq!(from_system_time(long_ago), Timestamp::MIN);
        }
        // Before the epoch, within range: truncated like any other time.
        let before = UNIX_EPOCH - Duration::from_nanos(1_500);
        assert_eq!(from_system_time(before).as_nanosecond(), -2_000);
        let t = UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(
            from_system_time(t).as_nanosecond(),
            1_700_000_000_123_456_000
        );
        let now = from_system_time(SystemTime::now());
        assert_eq!(now.subsec_nanosecond() % 1_000, 0);
    }

    #[test]
    fn truncation_drops_nanoseconds_only() {
        let t = Timestamp::from_nanosecond(1_234_567_891).unwrap();
        assert_eq!(truncate_to_micros(t).as_nanosecond(), 1_234_567_000);
        let neg = Timestamp::from_nanosecond(-1).unwrap();
        assert_eq!(truncate_to_micros(neg).as_nanosecond(), -1_000);
    }

    #[test]
    fn system_clock_is_truncated() {
        assert_eq!(SystemClock.now().as_nanosecond() % 1_000, 0);
    }

    #[test]
    fn micro_time_format() {
        let t = Timestamp::from_nanosecond(1_700_000_000_123_456_000).unwrap();
        assert_eq!(format_micro_time(t), "2023-11-14T22:13:20.123456Z");
    }
}
