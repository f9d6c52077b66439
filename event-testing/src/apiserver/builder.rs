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
    ADMIN_USER, ApiServer, ApiServerError, DEFAULT_EVENT_TTL, INITIAL_NAMESPACES, kubeconfig,
    objects, tls,
};

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
            objects::create_object(
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
