//! `MemorySink`: state, write log, queries and the API server's rules.

mod support;

use std::time::Duration;

use event_core::sink::{EventSink, SinkError};

use event_core::{EventType, ObjectRef};
use event_testing::{ManualClock, MemorySink, WriteKind, sample_record};
use support::{at, patch, pod, record, series};

fn sink_at_start() -> (ManualClock, MemorySink) {
    let clock = ManualClock::default();
    (clock.clone(), MemorySink::with_clock(clock))
}

#[tokio::test]
async fn create_then_patch_updates_the_current_event() {
    let (clock, sink) = sink_at_start();
    let first = record("web-0.a", EventType::Warning, "BackOff", &pod("web-0"), 0);
    sink.create(&first).await.unwrap();
    clock.advance(Duration::from_secs(10));
    patch(&sink, &series(first.clone(), 2, 10)).await.unwrap();
    clock.advance(Duration::from_secs(10));
    patch(&sink, &series(first.clone(), 7, 20)).await.unwrap();

    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].count(), 7);
    assert_eq!(events[0].last_seen(), at(20));
    assert_eq!(events[0].event_time, at(0));
    assert_eq!((sink.creates(), sink.patches()), (1, 2));

    let writes = sink.writes();
    let kinds: Vec<_> = writes.iter().map(|w| w.kind).collect();
    assert_eq!(
        kinds,
        [
            WriteKind::Create,
            WriteKind::PatchSeries,
            WriteKind::PatchSeries
        ]
    );
    let times: Vec<_> = writes.iter().map(|w| w.at).collect();
    assert_eq!(times, [at(0), at(10), at(20)]);
    assert_eq!(writes[0].patch_body(), None);
    assert_eq!(
        writes[2].patch_body().unwrap(),
        r#"{"series":{"count":7,"lastObservedTime":"2025-01-01T00:00:20.000000Z"}}"#
    );
}

#[tokio::test]
async fn a_patch_changes_only_the_series() {
    let sink = MemorySink::new();
    let first = record("web-0.a", EventType::Warning, "BackOff", &pod("web-0"), 0);
    sink.create(&first).await.unwrap();
    let mut changed = series(first.clone(), 2, 5);
    changed.reason = "Other".into();
    changed.note = Some("a new note".into());
    patch(&sink, &changed).await.unwrap();

    let now = sink.get("shop", "web-0.a").unwrap();
    assert_eq!(now.reason, "BackOff");
    assert_eq!(now.note, None);
    assert_eq!(now.count(), 2);
}

#[tokio::test]
async fn create_of_an_existing_name_is_refused() {
    let sink = MemorySink::new();
    let r = sample_record();
    sink.create(&r).await.unwrap();
    assert_eq!(sink.create(&r).await, Err(SinkError::AlreadyExists));
    // Same name in another namespace is another event.
    let mut elsewhere = r.clone();
    elsewhere.namespace = "other".into();
    elsewhere.regarding.namespace = Some("other".into());
    sink.create(&elsewhere).await.unwrap();

    assert_eq!(sink.events().len(), 2);
    assert_eq!(sink.creates(), 2);
    assert_eq!(sink.attempts().len(), 3);
    assert_eq!(sink.attempts()[1].result, Err(SinkError::AlreadyExists));
}

#[tokio::test]
async fn patch_of_a_missing_event_is_not_found() {
    let sink = MemorySink::new();
    let r = series(sample_record(), 2, 1);
    assert_eq!(patch(&sink, &r).await, Err(SinkError::NotFound));
    assert_eq!(sink.patches(), 0);
    assert_eq!(sink.attempts().len(), 1);
    assert!(sink.writes().is_empty());
}

#[tokio::test]
async fn patch_needs_a_series_of_at_least_two() {
    let sink = MemorySink::new();
    let r = sample_record();
    sink.create(&r).await.unwrap();
    let Err(SinkError::Invalid { message }) = patch(&sink, &series(r, 1, 0)).await else {
        panic!("expected Invalid");
    };
    assert_eq!(
        message,
        "series.count: Invalid value: 1: should be at least 2"
    );
}

#[tokio::test]
async fn invalid_records_are_refused_with_every_problem() {
    let sink = MemorySink::new();
    let mut r = sample_record();
    r.name = "Not_A_Name".into();
    r.reason = "R".repeat(129);
    r.action = String::new();
    r.note = Some("n".repeat(1025));
    r.reporting_controller = "no spaces allowed".into();
    r.reporting_instance = String::new();
    r.series = Some(event_core::sink::Series {
        count: 1,
        last_observed_time: at(0),
    });
    let Err(SinkError::Invalid { message }) = sink.create(&r).await else {
        panic!("expected Invalid");
    };
    let problems: Vec<&str> = message.split("; ").collect();
    assert_eq!(
        problems,
        [
            "reason: Too long: may not be more than 128 bytes (got 129)",
            "action: Required value",
            "reportingInstance: Required value",
            "note: Too long: may not be more than 1024 bytes (got 1025)",
            "metadata.name: Invalid value: \"Not_A_Name\": must be a DNS-1123 subdomain",
            "reportingController: Invalid value: \"no spaces allowed\": must be a qualified name",
            "series.count: Invalid value: 1: should be at least 2",
        ]
    );
    assert!(sink.events().is_empty());
}

