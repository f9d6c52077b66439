//! The [`Recorder`]: validation, correlation into series, and writes.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use tokio::task::JoinHandle;

use std::borrow::Cow;

use crate::key::packed;
use crate::series::{Cache, Entry, EntryState, NewEntry, later, lock};
use crate::spam::{Admission, SpamBuckets};
use crate::{
    Clock, ClusterScopedNamespace, Error, Event, EventRecord, EventSink, NoteOverflow, NotePolicy,
    ObjectRef, RBAC_HINT, RefKey, Reporter, RetryPolicy, SinkError, SpamFilter, SystemClock,
    event_name, validate_event, validate_regarding, validate_reporter,
};

/// A dirty series is written at most once per this interval.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// assert_eq!(event_core::DEFAULT_SERIES_FLUSH_INTERVAL, Duration::from_secs(10));
/// ```
pub const DEFAULT_SERIES_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// A key not seen for this long is flushed (if dirty) and forgotten; the next
/// occurrence starts a new Event.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// assert_eq!(event_core::DEFAULT_SERIES_TTL, Duration::from_secs(360));
/// assert!(event_core::DEFAULT_SERIES_TTL > event_core::DEFAULT_SERIES_FLUSH_INTERVAL);
/// ```
pub const DEFAULT_SERIES_TTL: Duration = Duration::from_secs(6 * 60);
/// A live series is re-written at least this often, well before the API
/// server's default 1 h event TTL.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// assert_eq!(event_core::DEFAULT_HEARTBEAT, Duration::from_secs(30 * 60));
/// // Well within the API server's default one-hour event TTL.
/// assert!(event_core::DEFAULT_HEARTBEAT < Duration::from_secs(60 * 60));
/// ```
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(30 * 60);
/// Most keys kept in the correlation cache.
///
/// # Example
///
/// ```
/// assert_eq!(event_core::DEFAULT_MAX_CACHED_KEYS, 4096);
/// ```
pub const DEFAULT_MAX_CACHED_KEYS: usize = 4096;
/// Capacity of the queue behind [`Recorder::emit`].
///
/// # Example
///
/// ```
/// use event_core::{DEFAULT_QUEUE_CAPACITY, MAX_QUEUE_CAPACITY};
/// assert_eq!(DEFAULT_QUEUE_CAPACITY, 1024);
/// assert!(DEFAULT_QUEUE_CAPACITY <= MAX_QUEUE_CAPACITY);
/// ```
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;
/// Background writers draining the `emit` queue (and flushing series).
///
/// # Example
///
/// ```
/// use event_core::{DEFAULT_WRITERS, MAX_WRITERS};
/// assert_eq!(DEFAULT_WRITERS, 4);
/// assert!(DEFAULT_WRITERS <= MAX_WRITERS);
/// ```
pub const DEFAULT_WRITERS: usize = 4;
/// Largest `emit` queue capacity accepted; larger settings are lowered to
/// it (the queue's slots are allocated up front).
///
/// # Example
///
/// ```
/// assert_eq!(event_core::MAX_QUEUE_CAPACITY, 65_536);
/// ```
pub const MAX_QUEUE_CAPACITY: usize = 1 << 16;
/// Most background writers; larger settings are lowered to it.
///
/// # Example
///
/// ```
/// assert_eq!(event_core::MAX_WRITERS, 256);
/// ```
pub const MAX_WRITERS: usize = 256;
/// Longest single wait before a retry, whatever the server's `Retry-After`
/// says; a longer one ends the attempt, and the entry's own backoff (or the
/// next flush) tries again later.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// assert_eq!(event_core::MAX_RETRY_AFTER, Duration::from_secs(5 * 60));
/// ```
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What [`Recorder::publish`] did with one occurrence.
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
pub enum Published {
    /// A new Event was created.
    Created,
    /// The Event's series was written with this count.
    SeriesUpdated {
        /// The count written.
        count: u32,
    },
    /// Counted in the cache; the count is written later (flush interval,
    /// [`Recorder::flush`] or [`Recorder::shutdown`]).
    Coalesced {
        /// The count so far.
        count: u32,
    },
    /// Not an event that is ever written.
    Skipped(SkipReason),
    /// Dropped on purpose; counted in [`Stats`].
    Dropped(DropReason),
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
}

impl Stats {
    /// Successful writes: creates plus patches.
    ///
    /// # Example
    ///
    /// ```
    /// let s = event_core::Stats { created: 1, patched: 2, ..Default::default() };
    /// assert_eq!(s.writes(), 3);
    /// ```
    pub fn writes(&self) -> u64 {
        self.created + self.patched
    }
}

/// What [`Recorder::shutdown`] could not write before its deadline.
///
/// # Example
///
/// ```
/// let r = event_core::ShutdownReport::default();
/// assert!(r.is_complete());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Events whose latest count did not reach the sink, as they would have
    /// been written.
    pub unwritten: Vec<EventRecord>,
    /// The counters at shutdown (`stats.dropped_queue_full` counts the
    /// occurrences dropped because the `emit` queue was full).
    pub stats: Stats,
}

impl ShutdownReport {
    /// Whether everything reached the sink.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{EventRecord, EventType, ObjectRef, ShutdownReport};
    ///
    /// assert!(ShutdownReport::default().is_complete());
    ///
    /// let unwritten = EventRecord {
    ///     name: "web-0.0-abcde".into(),
    ///     namespace: "shop".into(),
    ///     event_time: jiff::Timestamp::UNIX_EPOCH,
    ///     series: None,
    ///     regarding: ObjectRef::new("v1", "Pod", "web-0").within("shop"),
    ///     related: None,
    ///     reason: "Started".into(),
    ///     action: "Starting".into(),
    ///     note: None,
    ///     type_: EventType::Normal,
    ///     reporting_controller: "example.com/c".into(),
    ///     reporting_instance: "c-0".into(),
    ///     annotations: Default::default(),
    /// };
    /// let report = ShutdownReport { unwritten: vec![unwritten], ..Default::default() };
    /// assert!(!report.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.unwritten.is_empty()
    }
}

