//! The real `kubectl` against the API double: events written through
//! `kube::Client` show in `kubectl get events`, `kubectl describe` and
//! `kubectl events`. Skipped with a message when kubectl is not on PATH
//! (a failure under `CI=true`).

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::events::v1::Event;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube_apiserver_double::ApiServer;
use serde_json::json;
use support::{event, event_json, kubectl, micro};

/// The server with a pod `shop/web-0` carrying a Warning series (x3) and a
/// Normal event, and a node `node-1` with one event in `default`.
async fn populated() -> ApiServer {
    let server = ApiServer::start().await.unwrap();
    let pod = server.create_pod("shop", "web-0").unwrap();
    let node = server.create_node("node-1").unwrap();
    let client = server.client().await.unwrap();
    let now = Timestamp::now();

    let shop: Api<Event> = Api::namespaced(client.clone(), "shop");
    let mut v = event_json("shop", "web-0.backoff", "web-0");
    v["regarding"]["uid"] = json!(pod.metadata.uid);
    v["type"] = json!("Warning");
    v["reason"] = json!("BackOff");
    v["note"] = json!("Back-off restarting failed container app");
    v["eventTime"] = json!(micro(now - SignedDuration::from_secs(300)));
    shop.create(&PostParams::default(), &event(v))
        .await
        .unwrap();
    let series = json!({"series": {"count": 3, "lastObservedTime": micro(now - SignedDuration::from_secs(20))}});
    shop.patch(
        "web-0.backoff",
        &PatchParams::default(),
        &Patch::Merge(&series),
    )
    .await
    .unwrap();

    let mut v = event_json("shop", "web-0.started", "web-0");
    v["regarding"]["uid"] = json!(pod.metadata.uid);
    v["eventTime"] = json!(micro(now - SignedDuration::from_secs(60)));
    shop.create(&PostParams::default(), &event(v))
        .await
        .unwrap();

    let default: Api<Event> = Api::namespaced(client, "default");
    let mut v = event_json("default", "node-1.drain", "node-1");
    v["regarding"] =
        json!({"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": node.metadata.uid});
    v["reason"] = json!("NodeDrained");
    v["note"] = json!("drained for maintenance");
    v["eventTime"] = json!(micro(now - SignedDuration::from_secs(30)));
    default
        .create(&PostParams::default(), &event(v))
        .await
        .unwrap();
    server
}

/// Runs kubectl, asserts it succeeded and returns (and prints) its output.
async fn kubectl_ok(server: &ApiServer, args: &[&str]) -> String {
    let (ok, out, err) = kubectl(server, args).await;
    assert!(ok, "kubectl failed: {err}\n{out}");
    println!("{out}");
    out
}

/// The `Events:` section of `kubectl describe` output.
fn events_section(out: &str) -> &str {
    out.split("Events:")
        .nth(1)
        .unwrap_or_else(|| panic!("no Events section:\n{out}"))
}

fn line_with<'a>(out: &'a str, needle: &str) -> &'a str {
    out.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{out}"))
}

#[tokio::test]
async fn kubectl_describe_pod_shows_events() {
    require_kubectl!();
    let server = populated().await;
    let out = kubectl_ok(&server, &["describe", "pod", "web-0", "-n", "shop"]).await;
    let events = events_section(&out);
    let header = line_with(events, "Reason");
    for col in ["Type", "Reason", "Age", "From", "Message"] {
        assert!(header.contains(col), "{header}");
    }
    let backoff = line_with(events, "BackOff");
    assert!(backoff.contains("Warning"), "{backoff}");
    assert!(backoff.contains("(x3 over"), "{backoff}");
    assert!(backoff.contains("example.com/widgets"), "{backoff}");
    assert!(
        backoff.contains("Back-off restarting failed container app"),
        "{backoff}"
    );
    let started = line_with(events, "Started");
    assert!(
        started.contains("Normal") && started.contains("started container app"),
        "{started}"
    );
    assert!(!events.contains("NodeDrained"));
}

#[tokio::test]
async fn kubectl_describe_node_shows_cluster_scoped_events() {
    require_kubectl!();
    let server = populated().await;
    let out = kubectl_ok(&server, &["describe", "node", "node-1"]).await;
    let events = events_section(&out);
    let line = line_with(events, "NodeDrained");
    assert!(
        line.contains("Normal") && line.contains("drained for maintenance"),
        "{line}"
    );
    assert_eq!(events.matches("NodeDrained").count(), 1, "{events}");
}

