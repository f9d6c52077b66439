//! The order the API server checks a write in, and the metadata rules every
//! object passes: namespace lifecycle admission before validation, the
//! core/v1 field names in core/v1 errors, labels, annotations and names.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, Namespace};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, DeleteParams, PostParams};
use kube_apiserver_double::ApiServer;
use serde_json::{Value, json};
use support::{event, event_json, now_micro, status};

fn causes(s: &kube::core::Status) -> Vec<(String, String)> {
    s.details
        .as_ref()
        .map(|d| {
            d.causes
                .iter()
                .map(|c| (c.field.clone(), c.message.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// A core/v1 event that fails validation: it has an event time but no
/// reporting component, action or reason.
fn invalid_core_event(ns: &str) -> CoreEvent {
    serde_json::from_value(json!({
        "metadata": {"name": "web-0.1", "namespace": ns},
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": ns},
        "eventTime": now_micro(),
        "reportingInstance": "widgets-0",
        "type": "Normal",
        "message": "started",
    }))
    .unwrap()
}

#[tokio::test]
async fn a_missing_namespace_is_404_before_validation() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    let nowhere: Api<CoreEvent> = Api::namespaced(client.clone(), "nowhere");
    let s = status(
        nowhere
            .create(&PostParams::default(), &invalid_core_event("nowhere"))
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "namespaces \"nowhere\" not found");
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.kind.as_str()),
        ("nowhere", "namespaces")
    );

    // The same event in a namespace that exists fails validation.
    let default: Api<CoreEvent> = Api::namespaced(client, "default");
    let s = status(
        default
            .create(&PostParams::default(), &invalid_core_event("default"))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
}

#[tokio::test]
async fn core_v1_errors_name_the_reporting_component() {
    let server = ApiServer::start().await.unwrap();
    let default: Api<CoreEvent> = Api::namespaced(server.client().await.unwrap(), "default");
    let s = status(
        default
            .create(&PostParams::default(), &invalid_core_event("default"))
            .await
            .unwrap_err(),
    );
    let fields: Vec<String> = causes(&s).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        vec![
            "reportingComponent",
            "reportingComponent",
            "reportingComponent",
            "action",
            "reason"
        ]
    );
    assert!(
        s.message.starts_with(
            "Event \"web-0.1\" is invalid: [reportingComponent: Required value, reportingComponent: Invalid value: \"\": name part must be non-empty"
        ),
        "{}",
        s.message
    );

    // Through events.k8s.io/v1 the same field is `reportingController`.
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    let mut v = event_json("default", "e1", "web-0");
    v["reportingController"] = json!("");
    let s = status(
        events
            .create(&PostParams::default(), &event(v))
            .await
            .unwrap_err(),
    );
    assert_eq!(causes(&s)[0].0, "reportingController");
}

#[tokio::test]
async fn a_terminating_namespace_takes_no_new_objects() {
    let server = ApiServer::builder()
        .namespace_termination(std::time::Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    server.create_namespace("closing").unwrap();
    let client = server.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    // Only a deletion makes a namespace terminate: a status that says so
    // is refused.
    let mut ns = namespaces.get("closing").await.unwrap();
    ns.status = Some(serde_json::from_value(json!({"phase": "Terminating"})).unwrap());
    let refused = status(
        namespaces
            .replace_status("closing", &PostParams::default(), &ns)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        refused.message,
        "Namespace \"closing\" is invalid: status.phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"
    );
    namespaces
        .delete("closing", &DeleteParams::default())
        .await
        .unwrap();
    // Nor can an update make it active again.
    let mut ns = namespaces.get("closing").await.unwrap();
    ns.status = Some(serde_json::from_value(json!({"phase": "Active"})).unwrap());
    let kept = namespaces
        .replace_status("closing", &PostParams::default(), &ns)
        .await
        .unwrap();
    assert_eq!(
        kept.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    assert!(kept.metadata.deletion_timestamp.is_some());

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "closing");
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("settings".into());
    let s = status(cms.create(&PostParams::default(), &cm).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "configmaps \"settings\" is forbidden: unable to create new content in namespace closing because it is being terminated"
    );
    assert_eq!(
        causes(&s),
        vec![(
            "metadata.namespace".to_owned(),
            "namespace closing is being terminated".to_owned()
        )]
    );

    // The namespaces every cluster has cannot be deleted.
    let s = status(
        namespaces
            .delete("kube-system", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 403);
    assert_eq!(
        s.message,
        "namespaces \"kube-system\" is forbidden: this namespace may not be deleted"
    );
}

async fn create_configmap(server: &ApiServer, metadata: Value) -> Result<ConfigMap, kube::Error> {
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": metadata})).unwrap();
    cms.create(&PostParams::default(), &cm).await
}

#[tokio::test]
async fn labels_annotations_and_names_are_validated() {
    let server = ApiServer::start().await.unwrap();

    let s = status(
        create_configmap(
            &server,
            json!({"name": "a", "annotations": {"not a key": "v"}}),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    assert!(
        s.message.starts_with(
            "ConfigMap \"a\" is invalid: metadata.annotations: Invalid value: \"not a key\": name part must consist of alphanumeric characters"
        ),
        "{}",
        s.message
    );

    let s = status(
        create_configmap(&server, json!({"name": "b", "labels": {"bad key!": "v"}}))
            .await
            .unwrap_err(),
    );
    assert_eq!(causes(&s).len(), 1);
    assert_eq!(causes(&s)[0].0, "metadata.labels");

    let s = status(
        create_configmap(
            &server,
            json!({"name": "c", "labels": {"app": "no spaces"}}),
        )
        .await
        .unwrap_err(),
    );
    assert!(
        causes(&s)[0]
            .1
            .contains("a valid label must be an empty string")
    );

    // 256 KiB of annotations in all: one byte more is refused.
    let limit = 256 * 1024;
    let at_limit = json!({"name": "d", "annotations": {"k": "x".repeat(limit - 1)}});
    create_configmap(&server, at_limit).await.unwrap();
    let over = json!({"name": "e", "annotations": {"k": "x".repeat(limit)}});
    let s = status(create_configmap(&server, over).await.unwrap_err());
    assert_eq!(
        s.message,
        "ConfigMap \"e\" is invalid: metadata.annotations: Too long: must have at most 262144 bytes"
    );
    assert_eq!(s.details.unwrap().causes[0].reason, "FieldValueTooLong");

    // Annotation key prefixes are compared in lower case.
    let upper = json!({"name": "f", "annotations": {"Example.COM/Owner": "shop"}});
    create_configmap(&server, upper).await.unwrap();

    // A core/v1 event named `..` (its kind has no name rule of its own)
    // meets the rule every object's name must pass.
    let events: Api<CoreEvent> = Api::namespaced(server.client().await.unwrap(), "default");
    let dotdot: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "..", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default"},
        "reason": "Started",
        "message": "started",
    }))
    .unwrap();
    let s = status(
        events
            .create(&PostParams::default(), &dotdot)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "Event \"..\" is invalid: metadata.name: Invalid value: \"..\": may not be '..'"
    );
    assert!(server.events().is_empty());
}

/// kubectl shows the server's answers: 404 for the namespace before the
/// event's own problems, the core/v1 field names, the metadata rules.
#[tokio::test]
async fn kubectl_create_shows_the_same_answers() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    let create = |object: Value| {
        let text = serde_json::to_string(&object).unwrap();
        let kubeconfig = server.kubeconfig_path().to_path_buf();
        async move { support::kubectl_with(&kubeconfig, &["create", "-f", "-"], Some(&text)).await }
    };
    let mut invalid = serde_json::to_value(invalid_core_event("nowhere")).unwrap();
    invalid["apiVersion"] = json!("v1");
    invalid["kind"] = json!("Event");
    let (ok, _, err) = create(invalid.clone()).await;
    assert!(!ok);
    assert!(err.contains("namespaces \"nowhere\" not found"), "{err}");

    invalid["metadata"]["namespace"] = json!("default");
    let (ok, _, err) = create(invalid).await;
    assert!(!ok);
    // kubectl lists the causes one a line.
    assert!(err.contains("The Event \"web-0.1\" is invalid"), "{err}");
    assert!(
        err.contains("* reportingComponent: Required value"),
        "{err}"
    );
    assert!(!err.contains("reportingController"), "{err}");

    let cm = |name: &str, annotations: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default", "annotations": annotations}})
    };
    let (ok, _, err) = create(cm("a", json!({"not a key": "v"}))).await;
    assert!(!ok);
    assert!(
        err.contains(
            "ConfigMap \"a\" is invalid: metadata.annotations: Invalid value: \"not a key\""
        ),
        "{err}"
    );
    let (ok, _, err) = create(cm("b", json!({"k": "x".repeat(256 * 1024)}))).await;
    assert!(!ok);
    assert!(
        err.contains("metadata.annotations: Too long: must have at most 262144 bytes"),
        "{err}"
    );
    let (ok, out, err) = create(cm("c", json!({"Example.COM/owner": "shop"}))).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/c created");
}

/// A namespace being deleted, as a real server has it: the Recorder's
/// series patches still go through, a new Event is refused and counted as
/// dropped for the namespace, through both APIs.
#[tokio::test]
async fn a_recorder_in_a_namespace_being_deleted_patches_and_drops_new_events() {
    use std::sync::Arc;
    use std::time::Duration;

    use event_core::sink::EventSink;
    use event_core::{DropReason, Published, Recorder};

    let server = ApiServer::builder()
        .namespace_termination(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let client = server.client().await.unwrap();
    let sinks: [(&str, Arc<dyn EventSink>); 2] = [
        (
            "closing-a",
            Arc::new(event_kube::KubeSink::new(client.clone())),
        ),
        (
            "closing-b",
            Arc::new(event_kube::CoreV1Sink::new(client.clone())),
        ),
    ];
    for (ns, sink) in sinks {
        server.create_namespace(ns).unwrap();
        let rec = Recorder::builder(sink, "example.com/c").build().unwrap();
        let pod = event_core::ObjectRef::new("v1", "Pod", "web-0").within(ns);
        let backoff = event_core::Event::warning("BackOff", "Starting");
        assert_eq!(
            rec.publish(&backoff, &pod).await.unwrap(),
            Published::Created
        );
        Api::<Namespace>::all(client.clone())
            .delete(ns, &DeleteParams::default())
            .await
            .unwrap();
        assert_eq!(
            rec.publish(&backoff, &pod).await.unwrap(),
            Published::SeriesUpdated { count: 2 },
            "{ns}"
        );
        let new = event_core::Event::normal("Pulled", "Pulling");
        assert_eq!(
            rec.publish(&new, &pod).await.unwrap(),
            Published::Dropped(DropReason::NamespaceTerminating),
            "{ns}"
        );
        assert_eq!(rec.stats().dropped_namespace_terminating, 1, "{ns}");
        let stored: Vec<_> = server
            .events()
            .into_iter()
            .filter(|e| e.metadata.namespace.as_deref() == Some(ns))
            .collect();
        assert_eq!(stored.len(), 1, "{ns}");
        let count = stored[0].series.as_ref().map(|s| s.count);
        assert_eq!(count, Some(2), "{ns}");
    }
}
