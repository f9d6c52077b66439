//! [`RecorderBuilder`]: every setting of a [`Recorder`], its default, and
//! the bounds applied when the Recorder is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::budget::WriteBudget;
use super::decide::Timing;
use super::filter::{Filter, SpamKey};
use super::retry::RetryPolicy;
use super::{Engine, Recorder};
use crate::key::NotePolicy;
use crate::sink::EventSink;
use crate::spam::SpamFilter;
use crate::validate::validate_reporter;
use crate::validate::{ClusterScopedNamespace, NoteOverflow};
use crate::{Clock, Error, EventType, Reporter, SystemClock};

/// A dirty series is written at most once per this interval.
pub const DEFAULT_SERIES_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// A key not seen for this long is flushed (if dirty) and leaves the cache;
/// its next occurrence continues the stored Event (found by its name).
pub const DEFAULT_SERIES_TTL: Duration = Duration::from_secs(6 * 60);
/// A live series is re-written at least this often, well before the API
/// server's default 1 h event TTL.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30 * 60);
/// Most keys kept in the correlation cache.
pub const DEFAULT_MAX_CACHED_KEYS: usize = 4096;
/// Capacity of the queue behind [`Recorder::emit`].
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// Background writers draining the `emit` queue (and flushing series).
pub const DEFAULT_WRITERS: usize = 4;
/// Largest `emit` queue capacity accepted; larger settings are lowered to
/// it (the queue's slots are allocated up front).
pub const MAX_QUEUE_CAPACITY: usize = 1 << 16;
/// Most background writers; larger settings are lowered to it.
pub const MAX_WRITERS: usize = 256;

/// The settings a Recorder runs with.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) series_flush_interval: Duration,
    pub(crate) series_ttl: Duration,
    pub(crate) heartbeat: Duration,
    pub(crate) max_cached_keys: usize,
    pub(crate) queue_capacity: usize,
    pub(crate) writers: usize,
    pub(crate) spam_filter: Option<SpamFilter>,
    pub(crate) retry: RetryPolicy,
    pub(crate) note_overflow: NoteOverflow,
    pub(crate) note_policy: NotePolicy,
    pub(crate) cluster_scoped_namespace: ClusterScopedNamespace,
    pub(crate) filter: Filter,
    pub(crate) spam_key: SpamKey,
    pub(crate) write_budget: WriteBudget,
    pub(crate) log_events: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            series_flush_interval: DEFAULT_SERIES_FLUSH_INTERVAL,
            series_ttl: DEFAULT_SERIES_TTL,
            heartbeat: DEFAULT_HEARTBEAT,
            max_cached_keys: DEFAULT_MAX_CACHED_KEYS,
            queue_capacity: DEFAULT_QUEUE_CAPACITY,
            writers: DEFAULT_WRITERS,
            spam_filter: Some(SpamFilter::default()),
            retry: RetryPolicy::default(),
            note_overflow: NoteOverflow::default(),
            note_policy: NotePolicy::default(),
            cluster_scoped_namespace: ClusterScopedNamespace::default(),
            filter: Filter::default(),
            spam_key: SpamKey::default(),
            write_budget: WriteBudget::default(),
            log_events: false,
        }
    }
}

impl Config {
    /// The settings with their bounds applied.
    fn bounded(mut self) -> Self {
        self.max_cached_keys = self.max_cached_keys.max(1);
        self.queue_capacity = self.queue_capacity.clamp(1, MAX_QUEUE_CAPACITY);
        self.writers = self.writers.clamp(1, MAX_WRITERS);
        self.heartbeat = self.heartbeat.max(self.series_flush_interval);
        self
    }

    pub(crate) fn timing(&self) -> Timing {
        Timing {
            flush_interval: self.series_flush_interval,
            heartbeat: self.heartbeat,
        }
    }

    /// Most series kept after leaving the cache while owing a write: as
    /// many as the cache holds, plus room for every queued and running
    /// write, so a healthy sink never loses one.
    pub(crate) fn max_retiring(&self) -> usize {
        self.max_cached_keys
            .saturating_add(self.queue_capacity)
            .saturating_add(self.writers)
    }
}

