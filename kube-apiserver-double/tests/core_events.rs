//! core/v1 Events against the double: the API server's rules for writes
//! through `/api/v1` (legacy checks only: `count`, `lastTimestamp` and the
//! message may change), a server that does not serve `events.k8s.io`,
//! `event_kube::CoreV1Sink` under the Recorder, and the automatic choice of
//! transport from discovery.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use std::sync::Arc;

use event_core::{Event, ObjectRef, Recorder, Reporter};

use event_core::sink::{EventSink, SinkError};
use event_kube::{ApiSink, CORE_RBAC_HINT, CoreV1Sink, KubeSink, Transport};
use k8s_openapi::api::core::v1::Event as CoreEvent;
use k8s_openapi::api::events::v1::Event as V1Event;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube_apiserver_double::{ApiServer, ApiServerBuilder, Permissions};
use serde_json::json;
use support::{event, event_json, status};

/// The server `builder` makes, with a namespace `shop`.
async fn with_shop(builder: ApiServerBuilder) -> ApiServer {
    let server = builder.start().await.unwrap();
    server.create_namespace("shop").unwrap();
    server
}

/// A core/v1 Event as a legacy client writes it (no eventTime).
fn legacy_event(name: &str) -> CoreEvent {
    serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": "shop"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "web-0", "namespace": "shop"},
        "reason": "BackOff",
        "message": "Back-off restarting failed container",
        "type": "Warning",
        "source": {"component": "kubelet", "host": "node-1"},
        "count": 1,
        "firstTimestamp": "2025-01-01T00:00:00Z",
        "lastTimestamp": "2025-01-01T00:00:00Z",
    }))
    .unwrap()
}

fn causes(s: &kube::core::Status) -> Vec<(String, String)> {
    s.details
        .iter()
        .flat_map(|d| d.causes.iter())
        .map(|c| (c.field.clone(), c.message.clone()))
        .collect()
}

#[tokio::test]
async fn core_v1_updates_may_change_the_legacy_fields_and_the_message() {
    let server = with_shop(ApiServer::builder()).await;
    let client = server.client().await.unwrap();
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "shop");
    core.create(&PostParams::default(), &legacy_event("web-0.1"))
        .await
        .unwrap();

    // What client-go's legacy recorder sends for a repeat: count,
    // lastTimestamp and message.
    let repeat = json!({"count": 2, "lastTimestamp": "2025-01-01T00:01:00Z", "message": "again"});
    let patched = core
        .patch("web-0.1", &PatchParams::default(), &Patch::Merge(&repeat))
        .await
        .unwrap();
    assert_eq!(patched.count, Some(2));
    assert_eq!(patched.message.as_deref(), Some("again"));
    assert_eq!(
        serde_json::to_value(&patched.last_timestamp).unwrap(),
        json!("2025-01-01T00:01:00Z")
    );
    // A PUT through core/v1 may change the source too.
    let mut put = patched.clone();
    put.source.as_mut().unwrap().host = Some("node-2".into());
    put.count = Some(3);
    let replaced = core
        .replace("web-0.1", &PostParams::default(), &put)
        .await
        .unwrap();
    assert_eq!(replaced.count, Some(3));

    // The same change through events.k8s.io/v1 is refused field by field,
    // with the API server's internal names.
    let events: Api<V1Event> = Api::namespaced(client.clone(), "shop");
    let change = json!({"deprecatedCount": 4, "deprecatedLastTimestamp": "2025-01-01T00:02:00Z", "note": "other"});
    let err = events
        .patch("web-0.1", &PatchParams::default(), &Patch::Merge(&change))
        .await
        .unwrap_err();
    let s = status(err);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let fields: Vec<String> = causes(&s).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["message", "lastTimestamp", "count"]);
    assert!(
        causes(&s)
            .iter()
            .all(|(_, m)| m.ends_with("field is immutable")),
        "{s:?}"
    );
}

