//! A drop-in for kube-rs's `kube::runtime::events` recorder.
//!
//! Same names, same shapes: [`Recorder::new`]`(client, reporter)`,
//! [`Recorder::publish`]`(&Event, &ObjectReference) -> Result<(), kube::Error>`,
//! [`Event`] `{ type_, reason, note, action, secondary }`, [`EventType`] and
//! [`Reporter`] `{ controller, instance }`. Moving a controller over is a
//! change of its `use` lines:
//!
//! ```diff
//! - use kube::runtime::events::{Event, EventType, Recorder, Reporter};
//! + use event_kube::compat::{Event, EventType, Recorder, Reporter};
//! ```
//!
//! Underneath is the [`event_core::Recorder`] engine writing through a
//! [`KubeSink`]: the event is checked before it is sent, repeats become one
//! Event with a series (a create, a patch with count 2, then at most one
//! patch per flush interval), an Event that expired is created again, name
//! clashes are renamed, and 429/5xx/transport failures are retried with
//! backoff.
//!
//! Differences worth knowing:
//!
//! - `publish` returns once the occurrence is counted; the third and later
//!   occurrences of a series do not wait for a write (kube-rs patches on
//!   every call).
//! - A new event the spam filter drops, or an event about an `Event`,
//!   returns `Ok(())` without a write.
//! - Keep one `Recorder` (it is `Clone`) for the life of the controller: its
//!   cache is what folds repeats.
//! - The cache is bounded. kube-rs keeps every key in an unbounded map for
//!   6 minutes after its last occurrence: a repeat within that time always
//!   continues its Event, and memory grows with the number of distinct keys.
//!   Here the cache holds at most
//!   [`DEFAULT_MAX_CACHED_KEYS`](event_core::config::DEFAULT_MAX_CACHED_KEYS)
//!   (4096) keys and lets the least recently used one go when a new key
//!   comes in past that, so memory stays bounded. Its unwritten count is
//!   still written, and its next occurrence finds its stored Event by name
//!   (a create answered "already exists", a read, a patch) and continues it:
//!   the series does not split, as with kube-rs, but a key that comes back
//!   after leaving costs those two extra requests once. A controller with
//!   many more active keys than that (objects times reasons within a few
//!   minutes) saves them by raising the bound with
//!   [`max_cached_keys`](event_core::RecorderBuilder::max_cached_keys) and
//!   [`Recorder::from_engine`]. Continuing a stored Event needs RBAC verb
//!   `get` on `events.k8s.io` events; without it the series gets a new
//!   Event.
//! - Events about cluster-scoped objects go to the `default` namespace, as
//!   with kube-rs; the engine can write them to `kube-system` instead
//!   ([`cluster_scoped_namespace`](event_core::RecorderBuilder::cluster_scoped_namespace)).
//! - Errors are `kube::Error`s: the API's answers as [`kube::Error::Api`]
//!   with the usual codes (404, 409, 422, 403, 429), an event this crate
//!   rejects before sending as `Api` with code 422 and reason `Invalid`, and
//!   transport failures and the rest as [`kube::Error::Service`] wrapping
//!   the [`SinkError`] or [`event_core::Error`].
//!
//! ```no_run
//! use event_kube::compat::{Event, EventType, Recorder, Reporter};
//! use k8s_openapi::api::core::v1::Pod;
//! use kube::Resource;
//!
//! # async fn run(client: kube::Client, pod: Pod) -> Result<(), kube::Error> {
//! let recorder = Recorder::new(client, "example.com/widgets".into());
//! recorder
//!     .publish(
//!         &Event {
//!             type_: EventType::Normal,
//!             reason: "Synced".into(),
//!             note: Some("3 replicas ready".into()),
//!             action: "Reconciling".into(),
//!             secondary: None,
//!         },
//!         &pod.object_ref(&()),
//!     )
//!     .await?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use event_core::ObjectRef;

use event_core::sink::SinkError;
use k8s_openapi::api::core::v1::ObjectReference;
use kube::core::Status;
use kube::core::response::StatusDetails;

use crate::KubeSink;

pub use event_core::{EventType, Reporter};

/// An event to publish, shaped like kube-rs's `Event`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Event {
    /// Normal or Warning.
    pub type_: EventType,
    /// Why the action was taken, `UpperCamelCase` by convention; at most 128
    /// bytes.
    pub reason: String,
    /// Human-readable description; at most 1024 bytes (a longer note is
    /// shortened, keeping its head and tail).
    pub note: Option<String>,
    /// What was done or failed; at most 128 bytes.
    pub action: String,
    /// A second object involved, written as `related`.
    pub secondary: Option<ObjectReference>,
}

