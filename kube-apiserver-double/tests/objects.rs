//! The API double's other kinds, watches, TTL, the core/v1 write path,
//! discovery and shutdown.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_core::Clock;
use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, Namespace, Node, Pod};
use k8s_openapi::api::events::v1::Event;
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::watcher;
use kube_apiserver_double::ApiServer;
use serde_json::json;
use support::{event, event_json, now_micro, status};

#[derive(Debug)]
struct TestClock(Mutex<Timestamp>);

impl TestClock {
    fn advance(&self, secs: i64) {
        let mut t = self.0.lock().unwrap();
        *t += SignedDuration::from_secs(secs);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

#[tokio::test]
async fn objects_get_uids_versions_and_timestamps() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();

    let namespaces: Api<Namespace> = Api::all(client.clone());
    let names: Vec<String> = namespaces
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    assert_eq!(
        names,
        ["default", "kube-node-lease", "kube-public", "kube-system"]
    );
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "shop"}})).unwrap();
    let ns = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    assert_eq!(ns.status.and_then(|s| s.phase).as_deref(), Some("Active"));

    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"generateName": "web-"},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "app:1"}]},
    }))
    .unwrap();
    let pod = pods.create(&PostParams::default(), &pod).await.unwrap();
    let name = pod.metadata.name.clone().unwrap();
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    assert_ne!(pod.metadata.uid.as_deref(), Some(name.as_str()));
    assert!(pod.metadata.creation_timestamp.is_some());
    assert_eq!(pod.status.and_then(|s| s.phase).as_deref(), Some("Pending"));

    // kubectl describe node asks for the pods on a node across namespaces.
    let all_pods: Api<Pod> = Api::all(client.clone());
    let on_node = ListParams::default()
        .fields("spec.nodeName=node-1,status.phase!=Succeeded,status.phase!=Failed");
    assert_eq!(all_pods.list(&on_node).await.unwrap().items.len(), 1);
    let elsewhere = ListParams::default().fields("spec.nodeName=node-2");
    assert!(all_pods.list(&elsewhere).await.unwrap().items.is_empty());
    let bad = ListParams::default().fields("spec.bogus=1");
    assert_eq!(status(all_pods.list(&bad).await.unwrap_err()).code, 400);

    let nodes: Api<Node> = Api::all(client.clone());
    let node: Node = serde_json::from_value(json!({"metadata": {"name": "node-1"}})).unwrap();
    let node = nodes.create(&PostParams::default(), &node).await.unwrap();
    assert!(node.metadata.namespace.is_none());
    assert_eq!(
        nodes.get("node-1").await.unwrap().metadata.uid,
        node.metadata.uid
    );

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "shop");
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "settings"}, "data": {"a": "1"}}))
            .unwrap();
    let cm = cms.create(&PostParams::default(), &cm).await.unwrap();
    let rv1: u64 = cm
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    let patched = cms
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"b": "2"}})),
        )
        .await
        .unwrap();
    let rv2: u64 = patched
        .metadata
        .resource_version
        .clone()
        .unwrap()
        .parse()
        .unwrap();
    assert!(rv2 > rv1);
    assert_eq!(patched.data.as_ref().unwrap().len(), 2);
    assert_eq!(patched.metadata.uid, cm.metadata.uid);

    // Replace with a stale resourceVersion: 409 Conflict.
    let mut stale = cm.clone();
    stale.data = Some([("c".to_owned(), "3".to_owned())].into());
    let s = status(
        cms.replace("settings", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    let mut fresh = patched.clone();
    fresh.data = Some([("c".to_owned(), "3".to_owned())].into());
    let replaced = cms
        .replace("settings", &PostParams::default(), &fresh)
        .await
        .unwrap();
    assert_eq!(replaced.data.unwrap().len(), 1);

    // Server-side apply, reduced to create-or-merge.
    let applied = cms
        .patch(
            "applied",
            &PatchParams::apply("tests"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"x": "y"}})),
        )
        .await
        .unwrap();
    assert_eq!(applied.data.unwrap()["x"], "y");

    // Deleting the namespace takes its contents with it (once it has been
    // terminating for the server's namespace termination time: see
    // `a_deleted_namespace_terminates_then_goes_with_its_contents`).
    namespaces
        .delete("shop", &DeleteParams::default())
        .await
        .unwrap();
    for _ in 0..100 {
        if server.object("configmaps", "shop", "settings").is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(server.object("configmaps", "shop", "settings").is_none());
    assert!(
        all_pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn a_deleted_namespace_terminates_then_goes_with_its_contents() {
    let clock = Arc::new(TestClock(Mutex::new(
        Timestamp::from_second(1_700_000_000).unwrap(),
    )));
    let server = ApiServer::builder()
        .clock(clock.clone())
        .namespace_termination(Duration::from_secs(5))
        .start()
        .await
        .unwrap();
    server.create_namespace("shop").unwrap();
    let client = server.client().await.unwrap();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "shop");
    let cm = |name: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
    };
    cms.create(&PostParams::default(), &cm("settings"))
        .await
        .unwrap();

    // A dry run shows what a delete would do, and does nothing.
    let shown = namespaces
        .delete("shop", &DeleteParams::default().dry_run())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        shown.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    let still = namespaces.get("shop").await.unwrap();
    assert_eq!(
        still.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );

    let deleted = namespaces
        .delete("shop", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        deleted.metadata.deletion_timestamp.map(|t| t.0.as_second()),
        Some(1_700_000_000)
    );
    assert_eq!(
        deleted.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    // While it terminates: its contents are there and can change, nothing
    // new comes in, and its name is taken.
    let mut settings = cms.get("settings").await.unwrap();
    settings.data = Some([("k".to_owned(), "v".to_owned())].into());
    cms.replace("settings", &PostParams::default(), &settings)
        .await
        .unwrap();
    let refused = status(
        cms.create(&PostParams::default(), &cm("new"))
            .await
            .unwrap_err(),
    );
    assert_eq!((refused.code, refused.reason.as_str()), (403, "Forbidden"));
    assert!(matches!(
        server.create_namespace("shop"),
        Err(kube_apiserver_double::ApiServerError::Rejected { code: 409, .. })
    ));
    // A second delete is refused, as a real server refuses it.
    let again = status(
        namespaces
            .delete("shop", &DeleteParams::default())
            .await
            .unwrap_err(),
    );
    assert_eq!((again.code, again.reason.as_str()), (409, "Conflict"));
    // Events expired by hand leave the namespace's deadline as it was.
    server.expire_events();

    clock.advance(5);
    assert!(namespaces.get("shop").await.is_err());
    assert!(server.object("configmaps", "shop", "settings").is_none());
    server.create_namespace("shop").unwrap();
}

#[tokio::test]
async fn list_pages_with_continue_tokens() {
    let server = ApiServer::start().await.unwrap();
    for i in 0..5 {
        server
            .create_configmap("shop", &format!("cm-{i}"), &[])
            .unwrap();
    }
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "shop");
    let first = cms.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let token = first.metadata.continue_.clone().unwrap();
    let second = cms
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .unwrap();
    let third = cms
        .list(
            &ListParams::default()
                .limit(2)
                .continue_token(second.metadata.continue_.as_deref().unwrap()),
        )
        .await
        .unwrap();
    let names: Vec<String> = [first, second, third]
        .into_iter()
        .flat_map(|l| l.items)
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(names, ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
}

#[tokio::test]
async fn configmap_watch_streams_changes_from_a_resource_version() {
    let server = ApiServer::start().await.unwrap();
    server.create_configmap("shop", "before", &[]).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "shop");
    let list = cms.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.clone().unwrap();

    let stream = cms
        .watch(&WatchParams::default().timeout(60), &rv)
        .await
        .unwrap();
    let mut stream = stream.boxed();
    server.create_configmap("shop", "a", &[("k", "1")]).unwrap();
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "2"}})),
    )
    .await
    .unwrap();
    cms.delete("a", &DeleteParams::default()).await.unwrap();
    server.create_configmap("other", "elsewhere", &[]).unwrap();

    let mut seen = Vec::new();
    while seen.len() < 3 {
        match stream.try_next().await.unwrap().unwrap() {
            WatchEvent::Added(c) => seen.push(("ADDED", c.metadata.name.unwrap(), c.data)),
            WatchEvent::Modified(c) => seen.push(("MODIFIED", c.metadata.name.unwrap(), c.data)),
            WatchEvent::Deleted(c) => seen.push(("DELETED", c.metadata.name.unwrap(), c.data)),
            other => panic!("unexpected {other:?}"),
        }
    }
    let types: Vec<(&str, &str)> = seen.iter().map(|(t, n, _)| (*t, n.as_str())).collect();
    assert_eq!(types, [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]);
    assert_eq!(seen[1].2.as_ref().unwrap()["k"], "2");

    // Too old a version is 410 Gone... not for versions still kept.
    let again = cms
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap();
    let replayed: Vec<_> = again.take(3).collect().await;
    assert_eq!(replayed.len(), 3);
}

