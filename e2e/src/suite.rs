//! The target (a cluster or the local API double), the objects the
//! scenarios report on, and what to clean up afterwards.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use event_core::sink::EventSink;

use event_core::{Recorder, RecorderBuilder};
use event_kube::{ApiSink, CoreV1Sink, KubeSink, Transport};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::config::Kubeconfig;
use kube_apiserver_double::{ApiServer, Permissions};

use crate::Options;
use crate::counting::{CountingSink, counting, created};

/// The reporting controller of the suite's own events.
pub(crate) const CONTROLLER: &str = "example.com/events-e2e";

/// On the double: a token that may do everything but patch events.
pub(crate) const NO_PATCH_TOKEN: &str = "e2e-no-patch";
/// On the double: the user name of [`NO_PATCH_TOKEN`].
pub(crate) const NO_PATCH_USER: &str = "system:serviceaccount:events-e2e:event-creator";

/// Name of the ConfigMap every target gets.
pub(crate) const CONFIGMAP: &str = "settings";
/// Name of the Pod the double gets.
pub(crate) const POD: &str = "web-0";
/// Name of the Node the double gets.
pub(crate) const NODE: &str = "e2e-worker-1";

/// Errors in scenarios are plain text.
pub(crate) type Res<T> = Result<T, String>;

/// Adds context to any displayable error.
pub(crate) trait Context<T> {
    fn ctx(self, what: &str) -> Res<T>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: &str) -> Res<T> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Everything the scenarios share.
pub(crate) struct Suite {
    /// The local API double, when it is the target.
    pub(crate) server: Option<ApiServer>,
    pub(crate) kubeconfig: PathBuf,
    pub(crate) config: kube::Config,
    pub(crate) client: kube::Client,
    /// The API the scenarios' events go through (never `Auto`: resolved
    /// from discovery at the start).
    pub(crate) transport: Transport,
    /// The suite's own namespace.
    pub(crate) namespace: String,
    pub(crate) configmap: ConfigMap,
    pub(crate) pod: Option<Pod>,
    pub(crate) node: Option<Node>,
    /// Events written outside the suite's namespace: (namespace, name).
    outside: Mutex<Vec<(String, String)>>,
}

pub(crate) async fn load_config(path: &std::path::Path) -> Res<kube::Config> {
    config_from(Kubeconfig::read_from(path).ctx("reading the kubeconfig")?).await
}

/// The configuration of a kubeconfig's current context; a loopback server
/// is reached without a proxy.
pub(crate) async fn config_from(kubeconfig: Kubeconfig) -> Res<kube::Config> {
    event_kube::config::config_from_kubeconfig(kubeconfig)
        .await
        .ctx("loading the kubeconfig")
}

pub(crate) fn random_suffix() -> String {
    format!("{:08x}", fastrand::u32(..))
}

