//! A local double of the Kubernetes API for events (feature `apiserver`).
//!
//! [`ApiServer`] serves, on `127.0.0.1` over HTTPS with a certificate
//! authority made at start (or plain HTTP on request), the part of the
//! Kubernetes API that publishing and reading events needs:
//!
//! - discovery (`/version`, `/api`, `/api/v1`, `/apis`, `/apis/events.k8s.io/v1`);
//! - `events.k8s.io/v1` events: create, get, list, watch, update, merge and
//!   strategic-merge patch, delete — with the API server's validation and
//!   immutability rules, answered with the same `Status` bodies (422 with
//!   field causes, 409, 404, 403, 401);
//! - the core/v1 view of the same events (`/api/v1/events`,
//!   `/api/v1/namespaces/{ns}/events`) with its field names, its field
//!   selectors (`involvedObject.*`, `reason`, `type`, ...) and the server-side
//!   `Table` that `kubectl get events` asks for;
//! - namespaces, pods, configmaps and nodes: create, get, list, watch,
//!   update, patch, delete, with uids and resource versions;
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
//! use event_testing::apiserver::ApiServer;
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
//! What it leaves out: protobuf, aggregated discovery (it answers the plain
//! forms, which kubectl accepts), JSON patch, dry runs, admission beyond
//! namespace existence, and every kind not listed above.

mod auth;
mod events;
mod faults;
mod handlers;
mod http;
mod kubeconfig;
mod names;
mod patch;
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

use event_core::{Clock, SystemClock};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use auth::Permissions;
pub use faults::{
    FaultAction, FaultRule, REQUEST_LOG_LIMIT, RandomFaults, RequestLog, RequestRecord,
    ServerFaults,
};
pub use serve::{ServeOptions, serve_until_ctrl_c};

use auth::TokenEntry;
use http::Shared;
use resources::{Kind, View};
use status::ApiError;
use store::Store;

/// Default time an event lives after its last write (the API server's
/// `--event-ttl`).
pub const DEFAULT_EVENT_TTL: Duration = Duration::from_secs(3600);

/// User name of the token written to the kubeconfig.
pub const ADMIN_USER: &str = "admin";

/// Namespaces that exist from the start, as in a new cluster.
pub const INITIAL_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Why the server could not start or a helper failed.
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

/// Configures an [`ApiServer`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use event_testing::apiserver::{ApiServer, Permissions};
///
/// let server = ApiServer::builder()
///     .event_ttl(Duration::from_secs(60))
///     .token("limited", Permissions::all().deny("events", "patch"))
///     .start()
///     .await?;
/// let limited = server.client_with_token("limited").await?;
/// # let _ = limited;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ApiServerBuilder {
    plain_http: bool,
    port: u16,
    event_ttl: Duration,
    admin_token: Option<String>,
    tokens: Vec<TokenEntry>,
    clock: Arc<dyn Clock>,
    require_namespaces: bool,
}

impl Default for ApiServerBuilder {
    fn default() -> ApiServerBuilder {
        ApiServerBuilder {
            plain_http: false,
            port: 0,
            event_ttl: DEFAULT_EVENT_TTL,
            admin_token: None,
            tokens: Vec::new(),
            clock: Arc::new(SystemClock),
            require_namespaces: true,
        }
    }
}

impl ApiServerBuilder {
    /// Serve plain HTTP instead of HTTPS.
    #[must_use]
    pub fn plain_http(mut self) -> ApiServerBuilder {
        self.plain_http = true;
        self
    }

    /// Listen on this port of `127.0.0.1` (default: any free port).
    #[must_use]
    pub fn port(mut self, port: u16) -> ApiServerBuilder {
        self.port = port;
        self
    }

    /// How long an event lives after its last write (default
    /// [`DEFAULT_EVENT_TTL`]).
    #[must_use]
    pub fn event_ttl(mut self, ttl: Duration) -> ApiServerBuilder {
        self.event_ttl = ttl;
        self
    }

    /// The token written to the kubeconfig (default: random). It may do
    /// everything.
    #[must_use]
    pub fn admin_token(mut self, token: impl Into<String>) -> ApiServerBuilder {
        self.admin_token = Some(token.into());
        self
    }

    /// Accepts another token, whose user name is the token itself.
    #[must_use]
    pub fn token(self, token: impl Into<String>, permissions: Permissions) -> ApiServerBuilder {
        let token = token.into();
        let user = token.clone();
        self.user_token(token, user, permissions)
    }

    /// Accepts another token for a named user (the name shows in 403 messages,
    /// e.g. `system:serviceaccount:ns:sa`).
    #[must_use]
    pub fn user_token(
        mut self,
        token: impl Into<String>,
        user: impl Into<String>,
        permissions: Permissions,
    ) -> ApiServerBuilder {
        self.tokens.push(TokenEntry {
            token: token.into(),
            user: user.into(),
            permissions,
        });
        self
    }

