//! The engine (`event_core::Recorder`) writing through `KubeSink` to an
//! in-process API: series, recovery from expired events and name clashes,
//! and which failures are retried.
#![allow(clippy::unwrap_used)] // test helpers

mod support;

use std::sync::Arc;
use std::time::Duration;

use event_core::config::DEFAULT_RETRY_ATTEMPTS;

use event_core::{Error, Event, ObjectRef, Published, Recorder};

use event_core::sink::SinkError;
use event_kube::KubeSink;
use http::Method;
use support::{Answer, MockApi, assert_node_event_in_default};
use tokio::time::Instant;

const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/shop/events";

fn recorder() -> (Recorder, MockApi) {
    let (client, api) = MockApi::client();
    let recorder = Recorder::builder(
        Arc::new(KubeSink::new(client)),
        event_core::Reporter::new("example.com/widgets").with_instance("widgets-0"),
    )
    .build()
    .unwrap();
    (recorder, api)
}

fn pod() -> ObjectRef {
    ObjectRef::new("v1", "Pod", "web-0")
        .within("shop")
        .with_uid("6c1b8f1e-0000-4000-8000-000000000001")
}

fn backoff() -> Event {
    Event::warning("BackOff", "Starting").note("container exited with 1")
}

fn name_of(body: &serde_json::Value) -> String {
    body["metadata"]["name"].as_str().unwrap().to_owned()
}

#[tokio::test(start_paused = true)]
async fn repeats_become_one_event_with_a_series() {
    let (recorder, api) = recorder();
    let pod = pod();
    assert_eq!(
        recorder.publish(&backoff(), &pod).await.unwrap(),
        Published::Created
    );
    assert_eq!(
        recorder.publish(&backoff(), &pod).await.unwrap(),
        Published::SeriesUpdated { count: 2 }
    );
    for count in 3..=10 {
        assert_eq!(
            recorder.publish(&backoff(), &pod).await.unwrap(),
            Published::Coalesced { count }
        );
    }
    recorder.flush().await;

    let seen = api.seen();
    assert_eq!(api.lines().len(), 3, "{:?}", api.lines());
    let name = name_of(&seen[0].body);
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(seen[0].path, EVENTS);
    assert!(seen[0].body.get("series").is_none());
    assert_eq!(seen[0].body["reportingInstance"], "widgets-0");
    for (request, count) in seen[1..].iter().zip([2, 10]) {
        assert_eq!(request.method, Method::PATCH);
        assert_eq!(request.path, format!("{EVENTS}/{name}"));
        assert_eq!(
            request.content_type.as_deref(),
            Some("application/merge-patch+json")
        );
        let series = request.body.as_object().unwrap();
        assert_eq!(series.len(), 1, "only the series is sent");
        assert_eq!(request.body["series"]["count"], count);
        assert_eq!(request.body["series"].as_object().unwrap().len(), 2);
    }
}

#[tokio::test(start_paused = true)]
async fn an_expired_event_is_created_again_with_its_series() {
    let (recorder, api) = recorder();
    let pod = pod();
    recorder.publish(&backoff(), &pod).await.unwrap();
    api.script([Answer::status(
        404,
        "NotFound",
        "events.events.k8s.io \"x\" not found",
    )]);
    recorder.publish(&backoff(), &pod).await.unwrap();

    let seen = api.seen();
    assert_eq!(
        api.lines(),
        [
            format!("POST {EVENTS}"),
            format!("PATCH {EVENTS}/{}", name_of(&seen[0].body)),
            format!("POST {EVENTS}"),
        ]
    );
    // The series' name is its own: the Event comes back under it.
    assert_eq!(name_of(&seen[2].body), name_of(&seen[0].body));
    assert_eq!(seen[2].body["series"]["count"], 2);
    assert_eq!(seen[2].body["eventTime"], seen[0].body["eventTime"]);
    assert_eq!(recorder.stats().failed, 0);
}

/// The Event the recorder would create for the first `backoff()` on
/// `pod()`, as the API server would store it.
async fn stored_backoff() -> serde_json::Value {
    let (recorder, api) = recorder();
    recorder.publish(&backoff(), &pod()).await.unwrap();
    api.seen()[0].body.clone()
}

#[tokio::test(start_paused = true)]
async fn a_name_clash_with_the_same_series_continues_its_count() {
    // An earlier life of this series (a restart, or an eviction) stored it
    // with count 5.
    let mut stored = stored_backoff().await;
    stored["eventTime"] = "2026-01-01T00:00:00.000000Z".into();
    stored["series"] =
        serde_json::json!({"count": 5, "lastObservedTime": "2026-01-01T00:01:00.000000Z"});
    let (recorder, api) = recorder();
    api.script([
        Answer::status(
            409,
            "AlreadyExists",
            "events.events.k8s.io \"x\" already exists",
        ),
        Answer::json(200, &stored),
    ]);
    assert_eq!(
        recorder.publish(&backoff(), &pod()).await.unwrap(),
        Published::SeriesUpdated { count: 6 }
    );
    let name = name_of(&stored);
    assert_eq!(
        api.lines(),
        [
            format!("POST {EVENTS}"),
            format!("GET {EVENTS}/{name}"),
            format!("PATCH {EVENTS}/{name}"),
        ]
    );
    assert_eq!(api.seen()[2].body["series"]["count"], 6);
    assert_eq!(recorder.stats().adopted, 1);
}

