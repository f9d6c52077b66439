//! Scenarios 1-4: one event through both API versions, a series, a
//! cluster-scoped object, and input refused before any request.

use std::time::Duration;

use event_core::{Error, Event, Published, Recorder};

use event_core::sink::EventRecord;

use event_core::clock::format_micro_time;
use event_kube::EventRefExt;
use event_testing::{ClusterEvents, expect};
use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
use kube::api::{Api, ListParams};

use super::{
    REPEATS, ScenarioResult, backoff_event, loaded_event, node_event, short, show, watch,
    watch_namespace,
};
use crate::counting::{CountingSink, counting, created, describe_writes, failures};
use crate::report::Outcome;
use crate::suite::{CONTROLLER, Context, Res, Suite, ensure};

pub(super) const SHUTDOWN: Duration = Duration::from_secs(30);

/// Collects field mismatches.
#[derive(Default)]
struct Diff(Vec<String>);

impl Diff {
    fn field(&mut self, name: &str, got: Option<&str>, want: &str) {
        if got != Some(want) {
            self.0.push(format!("{name} is {got:?}, expected {want:?}"));
        }
    }

    fn reference(&mut self, prefix: &str, got: Option<&ObjectReference>, want: &EventRecord) {
        let Some(got) = got else {
            self.0.push(format!("{prefix} is missing"));
            return;
        };
        let r = &want.regarding;
        self.field(
            &format!("{prefix}.apiVersion"),
            got.api_version.as_deref(),
            &r.api_version,
        );
        self.field(&format!("{prefix}.kind"), got.kind.as_deref(), &r.kind);
        self.field(&format!("{prefix}.name"), got.name.as_deref(), &r.name);
        self.field(
            &format!("{prefix}.namespace"),
            got.namespace.as_deref(),
            r.namespace.as_deref().unwrap_or(""),
        );
        self.field(
            &format!("{prefix}.uid"),
            got.uid.as_deref(),
            r.uid.as_deref().unwrap_or(""),
        );
    }

    fn result(self) -> Res<()> {
        ensure(self.0.is_empty(), || self.0.join("; "))
    }
}

/// The single successful create of a sink, or why there is not exactly one.
fn single_create(sink: &CountingSink) -> Res<EventRecord> {
    let created = created(sink);
    match created.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!(
            "expected exactly 1 create, the sink saw {}",
            describe_writes(sink)
        )),
    }
}

