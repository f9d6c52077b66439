//! Fault injection and the request log.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Requests kept in the log; older ones are forgotten (counters keep counting).
pub const REQUEST_LOG_LIMIT: usize = 100_000;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What an injected fault does to a request.
///
/// # Example
///
/// ```
/// use kube_apiserver_double::{FaultAction, RandomFaults};
///
/// let faults = RandomFaults::new(1, 0.1).actions(vec![FaultAction::DropResponse]);
/// # let _ = faults;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Answer this status code with a `Status` body (429 carries
    /// `Retry-After`).
    Status {
        /// HTTP status code.
        code: u16,
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// Close the connection without answering; the request is not served.
    Drop,
    /// Serve the request (its effects are stored), then close the
    /// connection without sending the answer: the client cannot tell whether
    /// its write happened.
    DropResponse,
    /// Wait, then serve the request normally.
    Delay(Duration),
}

/// A fault for the next `times` requests that match.
///
/// ```
/// use kube_apiserver_double::FaultRule;
///
/// // The next two PATCHes of events answer 503.
/// let rule = FaultRule::status(503).times(2).method("PATCH").path_prefix("/apis/events.k8s.io/");
/// # let _ = rule;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    action: FaultAction,
    remaining: usize,
    scope: Scope,
}

/// Which requests a fault applies to: an optional method and path prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Scope {
    method: Option<String>,
    path_prefix: Option<String>,
}

impl Scope {
    fn method(&mut self, method: &str) {
        self.method = Some(method.to_ascii_uppercase());
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

impl FaultRule {
    /// Answer `code` once.
    pub fn status(code: u16) -> FaultRule {
        FaultRule::new(FaultAction::Status {
            code,
            retry_after: None,
        })
    }

    /// Answer 429 with `Retry-After: retry_after_secs` once.
    pub fn throttle(retry_after_secs: u64) -> FaultRule {
        FaultRule::new(FaultAction::Status {
            code: 429,
            retry_after: Some(retry_after_secs),
        })
    }

    /// Close the connection without an answer once.
    pub fn drop_connection() -> FaultRule {
        FaultRule::new(FaultAction::Drop)
    }

    /// Serve one request, then close the connection without the answer.
    pub fn drop_response() -> FaultRule {
        FaultRule::new(FaultAction::DropResponse)
    }

    /// Delay one request by `delay`, then serve it.
    pub fn delay(delay: Duration) -> FaultRule {
        FaultRule::new(FaultAction::Delay(delay))
    }

    fn new(action: FaultAction) -> FaultRule {
        FaultRule {
            action,
            remaining: 1,
            scope: Scope::default(),
        }
    }

    /// Applies to the next `n` matching requests instead of one.
    #[must_use]
    pub fn times(mut self, n: usize) -> FaultRule {
        self.remaining = n;
        self
    }

    /// Only requests with this method (`"POST"`, `"PATCH"`, ...).
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> FaultRule {
        self.scope.method(&method.into());
        self
    }

    /// Only requests whose path starts with `prefix`.
    #[must_use]
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> FaultRule {
        self.scope.path_prefix = Some(prefix.into());
        self
    }
}

/// Faults at a seeded random rate: each matching request fails with
/// probability `rate`, the failure drawn evenly from the actions (by default
/// 500, 503 and a dropped connection).
///
/// ```
/// use kube_apiserver_double::{FaultAction, RandomFaults};
///
/// let faults = RandomFaults::new(42, 0.3)
///     .actions(vec![FaultAction::Status { code: 500, retry_after: None }, FaultAction::Drop])
///     .path_prefix("/apis/events.k8s.io/");
/// # let _ = faults;
/// ```
#[derive(Clone, Debug)]
pub struct RandomFaults {
    rng: fastrand::Rng,
    rate: f64,
    actions: Vec<FaultAction>,
    scope: Scope,
}

impl RandomFaults {
    /// Fails a `rate` fraction (0.0 to 1.0) of matching requests, drawn
    /// from a generator seeded with `seed`.
    pub fn new(seed: u64, rate: f64) -> RandomFaults {
        RandomFaults {
            rng: fastrand::Rng::with_seed(seed),
            rate: rate.clamp(0.0, 1.0),
            actions: vec![
                FaultAction::Status {
                    code: 500,
                    retry_after: None,
                },
                FaultAction::Status {
                    code: 503,
                    retry_after: None,
                },
                FaultAction::Drop,
            ],
            scope: Scope::default(),
        }
    }

    /// The failures to draw from (an empty list keeps the defaults).
    #[must_use]
    pub fn actions(mut self, actions: Vec<FaultAction>) -> RandomFaults {
        if !actions.is_empty() {
            self.actions = actions;
        }
        self
    }

    /// Only requests with this method.
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> RandomFaults {
        self.scope.method(&method.into());
        self
    }

    /// Only requests whose path starts with `prefix`.
    #[must_use]
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> RandomFaults {
        self.scope.path_prefix = Some(prefix.into());
        self
    }

    fn draw(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        if !self.scope.matches(method, path) || self.rng.f64() >= self.rate {
            return None;
        }
        let i = self.rng.usize(..self.actions.len());
        self.actions.get(i).cloned()
    }
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<FaultRule>,
    latency: Option<Duration>,
    random: Option<RandomFaults>,
    injected: u64,
}

/// What to do with one request.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    pub(crate) delay: Option<Duration>,
    pub(crate) action: Option<FaultAction>,
}

/// A handle to inject faults into a running [`ApiServer`](super::ApiServer).
/// Clones share the same state.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kube_apiserver_double::{ApiServer, FaultRule};
///
/// let server = ApiServer::builder().plain_http().start().await?;
/// server.faults().fail_next(2, 503);
/// server.faults().add(FaultRule::throttle(1).method("POST"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct ServerFaults {
    inner: Arc<Mutex<FaultState>>,
}

