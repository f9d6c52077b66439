//! The API double's tokens, permissions, fault injection and request log.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube_apiserver_double::{ApiServer, FaultAction, FaultRule, Permissions, RandomFaults};
use serde_json::json;
use support::{event, event_json, now_micro, raw_request, status};

#[tokio::test]
async fn token_without_patch_is_forbidden() {
    let server = ApiServer::builder()
        .token("limited", Permissions::all().deny("events", "patch"))
        .start()
        .await
        .unwrap();
    let limited: Api<Event> = Api::namespaced(
        server.client_with_token("limited").await.unwrap(),
        "default",
    );
    limited
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap();
    let series = json!({"series": {"count": 2, "lastObservedTime": now_micro()}});
    let s = status(
        limited
            .patch("x", &PatchParams::default(), &Patch::Merge(&series))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "events.events.k8s.io \"x\" is forbidden: User \"limited\" cannot patch resource \"events\" in API group \"events.k8s.io\" in the namespace \"default\""
    );
    let details = s.details.unwrap();
    assert_eq!(
        (
            details.name.as_str(),
            details.group.as_str(),
            details.kind.as_str()
        ),
        ("x", "events.k8s.io", "events")
    );
    // The event is untouched and the admin may still patch.
    assert!(server.event("default", "x").unwrap().series.is_none());
    let admin: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    admin
        .patch("x", &PatchParams::default(), &Patch::Merge(&series))
        .await
        .unwrap();
}

#[tokio::test]
async fn publisher_only_token_and_named_user() {
    let server = ApiServer::builder()
        .user_token(
            "sa-token",
            "system:serviceaccount:shop:widgets",
            Permissions::none().allow("events.events.k8s.io", "create"),
        )
        .start()
        .await
        .unwrap();
    let client = server.client_with_token("sa-token").await.unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap();
    let s = status(events.list(&ListParams::default()).await.unwrap_err());
    assert_eq!(
        s.message,
        "events.events.k8s.io is forbidden: User \"system:serviceaccount:shop:widgets\" cannot list resource \"events\" in API group \"events.k8s.io\" in the namespace \"default\""
    );
    let all: Api<ConfigMap> = Api::all(client);
    let s = status(all.list(&ListParams::default()).await.unwrap_err());
    assert!(
        s.message.ends_with(
            "cannot list resource \"configmaps\" in API group \"\" at the cluster scope"
        ),
        "{}",
        s.message
    );
}

#[tokio::test]
async fn requests_without_a_valid_token_are_401() {
    let server = ApiServer::builder().plain_http().start().await.unwrap();
    let (code, _, body) = raw_request(&server, "GET", "/api/v1/namespaces", None, None).await;
    assert_eq!(code, 401);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["reason"], "Unauthorized");
    assert_eq!(v["kind"], "Status");
    let (code, _, _) = raw_request(&server, "GET", "/api/v1/namespaces", Some("wrong"), None).await;
    assert_eq!(code, 401);
    let token = server.admin_token().to_owned();
    let (code, _, body) =
        raw_request(&server, "GET", "/api/v1/namespaces", Some(&token), None).await;
    assert_eq!(code, 200, "{body}");
    // The version endpoint is public, as on a real cluster.
    let (code, _, _) = raw_request(&server, "GET", "/version", None, None).await;
    assert_eq!(code, 200);
    assert_eq!(
        server
            .requests()
            .matching("GET", "/api/v1/namespaces")
            .iter()
            .filter(|r| r.user.is_none())
            .count(),
        2
    );
}

#[tokio::test]
async fn injected_statuses_retry_after_and_matching() {
    let server = ApiServer::builder().plain_http().start().await.unwrap();
    let token = server.admin_token().to_owned();
    server.faults().add(
        FaultRule::throttle(7)
            .method("GET")
            .path_prefix("/api/v1/pods"),
    );
    let (code, headers, body) =
        raw_request(&server, "GET", "/api/v1/namespaces", Some(&token), None).await;
    assert_eq!(code, 200, "a rule for another path does not fire: {body}");
    assert!(
        !headers.to_ascii_lowercase().contains("retry-after"),
        "{headers}"
    );
    let (code, headers2, body2) =
        raw_request(&server, "GET", "/api/v1/pods", Some(&token), None).await;
    assert_eq!(code, 429);
    assert!(
        headers2.to_ascii_lowercase().contains("retry-after: 7"),
        "{headers2}"
    );
    let v: serde_json::Value = serde_json::from_str(&body2).unwrap();
    assert_eq!(v["reason"], "TooManyRequests");
    assert_eq!(v["details"]["retryAfterSeconds"], 7);
    let (code, _, _) = raw_request(&server, "GET", "/api/v1/pods", Some(&token), None).await;
    assert_eq!(code, 200, "the rule fired once");
    assert_eq!(server.faults().injected(), 1);
    let pods = server.requests().matching("GET", "/api/v1/pods");
    assert_eq!(
        pods.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![Some(429), Some(200)]
    );
    assert!(pods[0].injected && !pods[1].injected);
}

