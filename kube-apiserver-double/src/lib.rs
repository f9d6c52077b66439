//! A local double of the Kubernetes API server for events.
//!
//! [`ApiServer`] serves, on `127.0.0.1` over HTTPS with a certificate
//! authority made at start (or plain HTTP on request), the part of the
//! Kubernetes API that publishing and reading events needs:
//!
//! - discovery (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/{group}`,
//!   `/apis/{group}/{version}`) and OpenAPI v3 documents (`/openapi/v3`),
//!   so that `kubectl create -f`, `apply -f` and `explain` work;
//! - `events.k8s.io/v1` events: create, get, list, watch, update, merge,
//!   strategic-merge and JSON patch, delete — with the API server's
//!   validation and immutability rules, answered with the same `Status`
//!   bodies (422 with field causes, 409, 404, 403, 401);
//! - the core/v1 view of the same events (`/api/v1/events`,
//!   `/api/v1/namespaces/{ns}/events`) with its field names, its field
//!   selectors (`involvedObject.*`, `reason`, `type`, ...) and the server-side
//!   `Table` that `kubectl get events` asks for; with
//!   [`ApiServerBuilder::serve_events_group`]`(false)` the only view, as on
//!   a cluster that does not serve `events.k8s.io`;
//! - namespaces, pods, configmaps and nodes, `coordination.k8s.io/v1`
//!   leases and `apiextensions.k8s.io/v1` CustomResourceDefinitions: create,
//!   get, list, watch, update, patch, delete, with uids and resource
//!   versions; a definition serves its custom kind the same way (with its
//!   printer columns in `kubectl get`) until it is deleted;
//! - `SelfSubjectAccessReview` and `SelfSubjectReview` answered from the
//!   token's user and [`Permissions`] (`kubectl auth can-i`, `auth whoami`);
//! - an event TTL (default 1 h) reset by every write;
//! - bearer tokens with per-verb [`Permissions`], [fault injection](ServerFaults)
//!   and a [request log](RequestLog).
//!
//! It writes a kubeconfig, so both `kube::Client` and the real `kubectl` can
//! talk to it, and stops when dropped.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use kube_apiserver_double::ApiServer;
//! use k8s_openapi::api::events::v1::Event;
//! use kube::api::{Api, PostParams};
//!
//! let server = ApiServer::start().await?;
//! server.create_pod("shop", "web-0")?;
//! let client = server.client().await?;
//!
//! let event: Event = serde_json::from_value(serde_json::json!({
//!     "metadata": {"name": "web-0.1", "namespace": "shop"},
//!     "eventTime": "2025-01-01T00:00:00.000000Z",
//!     "reportingController": "example.com/widgets",
//!     "reportingInstance": "widgets-0",
//!     "action": "Starting",
//!     "reason": "Started",
//!     "type": "Normal",
//!     "note": "started container app",
//!     "regarding": {"apiVersion": "v1", "kind": "Pod", "name": "web-0", "namespace": "shop"},
//! }))?;
//! Api::<Event>::namespaced(client, "shop").create(&PostParams::default(), &event).await?;
//!
//! assert_eq!(server.events().len(), 1);
//! // `kubectl --kubeconfig <path> describe pod web-0 -n shop` shows it.
//! println!("{}", server.kubeconfig_path().display());
//! # Ok(()) }
//! ```
//!
//! # Faithful where it matters
//!
//! - Validation follows the API server's event rules: byte limits (reason,
//!   action, reporting instance 128; note 1024), a qualified reporting
//!   controller, required fields, type `Normal`/`Warning`, series count of
//!   at least 2 with a last observed time, deprecated fields unset and a
//!   DNS-subdomain name on events.k8s.io/v1 creates, `default` or
//!   `kube-system` for events about cluster-scoped objects, and everything
//!   but `series` and metadata immutable on update (event time compared at
//!   microsecond precision). Error paths use the API server's internal names
//!   (`message`, `involvedObject.namespace`, `count`, `source`), and writes
//!   through core/v1 get only the lenient legacy checks, as upstream.
//! - The core/v1 view converts names only: `regarding` is `involvedObject`,
//!   `note` is `message`, `reportingController` is `reportingComponent`,
//!   `deprecatedCount`/`deprecatedSource`/`deprecated*Timestamp` are
//!   `count`/`source`/`*Timestamp`. Like the real server it does not invent
//!   `count` or `firstTimestamp` for events.k8s.io events: kubectl reads
//!   `eventTime` and `series` instead.
//! - A write is decoded, then admitted, then validated, in the API server's
//!   order: creating in a namespace that does not exist answers 404 (see
//!   [`ApiServerBuilder::require_namespaces`]; the helpers create it), in
//!   a terminating one 403, whatever the object's own problems.
//! - Every object's metadata is checked as the API server checks it: its
//!   kind's name rule, then the path-segment rule (no `.`, `..`, `/`,
//!   `%`), label keys and values, annotation keys (compared in lower case)
//!   and their 256 KiB total, finalizers.
//! - Watches resume from a resource version (410 Gone once the change
//!   history no longer holds it), serve streaming lists
//!   (`sendInitialEvents`), and send a `BOOKMARK` with the current version
//!   every [`DEFAULT_WATCH_BOOKMARK_INTERVAL`] to watches that ask for
//!   bookmarks, as kube's watcher and client-go's reflector do.
//! - `fieldValidation=Strict`, which kubectl sends, refuses fields a kind
//!   does not have (`strict decoding error: unknown field "spec"`).
//! - Errors of core/v1 event writes name the core/v1 fields
//!   (`reportingComponent`).
//! - `kube::Client` retries 429, 503 and 504 on its own (honoring
//!   `Retry-After`), so an injected fault of those codes is seen by the
//!   request log more often than by the caller.
//!
//! Time: creation times, table ages and the event TTL follow the server's
//! [`Clock`](event_core::Clock) (see [`ApiServerBuilder::clock`]); watch
//! deadlines and injected delays use tokio time. Run the server on a tokio
//! runtime whose clock is not paused: with a paused clock tokio skips ahead
//! whenever every task waits, even for a socket, so client timeouts and
//! watch deadlines would fire at once.
//!
//! kubectl's reading commands work against it (`get`, `describe`, `events`,
//! `explain`, `api-resources`, `auth can-i`, `auth whoami`), and so do its
//! writes: `create -f`, `apply -f`, `patch` (merge, strategic, JSON),
//! `label`, `delete`, and the imperative `create configmap` and `create
//! namespace`, whose protobuf bodies it decodes.
//!
//! What it leaves out: protobuf bodies of other kinds (415; `kubectl run`
//! sends a Pod that way), protobuf answers (it answers JSON, which every
//! client accepts), aggregated discovery and OpenAPI v2 (it answers the plain
//! forms and v3, which kubectl uses), admission beyond namespace lifecycle,
//! schema validation and pruning of custom objects, conversion between
//! the versions of a definition (objects are shown in the version asked
//! for, unchanged), `fieldValidation=Warn` warnings, the bookmark the API
//! server sends shortly before a watch's timeout (it sends the periodic
//! ones, see [`DEFAULT_WATCH_BOOKMARK_INTERVAL`]), and every kind not listed
//! above.
//!
//! To run it standalone, see [`serve_until_ctrl_c`].

