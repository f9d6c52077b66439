//! Expectations and assertions, including the exact failure messages.

mod support;

use std::time::Duration;

use event_core::sink::{EventRecord, EventSink};

use event_core::{EventType, ObjectRef};
use event_testing::{ManualClock, MemorySink, expect};
use support::{at, panic_message, patch, pod, record, series};

/// A sink at 10 s after the start holding: a Normal `Synced` on web-0, a
/// Warning `ReconcileFailed` series (x3) on web-0, a Warning `BackOff` on a
/// Node, related to web-0.
async fn populated() -> MemorySink {
    let clock = ManualClock::new(at(0));
    let sink = MemorySink::with_clock(clock.clone());
    let web0 = pod("web-0");
    let node = ObjectRef::new("v1", "Node", "worker-1");

    let mut synced = record("a", EventType::Normal, "Synced", &web0, 0);
    synced.note = Some("3 replicas ready".into());
    synced.action = "Reconciling".into();
    let mut failed = record("b", EventType::Warning, "ReconcileFailed", &web0, 0);
    failed.note = Some("connect timeout".into());
    failed.action = "Reconciling".into();
    failed
        .annotations
        .insert("example.com/attempt".into(), "3".into());
    let mut backoff = record("c", EventType::Warning, "BackOff", &node, 0);
    backoff.related = Some(web0.clone());
    backoff.reporting_controller = "kubelet".into();

    sink.create(&synced).await.expect("valid record");
    sink.create(&failed).await.expect("valid record");
    sink.create(&backoff).await.expect("valid record");
    clock.set(at(8));
    patch(&sink, &series(failed, 3, 8))
        .await
        .expect("existing event");
    clock.advance(Duration::from_secs(2));
    sink
}

const RECORDED: &str = "Pod shop/web-0:
  Type     Reason           Age               From                 Message
  ----     ------           ----              ----                 -------
  Normal   Synced           10s               example.com/widgets  3 replicas ready
  Warning  ReconcileFailed  2s (x3 over 10s)  example.com/widgets  connect timeout
Node worker-1:
  Type     Reason   Age   From     Message
  ----     ------   ----  ----     -------
  Warning  BackOff  10s   kubelet\x20\x20
";

