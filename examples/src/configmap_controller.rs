//! A ConfigMap controller built on `kube::runtime::Controller` (a watcher
//! and a reflector) that reports the outcome of every reconcile as an Event
//! through [`Recorder`].
//!
//! The controller manages the ConfigMaps labelled [`SELECTOR`]. Each one
//! must carry a key [`REPLICAS_KEY`] whose value is a whole number from 0 to
//! [`MAX_REPLICAS`] (see [`validate`]). A valid ConfigMap gets a Normal
//! [`REASON_RECONCILED`] event; an invalid one a Warning [`REASON_FAILED`]
//! whose note is the error ([`Event::from_error`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use event_core::Recorder;
//! use event_kube::KubeSink;
//! use examples::configmap_controller::{CONTROLLER, run};
//!
//! # async fn f() -> Result<(), Box<dyn std::error::Error>> {
//! let sink = KubeSink::try_default().await?;
//! let client = sink.client().clone();
//! let recorder = Recorder::builder(Arc::new(sink), CONTROLLER).build()?;
//! let stop = async { let _ = tokio::signal::ctrl_c().await; };
//! let summary = run(client, recorder.clone(), Some("shop"), stop).await;
//! println!("{} reconciled, {} failed", summary.reconciled, summary.failed);
//! recorder.shutdown(std::time::Duration::from_secs(10)).await;
//! # Ok(()) }
//! ```
//!
//! The program `examples/examples/configmap_controller.rs` runs it against
//! the local API double or a cluster.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::num::ParseIntError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use event_core::{Event, Recorder};
use event_kube::EventRefExt;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ObjectMeta};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;