#[derive(Default)]
struct Counters {
    published: AtomicU64,
    created: AtomicU64,
    patched: AtomicU64,
    coalesced: AtomicU64,
    skipped: AtomicU64,
    dropped_spam: AtomicU64,
    dropped_queue_full: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            published: get(&self.published),
            created: get(&self.created),
            patched: get(&self.patched),
            coalesced: get(&self.coalesced),
            skipped: get(&self.skipped),
            dropped_spam: get(&self.dropped_spam),
            dropped_queue_full: get(&self.dropped_queue_full),
            retried: get(&self.retried),
            failed: get(&self.failed),
        }
    }
}

#[derive(Clone, Debug)]
struct Config {
    flush_interval: Duration,
    series_ttl: Duration,
    heartbeat: Duration,
    max_cached_keys: usize,
    queue_capacity: usize,
    writers: usize,
    spam: Option<SpamFilter>,
    retry: RetryPolicy,
    note_overflow: NoteOverflow,
    note_policy: NotePolicy,
    cluster_namespace: ClusterScopedNamespace,
}

/// Builds a [`Recorder`]; every setting has a documented default.
///
/// # Example
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use event_core::{NotePolicy, Recorder, EventSink};
/// # fn sink() -> Arc<dyn EventSink> { unimplemented!() }
/// # fn main() -> Result<(), event_core::Error> {
/// # if false {
/// let recorder = Recorder::builder(sink(), "example.com/widgets")
///     .series_flush_interval(Duration::from_secs(5))
///     .max_cached_keys(10_000)
///     .note_policy(NotePolicy::Distinct)
///     .build()?;
/// # }
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

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty => $field:ident) => {
        $(#[$doc])*
        #[must_use]
        pub fn $name(mut self, value: $ty) -> Self {
            self.config.$field = value;
            self
        }
    };
}

impl RecorderBuilder {
    /// Sets the clock (default [`SystemClock`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*;
    /// # fn f(sink: Arc<dyn EventSink>) {
    /// let b = Recorder::builder(sink, "example.com/c").clock(Arc::new(SystemClock));
    /// # }
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    setter!(
        /// Sets how often a dirty series is written at most
        /// (default [`DEFAULT_SERIES_FLUSH_INTERVAL`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c")
        ///     .series_flush_interval(std::time::Duration::from_secs(1));
        /// # }
        /// ```
        series_flush_interval: Duration => flush_interval
    );
    setter!(
        /// Sets how long an idle key is kept (default [`DEFAULT_SERIES_TTL`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c")
        ///     .series_ttl(std::time::Duration::from_secs(60));
        /// # }
        /// ```
        series_ttl: Duration => series_ttl
    );
    setter!(
        /// Sets how often a live series is re-written at least
        /// (default [`DEFAULT_HEARTBEAT`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c")
        ///     .heartbeat(std::time::Duration::from_secs(600));
        /// # }
        /// ```
        heartbeat: Duration => heartbeat
    );
    setter!(
        /// Sets the most cached keys (default [`DEFAULT_MAX_CACHED_KEYS`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c").max_cached_keys(100);
        /// # }
        /// ```
        max_cached_keys: usize => max_cached_keys
    );
    setter!(
        /// Sets the `emit` queue capacity (default [`DEFAULT_QUEUE_CAPACITY`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c").queue_capacity(64);
        /// # }
        /// ```
        queue_capacity: usize => queue_capacity
    );
    setter!(
        /// Sets the number of background writers (default [`DEFAULT_WRITERS`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c").writers(2);
        /// # }
        /// ```
        writers: usize => writers
    );
    setter!(
        /// Sets the retry policy (default [`RetryPolicy::default`]).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c").retry(RetryPolicy::none());
        /// # }
        /// ```
        retry: RetryPolicy => retry
    );
    setter!(
        /// Sets what happens to notes over 1024 bytes (default truncate).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c").note_overflow(NoteOverflow::Reject);
        /// # }
        /// ```
        note_overflow: NoteOverflow => note_overflow
    );
    setter!(
        /// Sets whether the note is part of the key (default: not).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c").note_policy(NotePolicy::Distinct);
        /// # }
        /// ```
        note_policy: NotePolicy => note_policy
    );
    setter!(
        /// Sets the namespace for events about cluster-scoped objects
        /// (default `default`).
        ///
        /// # Example
        ///
        /// ```
        /// # use std::sync::Arc; use event_core::*;
        /// # fn f(sink: Arc<dyn EventSink>) {
        /// let b = Recorder::builder(sink, "example.com/c")
        ///     .cluster_scoped_namespace(ClusterScopedNamespace::KubeSystem);
        /// # }
        /// ```
        cluster_scoped_namespace: ClusterScopedNamespace => cluster_namespace
    );

    /// Sets the spam filter (default [`SpamFilter::default`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*;
    /// # fn f(sink: Arc<dyn EventSink>) {
    /// let b = Recorder::builder(sink, "example.com/c")
    ///     .spam_filter(SpamFilter::new(100, std::time::Duration::from_secs(60)));
    /// # }
    /// ```
    #[must_use]
    pub fn spam_filter(mut self, filter: SpamFilter) -> Self {
        self.config.spam = Some(filter);
        self
    }

