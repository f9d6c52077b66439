//! The write budget against the API double answering 429 for a while:
//! the Recorder slows down as a whole, and nothing published is lost once
//! the server recovers.

use std::sync::Arc;

use event_core::{Event, ObjectRef, Recorder, Reporter};

use event_core::config::WriteBudget;
use event_kube::KubeSink;
use kube_apiserver_double::ApiServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_slows_the_recorder_and_loses_nothing() {
    let server = ApiServer::start().await.expect("the double starts");
    // Without kube's own retry layer, so every 429 reaches the Recorder.
    let sink = KubeSink::from_kubeconfig(server.kubeconfig_path())
        .await
        .expect("a sink");
    let recorder = Recorder::builder(
        Arc::new(sink),
        Reporter::new("example.com/budget").with_instance("budget-0"),
    )
    .no_spam_filter()
    .write_budget(WriteBudget::new(20, 10))
    .build()
    .expect("valid reporter");
    // The next three event writes are answered 429, Retry-After 1 s.
    server.faults().throttle_next(3, 1);
    let pod = |i: usize| ObjectRef::new("v1", "Pod", format!("web-{i}")).within("default");
    for i in 0..40 {
        let event = Event::normal(format!("Step{}", i % 4), "Reconciling");
        // Awaited or put off under the budget; never an error here.
        recorder
            .publish(&event, &pod(i / 4))
            .await
            .expect("published");
        recorder
            .publish(&event, &pod(i / 4))
            .await
            .expect("published");
    }
    let report = recorder.shutdown(std::time::Duration::from_secs(60)).await;
    assert!(report.is_complete(), "{} unwritten", report.unwritten.len());
    let s = report.stats;
    assert_eq!(s.published, 80);
    assert!(s.throttled >= 1, "a 429 paused the Recorder: {s:?}");
    assert!(s.budget_waits > 0, "writes waited for the budget: {s:?}");
    assert_eq!(s.dropped_unwritten + s.dropped_queue_full, 0);
    assert_eq!(server.faults().injected(), 3);
    let stored: u32 = server
        .events_json()
        .iter()
        .map(|e| {
            e.pointer("/series/count")
                .and_then(serde_json::Value::as_u64)
                .map_or(1, |c| u32::try_from(c).unwrap_or(0))
        })
        .sum();
    assert_eq!(stored, 80, "every occurrence stored");
    assert_eq!(server.events_json().len(), 40);
}
