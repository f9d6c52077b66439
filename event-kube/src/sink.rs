//! [`KubeSink`]: events written to the Kubernetes API.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::{Patch, PatchParams, PostParams};
use kube::client::Body;
use kube::{Client, Config, Resource};
use tracing::Instrument;

use crate::classify::{classify_error_for, classify_response_for};
use crate::{RBAC_HINT, event_object, event_record};

/// How long one request may take, from sending it to reading the whole
/// answer, unless changed with [`KubeSink::with_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// An [`EventSink`] that writes `events.k8s.io/v1` Events through a
/// [`kube::Client`].
///
/// - [`create`](EventSink::create): `POST /apis/events.k8s.io/v1/namespaces/{namespace}/events`
///   with the whole event (see [`event_object`]).
/// - [`patch_series`](EventSink::patch_series): `PATCH .../events/{name}`
///   with `Content-Type: application/merge-patch+json` and only the series
///   as body ([`Series::merge_patch`]).
/// - Answers are classified by [`classify_response`](crate::classify_response), transport failures by
///   [`classify_error`](crate::classify_error); a request that takes longer than the timeout
///   ([`DEFAULT_REQUEST_TIMEOUT`]) is [`SinkError::Transient`].
///
/// Each call makes exactly one request; retrying is the
/// [`Recorder`](event_core::Recorder)'s job.
///
/// # Retries inside `kube::Client`
///
/// A client built from a [`Config`] (`Client::try_default()`,
/// `Client::try_from(config)`) retries 429, 503 and 504 answers by itself
/// (kube's `Config::default_retry`, on by default: up to 15 retries with
/// exponential backoff, honoring `Retry-After`). The Recorder's own bounded
/// retries then run on top of those. To keep one attempt per write, build the
/// sink with [`KubeSink::try_default`] or [`KubeSink::from_config`], which
/// turn that layer off, or set `config.default_retry = false` yourself.
///
/// Clones share the client.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
/// use event_core::{Event, Recorder};
/// use event_kube::{EventRefExt, KubeSink};
/// use k8s_openapi::api::core::v1::Pod;
///
/// # async fn run(pod: Pod) -> Result<(), Box<dyn std::error::Error>> {
/// let sink = Arc::new(KubeSink::try_default().await?);
/// let recorder = Recorder::builder(sink, "example.com/widgets").build()?;
/// recorder
///     .publish(&Event::normal("Synced", "Reconciling"), &pod.event_ref())
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct KubeSink {
    client: Client,
    timeout: Duration,
    /// The RBAC rule a `Forbidden` names: this API's.
    rbac_hint: &'static str,
}

