//! Loopback servers are reached directly, never through a proxy.

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
