//! A small in-memory sink and a manual clock for the engine tests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use event_core::Clock;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};
use jiff::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Create,
    Patch,
}

#[derive(Clone, Debug)]
pub struct Write {
    pub op: Op,
    pub record: EventRecord,
}

#[derive(Default)]
struct State {
    events: HashMap<(String, String), EventRecord>,
    writes: Vec<Write>,
    fail_next: VecDeque<SinkError>,
    random: Option<(fastrand::Rng, f64)>,
    lose_responses: u32,
    fail_all: Option<SinkError>,
    hang_reason: Option<String>,
    attempted: Vec<String>,
    attempts: u64,
    reads: u64,
    /// Errors for the attempts after the first `.0`.
    fail_later: Option<(u64, VecDeque<SinkError>)>,
    delay: Option<Duration>,
    /// Every read finds this (another series') event under the name asked.
    foreign: Option<EventRecord>,
    panic_next: u32,
}

/// Behaves like the API server for our two calls.
#[derive(Clone, Default)]
pub struct TestSink {
    state: Arc<Mutex<State>>,
    hang: Arc<std::sync::atomic::AtomicBool>,
    pub in_flight: Arc<AtomicU64>,
}

impl TestSink {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn hanging() -> Self {
        let s = Self::default();
        s.hang.store(true, Ordering::SeqCst);
        s
    }
    pub fn fail_next(&self, errors: impl IntoIterator<Item = SinkError>) {
        self.state.lock().unwrap().fail_next.extend(errors);
    }
    /// The next `n` writes take effect but answer as a transport failure.
    pub fn lose_responses(&self, n: u32) {
        self.state.lock().unwrap().lose_responses = n;
    }
    fn response_lost(&self) -> Result<(), SinkError> {
        let mut st = self.state.lock().unwrap();
        if st.lose_responses > 0 {
            st.lose_responses -= 1;
            return Err(SinkError::Transient {
                message: "connection reset after the request was sent".into(),
            });
        }
        Ok(())
    }
    /// The attempts after the next `skip` fail with `errors`, in order.
    pub fn fail_after(&self, skip: u64, errors: impl IntoIterator<Item = SinkError>) {
        let mut st = self.state.lock().unwrap();
        let from = st.attempts + skip;
        st.fail_later = Some((from, errors.into_iter().collect()));
    }
    /// Every write takes this long.
    pub fn delay(&self, d: Duration) {
        self.state.lock().unwrap().delay = Some(d);
    }
    /// From now on no write answers.
    pub fn hang_all(&self) {
        self.hang.store(true, Ordering::SeqCst);
    }
    /// Writes answer again.
    pub fn clear_hang(&self) {
        self.hang.store(false, Ordering::SeqCst);
    }
    /// Reads find what is stored again.
    pub fn clear_foreign(&self) {
        self.state.lock().unwrap().foreign = None;
    }
    /// Every read answers with `record` under the name asked for.
    pub fn foreign_everywhere(&self, record: EventRecord) {
        self.state.lock().unwrap().foreign = Some(record);
    }
    /// The next `n` writes panic.
    pub fn panic_next(&self, n: u32) {
        self.state.lock().unwrap().panic_next = n;
    }
    /// Every write fails with `error` until `clear_faults`.
    pub fn fail_all(&self, error: SinkError) {
        self.state.lock().unwrap().fail_all = Some(error);
    }
    /// Writes of events with this reason never answer.
    pub fn hang_on(&self, reason: &str) {
        self.state.lock().unwrap().hang_reason = Some(reason.to_owned());
    }
    /// Names of every attempted write, in order.
    pub fn attempted_names(&self) -> Vec<String> {
        self.state.lock().unwrap().attempted.clone()
    }
    pub fn clear_faults(&self) {
        let mut st = self.state.lock().unwrap();
        st.fail_all = None;
        st.fail_next.clear();
        st.random = None;
    }
    pub fn fail_fraction(&self, seed: u64, fraction: f64) {
        self.state.lock().unwrap().random = Some((fastrand::Rng::with_seed(seed), fraction));
    }
    pub fn writes(&self) -> Vec<Write> {
        self.state.lock().unwrap().writes.clone()
    }
    pub fn creates(&self) -> usize {
        self.writes().iter().filter(|w| w.op == Op::Create).count()
    }
    pub fn patches(&self) -> usize {
        self.writes().iter().filter(|w| w.op == Op::Patch).count()
    }
    pub fn attempts(&self) -> u64 {
        self.state.lock().unwrap().attempts
    }
    /// Reads made (after a create found the name taken).
    pub fn reads(&self) -> u64 {
        self.state.lock().unwrap().reads
    }
    /// Stores an event as another writer would.
    pub fn insert(&self, e: EventRecord) {
        let mut st = self.state.lock().unwrap();
        st.events.insert((e.namespace.clone(), e.name.clone()), e);
    }
    pub fn events(&self) -> Vec<EventRecord> {
        let mut v: Vec<_> = self
            .state
            .lock()
            .unwrap()
            .events
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
    /// Deletes the stored events with this reason; whether there was one.
    pub fn delete_reason(&self, reason: &str) -> bool {
        let mut st = self.state.lock().unwrap();
        let before = st.events.len();
        st.events.retain(|_, e| e.reason != reason);
        st.events.len() != before
    }
    pub fn delete_all(&self) {
        self.state.lock().unwrap().events.clear();
    }
    /// The stored count of the event with this reason (exactly one expected).
    pub fn count_of(&self, reason: &str) -> u32 {
        let events: Vec<_> = self
            .events()
            .into_iter()
            .filter(|e| e.reason == reason)
            .collect();
        assert_eq!(events.len(), 1, "events with reason {reason}: {events:?}");
        events[0].count()
    }

    fn inject(&self, e: &EventRecord) -> Result<(), SinkError> {
        let mut st = self.state.lock().unwrap();
        if st.panic_next > 0 {
            st.panic_next -= 1;
            drop(st);
            panic!("a sink that panics");
        }
        st.attempts += 1;
        st.attempted.push(e.name.clone());
        let attempts = st.attempts;
        if let Some((from, errors)) = &mut st.fail_later
            && attempts > *from
            && let Some(err) = errors.pop_front()
        {
            return Err(err);
        }
        if let Some(err) = &st.fail_all {
            return Err(err.clone());
        }
        if let Some(e) = st.fail_next.pop_front() {
            return Err(e);
        }
        if let Some((rng, fraction)) = &mut st.random
            && rng.f64() < *fraction
        {
            return Err(SinkError::Transient {
                message: "injected 503".into(),
            });
        }
        Ok(())
    }

    async fn hang_if_asked(&self, e: &EventRecord) {
        if self.hang.load(Ordering::SeqCst) {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            while self.hang.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        let delay = self.state.lock().unwrap().delay;
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let hang_reason = self.state.lock().unwrap().hang_reason.clone();
        if hang_reason.as_deref() == Some(e.reason.as_str()) {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
    }
}

#[async_trait]
impl EventSink for TestSink {
    async fn create(&self, e: &EventRecord) -> Result<(), SinkError> {
        self.hang_if_asked(e).await;
        tokio::task::yield_now().await;
        self.inject(e)?;
        let mut st = self.state.lock().unwrap();
        let k = (e.namespace.clone(), e.name.clone());
        if st.events.contains_key(&k) {
            return Err(SinkError::AlreadyExists);
        }
        st.events.insert(k, e.clone());
        st.writes.push(Write {
            op: Op::Create,
            record: e.clone(),
        });
        drop(st);
        self.response_lost()
    }

    async fn patch_series(&self, e: &EventRecord, series: Series) -> Result<(), SinkError> {
        self.hang_if_asked(e).await;
        tokio::task::yield_now().await;
        self.inject(e)?;
        let mut st = self.state.lock().unwrap();
        let k = (e.namespace.clone(), e.name.clone());
        let Some(stored) = st.events.get_mut(&k) else {
            return Err(SinkError::NotFound);
        };
        assert_eq!(e.series, Some(series), "the record carries the series");
        stored.series = Some(series);
        st.writes.push(Write {
            op: Op::Patch,
            record: e.clone(),
        });
        drop(st);
        self.response_lost()
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        tokio::task::yield_now().await;
        let mut st = self.state.lock().unwrap();
        st.reads += 1;
        if let Some(foreign) = &st.foreign {
            let mut stored = foreign.clone();
            stored.name = name.to_owned();
            stored.namespace = namespace.to_owned();
            return Ok(stored);
        }
        st.events
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
            .ok_or(SinkError::NotFound)
    }
}

#[derive(Clone, Debug)]
pub struct TestClock(Arc<Mutex<Timestamp>>);

impl TestClock {
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(
            Timestamp::from_second(1_800_000_000).unwrap(),
        )))
    }
    pub fn advance(&self, d: Duration) {
        let mut t = self.0.lock().unwrap();
        *t += d;
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// A record about Pod `p` in `shop` by the tests' controller.
pub fn record(reason: &str) -> EventRecord {
    EventRecord::new(
        "p.0000000000000000",
        "shop",
        Timestamp::from_second(1_700_000_000).unwrap(),
        event_core::ObjectRef::new("v1", "Pod", "p").within("shop"),
        event_core::Event::normal(reason, "A"),
        "example.com/widgets",
        "widgets-0",
    )
}

/// A tracing subscriber that hands every log record to a closure; spans
/// are ignored.
pub struct OnEvent<F>(pub F);

impl<F: Fn(&tracing::Event<'_>) + Send + Sync + 'static> tracing::Subscriber for OnEvent<F> {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        (self.0)(event);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// The `message` of a log record.
#[derive(Default)]
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// A subscriber that turns the engine's warnings about dropped series into
/// events on the same Recorder, as log-to-event bridges do; `seen` counts
/// them.
pub fn bridge(
    recorder: event_core::Recorder,
    seen: Arc<AtomicU64>,
) -> impl tracing::Subscriber + Send + Sync {
    OnEvent(move |event: &tracing::Event<'_>| {
        let mut message = Message::default();
        event.record(&mut message);
        if !message.0.contains("series dropped") {
            return;
        }
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let object = event_core::ObjectRef::new("v1", "Pod", "log").within("shop");
        let _ = recorder.emit(
            &event_core::Event::warning(format!("Dropped{}", n % 3), "Logging"),
            &object,
        );
    })
}

/// The tests' controller.
pub const CTL: &str = "example.com/widgets";

/// Pod `name` in `shop`, with a uid.
pub fn pod(name: &str) -> event_core::ObjectRef {
    event_core::ObjectRef::new("v1", "Pod", name)
        .within("shop")
        .with_uid(format!("uid-{name}"))
}

/// A Recorder builder over `sink` and `clock` as the tests' controller.
pub fn builder(sink: &TestSink, clock: &TestClock) -> event_core::RecorderBuilder {
    event_core::Recorder::builder(Arc::new(sink.clone()), CTL).clock(Arc::new(clock.clone()))
}