mod access;
mod auth;
mod builder;
mod crd;
mod events;
mod faults;
mod handlers;
mod helpers;
mod http;
mod kubeconfig;
mod meta;
mod names;
mod objects;
mod openapi;
mod patch;
mod protobuf;
mod resources;
mod selector;
mod serve;
mod status;
mod store;
mod table;
mod tls;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use event_kube::config::ConfigError;
use tokio::task::JoinHandle;

pub use auth::Permissions;
pub use builder::ApiServerBuilder;
pub use faults::{
    FaultAction, FaultRule, REQUEST_LOG_LIMIT, RandomFaults, RequestLog, RequestRecord,
    ServerFaults,
};
pub use serve::{ServeOptions, serve_until, serve_until_ctrl_c};

use http::Shared;
use status::ApiError;

/// Default time an event lives after its last write (the API server's
/// `--event-ttl`): one hour.
pub const DEFAULT_EVENT_TTL: Duration = Duration::from_secs(3600);

/// Default time a deleted namespace stays `Terminating` before it and its
/// contents are removed: one second (a real cluster's namespace controller
/// takes a few).
pub const DEFAULT_NAMESPACE_TERMINATION: Duration = Duration::from_secs(1);

/// How often a watch that asked for bookmarks (`allowWatchBookmarks=true`,
/// which kube's watcher and client-go's reflector send) gets a `BOOKMARK`
/// with the current resource version: every minute, as the API server's
/// watch cache sends them. A watcher that sees few changes (a narrow
/// selector) then resumes from a recent version instead of one the history
/// may have dropped.
pub const DEFAULT_WATCH_BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// User name of the token written to the kubeconfig.
pub const ADMIN_USER: &str = "admin";

