//! Regression tests for defects found by adversarial testing: each fails
//! on the engine before its fix.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use event_core::{Error, Event, ObjectRef, Published, Recorder, RecorderBuilder};

use event_core::sink::{EventRecord, SinkError};
use event_testing::MemorySink;
use support::{CTL, fail_all, fail_next, held_sink};

fn pod(name: &str) -> ObjectRef {
    ObjectRef::new("v1", "Pod", name).within("shop")
}

/// These defects are the engine's, found before the write budget existed:
/// the budget is off here (it has tests of its own).
fn builder(sink: &MemorySink) -> RecorderBuilder {
    Recorder::builder(Arc::new(sink.clone()), CTL)
        .no_spam_filter()
        .write_budget(event_core::config::WriteBudget::unlimited())
}

/// A runtime of its own, on this thread.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Stored count per reason.
fn counts(sink: &MemorySink) -> HashMap<String, u32> {
    let mut out = HashMap::new();
    for e in sink.events() {
        *out.entry(e.reason.clone()).or_default() += e.count();
    }
    out
}

/// Defect 1: series evicted while their write was queued or running lost
/// their occurrences (300 of 1,000 stored) with a healthy sink.
#[tokio::test(start_paused = true)]
async fn evictions_lose_nothing_with_a_healthy_sink() {
    let sink = MemorySink::new();
    sink.faults().latency(Duration::from_millis(1));
    // 1,000 creates at once: without a write budget, so that each emit
    // gets a write of its own (the budget has its own tests).
    let rec = builder(&sink).max_cached_keys(100).build().unwrap();
    for i in 0..1_000 {
        rec.emit(&Event::normal(format!("E{i}"), "A"), &pod(&format!("p{i}")))
            .unwrap();
    }
    let report = rec.shutdown(Duration::from_secs(60)).await;
    assert!(report.is_complete(), "{} unwritten", report.unwritten.len());
    assert_eq!(sink.events().len(), 1_000);
    let s = report.stats;
    assert_eq!((s.published, s.created, s.failed), (1_000, 1_000, 0));
    assert_eq!(
        (s.coalesced, s.dropped_queue_full, s.dropped_unwritten),
        (0, 0, 0)
    );

    // The same through `publish`, concurrently.
    let sink = MemorySink::new();
    sink.faults().latency(Duration::from_millis(1));
    let rec = builder(&sink).max_cached_keys(100).build().unwrap();
    let tasks: Vec<_> = (0..1_000)
        .map(|i| {
            let rec = rec.clone();
            tokio::spawn(async move {
                let e = Event::normal(format!("E{i}"), "A");
                rec.publish(&e, &pod(&format!("p{i}"))).await.unwrap();
                rec.publish(&e, &pod(&format!("p{i}"))).await.unwrap();
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let report = rec.shutdown(Duration::from_secs(60)).await;
    assert!(report.is_complete());
    assert_eq!(report.stats.failed, 0);
    assert_eq!(sink.events().len(), 1_000);
    assert!(counts(&sink).values().all(|&c| c == 2));
}

/// Defect 2: a shutdown cut by its deadline left out of its report the
/// series it had taken for writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_cut_short_reports_everything_unwritten() {
    for _ in 0..20 {
        let sink = MemorySink::new();
        let rec = builder(&sink).max_cached_keys(1).build().unwrap();
        let a = Event::normal("A", "A");
        for _ in 0..3 {
            rec.publish(&a, &pod("p")).await.unwrap();
        }
        assert_eq!(counts(&sink)["A"], 2);
        sink.faults().hold();
        rec.emit(&Event::normal("B", "A"), &pod("p")).unwrap();
        let report = rec.shutdown(Duration::from_millis(100)).await;
        let mut unwritten: Vec<_> = report
            .unwritten
            .iter()
            .map(|r| (r.reason.clone(), r.count()))
            .collect();
        unwritten.sort();
        assert_eq!(unwritten, [("A".to_owned(), 3), ("B".to_owned(), 1)]);
    }
}

/// Defect 3: a create whose answer was lost, then a 429 on the retry, made
/// the next 409 look like a clash: two Events for one occurrence.
#[tokio::test(start_paused = true)]
async fn a_lost_answer_then_throttling_keeps_one_event() {
    let sink = MemorySink::new();
    sink.faults().lose_answers(1);
    sink.faults()
        .fail_after(1, [SinkError::Throttled { retry_after: None }]);
    let rec = builder(&sink).build().unwrap();
    let e = Event::normal("Lost", "A");
    assert_eq!(
        rec.publish(&e, &pod("p")).await.unwrap(),
        Published::Created
    );
    assert_eq!(sink.events().len(), 1);
    assert_eq!(
        sink.faults().attempts(),
        3,
        "create (answer lost), 429, 409"
    );
    assert_eq!(sink.reads(), 1);
    rec.publish(&e, &pod("p")).await.unwrap();
    assert_eq!(sink.events().len(), 1);
    assert_eq!(counts(&sink)["Lost"], 2);
}

/// Defect 4: memory grew with every distinct key while writes failed (the
/// list of series that left the cache had no bound).
#[tokio::test(start_paused = true)]
async fn series_kept_after_eviction_are_bounded_and_accounted_for() {
    let sink = MemorySink::new();
    fail_all(
        &sink,
        SinkError::Forbidden {
            message: "no RBAC".into(),
        },
    );
    let rec = builder(&sink)
        .max_cached_keys(50)
        .queue_capacity(10)
        .writers(1)
        .build()
        .unwrap();
    for i in 0..5_000 {
        let e = Event::normal(format!("E{i}"), "A");
        for _ in 0..3 {
            let _ = rec.publish(&e, &pod("p")).await;
        }
    }
    let report = rec.shutdown(Duration::from_secs(1)).await;
    let bound = 50 + 50 + 10 + 1;
    assert!(
        report.unwritten.len() <= bound,
        "{}",
        report.unwritten.len()
    );
    let s = report.stats;
    let unwritten: u64 = report.unwritten.iter().map(|r| u64::from(r.count())).sum();
    assert_eq!(s.published, 15_000);
    assert_eq!(unwritten + s.dropped_unwritten, 15_000);
    assert_eq!(s.evicted, 5_000 - 50);
}

/// Defect 5: a tracing subscriber that publishes events (a log-to-event
/// bridge) made `emit` panic or `flush` deadlock: logs were written under
/// the engine's locks and the key buffer was held across the lookup.
#[test]
fn a_subscriber_that_publishes_events_does_not_break_the_recorder() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let sink = MemorySink::new();
        fail_all(
            &sink,
            SinkError::Forbidden {
                message: "no RBAC".into(),
            },
        );
        // A cache of one and room for few series that left it owing writes:
        // most series are dropped, each with a warning.
        let rec = builder(&sink)
            .max_cached_keys(1)
            .queue_capacity(1)
            .writers(1)
            .build()
            .unwrap();
        let bridged = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let subscriber = support::bridge(rec.clone(), Arc::clone(&bridged));
        tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                for i in 0..200 {
                    let e = Event::warning(format!("E{i}"), "A");
                    let _ = rec.publish(&e, &pod("p")).await;
                    let _ = rec.publish(&e, &pod("p")).await;
                }
                rec.flush().await;
                rec.shutdown(Duration::from_secs(5)).await;
            });
        });
        done_tx
            .send(bridged.load(std::sync::atomic::Ordering::SeqCst))
            .unwrap();
    });
    let bridged = done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the recorder deadlocked or panicked under a publishing subscriber");
    assert!(
        bridged > 10,
        "the subscriber saw the engine's warnings: {bridged}"
    );
}

