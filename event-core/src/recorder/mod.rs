//! The [`Recorder`]: validation, correlation into series, and writes.
//!
//! # Design
//!
//! Each series (one [`EventKey`](crate::key::EventKey)) is an `Entry`: an
//! immutable body (the key and what every write carries) and a state whose
//! `Lifecycle` is one of
//!
//! | state | meaning |
//! | --- | --- |
//! | `Unsent` | no Event under the series' name, as far as this process knows |
//! | `Creating` | a create was sent and its answer is unknown (lost, or its caller cancelled): a later "already exists" may be that create |
//! | `Live { written }` | the server has the Event with `written` occurrences |
//! | `Abandoned(reason)` | never written again (refused as invalid, dropped from a full queue, or too many series left the cache owing writes); what it owed was counted |
//!
//! One pure function, `decide::decide`, says which write a series needs
//! (create, series patch, or none) for the mode it is asked in, and every
//! path asks it:
//!
//! - **immediate**: on behalf of an occurrence. The first occurrence of a
//!   key creates the Event and the second starts its series; each of those
//!   two callers waits for its write (`publish`) or queues it (`emit`).
//!   Every later occurrence only counts and returns at once.
//! - **flush tick**: the maintenance task writes each dirty series at most
//!   once per flush interval, and a series that left the cache owing a
//!   write as soon as its backoff allows.
//! - **heartbeat**: a long series is re-written every half heartbeat so the
//!   server's TTL never expires it while it lives.
//!
//! An Event's name is derived from its key and reporter, so the same series
//! always has the same name: a create answered "already exists" reads the
//! stored Event and, when it is the same series, continues its count
//! (after an eviction or a restart) or recognises its own earlier create;
//! another series' Event there gets a renamed one. A series patch answered
//! "not found" creates the Event again with its whole count.
//!
//! # A repeat's memory
//!
//! A repeat of a live series (the common case, and the one that must stay
//! cheap) reads two places: an 8-byte slot of the cache's lookup table,
//! and the series' one allocation (a header with its key's hash and its
//! state, then its body's bytes, which start with the key). The lines holding the key are
//! requested together, before the key comparison, so that a series far
//! from the processor's caches costs one trip to memory for its
//! allocation rather than one per line. A repeat that only counts
//! allocates nothing and takes no reference to its series.
//!
//! # Locks
//!
//! The cache lock, then a series' state lock, then the spam filter's: never
//! in another order, never across an `await`, and nothing is logged while
//! one is held (a tracing subscriber may publish events). A series' write
//! turn (`State::writing`, taken and given back under its state lock; a
//! writer waiting for it waits on one notification shared by all series) is
//! held across its sink call only. The write budget's
//! bucket lock is a leaf: taken alone, never with another, never across an
//! `await` (a caller reserves a token, then sleeps without it).
//!
//! # Write budget
//!
//! Every sink call takes a token from one bucket (`budget.rs`) before it
//! is sent; the writer asks for it after deciding a write is due and
//! before `begin`, so a write put off leaves the state untouched and the
//! series owing (a later tick writes it). A 429 pauses the bucket.
//!
//! # Cancellation
//!
//! A `publish` whose future is dropped mid-write, an aborted or panicking
//! writer, or a runtime that shut down leave no state behind: claims are
//! released by guards, series that still owe a write stay listed, and the
//! background tasks are started again on the next use.

mod body;
mod budget;
mod builder;
mod cache;
mod correlate;
mod decide;
mod entry;
mod filter;
mod maintenance;
#[cfg(feature = "prometheus")]
mod metrics;
mod outcome;
#[cfg(test)]
mod protocol_check;
mod queue;
mod retry;
mod state;
mod writer;

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use budget::{
    DEFAULT_BUDGET_MAX_WAIT, DEFAULT_WRITE_BURST, DEFAULT_WRITE_RATE, THROTTLED_PAUSE, WriteBudget,
};
pub use builder::{
    DEFAULT_HEARTBEAT, DEFAULT_MAX_CACHED_KEYS, DEFAULT_QUEUE_CAPACITY,
    DEFAULT_SERIES_FLUSH_INTERVAL, DEFAULT_SERIES_TTL, DEFAULT_WRITERS, MAX_QUEUE_CAPACITY,
    MAX_WRITERS, RecorderBuilder,
};
pub use filter::SpamKey;
#[cfg(feature = "prometheus")]
pub use metrics::METRICS_PREFIX;
pub use outcome::{DropReason, Published, ShutdownReport, SkipReason, Stats};
pub use retry::{
    DEFAULT_RETRY_ATTEMPTS, DEFAULT_RETRY_INITIAL_BACKOFF, DEFAULT_RETRY_MAX_BACKOFF,
    DEFAULT_RETRY_MAX_ELAPSED, MAX_RETRY_AFTER, RetryPolicy,
};