/// Namespaces that exist from the start, as in a new cluster.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kube_apiserver_double::ApiServer;
///
/// let server = ApiServer::start().await?;
/// for ns in kube_apiserver_double::INITIAL_NAMESPACES {
///     assert!(server.object("namespaces", "", ns).is_some());
/// }
/// # Ok(()) }
/// ```
pub const INITIAL_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Why the server could not start or a helper failed.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kube_apiserver_double::{ApiServer, ApiServerError};
///
/// let server = ApiServer::start().await?;
/// server.create_namespace("shop")?;
/// let again = server.create_namespace("shop").unwrap_err();
/// assert!(matches!(again, ApiServerError::Rejected { code: 409, .. }));
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiServerError {
    /// Binding, writing the kubeconfig, or another I/O operation failed.
    Io(std::io::Error),
    /// Making the certificates or the TLS configuration failed.
    Tls(String),
    /// Loading the kubeconfig through kube's config loading failed.
    Kubeconfig(String),
    /// Building the `kube::Client` failed.
    Kube(kube::Error),
    /// The server refused an object given to a helper (same answer as over HTTP).
    Rejected {
        /// HTTP status code.
        code: u16,
        /// The `Status` message.
        message: String,
    },
}

impl std::fmt::Display for ApiServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiServerError::Io(e) => write!(f, "I/O error: {e}"),
            ApiServerError::Tls(e) => write!(f, "TLS setup failed: {e}"),
            ApiServerError::Kubeconfig(e) => write!(f, "kubeconfig could not be loaded: {e}"),
            ApiServerError::Kube(e) => write!(f, "kube client could not be built: {e}"),
            ApiServerError::Rejected { code, message } => {
                write!(f, "rejected with {code}: {message}")
            }
        }
    }
}

impl std::error::Error for ApiServerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiServerError::Io(e) => Some(e),
            ApiServerError::Kube(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for ApiServerError {
    fn from(e: std::io::Error) -> ApiServerError {
        ApiServerError::Io(e)
    }
}

impl From<ApiError> for ApiServerError {
    fn from(e: ApiError) -> ApiServerError {
        ApiServerError::Rejected {
            code: e.code,
            message: e.message,
        }
    }
}

/// A local double of the Kubernetes API; see the [module docs](self).
///
/// Stops serving when dropped (its connections and watches end with it) and
/// removes its kubeconfig.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = kube_apiserver_double::ApiServer::start().await?;
/// server.create_node("node-1")?;
/// println!("kubectl --kubeconfig {} describe node node-1", server.kubeconfig_path().display());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    admin_token: String,
    kubeconfig_path: PathBuf,
    task: JoinHandle<()>,
    bookmarks: JoinHandle<()>,
    _dir: kubeconfig::TempDir,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
        self.bookmarks.abort();
    }
}