#[tokio::test]
async fn core_v1_writes_still_pass_the_legacy_checks() {
    let server = with_shop(ApiServer::builder()).await;
    let client = server.client().await.unwrap();
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "shop");

    // Without eventTime the regarding namespace must be the event's.
    let mut elsewhere = legacy_event("web-0.2");
    elsewhere.involved_object.namespace = Some("other".into());
    let s = status(
        core.create(&PostParams::default(), &elsewhere)
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    assert_eq!(
        s.message,
        "Event \"web-0.2\" is invalid: involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"
    );

    // With eventTime, the reporting fields are required, named as in core/v1.
    let mut v = legacy_event("web-0.3");
    v.event_time = Some(serde_json::from_value(json!("2025-01-01T00:00:00.000000Z")).unwrap());
    v.reporting_component = Some("example.com/widgets".into());
    v.reporting_instance = Some("widgets-0".into());
    v.action = Some("Starting".into());
    core.create(&PostParams::default(), &v).await.unwrap();
    let drop_component = json!({"reportingComponent": null, "count": 2});
    let s = status(
        core.patch(
            "web-0.3",
            &PatchParams::default(),
            &Patch::Merge(&drop_component),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    // Required, then the qualified-name rules on the empty value, as the
    // API server lists them; the core/v1 field name throughout.
    let found = causes(&s);
    assert_eq!(
        found[0],
        ("reportingComponent".to_owned(), "Required value".to_owned())
    );
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found.iter().all(|(f, _)| f == "reportingComponent"));
    // The name and namespace of a stored Event never change.
    let rename = json!({"metadata": {"name": "web-0.4"}});
    let s = status(
        core.patch("web-0.3", &PatchParams::default(), &Patch::Merge(&rename))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 400, "{s:?}");
}

#[tokio::test]
async fn a_server_without_events_k8s_io() {
    let server = with_shop(ApiServer::builder().serve_events_group(false)).await;
    let client = server.client().await.unwrap();
    let groups = client.list_api_groups().await.unwrap();
    let names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
    assert!(!names.contains(&"events.k8s.io"), "{names:?}");
    assert!(names.contains(&"coordination.k8s.io"), "{names:?}");
    let err = client
        .list_api_group_resources("events.k8s.io/v1")
        .await
        .unwrap_err();
    assert_eq!(status(err).code, 404);
    let core = client.list_core_api_resources("v1").await.unwrap();
    assert!(core.resources.iter().any(|r| r.name == "events"));

    // Routes: events.k8s.io answers 404, core/v1 works.
    let events: Api<V1Event> = Api::namespaced(client.clone(), "shop");
    let err = events
        .create(
            &PostParams::default(),
            &event(event_json("shop", "web-0.1", "web-0")),
        )
        .await
        .unwrap_err();
    assert_eq!(status(err).code, 404);
    assert_eq!(status(events.get("web-0.1").await.unwrap_err()).code, 404);
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), "shop");
    core.create(&PostParams::default(), &legacy_event("web-0.1"))
        .await
        .unwrap();
    assert_eq!(server.events().len(), 1);

    // The OpenAPI index does not list the group either.
    let req = http::Request::get("/openapi/v3").body(Vec::new()).unwrap();
    let index: serde_json::Value = client.request(req).await.unwrap();
    let paths = index["paths"].as_object().unwrap();
    assert!(paths.contains_key("api/v1"));
    assert!(!paths.contains_key("apis/events.k8s.io/v1"), "{paths:?}");
}

fn pod(name: &str, uid: Option<&str>) -> ObjectRef {
    let r = ObjectRef::new("v1", "Pod", name).within("shop");
    match uid {
        Some(uid) => r.with_uid(uid),
        None => r,
    }
}

fn reporter() -> Reporter {
    Reporter::new("example.com/widgets").with_instance("widgets-0")
}

