//! Kubernetes Events for Rust controllers: the model, validation, the series
//! engine, the [`EventSink`] trait and [`FanOut`] (one Recorder, several
//! sinks). No HTTP here: the Kubernetes sinks are in `event-kube`, the
//! in-memory sink and test helpers in `event-testing`.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use event_core::{Event, EventRecord, EventSink, ObjectRef, Published, Recorder, SinkError};
//!
//! # #[derive(Default)] struct Count(std::sync::atomic::AtomicUsize);
//! # #[async_trait] impl EventSink for Count {
//! #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst); Ok(()) }
//! #   async fn patch_series(&self, _: &EventRecord) -> Result<(), SinkError> { self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst); Ok(()) }
//! # }
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), event_core::Error> {
//! let sink = Arc::new(Count::default()); // in production: event_kube::KubeSink
//! let recorder = Recorder::builder(sink.clone(), "example.com/widgets").build()?;
//!
//! let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
//! let event = Event::warning("BackOff", "Starting").note("container exited with 1");
//! for _ in 0..1000 {
//!     recorder.publish(&event, &pod).await?;
//! }
//! recorder.flush().await;
//! // 1000 occurrences, 3 writes: a create, a patch with count 2, a patch with count 1000.
//! assert_eq!(sink.0.load(std::sync::atomic::Ordering::SeqCst), 3);
//! # Ok(()) }
//! ```
//!
//! # Defaults
//!
//! | setting | constant | value |
//! | --- | --- | --- |
//! | dirty series written at most every | [`DEFAULT_SERIES_FLUSH_INTERVAL`] | 10 s |
//! | idle key flushed and evicted after | [`DEFAULT_SERIES_TTL`] | 6 min |
//! | long series re-written every | [`DEFAULT_HEARTBEAT`] | 30 min |
//! | cached keys at most | [`DEFAULT_MAX_CACHED_KEYS`] | 4096 |
//! | `emit` queue capacity | [`DEFAULT_QUEUE_CAPACITY`] | 1024 |
//! | background writers | [`DEFAULT_WRITERS`] | 4 |
//! | spam filter burst per object | [`DEFAULT_SPAM_BURST`] | 25 |
//! | spam filter refill, one token per | [`DEFAULT_SPAM_REFILL`] | 300 s |
//! | spam filter objects tracked | [`DEFAULT_SPAM_MAX_KEYS`] | 4096 |
//! | spam filter bucket per | [`SpamKey::Object`] | object and type |
//! | write budget: requests per second | [`DEFAULT_WRITE_RATE`] | 20 |
//! | write budget: burst | [`DEFAULT_WRITE_BURST`] | 100 |
//! | write budget: longest wait before a write is put off | [`DEFAULT_BUDGET_MAX_WAIT`] | 1 s |
//! | pause after a 429 without `Retry-After` | [`THROTTLED_PAUSE`] | 1 s |
//! | log record per published occurrence | `log_events`, target [`EVENT_LOG_TARGET`] | off |
//! | filters | `events_enabled`, `minimum_type`, `drop_reasons`, `keep_reasons` | every event published |
//! | write attempts at most | [`DEFAULT_RETRY_ATTEMPTS`] | 5 |
//! | first backoff | [`DEFAULT_RETRY_INITIAL_BACKOFF`] | 200 ms |
//! | longest backoff | [`DEFAULT_RETRY_MAX_BACKOFF`] | 10 s |
//! | total time for one write | [`DEFAULT_RETRY_MAX_ELAPSED`] | 30 s |
//! | longest `Retry-After` honoured before giving up the attempt | [`MAX_RETRY_AFTER`] | 300 s |
//! | `emit` queue capacity at most | [`MAX_QUEUE_CAPACITY`] | 65,536 |
//! | background writers at most | [`MAX_WRITERS`] | 256 |
//! | too-long note | [`NoteOverflow::Truncate`] | head + marker + tail |
//! | note in key | [`NotePolicy::Ignore`] | first note kept |
//! | namespace for cluster-scoped objects | [`ClusterScopedNamespace::Default`] | `default` |
//! | [`FanOut`]: writes the primary failed, remembered to spare the mirrors that took them | [`MAX_PENDING_WRITES`] | 4096 |

mod clock;
mod error;
mod event;
mod fanout;
mod key;
mod name;
mod record;
mod reference;
mod reporter;
mod sink;
mod validate;

mod recorder;
mod spam;

pub use clock::{Clock, SystemClock, format_micro_time, truncate_to_micros};
pub use error::{Error, Result};
pub use event::{Event, EventType};
pub use fanout::{FanOut, FanOutBuilder, MAX_PENDING_WRITES, SinkReport};
pub use key::{EventKey, NotePolicy, RefKey};
pub use record::{EventRecord, Series};
pub use reference::ObjectRef;
pub use reporter::{InstanceSource, Reporter};
#[cfg(feature = "mock")]
pub use sink::MockEventSink;
pub use sink::{EventSink, RBAC_HINT, SinkError};
pub use validate::{
    ClusterScopedNamespace, MAX_ACTION_BYTES, MAX_ANNOTATIONS_BYTES, MAX_DNS_LABEL,
    MAX_DNS_SUBDOMAIN, MAX_EVENT_BYTES, MAX_INSTANCE_BYTES, MAX_NOTE_BYTES,
    MAX_QUALIFIED_NAME_PART, MAX_REASON_BYTES, NOTE_TRUNCATION_MARKER, NoteOverflow, Rule,
    ValidReporter, ValidationError, Violation, cut_to_bytes, is_dns_label, is_dns_subdomain,
    is_qualified_name, truncate_note, validate_event, validate_regarding, validate_reporter,
};

#[cfg(feature = "prometheus")]
pub use recorder::METRICS_PREFIX;
pub use recorder::{
    DEFAULT_BUDGET_MAX_WAIT, DEFAULT_WRITE_BURST, DEFAULT_WRITE_RATE, EVENT_LOG_TARGET,
    THROTTLED_PAUSE, WriteBudget,
};
pub use recorder::{
    DEFAULT_HEARTBEAT, DEFAULT_MAX_CACHED_KEYS, DEFAULT_QUEUE_CAPACITY, DEFAULT_RETRY_ATTEMPTS,
    DEFAULT_RETRY_INITIAL_BACKOFF, DEFAULT_RETRY_MAX_BACKOFF, DEFAULT_RETRY_MAX_ELAPSED,
    DEFAULT_SERIES_FLUSH_INTERVAL, DEFAULT_SERIES_TTL, DEFAULT_WRITERS, DropReason,
    MAX_QUEUE_CAPACITY, MAX_RETRY_AFTER, MAX_WRITERS, Published, Recorder, RecorderBuilder,
    RetryPolicy, ShutdownReport, SkipReason, SpamKey, Stats,
};
pub use spam::{DEFAULT_SPAM_BURST, DEFAULT_SPAM_MAX_KEYS, DEFAULT_SPAM_REFILL, SpamFilter};