#[tokio::test(start_paused = true)]
async fn a_name_clash_with_another_series_is_renamed_and_posted_once_more() {
    let mut stored = stored_backoff().await;
    stored["reason"] = "SomethingElse".into();
    let (recorder, api) = recorder();
    api.script([
        Answer::status(
            409,
            "AlreadyExists",
            "events.events.k8s.io \"x\" already exists",
        ),
        Answer::json(200, &stored),
    ]);
    assert_eq!(
        recorder.publish(&backoff(), &pod()).await.unwrap(),
        Published::Created
    );
    let seen = api.seen();
    assert_eq!(
        api.lines(),
        [
            format!("POST {EVENTS}"),
            format!("GET {EVENTS}/{}", name_of(&stored)),
            format!("POST {EVENTS}"),
        ]
    );
    assert_ne!(name_of(&seen[0].body), name_of(&seen[2].body));
}

#[tokio::test(start_paused = true)]
async fn throttling_waits_for_retry_after() {
    let (recorder, api) = recorder();
    api.script([
        Answer::status(429, "TooManyRequests", "slow down").with_header("Retry-After", "1")
    ]);
    let started = Instant::now();
    assert_eq!(
        recorder.publish(&backoff(), &pod()).await.unwrap(),
        Published::Created
    );
    assert_eq!(started.elapsed(), Duration::from_secs(1));
    assert_eq!(api.seen().len(), 2);
    assert_eq!(recorder.stats().retried, 1);
}

#[tokio::test(start_paused = true)]
async fn unavailable_is_retried_a_bounded_number_of_times() {
    let (recorder, api) = recorder();
    api.script(std::iter::repeat_n(
        Answer::status(503, "ServiceUnavailable", "unavailable"),
        20,
    ));
    let err = recorder.publish(&backoff(), &pod()).await.unwrap_err();
    assert!(
        matches!(err, Error::Sink(SinkError::Transient { .. })),
        "{err:?}"
    );
    let attempts = usize::try_from(DEFAULT_RETRY_ATTEMPTS).unwrap();
    assert_eq!(api.seen().len(), attempts);
    let stats = recorder.stats();
    assert_eq!(
        (stats.retried, stats.failed),
        (u64::from(DEFAULT_RETRY_ATTEMPTS) - 1, 1)
    );
}

/// Two failed attempts with `answer`, then success: three requests, two
/// retries, one event created.
async fn created_after_two_failures(answer: Answer) {
    let (recorder, api) = recorder();
    api.script([answer.clone(), answer]);
    assert_eq!(
        recorder.publish(&backoff(), &pod()).await.unwrap(),
        Published::Created
    );
    assert_eq!(api.seen().len(), 3);
    let stats = recorder.stats();
    assert_eq!((stats.created, stats.retried, stats.failed), (1, 2, 0));
}

#[tokio::test(start_paused = true)]
async fn unavailable_then_success_is_written_once() {
    created_after_two_failures(Answer::status(503, "ServiceUnavailable", "unavailable")).await;
}

#[tokio::test(start_paused = true)]
async fn a_dropped_connection_is_retried() {
    created_after_two_failures(Answer::ConnectionReset).await;
}

#[tokio::test(start_paused = true)]
async fn invalid_is_not_retried() {
    let (recorder, api) = recorder();
    let message = "Event \"x\" is invalid: regarding.namespace: Invalid value";
    api.script([Answer::status(422, "Invalid", message)]);
    let err = recorder.publish(&backoff(), &pod()).await.unwrap_err();
    assert_eq!(
        err,
        Error::Sink(SinkError::Invalid {
            message: message.into()
        })
    );
    assert_eq!(api.seen().len(), 1);
    assert_eq!(recorder.stats().retried, 0);
}

#[tokio::test(start_paused = true)]
async fn forbidden_is_not_retried() {
    let (recorder, api) = recorder();
    api.script([Answer::status(
        403,
        "Forbidden",
        "events.events.k8s.io is forbidden",
    )]);
    let err = recorder.publish(&backoff(), &pod()).await.unwrap_err();
    let Error::Sink(SinkError::Forbidden { message }) = err else {
        panic!("not Forbidden: {err:?}")
    };
    assert!(message.contains("events.k8s.io") && message.contains("\"create\", \"patch\""));
    assert_eq!(api.seen().len(), 1);
    assert_eq!(recorder.stats().retried, 0);
}

#[tokio::test(start_paused = true)]
async fn a_node_event_goes_to_default_and_keeps_its_reference() {
    let (recorder, api) = recorder();
    let node = ObjectRef::new("v1", "Node", "worker-1").with_uid("node-uid-1");
    recorder
        .publish(&Event::normal("Rebooted", "Checking"), &node)
        .await
        .unwrap();
    assert_node_event_in_default(&api.seen());
}
