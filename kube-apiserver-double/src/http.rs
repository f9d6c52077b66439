//! Connections, requests and responses.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Frame;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::auth::{TokenEntry, authenticate};
use super::faults::{FaultAction, RequestLog, RequestRecord, ServerFaults};
use super::handlers::{self, Req};
use super::status::ApiError;
use super::store::Store;

/// Largest request body accepted (the API server's limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// The response body type.
pub(crate) type Body = BoxBody<Bytes, Infallible>;

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) tokens: Vec<TokenEntry>,
    pub(crate) faults: ServerFaults,
    pub(crate) log: RequestLog,
    pub(crate) require_namespaces: bool,
    pub(crate) server_address: String,
    /// Whether `events.k8s.io` is served (discovery, OpenAPI and routes);
    /// core/v1 events are served either way.
    pub(crate) serve_events_group: bool,
}

/// Returned by the service to close a connection without an answer.
#[derive(Debug)]
pub(crate) struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DropConnection {}

/// Sends every watch that asked for bookmarks a `BOOKMARK` each `interval`.
pub(crate) async fn bookmark_loop(shared: Arc<Shared>, interval: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        shared.store.send_bookmarks();
    }
}

/// Accepts connections until the task is aborted; dropping the task drops
/// every connection with it.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    conns.spawn(serve_connection(stream, tls.clone(), shared.clone()));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve_connection(stream: TcpStream, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |req| handle(shared.clone(), req));
    let builder = hyper::server::conn::http1::Builder::new();
    match tls {
        Some(acceptor) => {
            if let Ok(stream) = acceptor.accept(stream).await {
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            }
        }
        None => {
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        }
    }
}

fn decode_percent(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decoded `key=value` pairs of a query string.
pub(crate) fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode_percent(k), decode_percent(v)),
            None => (decode_percent(p), String::new()),
        })
        .collect()
}

/// A complete (non-streaming) response.
pub(crate) fn full(status: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp
}

/// A JSON response.
pub(crate) fn json(status: u16, value: &Value) -> Response<Body> {
    full(status, "application/json", value.to_string().into_bytes())
}

/// The `Status` response for an error.
pub(crate) fn error(e: &ApiError) -> Response<Body> {
    let mut resp = json(e.code, &e.to_status());
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// The body of a watch: the initial lines, then the live feed, until the
/// deadline or until the store closes the feed.
pub(crate) struct WatchBody {
    initial: VecDeque<Bytes>,
    rx: mpsc::Receiver<Bytes>,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl WatchBody {
    pub(crate) fn new(
        initial: Vec<Bytes>,
        rx: mpsc::Receiver<Bytes>,
        timeout: Duration,
    ) -> WatchBody {
        WatchBody {
            initial: initial.into(),
            rx,
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

impl http_body::Body for WatchBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if let Some(line) = this.initial.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(line))));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(line)) => Poll::Ready(Some(Ok(Frame::data(line)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn header_str(req: &Request<Incoming>, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/livez" | "/readyz")
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Body>, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let auth = header_str(&req, header::AUTHORIZATION);
    let accept = header_str(&req, header::ACCEPT).unwrap_or_default();
    let content_type = header_str(&req, header::CONTENT_TYPE);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => Ok(b.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::too_large())
        }
        Err(_) => return Err(DropConnection),
    };
    let user = authenticate(&shared.tokens, auth.as_deref());
    let mut record = RequestRecord {
        method: method.as_str().to_owned(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        body: body
            .as_ref()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default(),
        user: user.map(|u| u.user.clone()),
        status: None,
        injected: false,
    };

    let decision = shared.faults.decide(method.as_str(), &path);
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    match decision.action {
        Some(FaultAction::Drop) => {
            record.injected = true;
            shared.log.push(record);
            return Err(DropConnection);
        }
        Some(FaultAction::Status { code, retry_after }) => {
            record.injected = true;
            record.status = Some(code);
            shared.log.push(record);
            return Ok(error(&ApiError::injected(code, retry_after)));
        }
        Some(FaultAction::DropResponse) => record.injected = true,
        Some(FaultAction::Delay(_)) | None => {}
    }
    let drop_response = record.injected;

    let response = match (body, user) {
        (Err(e), _) => error(&e),
        (Ok(_), None) if !is_public(&path) => error(&ApiError::unauthorized()),
        (Ok(body), user) => {
            let req = Req {
                method: &method,
                path: &path,
                query: query_pairs(query.as_deref().unwrap_or("")),
                accept: &accept,
                content_type: content_type.as_deref().unwrap_or(""),
                body: &body,
                user,
            };
            handlers::route(&shared, &req)
        }
    };
    record.status = Some(response.status().as_u16());
    shared.log.push(record);
    if drop_response {
        return Err(DropConnection);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        let q = query_pairs(
            "fieldSelector=involvedObject.name%3Dweb-0%2CinvolvedObject.namespace%3D&limit=500&watch",
        );
        assert_eq!(
            q[0],
            (
                "fieldSelector".into(),
                "involvedObject.name=web-0,involvedObject.namespace=".into()
            )
        );
        assert_eq!(q[1], ("limit".into(), "500".into()));
        assert_eq!(q[2], ("watch".into(), String::new()));
        assert_eq!(decode_percent("a+b%2"), "a b%2");
    }
}
