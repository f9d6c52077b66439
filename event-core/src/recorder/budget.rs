//! [`WriteBudget`]: one token bucket for all of a Recorder's requests to
//! its sink, which a 429 answer pauses for everyone.
//!
//! Every sink call (create, series patch, read) takes a token. A write on
//! behalf of an occurrence, a flush tick or a heartbeat waits for its token
//! at most the budget's `max_wait`; past that it is put off (the series
//! stays owing and a later tick writes it, its occurrences coalesced into
//! that one write), so nothing published is lost. An explicit `flush` and
//! the drain of `shutdown` wait as long as it takes (their callers bound
//! them). A coalesced repeat never touches the budget.
//!
//! Tokens are reserved: a caller takes its token at once and sleeps until
//! the instant it stands for, so the requests sent never exceed
//! `burst + rate × t` in any stretch of time `t`.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use super::Engine;
use super::decide::{Mode, decide};
use super::entry::{Entry, lock};
use super::outcome::{bump, error_class};
use super::retry::MAX_RETRY_AFTER;
use super::writer::Outcome;
use crate::sink::SinkError;

/// Requests per second the budget allows once its burst is spent.
pub const DEFAULT_WRITE_RATE: u32 = 20;
/// Requests the budget allows at once after a quiet spell.
pub const DEFAULT_WRITE_BURST: u32 = 100;
/// Longest wait for a token before a write (other than an explicit flush
/// or the shutdown drain) is put off to a later tick.
pub const DEFAULT_BUDGET_MAX_WAIT: Duration = Duration::from_secs(1);
/// How long a 429 without a `Retry-After` pauses the Recorder's requests.
pub const THROTTLED_PAUSE: Duration = Duration::from_secs(1);

/// The rate and burst of the requests a Recorder sends to its sink.
///
/// # Example
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use event_core::sink::EventSink;
/// use event_core::Recorder;
/// use event_core::config::WriteBudget;
/// # fn f(sink: Arc<dyn EventSink>) -> Result<(), event_core::Error> {
/// let recorder = Recorder::builder(sink, "example.com/widgets")
///     .write_budget(WriteBudget::new(5, 20).max_wait(Duration::from_millis(200)))
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteBudget {
    /// `None`: no limit (a 429 still pauses).
    pub(crate) rate: Option<u32>,
    pub(crate) burst: u32,
    pub(crate) max_wait: Duration,
}

impl Default for WriteBudget {
    fn default() -> Self {
        Self::new(DEFAULT_WRITE_RATE, DEFAULT_WRITE_BURST)
    }
}

impl WriteBudget {
    /// `rate` requests per second after a burst of `burst` (each at least
    /// 1), waiting at most [`DEFAULT_BUDGET_MAX_WAIT`] for a token.
    pub fn new(rate: u32, burst: u32) -> Self {
        Self {
            rate: Some(rate.max(1)),
            burst: burst.max(1),
            max_wait: DEFAULT_BUDGET_MAX_WAIT,
        }
    }

    /// No limit on the rate; a 429 still pauses every request for its
    /// `Retry-After`.
    pub fn unlimited() -> Self {
        Self {
            rate: None,
            ..Self::default()
        }
    }

    /// Sets the longest wait for a token before a write is put off to a
    /// later tick (default [`DEFAULT_BUDGET_MAX_WAIT`]).
    #[must_use]
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }
}

/// The live bucket.
pub(crate) struct Bucket {
    budget: WriteBudget,
    state: Mutex<Tokens>,
}

struct Tokens {
    /// May go below zero: tokens reserved by callers still sleeping.
    tokens: f64,
    /// When `tokens` was last brought up to date; after a 429, the end of
    /// the pause (refill starts then).
    updated: Instant,
    paused_until: Option<Instant>,
}

/// The answer to a request for a token.
enum Grant {
    /// Reserved: send after this wait.
    After(Duration),
    /// No token within the wait limit; nothing was reserved.
    Deferred,
}

