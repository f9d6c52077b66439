//! `ClusterEvents` against the API double: waits that end with the watch,
//! "none within" windows, the failure messages, and one expectation
//! asserted on a `MemorySink` and on the cluster with the same calls.
#![allow(clippy::unwrap_used)] // test helpers

use std::sync::Arc;
use std::time::Duration;

use event_core::{Event, ObjectRef, Recorder};
use event_kube::{EventRefExt, KubeSink};
use event_testing::{ClusterError, ClusterEvents, ManualClock, MemorySink, expect};
use kube_apiserver_double::ApiServer;

const CONTROLLER: &str = "example.com/settings";

/// Long enough that a test never waits for it: when a bound is reached in
/// these tests, it is because something is wrong.
const PATIENCE: Duration = Duration::from_secs(30);

struct Target {
    server: ApiServer,
    client: kube::Client,
    settings: ObjectRef,
}

async fn target() -> Target {
    let server = ApiServer::start().await.unwrap();
    let settings = server
        .create_configmap("shop", "settings", &[("mode", "fast")])
        .unwrap()
        .event_ref();
    let client = server.client().await.unwrap();
    Target {
        server,
        client,
        settings,
    }
}

/// A Recorder writing to the double, whose series are written only on
/// `flush()` (the background flush is an hour away). Its clock stands 8
/// hours and a minute back, so every age in a table reads `8h` for the
/// next 59 minutes and the tables can be compared whole.
fn recorder(client: &kube::Client) -> Recorder {
    let clock = ManualClock::new(jiff::Timestamp::now() - Duration::from_secs(8 * 3600 + 60));
    Recorder::builder(Arc::new(KubeSink::new(client.clone())), CONTROLLER)
        .series_flush_interval(Duration::from_secs(3600))
        .clock(Arc::new(clock))
        .build()
        .unwrap()
}

fn backoff() -> Event {
    Event::warning("BackOff", "Syncing").note("upstream refused the connection")
}

