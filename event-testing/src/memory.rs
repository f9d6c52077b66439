//! [`MemorySink`]: an [`EventSink`] that keeps events in memory, behaves
//! like the API server towards its caller, and answers questions in tests.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use event_core::key::RefKey;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};
use event_core::validate::{
    MAX_ACTION_BYTES, MAX_INSTANCE_BYTES, MAX_NOTE_BYTES, MAX_REASON_BYTES, is_dns_subdomain,
    is_qualified_name,
};
use event_core::{Clock, EventType, ObjectRef, SystemClock};
use jiff::Timestamp;

use crate::Faults;
use crate::describe::{describe_records, grouped};

/// The two writes a sink receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WriteKind {
    /// [`EventSink::create`]: a new Event object.
    Create,
    /// [`EventSink::patch_series`]: the series of an existing Event.
    PatchSeries,
}

impl fmt::Display for WriteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Create => "create",
            Self::PatchSeries => "patch series",
        })
    }
}

/// One write a [`MemorySink`] or a [`FaultySink`](crate::FaultySink)
/// answered, in the order they arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// Create or series patch.
    pub kind: WriteKind,
    /// The record the sink was given; for a series patch, with the series
    /// the patch wrote.
    pub record: EventRecord,
    /// When the sink answered, by the sink's clock.
    pub at: Timestamp,
    /// What the sink answered. A [`MemorySink`] logs what its store did (a
    /// write whose answer [`Faults::lose_answers`](crate::Faults::lose_answers)
    /// hid shows `Ok`: it took effect); a [`FaultySink`](crate::FaultySink)
    /// logs what its caller received.
    pub result: Result<(), SinkError>,
}

impl Write {
    /// Whether the write succeeded.
    pub fn is_ok(&self) -> bool {
        self.result.is_ok()
    }

