//! `KubeSink::from_config` turns off kube's own retries: a 503 from a real
//! HTTP server (the API double) is answered to the caller after exactly one
//! request.

mod support;

use event_core::sink::{EventSink, SinkError};
use event_kube::KubeSink;
use kube_apiserver_double::{ApiServer, FaultRule};
use support::pod_record;

#[tokio::test]
async fn from_config_makes_one_request_per_write() {
    let server = ApiServer::start().await.unwrap();
    server
        .faults()
        .add(FaultRule::status(503).times(10).method("POST"));
    let config = event_kube::config::load_kubeconfig(server.kubeconfig_path())
        .await
        .unwrap();
    let sink = KubeSink::from_config(config).unwrap();

    let err = sink.create(&pod_record()).await.unwrap_err();
    let SinkError::Transient { message } = err else {
        panic!("expected Transient, got {err:?}");
    };
    assert!(message.starts_with("HTTP 503"), "{message}");
    assert_eq!(
        server.requests().count("POST", "/apis/events.k8s.io/"),
        1,
        "kube's retry layer is off: one request per write"
    );
}
