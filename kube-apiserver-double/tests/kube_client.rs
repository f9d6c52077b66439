//! The API double through `kube::Client`: events through both API versions,
//! validation, conflicts, immutability, TTL.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube_apiserver_double::ApiServer;
use serde_json::json;
use support::{create_raw, event, event_json, now_micro, status};

#[tokio::test]
async fn event_created_through_events_v1_reads_back_through_core_v1() {
    let server = ApiServer::start().await.unwrap();
    let pod = server.create_pod("shop", "web-0").unwrap();
    let client = server.client().await.unwrap();

    let mut v = event_json("shop", "web-0.1", "web-0");
    v["regarding"]["uid"] = json!(pod.metadata.uid.clone().unwrap());
    let events: Api<Event> = Api::namespaced(client.clone(), "shop");
    let created = events
        .create(&PostParams::default(), &event(v))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    assert_ne!(created.metadata.uid.as_deref(), Some("web-0.1"));
    assert!(created.metadata.resource_version.is_some());
    assert!(created.metadata.creation_timestamp.is_some());

    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "shop");
    let got = core.get("web-0.1").await.unwrap();
    assert_eq!(got.involved_object.name.as_deref(), Some("web-0"));
    assert_eq!(got.involved_object.uid, pod.metadata.uid);
    assert_eq!(got.message.as_deref(), Some("started container app"));
    assert_eq!(
        got.reporting_component.as_deref(),
        Some("example.com/widgets")
    );
    assert_eq!(got.reporting_instance.as_deref(), Some("widgets-0"));
    assert_eq!(got.type_.as_deref(), Some("Normal"));
    assert!(got.count.is_none(), "a v1 event has no deprecated count");
    assert!(got.first_timestamp.is_none());
    assert!(got.event_time.is_some());

    // The field selector kubectl describe uses.
    let uid = pod.metadata.uid.unwrap();
    let lp = ListParams::default().fields(&format!(
        "involvedObject.name=web-0,involvedObject.namespace=shop,involvedObject.uid={uid}"
    ));
    assert_eq!(core.list(&lp).await.unwrap().items.len(), 1);
    let lp = ListParams::default().fields("involvedObject.uid=someone-else");
    assert_eq!(core.list(&lp).await.unwrap().items.len(), 0);
    let all: Api<CoreEvent> = Api::all(client.clone());
    let lp = ListParams::default().fields("reason=Started,type!=Warning");
    assert_eq!(all.list(&lp).await.unwrap().items.len(), 1);

    // events.k8s.io list with its own field names, and across namespaces.
    let lp = ListParams::default().fields("regarding.name=web-0");
    assert_eq!(events.list(&lp).await.unwrap().items.len(), 1);
    let all_v1: Api<Event> = Api::all(client);
    assert_eq!(
        all_v1
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    assert_eq!(server.events().len(), 1);
    assert_eq!(
        server
            .requests()
            .count("POST", "/apis/events.k8s.io/v1/namespaces/shop/events"),
        1
    );
}

#[tokio::test]
async fn series_patch_keeps_everything_else() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "e1", "web-0")),
        )
        .await
        .unwrap();

    let series = json!({"series": {"count": 2, "lastObservedTime": now_micro()}});
    let patched = events
        .patch("e1", &PatchParams::default(), &Patch::Merge(&series))
        .await
        .unwrap();
    assert_eq!(patched.series.as_ref().map(|s| s.count), Some(2));
    assert_eq!(patched.note.as_deref(), Some("started container app"));

    let series = json!({"series": {"count": 3, "lastObservedTime": now_micro()}});
    events
        .patch("e1", &PatchParams::default(), &Patch::Strategic(&series))
        .await
        .unwrap();
    let core: Api<CoreEvent> = Api::namespaced(client, "default");
    let got = core.get("e1").await.unwrap();
    assert_eq!(got.series.and_then(|s| s.count), Some(3));
}

