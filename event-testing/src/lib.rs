//! Offline testing of controllers that publish Kubernetes Events.
//!
//! Swap the sink, not the type: a controller holds an
//! [`event_core::Recorder`] in production and in tests; tests build it on a
//! [`MemorySink`] and assert what was emitted, in the order "expect, run,
//! assert", with no cluster.
//!
//! ```
//! use event_core::{Event, ObjectRef, Recorder};
//! use event_testing::{MemorySink, expect};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), event_core::Error> {
//! let sink = MemorySink::new();
//! let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
//! let widget = ObjectRef::new("example.com/v1", "Widget", "w1").within("shop");
//!
//! // The code under test:
//! let err = std::io::Error::other("connect timeout");
//! recorder.publish(&Event::from_error("ReconcileFailed", "Reconciling", &err), &widget).await?;
//!
//! sink.assert_emitted(expect::warning("ReconcileFailed").regarding(&widget).note_contains("timeout"));
//! println!("{}", sink.describe(&widget)); // the `kubectl describe` Events table
//! # Ok(()) }
//! ```
//!
//! # Contents
//!
//! | item | for |
//! | --- | --- |
//! | [`MemorySink`] | a sink that keeps events and every write; queries, assertions, `describe` |
//! | [`expect`] | expectations: `expect::warning("Reason").regarding(&obj).note_contains("..")` |
//! | [`ManualClock`], [`TokioClock`] | deterministic time for series, flushes and ages |
//! | [`Faults`], [`FaultySink`] | failing, slow or silent writes, around any sink |
//! | [`MockEventSink`] | a mockall mock of [`EventSink`](event_core::sink::EventSink) for call-by-call expectations |
//! | [`describe_records`], [`format_age`] | the `kubectl describe` table for any records |
//! | `ClusterEvents` (feature `cluster`) | the same expectations against a cluster or the API double, waiting on a watch |
//!
//! # From unit test to cluster
//!
//! One [`Expectation`] serves both: `sink.assert_emitted(&e)` on a
//! [`MemorySink`], `events.assert_emitted(&e).await` on a `ClusterEvents`
//! (feature `cluster`, which brings in `event-kube` and kube's runtime),
//! which watches `events.k8s.io/v1` Events and waits until one matches or
//! its timeout passes. A timeout prints the expectation and what the
//! cluster holds for the object as a `kubectl describe` table.
//!
//! # Time
//!
//! The [`Recorder`](event_core::Recorder) reads its clock (set with
//! [`RecorderBuilder::clock`](event_core::RecorderBuilder::clock)) for
//! event times, series times and for deciding when a series is due; its
//! background task sleeps on tokio time. Give the [`MemorySink`] the same
//! clock so its write times and `describe` ages agree. Two recipes:
//!
//! | recipe | clock | time moves by | series written by |
//! | --- | --- | --- | --- |
//! | explicit | [`ManualClock`] | `clock.advance(d)` | `recorder.flush().await` |
//! | paused runtime | [`TokioClock`] | `tokio::time::advance(d).await`, or sleeping under `start_paused` | the background task, as in production |
//!
//! With a [`ManualClock`] the background task sees no time pass unless
//! tokio time is advanced as well, so it does not find series due on its
//! own: advance the clock, then call `flush()`. With a [`TokioClock`] under
//! `#[tokio::test(start_paused = true)]` (tokio's `test-util` feature) the
//! Recorder's clock and its timers are one time, so flushes, heartbeats and
//! evictions happen exactly when they would in production, only instantly.
//! Both clocks start at [`DEFAULT_START`], so names, times and tables are
//! the same on every run.

mod assert;
mod clock;
#[cfg(feature = "cluster")]
mod cluster;
mod columns;
mod describe;
pub mod expect;
mod fault;
mod memory;

pub use clock::{DEFAULT_START, ManualClock, TokioClock};
#[cfg(feature = "cluster")]
pub use cluster::{
    ClusterError, ClusterEvents, ClusterEventsBuilder, DEFAULT_QUIET_WINDOW, DEFAULT_WAIT_TIMEOUT,
};
pub use describe::{age_cell, describe_records, format_age};
/// A mockall mock of [`EventSink`](event_core::sink::EventSink), for tests that
/// script each call (see mockall's documentation).
///
/// # Example
///
/// ```
/// use event_core::sink::{EventSink, SinkError};
/// use event_testing::MockEventSink;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut mock = MockEventSink::new();
/// mock.expect_create().times(1).returning(|_| Err(SinkError::AlreadyExists));
/// let record = event_testing::sample_record();
/// assert_eq!(mock.create(&record).await, Err(SinkError::AlreadyExists));
/// # }
/// ```
pub use event_core::sink::MockEventSink;
pub use expect::Expectation;
pub use fault::{CALL_LOG_LIMIT, FaultCounts, Faults, FaultySink, Target};
pub use memory::{MemorySink, Write, WriteKind};

use event_core::sink::EventRecord;
use event_core::{Event, ObjectRef};

/// A valid single-occurrence record about Pod `shop/web-0`, at
/// [`DEFAULT_START`], for tests of sinks and sink wrappers that need a
/// record without a Recorder. Change fields as needed.
///
/// # Example
///
/// ```
/// use event_core::sink::EventSink;
/// use event_testing::{MemorySink, expect, sample_record};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sink = MemorySink::new();
/// let mut record = sample_record();
/// record.reason = "Pulled".into();
/// sink.create(&record).await.unwrap();
/// assert_eq!(sink.create(&record).await, Err(event_core::sink::SinkError::AlreadyExists));
/// sink.assert_emitted(expect::normal("Pulled"));
/// # }
/// ```
pub fn sample_record() -> EventRecord {
    EventRecord::new(
        "web-0.181a1b2c3d4e5f60.abcde",
        "shop",
        DEFAULT_START,
        ObjectRef::new("v1", "Pod", "web-0")
            .within("shop")
            .with_uid("4c8d2f0e-3f1a-4b7e-9d2a-000000000001"),
        Event::normal("Started", "Starting").note("started container app"),
        "example.com/widgets",
        "widgets-0",
    )
}
