//! [`EventRecord`]: the event exactly as a sink writes it.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::{EventType, ObjectRef};

/// The series part of an event: how often it happened and when last.
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
