//! Conversions between this project's model and core/v1 `Event` objects
//! (`/api/v1`), the form legacy readers and clusters without
//! `events.k8s.io` use.

use event_core::ObjectRef;
use event_core::sink::{EventRecord, Series};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Event as CoreEvent, EventSeries as CoreEventSeries, EventSource, ObjectReference,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};

use crate::convert::{api_count, stored_event};

/// A time cut to whole seconds: the precision of core/v1 `Time` fields
/// (`firstTimestamp`, `lastTimestamp`), written the way the API server
/// writes them, so that a read-back compares equal.
fn seconds(t: Timestamp) -> Time {
    Time(Timestamp::from_second(t.as_second()).unwrap_or(t))
}

/// The core/v1 object written for a record.
///
/// Every field of the `events.k8s.io/v1` object ([`event_object`](crate::event_object))
/// under its core/v1 name (`involvedObject`, `message`,
/// `reportingComponent`), `eventTime` and `series` as they are, and the
/// legacy fields legacy readers look at, kept consistent with the series:
///
/// | field | value |
/// | --- | --- |
/// | `source.component` | the reporting controller |
/// | `source.host` | `source_host`, when given (e.g. the node name) |
/// | `count` | the series count, or 1 |
/// | `firstTimestamp` | `eventTime`, in whole seconds |
/// | `lastTimestamp` | the series' last observed time (or `eventTime`), in whole seconds |
///
/// # Example
///
/// ```
/// use event_core::sink::{EventRecord, Series};
/// use event_core::{Event, ObjectRef};
/// use event_kube::core_event_object;
///
/// let t = |s| jiff::Timestamp::from_second(s).unwrap();
/// let record = EventRecord::new(
///     "web-0.1f2e",
///     "shop",
///     t(1_700_000_000),
///     ObjectRef::new("v1", "Pod", "web-0").within("shop"),
///     Event::warning("BackOff", "Starting").note("container exited with 1"),
///     "example.com/widgets",
///     "widgets-0",
/// )
/// .with_series(Series { count: 7, last_observed_time: t(1_700_000_060) });
/// let json = serde_json::to_value(core_event_object(&record, None)).unwrap();
/// assert_eq!(json["apiVersion"], "v1");
/// assert_eq!(json["count"], 7);
/// assert_eq!(json["lastTimestamp"], "2023-11-14T22:14:20Z");
/// assert_eq!(json["series"]["count"], 7);
/// assert_eq!(json["source"]["component"], "example.com/widgets");
/// ```
pub fn core_event_object(record: &EventRecord, source_host: Option<&str>) -> CoreEvent {
    let annotations = (!record.annotations.is_empty()).then(|| record.annotations.clone());
    CoreEvent {
        metadata: ObjectMeta {
            name: Some(record.name.clone()),
            namespace: Some(record.namespace.clone()),
            annotations,
            ..ObjectMeta::default()
        },
        involved_object: ObjectReference::from(&record.regarding),
        related: record.related.as_ref().map(ObjectReference::from),
        reason: Some(record.reason.clone()),
        action: Some(record.action.clone()),
        message: record.note.clone(),
        type_: Some(record.type_.as_str().to_owned()),
        event_time: Some(MicroTime(record.event_time)),
        series: record.series.map(core_series),
        reporting_component: Some(record.reporting_controller.clone()),
        reporting_instance: Some(record.reporting_instance.clone()),
        source: Some(EventSource {
            component: Some(record.reporting_controller.clone()),
            host: source_host.map(str::to_owned),
        }),
        count: Some(api_count(record.count())),
        first_timestamp: Some(seconds(record.event_time)),
        last_timestamp: Some(seconds(record.last_seen())),
    }
}

/// The JSON merge patch of a core/v1 series update: the series and the
/// legacy `count` and `lastTimestamp` that mirror it, nothing else.
///
/// # Example
///
/// ```
/// use event_core::sink::Series;
/// use event_kube::core_series_patch;
///
/// let series = Series {
///     count: 2,
///     last_observed_time: jiff::Timestamp::from_microsecond(1_500_000).unwrap(),
/// };
/// assert_eq!(
///     core_series_patch(series).to_string(),
///     r#"{"count":2,"lastTimestamp":"1970-01-01T00:00:01Z","series":{"count":2,"lastObservedTime":"1970-01-01T00:00:01.500000Z"}}"#,
/// );
/// ```
pub fn core_series_patch(series: Series) -> serde_json::Value {
    let value = |v: serde_json::Result<serde_json::Value>| v.unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "count": api_count(series.count),
        "lastTimestamp": value(serde_json::to_value(seconds(series.last_observed_time))),
        "series": value(serde_json::to_value(core_series(series))),
    })
}

/// The `series` of a core/v1 object.
fn core_series(series: Series) -> CoreEventSeries {
    CoreEventSeries {
        count: Some(api_count(series.count)),
        last_observed_time: Some(MicroTime(series.last_observed_time)),
    }
}