/// Builds a [`Recorder`]; every setting has a documented default (see the
/// table in the crate docs).
///
/// # Example
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use event_core::config::NotePolicy;
/// use event_core::Recorder;
/// use event_core::sink::EventSink;
/// # fn build(sink: Arc<dyn EventSink>) -> Result<(), event_core::Error> {
/// let recorder = Recorder::builder(sink, "example.com/widgets")
///     .series_flush_interval(Duration::from_secs(5))
///     .max_cached_keys(10_000)
///     .note_policy(NotePolicy::Distinct)
///     .build()?;
/// # Ok(()) }
/// ```
pub struct RecorderBuilder {
    sink: Arc<dyn EventSink>,
    reporter: Reporter,
    clock: Arc<dyn Clock>,
    config: Config,
}

impl fmt::Debug for RecorderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecorderBuilder")
            .field("reporter", &self.reporter)
            .field("clock", &self.clock)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RecorderBuilder {
    pub(crate) fn new(sink: Arc<dyn EventSink>, reporter: Reporter) -> Self {
        Self {
            sink,
            reporter,
            clock: Arc::new(SystemClock),
            config: Config::default(),
        }
    }

    /// Sets the clock (default [`SystemClock`]); tests drive time with a
    /// manual one.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how often a dirty series is written at most (default
    /// [`DEFAULT_SERIES_FLUSH_INTERVAL`]).
    #[must_use]
    pub fn series_flush_interval(mut self, interval: Duration) -> Self {
        self.config.series_flush_interval = interval;
        self
    }

    /// Sets how long an idle key stays cached (default
    /// [`DEFAULT_SERIES_TTL`]).
    #[must_use]
    pub fn series_ttl(mut self, ttl: Duration) -> Self {
        self.config.series_ttl = ttl;
        self
    }

    /// Sets how often a live series is re-written at least (default
    /// [`DEFAULT_HEARTBEAT`]); never less than the flush interval.
    #[must_use]
    pub fn heartbeat(mut self, heartbeat: Duration) -> Self {
        self.config.heartbeat = heartbeat;
        self
    }

    /// Sets the most cached keys (default [`DEFAULT_MAX_CACHED_KEYS`]; at
    /// least 1). A key evicted and seen again continues its stored Event.
    #[must_use]
    pub fn max_cached_keys(mut self, keys: usize) -> Self {
        self.config.max_cached_keys = keys;
        self
    }

    /// Sets the `emit` queue capacity (default [`DEFAULT_QUEUE_CAPACITY`],
    /// between 1 and [`MAX_QUEUE_CAPACITY`]).
    #[must_use]
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.config.queue_capacity = capacity;
        self
    }

    /// Sets the number of background writers (default [`DEFAULT_WRITERS`],
    /// between 1 and [`MAX_WRITERS`]).
    #[must_use]
    pub fn writers(mut self, writers: usize) -> Self {
        self.config.writers = writers;
        self
    }

    /// Sets the retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.config.retry = retry;
        self
    }

    /// Sets what happens to notes over 1024 bytes (default
    /// [`NoteOverflow::Truncate`]).
    #[must_use]
    pub fn note_overflow(mut self, overflow: NoteOverflow) -> Self {
        self.config.note_overflow = overflow;
        self
    }

    /// Sets whether the note is part of an event's identity (default
    /// [`NotePolicy::Ignore`]).
    #[must_use]
    pub fn note_policy(mut self, policy: NotePolicy) -> Self {
        self.config.note_policy = policy;
        self
    }

    /// Sets the namespace for events about cluster-scoped objects (default
    /// [`ClusterScopedNamespace::Default`]).
    #[must_use]
    pub fn cluster_scoped_namespace(mut self, namespace: ClusterScopedNamespace) -> Self {
        self.config.cluster_scoped_namespace = namespace;
        self
    }

    /// Sets the spam filter (default [`SpamFilter::default`]).
    #[must_use]
    pub fn spam_filter(mut self, filter: SpamFilter) -> Self {
        self.config.spam_filter = Some(filter);
        self
    }

    /// Turns the spam filter off.
    #[must_use]
    pub fn no_spam_filter(mut self) -> Self {
        self.config.spam_filter = None;
        self
    }

    /// Sets what the spam filter's buckets are keyed by (default
    /// [`SpamKey::Object`]).
    #[must_use]
    pub fn spam_key(mut self, key: SpamKey) -> Self {
        self.config.spam_key = key;
        self
    }

    /// Turns publishing on or off (default on). When off, every occurrence
    /// returns [`Published::Dropped`](crate::Published::Dropped) with
    /// [`DropReason::Filtered`](crate::DropReason::Filtered) and is counted
    /// in `dropped_filtered`; nothing is written.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*; use event_core::sink::*;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// # let sink: Arc<dyn EventSink> = Arc::new(NoSink);
    /// # struct NoSink;
    /// # #[async_trait::async_trait] impl EventSink for NoSink {
    /// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
    /// #   async fn patch_series(&self, _: &EventRecord, _: event_core::sink::Series) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// let quiet = Recorder::builder(sink, "example.com/widgets").events_enabled(false).build()?;
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// let out = quiet.publish(&Event::warning("BackOff", "Starting"), &pod).await?;
    /// assert_eq!(out, Published::Dropped(DropReason::Filtered));
    /// assert_eq!(quiet.stats().dropped_filtered, 1);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn events_enabled(mut self, enabled: bool) -> Self {
        self.config.filter.off = !enabled;
        self
    }

    /// Sets the least type published (default [`EventType::Normal`]:
    /// every event); [`EventType::Warning`] publishes warnings only. Others
    /// are dropped as [`DropReason::Filtered`](crate::DropReason::Filtered).
    #[must_use]
    pub fn minimum_type(mut self, type_: EventType) -> Self {
        self.config.filter.minimum = type_;
        self
    }

    /// Adds reasons never published (dropped as
    /// [`DropReason::Filtered`](crate::DropReason::Filtered)); dropping wins
    /// over [`keep_reasons`](Self::keep_reasons).
    #[must_use]
    pub fn drop_reasons<I, S>(mut self, reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let reasons = reasons.into_iter().map(|r| r.into().into_boxed_str());
        self.config.filter.drop.extend(reasons);
        self
    }

    /// Publishes only events with these reasons (default: every reason);
    /// others are dropped as
    /// [`DropReason::Filtered`](crate::DropReason::Filtered). Calls add up.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*; use event_core::sink::*;
    /// # fn f(sink: Arc<dyn EventSink>) -> Result<(), Error> {
    /// let recorder = Recorder::builder(sink, "example.com/widgets")
    ///     .minimum_type(EventType::Warning)
    ///     .keep_reasons(["ReconcileFailed", "BackOff"])
    ///     .drop_reasons(["BackOff"])
    ///     .build()?; // publishes Warning ReconcileFailed events only
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn keep_reasons<I, S>(mut self, reasons: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let reasons = reasons.into_iter().map(|r| r.into().into_boxed_str());
        self.config
            .filter
            .keep
            .get_or_insert_default()
            .extend(reasons);
        self
    }

    /// Sets the write budget shared by every request of the Recorder
    /// (default [`WriteBudget::default`]: [`DEFAULT_WRITE_RATE`](crate::recorder::DEFAULT_WRITE_RATE)
    /// per second after a burst of [`DEFAULT_WRITE_BURST`](crate::recorder::DEFAULT_WRITE_BURST)).
    #[must_use]
    pub fn write_budget(mut self, budget: WriteBudget) -> Self {
        self.config.write_budget = budget;
        self
    }

    /// Also logs every published occurrence as a `tracing` event (default
    /// off), at info level with the target [`EVENT_LOG_TARGET`](crate::recorder::EVENT_LOG_TARGET)
    /// and the fields `type`, `reason`, `action`, `kind`, `namespace`,
    /// `name`, `reporting_controller`, `note` and `count` (the series count
    /// so far). Logged with no lock held, before any write.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*; use event_core::sink::*;
    /// # fn f(sink: Arc<dyn EventSink>) -> Result<(), Error> {
    /// // With tracing-subscriber: RUST_LOG=event_core::events=info
    /// let recorder = Recorder::builder(sink, "example.com/widgets").log_events(true).build()?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn log_events(mut self, log: bool) -> Self {
        self.config.log_events = log;
        self
    }

    /// Checks the reporter and builds the Recorder. Background tasks start
    /// on first use, on the tokio runtime of the caller.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] when the reporting controller is not a qualified
    /// name or an explicit reporting instance is empty or over 128 bytes.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*; use event_core::sink::*;
    /// # fn f(sink: Arc<dyn EventSink>) {
    /// let err = Recorder::builder(sink, "my controller").build().unwrap_err();
    /// assert!(err.to_string().contains("reportingController"));
    /// # }
    /// ```
    pub fn build(self) -> Result<Recorder, Error> {
        let reporter = validate_reporter(&self.reporter)?;
        let engine = Engine::new(self.sink, self.clock, reporter, self.config.bounded());
        Ok(Recorder::from_engine(engine))
    }
}
