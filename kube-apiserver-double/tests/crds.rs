//! CustomResourceDefinitions: creating one serves its kind (discovery,
//! CRUD, watch, Table, events about its objects); deleting it stops
//! serving the kind and removes its objects.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::{WatchStreamExt, watcher};
use kube_apiserver_double::ApiServer;
use serde_json::{Value, json};
use support::{event, event_json, kubectl, kubectl_with, status};

fn widget_crd() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": "A widget the shop sells.",
                    "properties": {"spec": {
                        "type": "object",
                        "description": "What the widget should be.",
                        "properties": {"size": {"type": "integer", "description": "How big the widget is."}},
                    }},
                }},
                "additionalPrinterColumns": [
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }],
        },
    })
}

fn widgets(client: kube::Client, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"));
    Api::namespaced_with(client, ns, &ar)
}

fn widget(name: &str, size: i64) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": name}, "spec": {"size": size},
    }))
    .unwrap()
}

#[tokio::test]
async fn a_definition_serves_its_kind_until_deleted() {
    let server = ApiServer::start().await.unwrap();
    server.create_namespace("shop").unwrap();
    let client = server.client().await.unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let created = crds
        .create(
            &PostParams::default(),
            &serde_json::from_value(widget_crd()).unwrap(),
        )
        .await
        .unwrap();
    let conditions = created.status.unwrap().conditions.unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );

    // Discovery lists it.
    let discovery = kube::Discovery::new(client.clone()).run().await.unwrap();
    let group = discovery
        .groups()
        .find(|g| g.name() == "example.com")
        .unwrap();
    let (ar, caps) = group.recommended_resources().into_iter().next().unwrap();
    assert_eq!(
        (ar.kind.as_str(), ar.plural.as_str()),
        ("Widget", "widgets")
    );
    assert_eq!(caps.scope, kube::discovery::Scope::Namespaced);

    // CRUD and watch.
    let api = widgets(client.clone(), "shop");
    let mut stream = watcher(api.clone(), watcher::Config::default())
        .applied_objects()
        .boxed();
    let w = api
        .create(&PostParams::default(), &widget("w1", 3))
        .await
        .unwrap();
    assert_eq!(w.metadata.namespace.as_deref(), Some("shop"));
    assert!(w.metadata.uid.is_some());
    let seen = tokio::time::timeout(support::wait(), stream.try_next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(seen.metadata.name.as_deref(), Some("w1"));
    assert_eq!(
        status(
            api.create(&PostParams::default(), &widget("w1", 3))
                .await
                .unwrap_err()
        )
        .message,
        "widgets.example.com \"w1\" already exists"
    );
    let wrong = serde_json::from_value(
        json!({"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w2"}}),
    )
    .unwrap();
    let s = status(
        api.create(&PostParams::default(), &wrong)
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 400);
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 1);

    // A definition whose name is not plural.group is refused.
    let mut bad = widget_crd();
    bad["metadata"]["name"] = json!("gadgets.example.com");
    let s = status(
        crds.create(
            &PostParams::default(),
            &serde_json::from_value(bad).unwrap(),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        s.message,
        "CustomResourceDefinition.apiextensions.k8s.io \"gadgets.example.com\" is invalid: metadata.name: Invalid value: \"gadgets.example.com\": must be spec.names.plural+\".\"+spec.group"
    );

    // Deleting the definition takes its objects and its kind away.
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    assert!(server.object("widgets", "shop", "w1").is_none());
    assert_eq!(
        status(api.list(&Default::default()).await.unwrap_err()).code,
        404
    );
}

#[tokio::test]
async fn kubectl_reads_custom_objects_and_their_events() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    server.create_namespace("shop").unwrap();
    let crd = serde_json::to_string(&widget_crd()).unwrap();
    let (ok, out, err) =
        kubectl_with(server.kubeconfig_path(), &["apply", "-f", "-"], Some(&crd)).await;
    assert!(ok, "{err}");
    assert_eq!(
        out.trim(),
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.com created"
    );
    let (ok, out, err) = kubectl_with(
        server.kubeconfig_path(),
        &["create", "-n", "shop", "-f", "-"],
        Some(&serde_json::to_string(&widget("w1", 3)).unwrap()),
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "widget.example.com/w1 created");

    // An event about the widget.
    let uid = server.object("widgets", "shop", "w1").unwrap()["metadata"]["uid"].clone();
    let mut v = event_json("shop", "w1.resized", "w1");
    v["regarding"] = json!({"apiVersion": "example.com/v1", "kind": "Widget", "name": "w1", "namespace": "shop", "uid": uid});
    v["reason"] = json!("Resized");
    v["note"] = json!("resized to 3");
    let events: Api<k8s_openapi::api::events::v1::Event> =
        Api::namespaced(server.client().await.unwrap(), "shop");
    events
        .create(&PostParams::default(), &event(v))
        .await
        .unwrap();

    let (ok, out, err) = kubectl(&server, &["get", "widgets", "-n", "shop"]).await;
    assert!(ok, "{err}");
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "SIZE", "AGE"]);
    assert_eq!(lines[1][..2], ["w1", "3"]);
    let (ok, out, _) = kubectl(
        &server,
        &[
            "get",
            "wd",
            "w1",
            "-n",
            "shop",
            "-o",
            "jsonpath={.spec.size}",
        ],
    )
    .await;
    assert!(ok);
    assert_eq!(out, "3");

    let (ok, out, err) = kubectl(&server, &["explain", "widget.spec.size"]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("KIND:       Widget") && out.contains("FIELD: size <integer>"),
        "{out}"
    );
    assert!(out.contains("How big the widget is."), "{out}");

    let (ok, out, err) = kubectl(&server, &["events", "-n", "shop", "--for", "widget/w1"]).await;
    assert!(ok, "{err}");
    assert!(
        out.lines()
            .any(|l| l.contains("Resized") && l.contains("Widget/w1")),
        "{out}"
    );

    let (ok, out, err) = kubectl(&server, &["describe", "widget", "w1", "-n", "shop"]).await;
    assert!(ok, "{err}");
    let events = out
        .split("Events:")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        events
            .lines()
            .any(|l| l.contains("Resized") && l.contains("resized to 3")),
        "{out}"
    );

    let (ok, _, err) = kubectl(&server, &["delete", "crd", "widgets.example.com"]).await;
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl(&server, &["get", "widgets", "-n", "shop"]).await;
    assert!(!ok);
    // Depending on kubectl's discovery cache, it says so at once or after
    // asking for the list.
    assert!(
        err.contains("the server doesn't have a resource type \"widgets\"")
            || err.contains(
                "Unable to list \"example.com/v1, Resource=widgets\": the server could not find the requested resource"
            ),
        "{err}"
    );
}
