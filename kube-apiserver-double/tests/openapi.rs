//! OpenAPI v3: kubectl validates `create -f` and `apply -f` through the
//! server and `kubectl explain` prints the schemas of every served kind.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use kube_apiserver_double::ApiServer;
use serde_json::{Value, json};
use support::{kubectl, kubectl_with};

async fn apply(server: &ApiServer, verb: &str, object: &Value) -> (bool, String, String) {
    let text = serde_json::to_string(object).unwrap();
    kubectl_with(server.kubeconfig_path(), &[verb, "-f", "-"], Some(&text)).await
}

#[tokio::test]
async fn openapi_documents_list_every_group_version() {
    let server = ApiServer::start().await.unwrap();
    let client = server.client().await.unwrap();
    let get = |path: &str| {
        let request = http::Request::get(path).body(Vec::new()).unwrap();
        let client = client.clone();
        async move { client.request::<Value>(request).await.unwrap() }
    };
    let root = get("/openapi/v3").await;
    let paths = root["paths"].as_object().unwrap();
    let mut gvs: Vec<&str> = paths.keys().map(String::as_str).collect();
    gvs.sort_unstable();
    assert_eq!(
        gvs,
        [
            "api/v1",
            "apis/apiextensions.k8s.io/v1",
            "apis/authentication.k8s.io/v1",
            "apis/authorization.k8s.io/v1",
            "apis/coordination.k8s.io/v1",
            "apis/events.k8s.io/v1",
        ]
    );
    let url = paths["apis/events.k8s.io/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    let doc = get(url).await;
    let event = &doc["components"]["schemas"]["io.k8s.api.events.v1.Event"];
    assert_eq!(
        event["x-kubernetes-group-version-kind"][0]["group"],
        "events.k8s.io"
    );
    assert!(event["properties"]["series"].is_object());
}

#[tokio::test]
async fn kubectl_create_apply_and_explain_with_validation() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default"},
        "data": {"mode": "fast"},
    });
    let (ok, out, err) = apply(&server, "create", &cm).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/settings created");

    // apply: the first creates, the second patches.
    let mut applied = cm.clone();
    applied["metadata"]["name"] = json!("applied");
    let (ok, out, err) = apply(&server, "apply", &applied).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/applied created");
    applied["data"]["mode"] = json!("slow");
    let (ok, out, err) = apply(&server, "apply", &applied).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/applied configured");
    assert_eq!(
        server.object("configmaps", "default", "applied").unwrap()["data"]["mode"],
        "slow"
    );

    // Unknown fields are refused by the server (kubectl asks for strict
    // field validation).
    let mut unknown = cm.clone();
    unknown["metadata"]["name"] = json!("unknown");
    unknown["spec"] = json!({"replicas": 3});
    let (ok, _, err) = apply(&server, "create", &unknown).await;
    assert!(!ok);
    assert!(
        err.contains("strict decoding error: unknown field \"spec\""),
        "{err}"
    );
    assert!(server.object("configmaps", "default", "unknown").is_none());

    let (ok, out, err) = kubectl(&server, &["explain", "pods.spec.containers.image"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("KIND:       Pod"), "{out}");
    assert!(out.contains("FIELD: image <string>"), "{out}");
    assert!(out.contains("Container image name."), "{out}");
    for kind in [
        "events --api-version=events.k8s.io/v1",
        "events",
        "leases",
        "nodes",
        "namespaces",
        "configmaps",
        "crd",
    ] {
        let mut args = vec!["explain"];
        args.extend(kind.split(' '));
        let (ok, out, err) = kubectl(&server, &args).await;
        assert!(ok, "{kind}: {err}");
        assert!(
            out.contains("DESCRIPTION:") && out.contains("FIELDS:"),
            "{kind}: {out}"
        );
    }
}
