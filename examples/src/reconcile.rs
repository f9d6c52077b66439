//! A reconcile function that reports its outcome as Kubernetes Events, and
//! is tested offline.
//!
//! The controller's [`Context`] holds a [`Recorder`]. In production the
//! Recorder writes through `event_kube::KubeSink`; in tests it writes to an
//! `event_testing::MemorySink`, and the tests assert what was emitted (see
//! `examples/tests/reconcile.rs`):
//!
//! ```
//! use std::sync::Arc;
//! use event_core::Recorder;
//! use event_testing::{MemorySink, expect};
//! use examples::reconcile::{Context, Widget, reconcile};
//! # use examples::reconcile::{ApplyError, Cluster};
//! # struct Healthy;
//! # #[async_trait::async_trait]
//! # impl Cluster for Healthy {
//! #     async fn apply(&self, _: &Widget) -> Result<(), ApplyError> { Ok(()) }
//! # }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sink = MemorySink::new();
//! let ctx = Context {
//!     recorder: Recorder::builder(sink.arc(), "example.com/widget-controller").build()?,
//!     cluster: Arc::new(Healthy),
//! };
//! let widget = Widget::new("shop", "w1", 3);
//!
//! reconcile(&widget, &ctx).await?;
//! sink.assert_emitted(expect::normal("Reconciled").regarding(&widget.object_ref()));
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use event_core::{Event, ObjectRef, Recorder};

/// The `action` of every event this controller emits.
///
/// # Example
///
/// ```
/// use examples::reconcile::{ACTION, REASON_FAILED, REASON_RECONCILED};
///
/// for reason in [REASON_RECONCILED, REASON_FAILED] {
///     let event = event_core::Event::normal(reason, ACTION);
///     assert!(event_core::validate::validate_event(&event, Default::default()).is_ok());
/// }
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
/// use examples::reconcile::{ApplyError, Cluster, Context, REASON_RECONCILED, Widget, reconcile};
///
/// struct Healthy;
///
/// #[async_trait::async_trait]
/// impl Cluster for Healthy {
///     async fn apply(&self, _: &Widget) -> Result<(), ApplyError> {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), "example.com/widget-controller").build()?;
/// let ctx = Context { recorder, cluster: Arc::new(Healthy) };
/// reconcile(&Widget::new("shop", "w1", 3), &ctx).await?;
/// sink.assert_emitted(expect::normal(REASON_RECONCILED).note_contains("has 3 replicas"));
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
/// use examples::reconcile::{ApplyError, Cluster, Context, REASON_FAILED, Widget, reconcile};
///
/// struct Unreachable;
///
/// #[async_trait::async_trait]
/// impl Cluster for Unreachable {
///     async fn apply(&self, _: &Widget) -> Result<(), ApplyError> {
///         Err(ApplyError::new("connection refused"))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), "example.com/widget-controller").build()?;
/// let ctx = Context { recorder, cluster: Arc::new(Unreachable) };
/// assert!(reconcile(&Widget::new("shop", "w1", 3), &ctx).await.is_err());
/// sink.assert_emitted(expect::warning(REASON_FAILED).note_contains("connection refused"));
/// # Ok(()) }
/// ```
pub const REASON_FAILED: &str = "ReconcileFailed";

/// The object this controller manages: a stand-in for a custom resource
/// (with kube, a `#[derive(CustomResource)]` type).
///
/// # Example
///
/// ```
/// let widget = examples::reconcile::Widget::new("shop", "w1", 3);
/// assert_eq!(widget.object_ref().kind, "Widget");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Widget {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// UID, as the API server assigns it.
    pub uid: String,
    /// Desired replicas.
    pub replicas: u32,
}

