//! What the Recorder reports: the outcome of one occurrence, the counters,
//! and what a shutdown could not write.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::sink::EventRecord;

/// What [`Recorder::publish`](crate::Recorder::publish) did with one occurrence.
///
/// # Example
///
/// ```
/// use event_core::{DropReason, Published};
///
/// let p = Published::Dropped(DropReason::Spam);
/// assert!(!p.wrote());
/// assert!(Published::Created.wrote());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Published {
    /// A new Event was created.
    Created,
    /// The Event's series was written with this count.
    SeriesUpdated {
        /// The count written.
        count: u32,
    },
    /// Counted in the cache; the count is written later (flush interval,
    /// [`Recorder::flush`](crate::Recorder::flush) or [`Recorder::shutdown`](crate::Recorder::shutdown)).
    Coalesced {
        /// The count so far.
        count: u32,
    },
    /// Not an event that is ever written.
    Skipped(SkipReason),
    /// Dropped on purpose; counted in [`Stats`].
    Dropped(DropReason),
    /// Counted; the write this occurrence needed waited longer than the
    /// write budget allows, so a background write carries it (the series'
    /// count so far is given).
    Deferred {
        /// The count so far.
        count: u32,
    },
}

impl Published {
    /// Whether this call wrote to the sink.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(event_core::Published::SeriesUpdated { count: 2 }.wrote());
    /// assert!(!event_core::Published::Coalesced { count: 3 }.wrote());
    /// ```
    pub fn wrote(&self) -> bool {
        matches!(self, Self::Created | Self::SeriesUpdated { .. })
    }
}

/// Why an occurrence was skipped.
///
/// # Example
///
/// ```
/// assert_eq!(format!("{:?}", event_core::SkipReason::AboutAnEvent), "AboutAnEvent");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// The regarding object is itself an Event (events about events would
    /// loop).
    AboutAnEvent,
}

/// Why an occurrence was dropped.
///
/// # Example
///
/// ```
/// assert_ne!(event_core::DropReason::Spam, event_core::DropReason::QueueFull);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The spam filter's bucket for this object and type was empty.
    Spam,
    /// The `emit` queue was full.
    QueueFull,
    /// The server refused this event as invalid; its occurrences are
    /// counted (in `published` and `dropped_unwritten`) until the key
    /// leaves the cache.
    Refused,
    /// Turned off by the Recorder's filter settings (events off, a minimum
    /// type, reasons to drop or keep); counted in `dropped_filtered`.
    Filtered,
    /// The event's namespace is being deleted: the server refuses new
    /// content there (HTTP 403 with the cause `NamespaceTerminating`).
    /// Counted in `dropped_namespace_terminating`, never retried.
    NamespaceTerminating,
}

/// Counters since the Recorder was built.
///
/// # Example
///
/// ```
/// let s = event_core::Stats::default();
/// assert_eq!(s.published, 0);
/// assert_eq!(s.writes(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Occurrences accepted (valid, not skipped, not dropped).
    pub published: u64,
    /// Events created.
    pub created: u64,
    /// Series patches written.
    pub patched: u64,
    /// Occurrences counted in the cache without a write of their own.
    pub coalesced: u64,
    /// Occurrences skipped (events about events).
    pub skipped: u64,
    /// New events dropped by the spam filter.
    pub dropped_spam: u64,
    /// Occurrences dropped because the `emit` queue was full.
    pub dropped_queue_full: u64,
    /// Write attempts repeated after a retryable failure.
    pub retried: u64,
    /// Writes that failed for good.
    pub failed: u64,
    /// Keys evicted from the cache (the least recently used, or idle past
    /// the series TTL). A key seen again finds its stored Event by name.
    pub evicted: u64,
    /// Stored Events taken over after a create found the name taken: a
    /// series continued past an eviction or a restart.
    pub adopted: u64,
    /// Accepted occurrences given up without being written: the server
    /// refused their event as invalid, too many series that left the cache
    /// were still owing writes, or (very seldom: two keys of one 64-bit
    /// hash) a series that could not be cached was not written by its own
    /// first write.
    pub dropped_unwritten: u64,
    /// Occurrences turned off by the filter settings (not in `published`).
    pub dropped_filtered: u64,
    /// Accepted occurrences dropped because their namespace is being
    /// deleted (the server answered 403 `NamespaceTerminating`).
    pub dropped_namespace_terminating: u64,
    /// Writes that waited for the write budget (a token, or the pause
    /// after a 429).
    pub budget_waits: u64,
    /// The time those writes waited, in all.
    pub budget_wait: std::time::Duration,
    /// Writes put off to a later background write because the budget had
    /// no token within its wait limit; their occurrences stay counted.
    pub budget_deferred: u64,
    /// 429 answers; each paused every request of the Recorder.
    pub throttled: u64,
}

