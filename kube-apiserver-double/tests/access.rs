//! `KubeSink::check_access` against the double's access reviews: what a
//! token may do with events, per verb and namespace.

use event_kube::KubeSink;
use kube_apiserver_double::{ApiServer, Permissions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_check_names_what_a_token_lacks() {
    let server = ApiServer::builder()
        .token("no-patch", Permissions::all().deny("events", "patch"))
        .start()
        .await
        .expect("the double starts");

    let admin = KubeSink::new(server.client().await.expect("a client"));
    let report = admin
        .check_access(["default", "kube-system"])
        .await
        .expect("reviews answered");
    assert!(report.is_allowed(), "{report}");
    assert_eq!(report.checks.len(), 6);

    let limited = KubeSink::new(
        server
            .client_with_token("no-patch")
            .await
            .expect("a client"),
    );
    let report = limited
        .check_access(["default"])
        .await
        .expect("reviews answered");
    let missing: Vec<(&str, &str)> = report
        .missing()
        .map(|a| (a.namespace.as_str(), a.verb))
        .collect();
    assert_eq!(missing, [("default", "patch")]);
    assert!(
        report
            .to_string()
            .contains("\"patch\" in namespace default"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_transport_checks_its_own_api_group() {
    let server = ApiServer::builder()
        .token(
            "core-only",
            Permissions::all().deny("events.events.k8s.io", "patch"),
        )
        .start()
        .await
        .expect("the double starts");
    let client = server
        .client_with_token("core-only")
        .await
        .expect("a client");

    let v1 = KubeSink::new(client.clone())
        .check_access(["shop"])
        .await
        .expect("reviews answered");
    assert_eq!(v1.api_group, "events.k8s.io");
    let missing: Vec<&str> = v1.missing().map(|a| a.verb).collect();
    assert_eq!(missing, ["patch"]);

    let core = event_kube::CoreV1Sink::new(client)
        .check_access(["shop"])
        .await
        .expect("reviews answered");
    assert_eq!(core.api_group, "");
    assert!(core.is_allowed(), "{core}");
    assert_eq!(core.checks.len(), 3);
    assert_eq!(
        core.to_string(),
        "core/v1 events: create, patch and get allowed in shop"
    );
    let denied = event_kube::AccessReport {
        checks: vec![event_kube::Access {
            namespace: "shop".into(),
            verb: "get",
            allowed: false,
            reason: None,
        }],
        api_group: "",
    };
    assert!(
        denied
            .to_string()
            .starts_with("missing RBAC for core/v1 events: \"get\" in namespace shop"),
        "{denied}"
    );
    assert!(denied.to_string().contains("apiGroups: [\"\"]"), "{denied}");
}