/// The sorted names a watcher lists before `InitDone`.
async fn initial_names(
    stream: &mut (impl futures::Stream<Item = watcher::Result<watcher::Event<ConfigMap>>> + Unpin),
) -> Vec<String> {
    let mut initial = Vec::new();
    loop {
        match stream.try_next().await.unwrap().unwrap() {
            watcher::Event::Init => {}
            watcher::Event::InitApply(c) => initial.push(c.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    initial.sort();
    initial
}

#[tokio::test]
async fn kube_runtime_watcher_sees_initial_objects_and_changes() {
    let server = ApiServer::start().await.unwrap();
    server.create_configmap("shop", "one", &[]).unwrap();
    server.create_configmap("shop", "two", &[]).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "shop");
    let mut stream = watcher(cms.clone(), watcher::Config::default()).boxed();

    assert_eq!(initial_names(&mut stream).await, ["one", "two"]);

    server.create_configmap("shop", "three", &[]).unwrap();
    match stream.try_next().await.unwrap().unwrap() {
        watcher::Event::Apply(c) => assert_eq!(c.metadata.name.as_deref(), Some("three")),
        other => panic!("unexpected {other:?}"),
    }
    cms.delete("one", &DeleteParams::default()).await.unwrap();
    match stream.try_next().await.unwrap().unwrap() {
        watcher::Event::Delete(c) => assert_eq!(c.metadata.name.as_deref(), Some("one")),
        other => panic!("unexpected {other:?}"),
    }
    // Streaming lists (sendInitialEvents) work too.
    let mut streaming = watcher(cms, watcher::Config::default().streaming_lists()).boxed();
    assert_eq!(initial_names(&mut streaming).await, ["three", "two"]);
}

#[tokio::test]
async fn event_ttl_expires_and_is_reset_by_writes() {
    let clock = Arc::new(TestClock(Mutex::new(Timestamp::now())));
    let server = ApiServer::builder()
        .clock(clock.clone())
        .event_ttl(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let events: Api<Event> = Api::namespaced(server.client().await.unwrap(), "default");
    for name in ["a", "b"] {
        events
            .create(
                &PostParams::default(),
                &event(event_json("default", name, "web-0")),
            )
            .await
            .unwrap();
    }
    clock.advance(500);
    let series = json!({"series": {"count": 2, "lastObservedTime": now_micro()}});
    events
        .patch("b", &PatchParams::default(), &Patch::Merge(&series))
        .await
        .unwrap();
    clock.advance(100);
    // `a` reached its TTL; `b` was written 100 s ago.
    let s = status(events.get("a").await.unwrap_err());
    assert_eq!(s.code, 404);
    let s = status(
        events
            .patch("a", &PatchParams::default(), &Patch::Merge(&series))
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 404);
    assert_eq!(events.get("b").await.unwrap().series.unwrap().count, 2);
    clock.advance(500);
    assert!(
        events
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(server.events().is_empty());

    // expire_events() does it at once.
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "c", "web-0")),
        )
        .await
        .unwrap();
    assert_eq!(server.expire_events(), 1);
    assert_eq!(status(events.get("c").await.unwrap_err()).code, 404);
    // The name is free again.
    events
        .create(
            &PostParams::default(),
            &event(event_json("default", "c", "web-0")),
        )
        .await
        .unwrap();
    assert!(server.delete_event("default", "c"));
    assert!(!server.delete_event("default", "c"));
}

#[tokio::test]
async fn core_v1_writes_use_legacy_validation() {
    let server = ApiServer::start().await.unwrap();
    let core: Api<CoreEvent> = Api::namespaced(server.client().await.unwrap(), "default");
    let e: CoreEvent = serde_json::from_value(json!({
        "metadata": {"name": "legacy.1"},
        "involvedObject": {"kind": "Pod", "name": "web-0", "namespace": "default"},
        "reason": "Pulled",
        "message": "pulled image",
        "type": "Normal",
        "count": 1,
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2025-01-01T00:00:00Z",
        "lastTimestamp": "2025-01-01T00:00:00Z",
    }))
    .unwrap();
    core.create(&PostParams::default(), &e).await.unwrap();
    let patched = core
        .patch(
            "legacy.1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"count": 2, "message": "pulled image again", "lastTimestamp": "2025-01-01T00:01:00Z"})),
        )
        .await
        .unwrap();
    assert_eq!(patched.count, Some(2));
    // Stored once, visible through events.k8s.io with the deprecated names.
    let v1 = server.event("default", "legacy.1").unwrap();
    assert_eq!(v1.deprecated_count, Some(2));
    assert_eq!(v1.note.as_deref(), Some("pulled image again"));
    assert_eq!(
        v1.deprecated_source.unwrap().component.as_deref(),
        Some("kubelet")
    );

    // Namespace mismatch is still rejected.
    let mut bad = e.clone();
    bad.metadata.name = Some("legacy.2".into());
    bad.involved_object.namespace = Some("elsewhere".into());
    let s = status(core.create(&PostParams::default(), &bad).await.unwrap_err());
    assert_eq!(s.code, 422);
    assert_eq!(
        s.message,
        "Event \"legacy.2\" is invalid: involvedObject.namespace: Invalid value: \"elsewhere\": does not match event.namespace"
    );
}

#[tokio::test]
async fn discovery_lists_the_served_resources() {
    let server = ApiServer::start().await.unwrap();
    let discovery = kube::Discovery::new(server.client().await.unwrap())
        .run()
        .await
        .unwrap();
    let groups: Vec<String> = discovery.groups().map(|g| g.name().to_owned()).collect();
    assert!(
        groups.contains(&String::new()) && groups.contains(&"events.k8s.io".to_owned()),
        "{groups:?}"
    );
    let core = discovery.groups().find(|g| g.name().is_empty()).unwrap();
    let mut kinds: Vec<String> = core
        .recommended_resources()
        .into_iter()
        .map(|(r, _)| r.kind)
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["ConfigMap", "Event", "Namespace", "Node", "Pod"]);
}

