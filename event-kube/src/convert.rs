//! Conversions between this project's model and the Kubernetes API types.

use event_core::sink::{EventRecord, Series};

use event_core::ObjectRef;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event as K8sEvent, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

/// The `events.k8s.io/v1` object written for a record: every field taken
/// from the record as is, `series` only when the record has one, and none of
/// the `deprecated*` fields.
pub fn event_object(record: &EventRecord) -> K8sEvent {
    let annotations = (!record.annotations.is_empty()).then(|| record.annotations.clone());
    K8sEvent {
        metadata: ObjectMeta {
            name: Some(record.name.clone()),
            namespace: Some(record.namespace.clone()),
            annotations,
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(record.event_time)),
        series: record.series.map(event_series),
        regarding: Some(ObjectReference::from(&record.regarding)),
        related: record.related.as_ref().map(ObjectReference::from),
        reason: Some(record.reason.clone()),
        action: Some(record.action.clone()),
        note: record.note.clone(),
        type_: Some(record.type_.as_str().to_owned()),
        reporting_controller: Some(record.reporting_controller.clone()),
        reporting_instance: Some(record.reporting_instance.clone()),
        deprecated_count: None,
        deprecated_first_timestamp: None,
        deprecated_last_timestamp: None,
        deprecated_source: None,
    }
}

/// The record an `events.k8s.io/v1` object stands for: the inverse of
/// [`event_object`], for reading events back (tests, tools, the quickstart's
/// describe table). Missing fields become empty; an unknown type reads as
/// Normal.
pub fn event_record(object: &K8sEvent) -> EventRecord {
    let text = |s: &Option<String>| s.clone().unwrap_or_default();
    let event = stored_event(
        object.type_.as_deref(),
        &object.reason,
        &object.note,
        &object.action,
        object.related.as_ref(),
        &object.metadata,
    );
    let mut record = EventRecord::new(
        text(&object.metadata.name),
        text(&object.metadata.namespace),
        object
            .event_time
            .as_ref()
            .map_or(jiff::Timestamp::UNIX_EPOCH, |t| t.0),
        object
            .regarding
            .as_ref()
            .map(ObjectRef::from)
            .unwrap_or_default(),
        event,
        text(&object.reporting_controller),
        text(&object.reporting_instance),
    );
    record.series = object.series.as_ref().map(|s| Series {
        count: u32::try_from(s.count).unwrap_or(0),
        last_observed_time: s.last_observed_time.0,
    });
    record
}

fn event_series(series: Series) -> EventSeries {
    EventSeries {
        count: api_count(series.count),
        last_observed_time: MicroTime(series.last_observed_time),
    }
}

/// A count as the API's 32-bit field holds it.
pub(crate) fn api_count(count: u32) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// The occurrence a stored Event tells of, read the same way through both
/// APIs (`note` is core/v1's `message`): an unknown type reads as Normal,
/// missing text as empty.
pub(crate) fn stored_event(
    type_: Option<&str>,
    reason: &Option<String>,
    note: &Option<String>,
    action: &Option<String>,
    related: Option<&ObjectReference>,
    metadata: &ObjectMeta,
) -> event_core::Event {
    event_core::Event {
        type_: if type_ == Some("Warning") {
            event_core::EventType::Warning
        } else {
            event_core::EventType::Normal
        },
        reason: reason.clone().unwrap_or_default(),
        note: note.clone(),
        action: action.clone().unwrap_or_default(),
        secondary: related.map(ObjectRef::from),
        annotations: metadata.annotations.clone().unwrap_or_default(),
    }
}

/// References to Kubernetes objects for events, from any [`kube::Resource`].
///
/// The reference carries the object's API version, kind, name, namespace,
/// UID and resource version. The resource version does not take part in
/// correlating repeats (see [`event_core::key::EventKey`]), so an object that
/// changed between two occurrences still continues the same series.
///
/// # Example
///
/// ```
/// use event_kube::EventRefExt;
/// use k8s_openapi::api::core::v1::Pod;
/// use kube::api::ObjectMeta;
///
/// let pod = Pod {
///     metadata: ObjectMeta {
///         name: Some("web-0".into()),
///         namespace: Some("shop".into()),
///         uid: Some("6c1b8f1e-0000-4000-8000-000000000001".into()),
///         resource_version: Some("42".into()),
///         ..ObjectMeta::default()
///     },
///     ..Pod::default()
/// };
/// let r = pod.event_ref();
/// assert_eq!((r.api_version.as_str(), r.kind.as_str()), ("v1", "Pod"));
/// assert_eq!(r.namespace.as_deref(), Some("shop"));
/// assert_eq!(r.resource_version.as_deref(), Some("42"));
/// ```
pub trait EventRefExt: kube::Resource {
    /// A reference to this object, for a type whose API information is
    /// known at compile time (k8s-openapi types, custom resources).
    fn event_ref(&self) -> ObjectRef
    where
        Self::DynamicType: Default,
    {
        self.event_ref_with(&Self::DynamicType::default())
    }