#[tokio::test]
async fn namespace_rules_follow_the_api_server() {
    let sink = MemorySink::new();
    let node = ObjectRef::new("v1", "Node", "worker-1").with_uid("n-uid");

    let mut in_default = record("worker-1.a", EventType::Normal, "Ready", &node, 0);
    assert_eq!(in_default.namespace, "default");
    sink.create(&in_default).await.unwrap();
    in_default.name = "worker-1.b".into();
    in_default.namespace = "kube-system".into();
    sink.create(&in_default).await.unwrap();
    in_default.name = "worker-1.c".into();
    in_default.namespace = "shop".into();
    assert!(matches!(
        sink.create(&in_default).await,
        Err(SinkError::Invalid { message }) if message.contains("cluster-scoped")
    ));

    let mut mismatch = record("web-0.a", EventType::Normal, "Started", &pod("web-0"), 0);
    mismatch.namespace = "default".into();
    assert!(matches!(
        sink.create(&mismatch).await,
        Err(SinkError::Invalid { message }) if message.contains("does not match event.namespace")
    ));
    assert_eq!(sink.creates(), 2);
}

#[tokio::test]
async fn queries_select_current_events() {
    let sink = MemorySink::new();
    let web0 = pod("web-0").with_uid("u0").with_resource_version("10");
    let web1 = pod("web-1").with_uid("u1");
    for r in [
        record("a", EventType::Normal, "Started", &web0, 0),
        record("b", EventType::Warning, "BackOff", &web0, 1),
        record("c", EventType::Warning, "BackOff", &web1, 2),
        record("d", EventType::Normal, "Pulled", &web1, 3),
    ] {
        sink.create(&r).await.unwrap();
    }
    let names =
        |v: Vec<event_core::sink::EventRecord>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();

    assert_eq!(names(sink.events()), ["a", "b", "c", "d"]);
    assert_eq!(names(sink.warnings()), ["b", "c"]);
    assert_eq!(names(sink.with_reason("BackOff")), ["b", "c"]);
    // The resource version does not matter; the uid does.
    assert_eq!(
        names(sink.for_object(&web0.clone().with_resource_version("11"))),
        ["a", "b"]
    );
    assert!(sink.for_object(&pod("web-0").with_uid("other")).is_empty());
    assert_eq!(names(sink.for_object(&web1)), ["c", "d"]);
    assert_eq!(sink.get("shop", "c").unwrap().reason, "BackOff");
    assert!(sink.get("default", "c").is_none());
}

#[tokio::test]
async fn delete_and_reset() {
    let sink = MemorySink::new();
    let r = sample_record();
    sink.create(&r).await.unwrap();
    assert!(sink.delete("shop", &r.name));
    assert!(!sink.delete("shop", &r.name));
    assert_eq!(
        patch(&sink, &series(r.clone(), 2, 0)).await,
        Err(SinkError::NotFound)
    );
    // The name is free again.
    sink.create(&r).await.unwrap();
    assert_eq!(sink.events().len(), 1);

    let clone = sink.clone();
    clone.reset();
    assert!(sink.events().is_empty());
    assert!(sink.writes().is_empty());
    assert!(sink.attempts().is_empty());
    assert_eq!((sink.creates(), sink.patches()), (0, 0));
}

#[tokio::test]
async fn events_expire_after_the_ttl_since_their_last_write() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone()).event_ttl(Duration::from_secs(3600));
    let r = record("web-0.a", EventType::Warning, "BackOff", &pod("web-0"), 0);
    sink.create(&r).await.unwrap();

    clock.advance(Duration::from_secs(3599));
    patch(&sink, &series(r.clone(), 2, 3599)).await.unwrap();
    // The patch reset the TTL.
    clock.advance(Duration::from_secs(3599));
    assert_eq!(sink.events().len(), 1);
    clock.advance(Duration::from_secs(1));
    assert!(sink.events().is_empty());
    assert!(sink.get("shop", "web-0.a").is_none());
    assert_eq!(
        patch(&sink, &series(r.clone(), 3, 7198)).await,
        Err(SinkError::NotFound)
    );
    // The write log keeps what happened.
    assert_eq!(sink.writes().len(), 2);
    sink.create(&r).await.unwrap();
}

#[tokio::test]
async fn clones_share_state() {
    let a = MemorySink::new();
    let b = a.clone();
    let as_dyn = a.arc();
    as_dyn.create(&sample_record()).await.unwrap();
    assert_eq!(b.events().len(), 1);
    assert_eq!(b.creates(), 1);
    assert!(format!("{a:?}").starts_with("MemorySink { clock: SystemClock, events: 1, writes: 1"));
}
