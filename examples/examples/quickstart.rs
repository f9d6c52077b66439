//! Quickstart: a small controller loop publishing events, a flood among
//! them, and what `kubectl describe` shows afterwards.
//!
//! ```text
//! cargo run -p examples --example quickstart                      # local API double
//! cargo run -p examples --example quickstart -- --serve           # ... and keep serving for kubectl
//! cargo run -p examples --example quickstart -- --kubeconfig PATH # a real cluster
//! ```
//!
//! Against a real cluster it publishes events about a ConfigMap it creates
//! in the `default` namespace and about the first Node; it needs RBAC to
//! create ConfigMaps and to create, patch and get `events.k8s.io` events;
//! it checks the latter at startup (`RUST_LOG=info` shows the result).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use event_core::{Event, ObjectRef, Recorder};
use event_kube::{EventRefExt, KubeSink, event_record};
use event_testing::describe_records;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::{Api, ListParams, PostParams};
use kube_apiserver_double::ApiServer;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CONTROLLER: &str = "example.com/quickstart";
const FLOOD: u32 = 1_000;

struct Args {
    kubeconfig: Option<PathBuf>,
    serve: bool,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        kubeconfig: None,
        serve: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--kubeconfig" => {
                let path = it.next().ok_or("--kubeconfig needs a path")?;
                args.kubeconfig = Some(path.into());
            }
            "--serve" => args.serve = true,
            "-h" | "--help" => {
                println!(
                    "usage: quickstart [--kubeconfig PATH] [--serve]\n\n\
                     Without --kubeconfig, starts a local Kubernetes API double.\n\
                     --serve keeps the double running for kubectl until Ctrl-C."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}` (try --help)").into()),
        }
    }
    Ok(args)
}

/// Where events go: the local double (kept alive here) or a real cluster.
struct Target {
    server: Option<ApiServer>,
    kubeconfig: PathBuf,
    config: kube::Config,
}

async fn target(args: &Args) -> Result<Target, BoxError> {
    let (server, kubeconfig) = match &args.kubeconfig {
        Some(path) => (None, path.clone()),
        None => {
            let server = ApiServer::start().await?;
            let path = server.kubeconfig_path().to_path_buf();
            (Some(server), path)
        }
    };
    // A loopback cluster (the double, kind, k3d) is reached directly, as
    // kubectl does, whatever HTTPS_PROXY says.
    let config = event_kube::config::load_kubeconfig(&kubeconfig).await?;
    Ok(Target {
        server,
        kubeconfig,
        config,
    })
}

/// The objects the controller reports on.
struct Objects {
    configmap: ObjectRef,
    node: Option<ObjectRef>,
    pod: Option<ObjectRef>,
}

async fn objects(target: &Target, client: &kube::Client) -> Result<Objects, BoxError> {
    if let Some(server) = &target.server {
        let configmap = server.create_configmap("quickstart", "settings", &[("mode", "fast")])?;
        let pod = server.create_pod("quickstart", "web-0")?;
        let node = server.create_node("worker-1")?;
        return Ok(Objects {
            configmap: configmap.event_ref(),
            pod: Some(pod.event_ref()),
            node: Some(node.event_ref()),
        });
    }
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let name = format!("events-quickstart-{:04x}", fastrand_u16());
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name);
    let cm = configmaps.create(&PostParams::default(), &cm).await?;
    let nodes: Api<Node> = Api::all(client.clone());
    let node = nodes
        .list(&ListParams::default().limit(1))
        .await
        .ok()
        .and_then(|l| l.items.into_iter().next());
    Ok(Objects {
        configmap: cm.event_ref(),
        pod: None,
        node: node.map(|n| n.event_ref()),
    })
}

fn fastrand_u16() -> u16 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (nanos ^ std::process::id()) as u16
}

/// One pass of the "controller": what a reconcile loop would report.
async fn reconcile_all(recorder: &Recorder, objs: &Objects) -> Result<u32, BoxError> {
    let mut occurrences = 0;
    recorder
        .publish(
            &Event::normal("Synced", "Reconciling").note("settings applied: mode=fast"),
            &objs.configmap,
        )
        .await?;
    occurrences += 1;
    if let Some(node) = &objs.node {
        recorder
            .publish(
                &Event::normal("NodeChecked", "Inspecting").note("kubelet ready"),
                node,
            )
            .await?;
        occurrences += 1;
    }
    // A crash loop: the same Warning again and again.
    let crashing = objs.pod.as_ref().unwrap_or(&objs.configmap);
    let backoff = Event::warning("BackOff", "Starting")
        .note("Back-off restarting failed container app: exit code 1");
    for _ in 0..FLOOD {
        recorder.publish(&backoff, crashing).await?;
        occurrences += 1;
    }
    // Bad input is refused before anything is sent.
    let invalid = Event::warning("R".repeat(200), "Reconciling");
    if let Err(e) = recorder.publish(&invalid, &objs.configmap).await {
        println!("refused client-side, nothing sent: {e}");
    }
    Ok(occurrences)
}

async fn print_describe(client: &kube::Client, object: &ObjectRef, namespace: &str) {
    let events: Api<K8sEvent> = Api::namespaced(client.clone(), namespace);
    let listed = match events.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(e) => {
            println!("could not list events: {e}");
            return;
        }
    };
    let records: Vec<_> = listed
        .iter()
        .map(event_record)
        .filter(|r| {
            r.regarding.kind == object.kind
                && r.regarding.name == object.name
                && r.regarding.uid == object.uid
        })
        .collect();
    println!("{} {}:", object.kind, object.name);
    print!("{}", describe_records(&records, jiff::Timestamp::now()));
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let args = parse_args()?;
    let target = target(&args).await?;
    let where_ = match &target.server {
        Some(s) => format!("the local Kubernetes API double at {}", s.url()),
        None => format!("the cluster in {}", target.kubeconfig.display()),
    };
    println!("publishing events to {where_}\n");

    let sink = KubeSink::from_config(target.config.clone())?;
    let client = sink.client().clone();
    // A missing RBAC rule is found now, not at the first lost event.
    let namespaces: &[&str] = match &target.server {
        Some(_) => &["quickstart", "default"],
        None => &["default"],
    };
    match sink.check_access(namespaces).await {
        Ok(report) if report.is_allowed() => tracing::info!(%report, "event RBAC checked"),
        Ok(report) => tracing::warn!(%report, "events will not all be written"),
        Err(error) => tracing::info!(%error, "could not check event RBAC"),
    }
    let recorder = Recorder::builder(Arc::new(sink), CONTROLLER).build()?;
    let objs = objects(&target, &client).await?;

    let occurrences = reconcile_all(&recorder, &objs).await?;
    recorder.flush().await;
    let stats = recorder.stats();

    print_describe(
        &client,
        &objs.configmap,
        objs.configmap.namespace.as_deref().unwrap_or("default"),
    )
    .await;
    if let Some(pod) = &objs.pod {
        print_describe(&client, pod, pod.namespace.as_deref().unwrap_or("default")).await;
    }
    if let Some(node) = &objs.node {
        print_describe(&client, node, "default").await;
    }

    let writes = stats.writes();
    println!(
        "\n{occurrences} occurrences published with {writes} API writes \
         ({} created, {} series patches): {} writes saved compared with one write per occurrence.",
        stats.created,
        stats.patched,
        u64::from(occurrences).saturating_sub(writes),
    );

    let kubeconfig = target.kubeconfig.display();
    let describe = match &objs.pod {
        Some(pod) => format!(
            "describe pod {} -n {}",
            pod.name,
            pod.namespace.as_deref().unwrap_or("default")
        ),
        None => format!("describe configmap {} -n default", objs.configmap.name),
    };
    if target.server.is_some() && args.serve {
        println!("\nThe API double keeps serving. Look with the real kubectl:");
        println!("  kubectl --kubeconfig {kubeconfig} {describe}");
        println!("  kubectl --kubeconfig {kubeconfig} get events -A");
        println!("Press Ctrl-C to stop.");
        tokio::signal::ctrl_c().await?;
    } else if target.server.is_some() {
        println!("\nRun with `-- --serve` to keep the API double running and look with kubectl.");
    } else {
        println!("\nLook with kubectl:\n  kubectl --kubeconfig {kubeconfig} {describe}");
    }
    let report = recorder.shutdown(Duration::from_secs(10)).await;
    if !report.is_complete() {
        println!(
            "{} events could not be written before shutdown",
            report.unwritten.len()
        );
    }
    Ok(())
}
