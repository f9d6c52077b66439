//! An in-process Kubernetes API stand-in: a `kube::Client` whose transport
//! records every request and answers from a script.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use event_core::sink::{EventRecord, Series};
use event_core::{Event, ObjectRef};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use jiff::Timestamp;
use kube::client::Body;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub content_type: Option<String>,
    pub body: serde_json::Value,
    pub raw_body: Bytes,
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Answer {
    /// An HTTP response.
    Status {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// The connection fails before any response.
    ConnectionReset,
    /// No answer, ever.
    Hang,
}

impl Answer {
    /// A Kubernetes `Status` error body with the given code, reason and message.
    pub fn status(code: u16, reason: &str, message: &str) -> Self {
        let body = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code,
        });
        Self::Status {
            status: code,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// A JSON body with the given status code.
    pub fn json(code: u16, body: &serde_json::Value) -> Self {
        Self::Status {
            status: code,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// The same, with one extra header.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Self::Status { headers, .. } = &mut self {
            headers.push((name, value.to_owned()));
        }
        self
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Answer>,
    seen: Vec<Seen>,
}

/// The server's handle: script answers, read what was sent.
#[derive(Clone, Default)]
pub struct MockApi {
    state: Arc<Mutex<State>>,
}

impl MockApi {
    /// A client over a new in-process server. Requests beyond the script are
    /// answered with success (201 with the body for POST, 200 otherwise).
    pub fn client() -> (kube::Client, Self) {
        let api = Self::default();
        let handle = api.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let api = handle.clone();
            async move { api.answer(request).await }
        });
        (kube::Client::new(service, "default"), api)
    }

    /// Queues answers for the next requests, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// Methods and paths of every request so far, e.g. `POST /apis/...`.
    pub fn lines(&self) -> Vec<String> {
        self.seen()
            .iter()
            .map(|s| format!("{} {}", s.method, s.path))
            .collect()
    }

    async fn answer(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Full<Bytes>>, tower::BoxError> {
        let (parts, body) = request.into_parts();
        let raw_body = body.collect_bytes().await?;
        let seen = Seen {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            content_type: parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: serde_json::from_slice(&raw_body).unwrap_or(serde_json::Value::Null),
            raw_body: raw_body.clone(),
        };
        let next = {
            let mut state = self.state.lock().unwrap();
            state.seen.push(seen);
            state.script.pop_front()
        };
        match next {
            None => {
                let status = if parts.method == Method::POST {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                Ok(Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(Full::new(raw_body))?)
            }
            Some(Answer::Status {
                status,
                headers,
                body,
            }) => {
                let mut response = Response::builder()
                    .status(status)
                    .header("content-type", "application/json");
                for (name, value) in headers {
                    response = response.header(name, value);
                }
                Ok(response.body(Full::new(Bytes::from(body)))?)
            }
            Some(Answer::ConnectionReset) => Err(Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ))),
            Some(Answer::Hang) => std::future::pending().await,
        }
    }
}

/// Asserts that the only request written the event about Node `worker-1`
/// (uid `node-uid-1`) into `default`, with a regarding reference that has no
/// namespace.
#[track_caller]
pub fn assert_node_event_in_default(seen: &[Seen]) {
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].path,
        "/apis/events.k8s.io/v1/namespaces/default/events"
    );
    assert_eq!(seen[0].body["metadata"]["namespace"], "default");
    assert_eq!(
        seen[0].body["regarding"],
        serde_json::json!({ "apiVersion": "v1", "kind": "Node", "name": "worker-1", "uid": "node-uid-1" })
    );
}

/// A record about a Pod in `shop`.
pub fn pod_record() -> EventRecord {
    let event = Event::warning("BackOff", "Starting")
        .note("container exited with 1")
        .related(&ObjectRef::new("v1", "Node", "worker-1"))
        .annotation("example.com/attempt", "3");
    EventRecord::new(
        "web-0.17a1b2c3d4e5f6a7-x1y2z",
        "shop",
        Timestamp::from_microsecond(1_700_000_000_123_456).unwrap(),
        ObjectRef::new("v1", "Pod", "web-0")
            .within("shop")
            .with_uid("6c1b8f1e-0000-4000-8000-000000000001")
            .with_resource_version("42"),
        event,
        "example.com/widgets",
        "widgets-0",
    )
}

/// The same record as a series of `count`.
pub fn with_series(mut record: EventRecord, count: u32) -> EventRecord {
    record.series = Some(Series {
        count,
        last_observed_time: Timestamp::from_microsecond(1_700_000_060_000_001).unwrap(),
    });
    record
}

/// Patches the series `record` carries, as the Recorder does.
pub async fn patch(
    sink: &(impl event_core::sink::EventSink + ?Sized),
    record: &event_core::sink::EventRecord,
) -> Result<(), event_core::sink::SinkError> {
    let series = record.series.expect("a record with a series");
    sink.patch_series(record, series).await
}