impl Bucket {
    pub(crate) fn new(budget: WriteBudget) -> Self {
        Self {
            budget,
            state: Mutex::new(Tokens {
                tokens: f64::from(budget.burst),
                updated: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Reserves a token, unless the wait for it would exceed `limit`.
    fn reserve(&self, limit: Option<Duration>) -> Grant {
        let now = Instant::now();
        let mut t = lock(&self.state);
        let paused_until = t.paused_until.filter(|&until| until > now);
        let ready = match self.budget.rate {
            None => paused_until.unwrap_or(now),
            Some(rate) => {
                let rate = f64::from(rate);
                if now > t.updated {
                    let refill = now.duration_since(t.updated).as_secs_f64() * rate;
                    t.tokens = (t.tokens + refill).min(f64::from(self.budget.burst));
                    t.updated = now;
                }
                let from = t.updated.max(paused_until.unwrap_or(now));
                if t.tokens >= 1.0 {
                    from
                } else {
                    let short = Duration::try_from_secs_f64((1.0 - t.tokens) / rate)
                        .unwrap_or(MAX_RETRY_AFTER);
                    t.updated + short
                }
            }
        };
        let wait = ready.saturating_duration_since(now);
        if limit.is_some_and(|limit| wait > limit) {
            return Grant::Deferred;
        }
        t.tokens -= 1.0;
        Grant::After(wait)
    }

    /// A 429: no request before `pause` from now has passed, and no burst
    /// after it.
    fn pause(&self, pause: Duration) {
        let until = Instant::now() + pause.min(MAX_RETRY_AFTER);
        let mut t = lock(&self.state);
        if t.paused_until.is_none_or(|p| p < until) {
            t.paused_until = Some(until);
        }
        t.tokens = t.tokens.min(1.0);
        t.updated = t.updated.max(until);
    }

    fn paused(&self) -> bool {
        let now = Instant::now();
        lock(&self.state).paused_until.is_some_and(|p| p > now)
    }
}

impl Engine {
    /// Takes a token before a sink call that `entry` needs in `mode`,
    /// waiting as long as `asked` (the mode the write was started in)
    /// allows. Returns `Some` when the write is put off; `None` when the
    /// token is taken or nothing is due (the caller's own decision then
    /// ends the write).
    pub(crate) async fn spend_budget(
        &self,
        entry: &Entry,
        mode: Mode,
        asked: Mode,
    ) -> Option<Outcome> {
        let count = {
            let st = entry.state();
            // Nothing due: the caller's own decision returns at once.
            decide(&st, mode, self.clock.now(), &self.timing)?;
            st.count
        };
        if self.take_token(asked).await {
            None
        } else {
            Some(Outcome::Deferred(count))
        }
    }

    /// Waits for a token (bounded unless `mode` is an explicit flush or the
    /// drain); false when the write is put off.
    pub(crate) async fn take_token(&self, mode: Mode) -> bool {
        let limit = match mode {
            Mode::Flush | Mode::Drain => None,
            _ => Some(self.config.write_budget.max_wait),
        };
        let mut waited = Duration::ZERO;
        loop {
            match self.budget.reserve(limit) {
                Grant::Deferred => {
                    bump(&self.stats.budget_deferred);
                    self.record_wait(waited);
                    return false;
                }
                Grant::After(wait) if wait.is_zero() && waited.is_zero() => return true,
                Grant::After(wait) => {
                    tokio::time::sleep(wait).await;
                    waited += wait;
                    // A 429 that came in meanwhile holds everyone back.
                    if !self.budget.paused() {
                        self.record_wait(waited);
                        return true;
                    }
                }
            }
        }
    }

    fn record_wait(&self, waited: Duration) {
        if !waited.is_zero() {
            bump(&self.stats.budget_waits);
            let micros = u64::try_from(waited.as_micros()).unwrap_or(u64::MAX);
            self.stats
                .budget_wait_micros
                .fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Counts the answer to a request sent at `sent` (and times it, with
    /// the `prometheus` feature), and slows every request of this Recorder
    /// down after a 429.
    pub(crate) fn note_answer<T>(&self, result: &Result<T, SinkError>, sent: Instant) {
        #[cfg(feature = "prometheus")]
        self.latency.observe(sent.elapsed().as_secs_f64());
        #[cfg(not(feature = "prometheus"))]
        let _ = sent;
        let Err(error) = result else {
            return;
        };
        if let Some(n) = self.stats.errors.get(error_class(error)) {
            bump(n);
        }
        if let SinkError::Throttled { retry_after } = error {
            bump(&self.stats.throttled);
            self.budget.pause(retry_after.unwrap_or(THROTTLED_PAUSE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(bucket: &Bucket, n: usize) -> Vec<Option<Duration>> {
        (0..n)
            .map(|_| match bucket.reserve(Some(Duration::from_secs(1))) {
                Grant::After(w) => Some(w),
                Grant::Deferred => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_one_token_per_interval_then_put_off() {
        let bucket = Bucket::new(WriteBudget::new(10, 3));
        let ms = |n| Some(Duration::from_millis(n));
        let got = waits(&bucket, 15);
        let mut want = vec![ms(0), ms(0), ms(0)];
        want.extend((1..=10).map(|i| ms(100 * i)));
        want.extend([None, None]);
        assert_eq!(got, want);
        tokio::time::advance(Duration::from_secs(2)).await;
        // Reservations were spent; the bucket refilled to its burst.
        assert_eq!(waits(&bucket, 4), vec![ms(0), ms(0), ms(0), ms(100)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_pauses_and_leaves_no_burst() {
        let bucket = Bucket::new(WriteBudget::new(10, 50));
        bucket.pause(Duration::from_millis(500));
        assert!(bucket.paused());
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(waits(&bucket, 3), vec![ms(500), ms(600), ms(700)]);
        let unlimited = Bucket::new(WriteBudget::unlimited());
        unlimited.pause(Duration::from_secs(2));
        assert_eq!(waits(&unlimited, 1), vec![None], "beyond the wait limit");
        match unlimited.reserve(None) {
            Grant::After(w) => assert_eq!(w, Duration::from_secs(2)),
            Grant::Deferred => panic!("an unbounded wait is never put off"),
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(!unlimited.paused());
        assert_eq!(waits(&unlimited, 3), vec![ms(0), ms(0), ms(0)]);
    }
}