impl ServerFaults {
    /// Adds a rule; rules are tried in the order they were added.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::{ApiServer, FaultRule};
    /// let server = ApiServer::start().await?;
    /// server.faults().add(FaultRule::status(500).times(2).method("POST"));
    /// # Ok(()) }
    /// ```
    pub fn add(&self, rule: FaultRule) {
        lock(&self.inner).rules.push(rule);
    }

    /// The next `n` requests (any) answer `code`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().fail_next(1, 500);
    /// let err = server.client().await?.apiserver_version().await.unwrap_err();
    /// assert!(matches!(err, kube::Error::Api(s) if s.code == 500));
    /// # Ok(()) }
    /// ```
    pub fn fail_next(&self, n: usize, code: u16) {
        self.add(FaultRule::status(code).times(n));
    }

    /// The next `n` requests answer 429 with `Retry-After`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().throttle_next(1, 1);
    /// # server.faults().clear();
    /// # Ok(()) }
    /// ```
    pub fn throttle_next(&self, n: usize, retry_after_secs: u64) {
        self.add(FaultRule::throttle(retry_after_secs).times(n));
    }

    /// The next `n` requests get their connection closed without an answer.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().drop_next(1);
    /// assert!(server.client().await?.apiserver_version().await.is_err());
    /// assert_eq!(server.requests().all()[0].status, None);
    /// # Ok(()) }
    /// ```
    pub fn drop_next(&self, n: usize) {
        self.add(FaultRule::drop_connection().times(n));
    }

    /// Delays every request by `latency` (`None` to stop).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().set_latency(Some(std::time::Duration::from_millis(1)));
    /// server.client().await?.apiserver_version().await?;
    /// server.faults().set_latency(None);
    /// # Ok(()) }
    /// ```
    pub fn set_latency(&self, latency: Option<Duration>) {
        lock(&self.inner).latency = latency;
    }

    /// Fails requests at random (`None` to stop).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::{ApiServer, RandomFaults};
    /// let server = ApiServer::start().await?;
    /// server.faults().set_random(Some(RandomFaults::new(7, 0.3).path_prefix("/apis/events.k8s.io/")));
    /// # Ok(()) }
    /// ```
    pub fn set_random(&self, random: Option<RandomFaults>) {
        lock(&self.inner).random = random;
    }

    /// Removes every rule, the latency and the random faults.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().fail_next(5, 503);
    /// server.faults().clear();
    /// server.client().await?.apiserver_version().await?;
    /// assert_eq!(server.faults().injected(), 0);
    /// # Ok(()) }
    /// ```
    pub fn clear(&self) {
        let mut st = lock(&self.inner);
        st.rules.clear();
        st.latency = None;
        st.random = None;
    }

