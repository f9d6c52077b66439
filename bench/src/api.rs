//! An in-process stand-in for the events API: a tower service behind a
//! `kube::Client`, so both recorders pay the same client-side costs
//! (request building, JSON, the client's buffer) without a network.
//!
//! `POST .../events` answers 201 with the body (409 when the name is taken),
//! `PATCH .../events/{name}` applies a JSON merge patch and answers 200 with
//! the merged object (404 when the event does not exist), `GET
//! .../events/{name}` answers the stored event (404 when there is none). Every request is
//! counted. With storage off, nothing is kept: POST answers 201 and PATCH 200,
//! each with the request body. An optional latency delays every answer.
//!
//! [`Transport`] picks this or the local API double over loopback HTTPS
//! (`kube_apiserver_double::ApiServer`), and [`Server`] reads either's
//! counters and store the same way.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use kube::client::Body;
use serde_json::Value;

/// Requests seen, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Requests {
    /// POST requests (creates), answered or not.
    pub(crate) creates: u64,
    /// PATCH requests, answered or not.
    pub(crate) patches: u64,
    /// Requests answered with an error status.
    pub(crate) rejected: u64,
    /// GET requests of one event (reads after a name clash).
    pub(crate) reads: u64,
}

impl Requests {
    /// Every write request (create or patch).
    pub(crate) fn writes(&self) -> u64 {
        self.creates + self.patches
    }
}

#[derive(Default)]
struct Counters {
    creates: AtomicU64,
    patches: AtomicU64,
    rejected: AtomicU64,
    reads: AtomicU64,
}

struct State {
    store: bool,
    latency: Option<Duration>,
    events: Mutex<HashMap<(String, String), Value>>,
    counters: Counters,
}

/// The server side: counters and the stored events. Clones share state.
#[derive(Clone)]
pub(crate) struct InProcessApi {
    state: Arc<State>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl InProcessApi {
    /// A client over a new in-process API that keeps nothing but counts.
    pub(crate) fn counting() -> (kube::Client, Self) {
        Self::client(false, None)
    }

    /// A client over a new in-process API; `store` keeps the events
    /// written, `latency` delays every answer.
    pub(crate) fn client(store: bool, latency: Option<Duration>) -> (kube::Client, Self) {
        let api = Self {
            state: Arc::new(State {
                store,
                latency,
                events: Mutex::new(HashMap::new()),
                counters: Counters::default(),
            }),
        };
        let handle = api.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let api = handle.clone();
            async move { api.answer(request).await }
        });
        (kube::Client::new(service, "default"), api)
    }

    /// The requests so far.
    pub(crate) fn requests(&self) -> Requests {
        let c = &self.state.counters;
        Requests {
            creates: c.creates.load(Ordering::Relaxed),
            patches: c.patches.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            reads: c.reads.load(Ordering::Relaxed),
        }
    }

    /// Sets every counter back to zero.
    pub(crate) fn reset_requests(&self) {
        let c = &self.state.counters;
        c.creates.store(0, Ordering::Relaxed);
        c.reads.store(0, Ordering::Relaxed);
        c.patches.store(0, Ordering::Relaxed);
        c.rejected.store(0, Ordering::Relaxed);
    }

    /// The stored events' counts: `series.count`, or 1 without a series.
    pub(crate) fn stored_counts(&self) -> Vec<u64> {
        lock(&self.state.events).values().map(count_of).collect()
    }

    /// Deletes every stored event, as the server's TTL would.
    pub(crate) fn delete_all(&self) {
        lock(&self.state.events).clear();
    }

    async fn answer(
        &self,
        request: Request<Body>,
    ) -> Result<Response<Full<Bytes>>, tower::BoxError> {
        let (parts, body) = request.into_parts();
        let body = body.collect_bytes().await?;
        if let Some(latency) = self.state.latency {
            tokio::time::sleep(latency).await;
        }
        let (status, answer) = self.handle(&parts.method, parts.uri.path(), body)?;
        if !status.is_success() {
            self.state.counters.rejected.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(answer))?)
    }

    fn handle(
        &self,
        method: &Method,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), tower::BoxError> {
        let Some((namespace, name)) = parse_path(path) else {
            return Ok(status(StatusCode::NOT_FOUND, "NotFound", path));
        };
        let counters = &self.state.counters;
        match (method, name) {
            (&Method::POST, None) => {
                counters.creates.fetch_add(1, Ordering::Relaxed);
                if !self.state.store {
                    return Ok((StatusCode::CREATED, body));
                }
                let event: Value = serde_json::from_slice(&body)?;
                let Some(name) = event.pointer("/metadata/name").and_then(Value::as_str) else {
                    return Ok(status(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "Invalid",
                        "no name",
                    ));
                };
                let mut events = lock(&self.state.events);
                let key = (namespace.to_owned(), name.to_owned());
                if events.contains_key(&key) {
                    return Ok(status(StatusCode::CONFLICT, "AlreadyExists", name));
                }
                events.insert(key, event);
                Ok((StatusCode::CREATED, body))
            }
            (&Method::PATCH, Some(name)) => {
                counters.patches.fetch_add(1, Ordering::Relaxed);
                if !self.state.store {
                    return Ok((StatusCode::OK, body));
                }
                let patch: Value = serde_json::from_slice(&body)?;
                let mut events = lock(&self.state.events);
                let Some(event) = events.get_mut(&(namespace.to_owned(), name.to_owned())) else {
                    return Ok(status(StatusCode::NOT_FOUND, "NotFound", name));
                };
                merge(event, patch);
                Ok((StatusCode::OK, Bytes::from(serde_json::to_vec(event)?)))
            }
            (&Method::GET, Some(name)) => {
                counters.reads.fetch_add(1, Ordering::Relaxed);
                let events = lock(&self.state.events);
                match events.get(&(namespace.to_owned(), name.to_owned())) {
                    Some(event) => Ok((StatusCode::OK, Bytes::from(serde_json::to_vec(event)?))),
                    None => Ok(status(StatusCode::NOT_FOUND, "NotFound", name)),
                }
            }
            _ => Ok(status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                path,
            )),
        }
    }
}

