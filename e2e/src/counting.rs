//! Counting the writes that reach the API: the suite's sink is the
//! transport's sink under the testing crate's [`FaultySink`] with no faults
//! planned, whose call log ([`FaultySink::calls`]) holds every write with
//! its answer.

use std::sync::Arc;

use event_core::sink::{EventRecord, EventSink};
use event_testing::{FaultySink, WriteKind};

/// The transport's sink with its calls logged.
pub(crate) type CountingSink = FaultySink<dyn EventSink>;

/// Wraps `inner` so that its calls are logged.
pub(crate) fn counting(inner: Arc<dyn EventSink>) -> Arc<CountingSink> {
    Arc::new(FaultySink::with_faults(inner, event_testing::Faults::new()))
}

/// Number of calls of this kind (each one request).
pub(crate) fn count(sink: &CountingSink, kind: WriteKind) -> usize {
    sink.calls().iter().filter(|c| c.kind == kind).count()
}

/// Number of calls that failed.
pub(crate) fn failures(sink: &CountingSink) -> usize {
    sink.calls().iter().filter(|c| !c.is_ok()).count()
}

/// The records of the successful creates, in order.
pub(crate) fn created(sink: &CountingSink) -> Vec<EventRecord> {
    sink.calls()
        .into_iter()
        .filter(|c| c.kind == WriteKind::Create && c.is_ok())
        .map(|c| c.record)
        .collect()
}

/// `"2 creates, 1 patch"`-style text for figures.
pub(crate) fn describe_writes(sink: &CountingSink) -> String {
    let creates = count(sink, WriteKind::Create);
    let patches = count(sink, WriteKind::PatchSeries);
    let plural =
        |n: usize, word: &str, words: &str| format!("{n} {}", if n == 1 { word } else { words });
    format!(
        "{} ({}, {})",
        plural(creates + patches, "write", "writes"),
        plural(creates, "create", "creates"),
        plural(patches, "patch", "patches"),
    )
}

#[cfg(test)]
mod tests {
    use event_core::sink::SinkError;
    use event_testing::{MemorySink, sample_record};

    use super::*;

    #[tokio::test]
    async fn counts_calls_and_results() {
        let memory = MemorySink::new();
        let sink = counting(memory.arc());
        let record = sample_record();
        sink.create(&record).await.unwrap();
        assert_eq!(sink.create(&record).await, Err(SinkError::AlreadyExists));
        assert_eq!(sink.calls().len(), 2);
        assert_eq!(count(&sink, WriteKind::Create), 2);
        assert_eq!(failures(&sink), 1);
        assert_eq!(created(&sink).len(), 1);
        assert_eq!(describe_writes(&sink), "2 writes (2 creates, 0 patches)");
    }
}
