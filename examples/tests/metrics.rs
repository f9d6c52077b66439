//! The `/metrics` endpoint: scraped over HTTP and parsed, with the
//! Recorder's counts.
#![allow(missing_docs, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use event_core::{Event, EventType, ObjectRef, Recorder};

use event_core::sink::SinkError;
use event_testing::MemorySink;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one GET and returns the status line, the headers and the body.
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (status.to_owned(), headers.to_lowercase(), body.to_owned())
}

/// `name{labels}` -> value, for every sample of the text format.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_and_count_what_the_recorder_did() {
    let sink = MemorySink::new();
    let recorder = Recorder::builder(sink.arc(), "example.com/configmap-controller")
        .minimum_type(EventType::Warning)
        .build()
        .unwrap();
    let mut registry = Registry::default();
    recorder.register_metrics(&mut registry);

    let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
    let backoff = Event::warning("BackOff", "Starting");
    for _ in 0..5 {
        recorder.publish(&backoff, &pod).await.unwrap();
    }
    recorder
        .publish(&Event::normal("Synced", "Reconciling"), &pod)
        .await
        .unwrap();
    sink.faults()
        .fail_next(1, SinkError::Throttled { retry_after: None });
    let other = ObjectRef::new("v1", "Pod", "web-1").within("shop");
    recorder.publish(&backoff, &other).await.unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(examples::metrics::serve(
        listener,
        Arc::new(registry),
        async move {
            let _ = stopped.await;
        },
    ));

    let (status, headers, body) = get(addr, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(
        headers.contains("content-type: application/openmetrics-text"),
        "{headers}"
    );
    let s = samples(&body);
    let expect = [
        ("kube_events_published_total", 6.0),
        ("kube_events_created_total", 2.0),
        ("kube_events_patched_total", 1.0),
        ("kube_events_coalesced_total", 3.0),
        ("kube_events_dropped_total{cause=\"filtered\"}", 1.0),
        ("kube_events_dropped_total{cause=\"spam\"}", 0.0),
        ("kube_events_write_failures_total{class=\"throttled\"}", 1.0),
        ("kube_events_write_failures_total{class=\"forbidden\"}", 0.0),
        ("kube_events_retries_total", 1.0),
        ("kube_events_throttled_total", 1.0),
        ("kube_events_cached_keys", 2.0),
        ("kube_events_queue_depth", 0.0),
        ("kube_events_request_duration_seconds_count", 4.0),
    ];
    for (name, value) in expect {
        assert_eq!(s.get(name), Some(&value), "{name} in\n{body}");
    }
    assert!(body.contains("# TYPE kube_events_request_duration_seconds histogram"));
    assert!(body.ends_with("# EOF\n"), "{body}");

    let (status, _, _) = get(addr, "/other").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