    /// Turns the spam filter off.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*;
    /// # fn f(sink: Arc<dyn EventSink>) {
    /// let b = Recorder::builder(sink, "example.com/c").no_spam_filter();
    /// # }
    /// ```
    #[must_use]
    pub fn no_spam_filter(mut self) -> Self {
        self.config.spam = None;
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
    /// # use std::sync::Arc; use event_core::*;
    /// # fn f(sink: Arc<dyn EventSink>) {
    /// let err = Recorder::builder(sink, "my controller").build().unwrap_err();
    /// assert!(err.to_string().contains("reportingController"));
    /// # }
    /// ```
    pub fn build(self) -> Result<Recorder, Error> {
        let reporter = validate_reporter(&self.reporter)?;
        let mut config = self.config;
        config.max_cached_keys = config.max_cached_keys.max(1);
        config.queue_capacity = config.queue_capacity.clamp(1, MAX_QUEUE_CAPACITY);
        config.writers = config.writers.clamp(1, MAX_WRITERS);
        config.heartbeat = config.heartbeat.max(config.flush_interval);
        let (tx, rx) = async_channel::bounded(config.queue_capacity);
        let shared = Arc::new(Shared {
            sink: self.sink,
            clock: self.clock,
            controller: reporter.controller.into(),
            instance: reporter.instance.into(),
            spam: config.spam.map(|f| Mutex::new(SpamBuckets::new(f))),
            config,
            cache: Mutex::new(Cache::new()),
            stats: Counters::default(),
            shut_down: AtomicBool::new(false),
            warned_queue_full: AtomicBool::new(false),
            stop: tokio::sync::Notify::new(),
            in_flight: std::sync::atomic::AtomicUsize::new(0),
            idle: tokio::sync::Notify::new(),
        });
        Ok(Recorder {
            inner: Arc::new(Inner {
                shared,
                tx,
                rx,
                tasks: OnceLock::new(),
            }),
        })
    }
}

/// Publishes events: validates them, folds repeats into series, and writes
/// as little as possible to an [`EventSink`].
///
/// Cheap to clone (an `Arc` inside); keep one per controller and share it.
/// A controller's context holds the same `Recorder` type in production and
/// in tests: only the sink differs.
///
/// - [`publish`](Self::publish) awaits the write when this occurrence needs
///   one (the first, and the second which starts the series) and returns
///   what happened.
/// - [`emit`](Self::emit) never waits: it queues the write, or drops and
///   counts when the queue is full.
/// - Later occurrences only count; a background task writes each dirty
///   series at most once per flush interval, re-writes long series before
///   the server's TTL, and forgets idle keys.
/// - [`flush`](Self::flush) writes every dirty series now;
///   [`shutdown`](Self::shutdown) stops intake and writes everything it can
///   before a deadline.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::{Event, EventSink, ObjectRef, Published, Recorder};
/// # use event_core::{EventRecord, SinkError};
/// # struct Nothing;
/// # #[async_trait::async_trait] impl EventSink for Nothing {
/// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
/// #   async fn patch_series(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), event_core::Error> {
/// let recorder = Recorder::builder(Arc::new(Nothing), "example.com/widgets").build()?;
/// let cm = ObjectRef::new("v1", "ConfigMap", "settings").within("shop");
/// let synced = Event::normal("Synced", "Reconciling");
/// assert_eq!(recorder.publish(&synced, &cm).await?, Published::Created);
/// assert_eq!(recorder.publish(&synced, &cm).await?, Published::SeriesUpdated { count: 2 });
/// assert_eq!(recorder.publish(&synced, &cm).await?, Published::Coalesced { count: 3 });
/// let report = recorder.shutdown(std::time::Duration::from_secs(5)).await;
/// assert!(report.is_complete());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("reporting_controller", &self.inner.shared.controller)
            .field("reporting_instance", &self.inner.shared.instance)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct Inner {
    shared: Arc<Shared>,
    tx: async_channel::Sender<Arc<Entry>>,
    rx: async_channel::Receiver<Arc<Entry>>,
    tasks: OnceLock<Tasks>,
}

struct Tasks {
    writers: Mutex<Vec<JoinHandle<()>>>,
    maintenance: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Ends the background tasks: writers see a closed queue once it is
        // drained; the maintenance task makes a last bounded flush.
        self.tx.close();
        self.shared.stop.notify_one();
    }
}

struct Shared {
    sink: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    controller: Arc<str>,
    instance: Arc<str>,
    config: Config,
    cache: Mutex<Cache>,
    spam: Option<Mutex<SpamBuckets>>,
    stats: Counters,
    shut_down: AtomicBool,
    warned_queue_full: AtomicBool,
    stop: tokio::sync::Notify,
    /// `emit` writes queued or running.
    in_flight: std::sync::atomic::AtomicUsize,
    /// Notified when `in_flight` drops to zero.
    idle: tokio::sync::Notify,
}

/// What an occurrence needs, decided under the cache lock.
enum Observation {
    Skipped,
    Dropped,
    Coalesced(u32),
    /// A write may be due: the caller takes the entry's write lock and
    /// decides again.
    Write {
        entry: Arc<Entry>,
        new: bool,
    },
}

/// Which owed writes `collect` takes regardless of their interval.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Force {
    /// None: only those due.
    No,
    /// All of them.
    All,
    /// All but those whose last failure was a definite refusal.
    Retryable,
}

/// Why a write is attempted.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// On behalf of an occurrence: the create, or the patch that starts the
    /// series.
    Immediate,
    /// A dirty series (or an uncreated event) from flush or maintenance.
    Flush,
    /// A clean live series re-written to refresh the server's TTL.
    Heartbeat,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Create,
    Patch,
}

enum Outcome {
    Created,
    Patched(u32),
    Nothing(u32),
    Failed(SinkError),
}