impl From<&Event> for event_core::Event {
    fn from(e: &Event) -> Self {
        Self {
            type_: e.type_,
            reason: e.reason.clone(),
            note: e.note.clone(),
            action: e.action.clone(),
            secondary: e.secondary.as_ref().map(ObjectRef::from),
            annotations: Default::default(),
        }
    }
}

/// Publishes events, shaped like kube-rs's `Recorder`; see the [module
/// docs](self).
///
/// # Example
///
/// ```no_run
/// use event_kube::compat::{Recorder, Reporter};
///
/// # async fn run() -> Result<(), kube::Error> {
/// let client = kube::Client::try_default().await?;
/// let recorder = Recorder::new(
///     client,
///     Reporter {
///         controller: "example.com/widgets".into(),
///         instance: std::env::var("CONTROLLER_POD_NAME").ok(),
///     },
/// );
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Recorder {
    engine: Result<event_core::Recorder, event_core::Error>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Recorder").field(&self.engine).finish()
    }
}

impl Recorder {
    /// A recorder writing through `client` as `reporter`, with the engine's
    /// defaults.
    ///
    /// An unusable reporter (a controller name that is not a qualified name,
    /// an instance over 128 bytes) does not fail here; every `publish`
    /// returns the problem instead.
    ///
    /// Clients from `Client::try_default()` retry 429/503/504 by themselves
    /// as well; see [`KubeSink`] for how to build one that does not.
    pub fn new(client: kube::Client, reporter: Reporter) -> Self {
        let sink = Arc::new(KubeSink::new(client));
        Self {
            engine: event_core::Recorder::builder(sink, reporter).build(),
        }
    }

    /// Wraps an engine configured by hand (flush interval, spam filter, a
    /// different sink, ...).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(client: kube::Client) -> Result<(), event_core::Error> {
    /// use std::{sync::Arc, time::Duration};
    /// use event_kube::{KubeSink, compat::Recorder};
    ///
    /// let engine = event_core::Recorder::builder(Arc::new(KubeSink::new(client)), "example.com/widgets")
    ///     .series_flush_interval(Duration::from_secs(30))
    ///     .build()?;
    /// let recorder = Recorder::from_engine(engine);
    /// # Ok(()) }
    /// ```
    pub fn from_engine(engine: event_core::Recorder) -> Self {
        Self { engine: Ok(engine) }
    }

    /// The engine underneath, for [`flush`](event_core::Recorder::flush),
    /// [`shutdown`](event_core::Recorder::shutdown) and
    /// [`stats`](event_core::Recorder::stats).
    ///
    /// # Errors
    ///
    /// The configuration error when the reporter given to [`Recorder::new`]
    /// was unusable.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run(recorder: event_kube::compat::Recorder) -> Result<(), event_core::Error> {
    /// let stats = recorder.engine()?.stats();
    /// println!("{} events created", stats.created);
    /// # Ok(()) }
    /// ```
    pub fn engine(&self) -> Result<&event_core::Recorder, event_core::Error> {
        self.engine.as_ref().map_err(Clone::clone)
    }