/// An event's count: `series.count`, or 1 without a series.
fn count_of(event: &Value) -> u64 {
    event
        .pointer("/series/count")
        .and_then(Value::as_u64)
        .unwrap_or(1)
}

/// The path prefix of every events.k8s.io/v1 request.
const EVENTS_PREFIX: &str = "/apis/events.k8s.io/v1/";

/// How both recorders reach the API in one measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// The in-process tower service: client-side CPU cost only.
    InProcess,
    /// The local API double over loopback HTTPS: end to end.
    Loopback,
}

/// How to start a server.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Options {
    /// Keep the events written (the API double always does).
    pub(crate) store: bool,
    /// Delay every in-process answer by this much (the API double has real
    /// latency).
    pub(crate) latency: Option<Duration>,
}

impl Options {
    /// Storing, no added latency.
    pub(crate) fn storing() -> Self {
        Self {
            store: true,
            latency: None,
        }
    }
}

/// The server side of a [`Transport`].
pub(crate) enum Server {
    /// The in-process API.
    InProcess(InProcessApi),
    /// The local API double (stops when dropped).
    Loopback(Box<kube_apiserver_double::ApiServer>),
}

impl Transport {
    /// A label for the output.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::InProcess => "in-process API",
            Self::Loopback => "API double over loopback HTTPS",
        }
    }

    /// Starts a server and returns a client for it. The API double gets the
    /// namespaces the benchmark's objects live in.
    pub(crate) async fn start(self, options: Options) -> Result<(kube::Client, Server), String> {
        match self {
            Self::InProcess => {
                let (client, api) = InProcessApi::client(options.store, options.latency);
                Ok((client, Server::InProcess(api)))
            }
            Self::Loopback => {
                let server = kube_apiserver_double::ApiServer::start()
                    .await
                    .map_err(|e| format!("API double: {e}"))?;
                for i in 0..100 {
                    server
                        .create_namespace(&crate::contenders::namespace(i))
                        .map_err(|e| format!("API double: {e}"))?;
                }
                let client = server
                    .client()
                    .await
                    .map_err(|e| format!("API double: {e}"))?;
                Ok((client, Server::Loopback(Box::new(server))))
            }
        }
    }
}

impl Server {
    /// The event write requests so far.
    pub(crate) fn requests(&self) -> Requests {
        match self {
            Self::InProcess(api) => api.requests(),
            Self::Loopback(server) => {
                let log = server.requests();
                let writes = log
                    .all()
                    .into_iter()
                    .filter(|r| r.path.starts_with(EVENTS_PREFIX));
                let mut out = Requests::default();
                for record in writes {
                    match record.method.as_str() {
                        "POST" => out.creates += 1,
                        "PATCH" => out.patches += 1,
                        "GET" if !record.path.ends_with("/events") => out.reads += 1,
                        _ => continue,
                    }
                    if record.status.is_none_or(|s| s >= 400) {
                        out.rejected += 1;
                    }
                }
                out
            }
        }
    }

    /// Forgets the requests so far.
    pub(crate) fn reset_requests(&self) {
        match self {
            Self::InProcess(api) => api.reset_requests(),
            Self::Loopback(server) => server.requests().clear(),
        }
    }

    /// The stored events' counts: `series.count`, or 1 without a series.
    pub(crate) fn stored_counts(&self) -> Vec<u64> {
        match self {
            Self::InProcess(api) => api.stored_counts(),
            Self::Loopback(server) => server.events_json().iter().map(count_of).collect(),
        }
    }