/// Lists an entry that still owes a write when a write ends, however it
/// ends (completion, error, or the future being dropped).
struct Relist<'a> {
    shared: &'a Shared,
    entry: &'a Arc<Entry>,
}

impl Drop for Relist<'_> {
    fn drop(&mut self) {
        let mut cache = lock(&self.shared.cache);
        let mut st = self.entry.state();
        self.shared.relist(&mut cache, self.entry, &mut st);
    }
}

/// The spam filter's key for an object: the reference without its field
/// path (one budget per object, as client-go has it).
fn spam_key(regarding: &ObjectRef) -> RefKey {
    let mut key = RefKey::from(regarding);
    key.field_path = None;
    key
}

impl Recorder {
    /// Starts building a Recorder that writes to `sink` as `reporter`.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*;
    /// # fn f(sink: Arc<dyn EventSink>) -> Result<(), Error> {
    /// let recorder = Recorder::builder(sink, "example.com/widgets").build()?;
    /// # Ok(()) }
    /// ```
    pub fn builder(sink: Arc<dyn EventSink>, reporter: impl Into<Reporter>) -> RecorderBuilder {
        RecorderBuilder {
            sink,
            reporter: reporter.into(),
            clock: Arc::new(SystemClock),
            config: Config {
                flush_interval: DEFAULT_SERIES_FLUSH_INTERVAL,
                series_ttl: DEFAULT_SERIES_TTL,
                heartbeat: DEFAULT_HEARTBEAT,
                max_cached_keys: DEFAULT_MAX_CACHED_KEYS,
                queue_capacity: DEFAULT_QUEUE_CAPACITY,
                writers: DEFAULT_WRITERS,
                spam: Some(SpamFilter::default()),
                retry: RetryPolicy::default(),
                note_overflow: NoteOverflow::default(),
                note_policy: NotePolicy::default(),
                cluster_namespace: ClusterScopedNamespace::default(),
            },
        }
    }

    /// Publishes one occurrence of `event` about `regarding`, and awaits the
    /// write when this occurrence needs one (retrying as the policy allows).
    ///
    /// # Errors
    ///
    /// - [`Error::Invalid`] listing every broken rule; nothing is written or
    ///   counted.
    /// - [`Error::Sink`] when a due write failed for good; the occurrence
    ///   stays counted and a later write carries it.
    /// - [`Error::ShutDown`] after [`shutdown`](Self::shutdown).
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_core::{Error, Event, ObjectRef, Published, Recorder};
    /// # use event_core::{EventRecord, EventSink, SinkError};
    /// # struct Nothing;
    /// # #[async_trait::async_trait] impl EventSink for Nothing {
    /// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
    /// #   async fn patch_series(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Error> {
    /// let recorder = Recorder::builder(Arc::new(Nothing), "example.com/widgets").build()?;
    /// let cm = ObjectRef::new("v1", "ConfigMap", "settings").within("shop");
    ///
    /// let synced = Event::normal("Synced", "Reconciling");
    /// assert_eq!(recorder.publish(&synced, &cm).await?, Published::Created);
    ///
    /// // A broken event is refused before anything is written or counted.
    /// let unnamed = Event::normal("", "Reconciling");
    /// assert!(matches!(recorder.publish(&unnamed, &cm).await, Err(Error::Invalid(_))));
    /// assert_eq!(recorder.stats().published, 1);
    ///
    /// recorder.shutdown(std::time::Duration::from_secs(5)).await;
    /// assert!(matches!(recorder.publish(&synced, &cm).await, Err(Error::ShutDown)));
    /// # Ok(()) }
    /// ```
    pub async fn publish(&self, event: &Event, regarding: &ObjectRef) -> Result<Published, Error> {
        let shared = &self.inner.shared;
        if shared.shut_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        self.ensure_started();
        match shared.observe(event, regarding)? {
            Observation::Skipped => Ok(Published::Skipped(SkipReason::AboutAnEvent)),
            Observation::Dropped => Ok(Published::Dropped(DropReason::Spam)),
            Observation::Coalesced(count) => Ok(Published::Coalesced { count }),
            Observation::Write { entry, .. } => match shared.write(&entry, Mode::Immediate).await {
                Outcome::Created => Ok(Published::Created),
                Outcome::Patched(count) => Ok(Published::SeriesUpdated { count }),
                Outcome::Nothing(count) => {
                    bump(&shared.stats.coalesced);
                    Ok(Published::Coalesced { count })
                }
                Outcome::Failed(e) => Err(Error::Sink(e)),
            },
        }
    }

    /// Publishes one occurrence without waiting: a due write goes to a
    /// bounded queue drained by background writers. When the queue is full
    /// the occurrence is dropped and counted (`dropped_queue_full`); the
    /// first drop is logged at warn level.
    ///
    /// # Errors
    ///
    /// - [`Error::Invalid`] listing every broken rule.
    /// - [`Error::ShutDown`] after [`shutdown`](Self::shutdown).
    /// - [`Error::NoRuntime`] when called outside a tokio runtime before the
    ///   Recorder was first used inside one.
    ///
    /// # Example
    ///
    /// ```
    /// # use std::sync::Arc; use event_core::*;
    /// # async fn f(recorder: Recorder, pod: ObjectRef) -> Result<(), Error> {
    /// recorder.emit(&Event::normal("Started", "Starting"), &pod)?;
    /// # Ok(()) }
    /// ```
    pub fn emit(&self, event: &Event, regarding: &ObjectRef) -> Result<(), Error> {
        let shared = &self.inner.shared;
        if shared.shut_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        if !self.ensure_started() {
            return Err(Error::NoRuntime);
        }
        if let Observation::Write { entry, new } = shared.observe(event, regarding)? {
            entry.state().queued = true;
            shared.in_flight.fetch_add(1, Ordering::AcqRel);
            if let Err(err) = self.inner.tx.try_send(entry) {
                shared.job_done();
                let entry = err.into_inner();
                shared.queue_full(&entry, new);
            }
        }
        Ok(())
    }