impl Widget {
    /// A widget with a UID derived from its namespace and name.
    ///
    /// # Example
    ///
    /// ```
    /// let widget = examples::reconcile::Widget::new("shop", "w1", 3);
    /// assert_eq!(widget.replicas, 3);
    /// ```
    pub fn new(namespace: &str, name: &str, replicas: u32) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            uid: format!("uid-{namespace}-{name}"),
            replicas,
        }
    }

    /// The reference events about this widget point to (`regarding`).
    /// With kube, `ObjectRef::from(&widget.object_ref(&()))` does this for
    /// any resource.
    ///
    /// # Example
    ///
    /// ```
    /// let r = examples::reconcile::Widget::new("shop", "w1", 3).object_ref();
    /// assert_eq!(r.namespace.as_deref(), Some("shop"));
    /// ```
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new("example.com/v1", "Widget", &self.name)
            .within(&self.namespace)
            .with_uid(&self.uid)
    }
}

/// What reconcile changes in the cluster: in production a kube client
/// applying a Deployment; in tests a fake.
///
/// # Example
///
/// ```
/// use examples::reconcile::{ApplyError, Cluster, Widget};
///
/// struct Unreachable;
///
/// #[async_trait::async_trait]
/// impl Cluster for Unreachable {
///     async fn apply(&self, _: &Widget) -> Result<(), ApplyError> {
///         Err(ApplyError::new("connection refused"))
///     }
/// }
/// ```
#[async_trait]
pub trait Cluster: Send + Sync {
    /// Makes the cluster match `widget` (e.g. applies its Deployment).
    ///
    /// # Errors
    ///
    /// [`ApplyError`] when the change could not be made.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use examples::reconcile::{ApplyError, Cluster, Widget};
    ///
    /// /// Remembers what it was asked to apply.
    /// #[derive(Default)]
    /// struct Recording(Mutex<Vec<String>>);
    ///
    /// #[async_trait::async_trait]
    /// impl Cluster for Recording {
    ///     async fn apply(&self, widget: &Widget) -> Result<(), ApplyError> {
    ///         let mut applied = self.0.lock().map_err(|_| ApplyError::new("poisoned"))?;
    ///         applied.push(format!("{}/{}", widget.namespace, widget.name));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), ApplyError> {
    /// let cluster = Recording::default();
    /// cluster.apply(&Widget::new("shop", "w1", 3)).await?;
    /// assert_eq!(*cluster.0.lock().unwrap(), ["shop/w1"]);
    /// # Ok(()) }
    /// ```
    async fn apply(&self, widget: &Widget) -> Result<(), ApplyError>;
}

/// Why [`Cluster::apply`] failed.
///
/// # Example
///
/// ```
/// let e = examples::reconcile::ApplyError::new("connection refused");
/// assert_eq!(e.to_string(), "connection refused");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyError {
    message: String,
}

impl ApplyError {
    /// An error with this message.
    ///
    /// # Example
    ///
    /// ```
    /// use std::error::Error;
    /// use examples::reconcile::{ApplyError, ReconcileError};
    ///
    /// let cause = ApplyError::new(format!("quota exceeded in {}", "shop"));
    /// assert_eq!(cause.to_string(), "quota exceeded in shop");
    /// let e = ReconcileError::Apply { deployment: "shop/w1".into(), source: cause.clone() };
    /// assert_eq!(e.source().map(ToString::to_string), Some(cause.to_string()));
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApplyError {}

/// Why a reconcile failed.
///
/// # Example
///
/// ```
/// use examples::reconcile::{ApplyError, ReconcileError};
///
/// let e = ReconcileError::Apply { deployment: "shop/w1".into(), source: ApplyError::new("timeout") };
/// assert_eq!(e.to_string(), "applying Deployment shop/w1 failed");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReconcileError {
    /// The Deployment could not be applied.
    Apply {
        /// `namespace/name` of the Deployment.
        deployment: String,
        /// What the cluster said.
        source: ApplyError,
    },
}

impl fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Apply { deployment, .. } => write!(f, "applying Deployment {deployment} failed"),
        }
    }
}

