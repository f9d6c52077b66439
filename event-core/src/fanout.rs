//! [`FanOut`]: one [`Recorder`](crate::Recorder), several sinks.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Poll;

use async_trait::async_trait;
use jiff::Timestamp;
use lru::LruCache;

use crate::sink::{EventRecord, EventSink, Series, SinkError};

/// How many writes the primary failed the fan-out remembers, to skip the
/// mirrors that already took them when the Recorder repeats them.
pub const MAX_PENDING_WRITES: usize = 4096;

/// One Recorder writing to several sinks: a primary whose answers the
/// Recorder acts on, and mirrors that receive every write too.
///
/// # Policy
///
/// One sink is the **primary** (usually the Kubernetes API); the others are
/// **mirrors** (a webhook, a log, a notification service).
///
/// - **Every sink receives every write.** A write goes to all sinks at once;
///   one that fails, hangs until its timeout or refuses does not keep the
///   others from receiving it. The write returns when every sink has
///   answered, so a slow mirror slows the Recorder's writes: give each
///   mirror a request timeout, as `KubeSink` has.
/// - **The Recorder sees the primary.** The answer of a write is the
///   primary's, so the Recorder's retries, its adoption of a stored Event
///   after a 409 and its re-creation after a 404 follow the primary alone.
///   [`get`](EventSink::get) reads from the primary.
/// - **A mirror's failure is reported, not returned.** Each sink has its own
///   counters and its last error ([`FanOut::reports`]); the Recorder's
///   [`Stats`](crate::Stats) do not count mirror failures.
/// - **No write twice on a sink that took it.** When the primary fails a
///   write that some mirrors took, the fan-out remembers which (by
///   namespace, name, write and series count). When the Recorder repeats
///   that same write, those mirrors are skipped (counted as
///   `repeats_skipped`) and only the primary and the mirrors that failed
///   receive it again — so a mirror that failed transiently profits from the
///   Recorder's retry, and a mirror that succeeded is not sent the same
///   write again. A repeat that changed meanwhile (a retried create now
///   carrying a series, a create again after the primary lost the Event)
///   does reach a mirror that already holds the Event: a mirror's "already
///   exists" to a create counts as holding it, and the series it carries is
///   then patched in. After a name clash on the primary the Recorder
///   writes the series under a new name, which a mirror receives as a new
///   Event beside the one it holds.
///   The memory is bounded ([`MAX_PENDING_WRITES`] writes, the least recent
///   forgotten first, at worst a repeated write on a mirror) and an entry
///   goes as soon as the primary takes the write.
/// - **A mirror catches up on its own.** A mirror is never retried by the
///   Recorder (the primary succeeded, so there is nothing to retry). The
///   next write of the same Event carries the whole state: a series patch
///   brings a mirror's count up to date, and a mirror that answers
///   [`SinkError::NotFound`] to a series patch (it missed the create) gets
///   the whole Event created with its series (counted as `recreated`). An
///   Event that is never repeated stays missing on a mirror that failed its
///   create; the failure is in that mirror's report.
///
/// Only the primary steers the Recorder, because only one answer can: had a
/// mirror's failure been returned, the Recorder's retry would have written
/// again to the primary, which had already taken the write.
///
/// Clones share the sinks and the reports.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use event_core::{Event, ObjectRef, Recorder};
/// use event_core::sink::{EventRecord, EventSink, FanOut, Series, SinkError};
///
/// /// A mirror that logs every write.
/// struct Log;
///
/// #[async_trait]
/// impl EventSink for Log {
///     async fn create(&self, e: &EventRecord) -> Result<(), SinkError> {
///         println!("{} {} {}", e.type_, e.reason, e.note.as_deref().unwrap_or(""));
///         Ok(())
///     }
///     async fn patch_series(&self, e: &EventRecord, series: Series) -> Result<(), SinkError> {
///         println!("{} x{}", e.reason, series.count);
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), event_core::Error> {
/// # let kubernetes: Arc<dyn EventSink> = Arc::new(Log); // in production: event_kube::KubeSink
/// let sinks = FanOut::builder("kubernetes", kubernetes).mirror("log", Arc::new(Log)).build();
/// let recorder = Recorder::builder(Arc::new(sinks.clone()), "example.com/widgets").build()?;
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
/// recorder.publish(&Event::normal("Synced", "Reconciling"), &pod).await?;
///
/// for report in sinks.reports() {
///     assert_eq!((report.written, report.failed), (1, 0), "{}", report.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct FanOut {
    outlets: Arc<[Outlet]>,
    pending: Arc<Mutex<LruCache<(String, String), Pending>>>,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("sinks", &self.reports())
            .finish_non_exhaustive()
    }
}

/// Builds a [`FanOut`]: the primary first, then the mirrors.
pub struct FanOutBuilder {
    outlets: Vec<Outlet>,
}

impl std::fmt::Debug for FanOutBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.outlets.iter().map(|o| o.name.as_str()).collect();
        f.debug_struct("FanOutBuilder")
            .field("sinks", &names)
            .finish()
    }
}

