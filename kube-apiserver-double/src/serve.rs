//! Running the server standalone until interrupted.

use std::path::PathBuf;
use std::time::Duration;

use super::{ApiServer, ApiServerError, DEFAULT_EVENT_TTL};

/// Settings for [`serve_until_ctrl_c`].
///
/// ```
/// use kube_apiserver_double::ServeOptions;
///
/// let opts = ServeOptions {
///     kubeconfig: Some("events.kubeconfig".into()),
///     ..ServeOptions::default()
/// };
/// assert_eq!(opts.port, 0);
/// ```
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where to write the kubeconfig (besides the server's own temporary
    /// copy). It is left in place when the server stops.
    pub kubeconfig: Option<PathBuf>,
    /// Port on `127.0.0.1` (0: any free port).
    pub port: u16,
    /// Serve plain HTTP instead of HTTPS.
    pub plain_http: bool,
    /// Event TTL.
    pub event_ttl: Duration,
    /// Fixed admin token (default: random).
    pub admin_token: Option<String>,
    /// Pods to create at start, as `namespace/name`.
    pub pods: Vec<String>,
    /// Nodes to create at start.
    pub nodes: Vec<String>,
    /// Whether `events.k8s.io` is served (see
    /// [`ApiServerBuilder::serve_events_group`](crate::ApiServerBuilder::serve_events_group)).
    pub serve_events_group: bool,
}

impl Default for ServeOptions {
    fn default() -> ServeOptions {
        ServeOptions {
            kubeconfig: None,
            port: 0,
            plain_http: false,
            event_ttl: DEFAULT_EVENT_TTL,
            admin_token: None,
            pods: Vec::new(),
            nodes: Vec::new(),
            serve_events_group: true,
        }
    }
}

/// Starts an [`ApiServer`], prints where it listens and how to use it, and
/// serves until Ctrl-C.
///
/// # Errors
///
/// As [`serve_until`], plus [`ApiServerError::Io`] when the signal handler
/// cannot be installed.
///
/// # Example
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), kube_apiserver_double::ApiServerError> {
/// use kube_apiserver_double::{ServeOptions, serve_until_ctrl_c};
///
/// serve_until_ctrl_c(ServeOptions { kubeconfig: Some("kubeconfig".into()), ..Default::default() }).await
/// # }
/// ```
pub async fn serve_until_ctrl_c(opts: ServeOptions) -> Result<(), ApiServerError> {
    let mut failure = None;
    serve_until(opts, async {
        println!("press Ctrl-C to stop");
        if let Err(e) = tokio::signal::ctrl_c().await {
            failure = Some(e);
        }
    })
    .await?;
    match failure {
        Some(e) => Err(ApiServerError::Io(e)),
        None => Ok(()),
    }
}

/// Starts an [`ApiServer`], writes its kubeconfig, prints where it listens
/// and how to use it, and serves until `shutdown` completes.
///
/// # Errors
///
/// As [`ApiServerBuilder::start`](super::ApiServerBuilder::start), plus
/// [`ApiServerError::Io`] when the kubeconfig cannot be written and
/// [`ApiServerError::Rejected`] for a bad pod or node name.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), kube_apiserver_double::ApiServerError> {
/// use kube_apiserver_double::{ServeOptions, serve_until};
///
/// // Stops at once; a real caller waits for a signal or a channel.
/// serve_until(ServeOptions::default(), async {}).await
/// # }
/// ```
pub async fn serve_until(
    opts: ServeOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ApiServerError> {
    let mut builder = ApiServer::builder()
        .port(opts.port)
        .event_ttl(opts.event_ttl)
        .serve_events_group(opts.serve_events_group);
    if opts.plain_http {
        builder = builder.plain_http();
    }
    if let Some(token) = opts.admin_token {
        builder = builder.admin_token(token);
    }
    let server = builder.start().await?;
    for pod in &opts.pods {
        let (ns, name) = pod.split_once('/').unwrap_or(("default", pod.as_str()));
        server.create_pod(ns, name)?;
    }
    for node in &opts.nodes {
        server.create_node(node)?;
    }
    let path = match &opts.kubeconfig {
        Some(p) => {
            server.write_kubeconfig(p, None)?;
            p.clone()
        }
        None => server.kubeconfig_path().to_path_buf(),
    };
    println!("Kubernetes API double listening on {}", server.url());
    println!("kubeconfig: {}", path.display());
    println!("try: kubectl --kubeconfig {} get events -A", path.display());
    shutdown.await;
    println!("stopping; {} requests served", server.requests().total());
    Ok(())
}
