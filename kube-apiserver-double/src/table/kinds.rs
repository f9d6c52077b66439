//! Columns and cells of the kinds kubectl prints with more than a name and
//! an age: pods and nodes as a real server prints them, leases,
//! CustomResourceDefinitions, and custom kinds by their printer columns.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{column, first_nonempty, human_duration, s, since};
use crate::crd::CustomInfo;

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

pub(super) fn pod_columns() -> Vec<Value> {
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
pub(super) fn pod_cells(now: Timestamp, p: &Value) -> Vec<Value> {
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

pub(super) fn node_columns() -> Vec<Value> {
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
pub(super) fn node_cells(now: Timestamp, n: &Value) -> Vec<Value> {
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

pub(super) fn lease_columns() -> Vec<Value> {
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

pub(super) fn lease_cells(now: Timestamp, o: &Value) -> Vec<Value> {
    vec![
        json!(s(o, "/metadata/name")),
        json!(s(o, "/spec/holderIdentity")),
        json!(
            since(now, o.pointer("/metadata/creationTimestamp"))
                .unwrap_or_else(|| "<unknown>".to_owned())
        ),
    ]
}

pub(super) fn crd_columns() -> Vec<Value> {
    vec![
        column("Name", "string", "name", 0, NAME_DOC),
        column("Created At", "date", "", 0, AGE_DOC),
    ]
}

pub(super) fn crd_cells(o: &Value) -> Vec<Value> {
    vec![
        json!(s(o, "/metadata/name")),
        json!(s(o, "/metadata/creationTimestamp")),
    ]
}

/// A custom kind's columns: the name, then its printer columns (the age
/// when it has none).
pub(super) fn custom_columns(info: &CustomInfo) -> Vec<Value> {
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

pub(super) fn custom_cells(info: &CustomInfo, now: Timestamp, o: &Value) -> Vec<Value> {
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
