//! The Recorder against `MemorySink`: the headline behaviours, checked by
//! counting writes and reading the `kubectl describe` table.

mod support;

use std::sync::Arc;
use std::time::Duration;

use event_core::{DEFAULT_SERIES_FLUSH_INTERVAL, Event, ObjectRef, Published, Recorder, SinkError};
use event_testing::{
    FaultySink, ManualClock, MemorySink, MockEventSink, Target, TokioClock, WriteKind, expect,
};
use support::{panic_message, pod};

fn recorder_on(sink: &MemorySink, clock: &ManualClock) -> Recorder {
    Recorder::builder(sink.arc(), "example.com/widgets")
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("valid reporter")
}

fn widget() -> ObjectRef {
    ObjectRef::new("example.com/v1", "Widget", "w1").within("shop")
}

#[tokio::test]
async fn a_flood_of_ten_thousand_is_three_writes() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    let web0 = pod("web-0");
    let backoff =
        Event::warning("BackOff", "Starting").note("Back-off restarting failed container");

    for _ in 0..10_000 {
        recorder.publish(&backoff, &web0).await.unwrap();
        clock.advance(Duration::from_millis(12));
    }
    recorder.flush().await;

    let kinds: Vec<WriteKind> = sink.writes().iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds,
        [
            WriteKind::Create,
            WriteKind::PatchSeries,
            WriteKind::PatchSeries
        ]
    );
    assert_eq!(sink.writes()[1].record.count(), 2);
    sink.assert_series_count(expect::warning("BackOff").regarding(&web0), 10_000);
    assert_eq!(recorder.stats().writes(), 3);
    assert_eq!(recorder.stats().published, 10_000);

    // 10,000 occurrences 12 ms apart: first at 0, last at 119.988 s; now is 120 s.
    assert_eq!(
        sink.describe(&web0),
        "Events:
  Type     Reason   Age                  From                 Message
  ----     ------   ----                 ----                 -------
  Warning  BackOff  0s (x10000 over 2m)  example.com/widgets  Back-off restarting failed container
"
    );
}

#[tokio::test]
async fn flush_interval_driven_by_the_manual_clock() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    let failed = Event::warning("ReconcileFailed", "Reconciling");

    for _ in 0..5 {
        recorder.publish(&failed, &widget()).await.unwrap();
    }
    // Created, then patched with count 2; 3 more only counted.
    assert_eq!((sink.creates(), sink.patches()), (1, 1));
    sink.assert_series_count(expect::warning("ReconcileFailed"), 2);

    clock.advance(DEFAULT_SERIES_FLUSH_INTERVAL);
    recorder.flush().await;
    sink.assert_series_count(expect::warning("ReconcileFailed"), 5);
    assert_eq!(sink.patches(), 2);

    // Nothing dirty: a second flush writes nothing.
    recorder.flush().await;
    assert_eq!(sink.writes().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn background_task_flushes_under_paused_tokio_time() {
    let clock = TokioClock::default();
    let sink = MemorySink::with_clock(clock);
    let recorder = Recorder::builder(sink.arc(), "example.com/widgets")
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let web0 = pod("web-0");
    let backoff = Event::warning("BackOff", "Starting");

    for _ in 0..10 {
        recorder.publish(&backoff, &web0).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // 10 s after the first patch at most one more patch is due.
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!((sink.creates(), sink.patches()), (1, 2));
    sink.assert_series_count(expect::warning("BackOff"), 10);
    assert!(
        sink.describe(&web0).contains("31s (x10 over 40s)"),
        "{}",
        sink.describe(&web0)
    );
}

#[tokio::test]
async fn distinct_objects_and_reasons_are_distinct_events() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    for name in ["web-0", "web-1"] {
        recorder
            .publish(&Event::normal("Started", "Starting"), &pod(name))
            .await
            .unwrap();
        recorder
            .publish(&Event::warning("BackOff", "Starting"), &pod(name))
            .await
            .unwrap();
    }
    assert_eq!(sink.creates(), 4);
    assert_eq!(sink.for_object(&pod("web-1")).len(), 2);
    assert_eq!(sink.warnings().len(), 2);
    sink.assert_count(expect::any(), 4);
}

#[tokio::test]
async fn an_expired_event_is_created_again_with_its_series() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone()).event_ttl(Duration::from_secs(3600));
    let recorder = Recorder::builder(sink.arc(), "example.com/widgets")
        .clock(Arc::new(clock.clone()))
        .heartbeat(Duration::from_secs(4 * 3600))
        .series_ttl(Duration::from_secs(8 * 3600))
        .build()
        .unwrap();
    let backoff = Event::warning("BackOff", "Starting");
    let web0 = pod("web-0");
    recorder.publish(&backoff, &web0).await.unwrap();
    recorder.publish(&backoff, &web0).await.unwrap();
    clock.advance(Duration::from_secs(3600));
    assert!(sink.events().is_empty(), "the server's TTL removed it");

    recorder.publish(&backoff, &web0).await.unwrap();
    recorder.flush().await;

    let attempts = sink.attempts();
    let outcomes: Vec<(WriteKind, bool)> = attempts.iter().map(|w| (w.kind, w.is_ok())).collect();
    assert_eq!(
        outcomes,
        [
            (WriteKind::Create, true),
            (WriteKind::PatchSeries, true),
            (WriteKind::PatchSeries, false),
            (WriteKind::Create, true),
        ]
    );
    assert_eq!(attempts[2].result, Err(SinkError::NotFound));
    // Created again under the series' own name.
    assert_eq!(attempts[3].record.name, attempts[0].record.name);
    sink.assert_series_count(expect::warning("BackOff"), 3);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    sink.faults().fail_next(
        2,
        SinkError::Transient {
            message: "503".into(),
        },
    );
    let published = recorder
        .publish(&Event::normal("Synced", "Reconciling"), &widget())
        .await
        .unwrap();
    assert_eq!(published, Published::Created);
    assert_eq!(sink.faults().attempts(), 3);
    assert_eq!(sink.attempts().len(), 3);
    assert_eq!(sink.creates(), 1);
    assert_eq!(recorder.stats().retried, 2);
}