    /// For a series patch, the JSON merge-patch body a Kubernetes sink
    /// sends: `{"series":{"count":N,"lastObservedTime":"..."}}`.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::MemorySink;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// let event = Event::warning("BackOff", "Starting");
    /// recorder.publish(&event, &pod).await?;
    /// recorder.publish(&event, &pod).await?;
    ///
    /// let writes = sink.writes();
    /// assert_eq!(writes[0].patch_body(), None); // a create has no patch body
    /// let body = writes[1].patch_body().unwrap_or_default();
    /// assert!(body.starts_with(r#"{"series":{"count":2,"lastObservedTime":""#));
    /// # Ok(()) }
    /// ```
    pub fn patch_body(&self) -> Option<String> {
        match (self.kind, self.record.series) {
            (WriteKind::PatchSeries, Some(series)) => Some(series.merge_patch()),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Stored {
    record: EventRecord,
    last_write: Timestamp,
}

#[derive(Debug, Default)]
struct State {
    /// Current events by creation sequence (creation order).
    events: BTreeMap<u64, Stored>,
    /// (namespace, name) -> sequence.
    names: HashMap<(String, String), u64>,
    next_seq: u64,
    /// Every answered write, failed ones included.
    log: Vec<Write>,
    ttl: Option<Duration>,
    /// Reads through [`EventSink::get`].
    reads: u64,
}

impl State {
    /// Drops events not written for `ttl`, as the API server's event TTL does.
    fn expire(&mut self, now: Timestamp) {
        let Some(ttl) = self.ttl else { return };
        let names = &mut self.names;
        self.events.retain(|_, stored| {
            let idle = now.duration_since(stored.last_write);
            let keep = idle.is_negative() || idle.unsigned_abs() < ttl;
            if !keep {
                names.remove(&(stored.record.namespace.clone(), stored.record.name.clone()));
            }
            keep
        });
    }

    fn create(&mut self, record: &EventRecord, now: Timestamp) -> Result<(), SinkError> {
        check_create(record)?;
        let key = (record.namespace.clone(), record.name.clone());
        if self.names.contains_key(&key) {
            return Err(SinkError::AlreadyExists);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.names.insert(key, seq);
        self.events.insert(
            seq,
            Stored {
                record: record.clone(),
                last_write: now,
            },
        );
        Ok(())
    }

    fn patch(
        &mut self,
        record: &EventRecord,
        series: Series,
        now: Timestamp,
    ) -> Result<(), SinkError> {
        let key = (record.namespace.clone(), record.name.clone());
        let stored = self
            .names
            .get(&key)
            .and_then(|seq| self.events.get_mut(seq))
            .ok_or(SinkError::NotFound)?;
        if let Some(problem) = series_count_problem(series.count) {
            return Err(invalid(&[problem]));
        }
        stored.record.series = Some(series);
        stored.last_write = now;
        Ok(())
    }

    fn current(&self) -> impl Iterator<Item = &EventRecord> {
        self.events.values().map(|s| &s.record)
    }
}

fn invalid(problems: &[String]) -> SinkError {
    SinkError::Invalid {
        message: problems.join("; "),
    }
}

/// The API server's complaint about a series count below 2, if any.
fn series_count_problem(count: u32) -> Option<String> {
    (count < 2).then(|| format!("series.count: Invalid value: {count}: should be at least 2"))
}

/// The API server's rules for a new events.k8s.io/v1 Event, as far as a
/// record can break them.
fn check_create(r: &EventRecord) -> Result<(), SinkError> {
    let mut problems = Vec::new();
    let mut bounded = |field: &str, value: &str, max: usize| {
        if value.is_empty() {
            problems.push(format!("{field}: Required value"));
        } else if value.len() > max {
            problems.push(format!(
                "{field}: Too long: may not be more than {max} bytes (got {})",
                value.len()
            ));
        }
    };
    bounded("reason", &r.reason, MAX_REASON_BYTES);
    bounded("action", &r.action, MAX_ACTION_BYTES);
    bounded(
        "reportingInstance",
        &r.reporting_instance,
        MAX_INSTANCE_BYTES,
    );
    if let Some(note) = &r.note
        && note.len() > MAX_NOTE_BYTES
    {
        problems.push(format!(
            "note: Too long: may not be more than {MAX_NOTE_BYTES} bytes (got {})",
            note.len()
        ));
    }
    if !is_dns_subdomain(&r.name) {
        problems.push(format!(
            "metadata.name: Invalid value: {:?}: must be a DNS-1123 subdomain",
            r.name
        ));
    }
    if !is_qualified_name(&r.reporting_controller) {
        problems.push(format!(
            "reportingController: Invalid value: {:?}: must be a qualified name",
            r.reporting_controller
        ));
    }
    match r.regarding.namespace.as_deref().filter(|ns| !ns.is_empty()) {
        None if r.namespace != "default" && r.namespace != "kube-system" => {
            problems.push(format!(
                "metadata.namespace: Invalid value: {:?}: events about cluster-scoped objects must be in \"default\" or \"kube-system\"",
                r.namespace
            ));
        }
        Some(ns) if ns != r.namespace => problems.push(format!(
            "regarding.namespace: Invalid value: {ns:?}: does not match event.namespace {:?}",
            r.namespace
        )),
        _ => {}
    }
    problems.extend(r.series.and_then(|s| series_count_problem(s.count)));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(&problems))
    }
}

struct Inner {
    clock: Arc<dyn Clock>,
    faults: Faults,
    state: Mutex<State>,
}

/// An in-memory [`EventSink`] for tests: what a controller wrote, queryable
/// and assertable, with no cluster.
///
/// - **State**: the current events after every create and series patch
///   ([`events`](Self::events), [`for_object`](Self::for_object), ...), in
///   creation order.
/// - **Log**: every write in arrival order ([`writes`](Self::writes) for
///   the accepted ones, [`attempts`](Self::attempts) for all).
/// - **Server rules**: like the API server, it refuses a create of an
///   existing name ([`SinkError::AlreadyExists`]), a patch of a missing
///   event ([`SinkError::NotFound`]), and records the server would reject
///   as invalid (lengths, names, series count, namespace of events about
///   cluster-scoped objects) with [`SinkError::Invalid`]. With
///   [`event_ttl`](Self::event_ttl) events not written for that long
///   disappear, as with the server's `--event-ttl`.
/// - **Faults**: [`faults`](Self::faults) makes writes fail, stall or hang
///   before they reach the store.
/// - **Assertions**: [`assert_emitted`](Self::assert_emitted) and friends,
///   which print a `kubectl describe` table of what was recorded when they
///   fail; [`describe`](Self::describe) prints it on demand.
///
/// Clones share everything: give the [`Recorder`](event_core::Recorder)
/// [`arc`](Self::arc) and keep the sink to look at.
///
/// # Example
///
/// ```
/// use event_core::{Event, ObjectRef, Recorder};
/// use event_testing::{MemorySink, expect};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), event_core::Error> {
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
///
/// recorder.publish(&Event::normal("Synced", "Reconciling").note("3 replicas"), &pod).await?;
///
/// sink.assert_emitted(expect::normal("Synced").regarding(&pod).note_contains("replicas"));
/// assert_eq!(sink.creates(), 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MemorySink {
    inner: Arc<Inner>,
}

impl MemorySink {
    /// An empty sink on the wall clock ([`SystemClock`]).
    pub fn new() -> Self {
        Self::with_clock(SystemClock)
    }