/// The record a core/v1 object stands for: the inverse of
/// [`core_event_object`], and a reading of Events written by legacy
/// clients (no `eventTime`, no `series`):
///
/// - `eventTime`, else `firstTimestamp`;
/// - `series`, else a series made of `count` and `lastTimestamp` when
///   `count` is at least 2;
/// - `reportingComponent`/`reportingInstance`, else `source.component`/`source.host`.
///
/// Missing fields become empty; an unknown type reads as Normal.
pub fn core_event_record(object: &CoreEvent) -> EventRecord {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let source = object.source.clone().unwrap_or_default();
    let event_time = object
        .event_time
        .as_ref()
        .map(|t| t.0)
        .or_else(|| object.first_timestamp.as_ref().map(|t| t.0))
        .unwrap_or(Timestamp::UNIX_EPOCH);
    // A count that makes a series (2 or more), if `count` is one.
    let series_count = |count: Option<i32>| {
        count
            .and_then(|c| u32::try_from(c).ok())
            .filter(|&c| c >= 2)
    };
    let series = match &object.series {
        Some(s) => Some(Series {
            // A series without its count: the legacy count, else the least
            // a series has.
            count: series_count(s.count.or(object.count)).unwrap_or(2),
            last_observed_time: s.last_observed_time.as_ref().map_or(event_time, |t| t.0),
        }),
        None => series_count(object.count).map(|count| Series {
            count,
            last_observed_time: object.last_timestamp.as_ref().map_or(event_time, |t| t.0),
        }),
    };
    let event = stored_event(
        object.type_.as_deref(),
        &object.reason,
        &object.message,
        &object.action,
        object.related.as_ref(),
        &object.metadata,
    );
    let mut record = EventRecord::new(
        text(&object.metadata.name),
        text(&object.metadata.namespace),
        event_time,
        ObjectRef::from(&object.involved_object),
        event,
        nonempty(&object.reporting_component)
            .or(source.component)
            .unwrap_or_default(),
        nonempty(&object.reporting_instance)
            .or(source.host)
            .unwrap_or_default(),
    );
    record.series = series;
    record
}

#[cfg(test)]
mod tests {

    use super::*;

    fn record(series: Option<Series>) -> EventRecord {
        let event = event_core::Event::warning("BackOff", "Starting")
            .note("exited")
            .related(&ObjectRef::new("v1", "Node", "n1"))
            .annotation("a.example.com/x", "1");
        let mut record = EventRecord::new(
            "web-0.1-abcde",
            "shop",
            Timestamp::from_microsecond(1_700_000_000_123_456).unwrap(),
            ObjectRef::new("v1", "Pod", "web-0")
                .within("shop")
                .with_uid("u1"),
            event,
            "example.com/c",
            "c-0",
        );
        record.series = series;
        record
    }

    fn series(count: u32, micros: i64) -> Series {
        Series {
            count,
            last_observed_time: Timestamp::from_microsecond(micros).unwrap(),
        }
    }

    #[test]
    fn a_record_survives_the_round_trip_through_the_core_object() {
        for r in [record(None), record(Some(series(4, 1_700_000_100_654_321)))] {
            assert_eq!(core_event_record(&core_event_object(&r, None)), r);
            let with_host = core_event_object(&r, Some("node-1"));
            assert_eq!(core_event_record(&with_host), r);
        }
    }

    #[test]
    fn legacy_fields_follow_the_series() {
        let single =
            serde_json::to_value(core_event_object(&record(None), Some("node-1"))).unwrap();
        assert_eq!(single["kind"], "Event");
        assert_eq!(single["count"], 1);
        assert_eq!(single["firstTimestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(single["lastTimestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(single["eventTime"], "2023-11-14T22:13:20.123456Z");
        assert_eq!(
            single["source"],
            serde_json::json!({"component": "example.com/c", "host": "node-1"})
        );
        assert_eq!(single["involvedObject"]["uid"], "u1");
        assert_eq!(single["message"], "exited");
        assert_eq!(single["reportingComponent"], "example.com/c");
        assert!(single.get("series").is_none());
        assert!(single.get("regarding").is_none() && single.get("note").is_none());

        let repeated = record(Some(series(9, 1_700_000_100_654_321)));
        let json = serde_json::to_value(core_event_object(&repeated, None)).unwrap();
        assert_eq!(json["count"], 9);
        assert_eq!(json["series"]["count"], 9);
        assert_eq!(json["firstTimestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(json["lastTimestamp"], "2023-11-14T22:15:00Z");
        assert_eq!(
            json["series"]["lastObservedTime"],
            "2023-11-14T22:15:00.654321Z"
        );
        assert!(json["source"].get("host").is_none());
    }

    #[test]
    fn the_patch_keeps_count_and_last_timestamp_with_the_series() {
        let patch = core_series_patch(series(12, 1_700_000_100_654_321));
        assert_eq!(
            patch,
            serde_json::json!({
                "count": 12,
                "lastTimestamp": "2023-11-14T22:15:00Z",
                "series": {"count": 12, "lastObservedTime": "2023-11-14T22:15:00.654321Z"},
            })
        );
    }

    #[test]
    fn events_of_legacy_clients_read_as_series() {
        let legacy: CoreEvent = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "web-0.17a", "namespace": "shop"},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": "web-0", "namespace": "shop"},
            "reason": "BackOff",
            "message": "exited",
            "type": "Warning",
            "source": {"component": "kubelet", "host": "node-1"},
            "count": 5,
            "firstTimestamp": "2025-01-01T00:00:00Z",
            "lastTimestamp": "2025-01-01T00:05:00Z",
        }))
        .unwrap();
        let r = core_event_record(&legacy);
        assert_eq!(r.event_time.as_second(), 1_735_689_600);
        assert_eq!(r.count(), 5);
        assert_eq!(r.last_seen().as_second(), 1_735_689_900);
        assert_eq!(
            (
                r.reporting_controller.as_str(),
                r.reporting_instance.as_str()
            ),
            ("kubelet", "node-1")
        );
        let mut single = legacy.clone();
        single.count = Some(1);
        assert_eq!(core_event_record(&single).series, None);
    }

    #[test]
    fn huge_counts_saturate() {
        let json =
            serde_json::to_value(core_event_object(&record(Some(series(u32::MAX, 0))), None))
                .unwrap();
        assert_eq!(json["count"], i32::MAX);
        assert_eq!(json["series"]["count"], i32::MAX);
    }
}
