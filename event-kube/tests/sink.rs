//! `KubeSink` against an in-process API: the exact requests, and how answers
//! are classified. One request per call, always.

mod support;

use std::time::Duration;

use event_core::sink::{EventSink, SinkError};

use event_core::ObjectRef;
use event_kube::KubeSink;
use http::Method;
use support::{Answer, MockApi, assert_node_event_in_default, patch, pod_record, with_series};

const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/shop/events";

fn sink() -> (KubeSink, MockApi) {
    let (client, api) = MockApi::client();
    (KubeSink::new(client), api)
}

#[tokio::test]
async fn create_posts_the_whole_event() {
    let (sink, api) = sink();
    sink.create(&pod_record()).await.unwrap();

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, EVENTS);
    assert_eq!(request.query.as_deref().unwrap_or(""), "");
    assert_eq!(request.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        request.body,
        serde_json::json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {
                "name": "web-0.17a1b2c3d4e5f6a7-x1y2z",
                "namespace": "shop",
                "annotations": { "example.com/attempt": "3" },
            },
            "eventTime": "2023-11-14T22:13:20.123456Z",
            "regarding": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": "web-0",
                "namespace": "shop",
                "uid": "6c1b8f1e-0000-4000-8000-000000000001",
                "resourceVersion": "42",
            },
            "related": { "apiVersion": "v1", "kind": "Node", "name": "worker-1" },
            "reason": "BackOff",
            "action": "Starting",
            "note": "container exited with 1",
            "type": "Warning",
            "reportingController": "example.com/widgets",
            "reportingInstance": "widgets-0",
        })
    );
    let object = request.body.as_object().unwrap();
    assert!(!object.contains_key("series"));
    assert!(!object.keys().any(|k| k.starts_with("deprecated")));
}

#[tokio::test]
async fn create_of_a_recreated_series_sends_the_series() {
    let (sink, api) = sink();
    sink.create(&with_series(pod_record(), 7)).await.unwrap();
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].body["series"],
        serde_json::json!({ "count": 7, "lastObservedTime": "2023-11-14T22:14:20.000001Z" })
    );
}

#[tokio::test]
async fn patch_sends_only_the_series_as_a_merge_patch() {
    let (sink, api) = sink();
    patch(&sink, &with_series(pod_record(), 2)).await.unwrap();

    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(request.method, Method::PATCH);
    assert_eq!(
        request.path,
        format!("{EVENTS}/web-0.17a1b2c3d4e5f6a7-x1y2z")
    );
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        std::str::from_utf8(&request.raw_body).unwrap(),
        r#"{"series":{"count":2,"lastObservedTime":"2023-11-14T22:14:20.000001Z"}}"#
    );
}

#[tokio::test]
async fn cluster_scoped_objects_keep_an_empty_regarding_namespace() {
    let (sink, api) = sink();
    let mut record = pod_record();
    record.namespace = "default".into();
    record.regarding = ObjectRef::new("v1", "Node", "worker-1").with_uid("node-uid-1");
    record.related = None;
    sink.create(&record).await.unwrap();

    let seen = api.seen();
    assert_node_event_in_default(&seen);
    assert!(seen[0].body.get("related").is_none());
}

/// Runs one create and one patch against the same scripted answer.
#[allow(clippy::unwrap_used)]
async fn both_writes(answer: Answer) -> (SinkError, SinkError) {
    let (sink, api) = sink();
    api.script([answer.clone(), answer]);
    let create = sink.create(&pod_record()).await.unwrap_err();
    let patch = patch(&sink, &with_series(pod_record(), 2))
        .await
        .unwrap_err();
    assert_eq!(api.seen().len(), 2, "one request per call");
    (create, patch)
}

#[tokio::test]
async fn not_found_on_patch() {
    let (sink, api) = sink();
    api.script([Answer::status(
        404,
        "NotFound",
        "events.events.k8s.io \"web-0.17a1b2c3d4e5f6a7-x1y2z\" not found",
    )]);
    let err = patch(&sink, &with_series(pod_record(), 2))
        .await
        .unwrap_err();
    assert_eq!(err, SinkError::NotFound);
    assert_eq!(api.seen().len(), 1);
}

