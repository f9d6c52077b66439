//! Series that never split, against the double over HTTPS: 10,000 live keys
//! past a cache of 1,000, each published 5 times, make exactly 10,000
//! Events of count 5. About 130,000 requests over HTTPS: a long test, run
//! by `cargo xtask soak` (in release) rather than by `cargo xtask ci`, which
//! runs the same count against `MemorySink` (event-testing's identity
//! tests).

use std::sync::Arc;

use event_core::{Event, ObjectRef, Recorder, Reporter};

use event_core::config::WriteBudget;
use event_kube::KubeSink;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::Api;
use kube::api::ListParams;
use kube_apiserver_double::ApiServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long: run by `cargo xtask soak`"]
async fn ten_thousand_keys_past_a_cache_of_one_thousand_make_one_event_each() {
    const KEYS: usize = 10_000;
    let server = ApiServer::start().await.expect("the double starts");
    let client = server.client().await.expect("a client");
    let recorder = Recorder::builder(
        Arc::new(KubeSink::new(client.clone())),
        Reporter::new("example.com/identity").with_instance("identity-0"),
    )
    .max_cached_keys(1_000)
    .no_spam_filter()
    .write_budget(WriteBudget::unlimited())
    .build()
    .expect("valid reporter");
    let event = Event::warning("BackOff", "Starting");
    let pod = |i: usize| ObjectRef::new("v1", "Pod", format!("web-{i}")).within("default");
    for _round in 0..5 {
        for i in 0..KEYS {
            recorder.publish(&event, &pod(i)).await.expect("published");
        }
    }
    let report = recorder.shutdown(std::time::Duration::from_secs(120)).await;
    assert!(report.is_complete(), "{} unwritten", report.unwritten.len());
    let api: Api<K8sEvent> = Api::namespaced(client, "default");
    let mut counts = Vec::new();
    let mut params = ListParams::default().limit(5_000);
    loop {
        let page = api.list(&params).await.expect("listed");
        counts.extend(
            page.items
                .iter()
                .map(|e| e.series.as_ref().map_or(1, |s| s.count)),
        );
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(counts.len(), KEYS);
    assert!(counts.iter().all(|&c| c == 5), "every Event has count 5");
    let s = report.stats;
    assert_eq!(
        (s.published, s.created, s.dropped_unwritten),
        (50_000, 10_000, 0)
    );
    assert_eq!(
        s.adopted, 40_000,
        "every repeat found its Event after leaving the cache"
    );
}
