//! `KubeSink::check_access` against an in-process API: the exact
//! SelfSubjectAccessReviews sent, and the report built from the answers.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use event_core::sink::SinkError;
use event_kube::{Access, KubeSink};
use http::Method;
use support::{Answer, MockApi};

const REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// The API server's answer to a review: the request echoed with a status.
fn answer(namespace: &str, verb: &str, allowed: bool, reason: &str) -> Answer {
    let mut status = serde_json::json!({ "allowed": allowed });
    if !reason.is_empty() {
        status["reason"] = reason.into();
    }
    Answer::json(
        201,
        &serde_json::json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": { "creationTimestamp": null },
            "spec": { "resourceAttributes": {
                "namespace": namespace, "verb": verb, "group": "events.k8s.io", "resource": "events",
            } },
            "status": status,
        }),
    )
}

#[tokio::test]
async fn each_namespace_and_verb_is_one_review_and_the_missing_ones_are_named() {
    let (client, api) = MockApi::client();
    let sink = KubeSink::new(client);
    let rbac =
        "RBAC: allowed by ClusterRoleBinding \"publisher\" of ClusterRole \"event-publisher\"";
    api.script([
        answer("shop", "create", true, rbac),
        answer("shop", "patch", true, rbac),
        answer("shop", "get", true, rbac),
        answer("default", "create", true, rbac),
        answer("default", "patch", false, ""),
        answer("default", "get", false, ""),
    ]);
    // A namespace named twice is checked once.
    let report = sink
        .check_access(["shop", "default", "shop"])
        .await
        .unwrap();

    let seen = api.seen();
    assert_eq!(seen.len(), 6);
    let mut asked = Vec::new();
    for request in &seen {
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.path, REVIEWS);
        assert_eq!(request.content_type.as_deref(), Some("application/json"));
        let attributes = &request.body["spec"]["resourceAttributes"];
        asked.push(format!("{} {}", attributes["namespace"], attributes["verb"]).replace('"', ""));
    }
    assert_eq!(
        seen[0].body,
        serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "metadata": {},
            "spec": { "resourceAttributes": {
                "namespace": "shop", "verb": "create", "group": "events.k8s.io", "resource": "events",
            } },
        })
    );
    assert_eq!(
        asked,
        [
            "shop create",
            "shop patch",
            "shop get",
            "default create",
            "default patch",
            "default get"
        ]
    );

    assert!(!report.is_allowed());
    assert_eq!(report.checks.len(), 6);
    assert_eq!(report.checks[0].reason.as_deref(), Some(rbac));
    let missing: Vec<&Access> = report.missing().collect();
    assert_eq!(
        missing,
        [
            &Access {
                namespace: "default".into(),
                verb: "patch",
                allowed: false,
                reason: None
            },
            &Access {
                namespace: "default".into(),
                verb: "get",
                allowed: false,
                reason: None
            },
        ]
    );
    let text = report.to_string();
    assert!(
        text.starts_with("missing RBAC for events.k8s.io events: \"patch\", \"get\" in namespace default; grant them"),
        "{text}"
    );
    assert!(
        text.contains(r#"verbs: ["create", "patch", "get"]"#),
        "{text}"
    );
}

#[tokio::test]
async fn all_allowed_and_a_review_that_fails() {
    let (client, api) = MockApi::client();
    let sink = KubeSink::new(client);
    api.script((0..3).map(|i| answer("shop", event_kube::EVENT_VERBS[i], true, "")));
    let report = sink.check_access(["shop"]).await.unwrap();
    assert!(report.is_allowed());
    assert_eq!(report.missing().count(), 0);
    assert_eq!(
        report.to_string(),
        "events.k8s.io events: create, patch and get allowed in shop"
    );

    // The review itself refused: an error, not a report.
    api.script([Answer::status(
        403,
        "Forbidden",
        "selfsubjectaccessreviews.authorization.k8s.io is forbidden",
    )]);
    let err = sink.check_access(["shop"]).await.unwrap_err();
    assert!(matches!(err, SinkError::Forbidden { .. }), "{err:?}");
    assert_eq!(api.seen().len(), 4);
}
