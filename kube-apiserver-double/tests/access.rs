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
