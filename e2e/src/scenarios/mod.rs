//! The scenarios, in the order they run.

mod basic;
mod controller;
mod failures;
mod identity;
mod kubectl;

use std::time::Duration;

use event_core::{Event, ObjectRef};
use event_testing::{ClusterEvents, ClusterEventsBuilder};

use crate::report::Outcome;
use crate::suite::{Context, Res, Suite};

/// No scenario may take longer than this.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);

/// The Normal event of the first scenario (on the ConfigMap).
pub(crate) fn loaded_event() -> Event {
    Event::normal("ConfigLoaded", "Loading").note("loaded 1 key from the ConfigMap")
}

/// The repeated Warning of the series scenario (on the ConfigMap).
pub(crate) fn backoff_event() -> Event {
    Event::warning("BackOff", "Retrying").note("retrying after a failed sync of the settings")
}

/// The event about the Node.
pub(crate) fn node_event() -> Event {
    Event::normal("NodeChecked", "Inspecting").note("node reports Ready")
}

/// How many times the series scenario publishes [`backoff_event`].
pub(crate) const REPEATS: u32 = 1_000;

#[derive(Clone, Copy, Debug)]
enum Id {
    NormalEvent,
    Series,
    Node,
    Invalid,
    Expired,
    Forbidden,
    Faults,
    Kubectl,
    Controller,
    Restart,
}

/// One scenario: its printed name and what runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scenario {
    pub(crate) name: &'static str,
    id: Id,
}

pub(crate) const ALL: &[Scenario] = &[
    Scenario {
        name: "normal-event-both-apis",
        id: Id::NormalEvent,
    },
    Scenario {
        name: "series-1000-repeats",
        id: Id::Series,
    },
    Scenario {
        name: "cluster-scoped-node",
        id: Id::Node,
    },
    Scenario {
        name: "invalid-input-client-side",
        id: Id::Invalid,
    },
    Scenario {
        name: "expired-event-recreated",
        id: Id::Expired,
    },
    Scenario {
        name: "forbidden-without-patch",
        id: Id::Forbidden,
    },
    Scenario {
        name: "faults-10000-publishes",
        id: Id::Faults,
    },
    Scenario {
        name: "kubectl-describe-and-events",
        id: Id::Kubectl,
    },
    Scenario {
        name: "configmap-controller",
        id: Id::Controller,
    },
    Scenario {
        name: "restart-continues-series",
        id: Id::Restart,
    },
];

pub(crate) async fn run_one(suite: &Suite, scenario: &Scenario) -> Outcome {
    let run = async {
        match scenario.id {
            Id::NormalEvent => basic::normal_event(suite).await,
            Id::Series => basic::series(suite).await,
            Id::Node => basic::node(suite).await,
            Id::Invalid => basic::invalid(suite).await,
            Id::Expired => failures::expired(suite).await,
            Id::Forbidden => failures::forbidden(suite).await,
            Id::Faults => failures::faults(suite).await,
            Id::Kubectl => kubectl::describe_and_events(suite).await,
            Id::Controller => controller::configmap_controller(suite).await,
            Id::Restart => identity::restart(suite).await,
        }
    };
    match tokio::time::timeout(SCENARIO_TIMEOUT, run).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(why)) => Outcome::Fail(why),
        Err(_) => Outcome::Fail(format!(
            "did not finish within {}s",
            SCENARIO_TIMEOUT.as_secs()
        )),
    }
}

/// How long a scenario waits for the target to hold an expected Event.
const EVENT_WAIT: Duration = Duration::from_secs(60);

/// The target's Events as `builder` narrows them, watched from now on and
/// listed once before this returns; waits end at [`EVENT_WAIT`].
pub(crate) async fn watch(builder: ClusterEventsBuilder) -> Res<ClusterEvents> {
    let events = builder.timeout(EVENT_WAIT).start().ctx("watching events")?;
    events.ready().await.ctx("listing events")?;
    Ok(events)
}

/// The Events of the suite's namespace.
pub(crate) async fn watch_namespace(suite: &Suite) -> Res<ClusterEvents> {
    watch(ClusterEvents::builder(suite.client.clone()).namespace(&suite.namespace)).await
}

/// `Kind/namespace/name` for figures.
pub(crate) fn show(r: &ObjectRef) -> String {
    match &r.namespace {
        Some(ns) => format!("{}/{ns}/{}", r.kind, r.name),
        None => format!("{}/{}", r.kind, r.name),
    }
}

/// The first line of a message, at most 120 characters.
pub(crate) fn short(message: &str) -> String {
    let line = message.lines().next().unwrap_or("");
    if line.chars().count() > 120 {
        format!("{}...", line.chars().take(120).collect::<String>())
    } else {
        line.to_owned()
    }
}

/// Shorthand for scenario results.
pub(crate) type ScenarioResult = Res<Outcome>;

/// Aborts a spawned task when dropped: a scenario that fails, or is
/// dropped at [`SCENARIO_TIMEOUT`], leaves nothing of its own running.
pub(crate) struct AbortOnDrop(pub(crate) tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
