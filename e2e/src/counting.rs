//! A sink wrapper that counts the writes reaching the API.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};

/// Which sink call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Create,
    Patch,
}

/// One call and its result.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) op: Op,
    pub(crate) record: EventRecord,
    pub(crate) result: Result<(), SinkError>,
}

/// Forwards to the inner sink and keeps every call with its result.
pub(crate) struct CountingSink {
    inner: Arc<dyn EventSink>,
    calls: Mutex<Vec<Call>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CountingSink {
    pub(crate) fn new(inner: Arc<dyn EventSink>) -> Arc<Self> {
        Arc::new(Self {
            inner,
            calls: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        lock(&self.calls).clone()
    }

    /// Number of calls (each one request).
    pub(crate) fn len(&self) -> usize {
        lock(&self.calls).len()
    }

    pub(crate) fn count(&self, op: Op) -> usize {
        lock(&self.calls).iter().filter(|c| c.op == op).count()
    }

    pub(crate) fn failures(&self) -> usize {
        lock(&self.calls)
            .iter()
            .filter(|c| c.result.is_err())
            .count()
    }

    /// The records of the successful creates, in order.
    pub(crate) fn created(&self) -> Vec<EventRecord> {
        lock(&self.calls)
            .iter()
            .filter(|c| c.op == Op::Create && c.result.is_ok())
            .map(|c| c.record.clone())
            .collect()
    }

    fn push(&self, op: Op, record: &EventRecord, result: &Result<(), SinkError>) {
        lock(&self.calls).push(Call {
            op,
            record: record.clone(),
            result: result.clone(),
        });
    }
}

/// `"2 creates, 1 patch"`-style text for figures.
pub(crate) fn describe_writes(sink: &CountingSink) -> String {
    let creates = sink.count(Op::Create);
    let patches = sink.count(Op::Patch);
    let plural =
        |n: usize, word: &str, words: &str| format!("{n} {}", if n == 1 { word } else { words });
    format!(
        "{} ({}, {})",
        plural(creates + patches, "write", "writes"),
        plural(creates, "create", "creates"),
        plural(patches, "patch", "patches"),
    )
}

#[async_trait]
impl EventSink for CountingSink {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        let result = self.inner.create(event).await;
        self.push(Op::Create, event, &result);
        result
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        let result = self.inner.patch_series(event, series).await;
        self.push(Op::Patch, event, &result);
        result
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        self.inner.get(namespace, name).await
    }
}

#[cfg(test)]
mod tests {
    use event_testing::{MemorySink, sample_record};

    use super::*;

    #[tokio::test]
    async fn counts_calls_and_results() {
        let memory = MemorySink::new();
        let sink = CountingSink::new(memory.arc());
        let record = sample_record();
        sink.create(&record).await.unwrap();
        assert_eq!(sink.create(&record).await, Err(SinkError::AlreadyExists));
        assert_eq!(sink.len(), 2);
        assert_eq!(sink.count(Op::Create), 2);
        assert_eq!(sink.failures(), 1);
        assert_eq!(sink.created().len(), 1);
        assert_eq!(describe_writes(&sink), "2 writes (2 creates, 0 patches)");
    }
}
