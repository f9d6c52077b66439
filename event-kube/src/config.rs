//! Client configuration from a kubeconfig file, with loopback clusters
//! reached directly, never through a proxy.
//!
//! kube reads `HTTPS_PROXY` into [`kube::Config::proxy_url`]. Without its
//! `http-proxy` feature it then refuses to build a client at all; with it,
//! it sends even loopback traffic to the proxy. kubectl does neither for a
//! cluster on `127.0.0.1` (a kind or k3d cluster, a local API double), and
//! neither do the functions here: they load a kubeconfig through kube's own
//! config loading and apply [`skip_proxy_for_loopback`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("event-kube-config-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("kubeconfig");
//! # std::fs::write(&path, r#"{"apiVersion": "v1", "kind": "Config", "current-context": "local",
//! #   "clusters": [{"name": "local", "cluster": {"server": "https://127.0.0.1:6443"}}],
//! #   "users": [{"name": "local", "user": {"token": "t0k3n"}}],
//! #   "contexts": [{"name": "local", "context": {"cluster": "local", "user": "local"}}]}"#)?;
//! use event_kube::KubeSink;
//!
//! let config = event_kube::config::load_kubeconfig(&path).await?;
//! assert!(config.proxy_url.is_none());
//! let client = kube::Client::try_from(config)?; // for reading and writing objects
//! let sink = KubeSink::from_kubeconfig(&path).await?; // for the Recorder
//! # let _ = (client, sink);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};

/// Why a configuration or a client could not be made from a kubeconfig.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use event_kube::config::{ConfigError, load_kubeconfig};
///
/// let missing = load_kubeconfig(std::path::Path::new("/nonexistent/kubeconfig")).await;
/// assert!(matches!(missing, Err(ConfigError::Kubeconfig(_))));
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// kube could not read the kubeconfig or rejected it (missing file,
    /// no current context, bad cluster URL, ...).
    Kubeconfig(KubeconfigError),
    /// The configuration loaded, but kube could not build a client from it
    /// (for example its TLS settings).
    Client(kube::Error),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Kubeconfig(e) => write!(f, "kubeconfig could not be loaded: {e}"),
            ConfigError::Client(e) => write!(f, "kube client could not be built: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Kubeconfig(e) => Some(e),
            ConfigError::Client(e) => Some(e),
        }
    }
}

impl From<KubeconfigError> for ConfigError {
    fn from(e: KubeconfigError) -> ConfigError {
        ConfigError::Kubeconfig(e)
    }
}

/// The [`kube::Config`] of a kubeconfig's current context, through kube's
/// own config loading, with [`skip_proxy_for_loopback`] applied.
///
/// # Errors
///
/// [`ConfigError::Kubeconfig`] when kube rejects the kubeconfig.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kube::config::Kubeconfig;
///
/// let kubeconfig = Kubeconfig::from_yaml(r#"
/// apiVersion: v1
/// kind: Config
/// current-context: local
/// clusters: [{name: local, cluster: {server: "https://127.0.0.1:6443"}}]
/// users: [{name: local, user: {token: t0k3n}}]
/// contexts: [{name: local, context: {cluster: local, user: local, namespace: shop}}]
/// "#)?;
/// let config = event_kube::config::config_from_kubeconfig(kubeconfig).await?;
/// assert_eq!(config.cluster_url.host(), Some("127.0.0.1"));
/// assert_eq!(config.default_namespace, "shop");
/// # Ok(()) }
/// ```
pub async fn config_from_kubeconfig(kubeconfig: Kubeconfig) -> Result<kube::Config, ConfigError> {
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default()).await?;
    skip_proxy_for_loopback(&mut config);
    Ok(config)
}

/// [`config_from_kubeconfig`] for the kubeconfig file at `path`.
///
/// # Errors
///
/// [`ConfigError::Kubeconfig`] when the file cannot be read or kube
/// rejects it.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let result = event_kube::config::load_kubeconfig(std::path::Path::new("/nonexistent")).await;
/// assert!(result.unwrap_err().to_string().contains("/nonexistent"));
/// # }
/// ```
pub async fn load_kubeconfig(path: &Path) -> Result<kube::Config, ConfigError> {
    config_from_kubeconfig(Kubeconfig::read_from(path)?).await
}

/// A [`kube::Client`] for the kubeconfig file at `path` (see
/// [`load_kubeconfig`]). Must be called within a Tokio runtime.
///
/// # Errors
///
/// [`ConfigError::Kubeconfig`] as [`load_kubeconfig`];
/// [`ConfigError::Client`] when kube cannot build the client.
///
/// # Example
///
/// ```no_run
/// # async fn run() -> Result<(), event_kube::config::ConfigError> {
/// let client = event_kube::config::client_from_kubeconfig("kind.yaml".as_ref()).await?;
/// # let _ = client;
/// # Ok(()) }
/// ```
pub async fn client_from_kubeconfig(path: &Path) -> Result<kube::Client, ConfigError> {
    let config = load_kubeconfig(path).await?;
    kube::Client::try_from(config).map_err(ConfigError::Client)
}

/// Clears the proxy of a configuration whose cluster is on the loopback
/// interface (`127.0.0.0/8`, `::1`, `localhost`), as kubectl does.
///
/// # Example
///
/// ```
/// use event_kube::config::skip_proxy_for_loopback;
///
/// let mut config = kube::Config::new("https://127.0.0.1:6443".parse().unwrap());
/// config.proxy_url = Some("http://proxy.example:3128".parse().unwrap());
/// skip_proxy_for_loopback(&mut config);
/// assert!(config.proxy_url.is_none());
///
/// let mut remote = kube::Config::new("https://k8s.example:6443".parse().unwrap());
/// remote.proxy_url = Some("http://proxy.example:3128".parse().unwrap());
/// skip_proxy_for_loopback(&mut remote);
/// assert!(remote.proxy_url.is_some());
/// ```
pub fn skip_proxy_for_loopback(config: &mut kube::Config) {
    let host = config
        .cluster_url
        .host()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        config.proxy_url = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> kube::Config {
        let mut c = kube::Config::new(url.parse().unwrap());
        c.proxy_url = Some("http://proxy.example:3128".parse().unwrap());
        c
    }

    #[test]
    fn loopback_hosts_skip_the_proxy() {
        for url in [
            "https://127.0.0.1:6443",
            "https://127.3.4.5",
            "https://[::1]:6443",
            "https://LOCALHOST:8443",
        ] {
            let mut c = config(url);
            skip_proxy_for_loopback(&mut c);
            assert!(c.proxy_url.is_none(), "{url}");
        }
        for url in ["https://10.0.0.1:6443", "https://localhost.example"] {
            let mut c = config(url);
            skip_proxy_for_loopback(&mut c);
            assert!(c.proxy_url.is_some(), "{url}");
        }
    }
}
