//! [`EventRecord`]: the event exactly as a sink writes it.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::{EventType, ObjectRef};

/// The series part of an event: how often it happened and when last.
///
/// # Example
///
/// ```
/// use event_core::Series;
/// let s = Series { count: 2, last_observed_time: jiff::Timestamp::UNIX_EPOCH };
/// assert_eq!(s.count, 2);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// Number of occurrences, at least 2 (the API's rule).
    pub count: u32,
    /// Time of the latest occurrence, in microseconds.
    pub last_observed_time: Timestamp,
}

/// A fully materialized `events.k8s.io/v1` Event: everything a sink writes,
/// nothing left to compute.
///
/// Built by the [`Recorder`](crate::Recorder) after validation; a sink maps
/// the fields one to one onto its wire format. Times are already truncated to
/// microseconds, the name is a valid DNS-1123 subdomain, the namespace is the
/// regarding object's (or the configured namespace for cluster-scoped
/// objects), and the note is within 1024 bytes.
///
/// # Example
///
/// ```
/// use event_core::{EventRecord, EventType, ObjectRef};
///
/// let r = EventRecord {
///     name: "web-0.17a1b2c3d4e5f6a7-x1y2z".into(),
///     namespace: "shop".into(),
///     event_time: jiff::Timestamp::UNIX_EPOCH,
///     series: None,
///     regarding: ObjectRef::new("v1", "Pod", "web-0").within("shop"),
///     related: None,
///     reason: "Started".into(),
///     action: "Starting".into(),
///     note: Some("started container".into()),
///     type_: EventType::Normal,
///     reporting_controller: "example.com/c".into(),
///     reporting_instance: "c-0".into(),
///     annotations: Default::default(),
/// };
/// assert_eq!(r.count(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `eventTime`: the first occurrence.
    pub event_time: Timestamp,
    /// `series`: `None` for a single occurrence.
    pub series: Option<Series>,
    /// `regarding`.
    pub regarding: ObjectRef,
    /// `related`.
    pub related: Option<ObjectRef>,
    /// `reason`.
    pub reason: String,
    /// `action`.
    pub action: String,
    /// `note`.
    pub note: Option<String>,
    /// `type`.
    pub type_: EventType,
    /// `reportingController`.
    pub reporting_controller: String,
    /// `reportingInstance`.
    pub reporting_instance: String,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
}

impl EventRecord {
    /// How many occurrences this record stands for: the series count, or 1.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::{EventRecord, EventType, ObjectRef, Series};
    /// use jiff::Timestamp;
    ///
    /// let mut r = EventRecord {
    ///     name: "web-0.0-abcde".into(),
    ///     namespace: "shop".into(),
    ///     event_time: Timestamp::UNIX_EPOCH,
    ///     series: None,
    ///     regarding: ObjectRef::new("v1", "Pod", "web-0").within("shop"),
    ///     related: None,
    ///     reason: "BackOff".into(),
    ///     action: "Starting".into(),
    ///     note: None,
    ///     type_: EventType::Warning,
    ///     reporting_controller: "example.com/c".into(),
    ///     reporting_instance: "c-0".into(),
    ///     annotations: Default::default(),
    /// };
    /// assert_eq!(r.count(), 1);
    /// r.series = Some(Series { count: 7, last_observed_time: Timestamp::UNIX_EPOCH });
    /// assert_eq!(r.count(), 7);
    /// ```
    pub fn count(&self) -> u32 {
        self.series.map_or(1, |s| s.count)
    }

    /// The time of the latest occurrence: the series' last observed time, or
    /// the event time.
    ///
    /// # Example
    ///
    /// ```
    /// # use event_core::{EventRecord, Series};
    /// # fn demo(mut r: EventRecord) {
    /// r.series = Some(Series { count: 3, last_observed_time: jiff::Timestamp::MAX });
    /// assert_eq!(r.last_seen(), jiff::Timestamp::MAX);
    /// # }
    /// ```
    pub fn last_seen(&self) -> Timestamp {
        self.series
            .map_or(self.event_time, |s| s.last_observed_time)
    }
}
