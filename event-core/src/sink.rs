//! The [`EventSink`] trait: where events are written.

use std::fmt;
use std::time::Duration;

#[cfg(test)]
use std::sync::atomic::AtomicU64;

use async_trait::async_trait;

pub use crate::fanout::{FanOut, FanOutBuilder, MAX_PENDING_WRITES, SinkReport};
pub use crate::record::{EventRecord, Series};

/// Where the [`Recorder`](crate::Recorder) writes events: the Kubernetes API
/// (`event_kube::KubeSink`), memory (`event_testing::MemorySink`), or a mock.
///
/// # Contract
///
/// - **Two writes.** [`create`](Self::create) writes a whole new event;
///   [`patch_series`](Self::patch_series) changes only the `series` of an
///   existing one (`count` and `lastObservedTime`; everything else is
///   immutable on the server) to the [`Series`] it is given.
/// - **One attempt per call.** A sink makes one attempt and classifies the
///   outcome as a [`SinkError`]; the Recorder owns retries, backoff and
///   recovery (re-creating an expired event, renaming on a name clash).
///   A sink must not retry on its own.
/// - **Concurrency.** Calls may run concurrently from several tasks, for
///   different events. The Recorder never runs two writes for the same event
///   at once.
/// - **Bounded.** A call should finish or fail within a bounded time (a
///   request timeout); the Recorder also bounds the total time it spends on
///   one write.
/// - **No computation.** The record is final: names, namespaces, truncated
///   notes and microsecond times are already decided.
///
/// The trait is object-safe; the Recorder holds an `Arc<dyn EventSink>`.
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use event_core::sink::{EventRecord, EventSink, Series, SinkError};
///
/// /// Prints events instead of writing them.
/// struct Stdout;
///
/// #[async_trait]
/// impl EventSink for Stdout {
///     async fn create(&self, e: &EventRecord) -> Result<(), SinkError> {
///         println!("{} {} {}", e.type_, e.reason, e.note.as_deref().unwrap_or(""));
///         Ok(())
///     }
///     async fn patch_series(&self, e: &EventRecord, series: Series) -> Result<(), SinkError> {
///         println!("{} x{}", e.name, series.count);
///         Ok(())
///     }
/// }
///
/// let sink: std::sync::Arc<dyn EventSink> = std::sync::Arc::new(Stdout);
/// ```
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait EventSink: Send + Sync {
    /// Writes a new event.
    ///
    /// # Errors
    ///
    /// [`SinkError::AlreadyExists`] when the name is taken; the other
    /// variants as classified by the sink.
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError>;

    /// Updates the `series` of the existing event named `event.name` in
    /// `event.namespace` to `series`. The rest of `event` is what was
    /// created (a sink that writes more than the series, such as one that
    /// forwards whole events, reads it there); its `series` field is
    /// `Some(series)`.
    ///
    /// # Errors
    ///
    /// [`SinkError::NotFound`] when the event no longer exists (it expired
    /// or was deleted); the other variants as classified by the sink.
    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError>;

    /// Reads the stored event `name` in `namespace`, as a record.
    ///
    /// # Errors
    ///
    /// [`SinkError::NotFound`] when there is none; the other variants as
    /// classified by the sink. The default answers [`SinkError::Fatal`]
    /// (this sink cannot read).
    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        let _ = (namespace, name);
        Err(SinkError::Fatal {
            message: "this sink cannot read events".to_owned(),
        })
    }
}