use builder::Config;
use cache::{Cache, Fallout};
use correlate::Observation;
use decide::{Mode, Timing};
use entry::{Identity, lock};
use outcome::{Counters, add, bump};
use queue::{ClaimGuard, Job, Tasks};
use writer::Outcome;

use crate::sink::EventSink;
use crate::spam::SpamBuckets;
use crate::validate::ValidReporter;
use crate::{Clock, Error, Event, ObjectRef, Reporter};

/// The `tracing` target of the per-occurrence log records turned on by
/// [`RecorderBuilder::log_events`].
pub const EVENT_LOG_TARGET: &str = "event_core::events";

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
///   the server's TTL, and lets idle keys leave the cache (their next
///   occurrence continues the stored Event).
/// - [`flush`](Self::flush) writes every dirty series now;
///   [`shutdown`](Self::shutdown) stops intake and writes everything it can
///   before a deadline.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::{Event, ObjectRef, Published, Recorder};
/// use event_core::sink::EventSink;
/// # use event_core::sink::{EventRecord, SinkError};
/// # struct Nothing;
/// # #[async_trait::async_trait] impl EventSink for Nothing {
/// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
/// #   async fn patch_series(&self, _: &EventRecord, _: event_core::sink::Series) -> Result<(), SinkError> { Ok(()) }
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
    engine: Arc<Engine>,
    /// Stops the background work when the last clone is dropped.
    _stop: Arc<StopOnDrop>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("reporting_controller", &self.engine.controller)
            .field("reporting_instance", &self.engine.instance)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

struct StopOnDrop(Arc<Engine>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        // Writers end once the queue is drained; the maintenance task makes
        // a last bounded drain.
        self.0.queue_tx.close();
        self.0.stop.notify_one();
    }
}

/// Everything the Recorder's handles and background tasks share.
pub(crate) struct Engine {
    sink: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    controller: String,
    instance: String,
    config: Config,
    timing: Timing,
    cache: Mutex<Cache>,
    spam: Option<Mutex<SpamBuckets>>,
    budget: budget::Bucket,
    stats: Counters,
    #[cfg(feature = "prometheus")]
    latency: prometheus_client::metrics::histogram::Histogram,
    /// Set under the cache lock: intake is closed.
    shut_down: AtomicBool,
    warned_queue_full: AtomicBool,
    queue_tx: async_channel::Sender<Job>,
    queue_rx: async_channel::Receiver<Job>,
    tasks: Tasks,
    stop: tokio::sync::Notify,
    /// Woken whenever a series' write turn is given back (see
    /// `Engine::turn`). One for all series, not one per series: a write
    /// rarely waits for another of its series, and a per-series lock would
    /// cost every cached key 40 bytes.
    turn_released: tokio::sync::Notify,
}

impl Engine {
    fn new(
        sink: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
        reporter: ValidReporter,
        config: Config,
    ) -> Self {
        let (queue_tx, queue_rx) = async_channel::bounded(config.queue_capacity);
        Self {
            sink,
            clock,
            controller: reporter.controller,
            instance: reporter.instance,
            timing: config.timing(),
            cache: Mutex::new(Cache::new(config.max_cached_keys, config.max_retiring())),
            spam: config.spam_filter.map(|f| Mutex::new(SpamBuckets::new(f))),
            budget: budget::Bucket::new(config.write_budget),
            #[cfg(feature = "prometheus")]
            latency: metrics::latency_histogram(),
            stats: Counters::default(),
            shut_down: AtomicBool::new(false),
            warned_queue_full: AtomicBool::new(false),
            queue_tx,
            queue_rx,
            tasks: Tasks::default(),
            stop: tokio::sync::Notify::new(),
            turn_released: tokio::sync::Notify::new(),
            config,
        }
    }

    fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            controller: &self.controller,
            instance: &self.instance,
            cluster_namespace: self.config.cluster_scoped_namespace,
        }
    }

    /// The structured log record of a published occurrence (when asked
    /// for), with no lock held.
    fn log_published(&self, event: &Event, regarding: &ObjectRef, count: u32) {
        if self.config.log_events {
            tracing::info!(
                target: EVENT_LOG_TARGET,
                r#type = event.type_.as_str(),
                reason = %event.reason,
                action = %event.action,
                kind = %regarding.kind,
                namespace = regarding.namespace.as_deref().unwrap_or(""),
                name = %regarding.name,
                reporting_controller = %self.controller,
                note = event.note.as_deref().unwrap_or(""),
                count,
                "{} {} {}/{}: {}",
                event.type_.as_str(),
                event.reason,
                regarding.kind,
                regarding.name,
                event.note.as_deref().unwrap_or(""),
            );
        }
    }

    /// Counts and logs what a cache operation did, with no lock held.
    fn settle(&self, fallout: Fallout) {
        if fallout.evicted > 0 {
            add(&self.stats.evicted, fallout.evicted);
        }
        for (entry, owed) in fallout.overflowed {
            add(&self.stats.dropped_unwritten, owed);
            tracing::warn!(
                reason = entry.body().str(body::Field::Reason),
                kind = entry.body().str(body::Field::RegKind),
                name = entry.body().str(body::Field::RegName),
                owed,
                "series dropped: too many unwritten series left the cache (counted in stats.dropped_unwritten)"
            );
        }
    }
}

impl Recorder {
    /// Starts building a Recorder that writes to `sink` as `reporter`.
    ///
    /// The reporter's instance is part of every series' identity and of its
    /// Event's name: keep it stable across restarts (a StatefulSet pod
    /// name, or an explicit instance) and a restarted controller continues
    /// the series it had; a new instance starts new Events, as the server
    /// makes `reportingInstance` immutable.
    pub fn builder(sink: Arc<dyn EventSink>, reporter: impl Into<Reporter>) -> RecorderBuilder {
        RecorderBuilder::new(sink, reporter.into())
    }