    /// Deletes every stored event, as the server's TTL would.
    pub(crate) fn delete_all(&self) {
        match self {
            Self::InProcess(api) => api.delete_all(),
            Self::Loopback(server) => {
                server.expire_events();
            }
        }
    }
}

/// `/apis/events.k8s.io/v1/namespaces/{ns}/events[/{name}]` split into the
/// namespace and the optional name.
fn parse_path(path: &str) -> Option<(&str, Option<&str>)> {
    let rest = path.strip_prefix("/apis/events.k8s.io/v1/namespaces/")?;
    let (namespace, rest) = rest.split_once('/')?;
    match rest.strip_prefix("events")? {
        "" => Some((namespace, None)),
        name => Some((namespace, Some(name.strip_prefix('/')?))),
    }
}

/// A Kubernetes `Status` answer.
fn status(code: StatusCode, reason: &str, message: &str) -> (StatusCode, Bytes) {
    let body = serde_json::json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "reason": reason, "message": message, "code": code.as_u16(),
    });
    (code, Bytes::from(body.to_string()))
}

/// JSON merge patch (RFC 7386): objects merge key by key, `null` removes,
/// anything else replaces.
fn merge(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(map) = target {
                for (key, value) in fields {
                    if value.is_null() {
                        map.remove(&key);
                    } else {
                        merge(map.entry(key).or_insert(Value::Null), value);
                    }
                }
            }
        }
        other => *target = other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_split_into_namespace_and_name() {
        let base = "/apis/events.k8s.io/v1/namespaces/shop/events";
        assert_eq!(parse_path(base), Some(("shop", None)));
        assert_eq!(
            parse_path(&format!("{base}/web.17a")),
            Some(("shop", Some("web.17a")))
        );
        assert_eq!(parse_path("/api/v1/namespaces/shop/events"), None);
        assert_eq!(parse_path(&format!("{base}x")), None);
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut doc = json!({"a": 1, "series": {"count": 2, "lastObservedTime": "t1"}, "b": [1]});
        merge(
            &mut doc,
            json!({"series": {"count": 9}, "a": null, "b": [2, 3], "c": {"d": 4}}),
        );
        assert_eq!(
            doc,
            json!({"series": {"count": 9, "lastObservedTime": "t1"}, "b": [2, 3], "c": {"d": 4}})
        );
    }

    fn event(name: &str) -> Value {
        json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "shop"},
            "eventTime": "2024-01-01T00:00:00.000000Z",
            "reason": "BackOff", "action": "Starting", "type": "Warning",
            "reportingController": "example.com/bench", "reportingInstance": "bench-0",
        })
    }

    #[tokio::test]
    async fn stores_creates_and_patches_and_counts_requests() {
        use k8s_openapi::api::events::v1::Event;
        use kube::api::{Api, Patch, PatchParams, PostParams};

        let (client, api) = InProcessApi::client(true, None);
        let events: Api<Event> = Api::namespaced(client, "shop");
        let created: Event = serde_json::from_value(event("web.1")).unwrap();
        events
            .create(&PostParams::default(), &created)
            .await
            .unwrap();
        let conflict = events.create(&PostParams::default(), &created).await;
        assert!(matches!(conflict, Err(kube::Error::Api(s)) if s.code == 409));
        let patch = Patch::Merge(
            json!({"series": {"count": 7, "lastObservedTime": "2024-01-01T00:00:01.000000Z"}}),
        );
        let patched = events
            .patch("web.1", &PatchParams::default(), &patch)
            .await
            .unwrap();
        assert_eq!(patched.series.unwrap().count, 7);
        assert_eq!(api.stored_counts(), vec![7]);

        api.delete_all();
        let missing = events.patch("web.1", &PatchParams::default(), &patch).await;
        assert!(matches!(missing, Err(kube::Error::Api(s)) if s.code == 404));
        assert_eq!(
            api.requests(),
            Requests {
                creates: 2,
                patches: 2,
                rejected: 2,
                reads: 0,
            }
        );
        assert_eq!(api.requests().writes(), 4);
        api.reset_requests();
        assert_eq!(api.requests(), Requests::default());
    }

    #[tokio::test]
    async fn counting_mode_keeps_nothing() {
        use k8s_openapi::api::events::v1::Event;
        use kube::api::{Api, PostParams};

        let (client, api) = InProcessApi::counting();
        let events: Api<Event> = Api::namespaced(client, "shop");
        let created: Event = serde_json::from_value(event("web.1")).unwrap();
        events
            .create(&PostParams::default(), &created)
            .await
            .unwrap();
        events
            .create(&PostParams::default(), &created)
            .await
            .unwrap();
        assert!(api.stored_counts().is_empty());
        assert_eq!(api.requests().creates, 2);
    }
}
