//! [`EventRecord`]: the event exactly as a sink writes it.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::{Event, EventType, ObjectRef};

/// The series part of an event: how often it happened and when last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// Number of occurrences, at least 2 (the API's rule).
    pub count: u32,
    /// Time of the latest occurrence, in microseconds.
    pub last_observed_time: Timestamp,
}

impl Series {
    /// The JSON merge patch that sets an Event's series to this one and
    /// changes nothing else, as every sink of the events API sends it and
    /// the testing crate logs it:
    /// `{"series":{"count":N,"lastObservedTime":"<MicroTime>"}}`. The API
    /// keeps counts as 32-bit signed integers: a count past `i32::MAX` is
    /// written as `i32::MAX`, as every conversion to an API object does.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::sink::Series;
    ///
    /// let series = Series { count: 2, last_observed_time: jiff::Timestamp::UNIX_EPOCH };
    /// assert_eq!(
    ///     series.merge_patch(),
    ///     r#"{"series":{"count":2,"lastObservedTime":"1970-01-01T00:00:00.000000Z"}}"#,
    /// );
    /// ```
    pub fn merge_patch(&self) -> String {
        // Digits and a timestamp: nothing to escape.
        let count = i32::try_from(self.count).unwrap_or(i32::MAX);
        format!(
            r#"{{"series":{{"count":{count},"lastObservedTime":"{}"}}}}"#,
            crate::clock::format_micro_time(self.last_observed_time)
        )
    }
}

/// A fully materialized `events.k8s.io/v1` Event: everything a sink writes,
/// nothing left to compute.
///
/// Built by the [`Recorder`](crate::Recorder) after validation; a sink maps
/// the fields one to one onto its wire format. Times are already truncated to
/// microseconds, the name is a valid DNS-1123 subdomain, the namespace is the
/// regarding object's (or the configured namespace for cluster-scoped
/// objects), and the note is within 1024 bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The record of a single occurrence of `event` about `regarding`: the
    /// event's type, reason, action and note, its secondary object as
    /// `related`, its annotations; no series. Nothing is checked or
    /// computed: a sink writes what it is given, so the
    /// [`Recorder`](crate::Recorder) builds records only from validated
    /// input, and a test or a tool reading stored Events back may build any.
    ///
    /// # Example
    ///
    /// A sink's test builds the record it writes:
    ///
    /// ```
    /// use event_core::sink::{EventRecord, Series};
    /// use event_core::{Event, ObjectRef};
    /// use jiff::Timestamp;
    ///
    /// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    /// let first = Timestamp::from_second(1_700_000_000)?;
    /// let record = EventRecord::new(
    ///     "web-0.abc", "shop", first, pod,
    ///     Event::warning("BackOff", "Starting"),
    ///     "example.com/widgets", "widgets-0",
    /// )
    /// .with_series(Series { count: 3, last_observed_time: first });
    /// assert_eq!((record.count(), record.related), (3, None));
    /// # Ok::<(), jiff::Error>(())
    /// ```
    pub fn new(
        name: impl Into<String>,
        namespace: impl Into<String>,
        event_time: Timestamp,
        regarding: ObjectRef,
        event: Event,
        reporting_controller: impl Into<String>,
        reporting_instance: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            namespace: namespace.into(),
            event_time,
            series: None,
            regarding,
            related: event.secondary,
            reason: event.reason,
            action: event.action,
            note: event.note,
            type_: event.type_,
            reporting_controller: reporting_controller.into(),
            reporting_instance: reporting_instance.into(),
            annotations: event.annotations,
        }
    }

    /// The same record with `series` set: how a series' record reads.
    #[must_use]
    pub fn with_series(mut self, series: Series) -> Self {
        self.series = Some(series);
        self
    }

    /// How many occurrences this record stands for: the series count, or 1.
    pub fn count(&self) -> u32 {
        self.series.map_or(1, |s| s.count)
    }

    /// The time of the latest occurrence: the series' last observed time, or
    /// the event time.
    pub fn last_seen(&self) -> Timestamp {
        self.series
            .map_or(self.event_time, |s| s.last_observed_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_patch_caps_its_count_where_the_api_does() {
        let patch = |count| {
            Series {
                count,
                last_observed_time: Timestamp::UNIX_EPOCH,
            }
            .merge_patch()
        };
        assert!(patch(u32::MAX).contains(r#""count":2147483647,"#));
        assert!(patch(2_147_483_647).contains(r#""count":2147483647,"#));
        assert!(patch(7).contains(r#""count":7,"#));
    }

    fn record(series: Option<Series>) -> EventRecord {
        EventRecord {
            name: "web-0.0-abcde".into(),
            namespace: "shop".into(),
            event_time: Timestamp::UNIX_EPOCH,
            series,
            regarding: ObjectRef::new("v1", "Pod", "web-0").within("shop"),
            related: None,
            reason: "BackOff".into(),
            action: "Starting".into(),
            note: None,
            type_: EventType::Warning,
            reporting_controller: "example.com/c".into(),
            reporting_instance: "c-0".into(),
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn count_and_last_seen_come_from_the_series_when_there_is_one() {
        let single = record(None);
        assert_eq!(single.count(), 1);
        assert_eq!(single.last_seen(), Timestamp::UNIX_EPOCH);
        let later = Timestamp::from_second(60).unwrap();
        let series = record(Some(Series {
            count: 7,
            last_observed_time: later,
        }));
        assert_eq!(series.count(), 7);
        assert_eq!(series.last_seen(), later);
    }
}