#[tokio::test]
async fn kube_client_sees_500_and_retries_503_itself() {
    let server = ApiServer::start().await.unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    let post = "/apis/events.k8s.io/v1/namespaces/default/events";
    server.faults().add(FaultRule::status(500).method("POST"));
    let s = status(
        events
            .create(
                &PostParams::default(),
                &event(event_json("default", "x", "web-0")),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 500);
    assert!(server.events().is_empty());
    // kube's client retries 503 on its own: two requests, one success.
    server.faults().add(FaultRule::status(503).method("POST"));
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap();
    let statuses: Vec<Option<u16>> = server
        .requests()
        .matching("POST", post)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![Some(500), Some(503), Some(201)]);
    assert_eq!(server.events().len(), 1);
}

#[tokio::test]
async fn dropped_connections_are_transport_errors() {
    let server = ApiServer::start().await.unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    server
        .faults()
        .add(FaultRule::drop_connection().method("POST"));
    let err = events
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
    let posts = server.requests().matching("POST", "/apis/events.k8s.io/");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].status, None);
    assert!(posts[0].injected);
    assert_eq!(posts[0].body_json().unwrap()["metadata"]["name"], "x");
    // The next request gets through on a new connection.
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn dropped_responses_hide_a_write_that_happened() {
    let server = ApiServer::start().await.unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    server
        .faults()
        .add(FaultRule::drop_response().method("POST"));
    let e = event(event_json("default", "x", "web-0"));
    let err = events.create(&PostParams::default(), &e).await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
    assert_eq!(server.events().len(), 1, "the create was stored");
    let s = status(events.create(&PostParams::default(), &e).await.unwrap_err());
    assert_eq!(s.code, 409);
    let posts = server.requests().matching("POST", "/apis/events.k8s.io/");
    assert_eq!(
        posts
            .iter()
            .map(|r| (r.status, r.injected))
            .collect::<Vec<_>>(),
        vec![(Some(201), true), (Some(409), false)]
    );
    assert_eq!(server.requests().writes("/apis/events.k8s.io/"), 2);
}

#[tokio::test]
async fn latency_and_delay_rules_still_answer() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    server.faults().set_latency(Some(Duration::from_millis(5)));
    server
        .faults()
        .add(FaultRule::delay(Duration::from_millis(5)).times(2));
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    for _ in 0..3 {
        cms.list(&ListParams::default()).await.unwrap();
    }
    assert_eq!(server.faults().injected(), 2);
    assert!(
        server
            .requests()
            .all()
            .iter()
            .all(|r| r.status == Some(200))
    );
}

#[tokio::test]
async fn random_faults_are_reproducible() {
    async fn run(seed: u64) -> Vec<Option<u16>> {
        let server = ApiServer::builder().plain_http().start().await.unwrap();
        let token = server.admin_token().to_owned();
        server.faults().set_random(Some(
            RandomFaults::new(seed, 0.5)
                .actions(vec![
                    FaultAction::Status {
                        code: 500,
                        retry_after: None,
                    },
                    FaultAction::Status {
                        code: 503,
                        retry_after: None,
                    },
                ])
                .path_prefix("/api/v1/"),
        ));
        for _ in 0..40 {
            raw_request(&server, "GET", "/api/v1/nodes", Some(&token), None).await;
        }
        raw_request(&server, "GET", "/api", Some(&token), None).await;
        server.requests().all().iter().map(|r| r.status).collect()
    }
    let a = run(11).await;
    assert_eq!(a, run(11).await);
    assert_ne!(a, run(12).await);
    let failed = a.iter().filter(|s| matches!(s, Some(500 | 503))).count();
    assert!((8..=32).contains(&failed), "{failed} of 40");
    assert_eq!(
        a.last(),
        Some(&Some(200)),
        "paths outside the prefix are never faulted"
    );
}

#[tokio::test]
async fn request_log_keeps_method_path_query_and_body() {
    let server = ApiServer::start().await.unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap();
    let series = json!({"series": {"count": 2, "lastObservedTime": now_micro()}});
    events
        .patch("x", &PatchParams::default(), &Patch::Merge(&series))
        .await
        .unwrap();
    events
        .list(&ListParams::default().fields("regarding.name=web-0"))
        .await
        .unwrap();
    let log = server.requests();
    let patch = &log.matching(
        "PATCH",
        "/apis/events.k8s.io/v1/namespaces/default/events/x",
    )[0];
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(patch.body_json().unwrap(), series);
    assert_eq!(patch.user.as_deref(), Some("admin"));
    let list = &log.matching("GET", "/apis/events.k8s.io/v1/namespaces/default/events")[0];
    assert_eq!(
        list.query_param("fieldSelector").as_deref(),
        Some("regarding.name=web-0")
    );
    assert_eq!(log.count("", "/apis/events.k8s.io/"), 3);
    assert_eq!(log.total(), 3);
    log.clear();
    assert!(log.is_empty());
}
