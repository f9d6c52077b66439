//! The testing crate with a Recorder, as a controller's tests use it: its
//! clocks driving the engine, its mock, and the messages its assertions
//! print. The engine's own behaviour is tested once, in event-core's tests.

mod support;

use std::sync::Arc;
use std::time::Duration;

use event_core::config::DEFAULT_SERIES_FLUSH_INTERVAL;

use event_core::{Event, ObjectRef, Recorder};
use event_testing::{ManualClock, MemorySink, MockEventSink, TokioClock, expect};
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
