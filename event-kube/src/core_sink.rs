//! [`CoreV1Sink`]: events written through the core/v1 API (`/api/v1`).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};

use k8s_openapi::api::core::v1::Event as CoreEvent;
use kube::api::Patch;
use kube::{Client, Config, Resource};
use tracing::Instrument;

use crate::{KubeSink, core_event_object, core_event_record, core_series_patch};

/// The RBAC rule a publisher through core/v1 needs, in the messages of
/// [`SinkError::Forbidden`] from a [`CoreV1Sink`].
///
/// # Example
///
/// ```
/// assert!(event_kube::CORE_RBAC_HINT.contains(r#"apiGroups [""]"#));
/// ```
pub const CORE_RBAC_HINT: &str = "the publisher needs RBAC: apiGroups [\"\"], resources [\"events\"], verbs [\"create\", \"patch\", \"get\"]";

/// An [`EventSink`] that writes core/v1 Events (`/api/v1`) through a
/// [`kube::Client`]: for clusters that do not serve `events.k8s.io`, and
/// for readers that only look at the legacy fields (`count`,
/// `lastTimestamp`, `source`).
///
/// - [`create`](EventSink::create): `POST /api/v1/namespaces/{namespace}/events`
///   with the whole event (see [`core_event_object`]): the same information
///   as [`KubeSink`] writes, plus `source`, `count`, `firstTimestamp` and
///   `lastTimestamp` consistent with the series.
/// - [`patch_series`](EventSink::patch_series): `PATCH .../events/{name}`,
///   `application/merge-patch+json`, with the series and the legacy `count`
///   and `lastTimestamp` that mirror it (see [`core_series_patch`]). The API
///   server checks core/v1 updates with its lenient legacy rules only, so
///   `count` and `lastTimestamp` may change (through `events.k8s.io/v1`
///   they are immutable).
/// - [`get`](EventSink::get): `GET .../events/{name}`, read back with
///   [`core_event_record`], so the Recorder continues a stored series after
///   a restart as it does with [`KubeSink`].
/// - Answers are classified exactly as [`KubeSink`]'s
///   ([`classify_response`](crate::classify_response),
///   [`classify_error`](crate::classify_error), the same request timeout);
///   a [`SinkError::Forbidden`] names the core/v1 rule ([`CORE_RBAC_HINT`]).
///
/// Events written either way are one store on the server: `kubectl get
/// events`, `kubectl describe` and `kubectl events` show the same rows.
///
/// Each call makes exactly one request; retrying is the
/// [`Recorder`](event_core::Recorder)'s job. The notes on [retries inside
/// `kube::Client`](KubeSink#retries-inside-kubeclient) apply here too.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
/// use event_core::{Event, Recorder};
/// use event_kube::{CoreV1Sink, EventRefExt};
/// use k8s_openapi::api::core::v1::Pod;
///
/// # async fn run(pod: Pod) -> Result<(), Box<dyn std::error::Error>> {
/// let node = std::env::var("NODE_NAME").ok();
/// let sink = CoreV1Sink::try_default().await?.with_source_host(node);
/// let recorder = Recorder::builder(Arc::new(sink), "example.com/widgets").build()?;
/// recorder
///     .publish(&Event::normal("Synced", "Reconciling"), &pod.event_ref())
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CoreV1Sink {
    api: KubeSink,
    source_host: Option<String>,
}

impl fmt::Debug for CoreV1Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CoreV1Sink")
            .field("api", &self.api)
            .field("source_host", &self.source_host)
            .finish()
    }
}

impl CoreV1Sink {
    /// A sink over an existing client.
    pub fn new(client: Client) -> Self {
        Self::over(KubeSink::new(client))
    }

    /// A sink with the client and request timeout of `sink`.
    pub(crate) fn over(sink: KubeSink) -> Self {
        Self {
            api: sink.with_rbac_hint(CORE_RBAC_HINT),
            source_host: None,
        }
    }

    /// A sink over a client built from `config`, with kube's own retry layer
    /// turned off so that each write is one request.
    ///
    /// Must be called within a Tokio runtime (the client starts a task).
    ///
    /// # Errors
    ///
    /// The [`kube::Error`] from building the client.
    pub fn from_config(config: Config) -> Result<Self, kube::Error> {
        KubeSink::from_config(config).map(Self::over)
    }

    /// A sink over a client configured from the environment (kubeconfig, or
    /// the in-cluster service account), with kube's own retry layer turned
    /// off.
    ///
    /// # Errors
    ///
    /// The [`kube::Error`] when no configuration is found or the client
    /// cannot be built.
    pub async fn try_default() -> Result<Self, kube::Error> {
        KubeSink::try_default().await.map(Self::over)
    }

    /// A sink over a client for the kubeconfig file at `path` (see
    /// [`KubeSink::from_kubeconfig`]).
    ///
    /// # Errors
    ///
    /// As [`KubeSink::from_kubeconfig`].
    pub async fn from_kubeconfig(
        path: &std::path::Path,
    ) -> Result<Self, crate::config::ConfigError> {
        KubeSink::from_kubeconfig(path).await.map(Self::over)
    }

    /// Sets how long one request may take; a slower one fails with
    /// [`SinkError::Transient`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.api = self.api.with_timeout(timeout);
        self
    }

    /// Sets `source.host` of the events written (default: unset). The
    /// legacy recorders put the node name there; `kubectl get events -o
    /// wide` shows it after the component, in place of the reporting
    /// instance.
    #[must_use]
    pub fn with_source_host(mut self, host: Option<String>) -> Self {
        self.source_host = host.filter(|h| !h.is_empty());
        self
    }

    /// The client the sink writes with.
    pub fn client(&self) -> &Client {
        self.api.client()
    }

    /// Asks the API server whether this client may `create`, `patch` and
    /// `get` core/v1 `events` (API group `""`) in each of `namespaces`, as
    /// [`KubeSink::check_access`] does for `events.k8s.io`.
    ///
    /// # Errors
    ///
    /// As [`KubeSink::check_access`].
    pub async fn check_access<I, S>(&self, namespaces: I) -> Result<crate::AccessReport, SinkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.api.check_access_in("", namespaces).await
    }
}

fn core_events(namespace: &str) -> kube::core::Request {
    kube::core::Request::new(CoreEvent::url_path(&(), Some(namespace)))
}

#[async_trait]
impl EventSink for CoreV1Sink {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        let span = tracing::debug_span!("create core/v1 event", name = %event.name, namespace = %event.namespace);
        let object = core_event_object(event, self.source_host.as_deref());
        self.api
            .create_in(&core_events(&event.namespace), &object)
            .instrument(span)
            .await
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        let span = tracing::debug_span!(
            "patch core/v1 event series",
            name = %event.name,
            namespace = %event.namespace,
            count = series.count,
        );
        let patch = Patch::Merge(core_series_patch(series));
        self.api
            .patch_in(&core_events(&event.namespace), &event.name, &patch)
            .instrument(span)
            .await
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        let span = tracing::debug_span!("get core/v1 event", %name, %namespace);
        async {
            let object: CoreEvent = self.api.get_in(&core_events(namespace), name).await?;
            Ok(core_event_record(&object))
        }
        .instrument(span)
        .await
    }
}
