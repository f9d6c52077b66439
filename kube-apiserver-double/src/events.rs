//! Events: the stored form (events.k8s.io/v1), the core/v1 view of it, and
//! the API server's validation of creates and updates.

use k8s_openapi::api::core::v1::{EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::meta::{NameRule, content_errors, create_errors};
use super::names::{dns_subdomain_errors, qualified_name_errors};
use super::resources::View;
use super::status::{ApiError, FieldError, quote, render_value};

/// Byte limit of `reportingInstance`.
const REPORTING_INSTANCE_LIMIT: usize = 128;
/// Byte limit of `action`.
const ACTION_LIMIT: usize = 128;
/// Byte limit of `reason`.
const REASON_LIMIT: usize = 128;
/// Byte limit of `note` (`message` in core/v1).
const NOTE_LIMIT: usize = 1024;

const IMMUTABLE: &str = "field is immutable";

/// `series` as sent by a client: both fields may be missing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SeriesDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_observed_time: Option<MicroTime>,
}

/// An events.k8s.io/v1 Event as the server stores it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) kind: Option<String>,
    #[serde(default)]
    pub(crate) metadata: ObjectMeta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) event_time: Option<MicroTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) series: Option<SeriesDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reporting_controller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reporting_instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) regarding: Option<ObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) related: Option<ObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) note: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub(crate) type_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deprecated_source: Option<EventSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deprecated_first_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deprecated_last_timestamp: Option<Time>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) deprecated_count: Option<i32>,
}

/// A core/v1 Event as a client sends it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CoreEventDoc {
    #[serde(default)]
    metadata: ObjectMeta,
    #[serde(default)]
    involved_object: Option<ObjectReference>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    source: Option<EventSource>,
    #[serde(default)]
    first_timestamp: Option<Time>,
    #[serde(default)]
    last_timestamp: Option<Time>,
    #[serde(default)]
    count: Option<i32>,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    event_time: Option<MicroTime>,
    #[serde(default)]
    series: Option<SeriesDoc>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    related: Option<ObjectReference>,
    #[serde(default)]
    reporting_component: Option<String>,
    #[serde(default)]
    reporting_instance: Option<String>,
}

fn decode_error(view: View, e: &serde_json::Error) -> ApiError {
    ApiError::bad_request(format!(
        "Event in version \"v1\" cannot be handled as a Event: {e} (group {})",
        quote(view.group())
    ))
}

/// Empty strings count as unset, as in Go.
fn nonempty(s: Option<&String>) -> Option<&str> {
    s.map(String::as_str).filter(|s| !s.is_empty())
}

fn empty_source(s: Option<&EventSource>) -> bool {
    s.is_none_or(|s| {
        nonempty(s.component.as_ref()).is_none() && nonempty(s.host.as_ref()).is_none()
    })
}