impl Suite {
    pub(crate) async fn start(opts: &Options, transport: Transport) -> Res<Self> {
        let (server, kubeconfig) = match &opts.kubeconfig {
            Some(path) => (None, path.clone()),
            None => {
                let server = ApiServer::builder()
                    .user_token(
                        NO_PATCH_TOKEN,
                        NO_PATCH_USER,
                        Permissions::all().deny("events", "patch"),
                    )
                    .start()
                    .await
                    .ctx("starting the local API double")?;
                let path = server.kubeconfig_path().to_path_buf();
                (Some(server), path)
            }
        };
        let config = load_config(&kubeconfig).await?;
        let client = kube::Client::try_from(config.clone()).ctx("building the client")?;
        let transport = match transport {
            Transport::Auto => {
                let sink = KubeSink::from_config(config.clone()).ctx("building the KubeSink")?;
                ApiSink::select(sink, Transport::Auto).await.transport()
            }
            fixed => fixed,
        };
        let namespace = format!("events-e2e-{}", random_suffix());
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .ctx("creating the test namespace")?;
        let configmap = create_configmap(&client, &namespace, CONFIGMAP, &[("mode", "fast")])
            .await
            .ctx("creating the test ConfigMap")?;
        let (pod, node) = match &server {
            Some(server) => (
                Some(
                    server
                        .create_pod(&namespace, POD)
                        .ctx("creating the test Pod")?,
                ),
                Some(server.create_node(NODE).ctx("creating the test Node")?),
            ),
            None => {
                let nodes = Api::<Node>::all(client.clone())
                    .list(&ListParams::default().limit(1))
                    .await
                    .ctx("listing nodes")?;
                (None, nodes.items.into_iter().next())
            }
        };
        Ok(Self {
            server,
            kubeconfig,
            config,
            client,
            transport,
            namespace,
            configmap,
            pod,
            node,
            outside: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn describe(&self) -> String {
        match &self.server {
            Some(s) => format!(
                "local Kubernetes API double at {} (namespace {}, events through {})",
                s.url(),
                self.namespace,
                self.transport
            ),
            None => format!(
                "cluster of {} (namespace {}, events through {})",
                self.kubeconfig.display(),
                self.namespace,
                self.transport
            ),
        }
    }

    /// The sink of the suite's transport over `config`.
    pub(crate) fn sink(&self, config: kube::Config) -> Res<Arc<dyn EventSink>> {
        Ok(match self.transport {
            Transport::CoreV1 => {
                Arc::new(CoreV1Sink::from_config(config).ctx("building the CoreV1Sink")?)
            }
            Transport::EventsV1 | Transport::Auto => {
                Arc::new(KubeSink::from_config(config).ctx("building the KubeSink")?)
            }
        })
    }

    /// The path events of the suite's namespace are written to, through the
    /// suite's transport.
    pub(crate) fn events_path(&self) -> String {
        match self.transport {
            Transport::CoreV1 => format!("/api/v1/namespaces/{}/events", self.namespace),
            Transport::EventsV1 | Transport::Auto => {
                format!(
                    "/apis/events.k8s.io/v1/namespaces/{}/events",
                    self.namespace
                )
            }
        }
    }

    /// The RBAC group of the events the suite writes (`""` for core/v1).
    pub(crate) fn events_group(&self) -> &'static str {
        match self.transport {
            Transport::CoreV1 => "",
            Transport::EventsV1 | Transport::Auto => "events.k8s.io",
        }
    }

    /// The RBAC rule a `Forbidden` from the suite's sink names.
    pub(crate) fn rbac_hint(&self) -> &'static str {
        match self.transport {
            Transport::CoreV1 => event_kube::CORE_RBAC_HINT,
            Transport::EventsV1 | Transport::Auto => event_kube::RBAC_HINT,
        }
    }

    /// Our stack over `config`: the transport's sink under the counting
    /// wrapper under a Recorder set up by `tune`.
    pub(crate) fn stack(
        &self,
        config: kube::Config,
        controller: &str,
        tune: impl FnOnce(RecorderBuilder) -> RecorderBuilder,
    ) -> Res<(Recorder, Arc<CountingSink>)> {
        let counting = counting(self.sink(config)?);
        let recorder = tune(Recorder::builder(counting.clone(), controller))
            .build()
            .ctx("building the Recorder")?;
        Ok((recorder, counting))
    }

    /// Remembers the events a sink created outside the suite's namespace.
    pub(crate) fn track(&self, sink: &CountingSink) {
        let mut outside = self
            .outside
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for record in created(sink) {
            if record.namespace != self.namespace {
                outside.push((record.namespace, record.name));
            }
        }
    }

    pub(crate) fn events(&self, namespace: &str) -> Api<K8sEvent> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// On a cluster: deletes the namespace and the events written outside it.
    pub(crate) async fn cleanup(&self) -> Res<()> {
        if self.server.is_some() {
            return Ok(());
        }
        let outside = std::mem::take(
            &mut *self
                .outside
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut problems = Vec::new();
        for (ns, name) in outside {
            if let Err(e) = self
                .events(&ns)
                .delete(&name, &DeleteParams::default())
                .await
            {
                problems.push(format!("event {ns}/{name}: {e}"));
            }
        }
        if let Err(e) = Api::<Namespace>::all(self.client.clone())
            .delete(&self.namespace, &DeleteParams::default())
            .await
        {
            problems.push(format!("namespace {}: {e}", self.namespace));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("could not delete {}", problems.join("; ")))
        }
    }
}

pub(crate) async fn create_configmap(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    data: &[(&str, &str)],
) -> Result<ConfigMap, kube::Error> {
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            ..ObjectMeta::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ),
        ..ConfigMap::default()
    };
    Api::<ConfigMap>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &cm)
        .await
}

/// Fails with `why` unless `cond`.
pub(crate) fn ensure(cond: bool, why: impl FnOnce() -> String) -> Res<()> {
    if cond { Ok(()) } else { Err(why()) }
}
