//! The ConfigMap controller tested end to end against the local API double,
//! and the same expectation in a unit test of its reconcile. The README
//! shows the end-to-end test exactly as it is written here (a test below
//! checks that), so the example there always compiles and passes.

mod support;

use std::sync::Arc;

use event_core::Recorder;
use event_kube::{EventRefExt, KubeSink};
use event_testing::{ClusterEvents, MemorySink, expect};
use examples::configmap_controller::{
    CONTROLLER, Context, REASON_FAILED, REPLICAS_KEY, managed_configmap, reconcile, run,
};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube_apiserver_double::ApiServer;

// README: begin
#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_configmap_gets_a_warning() -> Result<(), Box<dyn std::error::Error>> {
    let server = ApiServer::start().await?; // or a cluster: kube::Client::try_default()
    server.create_namespace("shop")?;
    let client = server.client().await?;
    let events = ClusterEvents::namespaced(client.clone(), "shop")?;

    let broken = managed_configmap("shop", "web", &[(REPLICAS_KEY, "three")]);
    let broken = Api::<ConfigMap>::namespaced(client.clone(), "shop")
        .create(&PostParams::default(), &broken)
        .await?;
    let recorder =
        Recorder::builder(Arc::new(KubeSink::new(client.clone())), CONTROLLER).build()?;
    tokio::spawn(run(client, recorder, Some("shop"), std::future::pending()));

    let failed = expect::warning(REASON_FAILED).regarding(&broken.event_ref());
    events
        .assert_emitted(failed.note_contains("not a whole number"))
        .await;
    Ok(())
}
// README: end

#[tokio::test]
async fn the_same_expectation_in_a_unit_test() -> Result<(), Box<dyn std::error::Error>> {
    let sink = MemorySink::new();
    let ctx = Arc::new(Context::new(
        Recorder::builder(sink.arc(), CONTROLLER).build()?,
    ));
    let broken = Arc::new(managed_configmap("shop", "web", &[(REPLICAS_KEY, "three")]));
    assert!(reconcile(Arc::clone(&broken), ctx).await.is_err());

    let failed = expect::warning(REASON_FAILED).regarding(&broken.event_ref());
    sink.assert_emitted(failed.note_contains("not a whole number"));
    Ok(())
}

#[test]
fn the_readme_shows_the_end_to_end_test_as_it_is() {
    support::assert_readme_shows(include_str!("configmap_e2e.rs"), "this test");
}
