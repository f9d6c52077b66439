//! Helpers for the engine tests over the testing crate's sink and clock.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use event_core::sink::{EventRecord, SinkError};
use event_testing::{ManualClock, MemorySink, WriteKind};
use jiff::Timestamp;

/// A sink whose writes wait until `sink.faults().release()`.
pub fn held_sink() -> MemorySink {
    let sink = MemorySink::new();
    sink.faults().hold();
    sink
}

/// The tests' clock, at 2027-01-15T08:00:00Z.
pub fn test_clock() -> ManualClock {
    ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap())
}

/// The next writes fail with `errors`, one each, in order.
pub fn fail_next(sink: &MemorySink, errors: impl IntoIterator<Item = SinkError>) {
    sink.faults().fail_after(0, errors);
}

/// Every write fails with `error` until the faults are cleared.
pub fn fail_all(sink: &MemorySink, error: SinkError) {
    sink.faults().fail_fraction(1.0, 0, error);
}

/// The stored count of the event with this reason (exactly one expected).
pub fn count_of(sink: &MemorySink, reason: &str) -> u32 {
    let events = sink.with_reason(reason);
    assert_eq!(events.len(), 1, "events with reason {reason}: {events:?}");
    events[0].count()
}

/// Names of every attempted write that reached the store, in order.
pub fn attempted_names(sink: &MemorySink) -> Vec<String> {
    sink.attempts().into_iter().map(|w| w.record.name).collect()
}

/// The kinds of the writes that took effect, in order.
pub fn kinds(sink: &MemorySink) -> Vec<WriteKind> {
    sink.writes().into_iter().map(|w| w.kind).collect()
}

/// Deletes the stored events with this reason; whether there was one.
pub fn delete_reason(sink: &MemorySink, reason: &str) -> bool {
    let mut any = false;
    for e in sink.with_reason(reason) {
        any |= sink.delete(&e.namespace, &e.name);
    }
    any
}

/// Deletes every stored event (the write log stays).
pub fn delete_all(sink: &MemorySink) {
    for e in sink.events() {
        sink.delete(&e.namespace, &e.name);
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
pub fn builder(sink: &MemorySink, clock: &ManualClock) -> event_core::RecorderBuilder {
    event_core::Recorder::builder(sink.arc(), CTL).clock(Arc::new(clock.clone()))
}