    /// Writes every dirty series (and every event whose create is still
    /// owed) now, regardless of the flush interval, after the writes queued
    /// by [`emit`](Self::emit) have run. With a sink that never answers this
    /// never returns: bound it with a timeout, or use
    /// [`shutdown`](Self::shutdown), which has a deadline.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn f(recorder: event_core::Recorder) {
    /// recorder.flush().await;
    /// # }
    /// ```
    pub async fn flush(&self) {
        self.ensure_started();
        let shared = &self.inner.shared;
        loop {
            let idle = shared.idle.notified();
            if shared.in_flight.load(Ordering::Acquire) == 0 {
                break;
            }
            idle.await;
        }
        let due = shared.collect(shared.clock.now(), Force::All);
        Shared::run_all(Arc::clone(shared), due).await;
    }

    /// Stops intake, drains the `emit` queue, writes every dirty series, and
    /// reports what did not reach the sink before `deadline`. Later calls of
    /// `publish`/`emit` return [`Error::ShutDown`].
    ///
    /// # Example
    ///
    /// ```
    /// # async fn f(recorder: event_core::Recorder) {
    /// let report = recorder.shutdown(std::time::Duration::from_secs(10)).await;
    /// if !report.is_complete() {
    ///     eprintln!("{} events not written", report.unwritten.len());
    /// }
    /// # }
    /// ```
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let shared = Arc::clone(&self.inner.shared);
        let start = tokio::time::Instant::now();
        shared.shut_down.store(true, Ordering::Release);
        self.inner.tx.close();
        if let Some(tasks) = self.inner.tasks.get() {
            let writers: Vec<_> = lock(&tasks.writers).drain(..).collect();
            let aborts: Vec<_> = writers.iter().map(JoinHandle::abort_handle).collect();
            let drained = tokio::time::timeout(deadline, async {
                for w in writers {
                    let _ = w.await;
                }
            })
            .await;
            if drained.is_err() {
                aborts.iter().for_each(tokio::task::AbortHandle::abort);
            }
            // Let a maintenance pass in progress finish its writes (their
            // bookkeeping must not be cut short), within the deadline.
            shared.stop.notify_one();
            let maintenance = lock(&tasks.maintenance).take();
            if let Some(handle) = maintenance {
                let abort = handle.abort_handle();
                let left = deadline.saturating_sub(start.elapsed());
                if tokio::time::timeout(left, handle).await.is_err() {
                    abort.abort();
                }
            }
        }
        let remaining = deadline.saturating_sub(start.elapsed());
        let _ = tokio::time::timeout(remaining, Shared::drain(Arc::clone(&shared))).await;
        let unwritten = shared.unwritten();
        let stats = shared.stats.snapshot();
        if stats.dropped_queue_full > 0 {
            tracing::warn!(
                dropped = stats.dropped_queue_full,
                "events dropped because the emit queue was full"
            );
        }
        if !unwritten.is_empty() {
            tracing::warn!(
                unwritten = unwritten.len(),
                "events not written before the shutdown deadline"
            );
        }
        ShutdownReport { unwritten, stats }
    }

    /// The counters so far.
    ///
    /// # Example
    ///
    /// ```
    /// # fn f(recorder: event_core::Recorder) {
    /// let s = recorder.stats();
    /// println!("{} published, {} written", s.published, s.writes());
    /// # }
    /// ```
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats.snapshot()
    }

    /// The number of keys in the correlation cache (at most
    /// `max_cached_keys`).
    ///
    /// # Example
    ///
    /// ```
    /// # fn f(recorder: event_core::Recorder) {
    /// assert!(recorder.cached_keys() <= event_core::DEFAULT_MAX_CACHED_KEYS);
    /// # }
    /// ```
    pub fn cached_keys(&self) -> usize {
        lock(&self.inner.shared.cache).entries.len()
    }

    /// Starts the background tasks on the current runtime, once. Returns
    /// whether they run.
    fn ensure_started(&self) -> bool {
        if self.inner.tasks.get().is_some() {
            return true;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let inner = &self.inner;
        inner.tasks.get_or_init(|| {
            let writers = (0..inner.shared.config.writers)
                .map(|_| {
                    let shared = Arc::clone(&inner.shared);
                    let rx = inner.rx.clone();
                    handle.spawn(async move {
                        while let Ok(entry) = rx.recv().await {
                            // This job is taken: the next occurrence may
                            // queue another.
                            entry.state().queued = false;
                            if let Outcome::Nothing(_) = shared.write(&entry, Mode::Immediate).await
                            {
                                bump(&shared.stats.coalesced);
                            }
                            shared.job_done();
                        }
                    })
                })
                .collect();
            let shared = Arc::clone(&inner.shared);
            let maintenance = handle.spawn(Shared::maintain(shared));
            Tasks {
                writers: Mutex::new(writers),
                maintenance: Mutex::new(Some(maintenance)),
            }
        });
        true
    }
}

