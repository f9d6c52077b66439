//! Scenario 9: the ConfigMap controller example against the target.

use std::time::Duration;

use event_core::sink::EventRecord;

use event_core::EventType;
use event_kube::event_record;
use examples::configmap_controller as cc;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};

use super::basic::SHUTDOWN;
use super::{ScenarioResult, short};
use crate::counting::describe_writes;
use crate::report::Outcome;
use crate::suite::{Context, Res, Suite, ensure};

/// How long the controller may take to report on all three ConfigMaps.
const WAIT: Duration = Duration::from_secs(60);

/// (name, replicas, valid)
const CONFIGMAPS: [(&str, &str, bool); 3] = [
    ("ctl-web", "3", true),
    ("ctl-worker", "5", true),
    ("ctl-broken", "three", false),
];

fn check(name: &str, replicas: &str, valid: bool, events: &[&EventRecord]) -> Res<String> {
    let shown: Vec<String> = events
        .iter()
        .map(|e| format!("{} {} {:?}", e.type_.as_str(), e.reason, e.note))
        .collect();
    let first = events
        .first()
        .ok_or_else(|| format!("{name} has no event"))?;
    let note = first.note.clone().unwrap_or_default();
    if valid {
        let want = format!("configuration applied: {}={replicas}", cc::REPLICAS_KEY);
        ensure(
            events.iter().all(|e| {
                e.type_ == EventType::Normal
                    && e.reason == cc::REASON_RECONCILED
                    && e.note.as_deref() == Some(want.as_str())
            }),
            || {
                format!(
                    "{name} should have only Normal {} {want:?}, has {shown:?}",
                    cc::REASON_RECONCILED
                )
            },
        )?;
    } else {
        ensure(
            events.iter().all(|e| {
                e.type_ == EventType::Warning
                    && e.reason == cc::REASON_FAILED
                    && e.note.as_deref().is_some_and(|n| {
                        n.contains(&format!("{replicas:?}")) && n.contains("not a whole number")
                    })
            }),
            || {
                format!(
                    "{name} should have only Warning {} with the error, has {shown:?}",
                    cc::REASON_FAILED
                )
            },
        )?;
    }
    Ok(format!(
        "{name} {} {} ({:?})",
        first.type_.as_str(),
        first.reason,
        short(&note)
    ))
}

/// 9. The ConfigMap controller example, run against the target: three
///    labelled ConfigMaps, one invalid, each gets the right event.
pub(super) async fn configmap_controller(suite: &Suite) -> ScenarioResult {
    let ns = suite.namespace.clone();
    let cms: Api<ConfigMap> = Api::namespaced(suite.client.clone(), &ns);
    for (name, replicas, _) in CONFIGMAPS {
        let cm = cc::managed_configmap(&ns, name, &[(cc::REPLICAS_KEY, replicas)]);
        cms.create(&PostParams::default(), &cm)
            .await
            .ctx("creating a ConfigMap")?;
    }
    let (recorder, sink) = suite.stack(suite.config.clone(), cc::CONTROLLER, |b| b)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let controller = {
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

    let events = suite.events(&ns);
    let started = tokio::time::Instant::now();
    let records = loop {
        let listed = events
            .list(&ListParams::default())
            .await
            .ctx("listing events")?;
        let records: Vec<EventRecord> = listed
            .items
            .iter()
            .map(event_record)
            .filter(|r| r.reporting_controller == cc::CONTROLLER)
            .collect();
        let missing: Vec<&str> = CONFIGMAPS
            .iter()
            .map(|(name, _, _)| *name)
            .filter(|name| !records.iter().any(|r| r.regarding.name == *name))
            .collect();
        if missing.is_empty() {
            break records;
        }
        if started.elapsed() > WAIT {
            let _ = stop_tx.send(());
            controller.abort();
            recorder.shutdown(SHUTDOWN).await;
            return Err(format!(
                "after {}s no event for {}",
                WAIT.as_secs(),
                missing.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let _ = stop_tx.send(());
    let summary = tokio::time::timeout(Duration::from_secs(30), controller)
        .await
        .map_err(|_| "the controller did not stop within 30s".to_owned())?
        .map_err(|e| format!("the controller task ended: {e}"))?;
    recorder.shutdown(SHUTDOWN).await;

    let mut figures = Vec::new();
    for (name, replicas, valid) in CONFIGMAPS {
        let mine: Vec<&EventRecord> = records
            .iter()
            .filter(|r| r.regarding.name == name)
            .collect();
        figures.push(check(name, replicas, valid, &mine)?);
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
