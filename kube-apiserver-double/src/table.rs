//! Server-side `Table` answers, which `kubectl get` asks for.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::crd::CustomInfo;
use super::resources::{Kind, View};
use super::store::render;

/// What a row carries besides its cells (`includeObject`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IncludeObject {
    None,
    Metadata,
    Object,
}

impl IncludeObject {
    pub(crate) fn parse(s: Option<&str>) -> IncludeObject {
        match s {
            Some("None") => IncludeObject::None,
            Some("Object") => IncludeObject::Object,
            _ => IncludeObject::Metadata,
        }
    }
}

/// A duration in seconds rendered the way kubectl shows ages (`45s`,
/// `3m20s`, `5h`, `2d3h`); a moment slightly in the future is `0s`.
pub(crate) fn human_duration(seconds: i64) -> String {
    match u64::try_from(seconds) {
        Ok(secs) => format_age(secs),
        Err(_) if seconds == -1 => "0s".to_owned(),
        Err(_) => "<invalid>".to_owned(),
    }
}

/// Whole seconds up to two minutes, then minutes and seconds up to ten
/// minutes, minutes up to three hours, hours and minutes up to eight hours,
/// hours up to two days, days and hours up to eight days, days up to two
/// years, years and days up to eight years, then years: kubectl's ages.
fn format_age(secs: u64) -> String {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const YEAR: u64 = 365 * DAY;
    let pair = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    let (minutes, hours, days) = (secs / MINUTE, secs / HOUR, secs / DAY);
    if secs < 2 * MINUTE {
        format!("{secs}s")
    } else if minutes < 10 {
        pair(minutes, "m", secs % MINUTE, "s")
    } else if minutes < 3 * 60 {
        format!("{minutes}m")
    } else if hours < 8 {
        pair(hours, "h", minutes % 60, "m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 8 * 24 {
        pair(days, "d", hours % 24, "h")
    } else if days < 2 * 365 {
        format!("{days}d")
    } else if days < 8 * 365 {
        pair(secs / YEAR, "y", days % 365, "d")
    } else {
        format!("{}y", secs / YEAR)
    }
}

fn since(now: Timestamp, time: Option<&Value>) -> Option<String> {
    let t: Timestamp = time?.as_str()?.parse().ok()?;
    Some(human_duration(now.as_second() - t.as_second()))
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn first_nonempty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

fn column(name: &str, type_: &str, format: &str, priority: u32, description: &str) -> Value {
    json!({"name": name, "type": type_, "format": format, "description": description, "priority": priority})
}

fn event_columns() -> Vec<Value> {
    vec![
        column(
            "Last Seen",
            "string",
            "",
            0,
            "Time of the most recent occurrence.",
        ),
        column("Type", "string", "", 0, "Normal or Warning."),
        column("Reason", "string", "", 0, "Why the action was taken."),
        column("Object", "string", "", 0, "The object the event is about."),
        column(
            "Subobject",
            "string",
            "",
            1,
            "The part of the object the event is about.",
        ),
        column(
            "Source",
            "string",
            "",
            1,
            "The component that reported the event.",
        ),
        column("Message", "string", "", 0, "Human-readable description."),
        column(
            "First Seen",
            "string",
            "",
            1,
            "Time of the first occurrence.",
        ),
        column(
            "Count",
            "string",
            "",
            1,
            "How many times the event occurred.",
        ),
        column("Name", "string", "", 1, "Name of the event object."),
    ]
}

/// Cells of one event row, from its core/v1 form.
fn event_cells(now: Timestamp, e: &Value) -> Vec<Value> {
    let unknown = || "<unknown>".to_owned();
    let first = since(now, e.get("firstTimestamp"))
        .or_else(|| since(now, e.get("eventTime")))
        .unwrap_or_else(unknown);
    let mut last = since(now, e.get("lastTimestamp")).unwrap_or_else(|| first.clone());
    let mut count = e.get("count").and_then(Value::as_i64).unwrap_or(0);
    if let Some(series) = e.get("series").filter(|v| v.is_object()) {
        last = since(now, series.get("lastObservedTime")).unwrap_or_else(unknown);
        count = series.get("count").and_then(Value::as_i64).unwrap_or(0);
    } else if count == 0 {
        count = 1;
    }
    let kind = s(e, "/involvedObject/kind").to_lowercase();
    let name = s(e, "/involvedObject/name");
    let target = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let component = first_nonempty(s(e, "/source/component"), s(e, "/reportingComponent"));
    let instance = first_nonempty(s(e, "/source/host"), s(e, "/reportingInstance"));
    let source = if instance.is_empty() {
        component.to_owned()
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(s(e, "/type")),
        json!(s(e, "/reason")),
        json!(target),
        json!(s(e, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(e, "/message").trim()),
        json!(first),
        json!(count),
        json!(s(e, "/metadata/name")),
    ]
}

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

fn pod_columns() -> Vec<Value> {
    vec![
        column("Name", "string", "name", 0, NAME_DOC),
        column(
            "Ready",
            "string",
            "",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        column(
            "Status",
            "string",
            "",
            0,
            "The aggregate status of the containers in this pod.",
        ),
        column(
            "Restarts",
            "string",
            "",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        column("Age", "string", "", 0, AGE_DOC),
        column(
            "IP",
            "string",
            "",
            1,
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        ),
        column(
            "Node",
            "string",
            "",
            1,
            "NodeName indicates in which node this pod is scheduled.",
        ),
        column(
            "Nominated Node",
            "string",
            "",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ),
        column(
            "Readiness Gates",
            "string",
            "",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ]
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "<none>".to_owned()
    } else {
        s.to_owned()
    }
}

/// Cells of one pod row: readiness and status from the container
/// statuses, as kubectl shows them from a real server.
fn pod_cells(now: Timestamp, p: &Value) -> Vec<Value> {
    let empty = Vec::new();
    let containers = p
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let statuses = p
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let mut reason = first_nonempty(s(p, "/status/reason"), s(p, "/status/phase")).to_owned();
    let (mut ready, mut restarts, mut running) = (0, 0, false);
    let mut last_restart: Option<Timestamp> = None;
    for c in statuses.iter().rev() {
        restarts += c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        if let Some(t) = c
            .pointer("/lastState/terminated/finishedAt")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<Timestamp>().ok())
        {
            last_restart = Some(last_restart.map_or(t, |l| l.max(t)));
        }
        let waiting = s(c, "/state/waiting/reason");
        let terminated = c.pointer("/state/terminated");
        if !waiting.is_empty() {
            reason = waiting.to_owned();
        } else if let Some(t) = terminated {
            let why = s(t, "/reason");
            reason = if !why.is_empty() {
                why.to_owned()
            } else if let Some(signal) = t.get("signal").and_then(Value::as_i64).filter(|&n| n != 0)
            {
                format!("Signal:{signal}")
            } else {
                format!(
                    "ExitCode:{}",
                    t.get("exitCode").and_then(Value::as_i64).unwrap_or(0)
                )
            };
        } else if c.get("ready").and_then(Value::as_bool) == Some(true)
            && c.pointer("/state/running").is_some()
        {
            running = true;
            ready += 1;
        }
    }
    if reason == "Completed" && running {
        let pod_ready = p
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| s(c, "/type") == "Ready" && s(c, "/status") == "True")
            });
        reason = if pod_ready { "Running" } else { "NotReady" }.to_owned();
    }
    if p.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        reason = if s(p, "/status/reason") == "NodeLost" {
            "Unknown"
        } else {
            "Terminating"
        }
        .to_owned();
    }
    let restarts = match last_restart {
        Some(t) => format!(
            "{restarts} ({} ago)",
            human_duration(now.as_second() - t.as_second())
        ),
        None => restarts.to_string(),
    };
    let gates = p
        .pointer("/spec/readinessGates")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    vec![
        json!(s(p, "/metadata/name")),
        json!(format!("{ready}/{}", containers.len())),
        json!(reason),
        json!(restarts),
        json!(
            since(now, p.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".to_owned())
        ),
        json!(or_none(s(p, "/status/podIP"))),
        json!(or_none(s(p, "/spec/nodeName"))),
        json!(or_none(s(p, "/status/nominatedNodeName"))),
        json!(if gates == 0 {
            "<none>".to_owned()
        } else {
            format!("0/{gates}")
        }),
    ]
}

fn node_columns() -> Vec<Value> {
    vec![
        column("Name", "string", "name", 0, NAME_DOC),
        column("Status", "string", "", 0, "The status of the node"),
        column("Roles", "string", "", 0, "The roles of the node"),
        column("Age", "string", "", 0, AGE_DOC),
        column(
            "Version",
            "string",
            "",
            0,
            "Kubelet Version reported by the node.",
        ),
        column(
            "Internal-IP",
            "string",
            "",
            1,
            "List of addresses reachable to the node.",
        ),
        column(
            "External-IP",
            "string",
            "",
            1,
            "List of addresses reachable to the node.",
        ),
        column(
            "OS-Image",
            "string",
            "",
            1,
            "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        ),
        column(
            "Kernel-Version",
            "string",
            "",
            1,
            "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        ),
        column(
            "Container-Runtime",
            "string",
            "",
            1,
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
        ),
    ]
}

/// Cells of one node row: the Ready condition, the roles from the
/// `node-role.kubernetes.io/*` labels, the kubelet version.
fn node_cells(now: Timestamp, n: &Value) -> Vec<Value> {
    let ready = n
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| {
            cs.iter()
                .find(|c| s(c, "/type") == "Ready")
                .map(|c| s(c, "/status"))
        });
    let mut status = match ready {
        Some("True") => "Ready",
        Some("False") => "NotReady",
        _ => "Unknown",
    }
    .to_owned();
    if n.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push_str(",SchedulingDisabled");
    }
    let mut roles: Vec<String> = n
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
                    Some(role) if !role.is_empty() => Some(role.to_owned()),
                    _ if k == "kubernetes.io/role" => {
                        v.as_str().filter(|r| !r.is_empty()).map(str::to_owned)
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    let address = |kind: &str| {
        n.pointer("/status/addresses")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|x| s(x, "/type") == kind))
            .map_or_else(|| "<none>".to_owned(), |x| s(x, "/address").to_owned())
    };
    let info = |key: &str| {
        let v = s(n, &format!("/status/nodeInfo/{key}"));
        if v.is_empty() {
            "<unknown>".to_owned()
        } else {
            v.to_owned()
        }
    };
    vec![
        json!(s(n, "/metadata/name")),
        json!(status),
        json!(if roles.is_empty() {
            "<none>".to_owned()
        } else {
            roles.join(",")
        }),
        json!(
            since(now, n.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".to_owned())
        ),
        json!(s(n, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
}

fn generic_columns() -> Vec<Value> {
    vec![
        column("Name", "string", "name", 0, "Name of the object."),
        column("Age", "string", "", 0, "Time since the object was created."),
    ]
}

fn generic_cells(now: Timestamp, o: &Value) -> Vec<Value> {
    vec![
        json!(s(o, "/metadata/name")),
        json!(
            since(now, o.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".to_owned())
        ),
    ]
}

fn lease_columns() -> Vec<Value> {
    vec![
        column("Name", "string", "name", 0, NAME_DOC),
        column(
            "Holder",
            "string",
            "",
            0,
            "HolderIdentity contains the identity of the holder of a current lease.",
        ),
        column("Age", "string", "", 0, AGE_DOC),
    ]
}

fn lease_cells(now: Timestamp, o: &Value) -> Vec<Value> {
    vec![
        json!(s(o, "/metadata/name")),
        json!(s(o, "/spec/holderIdentity")),
        json!(
            since(now, o.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".to_owned())
        ),
    ]
}

fn crd_columns() -> Vec<Value> {
    vec![
        column("Name", "string", "name", 0, NAME_DOC),
        column("Created At", "date", "", 0, AGE_DOC),
    ]
}

fn crd_cells(o: &Value) -> Vec<Value> {
    vec![
        json!(s(o, "/metadata/name")),
        json!(s(o, "/metadata/creationTimestamp")),
    ]
}

/// A custom kind's columns: the name, then its printer columns (the age
/// when it has none).
fn custom_columns(info: &CustomInfo) -> Vec<Value> {
    let mut columns = vec![column("Name", "string", "name", 0, NAME_DOC)];
    if info.columns.is_empty() {
        columns.push(column("Age", "date", "", 0, AGE_DOC));
    }
    for c in &info.columns {
        columns.push(column(
            &c.name,
            &c.type_,
            &c.format,
            u32::try_from(c.priority).unwrap_or(0),
            &c.description,
        ));
    }
    columns
}

/// The value at a simple JSONPath (`.spec.replicas`, `.status.phase`).
fn json_path<'a>(o: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim().trim_start_matches('{').trim_end_matches('}');
    path.strip_prefix('.')?
        .split('.')
        .try_fold(o, |cur, key| cur.get(key))
}

fn custom_cells(info: &CustomInfo, now: Timestamp, o: &Value) -> Vec<Value> {
    let mut cells = vec![json!(s(o, "/metadata/name"))];
    if info.columns.is_empty() {
        cells.push(json!(
            since(now, o.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".to_owned())
        ));
    }
    for c in &info.columns {
        let v = json_path(o, &c.json_path);
        cells.push(match (c.type_.as_str(), v) {
            ("date", Some(t)) => {
                json!(since(now, Some(t)).unwrap_or_else(|| "<unknown>".to_owned()))
            }
            (_, Some(v)) => v.clone(),
            (_, None) => Value::Null,
        });
    }
    cells
}

/// A `Table` of stored objects; rows carry the object as seen through `view`.
pub(crate) fn table(
    kind: &Kind,
    view: View,
    api_version: &str,
    stored: &[Value],
    now: Timestamp,
    list_meta: &Value,
    include: IncludeObject,
) -> Value {
    let columns = match kind {
        Kind::Event => event_columns(),
        Kind::Pod => pod_columns(),
        Kind::Node => node_columns(),
        Kind::Lease => lease_columns(),
        Kind::CustomResourceDefinition => crd_columns(),
        Kind::Custom(c) => custom_columns(&c.0),
        Kind::Namespace | Kind::ConfigMap => generic_columns(),
    };
    let rows: Vec<Value> = stored
        .iter()
        .map(|stored| {
            let o = &render(kind, view, stored);
            let cells = match kind {
                Kind::Event => event_cells(now, &render(kind, View::Core, stored)),
                Kind::Pod => pod_cells(now, o),
                Kind::Node => node_cells(now, o),
                Kind::Lease => lease_cells(now, o),
                Kind::CustomResourceDefinition => crd_cells(o),
                Kind::Custom(c) => custom_cells(&c.0, now, o),
                Kind::Namespace | Kind::ConfigMap => generic_cells(now, o),
            };
            let mut row = json!({"cells": cells});
            let object = match include {
                IncludeObject::None => None,
                IncludeObject::Metadata => Some(json!({
                    "kind": "PartialObjectMetadata",
                    "apiVersion": api_version,
                    "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({})),
                })),
                IncludeObject::Object => Some(o.clone()),
            };
            if let (Some(obj), Some(r)) = (object, row.as_object_mut()) {
                r.insert("object".to_owned(), obj);
            }
            row
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": api_version,
        "metadata": list_meta.clone(),
        "columnDefinitions": columns,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(200), "3m20s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 60), "3h1m");
        assert_eq!(human_duration(10 * 3600), "10h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(30 * 86400), "30d");
        assert_eq!(human_duration(-1), "0s");
        assert_eq!(human_duration(-2), "<invalid>");
        assert_eq!(human_duration(3 * 365 * 86400 + 5 * 86400), "3y5d");
    }

    #[test]
    fn event_row() {
        let now: Timestamp = "2025-01-01T00:10:00Z".parse().unwrap();
        let e = json!({
            "metadata": {"name": "web-0.1"},
            "regarding": {"kind": "Pod", "name": "web-0"},
            "type": "Warning", "reason": "BackOff", "note": " exited \n",
            "eventTime": "2025-01-01T00:00:00.000000Z",
            "series": {"count": 3, "lastObservedTime": "2025-01-01T00:09:50.000000Z"},
            "reportingController": "example.com/c", "reportingInstance": "c-0",
        });
        let t = table(
            &Kind::Event,
            View::Core,
            "meta.k8s.io/v1",
            &[e],
            now,
            &json!({}),
            IncludeObject::Metadata,
        );
        let cells = &t["rows"][0]["cells"];
        assert_eq!(cells[0], "10s");
        assert_eq!(cells[3], "pod/web-0");
        assert_eq!(cells[5], "example.com/c, c-0");
        assert_eq!(cells[6], "exited");
        assert_eq!(cells[7], "10m");
        assert_eq!(cells[8], 3);
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["columnDefinitions"].as_array().unwrap().len(), 10);
    }
}