impl EventDoc {
    /// Decodes a body in the form of `view`.
    pub(crate) fn decode(view: View, body: Value) -> Result<EventDoc, ApiError> {
        if let Some(av) = body.get("apiVersion").and_then(Value::as_str)
            && av != view.api_version()
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                view.api_version()
            )));
        }
        if let Some(kind) = body.get("kind").and_then(Value::as_str)
            && kind != "Event"
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({kind}) does not match the expected kind (Event)"
            )));
        }
        let mut doc = match view {
            View::Group => {
                serde_json::from_value::<EventDoc>(body).map_err(|e| decode_error(view, &e))?
            }
            View::Core => {
                let c = serde_json::from_value::<CoreEventDoc>(body)
                    .map_err(|e| decode_error(view, &e))?;
                EventDoc {
                    api_version: None,
                    kind: None,
                    metadata: c.metadata,
                    event_time: c.event_time,
                    series: c.series,
                    reporting_controller: c.reporting_component.filter(|s| !s.is_empty()),
                    reporting_instance: c.reporting_instance.filter(|s| !s.is_empty()),
                    action: c.action,
                    reason: c.reason,
                    regarding: c.involved_object,
                    related: c.related,
                    note: c.message,
                    type_: c.type_,
                    deprecated_source: c.source.filter(|s| !empty_source(Some(s))),
                    deprecated_first_timestamp: c.first_timestamp,
                    deprecated_last_timestamp: c.last_timestamp,
                    deprecated_count: c.count.filter(|&n| n != 0),
                }
            }
        };
        doc.api_version = Some(View::Group.api_version().to_owned());
        doc.kind = Some("Event".to_owned());
        doc.drop_empty();
        Ok(doc)
    }

    /// Empty strings, zero counts and empty sources become unset, as they
    /// are after a round trip through the API server (Go's `omitempty`).
    fn drop_empty(&mut self) {
        fn clear(s: &mut Option<String>) {
            if s.as_deref() == Some("") {
                *s = None;
            }
        }
        fn clear_ref(r: &mut ObjectReference) {
            for f in [
                &mut r.api_version,
                &mut r.kind,
                &mut r.name,
                &mut r.namespace,
                &mut r.uid,
                &mut r.field_path,
                &mut r.resource_version,
            ] {
                clear(f);
            }
        }
        for f in [
            &mut self.reporting_controller,
            &mut self.reporting_instance,
            &mut self.action,
            &mut self.reason,
            &mut self.note,
            &mut self.type_,
        ] {
            clear(f);
        }
        if let Some(r) = &mut self.regarding {
            clear_ref(r);
        }
        if let Some(r) = &mut self.related {
            clear_ref(r);
        }
        if let Some(src) = &mut self.deprecated_source {
            clear(&mut src.component);
            clear(&mut src.host);
        }
        if empty_source(self.deprecated_source.as_ref()) {
            self.deprecated_source = None;
        }
        if self.deprecated_count == Some(0) {
            self.deprecated_count = None;
        }
    }

    /// The stored (events.k8s.io/v1) JSON.
    pub(crate) fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The metadata as JSON, for the rules every kind shares.
    pub(crate) fn meta_value(&self) -> Value {
        serde_json::to_value(&self.metadata).unwrap_or(Value::Null)
    }

    /// Reads back a stored event.
    pub(crate) fn from_stored(v: &Value) -> Option<EventDoc> {
        serde_json::from_value(v.clone()).ok()
    }
}

fn time_value<T: Serialize>(t: Option<&T>) -> Value {
    t.and_then(|t| serde_json::to_value(t).ok())
        .unwrap_or(Value::Null)
}

/// The core/v1 view of a stored event, as the API server converts it.
pub(crate) fn to_core(stored: &Value) -> Value {
    let Some(doc) = EventDoc::from_stored(stored) else {
        return stored.clone();
    };
    let mut out = json!({
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": serde_json::to_value(&doc.metadata).unwrap_or_else(|_| json!({})),
        "involvedObject": doc.regarding.as_ref().and_then(|r| serde_json::to_value(r).ok()).unwrap_or_else(|| json!({})),
        "source": doc.deprecated_source.as_ref().and_then(|s| serde_json::to_value(s).ok()).unwrap_or_else(|| json!({})),
        "firstTimestamp": time_value(doc.deprecated_first_timestamp.as_ref()),
        "lastTimestamp": time_value(doc.deprecated_last_timestamp.as_ref()),
        "eventTime": time_value(doc.event_time.as_ref()),
        "reportingComponent": doc.reporting_controller.clone().unwrap_or_default(),
        "reportingInstance": doc.reporting_instance.clone().unwrap_or_default(),
    });
    if let Some(o) = out.as_object_mut() {
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                o.insert(k.to_owned(), v);
            }
        };
        put("reason", nonempty(doc.reason.as_ref()).map(|s| json!(s)));
        put("message", nonempty(doc.note.as_ref()).map(|s| json!(s)));
        put("type", nonempty(doc.type_.as_ref()).map(|s| json!(s)));
        put("action", nonempty(doc.action.as_ref()).map(|s| json!(s)));
        put(
            "count",
            doc.deprecated_count.filter(|&n| n != 0).map(|n| json!(n)),
        );
        put(
            "series",
            doc.series
                .as_ref()
                .and_then(|s| serde_json::to_value(s).ok()),
        );
        put(
            "related",
            doc.related
                .as_ref()
                .and_then(|r| serde_json::to_value(r).ok()),
        );
    }
    out
}

fn str_or_empty(s: Option<&String>) -> &str {
    s.map_or("", String::as_str)
}