#[tokio::test]
async fn validation_answers_422_with_field_paths() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    let events: Api<Event> = Api::namespaced(client, "default");

    let mut v = event_json("default", "e1", "web-0");
    v["reason"] = json!("R".repeat(129));
    v["note"] = json!("é".repeat(513)); // 1026 bytes, 513 characters
    v["reportingController"] = json!("not a qualified name");
    v["type"] = json!("Error");
    let s = status(
        events
            .create(&PostParams::default(), &event(v))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    assert_eq!(s.reason, "Invalid");
    assert!(
        s.message.starts_with("Event \"e1\" is invalid: ["),
        "{}",
        s.message
    );
    let details = s.details.unwrap();
    assert_eq!(details.kind, "Event");
    // As a real server has it: one kind inside, of the core group.
    assert_eq!(details.group, "");
    let fields: Vec<String> = details.causes.iter().map(|c| c.field.clone()).collect();
    assert_eq!(fields, ["reportingController", "reason", "message", "type"]);
    assert!(
        details
            .causes
            .iter()
            .all(|c| c.reason == "FieldValueInvalid")
    );
    assert_eq!(
        details.causes[1].message,
        "Invalid value: \"\": can have at most 128 characters"
    );

    // Missing required fields and a series of one.
    let v = json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "e2", "namespace": "default"},
        "regarding": {"kind": "Node", "name": "n1"},
        "series": {"count": 1},
    });
    let s = status(
        create_raw(server.client().await.unwrap(), "default", v)
            .await
            .unwrap_err(),
    );
    let fields: Vec<(String, String)> = s
        .details
        .unwrap()
        .causes
        .iter()
        .map(|c| (c.field.clone(), c.reason.clone()))
        .collect();
    let want = [
        ("series.count", "FieldValueInvalid"),
        ("series.lastObservedTime", "FieldValueRequired"),
        ("eventTime", "FieldValueRequired"),
        ("type", "FieldValueInvalid"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    assert_eq!(fields, want);

    // Cluster-scoped regarding object outside default/kube-system.
    let server_ns = server.create_namespace("shop").unwrap();
    assert_eq!(server_ns.metadata.name.as_deref(), Some("shop"));
    let mut v = event_json("shop", "e3", "n1");
    v["regarding"] = json!({"apiVersion": "v1", "kind": "Node", "name": "n1"});
    let shop: Api<Event> = Api::namespaced(server.client().await.unwrap(), "shop");
    let s = status(
        shop.create(&PostParams::default(), &event(v))
            .await
            .unwrap_err(),
    );
    let causes = s.details.unwrap().causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, "involvedObject.namespace");
    assert_eq!(
        causes[0].message,
        "Invalid value: \"\": does not match event.namespace"
    );

    // Deprecated fields must be unset, and the name must be a DNS subdomain.
    let mut v = event_json("default", "Bad_Name", "web-0");
    v["deprecatedCount"] = json!(5);
    v["deprecatedSource"] = json!({"component": "kubelet"});
    v["deprecatedFirstTimestamp"] = json!("2025-01-01T00:00:00Z");
    let s = status(
        events
            .create(&PostParams::default(), &event(v))
            .await
            .unwrap_err(),
    );
    let fields: Vec<String> = s
        .details
        .unwrap()
        .causes
        .iter()
        .map(|c| c.field.clone())
        .collect();
    assert_eq!(
        fields,
        ["metadata.name", "firstTimestamp", "count", "source"]
    );
    assert!(server.events().is_empty());
}