#[tokio::test]
async fn dropping_the_server_stops_it_and_removes_the_kubeconfig() {
    let server = ApiServer::builder().plain_http().start().await.unwrap();
    let addr = server.addr();
    let path = server.kubeconfig_path().to_path_buf();
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "default");
    let watch = cms.watch(&WatchParams::default(), "0").await.unwrap();
    drop(server);
    assert!(!path.exists());
    // The open watch ends, and new connections are refused.
    let ended = tokio::time::timeout(Duration::from_secs(60), watch.collect::<Vec<_>>()).await;
    assert!(ended.is_ok(), "the watch did not end");
    let mut refused = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(refused);
}

#[tokio::test]
async fn serve_until_writes_the_kubeconfig_and_stops_on_signal() {
    use kube_apiserver_double::{ServeOptions, serve_until};
    let dir = std::env::temp_dir().join(format!(
        "serve-until-{}-{}",
        std::process::id(),
        fastrand_suffix()
    ));
    let path = dir.join("kubeconfig");
    let opts = ServeOptions {
        kubeconfig: Some(path.clone()),
        pods: vec!["shop/web-0".into()],
        nodes: vec!["node-1".into()],
        ..ServeOptions::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_until(opts, async {
        let _ = stopped.await;
    }));
    let mut tries = 0;
    while !path.exists() {
        tries += 1;
        assert!(tries < 10_000, "no kubeconfig written");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let config = event_kube::config::load_kubeconfig(&path).await.unwrap();
    let client = kube::Client::try_from(config).unwrap();
    let pods: Api<Pod> = Api::namespaced(client.clone(), "shop");
    assert!(pods.get("web-0").await.is_ok());
    let nodes: Api<Node> = Api::all(client);
    assert!(nodes.get("node-1").await.is_ok());
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert!(
        path.exists(),
        "a kubeconfig written on request outlives the server"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn fastrand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

#[tokio::test]
async fn pages_across_namespaces_follow_the_listing_order() {
    let server = ApiServer::start().await.unwrap();
    for (ns, name) in [("a", "x"), ("a-b", "y"), ("a", "z"), ("a-c", "w")] {
        server.create_configmap(ns, name, &[]).unwrap();
    }
    let client = server.client().await.unwrap();
    let all: Api<ConfigMap> = Api::all(client);
    let mut seen = Vec::new();
    let mut params = kube::api::ListParams::default().limit(1);
    loop {
        let page = all.list(&params).await.unwrap();
        seen.extend(page.items.iter().map(|c| {
            format!(
                "{}/{}",
                c.metadata.namespace.clone().unwrap_or_default(),
                c.metadata.name.clone().unwrap_or_default()
            )
        }));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    let mut expected = seen.clone();
    expected.sort_by(|a, b| a.split_once('/').cmp(&b.split_once('/')));
    expected.dedup();
    assert_eq!(seen, expected, "every item once, in order");
    for want in ["a/x", "a/z", "a-b/y", "a-c/w"] {
        assert!(
            seen.iter().any(|s| s == want),
            "{want} missing from {seen:?}"
        );
    }
}

#[tokio::test]
async fn watches_that_ask_for_bookmarks_get_them_with_the_current_version() {
    let server = ApiServer::builder()
        .watch_bookmark_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    server.create_namespace("shop").unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "shop");
    let rv = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let params = WatchParams::default().timeout(60);
    assert!(params.bookmarks, "kube asks for bookmarks by default");
    let mut with = cms.watch(&params, &rv).await.unwrap().boxed();
    let mut without = cms
        .watch(&params.clone().disable_bookmarks(), &rv)
        .await
        .unwrap()
        .boxed();

    // A change the watches do not select moves the version on; the
    // bookmarks catch up with it (until then they carry older versions).
    let elsewhere = server.create_configmap("other", "elsewhere", &[]).unwrap();
    let moved: u64 = elsewhere
        .metadata
        .resource_version
        .unwrap()
        .parse()
        .unwrap();
    let mut versions = Vec::new();
    loop {
        match with.try_next().await.unwrap().unwrap() {
            WatchEvent::Bookmark(b) => {
                let v: u64 = b.metadata.resource_version.parse().unwrap();
                versions.push(v);
                if v == moved {
                    break;
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "{versions:?}");
    assert!(versions.iter().all(|v| *v <= moved), "{versions:?}");

    // A selected change comes before any bookmark past it; the watch that
    // did not ask gets the change and nothing before it.
    let mine = server.create_configmap("shop", "mine", &[]).unwrap();
    let mine_rv: u64 = mine.metadata.resource_version.unwrap().parse().unwrap();
    let added = loop {
        match with.try_next().await.unwrap().unwrap() {
            WatchEvent::Bookmark(b) => {
                assert_eq!(b.metadata.resource_version.parse::<u64>().unwrap(), moved);
            }
            WatchEvent::Added(c) => break c,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(added.metadata.name.as_deref(), Some("mine"));
    match with.try_next().await.unwrap().unwrap() {
        WatchEvent::Bookmark(b) => {
            assert_eq!(b.metadata.resource_version.parse::<u64>().unwrap(), mine_rv);
        }
        other => panic!("unexpected {other:?}"),
    }
    match without.try_next().await.unwrap().unwrap() {
        WatchEvent::Added(c) => assert_eq!(c.metadata.name.as_deref(), Some("mine")),
        other => panic!("the watch without bookmarks got {other:?} first"),
    }
}