/// The reporting controller of every event this controller publishes.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::CONTROLLER;
///
/// assert!(event_core::validate::is_qualified_name(CONTROLLER));
/// let sink = event_testing::MemorySink::new();
/// assert!(event_core::Recorder::builder(sink.arc(), CONTROLLER).build().is_ok());
/// ```
pub const CONTROLLER: &str = "example.com/configmap-controller";
/// The label that puts a ConfigMap under this controller.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{LABEL, managed_configmap};
///
/// let cm = managed_configmap("shop", "web", &[]);
/// assert_eq!(cm.metadata.labels.unwrap_or_default()[LABEL], "enabled");
/// ```
pub const LABEL: &str = "example.com/configmap-controller";
/// The label selector of the managed ConfigMaps.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{LABEL, SELECTOR};
/// assert_eq!(SELECTOR, format!("{LABEL}=enabled"));
/// ```
pub const SELECTOR: &str = "example.com/configmap-controller=enabled";
/// The data key every managed ConfigMap must carry.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{ConfigError, REPLICAS_KEY, managed_configmap, validate};
///
/// assert_eq!(validate(&managed_configmap("shop", "web", &[(REPLICAS_KEY, "2")])), Ok(2));
/// let other_key = managed_configmap("shop", "web", &[("size", "2")]);
/// assert_eq!(validate(&other_key), Err(ConfigError::MissingReplicas));
/// ```
pub const REPLICAS_KEY: &str = "replicas";
/// The largest accepted value of [`REPLICAS_KEY`].
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{ConfigError, MAX_REPLICAS, managed_configmap, validate};
///
/// let cm = |n: u32| managed_configmap("shop", "web", &[("replicas", &n.to_string())]);
/// assert_eq!(validate(&cm(MAX_REPLICAS)), Ok(MAX_REPLICAS));
/// assert_eq!(validate(&cm(MAX_REPLICAS + 1)), Err(ConfigError::TooMany { replicas: 101 }));
/// ```
pub const MAX_REPLICAS: u32 = 100;
/// The `action` of every event this controller publishes.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{ACTION, REASON_RECONCILED};
///
/// let event = event_core::Event::normal(REASON_RECONCILED, ACTION);
/// assert_eq!(event.action, "Reconciling");
/// assert!(event_core::validate::validate_event(&event, Default::default()).is_ok());
/// ```
pub const ACTION: &str = "Reconciling";
/// The `reason` of the Normal event after a successful reconcile.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::Recorder;
/// use event_testing::{MemorySink, expect};
/// use examples::configmap_controller::{Context, REASON_RECONCILED, managed_configmap, reconcile};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let ctx = Arc::new(Context::new(Recorder::builder(sink.arc(), "example.com/c").build()?));
/// let good = Arc::new(managed_configmap("shop", "web", &[("replicas", "3")]));
/// reconcile(good, ctx).await?;
/// sink.assert_emitted(expect::normal(REASON_RECONCILED).note_contains("replicas=3"));
/// # Ok(()) }
/// ```
pub const REASON_RECONCILED: &str = "Reconciled";
/// The `reason` of the Warning event after a failed reconcile.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::Recorder;
/// use event_testing::{MemorySink, expect};
/// use examples::configmap_controller::{Context, REASON_FAILED, managed_configmap, reconcile};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let ctx = Arc::new(Context::new(Recorder::builder(sink.arc(), "example.com/c").build()?));
/// let empty = Arc::new(managed_configmap("shop", "web", &[]));
/// assert!(reconcile(empty, ctx).await.is_err());
/// sink.assert_emitted(expect::warning(REASON_FAILED).note_contains("is missing"));
/// # Ok(()) }
/// ```
pub const REASON_FAILED: &str = "ReconcileFailed";
/// How long a failed ConfigMap waits before it is reconciled again (a change
/// to it triggers a reconcile sooner).
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use examples::configmap_controller::{
///     ConfigError, Context, RETRY_FAILED_AFTER, error_policy, managed_configmap,
/// };
/// use kube::runtime::controller::Action;
///
/// # fn main() -> Result<(), event_core::Error> {
/// let sink = event_testing::MemorySink::new();
/// let ctx = Arc::new(Context::new(event_core::Recorder::builder(sink.arc(), "example.com/c").build()?));
/// let cm = Arc::new(managed_configmap("shop", "web", &[]));
/// let action = error_policy(cm, &ConfigError::MissingReplicas, ctx);
/// assert_eq!(action, Action::requeue(RETRY_FAILED_AFTER));
/// # Ok(()) }
/// ```
pub const RETRY_FAILED_AFTER: Duration = Duration::from_secs(300);

/// Why a ConfigMap is not valid for this controller.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::ConfigError;
///
/// assert_eq!(
///     ConfigError::MissingReplicas.to_string(),
///     "data key \"replicas\" is missing"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The ConfigMap has no [`REPLICAS_KEY`].
    MissingReplicas,
    /// The value of [`REPLICAS_KEY`] is not a whole number.
    NotANumber {
        /// The value found.
        value: String,
        /// Why it did not parse.
        source: ParseIntError,
    },
    /// The value of [`REPLICAS_KEY`] is above [`MAX_REPLICAS`].
    TooMany {
        /// The value found.
        replicas: u32,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingReplicas => write!(f, "data key {REPLICAS_KEY:?} is missing"),
            Self::NotANumber { value, .. } => {
                write!(
                    f,
                    "data key {REPLICAS_KEY:?} is {value:?}, not a whole number"
                )
            }
            Self::TooMany { replicas } => write!(
                f,
                "data key {REPLICAS_KEY:?} is {replicas}, more than the maximum of {MAX_REPLICAS}"
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotANumber { source, .. } => Some(source),
            Self::MissingReplicas | Self::TooMany { .. } => None,
        }
    }
}

/// Checks a ConfigMap and returns its number of replicas.
///
/// # Errors
///
/// The [`ConfigError`] that makes the ConfigMap invalid.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{managed_configmap, validate};
///
/// assert_eq!(validate(&managed_configmap("shop", "web", &[("replicas", "3")])), Ok(3));
/// assert!(validate(&managed_configmap("shop", "web", &[("replicas", "three")])).is_err());
/// ```
pub fn validate(configmap: &ConfigMap) -> Result<u32, ConfigError> {
    let value = configmap
        .data
        .as_ref()
        .and_then(|d| d.get(REPLICAS_KEY))
        .ok_or(ConfigError::MissingReplicas)?;
    let replicas: u32 = value
        .trim()
        .parse()
        .map_err(|source| ConfigError::NotANumber {
            value: value.clone(),
            source,
        })?;
    if replicas > MAX_REPLICAS {
        return Err(ConfigError::TooMany { replicas });
    }
    Ok(replicas)
}

/// A ConfigMap carrying the label that puts it under this controller.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{LABEL, managed_configmap};
///
/// let cm = managed_configmap("shop", "web", &[("replicas", "3")]);
/// assert_eq!(cm.metadata.labels.unwrap()[LABEL], "enabled");
/// ```
pub fn managed_configmap(namespace: &str, name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(LABEL.to_owned(), "enabled".to_owned())])),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..ConfigMap::default()
    }
}