#[tokio::test]
async fn conflicts_missing_objects_and_immutability() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    let events: Api<Event> = Api::namespaced(client, "default");
    let v = event_json("default", "e1", "web-0");
    events
        .create(&PostParams::default(), &event(v.clone()))
        .await
        .unwrap();

    let s = status(
        events
            .create(&PostParams::default(), &event(v))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(s.message, "events.events.k8s.io \"e1\" already exists");

    let series = json!({"series": {"count": 2, "lastObservedTime": now_micro()}});
    let s = status(
        events
            .patch("nope", &PatchParams::default(), &Patch::Merge(&series))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "events.events.k8s.io \"nope\" not found");

    let change =
        json!({"note": "something else", "series": {"count": 2, "lastObservedTime": now_micro()}});
    let s = status(
        events
            .patch("e1", &PatchParams::default(), &Patch::Merge(&change))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    let causes = s.details.unwrap().causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].field, "message");
    assert_eq!(
        causes[0].message,
        "Invalid value: \"something else\": field is immutable"
    );

    let change = json!({"eventTime": "2025-01-01T00:00:01.000000Z"});
    let s = status(
        events
            .patch("e1", &PatchParams::default(), &Patch::Merge(&change))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.details.unwrap().causes[0].field, "eventTime");
    // Nanoseconds below the microsecond are not a change.
    let same = json!({"eventTime": "2025-01-01T00:00:00.000000900Z"});
    events
        .patch("e1", &PatchParams::default(), &Patch::Merge(&same))
        .await
        .unwrap();

    // Metadata may change.
    let labels = json!({"metadata": {"labels": {"team": "a"}}});
    let e = events
        .patch("e1", &PatchParams::default(), &Patch::Merge(&labels))
        .await
        .unwrap();
    assert_eq!(e.metadata.labels.unwrap()["team"], "a");

    events.delete("e1", &DeleteParams::default()).await.unwrap();
    let s = status(
        events
            .delete("e1", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 404);
    assert!(server.events().is_empty());
}

#[tokio::test]
async fn missing_namespace_is_404() {
    let server = ApiServer::start().await.unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "nowhere");
    let s = status(
        events
            .create(
                &PostParams::default(),
                &event(event_json("nowhere", "e1", "p")),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 404);
    assert_eq!(s.message, "namespaces \"nowhere\" not found");
}

#[tokio::test]
async fn kube_runtime_recorder_repeats_become_a_series() {
    use kube::runtime::events::{Event as KubeEvent, EventType, Recorder, Reporter};
    let server = ApiServer::start().await.unwrap();
    let pod = server.create_pod("shop", "web-0").unwrap();
    let reporter = Reporter {
        controller: "example.com/widgets".into(),
        instance: Some("widgets-0".into()),
    };
    let recorder = Recorder::new(server.client().await.unwrap(), reporter);
    let reference = k8s_openapi::api::core::v1::ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some("web-0".into()),
        namespace: Some("shop".into()),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    };
    let ev = KubeEvent {
        type_: EventType::Warning,
        reason: "BackOff".into(),
        note: Some("restarting".into()),
        action: "Restarting".into(),
        secondary: None,
    };
    for _ in 0..3 {
        recorder.publish(&ev, &reference).await.unwrap();
    }
    let stored = server.events();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].series.as_ref().map(|s| s.count), Some(3));
    assert_eq!(server.requests().writes("/apis/events.k8s.io/"), 3);
}

#[tokio::test]
async fn dry_runs_validate_but_store_nothing() {
    let server = ApiServer::start().await.unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    let dry = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let answered = events
        .create(&dry, &event(event_json("default", "x", "web-0")))
        .await
        .unwrap();
    assert_eq!(answered.metadata.name.as_deref(), Some("x"));
    assert!(server.events().is_empty());
    let mut bad = event_json("default", "x", "web-0");
    bad["reason"] = json!("");
    let s = status(events.create(&dry, &event(bad)).await.unwrap_err());
    assert_eq!(s.code, 422);

    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "x", "web-0")),
        )
        .await
        .unwrap();
    let series = json!({"series": {"count": 2, "lastObservedTime": now_micro()}});
    let pp = PatchParams {
        dry_run: true,
        ..PatchParams::default()
    };
    let answered = events
        .patch("x", &pp, &Patch::Merge(&series))
        .await
        .unwrap();
    assert_eq!(answered.series.map(|s| s.count), Some(2));
    assert!(server.event("default", "x").unwrap().series.is_none());
    let dp = DeleteParams {
        dry_run: true,
        ..DeleteParams::default()
    };
    events.delete("x", &dp).await.unwrap();
    assert_eq!(server.events().len(), 1);
}
