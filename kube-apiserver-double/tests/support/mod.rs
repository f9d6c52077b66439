//! Shared helpers for the API double's tests.

#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::process::Command;
use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube_apiserver_double::ApiServer;
use serde_json::{Value, json};

/// A valid events.k8s.io/v1 event about Pod `ns/pod`.
pub fn event_json(ns: &str, name: &str, pod: &str) -> Value {
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns},
        "eventTime": "2025-01-01T00:00:00.000000Z",
        "reportingController": "example.com/widgets",
        "reportingInstance": "widgets-0",
        "action": "Starting",
        "reason": "Started",
        "type": "Normal",
        "note": "started container app",
        "regarding": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": ns},
    })
}

pub fn event(v: Value) -> Event {
    serde_json::from_value(v).unwrap()
}

/// `t` as a `MicroTime` string.
pub fn micro(t: jiff::Timestamp) -> String {
    event_core::clock::format_micro_time(event_core::clock::truncate_to_micros(t))
}

/// The current time as a `MicroTime` string.
pub fn now_micro() -> String {
    micro(jiff::Timestamp::now())
}

/// The `Status` of an API error; panics on any other error.
pub fn status(err: kube::Error) -> kube::core::Status {
    match err {
        kube::Error::Api(s) => *s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Returns from the test when `kubectl` is not on PATH, with a message; under
/// `CI=true` a missing kubectl fails the test instead, so that CI cannot
/// pass without running the kubectl checks.
#[macro_export]
macro_rules! require_kubectl {
    () => {
        if !$crate::support::kubectl_available() {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "kubectl is not on PATH, and CI=true requires the kubectl checks"
            );
            eprintln!("skipped: kubectl is not on PATH");
            return;
        }
    };
}

/// `kubectl` is on PATH.
pub fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs kubectl against the server (off the async runtime) and returns
/// (success, stdout, stderr).
pub async fn kubectl(server: &ApiServer, args: &[&str]) -> (bool, String, String) {
    kubectl_with(server.kubeconfig_path(), args, None).await
}

/// Runs kubectl with a kubeconfig, optionally feeding `stdin`, and returns
/// (success, stdout, stderr).
pub async fn kubectl_with(
    kubeconfig: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> (bool, String, String) {
    let kubeconfig = kubeconfig.to_path_buf();
    let stdin = stdin.map(str::to_owned);
    let cache = kubeconfig.parent().unwrap().join("kubectl-cache");
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new("timeout");
        cmd.arg("60")
            .arg("kubectl")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--request-timeout=30s");
        cmd.arg("--cache-dir").arg(&cache);
        cmd.args(&args);
        cmd.env_remove("KUBECONFIG");
        let out = match stdin {
            None => cmd
                .stdin(std::process::Stdio::null())
                .output()
                .expect("run kubectl"),
            Some(text) => {
                use std::io::Write;
                cmd.stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped());
                let mut child = cmd.spawn().expect("run kubectl");
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(text.as_bytes())
                    .expect("write stdin");
                child.wait_with_output().expect("kubectl output")
            }
        };
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

pub fn wait() -> Duration {
    Duration::from_secs(30)
}

/// Creates an events.k8s.io/v1 event from raw JSON, for bodies the typed
/// client cannot express.
pub async fn create_raw(client: kube::Client, ns: &str, v: Value) -> Result<Value, kube::Error> {
    use kube::core::{ApiResource, DynamicObject, GroupVersionKind};
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk("events.k8s.io", "v1", "Event"));
    let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(client, ns, &ar);
    let obj: DynamicObject = serde_json::from_value(v).unwrap();
    let created = api.create(&kube::api::PostParams::default(), &obj).await?;
    Ok(serde_json::to_value(created).unwrap())
}

/// One HTTP/1.1 request to a plain-HTTP server: (status, headers, body).
pub async fn raw_request(
    server: &ApiServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.addr()
    );
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        req.push_str("Content-Type: application/json\r\n");
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head.to_owned(), body.to_owned())
}