/// The checks every event passes, whatever API it came through. The
/// reporting controller is named by the field of the request's API
/// (`reportingComponent` in core/v1).
fn legacy_errors(doc: &EventDoc, view: View) -> Vec<FieldError> {
    let controller_field = match view {
        View::Core => "reportingComponent",
        View::Group => "reportingController",
    };
    let mut errs = Vec::new();
    let ns = str_or_empty(doc.metadata.namespace.as_ref());
    let regarding_ns = doc
        .regarding
        .as_ref()
        .map_or("", |r| str_or_empty(r.namespace.as_ref()));
    if doc.event_time.is_none() {
        if regarding_ns.is_empty() {
            if !ns.is_empty() && ns != "default" {
                errs.push(FieldError::invalid(
                    "involvedObject.namespace",
                    &quote(regarding_ns),
                    "does not match event.namespace",
                ));
            }
        } else if ns != regarding_ns {
            errs.push(FieldError::invalid(
                "involvedObject.namespace",
                &quote(regarding_ns),
                "does not match event.namespace",
            ));
        }
    } else {
        if regarding_ns.is_empty() && ns != "default" && ns != "kube-system" {
            errs.push(FieldError::invalid(
                "involvedObject.namespace",
                &quote(regarding_ns),
                "does not match event.namespace",
            ));
        }
        let controller = str_or_empty(doc.reporting_controller.as_ref());
        if controller.is_empty() {
            errs.push(FieldError::required(controller_field, ""));
        }
        for msg in qualified_name_errors(controller) {
            errs.push(FieldError::invalid(
                controller_field,
                &quote(controller),
                &msg,
            ));
        }
        let limited = [
            (
                "reportingInstance",
                doc.reporting_instance.as_ref(),
                REPORTING_INSTANCE_LIMIT,
            ),
            ("action", doc.action.as_ref(), ACTION_LIMIT),
            ("reason", doc.reason.as_ref(), REASON_LIMIT),
        ];
        for (field, value, limit) in limited {
            let value = str_or_empty(value);
            if value.is_empty() {
                errs.push(FieldError::required(field, ""));
            }
            if value.len() > limit {
                errs.push(FieldError::invalid(
                    field,
                    "\"\"",
                    &format!("can have at most {limit} characters"),
                ));
            }
        }
        if str_or_empty(doc.note.as_ref()).len() > NOTE_LIMIT {
            errs.push(FieldError::invalid(
                "message",
                "\"\"",
                &format!("can have at most {NOTE_LIMIT} characters"),
            ));
        }
    }
    for msg in dns_subdomain_errors(ns) {
        errs.push(FieldError::invalid("namespace", &quote(ns), &msg));
    }
    errs
}

fn series_errors(doc: &EventDoc) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if let Some(s) = &doc.series {
        if s.count.unwrap_or(0) < 2 {
            errs.push(FieldError::invalid(
                "series.count",
                "\"\"",
                "should be at least 2",
            ));
        }
        if s.last_observed_time.is_none() {
            errs.push(FieldError::required("series.lastObservedTime", ""));
        }
    }
    errs
}

/// Validation of a create through `view`.
pub(crate) fn validate_create(doc: &EventDoc, view: View) -> Vec<FieldError> {
    let mut errs = legacy_errors(doc, view);
    if view == View::Core {
        return errs;
    }
    errs.extend(create_errors(
        &doc.meta_value(),
        true,
        NameRule::DnsSubdomain,
    ));
    errs.extend(series_errors(doc));
    if doc.event_time.is_none() {
        errs.push(FieldError::required("eventTime", ""));
    }
    let type_ = str_or_empty(doc.type_.as_ref());
    if type_ != "Normal" && type_ != "Warning" {
        errs.push(FieldError::invalid(
            "type",
            "\"\"",
            &format!("has invalid value: {type_}"),
        ));
    }
    if doc.deprecated_first_timestamp.is_some() {
        errs.push(FieldError::invalid(
            "firstTimestamp",
            "\"\"",
            "needs to be unset",
        ));
    }
    if doc.deprecated_last_timestamp.is_some() {
        errs.push(FieldError::invalid(
            "lastTimestamp",
            "\"\"",
            "needs to be unset",
        ));
    }
    if doc.deprecated_count.unwrap_or(0) != 0 {
        errs.push(FieldError::invalid("count", "\"\"", "needs to be unset"));
    }
    if !empty_source(doc.deprecated_source.as_ref()) {
        errs.push(FieldError::invalid("source", "\"\"", "needs to be unset"));
    }
    errs
}

