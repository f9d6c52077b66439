//! Kubernetes Events for Rust controllers, written to the Kubernetes API:
//! [`KubeSink`], the [`EventSink`](event_core::sink::EventSink) over
//! `events.k8s.io/v1`, [`CoreV1Sink`] over core/v1, [`ApiSink`] choosing
//! between them (explicitly or from discovery), references from any [`kube::Resource`]
//! ([`EventRefExt`]), client configuration from a kubeconfig ([`config`],
//! [`KubeSink::from_kubeconfig`]), and [`compat`], a drop-in for kube-rs's
//! event recorder.
//!
//! ```no_run
//! use std::sync::Arc;
//! use event_core::{Event, Recorder};
//! use event_kube::{EventRefExt, KubeSink};
//! use k8s_openapi::api::core::v1::Pod;
//! use kube::{Api, Client};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sink = Arc::new(KubeSink::try_default().await?);
//! let recorder = Recorder::builder(sink, "example.com/widgets").build()?;
//!
//! let pods: Api<Pod> = Api::namespaced(Client::try_default().await?, "shop");
//! let pod = pods.get("web-0").await?;
//! let event = Event::warning("BackOff", "Starting").note("container exited with 1");
//! recorder.publish(&event, &pod.event_ref()).await?;
//! # Ok(()) }
//! ```
//!
//! # Coming from kube-rs
//!
//! [`compat`] has kube-rs's recorder API (`Recorder::new(client, reporter)`,
//! `publish(&Event, &ObjectReference)`, `Event`, `EventType`, `Reporter`) on
//! top of the engine; migrating is a change of `use` lines
//! (`use kube::runtime::events::{..}` becomes `use event_kube::compat::{..}`).
//!
//! # Writes
//!
//! | write | request |
//! | --- | --- |
//! | new event | `POST /apis/events.k8s.io/v1/namespaces/{ns}/events`, the whole event |
//! | series update | `PATCH .../events/{name}`, `application/merge-patch+json`, body `{"series":{"count":N,"lastObservedTime":"..."}}` |
//!
//! Through core/v1 ([`CoreV1Sink`]):
//!
//! | write | request |
//! | --- | --- |
//! | new event | `POST /api/v1/namespaces/{ns}/events`, the whole event with `source`, `count`, `firstTimestamp`, `lastTimestamp` ([`core_event_object`]) |
//! | series update | `PATCH .../events/{name}`, `application/merge-patch+json`, body `{"count":N,"lastTimestamp":"...","series":{...}}` ([`core_series_patch`]) |
//!
//! # Choosing the transport
//!
//! [`ApiSink::select`] with [`Transport::Auto`] asks discovery once at
//! startup and writes through `events.k8s.io/v1` when it is served, else
//! through core/v1 (as client-go's adapter does), and logs the choice;
//! [`Transport::EventsV1`] and [`Transport::CoreV1`] choose explicitly.
//! core/v1 also serves readers that look only at the legacy `count` and
//! `lastTimestamp`, which Events written through `events.k8s.io/v1` leave
//! empty.
//!
//! ```no_run
//! use std::sync::Arc;
//! use event_core::Recorder;
//! use event_kube::{ApiSink, KubeSink, Transport};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let sink = ApiSink::select(KubeSink::try_default().await?, Transport::Auto).await;
//! let report = sink.check_access(["shop", "default"]).await?;
//! tracing::info!(transport = %sink.transport(), %report, "events");
//! let recorder = Recorder::builder(Arc::new(sink), "example.com/widgets").build()?;
//! # let _ = recorder;
//! # Ok(()) }
//! ```
//!
//! Answers map to [`SinkError`](event_core::sink::SinkError) as described in
//! [`classify_response`]: 404 `NotFound`, 409 `AlreadyExists`, 422 `Invalid`,
//! 401/403 `Forbidden`, 429 `Throttled` (with `Retry-After`), 408/5xx and
//! transport failures `Transient`, anything else `Fatal`. Each write is one
//! request; the Recorder retries. See [`KubeSink`] about the retry layer
//! `kube::Client` adds by default.
//!
//! # Defaults
//!
//! | setting | constant | value |
//! | --- | --- | --- |
//! | time for one request, answer included | [`DEFAULT_REQUEST_TIMEOUT`] | 10 s |
//!
//! Everything about retries, series and queues is the engine's
//! ([`event_core::Recorder`]).
//!
//! # RBAC
//!
//! Publishing needs `create` and `patch` on `events` in the `events.k8s.io`
//! group, in every namespace the controller reports on (and in `default` for
//! cluster-scoped objects). The crate ships this as `rbac.yaml`:
//!
//! ```yaml
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: ClusterRole
//! metadata:
//!   name: event-publisher
//! rules:
//!   - apiGroups: ["events.k8s.io"]
//!     resources: ["events"]
//!     verbs: ["create", "patch", "get"]
//! ---
//! apiVersion: rbac.authorization.k8s.io/v1
//! kind: ClusterRoleBinding
//! metadata:
//!   name: my-controller-event-publisher
//! roleRef:
//!   apiGroup: rbac.authorization.k8s.io
//!   kind: ClusterRole
//!   name: event-publisher
//! subjects:
//!   - kind: ServiceAccount
//!     name: my-controller
//!     namespace: my-controller-system
//! ```
//!
//! A controller confined to one namespace can use a `Role` and `RoleBinding`
//! with the same rule instead (also in `rbac.yaml`).
//!
//! Through core/v1 ([`CoreV1Sink`], or [`ApiSink`] on a cluster without
//! `events.k8s.io`) the same verbs are needed in the core API group:
//!
//! ```yaml
//!   - apiGroups: [""]
//!     resources: ["events"]
//!     verbs: ["create", "patch", "get"]
//! ```
//!
//! [`KubeSink::check_access`] (and [`CoreV1Sink::check_access`] for the
//! core group) asks the API server at startup (SelfSubjectAccessReviews)
//! whether the rule is in place in each namespace, and names every missing
//! verb and namespace.
//!
//! # Kubernetes versions
//!
//! This crate does not select a `k8s-openapi` version feature; the
//! application does, as with kube.

mod access;
mod classify;
pub mod compat;
pub mod config;
mod convert;
mod core_convert;
mod core_sink;
mod sink;
mod transport;

pub use access::{Access, AccessReport, EVENT_VERBS};
pub use classify::{RBAC_HINT, classify_error, classify_response};
pub use convert::{EventRefExt, event_object, event_record};
pub use core_convert::{core_event_object, core_event_record, core_series_patch};
pub use core_sink::{CORE_RBAC_HINT, CoreV1Sink};
pub use sink::{DEFAULT_REQUEST_TIMEOUT, KubeSink};
pub use transport::{ApiSink, EVENTS_V1, Transport, events_v1_served};
