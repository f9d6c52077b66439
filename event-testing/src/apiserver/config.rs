//! Client configuration from a kubeconfig; loopback servers are reached
//! directly, never through a proxy.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::ApiServerError;

/// The `kube::Config` of a kubeconfig's current context, through kube's own
/// config loading, with [`skip_proxy_for_loopback`] applied.
///
/// # Errors
///
/// [`ApiServerError::Kubeconfig`] when kube rejects the kubeconfig.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use event_testing::apiserver::{ApiServer, config_from_kubeconfig};
///
/// let server = ApiServer::start().await?;
/// let kubeconfig = kube::config::Kubeconfig::from_yaml(&server.kubeconfig(None))?;
/// let config = config_from_kubeconfig(kubeconfig).await?;
/// assert_eq!(config.cluster_url.host(), Some("127.0.0.1"));
/// # Ok(()) }
/// ```
pub async fn config_from_kubeconfig(
    kubeconfig: Kubeconfig,
) -> Result<kube::Config, ApiServerError> {
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| ApiServerError::Kubeconfig(e.to_string()))?;
    skip_proxy_for_loopback(&mut config);
    Ok(config)
}

/// [`config_from_kubeconfig`] for the kubeconfig file at `path`.
///
/// # Errors
///
/// [`ApiServerError::Kubeconfig`] when the file cannot be read or kube
/// rejects it.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use event_testing::apiserver::{ApiServer, load_kubeconfig};
///
/// let server = ApiServer::start().await?;
/// let config = load_kubeconfig(server.kubeconfig_path()).await?;
/// assert!(config.proxy_url.is_none());
/// # Ok(()) }
/// ```
pub async fn load_kubeconfig(path: &Path) -> Result<kube::Config, ApiServerError> {
    let kubeconfig =
        Kubeconfig::read_from(path).map_err(|e| ApiServerError::Kubeconfig(e.to_string()))?;
    config_from_kubeconfig(kubeconfig).await
}

/// Clears the proxy of a configuration whose cluster is on the loopback
/// interface (`127.0.0.0/8`, `::1`, `localhost`), as kubectl does.
///
/// kube reads `HTTPS_PROXY` into `Config::proxy_url` and, without its
/// `http-proxy` feature, refuses to build a client at all; with it, it would
/// send loopback traffic to the proxy. Neither is wanted for the local API
/// double, or for a kind or k3d cluster published on 127.0.0.1.
///
/// # Example
///
/// ```
/// use event_testing::apiserver::skip_proxy_for_loopback;
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
