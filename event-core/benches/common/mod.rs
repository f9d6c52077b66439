//! Shared pieces of the event-core benchmarks.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::missing_panics_doc
)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};
use event_core::{Event, ObjectRef, Recorder};

/// Accepts every write and does nothing.
pub struct NoopSink;

#[async_trait]
impl EventSink for NoopSink {
    async fn create(&self, _: &EventRecord) -> Result<(), SinkError> {
        Ok(())
    }
    async fn patch_series(&self, _: &EventRecord, _: Series) -> Result<(), SinkError> {
        Ok(())
    }
}

/// A recorder with room for `keys` live keys, no spam filter and no write
/// budget: the benchmarks measure the engine, not the pace it writes at.
pub fn recorder(keys: usize) -> Recorder {
    Recorder::builder(Arc::new(NoopSink), "example.com/bench")
        .max_cached_keys(keys.max(1))
        .no_spam_filter()
        .write_budget(event_core::config::WriteBudget::unlimited())
        .build()
        .unwrap()
}

/// The i-th object: realistic names, namespaces and uids.
pub fn object(i: usize) -> ObjectRef {
    ObjectRef::new("v1", "Pod", format!("web-{i:06}"))
        .within(format!("team-{:03}", i % 100))
        .with_uid(format!("0f3c6a4e-5d1b-4c2a-9e8f-{i:012}"))
}

/// The event used for the i-th key.
pub fn event() -> Event {
    Event::warning("BackOff", "Starting").note("Back-off restarting failed container")
}

/// Writes `n` as `width` decimal digits over the last `width` characters
/// of `s`, in place.
fn digits(s: &mut String, mut n: usize, width: usize) {
    let mut buf = [b'0'; 12];
    for b in buf[..width].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    s.truncate(s.len() - width);
    s.extend(buf[..width].iter().map(|&b| char::from(b)));
}

/// Turns an object made by [`object`] into the i-th object in place,
/// without allocating: what a controller publishes about is usually at
/// hand (it has just reconciled it), not one of thousands of objects far
/// away in memory.
pub fn rewrite(object: &mut ObjectRef, i: usize) {
    digits(&mut object.name, i, 6);
    digits(object.namespace.as_mut().unwrap(), i % 100, 3);
    digits(object.uid.as_mut().unwrap(), i, 12);
}

/// The settings every timing benchmark here runs with.
pub fn criterion() -> criterion::Criterion {
    criterion::Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
}

/// The key after `key` of `keys`: a stride that visits keys all over the
/// cache, so that no two in a row are near each other in memory.
pub fn next_key(key: usize, keys: usize) -> usize {
    (key + 7_919) % keys
}
