//! Scenario 8: what the real kubectl shows of our events.

use event_core::Event;
use event_kube::EventRefExt;

use super::basic::SHUTDOWN;
use super::{REPEATS, ScenarioResult, backoff_event, loaded_event, node_event};
use crate::kubectl;
use crate::report::Outcome;
use crate::suite::{CONFIGMAP, CONTROLLER, Context, POD, Res, Suite};

/// Occurrences of the Pod's event (on the double).
const POD_REPEATS: u32 = 5;

fn pod_event() -> Event {
    Event::warning("Unhealthy", "Probing").note("readiness probe failed: HTTP 503")
}

/// What a row of kubectl's output must show.
struct Row<'a> {
    type_: &'a str,
    event: Event,
    /// `describe` has a From column; `kubectl events` has the object.
    column: String,
    /// `(xN over` for a series.
    series: Option<u32>,
}

fn expect_row(output: &str, command: &str, row: &Row<'_>) -> Res<()> {
    let note = row.event.note.as_deref().unwrap_or("");
    let line = output
        .lines()
        .find(|l| l.contains(&row.event.reason) && l.contains(row.type_))
        .ok_or_else(|| {
            format!(
                "`{command}` shows no {} {} row; it printed:\n{output}",
                row.type_, row.event.reason
            )
        })?;
    let mut missing: Vec<String> = [note, row.column.as_str()]
        .iter()
        .filter(|s| !line.contains(*s))
        .map(|s| format!("{s:?}"))
        .collect();
    if let Some(n) = row.series
        && !line.contains(&format!("(x{n} over"))
    {
        missing.push(format!("\"(x{n} over\""));
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`{command}`: the {} row lacks {}: {line}",
            row.event.reason,
            missing.join(", ")
        ))
    }
}

/// 8. `kubectl describe` of the ConfigMap, the Pod (double) and the Node,
///    and `kubectl events --for`, show our events.
pub(super) async fn describe_and_events(suite: &Suite) -> ScenarioResult {
    let Some(kubectl) = kubectl::find() else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            return Err("kubectl is not on PATH (required when CI=true)".into());
        }
        return Ok(Outcome::Skip(
            "kubectl is not on PATH; install it to check what kubectl shows".into(),
        ));
    };
    if let Some(pod) = &suite.pod {
        let (recorder, _sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b)?;
        for _ in 0..POD_REPEATS {
            recorder
                .publish(&pod_event(), &pod.event_ref())
                .await
                .ctx("publishing the Pod's event")?;
        }
        recorder.flush().await;
        recorder.shutdown(SHUTDOWN).await;
    }
    let ns = suite.namespace.as_str();
    let kc = suite.kubeconfig.as_path();
    let from = CONTROLLER.to_owned();
    let mut shown = Vec::new();

    let args = ["describe", "configmap", CONFIGMAP, "-n", ns];
    let command = format!("kubectl {}", args.join(" "));
    let out = kubectl::run(&kubectl, kc, &args).await?;
    for row in [
        Row {
            type_: "Normal",
            event: loaded_event(),
            column: from.clone(),
            series: None,
        },
        Row {
            type_: "Warning",
            event: backoff_event(),
            column: from.clone(),
            series: Some(REPEATS),
        },
    ] {
        expect_row(&out, &command, &row)?;
    }
    shown.push(format!(
        "describe configmap: 2 events incl. (x{REPEATS} over ...)"
    ));

    if suite.pod.is_some() {
        let args = ["describe", "pod", POD, "-n", ns];
        let command = format!("kubectl {}", args.join(" "));
        let out = kubectl::run(&kubectl, kc, &args).await?;
        let row = Row {
            type_: "Warning",
            event: pod_event(),
            column: from.clone(),
            series: Some(POD_REPEATS),
        };
        expect_row(&out, &command, &row)?;
        shown.push(format!("describe pod: (x{POD_REPEATS} over ...)"));
    }
    if let Some(node) = &suite.node {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        let args = ["describe", "node", name];
        let command = format!("kubectl {}", args.join(" "));
        let out = kubectl::run(&kubectl, kc, &args).await?;
        let row = Row {
            type_: "Normal",
            event: node_event(),
            column: from.clone(),
            series: None,
        };
        expect_row(&out, &command, &row)?;
        shown.push("describe node: 1 event".to_owned());
    }

    let target = format!("configmap/{CONFIGMAP}");
    let args = ["events", "-n", ns, "--for", target.as_str()];
    let command = format!("kubectl {}", args.join(" "));
    let out = kubectl::run(&kubectl, kc, &args).await?;
    let object = format!("ConfigMap/{CONFIGMAP}");
    for row in [
        Row {
            type_: "Normal",
            event: loaded_event(),
            column: object.clone(),
            series: None,
        },
        Row {
            type_: "Warning",
            event: backoff_event(),
            column: object.clone(),
            series: None,
        },
    ] {
        expect_row(&out, &command, &row)?;
    }
    shown.push(format!("events --for {target}: 2 rows"));
    if suite.pod.is_some() {
        let target = format!("pod/{POD}");
        let args = ["events", "-n", ns, "--for", target.as_str()];
        let command = format!("kubectl {}", args.join(" "));
        let out = kubectl::run(&kubectl, kc, &args).await?;
        let row = Row {
            type_: "Warning",
            event: pod_event(),
            column: format!("Pod/{POD}"),
            series: None,
        };
        expect_row(&out, &command, &row)?;
        shown.push(format!("events --for {target}: 1 row"));
    }
    Ok(Outcome::Pass(format!(
        "Type, Reason, From {CONTROLLER} and Message shown by {}",
        shown.join("; ")
    )))
}