impl ApiServer {
    /// Starts a server with the defaults (HTTPS, random admin token, 1 h
    /// event TTL).
    ///
    /// # Errors
    ///
    /// As [`ApiServerBuilder::start`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.url().starts_with("https://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub async fn start() -> Result<ApiServer, ApiServerError> {
        ApiServer::builder().start().await
    }

    /// A builder for a server with other settings.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::builder().plain_http().start().await?;
    /// assert!(server.url().starts_with("http://"));
    /// # Ok(()) }
    /// ```
    pub fn builder() -> ApiServerBuilder {
        ApiServerBuilder::default()
    }

    /// The address it listens on.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.addr().ip().is_loopback());
    /// # Ok(()) }
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL (`https://127.0.0.1:PORT`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.url().ends_with(&server.addr().port().to_string()));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PEM of the certificate authority (`None` over plain HTTP).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.ca_pem().unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok(()) }
    /// ```
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The token in the kubeconfig (user [`ADMIN_USER`], may do everything).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::builder().admin_token("t0k3n").start().await?;
    /// assert_eq!(server.admin_token(), "t0k3n");
    /// # Ok(()) }
    /// ```
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The kubeconfig file (in a directory the server removes when dropped).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let path = server.kubeconfig_path().to_path_buf();
    /// assert!(path.exists());
    /// drop(server);
    /// assert!(!path.exists());
    /// # Ok(()) }
    /// ```
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig_path
    }

    /// The kubeconfig text for a token (`None`: the admin token).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.kubeconfig(None).contains("certificate-authority-data"));
    /// # Ok(()) }
    /// ```
    pub fn kubeconfig(&self, token: Option<&str>) -> String {
        kubeconfig::render(
            &self.url,
            self.ca_pem.as_deref(),
            token.unwrap_or(&self.admin_token),
            "default",
        )
    }

    /// Writes a kubeconfig for a token (`None`: the admin token) to `path`
    /// (owner-only permissions). The file outlives the server.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Io`] when the file cannot be written.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let path = std::env::temp_dir().join(format!("kubeconfig-doc-{}", std::process::id()));
    /// server.write_kubeconfig(&path, None)?;
    /// # std::fs::remove_file(&path)?;
    /// # Ok(()) }
    /// ```
    pub fn write_kubeconfig(&self, path: &Path, token: Option<&str>) -> Result<(), ApiServerError> {
        kubeconfig::write_private(path, &self.kubeconfig(token))?;
        Ok(())
    }

    /// A `kube::Client` for the admin token, built from the kubeconfig
    /// through kube's own config loading.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Kubeconfig`] or [`ApiServerError::Kube`] when kube
    /// rejects the configuration.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let client = server.client().await?;
    /// let version = client.apiserver_version().await?;
    /// assert_eq!(version.major, "1");
    /// # Ok(()) }
    /// ```
    pub async fn client(&self) -> Result<kube::Client, ApiServerError> {
        self.client_from_path(&self.kubeconfig_path).await
    }

    /// A `kube::Client` authenticating with another token (see
    /// [`ApiServerBuilder::token`]).
    ///
    /// # Errors
    ///
    /// As [`ApiServer::client`], plus [`ApiServerError::Io`] when the
    /// kubeconfig cannot be written.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::{ApiServer, Permissions};
    /// let server = ApiServer::builder().token("reader", Permissions::none().allow("*", "get")).start().await?;
    /// let _reader = server.client_with_token("reader").await?;
    /// # Ok(()) }
    /// ```
    pub async fn client_with_token(&self, token: &str) -> Result<kube::Client, ApiServerError> {
        let path = self
            ._dir
            .path()
            .join(format!("kubeconfig-{:016x}", fastrand::u64(..)));
        self.write_kubeconfig(&path, Some(token))?;
        let client = self.client_from_path(&path).await;
        let _ = std::fs::remove_file(&path);
        client
    }

    async fn client_from_path(&self, path: &Path) -> Result<kube::Client, ApiServerError> {
        // kube's TLS setup uses the process-wide crypto provider; make sure
        // there is one even when more than one is compiled in.
        let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
        event_kube::config::client_from_kubeconfig(path)
            .await
            .map_err(|e| match e {
                ConfigError::Client(e) => ApiServerError::Kube(e),
                ConfigError::Kubeconfig(e) => ApiServerError::Kubeconfig(e.to_string()),
                other => ApiServerError::Kubeconfig(other.to_string()),
            })
    }

    /// The fault injection handle.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().fail_next(1, 500);
    /// # Ok(()) }
    /// ```
    pub fn faults(&self) -> ServerFaults {
        self.shared.faults.clone()
    }

    /// The request log.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.client().await?.apiserver_version().await?;
    /// assert_eq!(server.requests().count("GET", "/version"), 1);
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> RequestLog {
        self.shared.log.clone()
    }
}