#[tokio::test]
async fn kubectl_get_events_prints_the_server_table() {
    require_kubectl!();
    let server = populated().await;
    let out = kubectl_ok(&server, &["get", "events", "-A"]).await;
    let header = out.lines().next().unwrap_or_default();
    for col in [
        "NAMESPACE",
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "MESSAGE",
    ] {
        assert!(header.contains(col), "{header}");
    }
    let backoff = line_with(&out, "BackOff");
    assert!(
        backoff.contains("shop") && backoff.contains("pod/web-0") && backoff.contains("Warning"),
        "{backoff}"
    );
    let node = line_with(&out, "NodeDrained");
    assert!(
        node.contains("default") && node.contains("node/node-1"),
        "{node}"
    );
    assert_eq!(out.lines().count(), 4, "{out}");

    let out = kubectl_ok(&server, &["get", "events", "-n", "shop", "-o", "wide"]).await;
    let header = out.lines().next().unwrap_or_default();
    for col in ["SUBOBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME"] {
        assert!(header.contains(col), "{header}");
    }
    let backoff = line_with(&out, "BackOff");
    assert!(
        backoff.contains("example.com/widgets, widgets-0"),
        "{backoff}"
    );
    assert!(backoff.contains("web-0.backoff"), "{backoff}");
    assert!(backoff.split_whitespace().any(|w| w == "3"), "{backoff}");
}

#[tokio::test]
async fn kubectl_events_for_a_pod() {
    require_kubectl!();
    let server = populated().await;
    let out = kubectl_ok(&server, &["events", "-n", "shop", "--for", "pod/web-0"]).await;
    let header = out.lines().next().unwrap_or_default();
    for col in ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"] {
        assert!(header.contains(col), "{header}");
    }
    let backoff = line_with(&out, "BackOff");
    assert!(backoff.contains("Pod/web-0"), "{backoff}");
    assert!(backoff.contains("(x3 over"), "{backoff}");
    line_with(&out, "Started");
    assert!(!out.contains("NodeDrained"));

    let out = kubectl_ok(&server, &["get", "pods", "-n", "shop"]).await;
    line_with(&out, "web-0");
}

#[tokio::test]
async fn kubectl_describe_configmap_shows_events() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    let cm = server
        .create_configmap("shop", "settings", &[("color", "blue")])
        .unwrap();
    let client = server.client().await.unwrap();
    let shop: Api<Event> = Api::namespaced(client, "shop");
    let mut v = event_json("shop", "settings.1", "settings");
    v["regarding"] = json!({"apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop", "uid": cm.metadata.uid});
    v["reason"] = json!("Reconciled");
    v["note"] = json!("settings applied");
    v["eventTime"] = json!(micro(Timestamp::now()));
    shop.create(&PostParams::default(), &event(v))
        .await
        .unwrap();

    let out = kubectl_ok(
        &server,
        &["describe", "configmap", "settings", "-n", "shop"],
    )
    .await;
    let events = events_section(&out);
    let line = line_with(events, "Reconciled");
    assert!(
        line.contains("Normal")
            && line.contains("example.com/widgets")
            && line.contains("settings applied"),
        "{line}"
    );

    let out = kubectl_ok(&server, &["get", "configmaps", "-n", "shop"]).await;
    line_with(&out, "settings");
}

#[tokio::test]
async fn kubectl_get_events_watch_prints_new_events() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    let log = server.requests();
    let args = ["get", "events", "-A", "-w", "--request-timeout=10s"];
    let create_when_watched = async {
        let mut tries = 0;
        while !log
            .matching("GET", "/api/v1/events")
            .iter()
            .any(|r| r.query_param("watch").as_deref() == Some("true"))
        {
            tries += 1;
            assert!(tries < 2_000, "kubectl never started watching");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let default: Api<Event> = Api::namespaced(client, "default");
        let mut v = event_json("default", "late.1", "web-0");
        v["reason"] = json!("ArrivedLate");
        v["eventTime"] = json!(micro(Timestamp::now()));
        default
            .create(&PostParams::default(), &event(v))
            .await
            .unwrap();
    };
    let ((_, out, err), ()) = tokio::join!(kubectl(&server, &args), create_when_watched);
    println!("{out}\n{err}");
    let line = line_with(&out, "ArrivedLate");
    assert!(
        line.contains("pod/web-0") && line.contains("started container app"),
        "{line}"
    );
}
