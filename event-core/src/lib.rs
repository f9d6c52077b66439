//! Kubernetes Events for Rust controllers: the model, validation, the series
//! engine, the [`EventSink`](crate::sink::EventSink) trait and
//! [`FanOut`](crate::sink::FanOut) (one Recorder, several sinks). No HTTP
//! here: the Kubernetes sinks are in `event-kube`, the in-memory sink and
//! test helpers in `event-testing`.
//!
//! ```
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use event_core::{Event, ObjectRef, Published, Recorder};
//! use event_core::sink::{EventRecord, EventSink, SinkError};
//!
//! # #[derive(Default)] struct Count(std::sync::atomic::AtomicUsize);
//! # #[async_trait] impl EventSink for Count {
//! #   async fn create(&self, _: &EventRecord) -> Result<(), SinkError> { self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst); Ok(()) }
//! #   async fn patch_series(&self, _: &EventRecord, _: event_core::sink::Series) -> Result<(), SinkError> { self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst); Ok(()) }
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
//! | dirty series written at most every | [`DEFAULT_SERIES_FLUSH_INTERVAL`](crate::config::DEFAULT_SERIES_FLUSH_INTERVAL) | 10 s |
//! | idle key flushed and evicted after | [`DEFAULT_SERIES_TTL`](crate::config::DEFAULT_SERIES_TTL) | 6 min |
//! | long series re-written every | [`DEFAULT_HEARTBEAT`](crate::config::DEFAULT_HEARTBEAT) | 30 min |
//! | cached keys at most | [`DEFAULT_MAX_CACHED_KEYS`](crate::config::DEFAULT_MAX_CACHED_KEYS) | 4096 |
//! | `emit` queue capacity | [`DEFAULT_QUEUE_CAPACITY`](crate::config::DEFAULT_QUEUE_CAPACITY) | 1024 |
//! | background writers | [`DEFAULT_WRITERS`](crate::config::DEFAULT_WRITERS) | 4 |
//! | spam filter burst per object | [`DEFAULT_SPAM_BURST`](crate::config::DEFAULT_SPAM_BURST) | 25 |
//! | spam filter refill, one token per | [`DEFAULT_SPAM_REFILL`](crate::config::DEFAULT_SPAM_REFILL) | 300 s |
//! | spam filter objects tracked | [`DEFAULT_SPAM_MAX_KEYS`](crate::config::DEFAULT_SPAM_MAX_KEYS) | 4096 |
//! | spam filter bucket per | [`SpamKey::Object`](crate::config::SpamKey::Object) | object and type |
//! | write budget: requests per second | [`DEFAULT_WRITE_RATE`](crate::config::DEFAULT_WRITE_RATE) | 20 |
//! | write budget: burst | [`DEFAULT_WRITE_BURST`](crate::config::DEFAULT_WRITE_BURST) | 100 |
//! | write budget: longest wait before a write is put off | [`DEFAULT_BUDGET_MAX_WAIT`](crate::config::DEFAULT_BUDGET_MAX_WAIT) | 1 s |
//! | pause after a 429 without `Retry-After` | [`THROTTLED_PAUSE`](crate::config::THROTTLED_PAUSE) | 1 s |
//! | log record per published occurrence | `log_events`, target [`EVENT_LOG_TARGET`](crate::config::EVENT_LOG_TARGET) | off |
//! | filters | `events_enabled`, `minimum_type`, `drop_reasons`, `keep_reasons` | every event published |
//! | write attempts at most | [`DEFAULT_RETRY_ATTEMPTS`](crate::config::DEFAULT_RETRY_ATTEMPTS) | 5 |
//! | first backoff | [`DEFAULT_RETRY_INITIAL_BACKOFF`](crate::config::DEFAULT_RETRY_INITIAL_BACKOFF) | 200 ms |
//! | longest backoff | [`DEFAULT_RETRY_MAX_BACKOFF`](crate::config::DEFAULT_RETRY_MAX_BACKOFF) | 10 s |
//! | total time for one write | [`DEFAULT_RETRY_MAX_ELAPSED`](crate::config::DEFAULT_RETRY_MAX_ELAPSED) | 30 s |
//! | longest `Retry-After` honoured before giving up the attempt | [`MAX_RETRY_AFTER`](crate::config::MAX_RETRY_AFTER) | 300 s |
//! | `emit` queue capacity at most | [`MAX_QUEUE_CAPACITY`](crate::config::MAX_QUEUE_CAPACITY) | 65,536 |
//! | background writers at most | [`MAX_WRITERS`](crate::config::MAX_WRITERS) | 256 |
//! | too-long note | [`NoteOverflow::Truncate`](crate::config::NoteOverflow::Truncate) | head + marker + tail |
//! | note in key | [`NotePolicy::Ignore`](crate::config::NotePolicy::Ignore) | first note kept |
//! | namespace for cluster-scoped objects | [`ClusterScopedNamespace::Default`](crate::config::ClusterScopedNamespace::Default) | `default` |
//! | [`FanOut`](crate::sink::FanOut): writes the primary failed, remembered to spare the mirrors that took them | [`MAX_PENDING_WRITES`](crate::sink::MAX_PENDING_WRITES) | 4096 |

pub mod clock;
pub mod config;
mod error;
mod event;
mod fanout;
pub mod key;
mod name;
mod record;
mod reference;
mod reporter;
pub mod sink;
pub mod validate;

mod recorder;
mod spam;

pub use clock::{Clock, SystemClock};
pub use error::{Error, Result};
pub use event::{Event, EventType};
pub use recorder::{
    DropReason, Published, Recorder, RecorderBuilder, ShutdownReport, SkipReason, Stats,
};
pub use reference::ObjectRef;
pub use reporter::Reporter;