#[tokio::test]
async fn core_v1_sink_keeps_count_and_last_timestamp_with_the_series() {
    let server = with_shop(ApiServer::builder()).await;
    let web = server.create_pod("shop", "web-0").unwrap();
    let client = server.client().await.unwrap();
    let sink = CoreV1Sink::new(client.clone()).with_source_host(Some("node-1".into()));
    let recorder = Recorder::builder(Arc::new(sink), reporter())
        .build()
        .unwrap();
    let regarding = pod("web-0", web.metadata.uid.as_deref());
    let event = Event::warning("BackOff", "Starting").note("exited with 1");
    for _ in 0..5 {
        recorder.publish(&event, &regarding).await.unwrap();
    }
    recorder.flush().await;
    let stats = recorder.stats();
    assert_eq!((stats.created, stats.patched, stats.failed), (1, 2, 0));

    let stored = server.core_events();
    assert_eq!(stored.len(), 1);
    let e = &stored[0];
    let series = e.series.as_ref().unwrap();
    assert_eq!((e.count, series.count), (Some(5), Some(5)));
    let last_observed = series.last_observed_time.as_ref().unwrap().0;
    let event_time = e.event_time.as_ref().unwrap().0;
    assert_eq!(
        e.last_timestamp.as_ref().unwrap().0.as_second(),
        last_observed.as_second()
    );
    assert_eq!(
        e.first_timestamp.as_ref().unwrap().0.as_second(),
        event_time.as_second()
    );
    let source = e.source.as_ref().unwrap();
    assert_eq!(source.component.as_deref(), Some("example.com/widgets"));
    assert_eq!(source.host.as_deref(), Some("node-1"));
    assert_eq!(
        e.reporting_component.as_deref(),
        Some("example.com/widgets")
    );
    assert_eq!(e.reporting_instance.as_deref(), Some("widgets-0"));
    assert_eq!(e.involved_object.uid, web.metadata.uid);
    assert_eq!(e.message.as_deref(), Some("exited with 1"));
    assert_eq!(e.action.as_deref(), Some("Starting"));

    // Read through events.k8s.io/v1, the legacy fields are the deprecated ones.
    let v1 = Api::<V1Event>::namespaced(client, "shop")
        .get(e.metadata.name.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(v1.deprecated_count, Some(5));
    assert_eq!(v1.series.as_ref().unwrap().count, 5);
}

#[tokio::test]
async fn core_v1_sink_continues_a_stored_series_after_a_restart() {
    let server = with_shop(ApiServer::builder()).await;
    let client = server.client().await.unwrap();
    let regarding = pod("web-0", None);
    let event = Event::normal("Synced", "Reconciling");
    for life in 1..=2 {
        let recorder = Recorder::builder(Arc::new(CoreV1Sink::new(client.clone())), reporter())
            .build()
            .unwrap();
        for _ in 0..3 {
            recorder.publish(&event, &regarding).await.unwrap();
        }
        recorder.flush().await;
        assert_eq!(recorder.stats().adopted, u64::from(life == 2));
    }
    let stored = server.events();
    assert_eq!(stored.len(), 1);
    let core = server.core_events();
    assert_eq!(core[0].count, Some(6));
    assert_eq!(core[0].series.as_ref().unwrap().count, Some(6));
}

#[tokio::test]
async fn core_v1_sink_classifies_like_kube_sink_and_names_the_core_rule() {
    let server = with_shop(
        ApiServer::builder().token("no-create", Permissions::all().deny("events", "create")),
    )
    .await;
    let limited = server.client_with_token("no-create").await.unwrap();
    let record = event_testing_record();
    let core = CoreV1Sink::new(limited.clone()).create(&record).await;
    let v1 = KubeSink::new(limited).create(&record).await;
    let (Err(SinkError::Forbidden { message: core }), Err(SinkError::Forbidden { message: v1 })) =
        (core, v1)
    else {
        panic!("both forbidden");
    };
    assert!(core.ends_with(CORE_RBAC_HINT), "{core}");
    assert!(!v1.ends_with(CORE_RBAC_HINT), "{v1}");

    let client = server.client().await.unwrap();
    let sink = CoreV1Sink::new(client);
    sink.create(&record).await.unwrap();
    assert_eq!(sink.create(&record).await, Err(SinkError::AlreadyExists));
    assert_eq!(sink.get("shop", &record.name).await.unwrap(), record);
    assert_eq!(sink.get("shop", "nothing").await, Err(SinkError::NotFound));
    let mut missing = record.clone();
    missing.name = "nothing".into();
    let series = event_core::sink::Series {
        count: 2,
        last_observed_time: record.event_time,
    };
    missing.series = Some(series);
    assert_eq!(
        sink.patch_series(&missing, series).await,
        Err(SinkError::NotFound)
    );
    let mut long = record.clone();
    long.name = "long".into();
    long.reason = "R".repeat(129);
    let Err(SinkError::Invalid { message }) = sink.create(&long).await else {
        panic!("invalid");
    };
    assert!(
        message.contains("reason: Invalid value: \"\": can have at most 128 characters"),
        "{message}"
    );
}

/// A valid record in `shop`, at a whole second.
fn event_testing_record() -> event_core::sink::EventRecord {
    event_core::sink::EventRecord::new(
        "web-0.core",
        "shop",
        jiff::Timestamp::from_second(1_750_000_000).unwrap(),
        pod("web-0", None),
        event_core::Event::normal("Started", "Starting").note("started container app"),
        "example.com/widgets",
        "widgets-0",
    )
}

#[tokio::test]
async fn automatic_selection_follows_discovery() {
    for serve in [true, false] {
        let server = with_shop(ApiServer::builder().serve_events_group(serve)).await;
        let client = server.client().await.unwrap();
        assert_eq!(event_kube::events_v1_served(&client).await.unwrap(), serve);
        let sink = ApiSink::select(KubeSink::new(client.clone()), Transport::Auto).await;
        let want = if serve {
            Transport::EventsV1
        } else {
            Transport::CoreV1
        };
        assert_eq!(sink.transport(), want);

        // The chosen sink works end to end on that server.
        let recorder = Recorder::builder(Arc::new(sink), reporter())
            .build()
            .unwrap();
        let event = Event::normal("Synced", "Reconciling");
        for _ in 0..3 {
            recorder.publish(&event, &pod("web-0", None)).await.unwrap();
        }
        recorder.flush().await;
        assert_eq!(recorder.stats().failed, 0);
        let core = server.core_events();
        assert_eq!(core.len(), 1);
        assert_eq!(core[0].series.as_ref().unwrap().count, Some(3));
        // Only the core/v1 transport writes the legacy count.
        assert_eq!(core[0].count, (!serve).then_some(3));

        // An explicit choice is kept whatever discovery says.
        for explicit in [Transport::EventsV1, Transport::CoreV1] {
            let sink = ApiSink::select(KubeSink::new(client.clone()), explicit).await;
            assert_eq!(sink.transport(), explicit);
        }
        // events.k8s.io/v1 on a server without it: every write is a 404.
        if !serve {
            let forced = ApiSink::select(KubeSink::new(client), Transport::EventsV1).await;
            assert_eq!(
                forced.create(&event_testing_record()).await,
                Err(SinkError::NotFound)
            );
        }
    }
}