#[tokio::test]
async fn every_condition_narrows() {
    let sink = populated().await;
    let web0 = pod("web-0");
    let matching = |e: event_testing::Expectation| -> Vec<String> {
        sink.matching(&e)
            .into_iter()
            .map(|r: EventRecord| r.name)
            .collect()
    };

    assert_eq!(matching(expect::any()), ["a", "b", "c"]);
    assert_eq!(matching(expect::warning("ReconcileFailed")), ["b"]);
    assert_eq!(
        matching(expect::normal("ReconcileFailed")),
        Vec::<String>::new()
    );
    assert_eq!(matching(expect::event("Synced")), ["a"]);
    assert_eq!(matching(expect::any().regarding(&web0)), ["a", "b"]);
    assert_eq!(
        matching(expect::any().regarding(&web0.clone().with_resource_version("99"))),
        ["a", "b"]
    );
    assert_eq!(matching(expect::any().related(&web0)), ["c"]);
    assert_eq!(matching(expect::any().no_related()), ["a", "b"]);
    assert_eq!(matching(expect::any().action("Reconciling")), ["a", "b"]);
    assert_eq!(matching(expect::any().note("connect timeout")), ["b"]);
    assert_eq!(
        matching(expect::any().note("connect")),
        Vec::<String>::new()
    );
    assert_eq!(matching(expect::any().no_note()), ["c"]);
    assert_eq!(matching(expect::any().note_contains("time")), ["b"]);
    assert_eq!(
        matching(
            expect::any()
                .note_contains("connect")
                .note_contains("ready")
        ),
        Vec::<String>::new()
    );
    assert_eq!(matching(expect::any().count(1)), ["a", "c"]);
    assert_eq!(matching(expect::any().count(3)), ["b"]);
    assert_eq!(matching(expect::any().series_count(3)), ["b"]);
    assert_eq!(
        matching(expect::any().series_count(1)),
        Vec::<String>::new()
    );
    assert_eq!(matching(expect::any().from("kubelet")), ["c"]);
    assert_eq!(
        matching(expect::any().annotation("example.com/attempt", "3")),
        ["b"]
    );
    assert_eq!(
        matching(expect::any().annotation("example.com/attempt", "4")),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn passing_assertions() {
    let sink = populated().await;
    let web0 = pod("web-0");
    let failed = expect::warning("ReconcileFailed")
        .regarding(&web0)
        .note_contains("timeout");
    assert_eq!(sink.assert_emitted(&failed).name, "b");
    sink.assert_emitted(failed.clone().count(3));
    sink.assert_not_emitted(expect::normal("ReconcileFailed"));
    sink.assert_count(expect::any().regarding(&web0), 4);
    sink.assert_count(expect::warning("ReconcileFailed"), 3);
    sink.assert_count(expect::event("Nothing"), 0);
    sink.assert_series_count(&failed, 3);
    sink.assert_series_count(expect::warning("BackOff"), 1);
}

#[tokio::test]
async fn assert_emitted_failure_prints_the_expectation_and_the_table() {
    let sink = populated().await;
    let message = panic_message(|| {
        sink.assert_emitted(expect::warning("ReconcileFailed").note_contains("refused"));
    });
    assert_eq!(
        message,
        format!(
            "expected an event matching: a Warning event with reason \"ReconcileFailed\", with a note containing \"refused\"\n\
             but none of the 3 recorded events matches. Recorded events:\n{RECORDED}"
        )
    );
}

#[test]
fn assert_emitted_on_an_empty_sink() {
    let sink = MemorySink::new();
    let message = panic_message(|| {
        sink.assert_emitted(expect::normal("Synced"));
    });
    assert_eq!(
        message,
        "expected an event matching: a Normal event with reason \"Synced\"\n\
         but none of the 0 recorded events matches. Recorded events:\nNo events recorded.\n"
    );
}

#[tokio::test]
async fn assert_not_emitted_failure_shows_the_matches() {
    let sink = populated().await;
    let message = panic_message(|| sink.assert_not_emitted(expect::any().from("kubelet")));
    assert_eq!(
        message,
        format!(
            "expected no event matching: an event from \"kubelet\"\n\
             but 1 of the 3 recorded events matches:\n\
             Node worker-1:\n\
             \x20 Type     Reason   Age   From     Message\n\
             \x20 ----     ------   ----  ----     -------\n\
             \x20 Warning  BackOff  10s   kubelet\x20\x20\n\
             Recorded events:\n{RECORDED}"
        )
    );
}

#[tokio::test]
async fn assert_count_failure() {
    let sink = populated().await;
    let message = panic_message(|| sink.assert_count(expect::warning("ReconcileFailed"), 4));
    assert_eq!(
        message,
        format!(
            "expected 4 occurrences of: a Warning event with reason \"ReconcileFailed\"\n\
             but found 3 (in 1 matching event). Recorded events:\n{RECORDED}"
        )
    );
    let message = panic_message(|| sink.assert_count(expect::any(), 1));
    assert!(
        message.contains("but found 5 (in 3 matching events)."),
        "{message}"
    );
}

#[tokio::test]
async fn assert_series_count_failures() {
    let sink = populated().await;
    let wrong = panic_message(|| sink.assert_series_count(expect::warning("ReconcileFailed"), 5));
    assert_eq!(
        wrong,
        format!(
            "expected one event with count 5 matching: a Warning event with reason \"ReconcileFailed\"\n\
             but the matching event has count 3. Recorded events:\n{RECORDED}"
        )
    );
    let none = panic_message(|| sink.assert_series_count(expect::normal("Nope"), 2));
    assert!(
        none.contains("\nbut no event matches. Recorded events:\n"),
        "{none}"
    );
    let many =
        panic_message(|| sink.assert_series_count(expect::any().regarding(&pod("web-0")), 2));
    assert!(
        many.contains("\nbut 2 events match. Recorded events:\n"),
        "{many}"
    );
}

#[test]
fn assertions_report_the_caller_location() {
    let sink = MemorySink::new();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let hook_seen = seen.clone();
    // The panic hook is process-wide and other tests panic on purpose in
    // parallel: keep only this thread's panic.
    let this_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == this_thread {
            *hook_seen.lock().unwrap() = info.location().map(|l| (l.file().to_owned(), l.line()));
        }
    }));
    let line = line!() + 2;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sink.assert_emitted(expect::normal("Synced"));
    }));
    std::panic::set_hook(previous);
    assert!(result.is_err());
    // #[track_caller]: the panic names the test's line, not the library's.
    let (file, at_line) = seen.lock().unwrap().clone().unwrap();
    assert!(file.ends_with("assertions.rs"), "{file}");
    assert_eq!(at_line, line);
}

#[test]
fn expectations_read_as_words() {
    let pod = pod("web-0");
    let node = ObjectRef::new("v1", "Node", "worker-1");
    let e = expect::warning("BackOff")
        .regarding(&pod)
        .related(&node)
        .action("Starting")
        .note("exit 1")
        .note_contains("exit")
        .count(2)
        .series_count(2)
        .from("kubelet")
        .annotation("k", "v");
    assert_eq!(
        e.to_string(),
        "a Warning event with reason \"BackOff\", regarding Pod shop/web-0, related to Node worker-1, \
         with action \"Starting\", with note \"exit 1\", with a note containing \"exit\", with count 2, \
         with series count 2, from \"kubelet\", with annotation \"k\"=\"v\""
    );
    assert_eq!(expect::any().to_string(), "an event");
    assert_eq!(
        expect::any().no_note().to_string(),
        "an event without a note"
    );
}
