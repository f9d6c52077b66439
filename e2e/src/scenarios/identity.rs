//! Scenario 10: a controller restarted mid-series continues its Event.

use event_core::{Event, Published};

use event_core::sink::EventRecord;
use event_kube::EventRefExt;
use event_testing::expect;

use super::basic::SHUTDOWN;
use super::{ScenarioResult, watch_namespace};
use crate::counting::describe_writes;
use crate::kubectl;
use crate::report::Outcome;
use crate::suite::{CONFIGMAP, CONTROLLER, Context, Suite, ensure};

/// Occurrences before and after the restart.
const HALF: u32 = 5;

fn crash_event() -> Event {
    Event::warning("CrashLoop", "Restarting").note("the controller's worker crashed")
}

/// 10. Five occurrences, a shutdown, a new Recorder with the same reporter
///     (a restarted controller), five more: one Event of count 10.
pub(super) async fn restart(suite: &Suite) -> ScenarioResult {
    let regarding = suite.configmap.event_ref();
    let mut writes = Vec::new();
    let mut first_after = None;
    for life in 0..2 {
        // The same reporter both times: the controller name, and the
        // instance derived from this host.
        let (recorder, sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b)?;
        for i in 0..HALF {
            let out = recorder
                .publish(&crash_event(), &regarding)
                .await
                .ctx("publishing")?;
            if life == 1 && i == 0 {
                first_after = Some(out);
            }
        }
        let report = recorder.shutdown(SHUTDOWN).await;
        ensure(report.is_complete(), || {
            format!("{} events not written at shutdown", report.unwritten.len())
        })?;
        suite.track(&sink);
        writes.push(describe_writes(&sink));
    }
    ensure(
        first_after == Some(Published::SeriesUpdated { count: HALF + 1 }),
        || format!("the restarted controller's first publish returned {first_after:?}"),
    )?;
    let events = watch_namespace(suite).await?;
    let crash_loop = expect::warning("CrashLoop");
    events
        .wait_for(crash_loop.clone().regarding(&regarding).count(2 * HALF))
        .await
        .map_err(|e| e.to_string())?;
    let counts: Vec<u32> = events
        .matching(&crash_loop)
        .iter()
        .map(EventRecord::count)
        .collect();
    ensure(counts == [2 * HALF], || {
        format!(
            "expected one CrashLoop Event of count {}, found counts {counts:?}",
            2 * HALF
        )
    })?;
    let mut shown = String::new();
    if let Some(kubectl) = kubectl::find() {
        let args = [
            "describe",
            "configmap",
            CONFIGMAP,
            "-n",
            suite.namespace.as_str(),
        ];
        let out = kubectl::run(&kubectl, suite.kubeconfig.as_path(), &args).await?;
        let rows: Vec<&str> = out.lines().filter(|l| l.contains("CrashLoop")).collect();
        let want = format!("(x{} over", 2 * HALF);
        ensure(rows.len() == 1 && rows[0].contains(&want), || {
            format!(
                "kubectl describe configmap shows {} CrashLoop rows, expected one with {want}:\n{out}",
                rows.len()
            )
        })?;
        shown = format!("; kubectl describe: one row {want} ...)");
    }
    Ok(Outcome::Pass(format!(
        "{HALF} occurrences, restart, {HALF} more: one Event of count {}{shown}; writes before/after: {} / {}",
        2 * HALF,
        writes[0],
        writes[1]
    )))
}
