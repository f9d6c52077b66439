//! JSON patch (RFC 6902) through `kube::Client` and `kubectl patch --type json`.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use kube_apiserver_double::ApiServer;
use serde_json::json;
use support::{kubectl, status};

#[tokio::test]
async fn json_patch_applies_every_operation_or_none() {
    let server = ApiServer::start().await.unwrap();
    server
        .create_configmap("shop", "settings", &[("mode", "fast"), ("size", "3")])
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "shop");
    let ops: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/data/mode", "value": "fast"},
        {"op": "replace", "path": "/data/mode", "value": "slow"},
        {"op": "remove", "path": "/data/size"},
        {"op": "add", "path": "/metadata/labels", "value": {"tier": "web"}},
        {"op": "copy", "from": "/data/mode", "path": "/data/previous"},
    ]))
    .unwrap();
    let patched = cms
        .patch("settings", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .unwrap();
    let data = patched.data.unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(
        (data["mode"].as_str(), data["previous"].as_str()),
        ("slow", "slow")
    );
    assert_eq!(patched.metadata.labels.unwrap()["tier"], "web");

    // A failing `test` leaves the object as it was: 422.
    let rv = patched.metadata.resource_version.clone();
    let failing: json_patch::Patch = serde_json::from_value(json!([
        {"op": "replace", "path": "/data/mode", "value": "off"},
        {"op": "test", "path": "/data/mode", "value": "fast"},
    ]))
    .unwrap();
    let s = status(
        cms.patch(
            "settings",
            &PatchParams::default(),
            &Patch::<()>::Json(failing),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    let now = cms.get("settings").await.unwrap();
    assert_eq!(now.metadata.resource_version, rv);
    assert_eq!(now.data.unwrap()["mode"], "slow");

    // A body that is not a list of operations is a bad request.
    let request = http::Request::patch("/api/v1/namespaces/shop/configmaps/settings")
        .header("Content-Type", "application/json-patch+json")
        .body(br#"{"op": "add"}"#.to_vec())
        .unwrap();
    let client = server.client().await.unwrap();
    let s = status(client.request::<ConfigMap>(request).await.unwrap_err());
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
}

#[tokio::test]
async fn kubectl_patch_type_json() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    server
        .create_configmap("shop", "settings", &[("mode", "fast")])
        .unwrap();
    let (ok, out, err) = kubectl(
        &server,
        &[
            "patch",
            "configmap",
            "settings",
            "-n",
            "shop",
            "--type",
            "json",
            "-p",
            r#"[{"op":"add","path":"/data/size","value":"3"},{"op":"replace","path":"/data/mode","value":"slow"}]"#,
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/settings patched");
    let cm = server.object("configmaps", "shop", "settings").unwrap();
    assert_eq!(cm["data"], json!({"mode": "slow", "size": "3"}));

    let (ok, _, err) = kubectl(
        &server,
        &[
            "patch",
            "configmap",
            "settings",
            "-n",
            "shop",
            "--type",
            "json",
            "-p",
            r#"[{"op":"remove","path":"/data/missing"}]"#,
        ],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("missing"), "{err}");
    let cm = server.object("configmaps", "shop", "settings").unwrap();
    assert_eq!(cm["data"], json!({"mode": "slow", "size": "3"}));
}

/// A patch that changes nothing is not written, as on a real server (its
/// store skips a write of the same bytes): the resource version stays, and
/// a patch that does change something gets a new one.
#[tokio::test]
async fn a_patch_that_changes_nothing_keeps_the_resource_version() {
    let server = ApiServer::start().await.unwrap();
    let created = server
        .create_configmap("shop", "settings", &[("mode", "fast")])
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(server.client().await.unwrap(), "shop");
    let same = cms
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"mode": "fast"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        same.metadata.resource_version,
        created.metadata.resource_version
    );
    let changed = cms
        .patch(
            "settings",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"mode": "slow"}})),
        )
        .await
        .unwrap();
    assert_ne!(
        changed.metadata.resource_version,
        created.metadata.resource_version
    );
}
