//! Running in production: filters, the spam key, a namespace being
//! deleted, the write budget and the per-event log record, asserted by
//! counts.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use event_core::{
    DropReason, Event, EventType, ObjectRef, Published, Recorder, RecorderBuilder, SpamFilter,
    SpamKey,
};
use support::{TestClock, TestSink};

const CTL: &str = "example.com/widgets";

fn pod(name: &str) -> ObjectRef {
    ObjectRef::new("v1", "Pod", name)
        .within("shop")
        .with_uid(format!("uid-{name}"))
}

fn builder(sink: &TestSink, clock: &TestClock) -> RecorderBuilder {
    Recorder::builder(Arc::new(sink.clone()), CTL).clock(Arc::new(clock.clone()))
}

#[tokio::test(start_paused = true)]
async fn filters_drop_and_count_without_writing() {
    let (sink, clock) = (TestSink::new(), TestClock::new());
    let off = builder(&sink, &clock)
        .events_enabled(false)
        .build()
        .unwrap();
    let warning = Event::warning("BackOff", "Starting");
    for _ in 0..3 {
        let out = off.publish(&warning, &pod("a")).await.unwrap();
        assert_eq!(out, Published::Dropped(DropReason::Filtered));
        off.emit(&warning, &pod("a")).unwrap();
    }
    // Filtered before validation: never an error.
    let invalid = Event::warning("", "Starting");
    let out = off.publish(&invalid, &pod("a")).await.unwrap();
    assert_eq!(out, Published::Dropped(DropReason::Filtered));
    off.flush().await;
    let s = off.stats();
    assert_eq!((s.dropped_filtered, s.published, s.writes()), (7, 0, 0));
    assert_eq!(sink.attempts(), 0);

    let rec = builder(&sink, &clock)
        .minimum_type(EventType::Warning)
        .keep_reasons(["BackOff", "Failed"])
        .drop_reasons(["Failed"])
        .build()
        .unwrap();
    let cases = [
        (Event::normal("BackOff", "Starting"), false),
        (Event::warning("BackOff", "Starting"), true),
        (Event::warning("Failed", "Reconciling"), false),
        (Event::warning("Unhealthy", "Probing"), false),
    ];
    for (event, published) in &cases {
        for _ in 0..2 {
            let out = rec.publish(event, &pod("b")).await.unwrap();
            assert_eq!(
                out == Published::Dropped(DropReason::Filtered),
                !published,
                "{event:?}: {out:?}"
            );
        }
    }
    rec.flush().await;
    let s = rec.stats();
    assert_eq!((s.dropped_filtered, s.published), (6, 2));
    assert_eq!((sink.creates(), sink.patches()), (1, 1));
    assert_eq!(sink.count_of("BackOff"), 2);
}

#[tokio::test(start_paused = true)]
async fn the_spam_key_per_reason_keeps_one_noisy_reason_from_starving_the_others() {
    // Per object (the default): ten new events of one noisy reason use up
    // the object's bucket of ten, and the next reason is dropped.
    // Per object and reason: it has its own bucket.
    for (key, failed_published) in [(SpamKey::Object, false), (SpamKey::ObjectAndReason, true)] {
        let (sink, clock) = (TestSink::new(), TestClock::new());
        let rec = builder(&sink, &clock)
            .spam_filter(SpamFilter::new(10, std::time::Duration::from_secs(300)))
            .spam_key(key)
            .build()
            .unwrap();
        let mut spam = 0;
        for i in 0..15 {
            let noisy = Event::warning("Probe", format!("Probing{i}"));
            if rec.publish(&noisy, &pod("p")).await.unwrap() == Published::Dropped(DropReason::Spam)
            {
                spam += 1;
            }
        }
        assert_eq!(spam, 5, "{key:?}");
        let failed = Event::warning("ReconcileFailed", "Reconciling");
        let out = rec.publish(&failed, &pod("p")).await.unwrap();
        assert_eq!(
            out == Published::Created,
            failed_published,
            "{key:?}: {out:?}"
        );
        let expected_spam = if failed_published { 5 } else { 6 };
        assert_eq!(rec.stats().dropped_spam, expected_spam, "{key:?}");
        assert_eq!(sink.creates(), if failed_published { 11 } else { 10 });
    }
}

/// A subscriber that counts warn-level (and worse) log records, to show a
/// namespace being deleted is dropped quietly.
#[derive(Clone, Default)]
struct Warnings(Arc<std::sync::atomic::AtomicU64>);

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test(start_paused = true)]
async fn a_namespace_being_deleted_drops_quietly_without_retries() {
    let (sink, clock) = (TestSink::new(), TestClock::new());
    let rec = builder(&sink, &clock).build().unwrap();
    let warnings = Warnings::default();
    let _guard = tracing::subscriber::set_default(warnings.clone());
    sink.fail_all(event_core::SinkError::NamespaceTerminating {
        message: "unable to create new content in namespace shop because it is being terminated"
            .into(),
    });
    let e = Event::warning("BackOff", "Starting");
    let first = rec.publish(&e, &pod("web-0")).await.unwrap();
    assert_eq!(first, Published::Dropped(DropReason::NamespaceTerminating));
    // One attempt: no retry, no re-create.
    assert_eq!(sink.attempts(), 1);
    for _ in 0..4 {
        let out = rec.publish(&e, &pod("web-0")).await.unwrap();
        assert_eq!(out, Published::Dropped(DropReason::NamespaceTerminating));
    }
    rec.flush().await;
    let report = rec.shutdown(std::time::Duration::from_secs(5)).await;
    assert!(report.is_complete());
    let s = report.stats;
    assert_eq!(sink.attempts(), 1);
    assert_eq!(
        (
            s.published,
            s.dropped_namespace_terminating,
            s.failed,
            s.retried
        ),
        (5, 5, 0, 0)
    );
    assert_eq!(s.dropped_unwritten, 0);
    assert_eq!(warnings.0.load(std::sync::atomic::Ordering::SeqCst), 0);
}