    fn from_engine(engine: Engine) -> Self {
        let engine = Arc::new(engine);
        Self {
            _stop: Arc::new(StopOnDrop(Arc::clone(&engine))),
            engine,
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
    /// # use event_core::sink::{EventRecord, EventSink, SinkError};
    /// # struct Nothing;
    /// # #[async_trait::async_trait] impl EventSink for Nothing {
    /// #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { Ok(()) }
    /// #   async fn patch_series(&self, _: &EventRecord, _: event_core::sink::Series) -> Result<(), SinkError> { Ok(()) }
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
        let engine = &self.engine;
        if engine.is_shut_down() {
            return Err(Error::ShutDown);
        }
        engine.ensure_started();
        match engine.observe(event, regarding, true)? {
            Observation::Skipped => Ok(Published::Skipped(SkipReason::AboutAnEvent)),
            Observation::Filtered => Ok(Published::Dropped(DropReason::Filtered)),
            Observation::Dropped { .. } => Ok(Published::Dropped(DropReason::Spam)),
            Observation::Refused(reason) => {
                bump(&engine.stats.published);
                Ok(Published::Dropped(reason))
            }
            Observation::Coalesced(count) => {
                // Counted as published and coalesced under the cache lock.
                engine.log_published(event, regarding, count);
                Ok(Published::Coalesced { count })
            }
            Observation::Write(claim) => {
                bump(&engine.stats.published);
                engine.log_published(event, regarding, claim.count);
                let _claim = ClaimGuard::new(engine, &claim.entry, claim.level);
                match engine.write(&claim.entry, Mode::Immediate).await {
                    Outcome::Created => Ok(Published::Created),
                    Outcome::Patched(count) => Ok(Published::SeriesUpdated { count }),
                    Outcome::Nothing(count) => {
                        bump(&engine.stats.coalesced);
                        Ok(Published::Coalesced { count })
                    }
                    Outcome::Failed(e) => Err(Error::Sink(e)),
                    Outcome::Terminating => {
                        Ok(Published::Dropped(DropReason::NamespaceTerminating))
                    }
                    Outcome::Deferred(count) => Ok(Published::Deferred { count }),
                }
            }
        }
    }

    /// Publishes one occurrence without waiting: a due write goes to a
    /// bounded queue drained by background writers. When the queue is full
    /// a new event is dropped and counted (`dropped_queue_full`; the first
    /// drop is logged at warn level), and a repeat of a known series stays
    /// counted for its next write.
    ///
    /// # Errors
    ///
    /// - [`Error::Invalid`] listing every broken rule.
    /// - [`Error::ShutDown`] after [`shutdown`](Self::shutdown).
    /// - [`Error::NoRuntime`] when called outside a tokio runtime while the
    ///   background writers are not running (before first use inside one,
    ///   or after the runtime they ran on shut down), or inside a runtime
    ///   that is shutting down.
    pub fn emit(&self, event: &Event, regarding: &ObjectRef) -> Result<(), Error> {
        let engine = &self.engine;
        if engine.is_shut_down() {
            return Err(Error::ShutDown);
        }
        if !engine.ensure_started() {
            return Err(Error::NoRuntime);
        }
        match engine.observe(event, regarding, false)? {
            Observation::Write(claim) => {
                let count = claim.count;
                if engine.enqueue(claim) {
                    engine.log_published(event, regarding, count);
                }
            }
            Observation::Coalesced(count) => {
                // Counted as published and coalesced under the cache lock.
                engine.log_published(event, regarding, count);
            }
            Observation::Refused(_) => bump(&engine.stats.published),
            Observation::Skipped | Observation::Filtered | Observation::Dropped { .. } => {}
        }
        Ok(())
    }

    /// Writes every series that owes a write (dirty series and events whose
    /// create is still owed, including those queued by [`emit`](Self::emit))
    /// now, regardless of the flush interval and of any backoff. With a
    /// sink that never answers this never returns: bound it with a timeout,
    /// or use [`shutdown`](Self::shutdown), which has a deadline.
    pub async fn flush(&self) {
        let engine = &self.engine;
        engine.ensure_started();
        let due = engine.collect(Mode::Flush);
        engine.run_all(due).await;
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
        let engine = Arc::clone(&self.engine);
        let start = tokio::time::Instant::now();
        let left = || deadline.saturating_sub(start.elapsed());
        {
            // Under the cache lock: every occurrence counted before this is
            // in the cache for the final report, none after it.
            let _cache = lock(&engine.cache);
            engine.shut_down.store(true, Ordering::Release);
        }
        engine.queue_tx.close();
        let handles = engine.tasks.take();
        let aborts: Vec<_> = handles
            .writers
            .iter()
            .map(tokio::task::JoinHandle::abort_handle)
            .collect();
        let writers = async {
            for writer in handles.writers {
                let _ = writer.await;
            }
        };
        if tokio::time::timeout(left(), writers).await.is_err() {
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
        engine.stop.notify_one();
        if let Some(maintenance) = handles.maintenance {
            let abort = maintenance.abort_handle();
            if tokio::time::timeout(left(), maintenance).await.is_err() {
                abort.abort();
            }
        }
        let _ = tokio::time::timeout(left(), Arc::clone(&engine).drain()).await;
        let unwritten = lock(&engine.cache).unwritten(&engine.identity());
        let stats = engine.stats.snapshot();
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
    pub fn stats(&self) -> Stats {
        self.engine.stats.snapshot()
    }

    /// The number of keys in the correlation cache (at most
    /// `max_cached_keys`).
    pub fn cached_keys(&self) -> usize {
        lock(&self.engine.cache).cached_len()
    }
}
