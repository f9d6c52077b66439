//! The two recorders behind one small trait, with their inputs prepared
//! ahead of time so that only `publish` itself is measured.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use event_core::{ObjectRef, Recorder};
use event_kube::KubeSink;
use k8s_openapi::api::core::v1::ObjectReference;
use kube_runtime::events as kube_events;

/// The reporting controller both recorders use.
pub(crate) const CONTROLLER: &str = "example.com/bench";
/// The reporting instance both recorders use.
pub(crate) const INSTANCE: &str = "bench-0";

/// How to build our recorder for one scenario. Everything not set here is
/// the default a user gets.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Setup {
    /// `max_cached_keys`, when not the default.
    pub(crate) max_cached_keys: Option<usize>,
    /// `queue_capacity`, when not the default.
    pub(crate) queue_capacity: Option<usize>,
}

/// The namespace of the i-th object.
pub(crate) fn namespace(i: usize) -> String {
    format!("team-{:03}", i % 100)
}

/// The name, namespace and uid of the i-th object.
fn object_parts(i: usize) -> (String, String, String) {
    (
        format!("web-{i:06}"),
        namespace(i),
        format!("0f3c6a4e-5d1b-4c2a-9e8f-{i:012}"),
    )
}

/// The reason of the j-th distinct event.
fn reason(j: usize) -> String {
    if j == 0 {
        "BackOff".to_owned()
    } else {
        format!("BackOff{j}")
    }
}

const ACTION: &str = "Starting";
const NOTE: &str = "Back-off restarting failed container";

/// One side of the comparison.
pub(crate) trait Contender: Clone + Send + Sync + 'static {
    /// The label in the table.
    const NAME: &'static str;

    /// What `publish` takes, prepared ahead of time.
    type Inputs: Send + Sync + 'static;

    /// `reasons` distinct events and `objects` objects to publish them about.
    fn inputs(objects: usize, reasons: usize) -> Arc<Self::Inputs>;

    /// A recorder over `client` publishing from `inputs`.
    fn new(client: kube::Client, setup: Setup, inputs: Arc<Self::Inputs>) -> Result<Self, String>;

    /// Publishes event `reason` about object `object`, awaiting any write.
    fn publish(
        &self,
        reason: usize,
        object: usize,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// Publishes every (reason, object) pair without waiting on each, and
    /// returns once everything is written, with the errors seen.
    fn publish_detached(&self, items: &[(usize, usize)]) -> impl Future<Output = u64> + Send;

    /// Writes whatever is still owed (our flush; kube-rs owes nothing).
    fn finish(&self) -> impl Future<Output = ()> + Send;

    /// Keys held in the recorder's cache, where it tells.
    fn cached_keys(&self) -> Option<usize>;

    /// Writes that failed for good without an error returned to a caller
    /// (ours: in the background or in a flush; kube-rs returns every error).
    fn failed_writes(&self) -> u64;
}

/// Our engine over `event_kube::KubeSink`.
#[derive(Clone)]
pub(crate) struct Ours {
    recorder: Recorder,
    inputs: Arc<<Self as Contender>::Inputs>,
}

impl Contender for Ours {
    const NAME: &'static str = "ours";
    type Inputs = (Vec<event_core::Event>, Vec<ObjectRef>);

    fn inputs(objects: usize, reasons: usize) -> Arc<Self::Inputs> {
        let events = (0..reasons)
            .map(|j| event_core::Event::warning(reason(j), ACTION).note(NOTE))
            .collect();
        let objects = (0..objects)
            .map(|i| {
                let (name, namespace, uid) = object_parts(i);
                ObjectRef::new("v1", "Pod", name)
                    .within(namespace)
                    .with_uid(uid)
            })
            .collect();
        Arc::new((events, objects))
    }