#[tokio::test]
async fn already_exists_on_create() {
    let (sink, api) = sink();
    api.script([Answer::status(
        409,
        "AlreadyExists",
        "events.events.k8s.io \"web-0.17a1b2c3d4e5f6a7-x1y2z\" already exists",
    )]);
    assert_eq!(
        sink.create(&pod_record()).await.unwrap_err(),
        SinkError::AlreadyExists
    );
    assert_eq!(api.seen().len(), 1);
}

#[tokio::test]
async fn invalid_carries_the_servers_message() {
    let message = "Event \"x\" is invalid: reason: Too long: may not be more than 128 bytes";
    let (create, patch) = both_writes(Answer::status(422, "Invalid", message)).await;
    for err in [create, patch] {
        assert_eq!(
            err,
            SinkError::Invalid {
                message: message.into()
            }
        );
    }
}

#[tokio::test]
async fn forbidden_names_the_rbac_rule() {
    let message = "events.events.k8s.io is forbidden: User \"system:serviceaccount:shop:widgets\" cannot create resource \"events\" in API group \"events.k8s.io\" in the namespace \"shop\"";
    let (create, patch) = both_writes(Answer::status(403, "Forbidden", message)).await;
    for err in [create, patch] {
        let SinkError::Forbidden { message: text } = err else {
            panic!("not Forbidden: {err:?}")
        };
        assert!(text.starts_with(message));
        for word in ["events.k8s.io", "\"events\"", "\"create\"", "\"patch\""] {
            assert!(text.contains(word), "{word} missing from {text}");
        }
    }
}

#[tokio::test]
async fn unauthorized_is_forbidden() {
    let (create, patch) = both_writes(Answer::status(401, "Unauthorized", "Unauthorized")).await;
    for err in [create, patch] {
        assert!(matches!(err, SinkError::Forbidden { .. }), "{err:?}");
    }
}

#[tokio::test]
async fn throttled_with_retry_after() {
    let answer =
        Answer::status(429, "TooManyRequests", "too many requests").with_header("Retry-After", "1");
    let (create, patch) = both_writes(answer).await;
    for err in [create, patch] {
        assert_eq!(
            err,
            SinkError::Throttled {
                retry_after: Some(Duration::from_secs(1))
            }
        );
    }
}

#[tokio::test]
async fn service_unavailable_is_transient() {
    let (create, patch) = both_writes(Answer::status(
        503,
        "ServiceUnavailable",
        "the server is currently unable to handle the request",
    ))
    .await;
    for err in [create, patch] {
        assert_eq!(
            err,
            SinkError::Transient {
                message: "HTTP 503: the server is currently unable to handle the request".into()
            }
        );
    }
}

#[tokio::test]
async fn other_statuses_are_fatal() {
    let (create, patch) = both_writes(Answer::status(
        400,
        "BadRequest",
        "the namespace of the object does not match",
    ))
    .await;
    for err in [create, patch] {
        assert_eq!(
            err,
            SinkError::Fatal {
                message: "HTTP 400: the namespace of the object does not match".into()
            }
        );
    }
}

#[tokio::test]
async fn a_dropped_connection_is_transient() {
    let (create, patch) = both_writes(Answer::ConnectionReset).await;
    for err in [create, patch] {
        let SinkError::Transient { message } = err else {
            panic!("not Transient: {err:?}")
        };
        assert!(message.contains("connection reset by peer"), "{message}");
    }
}

#[tokio::test(start_paused = true)]
async fn no_answer_times_out_as_transient() {
    let (client, api) = MockApi::client();
    let sink = KubeSink::new(client).with_timeout(Duration::from_secs(3));
    api.script([Answer::Hang]);
    let started = tokio::time::Instant::now();
    let err = sink.create(&pod_record()).await.unwrap_err();
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(
        err,
        SinkError::Transient {
            message: "no answer from the API server within 3s".into()
        }
    );
    assert_eq!(api.seen().len(), 1);
}