impl std::error::Error for ReconcileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Apply { source, .. } => Some(source),
        }
    }
}

/// What the controller shares with every reconcile: the same type in
/// production and in tests (only the Recorder's sink and the cluster
/// differ).
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::Recorder;
/// use event_testing::MemorySink;
/// use examples::reconcile::{ApplyError, Cluster, Context, Widget};
///
/// struct Healthy;
///
/// #[async_trait::async_trait]
/// impl Cluster for Healthy {
///     async fn apply(&self, _: &Widget) -> Result<(), ApplyError> {
///         Ok(())
///     }
/// }
///
/// # fn main() -> Result<(), event_core::Error> {
/// // In production: a `KubeSink` under the Recorder and a kube-backed cluster.
/// let sink = MemorySink::new();
/// let ctx = Context {
///     recorder: Recorder::builder(sink.arc(), "example.com/widget-controller").build()?,
///     cluster: Arc::new(Healthy),
/// };
/// // Clones share the Recorder (and with it the folding of repeats).
/// let shared = ctx.clone();
/// assert_eq!(shared.recorder.stats(), ctx.recorder.stats());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Context {
    /// Publishes this controller's events.
    pub recorder: Recorder,
    /// Where reconcile applies changes.
    pub cluster: Arc<dyn Cluster>,
}

/// Reconciles one widget and says so with an event about it:
///
/// - success: Normal `Reconciled`, note `Deployment <ns>/<name> has <n>
///   replicas`;
/// - failure: Warning `ReconcileFailed` built with
///   [`Event::from_error`], so the note carries the error and its causes.
///
/// A failure to publish the event is logged and does not fail the
/// reconcile: events report on the work, they are not the work. Repeats
/// cost nothing extra: the Recorder folds them into one Event with a
/// count.
///
/// # Errors
///
/// [`ReconcileError`] when the cluster could not be changed.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::Recorder;
/// use event_testing::{MemorySink, expect};
/// use examples::reconcile::{ApplyError, Cluster, Context, ReconcileError, Widget, reconcile};
///
/// struct Unreachable;
///
/// #[async_trait::async_trait]
/// impl Cluster for Unreachable {
///     async fn apply(&self, _: &Widget) -> Result<(), ApplyError> {
///         Err(ApplyError::new("connection refused"))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), "example.com/widget-controller").build()?;
/// let ctx = Context { recorder, cluster: Arc::new(Unreachable) };
/// let widget = Widget::new("shop", "w1", 3);
///
/// for _ in 0..3 {
///     let err = reconcile(&widget, &ctx).await.unwrap_err();
///     assert!(matches!(err, ReconcileError::Apply { .. }));
/// }
/// // Three failures, one Event: created once, its series patched to count 2,
/// // the third occurrence counted until the next flush.
/// sink.assert_emitted(
///     expect::warning("ReconcileFailed")
///         .regarding(&widget.object_ref())
///         .note_contains("caused by: connection refused"),
/// );
/// assert_eq!((sink.creates(), sink.patches()), (1, 1));
/// # Ok(()) }
/// ```
// README: begin
pub async fn reconcile(widget: &Widget, ctx: &Context) -> Result<(), ReconcileError> {
    let deployment = format!("{}/{}", widget.namespace, widget.name);
    let (event, result) = match ctx.cluster.apply(widget).await {
        Ok(()) => {
            let note = format!("Deployment {deployment} has {} replicas", widget.replicas);
            (Event::normal(REASON_RECONCILED, ACTION).note(note), Ok(()))
        }
        Err(source) => {
            let error = ReconcileError::Apply { deployment, source };
            let event = Event::from_error(REASON_FAILED, ACTION, &error);
            (event, Err(error))
        }
    };
    if let Err(e) = ctx.recorder.publish(&event, &widget.object_ref()).await {
        tracing::warn!(error = %e, widget = %widget.name, "could not publish event");
    }
    result
}
// README: end
