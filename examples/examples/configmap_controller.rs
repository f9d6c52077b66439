//! A ConfigMap controller (`kube::runtime::Controller`: a watcher and a
//! reflector) that reports every reconcile as an Event: Normal `Reconciled`
//! when the ConfigMap is valid, Warning `ReconcileFailed` with the error when
//! it is not. The logic is in `examples/src/configmap_controller.rs`.
//!
//! ```text
//! cargo run -p examples --example configmap_controller                       # local API double
//! cargo run -p examples --example configmap_controller -- --kubeconfig PATH  # a real cluster
//! ```
//!
//! Against the double it creates three ConfigMaps (one invalid), repairs the
//! invalid one after two seconds, and stops after `--seconds` (default 5).
//! Against a cluster it watches the labelled ConfigMaps of `--namespace`
//! (default `default`) until Ctrl-C or `--seconds`; label one with
//!
//! ```text
//! kubectl create configmap demo --from-literal=replicas=3
//! kubectl label configmap demo example.com/configmap-controller=enabled
//! ```
//!
//! It needs RBAC to list and watch ConfigMaps and to create, patch and get
//! `events.k8s.io` events (see `examples/rbac.yaml`); it checks the latter
//! at startup and logs what is missing. It serves the Recorder's metrics at
//! `http://127.0.0.1:PORT/metrics` (`--metrics-port PORT`, default any
//! free port, printed at startup).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use event_core::Recorder;
use event_kube::{KubeSink, event_record};
use event_testing::describe_records;
use examples::configmap_controller::{CONTROLLER, managed_configmap, run};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube_apiserver_double::ApiServer;
use prometheus_client::registry::Registry;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const DOUBLE_NAMESPACE: &str = "shop";

struct Args {
    kubeconfig: Option<PathBuf>,
    namespace: Option<String>,
    seconds: Option<u64>,
    metrics_port: u16,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        kubeconfig: None,
        namespace: None,
        seconds: None,
        metrics_port: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--kubeconfig" => {
                args.kubeconfig = Some(it.next().ok_or("--kubeconfig needs a path")?.into());
            }
            "--namespace" | "-n" => {
                args.namespace = Some(it.next().ok_or("--namespace needs a name")?);
            }
            "--seconds" => {
                let s = it.next().ok_or("--seconds needs a number")?;
                args.seconds = Some(s.parse().map_err(|e| format!("--seconds {s:?}: {e}"))?);
            }
            "--metrics-port" => {
                let p = it.next().ok_or("--metrics-port needs a number")?;
                args.metrics_port = p
                    .parse()
                    .map_err(|e| format!("--metrics-port {p:?}: {e}"))?;
            }
            "-h" | "--help" => {
                println!(
                    "usage: configmap_controller [--kubeconfig PATH] [--namespace NS] [--seconds N] [--metrics-port PORT]\n\n\
                     Without --kubeconfig, starts a local Kubernetes API double with three ConfigMaps\n\
                     and stops after N seconds (default 5). With --kubeconfig, watches the ConfigMaps\n\
                     labelled example.com/configmap-controller=enabled in NS (default `default`)\n\
                     until Ctrl-C, or N seconds when given."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(args)
}

async fn load_config(path: &std::path::Path) -> Result<kube::Config, BoxError> {
    // A loopback cluster (the double, kind, k3d) is reached directly, as
    // kubectl does, whatever HTTPS_PROXY says.
    Ok(event_kube::config::load_kubeconfig(path).await?)
}

/// Creates the demo ConfigMaps on the double, and repairs the invalid one a
/// little later so that the watch sees a change.
async fn seed_double(server: &ApiServer, client: kube::Client) -> Result<(), BoxError> {
    server.create_namespace(DOUBLE_NAMESPACE)?;
    let cms: Api<ConfigMap> = Api::namespaced(client, DOUBLE_NAMESPACE);
    for (name, replicas) in [("web", "3"), ("worker", "5"), ("batch", "three")] {
        let cm = managed_configmap(DOUBLE_NAMESPACE, name, &[("replicas", replicas)]);
        cms.create(&PostParams::default(), &cm).await?;
        println!("created ConfigMap {DOUBLE_NAMESPACE}/{name} with replicas={replicas:?}");
    }
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let fix = serde_json::json!({"data": {"replicas": "2"}});
        match cms
            .patch("batch", &PatchParams::default(), &Patch::Merge(&fix))
            .await
        {
            Ok(_) => println!("repaired ConfigMap {DOUBLE_NAMESPACE}/batch: replicas=\"2\""),
            Err(e) => println!("could not repair ConfigMap {DOUBLE_NAMESPACE}/batch: {e}"),
        }
    });
    Ok(())
}