    /// An empty sink whose write times and `describe` ages come from
    /// `clock`; pass the same clock as the Recorder's.
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        Self::with_shared_clock(Arc::new(clock))
    }

    /// Like [`with_clock`](Self::with_clock), for a clock already behind an
    /// `Arc`.
    pub fn with_shared_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                faults: Faults::new(),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// Makes events disappear once they were not written (created or
    /// patched) for `ttl` by the sink's clock, like the API server's
    /// `--event-ttl` (1 hour by default there). A patch of an expired event
    /// then fails with [`SinkError::NotFound`].
    #[must_use]
    pub fn event_ttl(self, ttl: Duration) -> Self {
        self.lock().ttl = Some(ttl);
        self
    }

    /// This sink as the `Arc<dyn EventSink>` a
    /// [`Recorder`](event_core::Recorder) takes. It shares state with
    /// `self`.
    pub fn arc(&self) -> Arc<dyn EventSink> {
        Arc::new(self.clone())
    }

    /// The clock this sink reads.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.clock)
    }

    /// The fault plan applied to every write before it reaches the store.
    pub fn faults(&self) -> &Faults {
        &self.inner.faults
    }

    /// The current events, in creation order.
    pub fn events(&self) -> Vec<EventRecord> {
        self.current(|_| true)
    }

    /// The current events about `object` (compared on api version, kind,
    /// namespace, name, uid and field path; the resource version is
    /// ignored).
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::MemorySink;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop").with_resource_version("7");
    /// recorder.publish(&Event::normal("Synced", "Reconciling"), &pod).await?;
    ///
    /// let later = pod.clone().with_resource_version("8");
    /// assert_eq!(sink.for_object(&later).len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn for_object(&self, object: &ObjectRef) -> Vec<EventRecord> {
        let key = RefKey::from(object);
        self.current(|r| RefKey::from(&r.regarding) == key)
    }

    /// The current events with the given reason.
    pub fn with_reason(&self, reason: &str) -> Vec<EventRecord> {
        self.current(|r| r.reason == reason)
    }

    /// The current Warning events.
    pub fn warnings(&self) -> Vec<EventRecord> {
        self.current(|r| r.type_ == EventType::Warning)
    }

    /// The current event named `name` in `namespace`.
    pub fn get(&self, namespace: &str, name: &str) -> Option<EventRecord> {
        let mut state = self.lock_fresh();
        let seq = *state.names.get(&(namespace.to_owned(), name.to_owned()))?;
        state.events.get_mut(&seq).map(|s| s.record.clone())
    }

    /// The accepted writes, in order: what changed the store.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_core::sink::SinkError;
    /// use event_testing::{MemorySink, WriteKind};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// // One throttled answer: retried, so logged as an attempt but not a write.
    /// sink.faults().fail_next(1, SinkError::Throttled { retry_after: None });
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// let event = Event::warning("BackOff", "Starting");
    /// recorder.publish(&event, &pod).await?;
    /// recorder.publish(&event, &pod).await?;
    ///
    /// let kinds: Vec<WriteKind> = sink.writes().iter().map(|w| w.kind).collect();
    /// assert_eq!(kinds, [WriteKind::Create, WriteKind::PatchSeries]);
    /// assert_eq!(sink.attempts().len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn writes(&self) -> Vec<Write> {
        self.lock()
            .log
            .iter()
            .filter(|w| w.is_ok())
            .cloned()
            .collect()
    }

    /// Every write the sink answered, in order, refused and failed ones
    /// included (faults injected through [`faults`](Self::faults) too).
    /// A write held forever by a fault never answers and is not listed.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_core::sink::SinkError;
    /// use event_testing::MemorySink;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// sink.faults().fail_next(1, SinkError::Invalid { message: "no".into() });
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// let _ = recorder.publish(&Event::normal("Synced", "Reconciling"), &pod).await;
    ///
    /// let attempts = sink.attempts();
    /// assert_eq!(attempts.len(), 1);
    /// assert!(!attempts[0].is_ok());
    /// assert!(sink.writes().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn attempts(&self) -> Vec<Write> {
        self.lock().log.clone()
    }

    /// Number of accepted creates.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::MemorySink;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let sink = MemorySink::new();
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// for _ in 0..5 {
    ///     recorder.publish(&Event::warning("BackOff", "Starting"), &pod).await?;
    /// }
    /// recorder.publish(&Event::normal("Started", "Starting"), &pod).await?;
    /// // Two distinct events; the repeats of the first only touch its series.
    /// assert_eq!(sink.creates(), 2);
    /// assert_eq!(sink.patches(), 1);
    /// # Ok(()) }
    /// ```
    pub fn creates(&self) -> usize {
        self.count_ok(WriteKind::Create)
    }

    /// Number of accepted series patches.
    pub fn patches(&self) -> usize {
        self.count_ok(WriteKind::PatchSeries)
    }

    /// Deletes the event named `name` in `namespace`, as `kubectl delete
    /// event` would; returns whether it existed.
    pub fn delete(&self, namespace: &str, name: &str) -> bool {
        let mut state = self.lock();
        match state.names.remove(&(namespace.to_owned(), name.to_owned())) {
            Some(seq) => state.events.remove(&seq).is_some(),
            None => false,
        }
    }

    /// Stores `record` as another writer would (another replica, a
    /// restarted controller, `kubectl create`): it is checked like a create
    /// but not logged as one of this sink's writes.
    ///
    /// # Errors
    ///
    /// [`SinkError::AlreadyExists`] when the name is taken,
    /// [`SinkError::Invalid`] when the API server would refuse it.
    pub fn store(&self, record: &EventRecord) -> Result<(), SinkError> {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        state.expire(now);
        state.create(record, now)
    }

    /// Reads made through [`EventSink::get`] (the Recorder reads after a
    /// create finds the name taken).
    pub fn reads(&self) -> u64 {
        self.lock().reads
    }

    /// Forgets every event and every logged write. The fault plan, the
    /// clock and the TTL stay.
    pub fn reset(&self) {
        let mut state = self.lock();
        state.events.clear();
        state.names.clear();
        state.log.clear();
    }

    /// The `kubectl describe` Events table for `object`, ages computed by
    /// the sink's clock. See [`describe_records`](crate::describe_records).
    ///
    /// # Example
    ///
    /// ```
    /// use std::{sync::Arc, time::Duration};
    /// use event_core::{Event, ObjectRef, Recorder};
    /// use event_testing::{ManualClock, MemorySink};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), event_core::Error> {
    /// let clock = ManualClock::default();
    /// let sink = MemorySink::with_clock(clock.clone());
    /// let recorder = Recorder::builder(sink.arc(), "example.com/widgets")
    ///     .clock(Arc::new(clock.clone()))
    ///     .build()?;
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    ///
    /// recorder.publish(&Event::normal("Synced", "Reconciling").note("ok"), &pod).await?;
    /// clock.advance(Duration::from_secs(20));
    ///
    /// assert_eq!(
    ///     sink.describe(&pod),
    ///     "Events:\n\
    ///     \x20 Type    Reason  Age   From                 Message\n\
    ///     \x20 ----    ------  ----  ----                 -------\n\
    ///     \x20 Normal  Synced  20s   example.com/widgets  ok\n"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn describe(&self, object: &ObjectRef) -> String {
        describe_records(&self.for_object(object), self.inner.clock.now())
    }

    /// Every current event as `kubectl describe` tables, one per regarding
    /// object (in order of each object's first event), each headed by the
    /// object (`Pod shop/web-0:`); `No events recorded.` when there are
    /// none. This is what a failed assertion prints.
    pub fn describe_all(&self) -> String {
        grouped(&self.events(), self.inner.clock.now())
    }

    pub(crate) fn current(&self, keep: impl Fn(&EventRecord) -> bool) -> Vec<EventRecord> {
        self.lock_fresh()
            .current()
            .filter(|r| keep(r))
            .cloned()
            .collect()
    }

    fn count_ok(&self, kind: WriteKind) -> usize {
        self.lock()
            .log
            .iter()
            .filter(|w| w.kind == kind && w.is_ok())
            .count()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under this lock is complete before anything can panic.
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The state with expired events removed.
    fn lock_fresh(&self) -> MutexGuard<'_, State> {
        let now = self.inner.clock.now();
        let mut state = self.lock();
        state.expire(now);
        state
    }

    /// One write of `kind`: through the fault plan, then `apply` to the
    /// store, logged as `record` with its answer.
    async fn write(
        &self,
        kind: WriteKind,
        record: EventRecord,
        apply: impl FnOnce(&mut State, Timestamp) -> Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        let faulted = self.inner.faults.apply(kind, &record).await;
        let now = self.inner.clock.now();
        let mut state = self.lock();
        state.expire(now);
        let result = faulted.and_then(|()| apply(&mut state, now));
        state.log.push(Write {
            kind,
            record,
            at: now,
            result: result.clone(),
        });
        drop(state);
        self.inner.faults.answer(result)
    }
}

impl Default for MemorySink {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("MemorySink")
            .field("clock", &self.inner.clock)
            .field("events", &state.events.len())
            .field("writes", &state.log.len())
            .field("event_ttl", &state.ttl)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl EventSink for MemorySink {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        self.write(WriteKind::Create, event.clone(), |state, now| {
            state.create(event, now)
        })
        .await
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        let logged = event.clone().with_series(series);
        self.write(WriteKind::PatchSeries, logged, |state, now| {
            state.patch(event, series, now)
        })
        .await
    }

    /// Reads are not logged as writes and take no write faults; they are
    /// counted ([`reads`](MemorySink::reads)) and find what
    /// [`Faults::reads_find`](crate::Faults::reads_find) says when it is set.
    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        self.lock().reads += 1;
        if let Some(found) = self.inner.faults.read_override(namespace, name) {
            return Ok(found);
        }
        MemorySink::get(self, namespace, name).ok_or(SinkError::NotFound)
    }
}
