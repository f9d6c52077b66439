//! One scenario through both transports (`events.k8s.io/v1` with
//! `KubeSink`, core/v1 with `CoreV1Sink`) against the same double: the real
//! `kubectl get events` (and `-o wide`), `kubectl describe` and `kubectl
//! events` print the same rows.
//!
//! The scenario runs once per transport on one server, the events of the
//! first run deleted before the second, with the Recorder's clock set to the
//! same instants both times: the Event names, times and counts are equal.
//! Only the ages may differ, because kubectl computes them from its own
//! clock at the moment it runs: each age (`19m`, `30m10s`, `90s`) is
//! replaced by `<age>` and runs of spaces by one space (column widths
//! follow the widest cell) before comparing.
//!
//! One difference is kubectl's own: `kubectl describe` (1.32) sorts its
//! Events table by the legacy `lastTimestamp`, which only core/v1 writes
//! set (events.k8s.io/v1 creates must leave it unset). Written through
//! events.k8s.io/v1 the rows come in the order the server lists them;
//! written through core/v1 they come oldest last-seen first. For
//! `describe` the rows are compared as a set, and the core/v1 order is
//! checked to be by time. Nothing else is normalized.

#![allow(clippy::unwrap_used)] // test helpers

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use event_core::{Clock, Event, ObjectRef, Recorder, Reporter};
use event_kube::{CoreV1Sink, KubeSink};
use jiff::Timestamp;
use kube_apiserver_double::ApiServer;
use support::kubectl;

/// A clock set by the test, in whole seconds.
#[derive(Debug)]
struct SetClock(AtomicI64);

impl SetClock {
    fn set(&self, t: Timestamp) {
        self.0.store(t.as_second(), Ordering::SeqCst);
    }
}

impl Clock for SetClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_second(self.0.load(Ordering::SeqCst)).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// What kubectl prints, by command.
const COMMANDS: &[&[&str]] = &[
    &["get", "events", "-n", "shop"],
    &["get", "events", "-n", "shop", "-o", "wide"],
    &["get", "events", "-A", "-o", "wide"],
    &["describe", "pod", "web-0", "-n", "shop"],
    &["describe", "node", "node-1"],
    &["events", "-n", "shop", "--for", "pod/web-0"],
    &["events", "-A"],
];

/// The scenario: a Warning repeated three times and a Normal event on a pod,
/// one event about a node; `start` is the first occurrence.
async fn publish(
    sink: Arc<dyn event_core::sink::EventSink>,
    start: Timestamp,
    pod: &ObjectRef,
    node: &ObjectRef,
) {
    let clock = Arc::new(SetClock(AtomicI64::new(start.as_second())));
    let recorder = Recorder::builder(
        sink,
        Reporter::new("example.com/widgets").with_instance("widgets-0"),
    )
    .clock(clock.clone())
    .build()
    .unwrap();
    let at = |secs: i64| start + jiff::SignedDuration::from_secs(secs);
    let backoff =
        Event::warning("BackOff", "Starting").note("Back-off restarting failed container app");
    for (secs, event, regarding) in [
        (0, &backoff, pod),
        (
            5,
            &Event::normal("Started", "Starting").note("started container app"),
            pod,
        ),
        (10, &backoff, pod),
        (
            15,
            &Event::normal("NodeDrained", "Draining").note("drained for maintenance"),
            node,
        ),
        (20, &backoff, pod),
    ] {
        clock.set(at(secs));
        recorder.publish(event, regarding).await.unwrap();
    }
    recorder.flush().await;
    let stats = recorder.stats();
    assert_eq!((stats.created, stats.patched, stats.failed), (3, 2, 0));
}