    /// How many faults (statuses, drops and delays) were injected so far.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// server.faults().fail_next(1, 500);
    /// let _ = server.client().await?.apiserver_version().await;
    /// assert_eq!(server.faults().injected(), 1);
    /// # Ok(()) }
    /// ```
    pub fn injected(&self) -> u64 {
        lock(&self.inner).injected
    }

    /// Decides the fate of one request.
    pub(crate) fn decide(&self, method: &str, path: &str) -> Decision {
        let mut st = lock(&self.inner);
        let mut decision = Decision {
            delay: st.latency,
            action: None,
        };
        let mut chosen = None;
        if let Some(rule) = st
            .rules
            .iter_mut()
            .find(|r| r.remaining > 0 && r.scope.matches(method, path))
        {
            rule.remaining -= 1;
            chosen = Some(rule.action.clone());
        }
        st.rules.retain(|r| r.remaining > 0);
        if chosen.is_none() {
            chosen = st.random.as_mut().and_then(|r| r.draw(method, path));
        }
        match chosen {
            Some(FaultAction::Delay(d)) => {
                st.injected += 1;
                decision.delay = Some(decision.delay.unwrap_or_default() + d);
            }
            Some(action) => {
                st.injected += 1;
                decision.action = Some(action);
            }
            None => {}
        }
        decision
    }
}

/// One request the server received.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kube_apiserver_double::ApiServer;
/// use k8s_openapi::api::core::v1::ConfigMap;
/// use kube::api::{Api, ListParams};
///
/// let server = ApiServer::start().await?;
/// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
/// cms.list(&ListParams::default().labels("app=web")).await?;
/// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
/// let log = server.requests();
/// let first = &log.all()[0];
/// assert_eq!((first.method.as_str(), first.path.as_str()), ("GET", "/api/v1/namespaces/default/configmaps"));
/// assert_eq!(first.status, Some(200));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`, `PATCH`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The request body (lossy UTF-8).
    pub body: String,
    /// The authenticated user, if the token was valid.
    pub user: Option<String>,
    /// The status answered (for [`FaultAction::DropResponse`], the status
    /// that was not sent); `None` when the connection was dropped before
    /// the request was served.
    pub status: Option<u16>,
    /// Whether the answer was an injected fault.
    pub injected: bool,
}

impl RequestRecord {
    /// Whether this request had `method` (any if empty) and a path under
    /// `path_prefix`.
    fn is(&self, method: &str, path_prefix: &str) -> bool {
        (method.is_empty() || self.method.eq_ignore_ascii_case(method))
            && self.path.starts_with(path_prefix)
    }

    /// The percent-decoded value of a query parameter.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert_eq!(log.all()[0].query_param("labelSelector").as_deref(), Some("app=web"));
    /// # Ok(()) }
    /// ```
    pub fn query_param(&self, key: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        super::http::query_pairs(q)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The body parsed as JSON.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// let mut cm = ConfigMap::default();
    /// cm.metadata.name = Some("settings".into());
    /// cms.create(&Default::default(), &cm).await?;
    /// let post = &log.matching("POST", "/api/v1/")[0];
    /// assert_eq!(post.body_json().unwrap()["metadata"]["name"], "settings");
    /// # Ok(()) }
    /// ```
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

#[derive(Debug, Default)]
struct LogState {
    records: VecDeque<RequestRecord>,
    total: u64,
}

/// The log of requests a server received, oldest first. Clones share it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use kube_apiserver_double::ApiServer;
///
/// let server = ApiServer::builder().plain_http().start().await?;
/// let log = server.requests();
/// assert_eq!(log.count("POST", "/apis/events.k8s.io/"), 0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<LogState>>,
}

impl RequestLog {
    pub(crate) fn push(&self, record: RequestRecord) {
        let mut st = lock(&self.inner);
        if st.records.len() >= REQUEST_LOG_LIMIT {
            st.records.pop_front();
        }
        st.records.push_back(record);
        st.total += 1;
    }

    /// Every kept record.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert_eq!(log.all().len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn all(&self) -> Vec<RequestRecord> {
        lock(&self.inner).records.iter().cloned().collect()
    }