impl Shared {
    fn observe(&self, event: &Event, regarding: &ObjectRef) -> Result<Observation, Error> {
        if regarding.is_event() {
            bump(&self.stats.skipped);
            tracing::debug!(kind = %regarding.kind, name = %regarding.name, "skipped an event about an Event");
            return Ok(Observation::Skipped);
        }
        let note = match (
            validate_event(event, self.config.note_overflow),
            validate_regarding(regarding),
        ) {
            (Ok(note), Ok(())) => note,
            (Err(a), Err(b)) => return Err(Error::Invalid(a.merge(b))),
            (Err(e), _) | (_, Err(e)) => return Err(Error::Invalid(e)),
        };
        let now = self.clock.now();
        thread_local! {
            static KEY: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        KEY.with_borrow_mut(|buf| {
            packed::encode(
                buf,
                event,
                note.as_deref(),
                regarding,
                self.config.note_policy,
            );
            self.observe_key(buf, event, regarding, note, now)
        })
    }

    fn observe_key(
        &self,
        key: &[u8],
        event: &Event,
        regarding: &ObjectRef,
        note: Option<Cow<'_, str>>,
        now: Timestamp,
    ) -> Result<Observation, Error> {
        let mut cache = lock(&self.cache);
        if let Some(entry) = cache.entries.get(key) {
            let entry = Arc::clone(entry);
            let mut st = entry.state();
            st.count = st.count.saturating_add(1);
            st.last_observed = now;
            bump(&self.stats.published);
            let due = !st.poisoned
                && !st.queued
                && !st.backing_off(now, self.config.flush_interval)
                && (!st.live || (!st.has_series() && st.count >= 2));
            if due {
                drop(st);
                return Ok(Observation::Write { entry, new: false });
            }
            cache.list_if_dirty(&entry, &mut st);
            bump(&self.stats.coalesced);
            return Ok(Observation::Coalesced(st.count));
        }
        if let Some(spam) = &self.spam
            && let Admission::Denied { first } =
                lock(spam).admit(&spam_key(regarding), event.type_, now)
        {
            bump(&self.stats.dropped_spam);
            drop(cache);
            if first {
                tracing::debug!(
                    kind = %regarding.kind,
                    name = %regarding.name,
                    reason = %event.reason,
                    "spam filter dropped a new event for this object"
                );
            }
            return Ok(Observation::Dropped);
        }
        while cache.entries.len() >= self.config.max_cached_keys {
            let Some((_, old)) = cache.entries.pop_lru() else {
                break;
            };
            self.retire(&mut cache, &old);
        }
        let namespace: Arc<str> = match regarding.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns.into(),
            _ => self.config.cluster_namespace.as_str().into(),
        };
        let key: Arc<[u8]> = Arc::from(key);
        let entry = Arc::new(Entry::new(
            Arc::clone(&key),
            NewEntry {
                name: event_name(&regarding.name, &self.controller, now),
                namespace,
                now,
                note: note.map(Cow::into_owned),
                annotations: event.annotations.clone(),
                regarding_rv: regarding.resource_version.clone(),
                related_rv: event
                    .secondary
                    .as_ref()
                    .and_then(|r| r.resource_version.clone()),
            },
        ));
        cache.entries.put(key, Arc::clone(&entry));
        bump(&self.stats.published);
        Ok(Observation::Write { entry, new: true })
    }

    /// An entry leaves the cache. If it owes a write it stays listed as
    /// dirty for its final writes, as long as the dirty list stays within
    /// twice `max_cached_keys`; past that its count is dropped and counted
    /// in `failed` (bounded memory wins).
    fn retire(&self, cache: &mut Cache, entry: &Arc<Entry>) {
        let mut st = entry.state();
        st.evicted = true;
        self.relist(cache, entry, &mut st);
    }

    /// Lists `entry` as dirty if it owes a write, within the bound on the
    /// dirty list for entries that left the cache.
    fn relist(&self, cache: &mut Cache, entry: &Arc<Entry>, st: &mut EntryState) {
        if !st.is_dirty() || st.listed {
            return;
        }
        if st.evicted && cache.dirty.len() >= self.config.max_cached_keys.saturating_mul(2) {
            st.poisoned = true;
            bump(&self.stats.failed);
            tracing::warn!(name = %st.name, count = st.count, "series dropped: too many unwritten series that left the cache");
            return;
        }
        cache.list_if_dirty(entry, st);
    }