/// Each age replaced by `<age>`, runs of spaces by one.
fn normalize(out: &str) -> String {
    out.lines()
        .map(|line| {
            line.split_whitespace()
                .map(|word| {
                    let bare = word.trim_matches(|c| c == '(' || c == ')' || c == ',');
                    let is_age = bare.starts_with(|c: char| c.is_ascii_digit())
                        && bare.ends_with(['s', 'm', 'h', 'd', 'y'])
                        && bare
                            .chars()
                            .all(|c| c.is_ascii_digit() || "smhdy".contains(c));
                    if is_age {
                        word.replace(bare, "<age>")
                    } else {
                        word.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of `out`, sorted.
fn sorted(out: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort_unstable();
    lines
}

/// The `Events:` section of `kubectl describe`, or the whole output.
fn events_part(out: &str) -> &str {
    out.split_once("Events:").map_or(out, |(_, events)| events)
}

async fn print_all(server: &ApiServer) -> Vec<String> {
    let mut outputs = Vec::new();
    for args in COMMANDS {
        let (ok, out, err) = kubectl(server, args).await;
        assert!(ok, "kubectl {args:?} failed: {err}\n{out}");
        outputs.push(normalize(events_part(&out)));
    }
    outputs
}

#[test]
fn ages_are_normalized_and_nothing_else() {
    assert_eq!(
        normalize("  19m   Warning  BackOff   pod/web-0   x  3  web-0.1f"),
        "<age> Warning BackOff pod/web-0 x 3 web-0.1f"
    );
    assert_eq!(
        normalize("Warning BackOff 30m10s (x3 over 31m) example.com/widgets 90s"),
        "Warning BackOff <age> (x3 over <age>) example.com/widgets <age>"
    );
}

#[tokio::test]
async fn kubectl_prints_the_same_for_both_transports() {
    require_kubectl!();
    let server = ApiServer::start().await.unwrap();
    let pod = server.create_pod("shop", "web-0").unwrap();
    let node = server.create_node("node-1").unwrap();
    let client = server.client().await.unwrap();
    let pod = ObjectRef::new("v1", "Pod", "web-0")
        .within("shop")
        .with_uid(pod.metadata.uid.unwrap());
    let node = ObjectRef::new("v1", "Node", "node-1").with_uid(node.metadata.uid.unwrap());
    let start = Timestamp::from_second(Timestamp::now().as_second() - 1_800).unwrap();

    publish(Arc::new(KubeSink::new(client.clone())), start, &pod, &node).await;
    let through_events_v1 = print_all(&server).await;
    let names_v1 = server.events().len();
    assert_eq!(server.expire_events(), names_v1);
    assert!(server.events().is_empty());

    publish(
        Arc::new(CoreV1Sink::new(client.clone())),
        start,
        &pod,
        &node,
    )
    .await;
    let through_core_v1 = print_all(&server).await;
    assert_eq!(server.events().len(), names_v1);

    for ((args, v1), core) in COMMANDS
        .iter()
        .zip(&through_events_v1)
        .zip(&through_core_v1)
    {
        println!("kubectl {}\n{v1}\n", args.join(" "));
        if args[0] == "describe" {
            assert_eq!(sorted(v1), sorted(core), "kubectl {}", args.join(" "));
        } else {
            assert_eq!(v1, core, "kubectl {}", args.join(" "));
        }
    }
    // The rows are there, with the series: not two empty outputs.
    let [
        get,
        wide,
        all,
        describe_pod,
        describe_node,
        events_pod,
        events_all,
    ] = through_core_v1.as_slice()
    else {
        panic!("one output per command");
    };
    assert_eq!(get.lines().count(), 3, "{get}");
    let backoff = wide.lines().find(|l| l.contains("BackOff")).unwrap();
    assert!(
        backoff.contains("example.com/widgets, widgets-0") && backoff.contains(" 3 "),
        "{backoff}"
    );
    assert_eq!(all.lines().count(), 4, "{all}");
    assert!(describe_pod.contains("(x3 over <age>)"), "{describe_pod}");
    // core/v1: by last seen, Started (5 s in) before BackOff (20 s in).
    let started = describe_pod.find("Started").unwrap();
    let backoff = describe_pod.find("BackOff").unwrap();
    assert!(started < backoff, "{describe_pod}");
    assert!(describe_node.contains("NodeDrained"), "{describe_node}");
    assert!(events_pod.contains("(x3 over <age>)"), "{events_pod}");
    assert!(events_all.contains("Node/node-1"), "{events_all}");
}