/// Why a sink write failed, in the classes the Recorder acts on.
///
/// | variant | Recorder's reaction |
/// | --- | --- |
/// | `NotFound` | on a series patch: create the event again, with its series |
/// | `AlreadyExists` | on a create: read the stored event; the same series is continued, another one gets a new name |
/// | `Throttled` | retry after `retry_after` (or backoff) |
/// | `Transient` | retry with exponential backoff and jitter, bounded |
/// | `Invalid`, `Forbidden`, `Fatal` | no retry; counted and logged |
/// | `NamespaceTerminating` | no retry; the series is dropped quietly (debug level) and counted in `dropped_namespace_terminating` |
///
/// # Example
///
/// ```
/// use event_core::sink::SinkError;
/// use std::time::Duration;
///
/// assert!(SinkError::Throttled { retry_after: Some(Duration::from_secs(1)) }.is_retryable());
/// assert!(!SinkError::Invalid { message: "reason: Too long".into() }.is_retryable());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkError {
    /// The event does not exist (HTTP 404).
    NotFound,
    /// An event with that name exists (HTTP 409).
    AlreadyExists,
    /// The server refused the event as invalid (HTTP 422).
    Invalid {
        /// The server's explanation.
        message: String,
    },
    /// Not allowed (HTTP 401/403).
    Forbidden {
        /// The server's explanation and the permission needed.
        message: String,
    },
    /// The namespace is being deleted and takes no new content (HTTP 403
    /// whose Status has the cause `NamespaceTerminating`). Not a matter of
    /// RBAC, and nothing written there would last.
    NamespaceTerminating {
        /// The server's explanation.
        message: String,
    },
    /// Too many requests (HTTP 429).
    Throttled {
        /// How long the server asked to wait.
        retry_after: Option<Duration>,
    },
    /// A failure that may pass: 5xx, timeout, connection error.
    Transient {
        /// What happened.
        message: String,
    },
    /// Anything else; not retried.
    Fatal {
        /// What happened.
        message: String,
    },
}

impl SinkError {
    /// Whether the Recorder retries this error with backoff.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Throttled { .. } | Self::Transient { .. })
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("event not found"),
            Self::AlreadyExists => f.write_str("an event with this name already exists"),
            Self::Invalid { message } => write!(f, "event rejected as invalid: {message}"),
            Self::Forbidden { message } => write!(f, "forbidden: {message}"),
            Self::NamespaceTerminating { message } => {
                write!(f, "the namespace is being deleted: {message}")
            }
            Self::Throttled {
                retry_after: Some(d),
            } => write!(f, "throttled; retry after {}s", d.as_secs_f64()),
            Self::Throttled { retry_after: None } => f.write_str("throttled"),
            Self::Transient { message } => write!(f, "transient failure: {message}"),
            Self::Fatal { message } => write!(f, "write failed: {message}"),
        }
    }
}

impl std::error::Error for SinkError {}

/// A sink for the crate's own tests: answers every write the same way, and
/// counts them.
#[cfg(test)]
pub(crate) struct Answer(pub(crate) Result<(), SinkError>, pub(crate) AtomicU64);

#[cfg(test)]
impl Answer {
    pub(crate) fn new(answer: Result<(), SinkError>) -> Self {
        Self(answer, AtomicU64::new(0))
    }

    /// Writes answered so far.
    pub(crate) fn writes(&self) -> u64 {
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
#[async_trait]
impl EventSink for Answer {
    async fn create(&self, _: &EventRecord) -> Result<(), SinkError> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.0.clone()
    }
    async fn patch_series(&self, _: &EventRecord, _: Series) -> Result<(), SinkError> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_classes() {
        let retryable = [
            SinkError::Throttled { retry_after: None },
            SinkError::Transient {
                message: String::new(),
            },
        ];
        let final_ = [
            SinkError::NotFound,
            SinkError::AlreadyExists,
            SinkError::Invalid {
                message: String::new(),
            },
            SinkError::Forbidden {
                message: String::new(),
            },
            SinkError::NamespaceTerminating {
                message: String::new(),
            },
            SinkError::Fatal {
                message: String::new(),
            },
        ];
        assert!(retryable.iter().all(SinkError::is_retryable));
        assert!(!final_.iter().any(SinkError::is_retryable));
    }

    #[test]
    fn sink_is_object_safe() {
        fn takes(_: &dyn EventSink) {}
        let _ = takes;
    }
}
