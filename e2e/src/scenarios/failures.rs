//! Scenarios 5-7: an event that expired on the server, a token without
//! `patch`, and a flood through injected faults.

use std::time::Duration;

use event_core::{Error, Event, ObjectRef, Published};

use event_core::sink::SinkError;

use event_core::config::RetryPolicy;
use event_kube::EventRefExt;
use event_testing::{ClusterEvents, expect};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::Kubeconfig;
use kube_apiserver_double::{ApiServer, RandomFaults};
use serde_json::json;

use super::basic::SHUTDOWN;
use super::{ScenarioResult, short, watch, watch_namespace};
use crate::counting::{created, describe_writes, failures};
use crate::report::Outcome;
use crate::suite::{
    CONFIGMAP, CONTROLLER, Context, NO_PATCH_TOKEN, NO_PATCH_USER, Res, Suite, config_from,
    create_configmap, ensure, load_config, random_suffix,
};
use event_testing::WriteKind;

/// 5. After the server lost the event (TTL on the double, a delete on a
///    cluster), the next write creates it again with the series carried.
pub(super) async fn expired(suite: &Suite) -> ScenarioResult {
    // Expiring on the shared double would take the other scenarios' events
    // with it, so the double case gets a server of its own.
    let own = match &suite.server {
        Some(_) => Some(ApiServer::start().await.ctx("starting a second double")?),
        None => None,
    };
    let (config, client) = match &own {
        Some(server) => (
            load_config(server.kubeconfig_path()).await?,
            server.client().await.ctx("client of the second double")?,
        ),
        None => (suite.config.clone(), suite.client.clone()),
    };
    if let Some(server) = &own {
        server
            .create_namespace(&suite.namespace)
            .ctx("creating the namespace")?;
    }
    let cm = create_configmap(&client, &suite.namespace, "expiry", &[("mode", "slow")])
        .await
        .ctx("creating a ConfigMap")?;
    let regarding = cm.event_ref();
    let (recorder, sink) = suite.stack(config, CONTROLLER, |b| b)?;
    let event = Event::warning("SyncFailed", "Syncing").note("upstream unavailable");
    let first = recorder
        .publish(&event, &regarding)
        .await
        .ctx("publish #1")?;
    let second = recorder
        .publish(&event, &regarding)
        .await
        .ctx("publish #2")?;
    ensure(
        first == Published::Created && second == (Published::SeriesUpdated { count: 2 }),
        || format!("publishes #1 and #2 gave {first:?} and {second:?}"),
    )?;
    let old = created(&sink)
        .first()
        .cloned()
        .ok_or("no create recorded")?;

    let how = match &own {
        Some(server) => {
            let expired = server.expire_events();
            ensure(expired == 1, || {
                format!("the double expired {expired} events, expected 1")
            })?;
            "expired on the double"
        }
        None => {
            Api::<K8sEvent>::namespaced(client.clone(), &old.namespace)
                .delete(&old.name, &DeleteParams::default())
                .await
                .ctx("deleting the event")?;
            "deleted through the API"
        }
    };
    let mark = sink.calls().len();
    for i in 3..=4 {
        recorder
            .publish(&event, &regarding)
            .await
            .map_err(|e| format!("publish #{i} after the event was {how}: {e}"))?;
    }
    recorder.flush().await;
    let report = recorder.shutdown(SHUTDOWN).await;
    ensure(report.is_complete(), || {
        format!("{} events not written at shutdown", report.unwritten.len())
    })?;
    let after: Vec<_> = sink.calls().into_iter().skip(mark).collect();
    let creates: Vec<_> = after
        .iter()
        .filter(|c| c.kind == WriteKind::Create && c.result.is_ok())
        .collect();
    let not_found = after
        .iter()
        .filter(|c| c.kind == WriteKind::PatchSeries && c.result == Err(SinkError::NotFound))
        .count();
    let [create] = creates.as_slice() else {
        return Err(format!(
            "expected 1 create after the event was {how}, saw {}",
            creates.len()
        ));
    };
    ensure(not_found == 1, || {
        format!("expected 1 patch answered 404 after the event was {how}, saw {not_found}")
    })?;
    let carried = create.record.series.map(|s| s.count);
    ensure(carried.is_some_and(|c| c >= 3), || {
        format!("the new event was created with series {carried:?}, expected the count carried")
    })?;
    // The series' name is derived from its key: the Event comes back under
    // the name it had.
    ensure(create.record.name == old.name, || {
        format!(
            "the event came back as {}, expected its name {}",
            create.record.name, old.name
        )
    })?;
    let events = watch(ClusterEvents::builder(client).namespace(&create.record.namespace)).await?;
    let stored = events
        .wait_for(expect::warning("SyncFailed").regarding(&regarding).count(4))
        .await
        .map_err(|e| e.to_string())?;
    ensure(stored.name == create.record.name, || {
        format!(
            "the Event of count 4 is {}, expected the one created again, {}",
            stored.name, create.record.name
        )
    })?;
    Ok(Outcome::Pass(format!(
        "event {how}: {not_found} patch -> 404, then 1 create under the same name with series count \
         {} carried, stored count 4 after 4 occurrences; {} in all",
        carried.unwrap_or(0),
        describe_writes(&sink)
    )))
}

