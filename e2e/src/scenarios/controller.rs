//! Scenario 9: the ConfigMap controller example against the target.

use std::time::Duration;

use event_core::ObjectRef;
use event_kube::EventRefExt;
use event_testing::{Expectation, expect};
use examples::configmap_controller as cc;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};

use super::basic::SHUTDOWN;
use super::{AbortOnDrop, ScenarioResult, short, watch_namespace};
use crate::counting::describe_writes;
use crate::report::Outcome;
use crate::suite::{Context, Suite, ensure};

/// (name, replicas, valid)
const CONFIGMAPS: [(&str, &str, bool); 3] = [
    ("ctl-web", "3", true),
    ("ctl-worker", "5", true),
    ("ctl-broken", "three", false),
];

/// The one kind of Event a ConfigMap of the example should get: Normal
/// `Reconciled` with the applied count, or Warning `ReconcileFailed` naming
/// the bad value.
fn expected(configmap: &ObjectRef, replicas: &str, valid: bool) -> Expectation {
    let expectation = if valid {
        expect::normal(cc::REASON_RECONCILED).note(format!(
            "configuration applied: {}={replicas}",
            cc::REPLICAS_KEY
        ))
    } else {
        expect::warning(cc::REASON_FAILED)
            .note_contains(format!("{replicas:?}"))
            .note_contains("not a whole number")
    };
    expectation.regarding(configmap).from(cc::CONTROLLER)
}

/// 9. The ConfigMap controller example, run against the target: three
///    labelled ConfigMaps, one invalid, each gets the right event.
pub(super) async fn configmap_controller(suite: &Suite) -> ScenarioResult {
    let ns = suite.namespace.clone();
    let cms: Api<ConfigMap> = Api::namespaced(suite.client.clone(), &ns);
    let mut expectations = Vec::new();
    for (name, replicas, valid) in CONFIGMAPS {
        let cm = cc::managed_configmap(&ns, name, &[(cc::REPLICAS_KEY, replicas)]);
        let created = cms
            .create(&PostParams::default(), &cm)
            .await
            .ctx("creating a ConfigMap")?;
        expectations.push((
            created.event_ref(),
            expected(&created.event_ref(), replicas, valid),
        ));
    }
    let events = watch_namespace(suite).await?;
    let (recorder, sink) = suite.stack(suite.config.clone(), cc::CONTROLLER, |b| b)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut controller = {
        let client = suite.client.clone();
        let recorder = recorder.clone();
        let ns = ns.clone();
        tokio::spawn(async move {
            let stop = async move {
                let _ = stop_rx.await;
            };
            cc::run(client, recorder, Some(&ns), stop).await
        })
    };
    // Stops the controller however this scenario ends, even when it is
    // dropped at its deadline.
    let _stop_controller = AbortOnDrop(controller.abort_handle());

    let mut figures = Vec::new();
    for (_, expectation) in &expectations {
        match events.wait_for(expectation).await {
            Ok(found) => figures.push(format!(
                "{} {} {} ({:?})",
                found.regarding.name,
                found.type_.as_str(),
                found.reason,
                short(found.note.as_deref().unwrap_or(""))
            )),
            Err(e) => {
                let _ = stop_tx.send(());
                controller.abort();
                recorder.shutdown(SHUTDOWN).await;
                return Err(e.to_string());
            }
        }
    }
    let _ = stop_tx.send(());
    let summary = tokio::time::timeout(Duration::from_secs(30), &mut controller)
        .await
        .map_err(|_| "the controller did not stop within 30s".to_owned())?
        .map_err(|e| format!("the controller task ended: {e}"))?;
    recorder.shutdown(SHUTDOWN).await;

    // Each ConfigMap got only its one kind of Event.
    for (configmap, expectation) in &expectations {
        let all = events.matching(&expect::any().regarding(configmap).from(cc::CONTROLLER));
        ensure(all.iter().all(|r| expectation.matches(r)), || {
            format!(
                "{} should have only {expectation}, has:\n{}",
                configmap.name,
                events.describe(configmap)
            )
        })?;
    }
    ensure(summary.watch_errors == 0, || {
        format!("{} watch errors", summary.watch_errors)
    })?;
    ensure(summary.publish_failed == 0, || {
        format!("{} events could not be published", summary.publish_failed)
    })?;
    Ok(Outcome::Pass(format!(
        "{}; controller: {} reconciled, {} failed, {}",
        figures.join(", "),
        summary.reconciled,
        summary.failed,
        describe_writes(&sink)
    )))
}
