//! The API groups beyond core and events: Leases (coordination.k8s.io/v1),
//! the access reviews kubectl's `auth can-i` and `auth whoami` send, and the
//! protobuf bodies of kubectl's imperative `create` commands.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube_apiserver_double::{ApiServer, Permissions};
use serde_json::json;
use support::{kubectl, kubectl_with, status};

#[tokio::test]
async fn leases_are_served_and_nodes_have_one() {
    let server = ApiServer::start().await.unwrap();
    server.create_node("node-1").unwrap();
    let client = server.client().await.unwrap();
    let node_leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
    let lease = node_leases.get("node-1").await.unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("node-1"));
    assert_eq!(spec.lease_duration_seconds, Some(40));
    assert_eq!(lease.metadata.owner_references.unwrap()[0].kind, "Node");

    // Leader election: create, renew with a resource version, lose a race.
    let leases: Api<Lease> = Api::namespaced(client, "default");
    let mut mine: Lease = serde_json::from_value(json!({
        "metadata": {"name": "widgets-leader"},
        "spec": {"holderIdentity": "widgets-0", "leaseDurationSeconds": 15,
                 "acquireTime": "2025-01-01T00:00:00.000000Z", "renewTime": "2025-01-01T00:00:00.000000Z"},
    }))
    .unwrap();
    let created = leases.create(&PostParams::default(), &mine).await.unwrap();
    mine.metadata.resource_version = created.metadata.resource_version.clone();
    mine.spec.as_mut().unwrap().lease_transitions = Some(1);
    leases
        .replace("widgets-leader", &PostParams::default(), &mine)
        .await
        .unwrap();
    let stale = status(
        leases
            .replace("widgets-leader", &PostParams::default(), &mine)
            .await
            .unwrap_err(),
    );
    assert_eq!(stale.code, 409);
    assert_eq!(
        stale.message,
        "Operation cannot be fulfilled on leases.coordination.k8s.io \"widgets-leader\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let renewed = leases
        .patch(
            "widgets-leader",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"renewTime": "2025-01-01T00:00:10.000000Z"}})),
        )
        .await
        .unwrap();
    assert_eq!(renewed.spec.unwrap().lease_transitions, Some(1));
    let s = status(
        leases
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": "Bad_Name"}})).unwrap(),
            )
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    assert!(
        s.message
            .starts_with("Lease.coordination.k8s.io \"Bad_Name\" is invalid: metadata.name"),
        "{}",
        s.message
    );
}

#[tokio::test]
async fn kubectl_describe_node_shows_its_lease() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    server.create_node("node-1").unwrap();
    let (ok, out, err) = kubectl(&server, &["describe", "node", "node-1"]).await;
    assert!(ok, "{err}");
    assert!(!out.contains("Failed to get lease"), "{out}");
    let lease = out.split("Lease:").nth(1).unwrap();
    assert!(
        lease
            .lines()
            .nth(1)
            .unwrap()
            .contains("HolderIdentity:  node-1"),
        "{lease}"
    );
    let (ok, out, err) = kubectl(&server, &["get", "leases", "-n", "kube-node-lease"]).await;
    assert!(ok, "{err}");
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..2], ["node-1", "node-1"]);
}