    /// Records with this method (any if empty) whose path starts with `path_prefix`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert_eq!(log.matching("GET", "/api/v1/namespaces/default/").len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn matching(&self, method: &str, path_prefix: &str) -> Vec<RequestRecord> {
        lock(&self.inner)
            .records
            .iter()
            .filter(|r| r.is(method, path_prefix))
            .cloned()
            .collect()
    }

    /// How many kept records match, as in [`RequestLog::matching`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert_eq!(log.count("", "/api/v1/"), 2);
    /// # Ok(()) }
    /// ```
    pub fn count(&self, method: &str, path_prefix: &str) -> usize {
        lock(&self.inner)
            .records
            .iter()
            .filter(|r| r.is(method, path_prefix))
            .count()
    }

    /// Records kept now.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert_eq!(log.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        lock(&self.inner).records.len()
    }

    /// Whether no record is kept.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert!(!log.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn is_empty(&self) -> bool {
        lock(&self.inner).records.is_empty()
    }

    /// Requests received since the server started (cleared records included).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// log.clear();
    /// assert_eq!(log.total(), 2);
    /// # Ok(()) }
    /// ```
    pub fn total(&self) -> u64 {
        lock(&self.inner).total
    }

    /// How many kept records are writes (`POST`, `PUT`, `PATCH`, `DELETE`)
    /// whose path starts with `path_prefix`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// assert_eq!(log.writes("/api/v1/"), 1);
    /// # Ok(()) }
    /// ```
    pub fn writes(&self, path_prefix: &str) -> usize {
        lock(&self.inner)
            .records
            .iter()
            .filter(|r| {
                matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE")
                    && r.path.starts_with(path_prefix)
            })
            .count()
    }

    /// Forgets the kept records (the total keeps counting).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use kube_apiserver_double::ApiServer;
    /// use k8s_openapi::api::core::v1::ConfigMap;
    /// use kube::api::{Api, ListParams};
    ///
    /// let server = ApiServer::start().await?;
    /// let cms: Api<ConfigMap> = Api::namespaced(server.client().await?, "default");
    /// cms.list(&ListParams::default().labels("app=web")).await?;
    /// cms.delete_collection(&Default::default(), &ListParams::default()).await?;
    /// let log = server.requests();
    /// log.clear();
    /// assert!(log.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn clear(&self) {
        lock(&self.inner).records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_count_down_in_order() {
        let f = ServerFaults::default();
        f.add(FaultRule::status(503).times(2).method("patch"));
        f.drop_next(1);
        assert_eq!(f.decide("GET", "/api").action, Some(FaultAction::Drop));
        assert!(f.decide("GET", "/api").action.is_none());
        for _ in 0..2 {
            assert_eq!(
                f.decide("PATCH", "/x").action,
                Some(FaultAction::Status {
                    code: 503,
                    retry_after: None
                })
            );
        }
        assert!(f.decide("PATCH", "/x").action.is_none());
        assert_eq!(f.injected(), 3);
    }

    #[test]
    fn random_faults_are_seeded() {
        let run = || {
            let f = ServerFaults::default();
            f.set_random(Some(RandomFaults::new(7, 0.3)));
            (0..1000)
                .filter(|_| f.decide("POST", "/").action.is_some())
                .count()
        };
        let n = run();
        assert_eq!(n, run());
        assert!((200..400).contains(&n), "{n}");
    }

    #[test]
    fn log_counts() {
        let log = RequestLog::default();
        for m in ["GET", "POST", "POST"] {
            log.push(RequestRecord {
                method: m.into(),
                path: "/apis/events.k8s.io/v1/namespaces/a/events".into(),
                query: Some("fieldSelector=reason%3DX".into()),
                content_type: None,
                body: String::new(),
                user: None,
                status: Some(200),
                injected: false,
            });
        }
        assert_eq!(log.count("POST", "/apis/events.k8s.io/"), 2);
        assert_eq!(log.count("", "/apis"), 3);
        assert_eq!(log.writes("/apis/events.k8s.io/"), 2);
        assert_eq!(
            log.all()[0].query_param("fieldSelector").as_deref(),
            Some("reason=X")
        );
        log.clear();
        assert!(log.is_empty());
        assert_eq!(log.total(), 3);
    }
}