    /// The clock for creation times, table ages and the event TTL (default:
    /// the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> ApiServerBuilder {
        self.clock = clock;
        self
    }

    /// Whether creating an object in a namespace that does not exist answers
    /// 404, as a real cluster does (default `true`). [`INITIAL_NAMESPACES`]
    /// exist from the start.
    #[must_use]
    pub fn require_namespaces(mut self, require: bool) -> ApiServerBuilder {
        self.require_namespaces = require;
        self
    }

    /// Binds, writes the kubeconfig and starts serving on the current tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Io`] when binding or writing the kubeconfig fails,
    /// [`ApiServerError::Tls`] when the certificates cannot be made.
    pub async fn start(self) -> Result<ApiServer, ApiServerError> {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await?;
        let addr = listener.local_addr()?;
        let pki = if self.plain_http {
            None
        } else {
            Some(tls::generate()?)
        };
        let admin_token = self.admin_token.unwrap_or_else(|| {
            format!("admin-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
        });
        let mut tokens = vec![TokenEntry {
            token: admin_token.clone(),
            user: ADMIN_USER.to_owned(),
            permissions: Permissions::all(),
        }];
        tokens.extend(self.tokens);
        let shared = Arc::new(Shared {
            store: Store::new(self.clock, self.event_ttl),
            tokens,
            faults: ServerFaults::default(),
            log: RequestLog::default(),
            require_namespaces: self.require_namespaces,
            server_address: addr.to_string(),
        });
        for ns in INITIAL_NAMESPACES {
            handlers::create_object(
                &shared,
                Kind::Namespace,
                View::Core,
                None,
                json!({"metadata": {"name": ns}}),
            )?;
        }
        let dir = kubeconfig::TempDir::new()?;
        let scheme = if pki.is_some() { "https" } else { "http" };
        let server = ApiServer {
            url: format!("{scheme}://{addr}"),
            kubeconfig_path: dir.path().join("kubeconfig"),
            ca_pem: pki.as_ref().map(|p| p.ca_pem.clone()),
            task: tokio::spawn(http::accept_loop(
                listener,
                pki.map(|p| p.acceptor),
                shared.clone(),
            )),
            shared,
            addr,
            admin_token,
            _dir: dir,
        };
        server.write_kubeconfig(&server.kubeconfig_path, None)?;
        Ok(server)
    }
}

