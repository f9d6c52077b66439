//! [`ApiServerBuilder`]: settings, and starting the server.

use std::sync::Arc;
use std::time::Duration;

use event_core::{Clock, SystemClock};
use serde_json::json;
use tokio::net::TcpListener;

use super::auth::{Permissions, TokenEntry};
use super::faults::{RequestLog, ServerFaults};
use super::http::{self, Shared};
use super::resources::{Kind, View};
use super::store::Store;
use super::{
    ADMIN_USER, ApiServer, ApiServerError, DEFAULT_EVENT_TTL, DEFAULT_NAMESPACE_TERMINATION,
    DEFAULT_WATCH_BOOKMARK_INTERVAL, INITIAL_NAMESPACES, kubeconfig, objects, tls,
};

/// Configures an [`ApiServer`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use kube_apiserver_double::{ApiServer, Permissions};
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
    namespace_termination: Duration,
    admin_token: Option<String>,
    tokens: Vec<TokenEntry>,
    clock: Arc<dyn Clock>,
    require_namespaces: bool,
    bookmark_interval: Duration,
    serve_events_group: bool,
}

impl Default for ApiServerBuilder {
    fn default() -> ApiServerBuilder {
        ApiServerBuilder {
            plain_http: false,
            port: 0,
            event_ttl: DEFAULT_EVENT_TTL,
            namespace_termination: DEFAULT_NAMESPACE_TERMINATION,
            admin_token: None,
            tokens: Vec::new(),
            clock: Arc::new(SystemClock),
            require_namespaces: true,
            bookmark_interval: DEFAULT_WATCH_BOOKMARK_INTERVAL,
            serve_events_group: true,
        }
    }
}

