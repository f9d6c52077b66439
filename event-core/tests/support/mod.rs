//! A small in-memory sink and a manual clock for the engine tests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use event_core::{Clock, EventRecord, EventSink, SinkError};
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
        st.attempts += 1;
        st.attempted.push(e.name.clone());
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
        let hang_reason = self.state.lock().unwrap().hang_reason.clone();
        if self.hang.load(Ordering::SeqCst) || hang_reason.as_deref() == Some(e.reason.as_str()) {
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

    async fn patch_series(&self, e: &EventRecord) -> Result<(), SinkError> {
        self.hang_if_asked(e).await;
        tokio::task::yield_now().await;
        self.inject(e)?;
        let mut st = self.state.lock().unwrap();
        let k = (e.namespace.clone(), e.name.clone());
        let Some(stored) = st.events.get_mut(&k) else {
            return Err(SinkError::NotFound);
        };
        assert!(e.series.is_some(), "patch without series");
        stored.series = e.series;
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