    /// A reference to this object, for a type whose API information is given
    /// at run time (such as [`kube::core::DynamicObject`]).
    ///
    /// # Example
    ///
    /// ```
    /// use event_kube::EventRefExt;
    /// use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
    ///
    /// let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    /// let ar = ApiResource::from_gvk(&gvk);
    /// let widget = DynamicObject::new("w1", &ar).within("shop");
    /// let r = widget.event_ref_with(&ar);
    /// assert_eq!(r.api_version, "example.com/v1");
    /// assert_eq!(r.kind, "Widget");
    /// ```
    fn event_ref_with(&self, dynamic_type: &Self::DynamicType) -> ObjectRef;
}

impl<K: kube::Resource> EventRefExt for K {
    fn event_ref_with(&self, dynamic_type: &Self::DynamicType) -> ObjectRef {
        let mut reference = ObjectRef::from(self.object_ref(dynamic_type));
        if reference.resource_version.is_none() {
            reference
                .resource_version
                .clone_from(&self.meta().resource_version);
        }
        reference
    }
}

#[cfg(test)]
mod tests {

    use jiff::Timestamp;
    use k8s_openapi::api::core::v1::Node;

    use super::*;

    fn record() -> EventRecord {
        let event = event_core::Event::warning("Rebooted", "Checking")
            .related(&ObjectRef::new("v1", "Pod", "p").within("ns"))
            .annotation("a.example.com/x", "1");
        EventRecord::new(
            "n1.1-abcde",
            "default",
            Timestamp::from_microsecond(1_700_000_000_123_456).unwrap(),
            ObjectRef::new("v1", "Node", "n1").with_uid("u1"),
            event,
            "example.com/c",
            "c-0",
        )
    }

    #[test]
    fn a_record_survives_the_round_trip_through_the_object() {
        let single = record();
        assert_eq!(event_record(&event_object(&single)), single);
        let mut series = record();
        series.note = Some("started container".into());
        series.series = Some(Series {
            count: 4,
            last_observed_time: Timestamp::from_second(1_700_000_100).unwrap(),
        });
        assert_eq!(event_record(&event_object(&series)), series);
    }

    #[test]
    fn object_json_has_only_v1_fields() {
        let mut r = record();
        r.series = Some(Series {
            count: 3,
            last_observed_time: Timestamp::from_second(1_700_000_100).unwrap(),
        });
        let json = serde_json::to_value(event_object(&r)).unwrap();
        assert_eq!(json["apiVersion"], "events.k8s.io/v1");
        assert_eq!(json["kind"], "Event");
        assert_eq!(json["eventTime"], "2023-11-14T22:13:20.123456Z");
        assert_eq!(json["series"]["count"], 3);
        assert_eq!(
            json["series"]["lastObservedTime"],
            "2023-11-14T22:15:00.000000Z"
        );
        assert_eq!(json["metadata"]["annotations"]["a.example.com/x"], "1");
        assert_eq!(json["related"]["namespace"], "ns");
        // A cluster-scoped regarding object keeps no namespace.
        assert!(json["regarding"].get("namespace").is_none());
        let object = json.as_object().unwrap();
        assert!(object.keys().all(|k| !k.starts_with("deprecated")));
    }

    #[test]
    fn huge_counts_saturate() {
        let s = event_series(Series {
            count: u32::MAX,
            last_observed_time: Timestamp::UNIX_EPOCH,
        });
        assert_eq!(s.count, i32::MAX);
    }

    #[test]
    fn resource_refs_keep_the_resource_version() {
        let mut node = Node::default();
        node.metadata.name = Some("n1".into());
        node.metadata.resource_version = Some("9".into());
        let r = node.event_ref();
        assert_eq!(
            r,
            ObjectRef::new("v1", "Node", "n1").with_resource_version("9")
        );
    }
}