impl Stats {
    /// Successful writes: creates plus patches.
    pub fn writes(&self) -> u64 {
        self.created.saturating_add(self.patched)
    }
}

/// What [`Recorder::shutdown`](crate::Recorder::shutdown) could not write before its deadline.
///
/// # Example
///
/// ```
/// let r = event_core::ShutdownReport::default();
/// assert!(r.is_complete());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Events whose latest count is not known to have reached the sink, as
    /// they would have been written (a create whose answer was lost is
    /// listed: it may have taken effect). A series seen again after it left
    /// the cache and whose stored Event it had not found yet is listed with
    /// the occurrences of its new life only.
    pub unwritten: Vec<EventRecord>,
    /// The counters at shutdown (`stats.dropped_queue_full` counts the
    /// occurrences dropped because the `emit` queue was full).
    pub stats: Stats,
}

impl ShutdownReport {
    /// Whether everything reached the sink.
    pub fn is_complete(&self) -> bool {
        self.unwritten.is_empty()
    }
}

/// The live counters behind [`Stats`]; they only ever increase.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) created: AtomicU64,
    pub(crate) patched: AtomicU64,
    pub(crate) coalesced: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) dropped_spam: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) evicted: AtomicU64,
    pub(crate) adopted: AtomicU64,
    pub(crate) dropped_unwritten: AtomicU64,
    pub(crate) dropped_filtered: AtomicU64,
    pub(crate) dropped_namespace_terminating: AtomicU64,
    pub(crate) budget_waits: AtomicU64,
    pub(crate) budget_wait_micros: AtomicU64,
    pub(crate) budget_deferred: AtomicU64,
    pub(crate) throttled: AtomicU64,
    /// Requests answered with an error, by [`error_class`].
    pub(crate) errors: [AtomicU64; 8],
    /// Occurrences that only counted in their cached series: each is both
    /// published and coalesced. Written only under the cache lock (see
    /// [`count_repeat`](Self::count_repeat)).
    repeats: AtomicU64,
}

/// The `class` label of failed requests: one per [`SinkError`](crate::sink::SinkError)
/// variant, in the order of [`error_class`].
#[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
pub(crate) const ERROR_CLASSES: [&str; 8] = [
    "not_found",
    "already_exists",
    "invalid",
    "forbidden",
    "namespace_terminating",
    "throttled",
    "transient",
    "fatal",
];

/// The index of `error`'s class in [`ERROR_CLASSES`].
pub(crate) fn error_class(error: &crate::sink::SinkError) -> usize {
    use crate::sink::SinkError::*;
    match error {
        NotFound => 0,
        AlreadyExists => 1,
        Invalid { .. } => 2,
        Forbidden { .. } => 3,
        NamespaceTerminating { .. } => 4,
        Throttled { .. } => 5,
        Transient { .. } => 6,
        Fatal { .. } => 7,
    }
}

/// Adds one to `counter`.
pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n` to `counter`.
pub(crate) fn add(counter: &AtomicU64, n: u32) {
    counter.fetch_add(u64::from(n), Ordering::Relaxed);
}

impl Counters {
    /// Counts an occurrence that only counted in its cached series.
    ///
    /// Callers hold the cache lock, which orders every write of this
    /// counter: a load and a store suffice where a read-modify-write would
    /// cost a locked instruction on every repeat. Readers may see the
    /// previous value, never a lower one.
    pub(crate) fn count_repeat(&self) {
        let n = self.repeats.load(Ordering::Relaxed);
        self.repeats.store(n.saturating_add(1), Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let repeats = get(&self.repeats);
        Stats {
            published: get(&self.published).saturating_add(repeats),
            created: get(&self.created),
            patched: get(&self.patched),
            coalesced: get(&self.coalesced).saturating_add(repeats),
            skipped: get(&self.skipped),
            dropped_spam: get(&self.dropped_spam),
            dropped_queue_full: get(&self.dropped_queue_full),
            retried: get(&self.retried),
            failed: get(&self.failed),
            evicted: get(&self.evicted),
            adopted: get(&self.adopted),
            dropped_unwritten: get(&self.dropped_unwritten),
            dropped_filtered: get(&self.dropped_filtered),
            dropped_namespace_terminating: get(&self.dropped_namespace_terminating),
            budget_waits: get(&self.budget_waits),
            budget_wait: std::time::Duration::from_micros(get(&self.budget_wait_micros)),
            budget_deferred: get(&self.budget_deferred),
            throttled: get(&self.throttled),
        }
    }
}