/// On a cluster: a ServiceAccount allowed only to create events; returns
/// the user name to impersonate.
async fn create_only_account(suite: &Suite) -> Res<String> {
    let ns = suite.namespace.as_str();
    let name = "event-creator";
    let pp = PostParams::default();
    let sa: ServiceAccount = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
    }))
    .ctx("ServiceAccount")?;
    let role: Role = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "rules": [{"apiGroups": [suite.events_group()], "resources": ["events"], "verbs": ["create"]}],
    }))
    .ctx("Role")?;
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": {"name": name, "namespace": ns},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
    }))
    .ctx("RoleBinding")?;
    Api::<ServiceAccount>::namespaced(suite.client.clone(), ns)
        .create(&pp, &sa)
        .await
        .ctx("creating the ServiceAccount")?;
    Api::<Role>::namespaced(suite.client.clone(), ns)
        .create(&pp, &role)
        .await
        .ctx("creating the Role")?;
    Api::<RoleBinding>::namespaced(suite.client.clone(), ns)
        .create(&pp, &binding)
        .await
        .ctx("creating the RoleBinding")?;
    Ok(format!("system:serviceaccount:{ns}:{name}"))
}

/// On a cluster: waits until the impersonated user may create events
/// through the suite's transport (RBAC takes a moment to apply), probing
/// with a dry-run create. Authorization comes before decoding, so any
/// answer but 403 means the create is allowed, whichever API the body
/// suits. `Err` carries a skip reason when impersonation itself is refused.
async fn wait_until_allowed(suite: &Suite, config: &kube::Config) -> Result<(), Outcome> {
    let client = kube::Client::try_from(config.clone())
        .map_err(|e| Outcome::Fail(format!("building the impersonating client: {e}")))?;
    let ns = suite.namespace.as_str();
    let probe = json!({
        "metadata": {"name": format!("e2e-probe-{}", random_suffix()), "namespace": ns},
        "eventTime": event_core::clock::format_micro_time(event_core::clock::truncate_to_micros(jiff::Timestamp::now())),
        "reportingController": CONTROLLER,
        "reportingInstance": "e2e",
        "action": "Probing",
        "reason": "Probe",
        "type": "Normal",
        "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "name": CONFIGMAP, "namespace": ns},
    });
    let dry_run = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let request = || {
        kube::core::Request::new(suite.events_path())
            .create(&dry_run, probe.to_string().into_bytes())
            .map_err(|e| Outcome::Fail(format!("probe request: {e}")))
    };
    let mut last = String::new();
    for _ in 0..20 {
        match client.request_text(request()?).await {
            // Past authorization: anything but 403 means the create is allowed.
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code != 403 => return Ok(()),
            Err(kube::Error::Api(s)) if s.message.contains("impersonate") => {
                return Err(Outcome::Skip(format!(
                    "impersonation refused: {}",
                    short(&s.message)
                )));
            }
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(Outcome::Fail(format!(
        "the create-only account never got to create events: {last}"
    )))
}

/// 6. Without `patch`, the second occurrence fails with `Forbidden` and the
///    RBAC rule, and the controller goes on.
pub(super) async fn forbidden(suite: &Suite) -> ScenarioResult {
    let (config, user) = match &suite.server {
        Some(server) => {
            let kc = Kubeconfig::from_yaml(&server.kubeconfig(Some(NO_PATCH_TOKEN)))
                .ctx("kubeconfig of the limited token")?;
            let config = config_from(kc)
                .await
                .map_err(|e| format!("the limited token: {e}"))?;
            (config, NO_PATCH_USER.to_owned())
        }
        None => {
            let user = match create_only_account(suite).await {
                Ok(user) => user,
                Err(why) => {
                    return Ok(Outcome::Skip(format!(
                        "could not set up a create-only ServiceAccount to impersonate: {}",
                        short(&why)
                    )));
                }
            };
            let mut config = suite.config.clone();
            config.auth_info.impersonate = Some(user.clone());
            if let Err(outcome) = wait_until_allowed(suite, &config).await {
                return Ok(outcome);
            }
            (config, user)
        }
    };
    let (recorder, sink) = suite.stack(config, CONTROLLER, |b| b)?;
    let regarding = suite.configmap.event_ref();
    let event = Event::warning("QuotaExceeded", "Scaling").note("namespace quota reached");
    let first = recorder.publish(&event, &regarding).await;
    if first != Ok(Published::Created) {
        recorder.shutdown(SHUTDOWN).await;
        return Err(format!(
            "the first publish as {user} gave {first:?}, expected Created"
        ));
    }
    let second = recorder.publish(&event, &regarding).await;
    let message = match second {
        Err(Error::Sink(SinkError::Forbidden { message })) => message,
        other => {
            recorder.shutdown(SHUTDOWN).await;
            return Err(format!(
                "the second publish (a patch) gave {other:?}, expected Forbidden"
            ));
        }
    };
    // The controller goes on: more occurrences, another event, emits.
    let third = recorder.publish(&event, &regarding).await;
    let other = Event::normal("ScaledDown", "Scaling").note("scaled to 2 replicas");
    let fourth = recorder.publish(&other, &regarding).await;
    let mut emitted = 0;
    for _ in 0..10 {
        if recorder.emit(&event, &regarding).is_ok() {
            emitted += 1;
        }
    }
    recorder.flush().await;
    let report = recorder.shutdown(SHUTDOWN).await;
    ensure(
        message.contains("cannot patch") && message.contains(suite.rbac_hint()),
        || format!("the Forbidden message lacks the server's reason or the RBAC rule: {message}"),
    )?;
    ensure(fourth == Ok(Published::Created), || {
        format!("a new event after the Forbidden gave {fourth:?}, expected Created")
    })?;
    ensure(emitted == 10, || format!("{emitted} of 10 emits accepted"))?;
    Ok(Outcome::Pass(format!(
        "as {user}: create ok, patch -> Forbidden \"{message}\"; afterwards a repeat returned \
         {}, a new event Created, 10 emits accepted, shutdown returned ({} writes failed, {} \
         unwritten; {})",
        match &third {
            Ok(p) => format!("{p:?}"),
            Err(e) => format!("Err({})", short(&e.to_string())),
        },
        report.stats.failed,
        report.unwritten.len(),
        describe_writes(&sink)
    )))
}

const FAULT_RATE: f64 = 0.3;
const FAULT_SEED: u64 = 6;
const FLOOD_OBJECTS: usize = 100;
const FLOOD_PER_OBJECT: u32 = 100;

/// 7. 10,000 publishes over 100 objects through 30% injected 5xx and dropped
///    connections: every stored count is exact after shutdown.
pub(super) async fn faults(suite: &Suite) -> ScenarioResult {
    let Some(server) = &suite.server else {
        return Ok(Outcome::Skip(
            "needs the local API double's fault injection".into(),
        ));
    };
    let prefix = suite.events_path();
    let faults = server.faults();
    let injected_before = faults.injected();
    // At a 30% failure rate, five attempts lose about one write in 400; the
    // retry budget is sized for the rate (20 attempts), with short backoffs.
    let retry = RetryPolicy::default()
        .max_attempts(20)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(50));
    let (recorder, sink) = suite.stack(suite.config.clone(), CONTROLLER, |b| b.retry(retry))?;
    faults.set_random(Some(
        RandomFaults::new(FAULT_SEED, FAULT_RATE).path_prefix(prefix.clone()),
    ));
    let event = Event::warning("ProbeFailed", "Probing").note("liveness probe failed");
    // A set, not a list of handles: a scenario that times out aborts its
    // tasks by dropping it.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..FLOOD_OBJECTS {
        let recorder = recorder.clone();
        let event = event.clone();
        let regarding = ObjectRef::new("v1", "ConfigMap", format!("flood-{i:03}"))
            .within(&suite.namespace)
            .with_uid(format!("00000000-0000-4000-8000-{i:012}"));
        tasks.spawn(async move {
            let mut errors = 0_u32;
            for _ in 0..FLOOD_PER_OBJECT {
                if recorder.publish(&event, &regarding).await.is_err() {
                    errors += 1;
                }
            }
            errors
        });
    }
    let mut publish_errors = 0;
    let mut panics = 0;
    while let Some(task) = tasks.join_next().await {
        match task {
            Ok(errors) => publish_errors += errors,
            Err(e) if e.is_panic() => panics += 1,
            Err(e) => return Err(format!("a publishing task ended: {e}")),
        }
    }
    let report = recorder.shutdown(Duration::from_secs(60)).await;
    faults.set_random(None);
    let injected = faults.injected() - injected_before;
    // The scenario means something only if the faults reached the writes.
    ensure(injected > 0, || {
        format!("no fault was injected on requests under {prefix}")
    })?;
    ensure(panics == 0, || {
        format!("{panics} publishing tasks panicked")
    })?;
    ensure(report.is_complete(), || {
        format!("{} events not written at shutdown", report.unwritten.len())
    })?;

    // One Event per object, of count 100, and no other ProbeFailed Event.
    let events = watch_namespace(suite).await?;
    let mut held: Vec<(String, u32)> = events
        .matching(&expect::warning("ProbeFailed").from(CONTROLLER))
        .into_iter()
        .map(|r| (r.regarding.name.clone(), r.count()))
        .collect();
    held.sort();
    let want: Vec<(String, u32)> = (0..FLOOD_OBJECTS)
        .map(|i| (format!("flood-{i:03}"), FLOOD_PER_OBJECT))
        .collect();
    ensure(held == want, || {
        let wrong: Vec<String> = held
            .iter()
            .filter(|h| !want.contains(h))
            .map(|(name, count)| format!("{name}: {count}"))
            .collect();
        format!(
            "{} events for {FLOOD_OBJECTS} objects; wrong: {}",
            held.len(),
            wrong.join(", ")
        )
    })?;
    let stats = report.stats;
    Ok(Outcome::Pass(format!(
        "{} publishes over {FLOOD_OBJECTS} objects with {:.0}% injected 5xx/dropped connections \
         (seed {FAULT_SEED}): {FLOOD_OBJECTS} events, every series count {FLOOD_PER_OBJECT}; \
         {injected} faults injected, {} retries, {} sink calls ({} failed), {publish_errors} \
         publish errors returned, no panic",
        stats.published,
        FAULT_RATE * 100.0,
        stats.retried,
        sink.calls().len(),
        failures(&sink),
    )))
}