#[tokio::test(start_paused = true)]
async fn forbidden_is_not_retried() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    sink.faults().fail_next(
        5,
        SinkError::Forbidden {
            message: "no".into(),
        },
    );
    let result = recorder
        .publish(&Event::normal("Synced", "Reconciling"), &widget())
        .await;
    assert!(matches!(
        result,
        Err(event_core::Error::Sink(SinkError::Forbidden { .. }))
    ));
    assert_eq!(sink.faults().attempts(), 1);
    sink.assert_not_emitted(expect::any());
}

#[tokio::test(start_paused = true)]
async fn emit_never_waits_and_shutdown_reports_what_hung() {
    let clock = ManualClock::default();
    let memory = MemorySink::with_clock(clock.clone());
    let faulty = FaultySink::new(memory.clone());
    faulty.faults().never_answer_on(Target::All);
    let recorder = Recorder::builder(Arc::new(faulty.clone()), "example.com/widgets")
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    for i in 0..3 {
        recorder
            .emit(
                &Event::normal("Synced", "Reconciling"),
                &pod(&format!("web-{i}")),
            )
            .unwrap();
    }
    let report = recorder.shutdown(Duration::from_secs(5)).await;
    assert_eq!(report.unwritten.len(), 3);
    assert_eq!(faulty.faults().counts().hung, 3);
    assert!(memory.events().is_empty());
}

#[tokio::test(start_paused = true)]
async fn concurrent_first_publishes_create_once() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    sink.faults().latency(Duration::from_millis(50));
    let recorder = recorder_on(&sink, &clock);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let recorder = recorder.clone();
            tokio::spawn(async move {
                recorder
                    .publish(&Event::warning("BackOff", "Starting"), &pod("web-0"))
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    recorder.flush().await;
    assert_eq!(sink.creates(), 1);
    sink.assert_series_count(expect::warning("BackOff"), 16);
}

#[tokio::test]
async fn mock_sink_scripts_each_call() {
    let mut mock = MockEventSink::new();
    mock.expect_create()
        .times(1)
        .withf(|r| r.reason == "Synced" && r.regarding.name == "w1")
        .returning(|_| Ok(()));
    mock.expect_patch_series().never();
    let recorder = Recorder::builder(Arc::new(mock), "example.com/widgets")
        .build()
        .unwrap();
    recorder
        .publish(&Event::normal("Synced", "Reconciling"), &widget())
        .await
        .unwrap();
}

// The failure messages the `should_panic` examples in the docs describe.

#[tokio::test]
async fn documented_assert_emitted_message() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    let w = widget();
    recorder
        .publish(
            &Event::normal("Reconciled", "Reconciling").note("3 replicas"),
            &w,
        )
        .await
        .unwrap();
    clock.advance(Duration::from_secs(5));
    let message = panic_message(|| {
        sink.assert_emitted(expect::warning("ReconcileFailed").regarding(&w));
    });
    assert_eq!(
        message,
        "expected an event matching: a Warning event with reason \"ReconcileFailed\", regarding Widget shop/w1
but none of the 1 recorded events matches. Recorded events:
Widget shop/w1:
  Type    Reason      Age   From                 Message
  ----    ------      ----  ----                 -------
  Normal  Reconciled  5s    example.com/widgets  3 replicas
"
    );
}

#[tokio::test]
async fn documented_assert_not_emitted_message() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    let err = std::io::Error::other("quota exceeded");
    recorder
        .publish(
            &Event::from_error("ReconcileFailed", "Reconciling", &err),
            &widget(),
        )
        .await
        .unwrap();
    let message = panic_message(|| sink.assert_not_emitted(expect::warning("ReconcileFailed")));
    let table = "Widget shop/w1:
  Type     Reason           Age   From                 Message
  ----     ------           ----  ----                 -------
  Warning  ReconcileFailed  0s    example.com/widgets  quota exceeded
";
    assert_eq!(
        message,
        format!(
            "expected no event matching: a Warning event with reason \"ReconcileFailed\"
but 1 of the 1 recorded events matches:
{table}Recorded events:
{table}"
        )
    );
}

#[tokio::test]
async fn documented_count_messages() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let recorder = recorder_on(&sink, &clock);
    let synced = Event::normal("Synced", "Reconciling");
    recorder.publish(&synced, &widget()).await.unwrap();
    recorder.publish(&synced, &widget()).await.unwrap();
    let table = "Widget shop/w1:
  Type    Reason  Age              From                 Message
  ----    ------  ----             ----                 -------
  Normal  Synced  0s (x2 over 0s)  example.com/widgets\x20\x20
";
    let message = panic_message(|| sink.assert_count(expect::normal("Synced"), 3));
    assert_eq!(
        message,
        format!(
            "expected 3 occurrences of: a Normal event with reason \"Synced\"
but found 2 (in 1 matching event). Recorded events:
{table}"
        )
    );
    recorder.publish(&synced, &widget()).await.unwrap();
    let message = panic_message(|| sink.assert_series_count(expect::normal("Synced"), 3));
    assert_eq!(
        message,
        format!(
            "expected one event with count 3 matching: a Normal event with reason \"Synced\"
but the matching event has count 2. Recorded events:
{table}"
        )
    );
}