impl fmt::Debug for KubeSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KubeSink")
            .field("default_namespace", &self.client.default_namespace())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl KubeSink {
    /// A sink over an existing client. See [the notes on
    /// retries](KubeSink#retries-inside-kubeclient) for clients built from a
    /// [`Config`].
    pub fn new(client: Client) -> Self {
        Self {
            client,
            timeout: DEFAULT_REQUEST_TIMEOUT,
            rbac_hint: RBAC_HINT,
        }
    }

    /// A sink over a client built from `config`, with kube's own retry layer
    /// turned off so that each write is one request.
    ///
    /// Must be called within a Tokio runtime (the client starts a task).
    ///
    /// # Errors
    ///
    /// The [`kube::Error`] from building the client (for example TLS
    /// configuration).
    pub fn from_config(mut config: Config) -> Result<Self, kube::Error> {
        config.default_retry = false;
        Ok(Self::new(Client::try_from(config)?))
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
        let config = Config::infer().await.map_err(kube::Error::InferConfig)?;
        Self::from_config(config)
    }

    /// A sink over a client for the kubeconfig file at `path` (its current
    /// context; see [`config::load_kubeconfig`](crate::config::load_kubeconfig):
    /// a loopback cluster is reached without a proxy), with kube's own retry
    /// layer turned off.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Kubeconfig`](crate::config::ConfigError::Kubeconfig)
    /// when the kubeconfig cannot be read or is rejected,
    /// [`ConfigError::Client`](crate::config::ConfigError::Client) when the
    /// client cannot be built.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), event_kube::config::ConfigError> {
    /// let sink = event_kube::KubeSink::from_kubeconfig("kind.yaml".as_ref()).await?;
    /// # let _ = sink;
    /// # Ok(()) }
    /// ```
    pub async fn from_kubeconfig(
        path: &std::path::Path,
    ) -> Result<Self, crate::config::ConfigError> {
        let config = crate::config::load_kubeconfig(path).await?;
        Self::from_config(config).map_err(crate::config::ConfigError::Client)
    }

    /// Sets how long one request may take; a slower one fails with
    /// [`SinkError::Transient`].
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The client the sink writes with.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The same sink, naming `rbac_hint` in its `Forbidden` errors (the
    /// rule of the API another sink sends through it).
    pub(crate) fn with_rbac_hint(mut self, rbac_hint: &'static str) -> Self {
        self.rbac_hint = rbac_hint;
        self
    }

    /// The request timeout (set with [`with_timeout`](Self::with_timeout)).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// POSTs `body` (an Event object) to the collection `events`.
    pub(crate) async fn create_in(
        &self,
        events: &kube::core::Request,
        body: &impl k8s_openapi::serde::Serialize,
    ) -> Result<(), SinkError> {
        let body = serde_json::to_vec(body).map_err(build_failed)?;
        let request = events
            .create(&PostParams::default(), body)
            .map_err(build_failed)?;
        self.labelled(request, "create").await.map(drop)
    }

    /// Merge-PATCHes the Event `name` of the collection `events`.
    pub(crate) async fn patch_in(
        &self,
        events: &kube::core::Request,
        name: &str,
        patch: &Patch<impl k8s_openapi::serde::Serialize>,
    ) -> Result<(), SinkError> {
        let request = events
            .patch(name, &PatchParams::default(), patch)
            .map_err(build_failed)?;
        self.labelled(request, "patch").await.map(drop)
    }

    /// GETs the Event `name` of the collection `events`, as a `K`.
    pub(crate) async fn get_in<K: k8s_openapi::serde::de::DeserializeOwned>(
        &self,
        events: &kube::core::Request,
        name: &str,
    ) -> Result<K, SinkError> {
        let request = events
            .get(name, &kube::api::GetParams::default())
            .map_err(build_failed)?;
        let body = self.labelled(request, "get").await?;
        serde_json::from_slice(&body).map_err(|e| SinkError::Fatal {
            message: format!("the API server's event could not be read: {e}"),
        })
    }

    /// [`exchange`](Self::exchange) of a request marked with the operation
    /// it is (for the request metrics).
    async fn labelled(
        &self,
        mut request: http::Request<Vec<u8>>,
        op: &'static str,
    ) -> Result<Vec<u8>, SinkError> {
        request.extensions_mut().insert(op);
        self.exchange(request).await
    }

    /// Sends one request within the timeout; the body of a success.
    pub(crate) async fn exchange(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<Vec<u8>, SinkError> {
        let exchange = async {
            let response = self
                .client
                .send(request.map(Body::from))
                .await
                .map_err(|e| classify_error_for(&e, self.rbac_hint))?;
            let status = response.status();
            let headers = response.headers().clone();
            // Reading the whole body also lets the connection be reused.
            let body = response
                .into_body()
                .collect_bytes()
                .await
                .map_err(|e| classify_error_for(&e, self.rbac_hint))?;
            classify_response_for(status, &headers, &body, self.rbac_hint)?;
            Ok(body.to_vec())
        };
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(SinkError::Transient {
                message: format!(
                    "no answer from the API server within {}s",
                    self.timeout.as_secs_f64()
                ),
            }),
        };
        if let Err(error) = &result {
            tracing::debug!(%error, "event request failed");
        }
        result
    }
}

fn events_request(namespace: &str) -> kube::core::Request {
    kube::core::Request::new(K8sEvent::url_path(&(), Some(namespace)))
}

pub(crate) fn build_failed(error: impl fmt::Display) -> SinkError {
    SinkError::Fatal {
        message: format!("could not build the request: {error}"),
    }
}

#[async_trait]
impl EventSink for KubeSink {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        let span =
            tracing::debug_span!("create event", name = %event.name, namespace = %event.namespace);
        self.create_in(&events_request(&event.namespace), &event_object(event))
            .instrument(span)
            .await
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        let span = tracing::debug_span!(
            "patch event series",
            name = %event.name,
            namespace = %event.namespace,
            count = series.count,
        );
        async {
            // Sent as `Series::merge_patch` writes it: the one series patch
            // body of the events API.
            let body =
                serde_json::value::RawValue::from_string(series.merge_patch()).map_err(|e| {
                    SinkError::Fatal {
                        message: format!("series patch is not JSON: {e}"),
                    }
                })?;
            let patch = Patch::Merge(body);
            self.patch_in(&events_request(&event.namespace), &event.name, &patch)
                .await
        }
        .instrument(span)
        .await
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        let span = tracing::debug_span!("get event", %name, %namespace);
        async {
            let object: K8sEvent = self.get_in(&events_request(namespace), name).await?;
            Ok(event_record(&object))
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn defaults() {
        assert_eq!(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs(10));
        let service = tower::service_fn(|_: http::Request<Body>| async {
            Err::<http::Response<Body>, _>(std::io::Error::other("unused"))
        });
        let sink = KubeSink::new(Client::new(service, "default"));
        assert_eq!(sink.timeout, DEFAULT_REQUEST_TIMEOUT);
        let shorter = sink.with_timeout(Duration::from_secs(1));
        assert_eq!(shorter.timeout, Duration::from_secs(1));
        assert_eq!(shorter.client().default_namespace(), "default");
    }
}