async fn print_events(client: kube::Client, namespace: &str) -> Result<(), BoxError> {
    let events: Api<K8sEvent> = Api::namespaced(client, namespace);
    let mut records: Vec<_> = events
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(event_record)
        .filter(|r| r.reporting_controller == CONTROLLER)
        .collect();
    records
        .sort_by(|a, b| (&a.regarding.name, a.event_time).cmp(&(&b.regarding.name, b.event_time)));
    let now = jiff::Timestamp::now();
    let mut names: Vec<&str> = records.iter().map(|r| r.regarding.name.as_str()).collect();
    names.dedup();
    for name in names {
        let mine: Vec<_> = records
            .iter()
            .filter(|r| r.regarding.name == name)
            .cloned()
            .collect();
        println!("\nConfigMap {namespace}/{name}:");
        print!("{}", describe_records(&mine, now));
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = parse_args()?;
    let server = match &args.kubeconfig {
        Some(_) => None,
        None => Some(ApiServer::start().await?),
    };
    let (config, namespace, seconds) = match (&server, &args.kubeconfig) {
        (Some(server), _) => (
            load_config(server.kubeconfig_path()).await?,
            DOUBLE_NAMESPACE.to_owned(),
            Some(args.seconds.unwrap_or(5)),
        ),
        (None, Some(path)) => (
            load_config(path).await?,
            args.namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned()),
            args.seconds,
        ),
        (None, None) => return Err("no target".into()),
    };

    let sink = KubeSink::from_config(config)?;
    let client = sink.client().clone();
    // Find missing event RBAC now, not at the first lost event (the
    // namespace watched, and `default` for cluster-scoped objects).
    match sink.check_access([namespace.as_str(), "default"]).await {
        Ok(report) if report.is_allowed() => tracing::info!(%report, "event RBAC checked"),
        Ok(report) => tracing::warn!(%report, "events will not all be written"),
        Err(error) => tracing::warn!(%error, "could not check event RBAC"),
    }
    let recorder = Recorder::builder(Arc::new(sink), CONTROLLER).build()?;
    let mut registry = Registry::default();
    recorder.register_metrics(&mut registry);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.metrics_port)).await?;
    println!("metrics at http://{}/metrics", listener.local_addr()?);
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    let metrics = tokio::spawn(examples::metrics::serve(
        listener,
        Arc::new(registry),
        async move {
            let _ = metrics_stopped.await;
        },
    ));
    match &server {
        Some(server) => {
            println!("local Kubernetes API double at {}", server.url());
            seed_double(server, client.clone()).await?;
        }
        None => println!(
            "watching ConfigMaps labelled {} in namespace {namespace}",
            examples::configmap_controller::SELECTOR
        ),
    }
    let stop = async move {
        match seconds {
            Some(s) => {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(s)) => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            None => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    };
    let summary = run(client.clone(), recorder.clone(), Some(&namespace), stop).await;
    let report = recorder.shutdown(Duration::from_secs(10)).await;
    let _ = stop_metrics.send(());
    let _ = metrics.await;
    println!(
        "\nstopped: {} reconciles succeeded, {} failed; {} events published with {} API writes",
        summary.reconciled,
        summary.failed,
        report.stats.published,
        report.stats.writes()
    );
    if !report.is_complete() {
        println!(
            "{} events could not be written before shutdown",
            report.unwritten.len()
        );
    }
    print_events(client, &namespace).await?;
    Ok(())
}
