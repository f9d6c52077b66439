//! The end-to-end suite: what the kube-events crates write, checked through
//! the Kubernetes API and the real `kubectl`, against any cluster given by a
//! kubeconfig or, by default, the local API double
//! ([`kube_apiserver_double::ApiServer`]) started in-process.
//!
//! ```text
//! cargo xtask e2e                      # against the local API double
//! cargo xtask e2e --kubeconfig PATH    # against a cluster (kind, k3d, minikube, ...)
//! cargo xtask e2e --transport core     # core/v1 only (events, core, auto or both)
//! ```
//!
//! The scenarios run once per transport: through `events.k8s.io/v1`
//! ([`event_kube::KubeSink`]) and through core/v1
//! ([`event_kube::CoreV1Sink`]) by default (`--transport both`), each run
//! in a namespace (and, on the double, a server) of its own. A scenario's
//! line names its transport: `PASS series-1000-repeats [core/v1]: ...`.
//! `--transport auto` asks the target's discovery, as
//! [`event_kube::ApiSink::select`] does.
//!
//! Every scenario prints `PASS name: figure`, `FAIL name: why` or
//! `SKIP name: why`, and the run ends with `N passed, M failed` (and
//! `, K skipped` when any). The stack under test is the one a controller
//! uses: the transport's sink built from the `kube::Config`, under
//! [`event_core::Recorder`], with a thin wrapper that counts the sink's
//! calls so that the figures are the same on a cluster and on the double.
//!
//! On a cluster the suite works in a namespace of its own
//! (`events-e2e-<random>`), deletes it at the end together with the events
//! it wrote about cluster-scoped objects in `default`. It needs to create
//! namespaces, ConfigMaps, ServiceAccounts, Roles and RoleBindings, to
//! create, patch, list, watch and delete events, to list Nodes, and to impersonate
//! a ServiceAccount (the scenario about missing `patch` rights is skipped
//! without that).
//!
//! ```no_run
//! # #[tokio::main] async fn main() {
//! let summary = e2e::run(e2e::Options::default()).await;
//! println!("{}", summary.line());
//! std::process::exit(if summary.is_success() { 0 } else { 1 });
//! # }
//! ```

mod counting;
mod kubectl;
mod report;
mod scenarios;
mod suite;

use std::path::PathBuf;

use event_kube::Transport;

pub use report::Summary;

/// What to run against.
///
/// # Example
///
/// ```
/// let opts = e2e::Options::parse(["--kubeconfig", "kind.kubeconfig"])?;
/// assert_eq!(opts.kubeconfig.unwrap().to_str(), Some("kind.kubeconfig"));
/// assert!(e2e::Options::parse(Vec::<String>::new())?.kubeconfig.is_none());
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The cluster's kubeconfig (its current context); `None` starts the
    /// local API double.
    pub kubeconfig: Option<PathBuf>,
    /// The transports the scenarios run through, in order (default: both,
    /// `events.k8s.io/v1` then core/v1).
    pub transports: Vec<Transport>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            transports: BOTH.to_vec(),
        }
    }
}

/// Both transports, in the order the suite runs them.
const BOTH: [Transport; 2] = [Transport::EventsV1, Transport::CoreV1];

/// Usage text of the `e2e` program.
///
/// # Example
///
/// ```
/// assert!(e2e::USAGE.starts_with("usage: e2e [--kubeconfig PATH]"));
/// assert_eq!(e2e::Options::parse(["--help"]), Err(e2e::USAGE.to_owned()));
/// ```
pub const USAGE: &str = "usage: e2e [--kubeconfig PATH] [--transport events|core|auto|both]

Runs the end-to-end scenarios against the cluster of PATH (its current
context), or against a local Kubernetes API double when no kubeconfig is
given, once per transport: events.k8s.io/v1 (events), core/v1 (core), the
one discovery picks (auto), or events then core (both, the default).
Exits non-zero when a scenario fails.
";

impl Options {
    /// Reads the command-line arguments (without the program name).
    ///
    /// # Errors
    ///
    /// A message for an unknown argument or a missing value; `--help`
    /// returns [`USAGE`] as the error.
    ///
    /// # Example
    ///
    /// ```
    /// use e2e::Options;
    ///
    /// let opts = Options::parse(["--kubeconfig", "kind.yaml"])?;
    /// assert_eq!(opts.kubeconfig.as_deref(), Some(std::path::Path::new("kind.yaml")));
    /// assert_eq!(Options::parse(Vec::<String>::new())?, Options::default());
    ///
    /// use event_kube::Transport;
    /// assert_eq!(Options::parse(["--transport", "core"])?.transports, [Transport::CoreV1]);
    /// assert_eq!(Options::default().transports, [Transport::EventsV1, Transport::CoreV1]);
    ///
    /// let err = Options::parse(["--kubeconfig"]).unwrap_err();
    /// assert_eq!(err, "--kubeconfig needs a path");
    /// assert!(Options::parse(["--verbose"]).unwrap_err().starts_with("unknown argument `--verbose`"));
    /// # Ok::<(), String>(())
    /// ```
    pub fn parse<I, S>(args: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut opts = Self::default();
        let mut it = args.into_iter().map(Into::into);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--kubeconfig" => {
                    let path = it.next().ok_or("--kubeconfig needs a path")?;
                    opts.kubeconfig = Some(path.into());
                }
                "--transport" => {
                    let value = it
                        .next()
                        .ok_or("--transport needs events, core, auto or both")?;
                    opts.transports = if value == "both" {
                        BOTH.to_vec()
                    } else {
                        vec![value.parse::<Transport>()?]
                    };
                }
                "-h" | "--help" => return Err(USAGE.to_owned()),
                other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
            }
        }
        Ok(opts)
    }
}

/// Runs every scenario in order, printing one line per scenario and
/// returning the totals. A failure to reach the target is reported as a
/// failed `setup` step.
///
/// # Example
///
/// ```no_run
/// # #[tokio::main] async fn main() {
/// let summary = e2e::run(e2e::Options::default()).await;
/// assert!(summary.is_success(), "{}", summary.lines.join("\n"));
/// # }
/// ```
pub async fn run(opts: Options) -> Summary {
    let mut summary = Summary::default();
    for &transport in &opts.transports {
        let suite = match suite::Suite::start(&opts, transport).await {
            Ok(suite) => suite,
            Err(why) => {
                summary.record(&format!("setup [{transport}]"), report::Outcome::Fail(why));
                continue;
            }
        };
        println!("target: {}", suite.describe());
        for scenario in scenarios::ALL {
            let outcome = scenarios::run_one(&suite, scenario).await;
            summary.record(&format!("{} [{}]", scenario.name, suite.transport), outcome);
        }
        if let Err(why) = suite.cleanup().await {
            println!("cleanup: {why}");
        }
    }
    summary
}