/// What the reconciler needs: the Recorder, and counters of its outcomes.
///
/// # Example
///
/// ```
/// use examples::configmap_controller::{CONTROLLER, Context};
///
/// # fn main() -> Result<(), event_core::Error> {
/// let sink = event_testing::MemorySink::new();
/// let ctx = Context::new(event_core::Recorder::builder(sink.arc(), CONTROLLER).build()?);
/// assert_eq!(ctx.summary().reconciled, 0);
/// assert_eq!(ctx.recorder.stats().published, 0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Context {
    /// Publishes the events.
    pub recorder: Recorder,
    reconciled: AtomicU64,
    failed: AtomicU64,
    publish_failed: AtomicU64,
}

impl Context {
    /// A context around `recorder`, with zeroed counters.
    ///
    /// # Example
    ///
    /// ```
    /// use examples::configmap_controller::{Context, Summary};
    ///
    /// # fn main() -> Result<(), event_core::Error> {
    /// let sink = event_testing::MemorySink::new();
    /// let recorder = event_core::Recorder::builder(sink.arc(), "example.com/c").build()?;
    /// let ctx = Context::new(recorder);
    /// assert_eq!(ctx.summary(), Summary::default());
    /// # Ok(()) }
    /// ```
    pub fn new(recorder: Recorder) -> Self {
        Self {
            recorder,
            reconciled: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            publish_failed: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_core::Recorder;
    /// use event_testing::MemorySink;
    /// use examples::configmap_controller::{Context, managed_configmap, reconcile};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sink = MemorySink::new();
    /// let ctx = Arc::new(Context::new(Recorder::builder(sink.arc(), "example.com/c").build()?));
    /// let good = managed_configmap("shop", "web", &[("replicas", "3")]);
    /// let bad = managed_configmap("shop", "batch", &[("replicas", "three")]);
    /// reconcile(Arc::new(good), ctx.clone()).await?;
    /// let _ = reconcile(Arc::new(bad), ctx.clone()).await;
    ///
    /// let summary = ctx.summary();
    /// assert_eq!((summary.reconciled, summary.failed, summary.publish_failed), (1, 1, 0));
    /// # Ok(()) }
    /// ```
    pub fn summary(&self) -> Summary {
        Summary {
            reconciled: self.reconciled.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            publish_failed: self.publish_failed.load(Ordering::Relaxed),
            watch_errors: 0,
        }
    }

    async fn publish(&self, event: &Event, configmap: &ConfigMap) {
        if let Err(error) = self.recorder.publish(event, &configmap.event_ref()).await {
            self.publish_failed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%error, reason = %event.reason, "could not publish the event");
        }
    }
}

/// Counts of what a [`run`] did.
///
/// # Example
///
/// ```
/// let s = examples::configmap_controller::Summary::default();
/// assert_eq!(s.reconciled + s.failed, 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Reconciles that found the ConfigMap valid.
    pub reconciled: u64,
    /// Reconciles that found it invalid.
    pub failed: u64,
    /// Events that could not be published (the reconcile went on).
    pub publish_failed: u64,
    /// Errors from the watch (they are retried with backoff).
    pub watch_errors: u64,
}

/// Reconciles one ConfigMap: validates it and publishes the outcome.
///
/// # Errors
///
/// The [`ConfigError`] of an invalid ConfigMap, after its Warning event was
/// published; the controller then calls [`error_policy`].
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::Recorder;
/// use event_testing::{MemorySink, expect};
/// use examples::configmap_controller::{Context, managed_configmap, reconcile};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), "example.com/configmap-controller").build()?;
/// let ctx = Arc::new(Context::new(recorder));
///
/// let bad = Arc::new(managed_configmap("shop", "web", &[("replicas", "three")]));
/// assert!(reconcile(bad, ctx.clone()).await.is_err());
/// sink.assert_emitted(expect::warning("ReconcileFailed"));
/// # Ok(()) }
/// ```
pub async fn reconcile(
    configmap: Arc<ConfigMap>,
    ctx: Arc<Context>,
) -> Result<Action, ConfigError> {
    match validate(&configmap) {
        Ok(replicas) => {
            let event = Event::normal(REASON_RECONCILED, ACTION)
                .note(format!("configuration applied: {REPLICAS_KEY}={replicas}"));
            ctx.publish(&event, &configmap).await;
            ctx.reconciled.fetch_add(1, Ordering::Relaxed);
            Ok(Action::await_change())
        }
        Err(error) => {
            let event = Event::from_error(REASON_FAILED, ACTION, &error);
            ctx.publish(&event, &configmap).await;
            ctx.failed.fetch_add(1, Ordering::Relaxed);
            Err(error)
        }
    }
}