/// A local double of the Kubernetes API; see the [module docs](self).
///
/// Stops serving when dropped (its connections and watches end with it) and
/// removes its kubeconfig.
#[derive(Debug)]
pub struct ApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    admin_token: String,
    kubeconfig_path: PathBuf,
    task: JoinHandle<()>,
    _dir: kubeconfig::TempDir,
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.task.abort();
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::builder().plain_http().start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::builder().admin_token("t0k3n").start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// use event_testing::apiserver::{ApiServer, Permissions};
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
        let kubeconfig = kube::config::Kubeconfig::read_from(path)
            .map_err(|e| ApiServerError::Kubeconfig(e.to_string()))?;
        let config = kube::Config::from_custom_kubeconfig(
            kubeconfig,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .map_err(|e| ApiServerError::Kubeconfig(e.to_string()))?;
        kube::Client::try_from(config).map_err(ApiServerError::Kube)
    }

    /// The fault injection handle.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
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
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// server.client().await?.apiserver_version().await?;
    /// assert_eq!(server.requests().count("GET", "/version"), 1);
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> RequestLog {
        self.shared.log.clone()
    }

    /// Stored events, in the events.k8s.io/v1 JSON form, ordered by
    /// namespace and name.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert!(server.events_json().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn events_json(&self) -> Vec<Value> {
        self.shared.store.list(Kind::Event, None).0
    }

    /// Stored events as `k8s_openapi` events.k8s.io/v1 objects.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert!(server.events().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Vec<k8s_openapi::api::events::v1::Event> {
        self.events_json()
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// Stored events as the core/v1 API shows them.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert!(server.core_events().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn core_events(&self) -> Vec<k8s_openapi::api::core::v1::Event> {
        self.events_json()
            .iter()
            .filter_map(|v| serde_json::from_value(events::to_core(v)).ok())
            .collect()
    }

    /// One stored event.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert!(server.event("default", "nope").is_none());
    /// # Ok(()) }
    /// ```
    pub fn event(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<k8s_openapi::api::events::v1::Event> {
        let v = self.shared.store.get(Kind::Event, namespace, name)?;
        serde_json::from_value(v).ok()
    }

    /// Deletes a stored event; `false` if there was none.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert!(!server.delete_event("default", "nope"));
    /// # Ok(()) }
    /// ```
    pub fn delete_event(&self, namespace: &str, name: &str) -> bool {
        self.shared
            .store
            .delete(Kind::Event, resources::EVENTS_GROUP, namespace, name)
            .is_ok()
    }

    /// Removes every stored event now, as if their TTL had passed; returns
    /// how many there were.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert_eq!(server.expire_events(), 0);
    /// # Ok(()) }
    /// ```
    pub fn expire_events(&self) -> usize {
        self.shared.store.expire_events()
    }

    /// Creates any supported object from its JSON (`apiVersion` and `kind`
    /// required: `v1` `Namespace`, `Pod`, `ConfigMap`, `Node`, `Event`, or
    /// `events.k8s.io/v1` `Event`), exactly as a POST would, and returns the
    /// stored object. Creating a namespaced object also creates its
    /// namespace when missing.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] with the code the API would answer
    /// (400, 409, 422).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// let cm = server.create_object(serde_json::json!({
    ///     "apiVersion": "v1", "kind": "ConfigMap",
    ///     "metadata": {"name": "settings", "namespace": "shop"},
    ///     "data": {"color": "blue"},
    /// }))?;
    /// assert!(cm["metadata"]["uid"].is_string());
    /// # Ok(()) }
    /// ```
    pub fn create_object(&self, object: Value) -> Result<Value, ApiServerError> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind_name = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let kind = Kind::from_kind(kind_name).ok_or_else(|| ApiServerError::Rejected {
            code: 400,
            message: format!("unsupported kind {kind_name:?}"),
        })?;
        let view = match api_version {
            "v1" => View::Core,
            "events.k8s.io/v1" if kind == Kind::Event => View::EventsV1,
            other => {
                return Err(ApiServerError::Rejected {
                    code: 400,
                    message: format!("unsupported apiVersion {other:?} for kind {kind_name}"),
                });
            }
        };
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if kind.namespaced()
            && let Some(ns) = &namespace
        {
            self.ensure_namespace(ns)?;
        }
        let ns = if kind.namespaced() {
            Some(namespace.unwrap_or_else(|| "default".to_owned()))
        } else {
            None
        };
        Ok(handlers::create_object(
            &self.shared,
            kind,
            view,
            ns.as_deref(),
            object,
        )?)
    }

    fn ensure_namespace(&self, name: &str) -> Result<(), ApiServerError> {
        if self.shared.store.get(Kind::Namespace, "", name).is_none() {
            self.create_namespace(name)?;
        }
        Ok(())
    }

    fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiServerError> {
        serde_json::from_value(v).map_err(|e| ApiServerError::Rejected {
            code: 500,
            message: e.to_string(),
        })
    }

    /// Creates a namespace.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// let ns = server.create_namespace("shop")?;
    /// assert_eq!(ns.metadata.name.as_deref(), Some("shop"));
    /// # Ok(()) }
    /// ```
    pub fn create_namespace(&self, name: &str) -> Result<Namespace, ApiServerError> {
        let v = handlers::create_object(
            &self.shared,
            Kind::Namespace,
            View::Core,
            None,
            json!({"metadata": {"name": name}}),
        )?;
        ApiServer::typed(v)
    }

    /// Creates a pod with one container (and its namespace when missing).
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// let pod = server.create_pod("shop", "web-0")?;
    /// assert_ne!(pod.metadata.uid.as_deref(), Some("web-0"));
    /// # Ok(()) }
    /// ```
    pub fn create_pod(&self, namespace: &str, name: &str) -> Result<Pod, ApiServerError> {
        let v = self.create_object(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]},
            "status": {"phase": "Running"},
        }))?;
        ApiServer::typed(v)
    }

    /// Creates a configmap (and its namespace when missing).
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// let cm = server.create_configmap("shop", "settings", &[("color", "blue")])?;
    /// assert_eq!(cm.data.unwrap()["color"], "blue");
    /// # Ok(()) }
    /// ```
    pub fn create_configmap(
        &self,
        namespace: &str,
        name: &str,
        data: &[(&str, &str)],
    ) -> Result<ConfigMap, ApiServerError> {
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let v = self.create_object(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }))?;
        ApiServer::typed(v)
    }

    /// Creates a node (cluster-scoped).
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// let node = server.create_node("node-1")?;
    /// assert!(node.metadata.namespace.is_none());
    /// # Ok(()) }
    /// ```
    pub fn create_node(&self, name: &str) -> Result<Node, ApiServerError> {
        let v = self.create_object(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "Hostname", "address": name}],
            },
        }))?;
        ApiServer::typed(v)
    }

    /// A stored object of any kind by resource name (`"pods"`, `"nodes"`,
    /// ...); cluster-scoped objects take an empty namespace.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = event_testing::apiserver::ApiServer::start().await?;
    /// assert!(server.object("namespaces", "", "default").is_some());
    /// # Ok(()) }
    /// ```
    pub fn object(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        let kind = Kind::from_core_plural(resource)?;
        let ns = if kind.namespaced() { namespace } else { "" };
        self.shared.store.get(kind, ns, name)
    }
}