impl ApiServerBuilder {
    /// Serve plain HTTP instead of HTTPS.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder().plain_http().start().await?;
    /// assert!(server.ca_pem().is_none());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn plain_http(mut self) -> ApiServerBuilder {
        self.plain_http = true;
        self
    }

    /// Listen on this port of `127.0.0.1` (default: any free port).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder().port(0).start().await?; // 0: any free port
    /// assert_ne!(server.addr().port(), 0);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn port(mut self, port: u16) -> ApiServerBuilder {
        self.port = port;
        self
    }

    /// How long an event lives after its last write (default
    /// [`DEFAULT_EVENT_TTL`]).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder().event_ttl(std::time::Duration::from_secs(5)).start().await?;
    /// # let _ = server;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn event_ttl(mut self, ttl: Duration) -> ApiServerBuilder {
        self.event_ttl = ttl;
        self
    }

    /// How long a deleted namespace stays `Terminating` (refusing new
    /// content, with its `deletionTimestamp` set) before it and everything
    /// in it are removed, as a real cluster's namespace controller takes a
    /// few seconds to (default [`DEFAULT_NAMESPACE_TERMINATION`]; zero
    /// removes a namespace at once). The time is the server's clock's (see
    /// [`clock`](Self::clock)): under a clock that does not move, a deleted
    /// namespace stays until it is moved on. A second DELETE meanwhile is
    /// answered 409, as a real server answers it.
    ///
    /// # Example
    ///
    /// A controller's handling of a namespace being deleted, tested over a
    /// window long enough to see it:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use k8s_openapi::api::core::v1::Namespace;
    /// use kube::api::{Api, DeleteParams};
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder()
    ///     .namespace_termination(Duration::from_secs(30))
    ///     .start()
    ///     .await?;
    /// server.create_namespace("shop")?;
    /// let namespaces: Api<Namespace> = Api::all(server.client().await?);
    /// namespaces.delete("shop", &DeleteParams::default()).await?;
    /// let shop = namespaces.get("shop").await?;
    /// assert_eq!(shop.status.and_then(|s| s.phase).as_deref(), Some("Terminating"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn namespace_termination(mut self, for_: Duration) -> ApiServerBuilder {
        self.namespace_termination = for_;
        self
    }

    /// How often watches that asked for bookmarks get one (default
    /// [`DEFAULT_WATCH_BOOKMARK_INTERVAL`]); a zero interval is taken as
    /// one millisecond.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder()
    ///     .watch_bookmark_interval(Duration::from_millis(200))
    ///     .start()
    ///     .await?;
    /// # let _ = server;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn watch_bookmark_interval(mut self, interval: Duration) -> ApiServerBuilder {
        self.bookmark_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The token written to the kubeconfig (default: random). It may do
    /// everything.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder().admin_token("secret").start().await?;
    /// assert!(server.kubeconfig(None).contains("secret"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn admin_token(mut self, token: impl Into<String>) -> ApiServerBuilder {
        self.admin_token = Some(token.into());
        self
    }

    /// Accepts another token, whose user name is the token itself.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::{ApiServer, Permissions};
    ///
    /// let server = ApiServer::builder().token("viewer", Permissions::none().allow("*", "get")).start().await?;
    /// let viewer = server.client_with_token("viewer").await?;
    /// # let _ = viewer;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn token(self, token: impl Into<String>, permissions: Permissions) -> ApiServerBuilder {
        let token = token.into();
        let user = token.clone();
        self.user_token(token, user, permissions)
    }

    /// Accepts another token for a named user (the name shows in 403 messages,
    /// e.g. `system:serviceaccount:ns:sa`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::{ApiServer, Permissions};
    ///
    /// let server = ApiServer::builder()
    ///     .user_token("t1", "system:serviceaccount:shop:widgets", Permissions::all().deny("events", "patch"))
    ///     .start()
    ///     .await?;
    /// # let _ = server;
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// use std::sync::Arc;
    ///
    /// let server = ApiServer::builder().clock(Arc::new(event_core::SystemClock)).start().await?;
    /// # let _ = server;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> ApiServerBuilder {
        self.clock = clock;
        self
    }

    /// Whether creating an object in a namespace that does not exist answers
    /// 404, as a real cluster does (default `true`). [`INITIAL_NAMESPACES`]
    /// exist from the start.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, PostParams};
    ///
    /// let server = ApiServer::builder().require_namespaces(false).start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "anywhere");
    /// let mut cm = ConfigMap::default();
    /// cm.metadata.name = Some("settings".into());
    /// cms.create(&PostParams::default(), &cm).await?;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn require_namespaces(mut self, require: bool) -> ApiServerBuilder {
        self.require_namespaces = require;
        self
    }

    /// Whether the `events.k8s.io` API group is served (default `true`).
    /// Without it the server behaves like a cluster that only has core/v1
    /// events: `/apis` does not list the group, its discovery and OpenAPI
    /// documents and every `/apis/events.k8s.io/...` path answer 404, and
    /// events are read and written through `/api/v1` only.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder().serve_events_group(false).start().await?;
    /// let client = server.client().await?;
    /// let groups = client.list_api_groups().await?;
    /// assert!(groups.groups.iter().all(|g| g.name != "events.k8s.io"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn serve_events_group(mut self, serve: bool) -> ApiServerBuilder {
        self.serve_events_group = serve;
        self
    }

    /// Binds, writes the kubeconfig and starts serving on the current tokio
    /// runtime.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Io`] when binding or writing the kubeconfig fails,
    /// [`ApiServerError::Tls`] when the certificates cannot be made.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    ///
    /// let server = ApiServer::builder().start().await?;
    /// assert!(server.kubeconfig_path().exists());
    /// # Ok(()) }
    /// ```
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
            store: Store::new(self.clock, self.event_ttl)
                .namespace_termination(self.namespace_termination),
            tokens,
            faults: ServerFaults::default(),
            log: RequestLog::default(),
            require_namespaces: self.require_namespaces,
            serve_events_group: self.serve_events_group,
            server_address: addr.to_string(),
        });
        for ns in INITIAL_NAMESPACES {
            objects::create_object(
                &shared,
                &Kind::Namespace,
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
            bookmarks: tokio::spawn(http::bookmark_loop(shared.clone(), self.bookmark_interval)),
            shared,
            addr,
            admin_token,
            _dir: dir,
        };
        server.write_kubeconfig(&server.kubeconfig_path, None)?;
        Ok(server)
    }
}