impl FanOutBuilder {
    /// Adds a mirror named `name` (the name is only for its report).
    #[must_use]
    pub fn mirror(mut self, name: impl Into<String>, sink: Arc<dyn EventSink>) -> Self {
        self.outlets.push(Outlet::new(name.into(), sink));
        self
    }

    /// The fan-out.
    pub fn build(self) -> FanOut {
        FanOut {
            outlets: self.outlets.into(),
            pending: Arc::new(Mutex::new(LruCache::new(
                NonZeroUsize::new(MAX_PENDING_WRITES).unwrap_or(NonZeroUsize::MIN),
            ))),
        }
    }
}

/// What one sink of a [`FanOut`] did, from [`FanOut::reports`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SinkReport {
    /// The name given to the builder.
    pub name: String,
    /// Whether this is the primary (whose answers the Recorder acts on).
    pub primary: bool,
    /// Writes (creates and series patches) the sink took.
    pub written: u64,
    /// Writes the sink failed (each attempt counts).
    pub failed: u64,
    /// Repeated writes not sent again, because the sink had taken them
    /// (mirrors only).
    pub repeats_skipped: u64,
    /// Events created on a mirror that answered a series patch with
    /// `NotFound` (mirrors only).
    pub recreated: u64,
    /// The last failure, if any.
    pub last_error: Option<SinkError>,
}

impl FanOut {
    /// Starts a fan-out whose primary is `sink`, named `name` in reports.
    pub fn builder(name: impl Into<String>, sink: Arc<dyn EventSink>) -> FanOutBuilder {
        FanOutBuilder {
            outlets: vec![Outlet::new(name.into(), sink)],
        }
    }

    /// One report per sink, the primary first, then the mirrors in the
    /// order they were added.
    pub fn reports(&self) -> Vec<SinkReport> {
        self.outlets
            .iter()
            .enumerate()
            .map(|(i, o)| o.report(i == 0))
            .collect()
    }

    /// The report of the sink named `name`.
    pub fn report(&self, name: &str) -> Option<SinkReport> {
        self.reports().into_iter().find(|r| r.name == name)
    }

    fn pending(&self) -> MutexGuard<'_, LruCache<(String, String), Pending>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn write(&self, op: Op, event: &EventRecord) -> Result<(), SinkError> {
        let key = || (event.namespace.clone(), event.name.clone());
        // Mirrors that took this very write when the Recorder tried it
        // before. Nothing is remembered while the primary keeps up (the
        // usual case): then a write looks no further.
        let done = {
            let mut pending = self.pending();
            if pending.is_empty() {
                None
            } else {
                pending
                    .get(&key())
                    .filter(|p| p.is_write(op, event))
                    .map(|p| p.done.clone())
            }
        };
        let writes = self.outlets.iter().enumerate().map(|(i, outlet)| {
            let skip = i > 0 && done.as_ref().is_some_and(|d| d[i]);
            let future: Write<'_> = Box::pin(async move {
                if skip {
                    outlet.repeats_skipped.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                Some(outlet.write(op, event, i > 0).await)
            });
            future
        });
        let results = join_all(writes.collect()).await;
        let primary = results.first().cloned().flatten().unwrap_or(Ok(()));
        // Forgets what was remembered of this Event's writes, if anything.
        let forget = || {
            let mut pending = self.pending();
            if !pending.is_empty() {
                pending.pop(&key());
            }
        };
        if primary.is_ok() {
            forget();
        } else {
            let mut remembered = Pending::of(op, event, self.outlets.len());
            for (i, result) in results.iter().enumerate() {
                let before = done.as_ref().is_some_and(|d| d[i]);
                remembered.done[i] = before || matches!(result, Some(Ok(())));
            }
            if remembered.done.iter().skip(1).any(|&d| d) {
                self.pending().put(key(), remembered);
            } else {
                forget();
            }
        }
        primary
    }
}

#[async_trait]
impl EventSink for FanOut {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        self.write(Op::Create, event).await
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        self.write(Op::Patch(series), event).await
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        match self.outlets.first() {
            Some(primary) => primary.sink.get(namespace, name).await,
            None => Err(SinkError::NotFound),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create,
    Patch(Series),
}

/// A write the primary failed, and which sinks took it.
#[derive(Debug)]
struct Pending {
    op: Op,
    count: u32,
    last_seen: Timestamp,
    event_time: Timestamp,
    done: Vec<bool>,
}

impl Pending {
    fn of(op: Op, event: &EventRecord, sinks: usize) -> Pending {
        Pending {
            op,
            count: event.count(),
            last_seen: event.last_seen(),
            event_time: event.event_time,
            done: vec![false; sinks],
        }
    }