/// Defect 6a: `flush` after a shutdown that aborted a hung writer never
/// returned.
#[tokio::test(start_paused = true)]
async fn flush_after_a_shutdown_that_aborted_a_hung_writer_returns() {
    let sink = held_sink();
    let rec = builder(&sink).build().unwrap();
    rec.emit(&Event::normal("Hung", "A"), &pod("p")).unwrap();
    tokio::task::yield_now().await;
    let report = rec.shutdown(Duration::from_secs(1)).await;
    assert_eq!(report.unwritten.len(), 1);
    let flushed = tokio::time::timeout(Duration::from_secs(3600), async {
        sink.faults().release();
        rec.flush().await;
    })
    .await;
    assert!(flushed.is_ok(), "flush hung");
}

/// Defect 6b: one panicking sink call in an emit writer made `flush` hang
/// and later emits were never written.
#[tokio::test(start_paused = true)]
async fn a_panicking_sink_call_does_not_stop_the_writers() {
    let sink = MemorySink::new();
    let rec = builder(&sink).writers(1).build().unwrap();
    sink.faults().panic_next(1);
    rec.emit(&Event::normal("Panics", "A"), &pod("p")).unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(rec.stats().failed, 1);
    rec.emit(&Event::normal("After", "A"), &pod("p")).unwrap();
    let flushed = tokio::time::timeout(Duration::from_secs(3600), rec.flush()).await;
    assert!(flushed.is_ok(), "flush hung");
    let c = counts(&sink);
    assert_eq!((c["Panics"], c["After"]), (1, 1), "both written in the end");
}