fn json_of<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A microsecond timestamp rendered like Go's `time.Time.String()`.
fn go_time(t: Option<&MicroTime>) -> String {
    match t {
        None => "0001-01-01 00:00:00 +0000 UTC".to_owned(),
        Some(t) => {
            let micros = t.0.subsec_microsecond();
            let base = jiff::fmt::strtime::format("%Y-%m-%d %H:%M:%S", t.0).unwrap_or_default();
            if micros == 0 {
                format!("{base} +0000 UTC")
            } else {
                let frac = format!("{micros:06}");
                format!("{base}.{} +0000 UTC", frac.trim_end_matches('0'))
            }
        }
    }
}

fn micros(t: Option<&MicroTime>) -> Option<i128> {
    t.map(|t| t.0.as_microsecond().into())
}

/// Validation of an update (PUT or PATCH) through `view`.
pub(crate) fn validate_update(new: &EventDoc, old: &EventDoc, view: View) -> Vec<FieldError> {
    let mut errs = legacy_errors(new, view);
    if view == View::Core {
        return errs;
    }
    errs.extend(content_errors(&new.meta_value()));
    if new.series != old.series {
        errs.extend(series_errors(new));
    }
    let mut immutable = |field: &str, changed: bool, rendered: String| {
        if changed {
            errs.push(FieldError::invalid(field, &rendered, IMMUTABLE));
        }
    };
    let s = |v: Option<&String>| quote(str_or_empty(v));
    let reason_changed = nonempty(new.reason.as_ref()) != nonempty(old.reason.as_ref());
    immutable(
        "involvedObject",
        new.regarding.clone().unwrap_or_default() != old.regarding.clone().unwrap_or_default(),
        render_value(&json_of(&new.regarding.clone().unwrap_or_default())),
    );
    immutable("reason", reason_changed, s(new.reason.as_ref()));
    immutable(
        "message",
        nonempty(new.note.as_ref()) != nonempty(old.note.as_ref()),
        s(new.note.as_ref()),
    );
    immutable(
        "source",
        new.deprecated_source != old.deprecated_source,
        render_value(&json_of(&new.deprecated_source.clone().unwrap_or_default())),
    );
    immutable(
        "firstTimestamp",
        new.deprecated_first_timestamp != old.deprecated_first_timestamp,
        render_value(&json_of(&new.deprecated_first_timestamp)),
    );
    immutable(
        "lastTimestamp",
        new.deprecated_last_timestamp != old.deprecated_last_timestamp,
        render_value(&json_of(&new.deprecated_last_timestamp)),
    );
    immutable(
        "count",
        new.deprecated_count.unwrap_or(0) != old.deprecated_count.unwrap_or(0),
        new.deprecated_count.unwrap_or(0).to_string(),
    );
    // The API server checks the reason twice.
    immutable("reason", reason_changed, s(new.reason.as_ref()));
    immutable(
        "type",
        nonempty(new.type_.as_ref()) != nonempty(old.type_.as_ref()),
        s(new.type_.as_ref()),
    );
    immutable(
        "eventTime",
        micros(new.event_time.as_ref()) != micros(old.event_time.as_ref()),
        go_time(new.event_time.as_ref()),
    );
    immutable(
        "action",
        nonempty(new.action.as_ref()) != nonempty(old.action.as_ref()),
        s(new.action.as_ref()),
    );
    immutable(
        "related",
        new.related != old.related,
        render_value(&json_of(&new.related)),
    );
    immutable(
        "reportingController",
        nonempty(new.reporting_controller.as_ref()) != nonempty(old.reporting_controller.as_ref()),
        s(new.reporting_controller.as_ref()),
    );
    immutable(
        "reportingInstance",
        nonempty(new.reporting_instance.as_ref()) != nonempty(old.reporting_instance.as_ref()),
        s(new.reporting_instance.as_ref()),
    );
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Value {
        json!({
            "metadata": {"name": "web-0.1", "namespace": "shop"},
            "eventTime": "2025-01-02T03:04:05.123456Z",
            "reportingController": "example.com/c",
            "reportingInstance": "c-0",
            "action": "Starting",
            "reason": "BackOff",
            "type": "Warning",
            "note": "exited",
            "regarding": {"apiVersion": "v1", "kind": "Pod", "name": "web-0", "namespace": "shop", "uid": "u1"},
        })
    }

    fn fields(errs: &[FieldError]) -> Vec<&str> {
        errs.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn valid_event_passes() {
        let doc = EventDoc::decode(View::Group, valid()).unwrap();
        assert!(validate_create(&doc, View::Group).is_empty());
    }

    #[test]
    fn limits_are_bytes() {
        let mut v = valid();
        v["reason"] = json!("é".repeat(65));
        v["note"] = json!("x".repeat(1025));
        v["action"] = json!("");
        let doc = EventDoc::decode(View::Group, v).unwrap();
        let errs = validate_create(&doc, View::Group);
        assert_eq!(fields(&errs), vec!["action", "reason", "message"]);
        assert_eq!(
            errs[1].message,
            "Invalid value: \"\": can have at most 128 characters"
        );
        assert_eq!(errs[0].reason, "FieldValueRequired");
    }

    #[test]
    fn v1_create_rules() {
        let mut v = valid();
        v["metadata"]["name"] = json!("Web_0");
        v["type"] = json!("Error");
        v["series"] = json!({"count": 1});
        v["deprecatedCount"] = json!(3);
        v["deprecatedSource"] = json!({"component": "x"});
        v["regarding"]["namespace"] = json!("");
        v["reportingController"] = json!("bad name!");
        let doc = EventDoc::decode(View::Group, v).unwrap();
        let errs = validate_create(&doc, View::Group);
        assert_eq!(
            fields(&errs),
            vec![
                "involvedObject.namespace",
                "reportingController",
                "metadata.name",
                "series.count",
                "series.lastObservedTime",
                "type",
                "count",
                "source"
            ]
        );
        assert_eq!(
            errs[5].message,
            "Invalid value: \"\": has invalid value: Error"
        );
    }

    #[test]
    fn core_view_round_trip() {
        let doc = EventDoc::decode(View::Group, valid()).unwrap();
        let core = to_core(&doc.to_value());
        assert_eq!(core["involvedObject"]["name"], "web-0");
        assert_eq!(core["message"], "exited");
        assert_eq!(core["reportingComponent"], "example.com/c");
        assert_eq!(core["firstTimestamp"], Value::Null);
        assert_eq!(core["source"], json!({}));
        assert!(core.get("count").is_none());
        let back = EventDoc::decode(View::Core, core).unwrap();
        assert_eq!(back.note.as_deref(), Some("exited"));
        assert_eq!(back.reporting_controller.as_deref(), Some("example.com/c"));
    }

    #[test]
    fn immutability() {
        let old = EventDoc::decode(View::Group, valid()).unwrap();
        let mut v = valid();
        v["note"] = json!("changed");
        v["reason"] = json!("Other");
        v["series"] = json!({"count": 2, "lastObservedTime": "2025-01-02T03:05:00.000000Z"});
        let new = EventDoc::decode(View::Group, v).unwrap();
        let errs = validate_update(&new, &old, View::Group);
        assert_eq!(fields(&errs), vec!["reason", "message", "reason"]);
        let mut v = valid();
        v["eventTime"] = json!("2025-01-02T03:04:05.123456789Z");
        let new = EventDoc::decode(View::Group, v).unwrap();
        assert!(validate_update(&new, &old, View::Group).is_empty());
    }

    #[test]
    fn empty_values_are_unset() {
        let mut v = valid();
        v["action"] = json!("");
        v["regarding"]["fieldPath"] = json!("");
        v["deprecatedSource"] = json!({"component": ""});
        v["deprecatedCount"] = json!(0);
        let doc = EventDoc::decode(View::Group, v).unwrap();
        assert!(doc.action.is_none());
        assert!(doc.regarding.as_ref().unwrap().field_path.is_none());
        assert!(doc.deprecated_source.is_none() && doc.deprecated_count.is_none());
        let stored = doc.to_value();
        assert!(stored.get("action").is_none());
        assert!(stored.get("deprecatedSource").is_none());
    }

    #[test]
    fn go_time_format() {
        let t: MicroTime = serde_json::from_value(json!("2025-01-02T03:04:05.120000Z")).unwrap();
        assert_eq!(go_time(Some(&t)), "2025-01-02 03:04:05.12 +0000 UTC");
    }
}