/// A SelfSubjectAccessReview for `verb` on `resource` in `group` and
/// `namespace`; returns (allowed, denied).
async fn can_i(
    client: &kube::Client,
    verb: &str,
    resource: &str,
    group: &str,
    namespace: &str,
) -> (bool, bool) {
    let reviews: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                resource: Some(resource.into()),
                group: Some(group.into()),
                namespace: Some(namespace.into()).filter(|n: &String| !n.is_empty()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = reviews
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    let status = answer.status.unwrap();
    (status.allowed, status.denied == Some(true))
}

#[tokio::test]
async fn access_reviews_answer_from_the_token_permissions() {
    let publisher = Permissions::none()
        .allow_in("shop", "events.events.k8s.io", "create")
        .allow_in("shop", "events.events.k8s.io", "patch")
        .allow("pods", "get")
        .deny_in("kube-system", "pods", "get");
    let server = ApiServer::builder()
        .user_token("pub", "system:serviceaccount:shop:widgets", publisher)
        .start()
        .await
        .unwrap();
    let client = server.client_with_token("pub").await.unwrap();
    let cases = [
        (("create", "events", "events.k8s.io", "shop"), (true, false)),
        (("patch", "events", "events.k8s.io", "shop"), (true, false)),
        (
            ("create", "events", "events.k8s.io", "default"),
            (false, false),
        ),
        (("create", "events", "", "shop"), (false, false)),
        (
            ("delete", "events", "events.k8s.io", "shop"),
            (false, false),
        ),
        (("create", "events", "events.k8s.io", ""), (false, false)),
        (("get", "pods", "", "shop"), (true, false)),
        (("get", "pods", "", ""), (true, false)),
        (("get", "pods", "", "kube-system"), (false, true)),
    ];
    for ((verb, resource, group, ns), want) in cases {
        assert_eq!(
            can_i(&client, verb, resource, group, ns).await,
            want,
            "{verb} {resource}.{group} in {ns:?}"
        );
    }
    // The review agrees with what the server then does.
    let shop_cms: Api<ConfigMap> = Api::namespaced(client.clone(), "shop");
    assert_eq!(
        status(shop_cms.list(&Default::default()).await.unwrap_err()).code,
        403
    );

    let admin = server.client().await.unwrap();
    assert_eq!(
        can_i(&admin, "deletecollection", "nodes", "", "").await,
        (true, false)
    );

    // Neither kind of attributes: 422.
    let reviews: Api<SelfSubjectAccessReview> = Api::all(admin);
    let s = status(
        reviews
            .create(&PostParams::default(), &SelfSubjectAccessReview::default())
            .await
            .unwrap_err(),
    );
    assert_eq!(s.code, 422);
    assert_eq!(
        s.message,
        "SelfSubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified"
    );
}

#[tokio::test]
async fn kubectl_auth_can_i_and_whoami() {
    require_kubectl!();
    let server = ApiServer::builder()
        .user_token(
            "pub",
            "system:serviceaccount:shop:widgets",
            Permissions::none().allow_in("shop", "events.events.k8s.io", "create"),
        )
        .start()
        .await
        .unwrap();
    let (ok, out, err) = kubectl(
        &server,
        &["auth", "can-i", "create", "events.events.k8s.io"],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "yes");

    let limited = server.kubeconfig_path().with_file_name("limited");
    server.write_kubeconfig(&limited, Some("pub")).unwrap();
    let run = |args: &'static [&'static str]| kubectl_with(&limited, args, None);
    let (ok, out, _) = run(&[
        "auth",
        "can-i",
        "create",
        "events.events.k8s.io",
        "-n",
        "shop",
    ])
    .await;
    assert!(ok);
    assert_eq!(out.trim(), "yes");
    let (ok, out, _) = run(&[
        "auth",
        "can-i",
        "create",
        "events.events.k8s.io",
        "-n",
        "default",
    ])
    .await;
    assert!(!ok, "kubectl exits 1 for no");
    assert_eq!(out.trim(), "no");
    let (ok, out, _) = run(&[
        "auth",
        "can-i",
        "patch",
        "events.events.k8s.io",
        "-n",
        "shop",
    ])
    .await;
    assert!(!ok);
    assert_eq!(out.trim(), "no");

    let (ok, out, err) = run(&["auth", "whoami"]).await;
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["ATTRIBUTE", "VALUE"]
    );
    assert!(
        lines[1].ends_with("system:serviceaccount:shop:widgets"),
        "{out}"
    );
    assert!(
        lines[2]
            .ends_with("[system:serviceaccounts system:serviceaccounts:shop system:authenticated]"),
        "{out}"
    );
}

#[tokio::test]
async fn kubectl_create_configmap_and_namespace() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    let (ok, out, err) = kubectl(&server, &["create", "namespace", "shop"]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "namespace/shop created");
    let (ok, out, err) = kubectl(
        &server,
        &[
            "create",
            "configmap",
            "settings",
            "-n",
            "shop",
            "--from-literal=mode=fast",
            "--from-literal=size=3",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "configmap/settings created");
    let client = server.client().await.unwrap();
    let cm = Api::<ConfigMap>::namespaced(client.clone(), "shop")
        .get("settings")
        .await
        .unwrap();
    let data = cm.data.unwrap();
    assert_eq!(
        (data["mode"].as_str(), data["size"].as_str()),
        ("fast", "3")
    );
    assert!(Api::<Namespace>::all(client).get("shop").await.is_ok());

    // Its answers are the server's, as for JSON bodies.
    let (ok, _, err) = kubectl(&server, &["create", "configmap", "settings", "-n", "shop"]).await;
    assert!(!ok);
    assert!(
        err.contains("configmaps \"settings\" already exists"),
        "{err}"
    );
    let (ok, _, err) = kubectl(&server, &["create", "configmap", "Bad_Name", "-n", "shop"]).await;
    assert!(!ok);
    assert!(
        err.contains("ConfigMap \"Bad_Name\" is invalid: metadata.name"),
        "{err}"
    );
    let (ok, _, err) = kubectl(&server, &["create", "configmap", "x", "-n", "nowhere"]).await;
    assert!(!ok);
    assert!(err.contains("namespaces \"nowhere\" not found"), "{err}");
}