/// Defect 6c: a Recorder first used on a runtime that has since shut down
/// (a shared static across tests) never wrote again.
#[test]
fn a_recorder_outlives_the_runtime_it_was_first_used_on() {
    let sink = MemorySink::new();
    let rec = builder(&sink).build().unwrap();
    let first = runtime();
    first.block_on(async {
        rec.publish(&Event::normal("First", "A"), &pod("p"))
            .await
            .unwrap();
    });
    drop(first);
    let second = runtime();
    second.block_on(async {
        rec.emit(&Event::normal("Second", "A"), &pod("p")).unwrap();
        let flushed = tokio::time::timeout(Duration::from_secs(30), rec.flush()).await;
        assert!(flushed.is_ok(), "flush hung");
        // The background writers run again: a queued emit is written
        // without a flush.
        rec.emit(&Event::normal("Third", "A"), &pod("p")).unwrap();
        for _ in 0..100 {
            if counts(&sink).contains_key("Third") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let c = counts(&sink);
    assert_eq!((c["First"], c["Second"], c["Third"]), (1, 1, 1));
}

/// Defect 6e: `emit` inside the context of a runtime that has shut down
/// (a `Drop` of a task's state calling it while its runtime shuts down)
/// spun for ever: the runtime dropped each writer it was given at once, and
/// the Recorder spawned another, holding its task lock.
#[test]
fn emit_on_a_runtime_that_shut_down_is_no_runtime_not_a_hang() {
    let sink = MemorySink::new();
    let rec = builder(&sink).build().unwrap();
    let runtime = runtime();
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        rec.emit(&Event::normal("First", "A"), &pod("p")).unwrap();
        rec.flush().await;
    });
    drop(runtime);
    let (tx, rx) = std::sync::mpsc::channel();
    // A thread of its own, so that a hang fails this test instead of
    // holding up the others.
    std::thread::spawn(move || {
        let _inside = handle.enter();
        let emitted = rec.emit(&Event::normal("Second", "A"), &pod("p"));
        let _ = tx.send(emitted);
    });
    let emitted = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("emit returned");
    assert!(matches!(emitted, Err(Error::NoRuntime)), "{emitted:?}");
    assert_eq!(counts(&sink)["First"], 1);
}

/// Defect 6f: an event refused for its size had already taken a spam
/// token for its object (and left a spam bucket keyed by its oversized
/// reference), so the object's next valid event could be dropped as spam.
#[tokio::test]
async fn an_event_refused_for_its_size_takes_no_spam_token() {
    let sink = MemorySink::new();
    let rec = Recorder::builder(Arc::new(sink.clone()), CTL)
        .spam_filter(event_core::config::SpamFilter::new(
            1,
            Duration::from_secs(300),
        ))
        .write_budget(event_core::config::WriteBudget::unlimited())
        .build()
        .unwrap();
    let object = pod("p").with_field_path("x".repeat(event_core::validate::MAX_EVENT_BYTES + 1));
    let refused = rec.publish(&Event::warning("Huge", "A"), &object).await;
    assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
    let object = pod("p").with_field_path("spec.containers{app}");
    let out = rec
        .publish(&Event::warning("Small", "A"), &object)
        .await
        .unwrap();
    assert_eq!(out, Published::Created);
    assert_eq!(rec.stats().dropped_spam, 0);
}

/// Defect 6d: with emits offered faster than the sink writes, `flush` did
/// not return (it waited for the queue to be empty).
#[tokio::test(start_paused = true)]
async fn flush_returns_under_sustained_emits() {
    let sink = MemorySink::new();
    sink.faults().latency(Duration::from_millis(1));
    let rec = builder(&sink)
        .queue_capacity(64)
        .writers(1)
        .build()
        .unwrap();
    let flooder = {
        let rec = rec.clone();
        tokio::spawn(async move {
            for i in 0u64.. {
                let _ = rec.emit(&Event::normal(format!("E{i}"), "A"), &pod("p"));
                if i % 8 == 0 {
                    tokio::time::sleep(Duration::from_micros(500)).await;
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let flushed = tokio::time::timeout(Duration::from_secs(3600), rec.flush()).await;
    flooder.abort();
    assert!(flushed.is_ok(), "flush did not return under load");
}

/// Defect 7: once the rename budget was spent on true clashes, a 409 on a
/// create with an unknown outcome adopted another series' Event (the
/// publish returned `Created` with nothing stored).
#[tokio::test(start_paused = true)]
async fn another_series_event_is_never_adopted() {
    let sink = MemorySink::new();
    let mut foreign = support::record("SomethingElse");
    foreign.series = Some(event_core::sink::Series {
        count: 40,
        last_observed_time: foreign.event_time,
    });
    sink.faults().reads_find(Some(foreign));
    let clash = || SinkError::AlreadyExists;
    fail_next(
        &sink,
        [
            clash(),
            clash(),
            clash(),
            clash(),
            clash(),
            SinkError::Transient {
                message: "connection reset".into(),
            },
            clash(),
        ],
    );
    let rec = builder(&sink).build().unwrap();
    let e = Event::normal("Mine", "A");
    let out = rec.publish(&e, &pod("p")).await;
    assert!(
        matches!(out, Err(Error::Sink(SinkError::AlreadyExists))),
        "{out:?} with {} events stored",
        sink.events().len()
    );
    assert_eq!(rec.stats().adopted, 0);
    // The series keeps its count for a later write under a free name.
    sink.faults().clear();
    sink.faults().reads_find(None);
    rec.publish(&e, &pod("p")).await.unwrap();
    rec.flush().await;
    assert_eq!(counts(&sink)["Mine"], 2);
    assert_eq!(rec.stats().adopted, 0);
}

/// Defect 8: no total-size check: a multi-megabyte reference reached the
/// server (413, or retried resets).
#[tokio::test(start_paused = true)]
async fn an_oversized_event_is_refused_with_the_field_named() {
    let sink = MemorySink::new();
    let rec = builder(&sink).build().unwrap();
    let huge = pod("p").with_field_path("x".repeat(3 << 20));
    let err = rec
        .publish(&Event::normal("Big", "A"), &huge)
        .await
        .unwrap_err();
    let Error::Invalid(invalid) = err else {
        panic!("{err:?}")
    };
    assert_eq!(invalid.violations()[0].field, "regarding.fieldPath");
    assert_eq!(sink.faults().attempts(), 0);
    assert_eq!(rec.stats().published, 0);
}

/// Defect 9: annotation keys were checked more strictly than the API server
/// does (it lowercases them first).
#[tokio::test(start_paused = true)]
async fn mixed_case_annotation_keys_are_accepted() {
    let sink = MemorySink::new();
    let rec = builder(&sink).build().unwrap();
    let mut e = Event::normal("Annotated", "A");
    e.annotations.insert("Example.COM/Key".into(), "v".into());
    assert_eq!(
        rec.publish(&e, &pod("p")).await.unwrap(),
        Published::Created
    );
}

/// Defect 10: a `publish` racing `shutdown` could return `Ok` for an
/// occurrence that was neither written nor reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_racing_shutdown_is_written_or_reported() {
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    for round in 0..100u64 {
        let sink = MemorySink::new();
        let rec = builder(&sink).build().unwrap();
        let started = Arc::new(AtomicU64::new(0));
        let publishers: Vec<_> = (0..8)
            .map(|t| {
                let (rec, started) = (rec.clone(), Arc::clone(&started));
                tokio::spawn(async move {
                    let mut accepted: HashMap<String, u32> = HashMap::new();
                    for i in 0.. {
                        let reason = format!("R{t}-{}", i % 7);
                        let e = Event::normal(reason.clone(), "A");
                        started.fetch_add(1, SeqCst);
                        match rec.publish(&e, &pod("p")).await {
                            Ok(_) | Err(Error::Sink(_)) => {
                                *accepted.entry(reason).or_default() += 1;
                            }
                            Err(Error::ShutDown) => break,
                            Err(other) => panic!("{other}"),
                        }
                    }
                    accepted
                })
            })
            .collect();
        // Shut down while the publishers are in full flow.
        while started.load(SeqCst) < 100 + 10 * round {
            tokio::task::yield_now().await;
        }
        let report = rec.shutdown(Duration::from_secs(10)).await;
        let mut accepted: HashMap<String, u32> = HashMap::new();
        for p in publishers {
            for (k, v) in p.await.unwrap() {
                *accepted.entry(k).or_default() += v;
            }
        }
        let stored = counts(&sink);
        let reported: HashMap<String, u32> = report
            .unwritten
            .iter()
            .map(|r: &EventRecord| (r.reason.clone(), r.count()))
            .collect();
        for (reason, n) in &accepted {
            let got = stored
                .get(reason)
                .copied()
                .unwrap_or(0)
                .max(reported.get(reason).copied().unwrap_or(0));
            assert_eq!(got, *n, "round {round}: {reason}");
        }
    }
}