    /// Whether this is the write of `op` for `event`.
    fn is_write(&self, op: Op, event: &EventRecord) -> bool {
        (self.op, self.count, self.last_seen, self.event_time)
            == (op, event.count(), event.last_seen(), event.event_time)
    }
}

/// One sink with its counters.
struct Outlet {
    name: String,
    sink: Arc<dyn EventSink>,
    written: AtomicU64,
    failed: AtomicU64,
    repeats_skipped: AtomicU64,
    recreated: AtomicU64,
    last_error: Mutex<Option<SinkError>>,
}

impl Outlet {
    fn new(name: String, sink: Arc<dyn EventSink>) -> Outlet {
        Outlet {
            name,
            sink,
            written: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            repeats_skipped: AtomicU64::new(0),
            recreated: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    fn report(&self, primary: bool) -> SinkReport {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        SinkReport {
            name: self.name.clone(),
            primary,
            written: get(&self.written),
            failed: get(&self.failed),
            repeats_skipped: get(&self.repeats_skipped),
            recreated: get(&self.recreated),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// One write; a mirror that missed the create gets it on a series patch.
    async fn write(&self, op: Op, event: &EventRecord, mirror: bool) -> Result<(), SinkError> {
        let mut result = match op {
            Op::Create => self.sink.create(event).await,
            Op::Patch(series) => self.sink.patch_series(event, series).await,
        };
        if mirror && op == Op::Create && result == Err(SinkError::AlreadyExists) {
            // The mirror holds the Event already (it took an earlier
            // attempt of this create): bring its series up to date.
            result = match event.series {
                Some(series) => self.sink.patch_series(event, series).await,
                None => Ok(()),
            };
        }
        if mirror && matches!(op, Op::Patch(_)) && result == Err(SinkError::NotFound) {
            result = self.sink.create(event).await;
            if result.is_ok() {
                self.recreated.fetch_add(1, Ordering::Relaxed);
            }
        }
        match &result {
            Ok(()) => {
                self.written.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if mirror {
                    tracing::debug!(sink = %self.name, error = %e, name = %event.name, "a mirror sink failed a write");
                }
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e.clone());
            }
        }
        result
    }
}

/// One sink's write: `None` when skipped as a repeat.
type Write<'a> = Pin<Box<dyn Future<Output = Option<Result<(), SinkError>>> + Send + 'a>>;

/// Runs `futures` concurrently; their outputs in order.
async fn join_all<T>(mut futures: Vec<Pin<Box<dyn Future<Output = T> + Send + '_>>>) -> Vec<T> {
    let mut outputs: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ObjectRef;
    use crate::sink::Answer;

    fn record(name: &str) -> EventRecord {
        EventRecord::new(
            name,
            "shop",
            Timestamp::UNIX_EPOCH,
            ObjectRef::new("v1", "Pod", "web-0").within("shop"),
            crate::Event::warning("BackOff", "Starting"),
            "example.com/c",
            "c-0",
        )
    }

    /// A fan-out whose primary fails every write, and its healthy mirror.
    fn primary_down() -> (FanOut, Arc<Answer>) {
        let failing = Arc::new(Answer::new(Err(SinkError::Transient {
            message: "down".into(),
        })));
        let mirror = Arc::new(Answer::new(Ok(())));
        let sinks = FanOut::builder("primary", failing)
            .mirror("mirror", mirror.clone())
            .build();
        (sinks, mirror)
    }

    #[tokio::test]
    async fn the_writes_remembered_for_repeats_are_bounded() {
        assert_eq!(MAX_PENDING_WRITES, 4096);
        let (sinks, mirror) = primary_down();
        let total = MAX_PENDING_WRITES + 10;
        for i in 0..total {
            assert!(sinks.create(&record(&format!("e{i}"))).await.is_err());
        }
        assert_eq!(sinks.pending().len(), MAX_PENDING_WRITES);
        // The newest is remembered: its repeat spares the mirror. The
        // oldest was forgotten: its repeat reaches the mirror again.
        let _ = sinks.create(&record(&format!("e{}", total - 1))).await;
        assert_eq!(mirror.writes(), total as u64);
        let _ = sinks.create(&record("e0")).await;
        assert_eq!(mirror.writes(), total as u64 + 1);
        let report = sinks.report("mirror").unwrap();
        assert_eq!(
            (report.written, report.repeats_skipped),
            (total as u64 + 1, 1)
        );
    }

    #[tokio::test]
    async fn a_changed_write_is_not_a_repeat() {
        let (sinks, mirror) = primary_down();
        let two = Series {
            count: 2,
            last_observed_time: Timestamp::UNIX_EPOCH,
        };
        let r = record("e").with_series(two);
        let _ = sinks.patch_series(&r, two).await;
        let _ = sinks.patch_series(&r, two).await;
        assert_eq!(mirror.writes(), 1);
        // More occurrences since: the mirror gets the newer count.
        let five = Series {
            count: 5,
            last_observed_time: Timestamp::UNIX_EPOCH,
        };
        let _ = sinks.patch_series(&r.clone().with_series(five), five).await;
        assert_eq!(mirror.writes(), 2);
    }
}