/// The code under test, whatever the sink: reports one sync of `object`.
async fn sync(recorder: &Recorder, object: &ObjectRef) {
    let synced = Event::normal("Synced", "Syncing").note("applied 3 keys");
    recorder.publish(&synced, object).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waits_until_the_series_count_reaches_n() {
    let t = target().await;
    let events = ClusterEvents::builder(t.client.clone())
        .namespace("shop")
        .timeout(PATIENCE)
        .start()
        .unwrap();
    events.ready().await.unwrap();
    let recorder = recorder(&t.client);
    for _ in 0..5 {
        recorder.publish(&backoff(), &t.settings).await.unwrap();
    }
    // Written so far: the create and the patch to count 2; occurrences 3-5
    // are counted in the Recorder until it flushes.
    let five = expect::warning("BackOff")
        .regarding(&t.settings)
        .count_at_least(5);
    let err = events
        .wait_for_within(&five, Duration::from_millis(300))
        .await
        .unwrap_err();
    let ClusterError::TimedOut { message } = &err else {
        panic!("expected a timeout, got {err:?}");
    };
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[..2],
        [
            r#"expected an event matching: a Warning event with reason "BackOff", regarding ConfigMap shop/settings, with count at least 5"#,
            "but none of the 1 events seen matches after waiting 300ms. The cluster holds for ConfigMap shop/settings (namespace shop):",
        ]
    );
    assert_eq!(
        lines[2..],
        [
            "Events:",
            "  Type     Reason   Age              From                  Message",
            "  ----     ------   ----             ----                  -------",
            "  Warning  BackOff  8h (x2 over 8h)  example.com/settings  upstream refused the connection",
        ],
        "{message}"
    );

    // The wait ends with the watch event that brings count 5, not at a
    // timeout: it is started first, then the Recorder flushes.
    let waiting = tokio::spawn(async move {
        let found = events.wait_for(&five).await;
        (found, events)
    });
    recorder.flush().await;
    let (found, events) = waiting.await.unwrap();
    let found = found.unwrap();
    assert_eq!(found.count(), 5);
    assert_eq!(found.series.map(|s| s.count), Some(5));
    // Exactly one Event holds the five occurrences.
    assert_eq!(events.matching(&expect::warning("BackOff")).len(), 1);
    assert_eq!(t.server.events().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_within_a_window() {
    let t = target().await;
    let events = ClusterEvents::namespaced(t.client.clone(), "shop").unwrap();
    let recorder = recorder(&t.client);
    recorder.publish(&backoff(), &t.settings).await.unwrap();
    let backoff_seen = expect::warning("BackOff").regarding(&t.settings);
    events.assert_emitted(&backoff_seen).await;

    // Nothing else arrives: the window passes and the check holds.
    let failed = expect::warning("SyncFailed").regarding(&t.settings);
    assert_eq!(
        events
            .none_within(&failed, Duration::from_millis(300))
            .await,
        Ok(())
    );

    // An Event already held fails the check at once, whatever the window.
    let err = events
        .none_within(&backoff_seen, PATIENCE)
        .await
        .unwrap_err();
    let ClusterError::Matched { message } = &err else {
        panic!("expected a match, got {err:?}");
    };
    assert!(
        message.starts_with(
            "expected no event matching: a Warning event with reason \"BackOff\", regarding ConfigMap shop/settings\nbut 1 of the 1 events seen matches:\nConfigMap shop/settings:\n"
        ),
        "{message}"
    );

    // One that arrives during the window fails it when the watch brings it.
    let watching = tokio::spawn(async move {
        let outcome = events.none_within(&failed, PATIENCE).await;
        (outcome, events)
    });
    events_settle().await;
    let failure = Event::warning("SyncFailed", "Syncing").note("upstream gone");
    recorder.publish(&failure, &t.settings).await.unwrap();
    let (outcome, events) = watching.await.unwrap();
    assert!(
        matches!(&outcome, Err(ClusterError::Matched { message }) if message.contains("but 1 of the 2 events seen matches")),
        "{outcome:?}"
    );
    assert_eq!(events.events().len(), 2);
}

/// Lets a spawned wait take its first look before the test goes on. Not an
/// assertion: the outcome is the same if the write comes first (an Event
/// already held fails a window too).
async fn events_settle() {
    tokio::task::yield_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_expectation_on_a_memory_sink_and_on_the_cluster() {
    let synced = expect::normal("Synced")
        .note_contains("3 keys")
        .from(CONTROLLER)
        .count_at_least(2);
    let failed = expect::warning("SyncFailed");

    // A unit test: the MemorySink.
    let sink = MemorySink::new();
    let unit = Recorder::builder(sink.arc(), CONTROLLER).build().unwrap();
    let object = ObjectRef::new("v1", "ConfigMap", "settings").within("shop");
    sync(&unit, &object).await;
    sync(&unit, &object).await;
    sink.assert_emitted(synced.clone().regarding(&object));
    sink.assert_not_emitted(failed.clone().regarding(&object));

    // An end-to-end test: the same code and expectations, the API double.
    let t = target().await;
    let events = ClusterEvents::builder(t.client.clone())
        .namespace("shop")
        .timeout(PATIENCE)
        .window(Duration::from_millis(300))
        .start()
        .unwrap();
    let e2e = recorder(&t.client);
    sync(&e2e, &t.settings).await;
    sync(&e2e, &t.settings).await;
    events
        .assert_emitted(synced.clone().regarding(&t.settings))
        .await;
    events
        .assert_not_emitted(failed.clone().regarding(&t.settings))
        .await;

    // Both hold the same event, read back the same way.
    let in_memory = &sink.matching(&synced)[0];
    let in_cluster = &events.matching(&synced)[0];
    assert_eq!(
        (
            in_memory.reason.as_str(),
            in_memory.note.as_deref(),
            in_memory.count()
        ),
        (
            in_cluster.reason.as_str(),
            in_cluster.note.as_deref(),
            in_cluster.count()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_assertion_shows_the_describe_table() {
    let t = target().await;
    let events = ClusterEvents::builder(t.client.clone())
        .namespace("shop")
        .timeout(Duration::from_millis(300))
        .start()
        .unwrap();
    let recorder = recorder(&t.client);
    sync(&recorder, &t.settings).await;
    events
        .wait_for_within(expect::normal("Synced"), PATIENCE)
        .await
        .unwrap();
    let expectation = expect::warning("SyncFailed").regarding(&t.settings);
    let panic = tokio::spawn(async move { events.assert_emitted(expectation).await })
        .await
        .unwrap_err()
        .into_panic();
    let message = panic.downcast_ref::<String>().unwrap();
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(
        lines[..6],
        [
            r#"expected an event matching: a Warning event with reason "SyncFailed", regarding ConfigMap shop/settings"#,
            "but none of the 1 events seen matches after waiting 300ms. The cluster holds for ConfigMap shop/settings (namespace shop):",
            "Events:",
            "  Type    Reason  Age   From                  Message",
            "  ----    ------  ----  ----                  -------",
            "  Normal  Synced  8h    example.com/settings  applied 3 keys",
        ],
        "{message}"
    );
    assert!(lines[6].starts_with("(asserted at "), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_wide_and_narrowed_by_a_field_selector() {
    let t = target().await;
    let other = t
        .server
        .create_configmap("staging", "settings", &[])
        .unwrap()
        .event_ref();
    let everywhere = ClusterEvents::all(t.client.clone()).unwrap();
    let only_shop = ClusterEvents::builder(t.client.clone())
        .fields("metadata.namespace=shop,reason=Synced")
        .start()
        .unwrap();
    // The Event the narrowed watch selects is written last: a watch delivers
    // in order, so once it has arrived, any other it selected would have
    // arrived before it.
    let recorder = recorder(&t.client);
    sync(&recorder, &other).await;
    recorder.publish(&backoff(), &t.settings).await.unwrap();
    sync(&recorder, &t.settings).await;

    let in_staging = expect::normal("Synced").regarding(&other);
    everywhere.assert_emitted(&in_staging).await;
    everywhere.assert_emitted(expect::warning("BackOff")).await;
    only_shop
        .assert_emitted(expect::normal("Synced").regarding(&t.settings))
        .await;
    everywhere
        .assert_emitted(expect::normal("Synced").regarding(&t.settings))
        .await;
    assert_eq!(everywhere.events().len(), 3);
    assert_eq!(
        only_shop.none_within(&in_staging, Duration::ZERO).await,
        Ok(())
    );
    let held: Vec<(String, String)> = only_shop
        .events()
        .into_iter()
        .map(|r| (r.namespace, r.reason))
        .collect();
    assert_eq!(held, [("shop".to_owned(), "Synced".to_owned())]);
}

#[tokio::test]
async fn starting_outside_a_runtime_is_an_error() {
    let t = target().await;
    let client = t.client.clone();
    let outcome = std::thread::spawn(move || ClusterEvents::all(client).map(|_| ()))
        .join()
        .unwrap();
    assert_eq!(outcome, Err(ClusterError::NoRuntime));
}

/// Runs the real kubectl against the double; `None` when kubectl is not
/// installed (an error under `CI=true`, where it must be).
async fn kubectl(server: &ApiServer, args: &[&str]) -> Option<String> {
    let mut command = std::process::Command::new("kubectl");
    command
        .arg("--kubeconfig")
        .arg(server.kubeconfig_path())
        .arg("--request-timeout=30s")
        .arg("--cache-dir")
        .arg(server.kubeconfig_path().with_file_name("kubectl-cache"))
        .args(args)
        .env_remove("KUBECONFIG");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap();
    match output {
        Ok(out) => {
            assert!(
                out.status.success(),
                "kubectl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(String::from_utf8(out.stdout).unwrap())
        }
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "kubectl is required when CI=true: {e}"
            );
            eprintln!("kubectl not found ({e}); not compared");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_prints_what_kubectl_prints_for_multi_line_and_truncated_notes() {
    let t = target().await;
    let events = ClusterEvents::namespaced(t.client.clone(), "shop").unwrap();
    let recorder = recorder(&t.client);
    let multi_line = Event::warning("SyncFailed", "Syncing")
        .note("applying the settings failed\ncaused by: connection refused\n\tretrying in 10s\n");
    let long = Event::warning("Rejected", "Validating").note(format!(
        "the settings are invalid: {} (see the key \"mode\")",
        "x".repeat(2000)
    ));
    let synced = Event::normal("Synced", "Syncing").note("applied 3 keys");
    let quiet = Event::normal("Checked", "Checking");
    for event in [&multi_line, &long, &long, &synced, &quiet] {
        recorder.publish(event, &t.settings).await.unwrap();
    }
    recorder.flush().await;
    events
        .assert_emitted(expect::warning("Rejected").count(2))
        .await;
    // The watch delivers in the order of the writes: the last one written
    // seen means every earlier one is too (the count above is not the last
    // write).
    events.assert_emitted(expect::normal("Checked")).await;
    assert_eq!(events.events().len(), 4);

    // The truncated note is one row of 1024 bytes of note, the multi-line
    // note three lines.
    let ours = events.describe(&t.settings);
    let rejected: Vec<&str> = ours.lines().filter(|l| l.contains("Rejected")).collect();
    assert_eq!(rejected.len(), 1, "{ours}");
    assert!(rejected[0].ends_with(" (see the key \"mode\")"), "{ours}");
    assert!(
        rejected[0].contains(event_core::validate::NOTE_TRUNCATION_MARKER),
        "{ours}"
    );
    assert_eq!(ours.lines().count(), 3 + 4 + 2, "{ours}");

    let Some(described) = kubectl(
        &t.server,
        &["describe", "configmap", "settings", "-n", "shop"],
    )
    .await
    else {
        return;
    };
    let from_kubectl = &described[described.find("\nEvents:").unwrap() + 1..];
    assert_eq!(ours, from_kubectl);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrowed_by_a_label_selector() {
    use k8s_openapi::api::events::v1::Event as K8sEvent;
    use kube::api::{Api, PostParams};

    let t = target().await;
    let labelled = ClusterEvents::builder(t.client.clone())
        .namespace("shop")
        .labels("team=payments")
        .start()
        .unwrap();
    let api: Api<K8sEvent> = Api::namespaced(t.client.clone(), "shop");
    // The one the selector keeps is written last: a watch delivers in order,
    // so once it has arrived, the other would have arrived before it.
    for (name, team) in [("settings.b", "search"), ("settings.a", "payments")] {
        let event: K8sEvent = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name, "namespace": "shop", "labels": {"team": team}},
            "eventTime": "2025-01-01T00:00:00.000000Z",
            "reportingController": CONTROLLER,
            "reportingInstance": "settings-0",
            "action": "Syncing",
            "reason": "Synced",
            "type": "Normal",
            "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "name": "settings", "namespace": "shop"},
        }))
        .unwrap();
        api.create(&PostParams::default(), &event).await.unwrap();
    }
    let found = labelled.assert_emitted(expect::normal("Synced")).await;
    assert_eq!(found.name, "settings.a");
    let names: Vec<String> = labelled.events().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["settings.a"]);
}