    /// Publishes one occurrence of `event` about `reference`.
    ///
    /// The Event goes to the reference's namespace; events about
    /// cluster-scoped objects go to `default`.
    ///
    /// # Errors
    ///
    /// A [`kube::Error`] as described in the [module docs](self): the API's
    /// refusal, the event's own problems (422), or a failure to reach the
    /// API after retries.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use event_kube::compat::{Event, EventType, Recorder};
    /// use k8s_openapi::api::core::v1::ObjectReference;
    /// use kube::client::Body;
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kube::Error> {
    /// // Stands in for the API server: accepts every write and counts it.
    /// let writes = Arc::new(AtomicUsize::new(0));
    /// let seen = writes.clone();
    /// let service = tower::service_fn(move |_: http::Request<Body>| {
    ///     seen.fetch_add(1, Ordering::SeqCst);
    ///     async { http::Response::builder().status(201).body(Body::from(Vec::new())) }
    /// });
    /// let recorder = Recorder::new(kube::Client::new(service, "default"), "example.com/widgets".into());
    ///
    /// let pod = ObjectReference {
    ///     api_version: Some("v1".into()),
    ///     kind: Some("Pod".into()),
    ///     name: Some("web-0".into()),
    ///     namespace: Some("shop".into()),
    ///     ..ObjectReference::default()
    /// };
    /// let synced = Event {
    ///     type_: EventType::Normal,
    ///     reason: "Synced".into(),
    ///     note: None,
    ///     action: "Reconciling".into(),
    ///     secondary: None,
    /// };
    /// for _ in 0..3 {
    ///     recorder.publish(&synced, &pod).await?;
    /// }
    /// // A create, then the patch that starts the series; the third only counts.
    /// assert_eq!(writes.load(Ordering::SeqCst), 2);
    ///
    /// // An event refused before sending comes back as a 422, as from the server.
    /// let unnamed = Event { reason: String::new(), ..synced };
    /// match recorder.publish(&unnamed, &pod).await {
    ///     Err(kube::Error::Api(status)) => assert_eq!(status.code, 422),
    ///     other => panic!("expected a 422, got {other:?}"),
    /// }
    /// assert_eq!(writes.load(Ordering::SeqCst), 2);
    /// # Ok(()) }
    /// ```
    pub async fn publish(&self, event: &Event, reference: &ObjectReference) -> kube::Result<()> {
        let engine = self.engine.as_ref().map_err(|e| to_kube_error(e.clone()))?;
        engine
            .publish(&event.into(), &ObjectRef::from(reference))
            .await
            .map(drop)
            .map_err(to_kube_error)
    }
}

/// Expresses an engine error the way kube-rs callers expect to see it.
fn to_kube_error(error: event_core::Error) -> kube::Error {
    let api = |code: u16, reason: &str, message: &str| {
        kube::Error::Api(Status::failure(message, reason).with_code(code).boxed())
    };
    match error {
        event_core::Error::Invalid(invalid) => api(422, "Invalid", &invalid.to_string()),
        event_core::Error::Sink(sink) => match &sink {
            SinkError::NotFound => api(404, "NotFound", &sink.to_string()),
            SinkError::AlreadyExists => api(409, "AlreadyExists", &sink.to_string()),
            SinkError::Invalid { message } => api(422, "Invalid", message),
            SinkError::Forbidden { message } | SinkError::NamespaceTerminating { message } => {
                api(403, "Forbidden", message)
            }
            SinkError::Throttled { retry_after } => {
                let seconds =
                    retry_after.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
                let details = StatusDetails {
                    name: String::new(),
                    group: String::new(),
                    kind: String::new(),
                    uid: String::new(),
                    causes: Vec::new(),
                    retry_after_seconds: seconds,
                };
                kube::Error::Api(
                    Status::failure(&sink.to_string(), "TooManyRequests")
                        .with_code(429)
                        .with_details(details)
                        .boxed(),
                )
            }
            // Transient, Fatal, and classes added later: no status to report.
            _ => kube::Error::Service(Box::new(sink)),
        },
        other => kube::Error::Service(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn code(e: &kube::Error) -> u16 {
        match e {
            kube::Error::Api(s) => s.code,
            _ => 0,
        }
    }

    #[test]
    fn sink_errors_become_api_statuses() {
        let sink = |e: SinkError| to_kube_error(event_core::Error::Sink(e));
        assert_eq!(code(&sink(SinkError::NotFound)), 404);
        assert_eq!(code(&sink(SinkError::AlreadyExists)), 409);
        assert_eq!(
            code(&sink(SinkError::Invalid {
                message: "m".into()
            })),
            422
        );
        assert_eq!(
            code(&sink(SinkError::Forbidden {
                message: "m".into()
            })),
            403
        );
        let throttled = sink(SinkError::Throttled {
            retry_after: Some(Duration::from_secs(2)),
        });
        let kube::Error::Api(status) = throttled else {
            panic!("not Api")
        };
        assert_eq!(status.code, 429);
        assert_eq!(status.details.unwrap().retry_after_seconds, 2);
        let transient = sink(SinkError::Transient {
            message: "reset".into(),
        });
        let kube::Error::Service(inner) = transient else {
            panic!("not Service")
        };
        assert_eq!(
            inner.downcast_ref::<SinkError>(),
            Some(&SinkError::Transient {
                message: "reset".into()
            })
        );
    }

    #[test]
    fn other_engine_errors_are_wrapped() {
        let kube::Error::Service(inner) = to_kube_error(event_core::Error::ShutDown) else {
            panic!("not Service")
        };
        assert_eq!(
            inner.downcast_ref::<event_core::Error>(),
            Some(&event_core::Error::ShutDown)
        );
    }

    #[test]
    fn an_unusable_reporter_is_reported_on_use() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = kube::Client::new(
                tower::service_fn(|_: http::Request<kube::client::Body>| async {
                    Err::<http::Response<kube::client::Body>, _>(std::io::Error::other("unused"))
                }),
                "default",
            );
            let recorder = Recorder::new(client, "not a qualified name!".into());
            assert!(recorder.engine().is_err());
            let err = recorder
                .publish(&Event::default(), &ObjectReference::default())
                .await
                .unwrap_err();
            assert_eq!(code(&err), 422);
        });
    }
}
