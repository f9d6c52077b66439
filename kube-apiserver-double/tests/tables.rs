//! `kubectl get pods`, `get nodes` and `get ev` read the server's Tables as
//! from a real server: READY, STATUS, RESTARTS from the container statuses;
//! STATUS, ROLES, VERSION from the node's status and labels.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use jiff::{SignedDuration, Timestamp};
use kube_apiserver_double::ApiServer;
use serde_json::{Value, json};
use support::{kubectl, micro};

/// A clock that stands still, so that ages are exact.
#[derive(Debug)]
struct Fixed(Timestamp);

impl event_core::Clock for Fixed {
    fn now(&self) -> Timestamp {
        self.0
    }
}

const NOW: i64 = 1_750_000_000;

async fn server() -> ApiServer {
    let now = Timestamp::from_second(NOW).unwrap();
    ApiServer::builder()
        .clock(std::sync::Arc::new(Fixed(now)))
        .start()
        .await
        .unwrap()
}

/// A pod whose app container crash-loops: restarted 5 times, the last
/// time 30 s ago.
fn crashing_pod(server: &ApiServer) {
    let finished = Timestamp::from_second(NOW).unwrap() - SignedDuration::from_secs(30);
    let finished = jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%SZ", finished).unwrap();
    server
        .create_object(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "crash-0", "namespace": "shop"},
            "spec": {"nodeName": "node-1", "containers": [
                {"name": "app", "image": "app:1"},
                {"name": "sidecar", "image": "proxy:1"},
            ]},
            "status": {
                "phase": "Running",
                "podIP": "10.244.0.7",
                "containerStatuses": [
                    {"name": "app", "image": "app:1", "imageID": "", "ready": false, "restartCount": 5,
                     "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                     "lastState": {"terminated": {"exitCode": 1, "finishedAt": finished}}},
                    {"name": "sidecar", "image": "proxy:1", "imageID": "", "ready": true, "restartCount": 0,
                     "state": {"running": {"startedAt": finished}}},
                ],
            },
        }))
        .unwrap();
}

async fn table(server: &ApiServer, path: &str) -> Value {
    let request = http::Request::get(path)
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
        .body(Vec::new())
        .unwrap();
    let client = server.client().await.unwrap();
    client.request::<Value>(request).await.unwrap()
}

fn columns(t: &Value) -> Vec<(String, i64)> {
    t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn pod_and_node_tables_have_the_real_columns() {
    let server = server().await;
    server.create_pod("shop", "web-0").unwrap();
    crashing_pod(&server);
    let pods = table(&server, "/api/v1/namespaces/shop/pods").await;
    let names: Vec<String> = columns(&pods).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    let crash = &pods["rows"][0]["cells"];
    assert_eq!(crash[0], "crash-0");
    assert_eq!(crash[1], "1/2");
    assert_eq!(crash[2], "CrashLoopBackOff");
    assert_eq!(crash[3], "5 (30s ago)");
    assert_eq!(
        (crash[5].as_str(), crash[6].as_str()),
        (Some("10.244.0.7"), Some("node-1"))
    );
    let web = &pods["rows"][1]["cells"];
    assert_eq!(
        (&web[1], &web[2], &web[3]),
        (&json!("1/1"), &json!("Running"), &json!("0"))
    );

    server.create_node("node-1").unwrap();
    server
        .create_object(json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "cp-0", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "False"}]},
        }))
        .unwrap();
    let nodes = table(&server, "/api/v1/nodes").await;
    let names: Vec<String> = columns(&nodes).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "Name",
            "Status",
            "Roles",
            "Age",
            "Version",
            "Internal-IP",
            "External-IP",
            "OS-Image",
            "Kernel-Version",
            "Container-Runtime"
        ]
    );
    let cp = &nodes["rows"][0]["cells"];
    assert_eq!(
        (&cp[1], &cp[2], &cp[4]),
        (
            &json!("NotReady,SchedulingDisabled"),
            &json!("control-plane"),
            &json!("")
        )
    );
    let worker = &nodes["rows"][1]["cells"];
    assert_eq!(
        (&worker[1], &worker[2], &worker[4]),
        (&json!("Ready"), &json!("<none>"), &json!("v1.32.0"))
    );
}

#[tokio::test]
async fn kubectl_get_pods_nodes_and_ev() {
    require_kubectl!();
    let server = server().await;
    server.create_pod("shop", "web-0").unwrap();
    crashing_pod(&server);
    server.create_node("node-1").unwrap();

    let (ok, out, err) = kubectl(&server, &["get", "pods", "-n", "shop"]).await;
    assert!(ok, "{err}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert_eq!(
        &lines[1][..5],
        ["crash-0", "1/2", "CrashLoopBackOff", "5", "(30s"]
    );
    assert_eq!(&lines[2][..4], ["web-0", "1/1", "Running", "0"]);

    let (ok, out, err) = kubectl(&server, &["get", "nodes", "-o", "wide"]).await;
    assert!(ok, "{err}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        &lines[0][..6],
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP"]
    );
    assert_eq!(lines[1][..3], ["node-1", "Ready", "<none>"]);
    assert_eq!(lines[1][4..6], ["v1.32.0", "10.0.0.1"]);

    // `ev` is the short name of events in both APIs.
    let events = server.client().await.unwrap();
    let api: kube::Api<k8s_openapi::api::events::v1::Event> = kube::Api::namespaced(events, "shop");
    let mut v = support::event_json("shop", "web-0.1", "web-0");
    v["eventTime"] = json!(micro(Timestamp::from_second(NOW).unwrap()));
    api.create(&Default::default(), &support::event(v))
        .await
        .unwrap();
    for resource in ["ev", "ev.events.k8s.io"] {
        let (ok, out, err) = kubectl(&server, &["get", resource, "-n", "shop"]).await;
        assert!(ok, "{resource}: {err}");
        assert!(out.contains("pod/web-0"), "{resource}: {out}");
    }
}