/// 1. A Normal event on a ConfigMap, read back through events.k8s.io/v1 and
///    core/v1.
pub(super) async fn normal_event(suite: &Suite) -> ScenarioResult {
    let (recorder, sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b)?;
    let regarding = suite.configmap.event_ref();
    let event = loaded_event();
    let published = recorder.publish(&event, &regarding).await.ctx("publish")?;
    recorder.shutdown(SHUTDOWN).await;
    ensure(published == Published::Created, || {
        format!("publish returned {published:?}, expected Created")
    })?;
    let record = single_create(&sink)?;
    ensure(sink.calls().len() == 1, || {
        format!("expected 1 write, saw {}", describe_writes(&sink))
    })?;
    let note = event.note.as_deref().unwrap_or("");

    // events.k8s.io/v1: the Event read back is the record written, field
    // for field.
    let events = watch_namespace(suite).await?;
    let expected = expect::normal(&event.reason)
        .regarding(&regarding)
        .action(&event.action)
        .note(note)
        .from(CONTROLLER)
        .count(1);
    let stored = events
        .wait_for(&expected)
        .await
        .map_err(|e| format!("events.k8s.io/v1: {e}"))?;
    ensure(stored == record, || {
        format!("events.k8s.io/v1: read back {stored:?}, written {record:?}")
    })?;

    let selector = format!("involvedObject.name={}", regarding.name);
    let core: Api<CoreEvent> = Api::namespaced(suite.client.clone(), &record.namespace);
    let listed = core
        .list(&ListParams::default().fields(&selector))
        .await
        .ctx("listing through core/v1")?;
    let core_event = listed
        .items
        .iter()
        .find(|e| e.metadata.name.as_deref() == Some(record.name.as_str()))
        .ok_or_else(|| {
            format!(
                "core/v1 with fieldSelector {selector} returned {} events, not ours",
                listed.items.len()
            )
        })?;
    let mut diff = Diff::default();
    diff.field("reason", core_event.reason.as_deref(), &event.reason);
    diff.field("action", core_event.action.as_deref(), &event.action);
    diff.field("message", core_event.message.as_deref(), note);
    diff.field("type", core_event.type_.as_deref(), "Normal");
    diff.field(
        "reportingComponent",
        core_event.reporting_component.as_deref(),
        CONTROLLER,
    );
    diff.reference("involvedObject", Some(&core_event.involved_object), &record);
    if core_event.event_time.as_ref().map(|t| t.0) != Some(record.event_time) {
        diff.0.push(format!(
            "eventTime is {:?}, expected {}",
            core_event
                .event_time
                .as_ref()
                .map(|t| format_micro_time(t.0)),
            format_micro_time(record.event_time)
        ));
    }
    diff.result().map_err(|e| format!("core/v1: {e}"))?;

    Ok(Outcome::Pass(format!(
        "Normal {} on {} from {CONTROLLER}, eventTime {}: same fields through events.k8s.io/v1 \
         and core/v1 (fieldSelector {selector}); {}",
        event.reason,
        show(&regarding),
        format_micro_time(record.event_time),
        describe_writes(&sink),
    )))
}

/// 2. 1,000 repeats of one event: at most 3 writes, stored count 1,000.
pub(super) async fn series(suite: &Suite) -> ScenarioResult {
    let (recorder, sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b)?;
    let regarding = suite.configmap.event_ref();
    let event = backoff_event();
    let path = suite.events_path();
    let log = suite
        .server
        .as_ref()
        .map(kube_apiserver_double::ApiServer::requests);
    let before = log
        .as_ref()
        .map(|l| (l.count("POST", &path), l.count("PATCH", &path)));
    for i in 0..REPEATS {
        recorder
            .publish(&event, &regarding)
            .await
            .map_err(|e| format!("publish #{}: {e}", i + 1))?;
    }
    recorder.flush().await;
    let report = recorder.shutdown(SHUTDOWN).await;
    ensure(report.is_complete(), || {
        format!("{} events not written at shutdown", report.unwritten.len())
    })?;
    let writes = sink.calls().len();
    ensure(writes <= 3 && failures(&sink) == 0, || {
        format!(
            "expected at most 3 successful writes, saw {} ({} failed)",
            describe_writes(&sink),
            failures(&sink)
        )
    })?;
    let record = single_create(&sink)?;
    let events = watch_namespace(suite).await?;
    let backoff = expect::warning(&event.reason).regarding(&regarding);
    events
        .wait_for(backoff.clone().count(REPEATS))
        .await
        .map_err(|e| e.to_string())?;
    let held: Vec<String> = events
        .matching(&backoff)
        .into_iter()
        .map(|r| r.name)
        .collect();
    ensure(held == [record.name.clone()], || {
        format!(
            "expected only the Event {} to match, found {held:?}",
            record.name
        )
    })?;
    let mut figure = format!(
        "{REPEATS} publishes -> {}, stored series count {REPEATS}",
        describe_writes(&sink)
    );
    if let (Some(log), Some((posts, patches))) = (log, before) {
        let posts = log.count("POST", &path) - posts;
        let patches = log.count("PATCH", &path) - patches;
        ensure(posts + patches == writes, || {
            format!(
                "the double's log shows {posts} POST + {patches} PATCH, the sink {writes} writes"
            )
        })?;
        figure.push_str(&format!(" (double's log: {posts} POST, {patches} PATCH)"));
    }
    Ok(Outcome::Pass(figure))
}

