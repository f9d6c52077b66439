//! Shared helpers for the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use event_core::sink::{EventRecord, Series};

use event_core::{EventType, ObjectRef};
use event_testing::{DEFAULT_START, sample_record};
use jiff::Timestamp;

/// Pod `name` in namespace `shop`.
pub fn pod(name: &str) -> ObjectRef {
    ObjectRef::new("v1", "Pod", name).within("shop")
}

/// `secs` seconds after the clocks' start.
pub fn at(secs: u64) -> Timestamp {
    DEFAULT_START + Duration::from_secs(secs)
}

/// A valid record about `regarding`, first seen `secs` after the start.
pub fn record(
    name: &str,
    type_: EventType,
    reason: &str,
    regarding: &ObjectRef,
    secs: u64,
) -> EventRecord {
    let mut record = sample_record();
    record.name = name.to_owned();
    record.namespace = regarding
        .namespace
        .clone()
        .unwrap_or_else(|| "default".to_owned());
    record.event_time = at(secs);
    record.regarding = regarding.clone();
    record.reason = reason.to_owned();
    record.type_ = type_;
    record.note = None;
    record
}

/// The same record as a series of `count` occurrences, last seen `last` seconds after the start.
pub fn series(mut record: EventRecord, count: u32, last: u64) -> EventRecord {
    record.series = Some(Series {
        count,
        last_observed_time: at(last),
    });
    record
}

/// Runs `f`, which must panic, and returns its panic message.
pub fn panic_message(f: impl FnOnce()) -> String {
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .expect_err("the assertion should have failed");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast::<&str>()
            .map(|s| (*s).to_owned())
            .unwrap_or_default(),
    }
}

/// Patches the series `record` carries, as the Recorder does.
pub async fn patch(
    sink: &(impl event_core::sink::EventSink + ?Sized),
    record: &event_core::sink::EventRecord,
) -> Result<(), event_core::sink::SinkError> {
    let series = record.series.expect("a record with a series");
    sink.patch_series(record, series).await
}