    fn new(client: kube::Client, setup: Setup, inputs: Arc<Self::Inputs>) -> Result<Self, String> {
        let reporter = event_core::Reporter::new(CONTROLLER).with_instance(INSTANCE);
        // The engines are compared as engines: kube-rs has no write budget,
        // so ours runs without one too (the README says so).
        let mut builder = Recorder::builder(Arc::new(KubeSink::new(client)), reporter)
            .write_budget(event_core::config::WriteBudget::unlimited());
        if let Some(keys) = setup.max_cached_keys {
            builder = builder.max_cached_keys(keys);
        }
        if let Some(capacity) = setup.queue_capacity {
            builder = builder.queue_capacity(capacity);
        }
        let recorder = builder.build().map_err(|e| e.to_string())?;
        Ok(Self { recorder, inputs })
    }

    async fn publish(&self, reason: usize, object: usize) -> Result<(), String> {
        self.recorder
            .publish(&self.inputs.0[reason], &self.inputs.1[object])
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    async fn publish_detached(&self, items: &[(usize, usize)]) -> u64 {
        let mut errors = 0;
        for &(reason, object) in items {
            if self
                .recorder
                .emit(&self.inputs.0[reason], &self.inputs.1[object])
                .is_err()
            {
                errors += 1;
            }
        }
        let report = self.recorder.shutdown(Duration::from_secs(120)).await;
        errors + report.unwritten.len() as u64 + report.stats.dropped_queue_full
    }

    async fn finish(&self) {
        self.recorder.flush().await;
    }

    fn cached_keys(&self) -> Option<usize> {
        Some(self.recorder.cached_keys())
    }

    fn failed_writes(&self) -> u64 {
        self.recorder.stats().failed
    }
}

/// kube-rs's `kube::runtime::events::Recorder` (kube 5).
#[derive(Clone)]
pub(crate) struct KubeRs {
    recorder: kube_events::Recorder,
    inputs: Arc<<Self as Contender>::Inputs>,
}

impl Contender for KubeRs {
    const NAME: &'static str = "kube-rs";
    type Inputs = (Vec<kube_events::Event>, Vec<ObjectReference>);

    fn inputs(objects: usize, reasons: usize) -> Arc<Self::Inputs> {
        let events = (0..reasons)
            .map(|j| kube_events::Event {
                type_: kube_events::EventType::Warning,
                reason: reason(j),
                note: Some(NOTE.into()),
                action: ACTION.into(),
                secondary: None,
            })
            .collect();
        let objects = (0..objects)
            .map(|i| {
                let (name, namespace, uid) = object_parts(i);
                ObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some("Pod".into()),
                    name: Some(name),
                    namespace: Some(namespace),
                    uid: Some(uid),
                    ..ObjectReference::default()
                }
            })
            .collect();
        Arc::new((events, objects))
    }

    fn new(client: kube::Client, _setup: Setup, inputs: Arc<Self::Inputs>) -> Result<Self, String> {
        let reporter = kube_events::Reporter {
            controller: CONTROLLER.into(),
            instance: Some(INSTANCE.into()),
        };
        Ok(Self {
            recorder: kube_events::Recorder::new(client, reporter),
            inputs,
        })
    }

    async fn publish(&self, reason: usize, object: usize) -> Result<(), String> {
        self.recorder
            .publish(&self.inputs.0[reason], &self.inputs.1[object])
            .await
            .map_err(|e| e.to_string())
    }

    /// kube-rs has no non-waiting call: a task per publish is what a caller
    /// who must not wait does.
    async fn publish_detached(&self, items: &[(usize, usize)]) -> u64 {
        let tasks: Vec<_> = items
            .iter()
            .map(|&(reason, object)| {
                let me = self.clone();
                tokio::spawn(async move { me.publish(reason, object).await })
            })
            .collect();
        let mut errors = 0;
        for task in tasks {
            if !matches!(task.await, Ok(Ok(()))) {
                errors += 1;
            }
        }
        errors
    }

    async fn finish(&self) {}

    fn cached_keys(&self) -> Option<usize> {
        None
    }

    fn failed_writes(&self) -> u64 {
        0
    }
}

/// A recorder over `client` with fresh inputs.
pub(crate) fn build<C: Contender>(
    client: kube::Client,
    setup: Setup,
    objects: usize,
    reasons: usize,
) -> Result<C, String> {
    C::new(client, setup, C::inputs(objects, reasons))
}