/// 3. A Node's event goes to `default` and keeps an empty regarding
///    namespace.
pub(super) async fn node(suite: &Suite) -> ScenarioResult {
    let Some(node) = &suite.node else {
        return Ok(Outcome::Skip("the cluster lists no Node".into()));
    };
    let (recorder, sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b)?;
    let regarding = node.event_ref();
    let published = recorder.publish(&node_event(), &regarding).await;
    recorder.shutdown(SHUTDOWN).await;
    suite.track(&sink);
    let published = published.ctx("publish")?;
    ensure(published == Published::Created, || {
        format!("publish returned {published:?}, expected Created")
    })?;
    let record = single_create(&sink)?;
    ensure(record.namespace == "default", || {
        format!(
            "the event went to namespace {:?}, expected \"default\"",
            record.namespace
        )
    })?;
    let events = watch(
        ClusterEvents::builder(suite.client.clone())
            .namespace("default")
            .fields(format!("metadata.name={}", record.name)),
    )
    .await?;
    let stored = events
        .wait_for(expect::normal(&node_event().reason).regarding(&regarding))
        .await
        .map_err(|e| e.to_string())?;
    let regarding_ns = stored.regarding.namespace.unwrap_or_default();
    ensure(regarding_ns.is_empty(), || {
        format!("regarding.namespace is {regarding_ns:?}, expected empty")
    })?;
    let selector = format!(
        "involvedObject.kind=Node,involvedObject.name={},involvedObject.namespace=",
        regarding.name
    );
    let core: Api<CoreEvent> = Api::namespaced(suite.client.clone(), "default");
    let listed = core
        .list(&ListParams::default().fields(&selector))
        .await
        .ctx("listing through core/v1")?;
    ensure(
        listed
            .items
            .iter()
            .any(|e| e.metadata.name.as_deref() == Some(record.name.as_str())),
        || format!("core/v1 with fieldSelector {selector} does not list it"),
    )?;
    Ok(Outcome::Pass(format!(
        "event default/{} about {}: regarding namespace empty, listed by {selector}",
        record.name,
        show(&regarding)
    )))
}

/// 4. A 129-byte reason and a controller name with a space are refused
///    before any request.
pub(super) async fn invalid(suite: &Suite) -> ScenarioResult {
    let before = suite.server.as_ref().map(|s| s.requests().total());
    let (recorder, sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b)?;
    let long = Event::normal("R".repeat(129), "Checking");
    let published = recorder.publish(&long, &suite.configmap.event_ref()).await;
    recorder.shutdown(SHUTDOWN).await;
    let reason_error = match published {
        Err(Error::Invalid(e)) => e.to_string(),
        other => {
            return Err(format!(
                "a 129-byte reason gave {other:?}, expected Invalid"
            ));
        }
    };
    ensure(reason_error.contains("reason"), || {
        format!("the error does not name the field: {reason_error}")
    })?;

    let other_sink = counting(suite.sink(suite.config.clone())?);
    let controller_error = match Recorder::builder(other_sink.clone(), "my controller").build() {
        Err(Error::Invalid(e)) => e.to_string(),
        Err(e) => {
            return Err(format!(
                "controller `my controller` gave {e}, expected Invalid"
            ));
        }
        Ok(_) => return Err("controller `my controller` was accepted".into()),
    };
    let calls = sink.calls().len() + other_sink.calls().len();
    ensure(calls == 0, || format!("{calls} sink calls, expected 0"))?;
    let mut figure = format!(
        "reason of 129 bytes: \"{}\"; controller `my controller`: \"{}\"; 0 sink calls",
        short(&reason_error),
        short(&controller_error)
    );
    if let (Some(server), Some(before)) = (&suite.server, before) {
        let sent = server.requests().total() - before;
        ensure(sent == 0, || format!("the double received {sent} requests"))?;
        figure.push_str(", 0 requests at the double");
    }
    Ok(Outcome::Pass(figure))
}
