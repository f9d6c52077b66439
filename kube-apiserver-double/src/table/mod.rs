//! Server-side `Table` answers, which `kubectl get` asks for.

use jiff::Timestamp;
use serde_json::{Value, json};

mod kinds;

use crate::resources::{Kind, View};
use crate::store::render;

use kinds::{
    crd_cells, crd_columns, custom_cells, custom_columns, lease_cells, lease_columns, node_cells,
    node_columns, pod_cells, pod_columns,
};

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

pub(super) fn since(now: Timestamp, time: Option<&Value>) -> Option<String> {
    let t: Timestamp = time?.as_str()?.parse().ok()?;
    Some(human_duration(now.as_second() - t.as_second()))
}

pub(super) fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

pub(super) fn first_nonempty<'a>(a: &'a str, b: &'a str) -> &'a str {
    if a.is_empty() { b } else { a }
}

pub(super) fn column(
    name: &str,
    type_: &str,
    format: &str,
    priority: u32,
    description: &str,
) -> Value {
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