    /// One `emit` write finished (or was never queued).
    fn job_done(&self) {
        if self.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.idle.notify_waiters();
        }
    }

    fn queue_full(&self, entry: &Arc<Entry>, new: bool) {
        let mut cache = lock(&self.cache);
        let mut st = entry.state();
        if new && st.count == 1 && !st.live {
            // Forget the event entirely, as if it never came.
            let still_cached = cache
                .entries
                .peek(&*entry.key)
                .is_some_and(|e| Arc::ptr_eq(e, entry));
            if still_cached {
                cache.entries.pop(&*entry.key);
            }
            st.poisoned = true;
            st.queued = false;
            self.stats.published.fetch_sub(1, Ordering::Relaxed);
            bump(&self.stats.dropped_queue_full);
            drop(st);
            drop(cache);
            if !self.warned_queue_full.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    capacity = self.config.queue_capacity,
                    "event queue full: dropping events (counted in stats.dropped_queue_full)"
                );
            }
        } else {
            // The occurrence stays counted; a flush writes it.
            st.queued = false;
            self.relist(&mut cache, entry, &mut st);
            bump(&self.stats.coalesced);
        }
    }

    /// Decides what to write for `entry` in `mode`.
    fn decide(st: &EntryState, mode: Mode) -> Option<Op> {
        if st.poisoned {
            return None;
        }
        if !st.live {
            return Some(Op::Create);
        }
        let patch = match mode {
            Mode::Immediate => !st.has_series() && st.count >= 2 && st.count > st.written,
            Mode::Flush => st.count >= 2 && st.count > st.written,
            Mode::Heartbeat => st.count >= 2,
        };
        patch.then_some(Op::Patch)
    }

    /// Writes `entry` as `mode` requires, holding its write lock, retrying
    /// as the policy allows. In `Immediate` mode a create is followed at
    /// once by the patch that starts the series when more occurrences came
    /// in meanwhile.
    async fn write(&self, entry: &Arc<Entry>, mode: Mode) -> Outcome {
        let _guard = entry.write_lock.lock().await;
        // Runs however this write ends, even if the future is dropped: an
        // entry that still owes a write stays listed.
        let _relist = Relist {
            shared: self,
            entry,
        };
        let policy = self.config.retry;
        let started = tokio::time::Instant::now();
        let mut failures = 0u32;
        let mut renames = 0u32;
        let mut first: Option<Outcome> = None;
        loop {
            let now = self.clock.now();
            let (op, record, earlier_create) = {
                let mut st = entry.state();
                // A write on behalf of an occurrence that queued up behind a
                // failed one does not hammer the server: the entry's backoff
                // (or the next flush) decides when to try again.
                let waiting =
                    mode == Mode::Immediate && st.backing_off(now, self.config.flush_interval);
                let Some(op) = Self::decide(&st, mode).filter(|_| !waiting) else {
                    return first.unwrap_or(Outcome::Nothing(st.count));
                };
                st.last_attempt = Some(now);
                let record = entry.record(&st, &entry.key(&self.controller, &self.instance));
                // A create under this name may already have reached the
                // server in an earlier attempt whose answer was lost (or
                // whose task was cancelled). Noted before sending.
                let earlier = st.maybe_created;
                if op == Op::Create && earlier.is_none() {
                    st.maybe_created = Some(record.count());
                }
                (op, record, earlier)
            };
            let result = match op {
                Op::Create => self.sink.create(&record).await,
                Op::Patch => self.sink.patch_series(&record).await,
            };
            // Our names end in a random suffix: a 409 for a name whose
            // earlier create had an unknown outcome is that create.
            let adopted = match (&result, op) {
                (Err(SinkError::AlreadyExists), Op::Create) => earlier_create,
                _ => None,
            };
            let result = if adopted.is_some() { Ok(()) } else { result };
            let err = match result {
                Ok(()) => {
                    let count = adopted.unwrap_or(record.count());
                    {
                        let mut st = entry.state();
                        st.live = true;
                        st.maybe_created = None;
                        // A record carries a series exactly when its count
                        // is 2 or more, so `written` tells whether the
                        // server's event has one.
                        st.written = st.written.max(count);
                        st.last_write = Some(now);
                        st.failed_at = None;
                        st.failures = 0;
                        st.refused = false;
                    }
                    tracing::debug!(name = %record.name, namespace = %record.namespace, count, ?op, "event written");
                    let outcome = match op {
                        Op::Create => {
                            bump(&self.stats.created);
                            Outcome::Created
                        }
                        Op::Patch => {
                            bump(&self.stats.patched);
                            Outcome::Patched(count)
                        }
                    };
                    if mode != Mode::Immediate || op == Op::Patch {
                        return first.unwrap_or(outcome);
                    }
                    first.get_or_insert(outcome);
                    (failures, renames) = (0, 0);
                    continue;
                }
                Err(err) => err,
            };
            match (&err, op) {
                (SinkError::AlreadyExists, Op::Create) if renames < policy.attempts() => {
                    renames += 1;
                    let mut st = entry.state();
                    self.rename(entry, &mut st, now);
                    tracing::debug!(name = %st.name, "event name taken; retrying under a new name");
                    continue;
                }
                (SinkError::NotFound, Op::Patch) if renames < policy.attempts() => {
                    renames += 1;
                    let mut st = entry.state();
                    st.live = false;
                    st.written = 0;
                    self.rename(entry, &mut st, now);
                    tracing::debug!(name = %st.name, "event gone from the server; creating it again with its series");
                    continue;
                }
                (SinkError::Transient { .. }, Op::Create) => {}
                (_, Op::Create) => {
                    // A definite refusal: nothing was created.
                    entry.state().maybe_created = None;
                }
                _ => {}
            }
            failures += 1;
            if err.is_retryable() && failures < policy.attempts() {
                let backoff = policy.backoff(failures, fastrand::f64());
                let wait = match err {
                    SinkError::Throttled {
                        retry_after: Some(after),
                    } => after,
                    _ => backoff,
                };
                let in_budget = wait <= MAX_RETRY_AFTER
                    && started
                        .elapsed()
                        .checked_add(wait)
                        .is_some_and(|total| total <= policy.elapsed_limit());
                if in_budget {
                    bump(&self.stats.retried);
                    tracing::debug!(error = %err, wait_ms = wait.as_millis(), "retrying event write");
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            self.failed(entry, op, &err, now);
            return first.unwrap_or(Outcome::Failed(err));
        }
    }

    /// Gives the entry a fresh name; nothing was created under it yet.
    fn rename(&self, entry: &Entry, st: &mut EntryState, now: Timestamp) {
        let key = entry.key(&self.controller, &self.instance);
        st.name = event_name(&key.regarding.name, &self.controller, now);
        st.maybe_created = None;
    }

    fn failed(&self, entry: &Arc<Entry>, op: Op, err: &SinkError, now: Timestamp) {
        bump(&self.stats.failed);
        let invalid = matches!(err, SinkError::Invalid { .. });
        let first = {
            let mut st = entry.state();
            st.failed_at = Some(now);
            st.failures = st.failures.saturating_add(1);
            st.refused = !err.is_retryable();
            st.poisoned |= invalid;
            !std::mem::replace(&mut st.warned, true)
        };
        if invalid && op == Op::Patch {
            // The server refuses this event's series: leave it be, and let
            // the next occurrence start a new event rather than counting
            // into one that can no longer be written.
            let mut cache = lock(&self.cache);
            let cached = cache
                .entries
                .peek(&*entry.key)
                .is_some_and(|e| Arc::ptr_eq(e, entry));
            if cached {
                cache.entries.pop(&*entry.key);
            }
        }
        // Logged with no lock held: a subscriber may do anything, even
        // publish events.
        let key = &entry.key(&self.controller, &self.instance);
        match err {
            SinkError::Forbidden { .. } if first => tracing::warn!(
                error = %err, reason = %key.reason, kind = %key.regarding.kind, name = %key.regarding.name,
                "event write forbidden; {RBAC_HINT}"
            ),
            _ if first => tracing::warn!(
                error = %err, reason = %key.reason, kind = %key.regarding.kind, name = %key.regarding.name,
                "event write failed; the count is kept for a later write"
            ),
            _ => tracing::debug!(error = %err, reason = %key.reason, "event write failed again"),
        }
    }

    /// Collects what is due at `now`: idle keys are expired (and flushed if
    /// dirty), dirty series past their flush interval (all of them when
    /// `force`), and live series due for a heartbeat.
    fn collect(&self, now: Timestamp, force: Force) -> Vec<(Arc<Entry>, Mode)> {
        let cfg = &self.config;
        let mut cache = lock(&self.cache);
        loop {
            let expired = match cache.entries.peek_lru() {
                Some((_, e)) => now >= later(e.state().last_observed, cfg.series_ttl),
                None => false,
            };
            if !expired {
                break;
            }
            if let Some((_, old)) = cache.entries.pop_lru() {
                self.retire(&mut cache, &old);
            }
        }
        let mut due = Vec::new();
        let mut keep = Vec::new();
        for entry in std::mem::take(&mut cache.dirty) {
            let mut st = entry.state();
            if !st.is_dirty() {
                st.listed = false;
                continue;
            }
            // Entries that left the cache are written as soon as their
            // backoff allows; cached ones once per flush interval.
            let interval_passed = st.evicted
                || st
                    .last_attempt
                    .is_none_or(|t| now >= later(t, cfg.flush_interval));
            let forced = match force {
                Force::No => false,
                Force::All => true,
                Force::Retryable => !st.refused,
            };
            if forced || (interval_passed && !st.backing_off(now, cfg.flush_interval)) {
                st.listed = false;
                drop(st);
                due.push((entry, Mode::Flush));
            } else {
                drop(st);
                keep.push(entry);
            }
        }
        cache.dirty = keep;
        let half = cfg.heartbeat / 2;
        let sweep_due = cache.next_heartbeat_sweep.is_none_or(|t| now >= t);
        if sweep_due {
            cache.next_heartbeat_sweep = Some(later(now, half));
            for (_, entry) in &cache.entries {
                let st = entry.state();
                let stale = st.last_write.is_some_and(|t| now >= later(t, half));
                if stale && st.has_series() && !st.listed && !st.poisoned {
                    due.push((Arc::clone(entry), Mode::Heartbeat));
                }
            }
        }
        due
    }

    /// Writes the collected entries, `writers` at a time.
    async fn run_all(shared: Arc<Self>, due: Vec<(Arc<Entry>, Mode)>) {
        if due.is_empty() {
            return;
        }
        let mut set = tokio::task::JoinSet::new();
        for (entry, mode) in due {
            while set.len() >= shared.config.writers {
                let _ = set.join_next().await;
            }
            let shared = Arc::clone(&shared);
            set.spawn(async move {
                shared.write(&entry, mode).await;
            });
        }
        while set.join_next().await.is_some() {}
    }

    /// Flushes in rounds until nothing is owed, or until a number of rounds
    /// in a row (the retry policy's attempts) wrote nothing.
    async fn drain(shared: Arc<Self>) {
        let mut fruitless = 0u32;
        let mut round = 0u32;
        loop {
            // Every owed write once; after that only those whose last
            // failure may pass (a Forbidden would only be refused again).
            let force = if round == 0 {
                Force::All
            } else {
                Force::Retryable
            };
            let due = shared.collect(shared.clock.now(), force);
            if due.is_empty() {
                return;
            }
            let before = shared.stats.snapshot().writes();
            Self::run_all(Arc::clone(&shared), due).await;
            round += 1;
            if shared.stats.snapshot().writes() == before {
                fruitless += 1;
                if fruitless >= shared.config.retry.attempts() {
                    return;
                }
            } else {
                fruitless = 0;
            }
            if lock(&shared.cache).dirty.is_empty() {
                return;
            }
            tokio::time::sleep(shared.config.retry.backoff(round.min(8), fastrand::f64())).await;
        }
    }

    /// The background task: periodic flush, heartbeat and expiry; a last
    /// bounded flush when the Recorder is dropped.
    async fn maintain(shared: Arc<Self>) {
        let tick = (shared.config.flush_interval / 2)
            .clamp(Duration::from_millis(10), Duration::from_secs(60));
        loop {
            tokio::select! {
                () = tokio::time::sleep(tick) => {
                    let now = shared.clock.now();
                    let due = shared.collect(now, Force::No);
                    Self::run_all(Arc::clone(&shared), due).await;
                }
                () = shared.stop.notified() => break,
            }
        }
        if !shared.shut_down.swap(true, Ordering::AcqRel) {
            let limit = shared.config.retry.elapsed_limit();
            let _ = tokio::time::timeout(limit, Self::drain(Arc::clone(&shared))).await;
        }
    }

    /// Records of every event whose count has not reached the sink.
    fn unwritten(&self) -> Vec<EventRecord> {
        let cache = lock(&self.cache);
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let listed = cache.dirty.iter();
        let cached = cache.entries.iter().map(|(_, e)| e);
        for entry in listed.chain(cached) {
            if !seen.insert(Arc::as_ptr(entry)) {
                continue;
            }
            let st = entry.state();
            if st.count > st.written {
                out.push(entry.record(&st, &entry.key(&self.controller, &self.instance)));
            }
        }
        out
    }
}