/// What the controller does after a failed reconcile: try again after
/// [`RETRY_FAILED_AFTER`], or as soon as the ConfigMap changes.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use examples::configmap_controller::{ConfigError, Context, error_policy, managed_configmap};
/// # fn f(recorder: event_core::Recorder) {
/// let cm = Arc::new(managed_configmap("shop", "web", &[]));
/// let _action = error_policy(cm, &ConfigError::MissingReplicas, Arc::new(Context::new(recorder)));
/// # }
/// ```
pub fn error_policy(
    _configmap: Arc<ConfigMap>,
    _error: &ConfigError,
    _ctx: Arc<Context>,
) -> Action {
    Action::requeue(RETRY_FAILED_AFTER)
}

/// Runs the controller over the managed ConfigMaps of `namespace` (all
/// namespaces when `None`) until `shutdown` completes, then returns what it
/// did. The Recorder is not shut down here.
///
/// # Example
///
/// ```
/// use std::{sync::Arc, time::Duration};
/// use event_core::Recorder;
/// use event_testing::{MemorySink, expect};
/// use kube_apiserver_double::ApiServer;
/// use examples::configmap_controller::{CONTROLLER, managed_configmap, run};
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kube::api::{Api, PostParams};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A local API double holding one managed ConfigMap.
/// let server = ApiServer::start().await?;
/// server.create_namespace("shop")?;
/// let client = server.client().await?;
/// let cm = managed_configmap("shop", "web", &[("replicas", "3")]);
/// Api::<ConfigMap>::namespaced(client.clone(), "shop")
///     .create(&PostParams::default(), &cm)
///     .await?;
///
/// // Events go to memory here; in production to `event_kube::KubeSink`.
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), CONTROLLER).build()?;
///
/// // Stop once the first event is in (after 30 s at the latest).
/// let seen = sink.clone();
/// let stop = async move {
///     let first_event = async {
///         while seen.events().is_empty() {
///             tokio::time::sleep(Duration::from_millis(10)).await;
///         }
///     };
///     let _ = tokio::time::timeout(Duration::from_secs(30), first_event).await;
/// };
/// let summary = run(client, recorder, Some("shop"), stop).await;
/// assert_eq!((summary.reconciled, summary.failed, summary.watch_errors), (1, 0, 0));
/// sink.assert_emitted(expect::normal("Reconciled").note_contains("replicas=3"));
/// # Ok(()) }
/// ```
pub async fn run(
    client: kube::Client,
    recorder: Recorder,
    namespace: Option<&str>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Summary {
    let api: Api<ConfigMap> = match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let ctx = Arc::new(Context::new(recorder));
    let mut watch_errors = 0;
    let mut results = Controller::new(api, watcher::Config::default().labels(SELECTOR))
        .graceful_shutdown_on(shutdown)
        .run(reconcile, error_policy, Arc::clone(&ctx))
        .boxed();
    while let Some(result) = results.next().await {
        match result {
            Ok((object, _action)) => tracing::debug!(%object, "reconciled"),
            Err(kube::runtime::controller::Error::ReconcilerFailed(error, object)) => {
                tracing::info!(%object, %error, "reconcile failed");
            }
            Err(error) => {
                watch_errors += 1;
                tracing::warn!(%error, "controller error");
            }
        }
    }
    Summary {
        watch_errors,
        ..ctx.summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let cm = |v: &str| managed_configmap("ns", "c", &[(REPLICAS_KEY, v)]);
        assert_eq!(validate(&cm("0")), Ok(0));
        assert_eq!(validate(&cm(" 7 ")), Ok(7));
        assert_eq!(validate(&cm("100")), Ok(100));
        assert_eq!(
            validate(&cm("101")),
            Err(ConfigError::TooMany { replicas: 101 })
        );
        assert!(matches!(
            validate(&cm("-1")),
            Err(ConfigError::NotANumber { .. })
        ));
        assert_eq!(
            validate(&managed_configmap("ns", "c", &[])),
            Err(ConfigError::MissingReplicas)
        );
        let err = validate(&cm("three")).unwrap_err();
        assert_eq!(
            Event::from_error(REASON_FAILED, ACTION, &err)
                .note
                .as_deref(),
            Some(
                "data key \"replicas\" is \"three\", not a whole number\n\
                 caused by: invalid digit found in string"
            )
        );
    }
}
