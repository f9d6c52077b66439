//! [`KubeSink::check_access`]: whether the controller may publish events,
//! asked of the API server at startup with SelfSubjectAccessReviews.

use std::fmt;

use event_core::sink::SinkError;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::PostParams;

use crate::KubeSink;

/// The verbs a publisher uses on `events.k8s.io` `events`: `create` for a
/// new event, `patch` for its series, `get` to continue a series after a
/// restart or an eviction (without it, such a series starts a new Event).
///
/// # Example
///
/// ```
/// assert_eq!(event_kube::EVENT_VERBS, ["create", "patch", "get"]);
/// ```
pub const EVENT_VERBS: [&str; 3] = ["create", "patch", "get"];

/// The path SelfSubjectAccessReviews are posted to.
const REVIEWS: &str = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// One verb in one namespace, as the API server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The namespace asked about.
    pub namespace: String,
    /// The verb on `events.k8s.io` `events`.
    pub verb: &'static str,
    /// Whether the controller may.
    pub allowed: bool,
    /// The authorizer's explanation, when it gave one.
    pub reason: Option<String>,
}

/// What [`KubeSink::check_access`] found: one [`Access`] per namespace and
/// verb of [`EVENT_VERBS`]. Its `Display` names each missing verb and
/// namespace and the RBAC rule that grants it.
///
/// # Example
///
/// ```
/// use event_kube::{Access, AccessReport};
///
/// let access = |verb, allowed| Access {
///     namespace: "shop".into(), verb, allowed, reason: None,
/// };
/// let report = AccessReport {
///     checks: vec![access("create", true), access("patch", false), access("get", false)],
///     ..AccessReport::default()
/// };
/// assert!(!report.is_allowed());
/// assert_eq!(report.missing().count(), 2);
/// assert_eq!(
///     report.to_string(),
///     "missing RBAC for events.k8s.io events: \"patch\", \"get\" in namespace shop; \
///      grant them with a Role in each of those namespaces (or a ClusterRole) with the rule \
///      apiGroups: [\"events.k8s.io\"], resources: [\"events\"], verbs: [\"create\", \"patch\", \"get\"], \
///      bound to the controller's service account",
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessReport {
    /// Every answer, by namespace then verb.
    pub checks: Vec<Access>,
    /// The API group asked about: `events.k8s.io` (the default, for
    /// [`KubeSink`]) or `""` (core/v1, for [`CoreV1Sink`](crate::CoreV1Sink)).
    pub api_group: &'static str,
}

impl Default for AccessReport {
    fn default() -> Self {
        Self {
            checks: Vec::new(),
            api_group: EVENTS_GROUP,
        }
    }
}

/// The group of `events.k8s.io/v1` Events.
const EVENTS_GROUP: &str = "events.k8s.io";

impl AccessReport {
    /// Whether every verb is allowed in every namespace checked.
    pub fn is_allowed(&self) -> bool {
        self.checks.iter().all(|c| c.allowed)
    }

    /// The verbs and namespaces not allowed.
    pub fn missing(&self) -> impl Iterator<Item = &Access> {
        self.checks.iter().filter(|c| !c.allowed)
    }

    /// How messages name the API: its group, or `core/v1`.
    fn api_name(&self) -> &'static str {
        if self.api_group.is_empty() {
            "core/v1"
        } else {
            self.api_group
        }
    }

    /// The namespaces with a missing verb, with those verbs, in order.
    fn missing_by_namespace(&self) -> Vec<(&str, Vec<&'static str>)> {
        let mut out: Vec<(&str, Vec<&'static str>)> = Vec::new();
        for access in self.missing() {
            match out.last_mut() {
                Some((ns, verbs)) if *ns == access.namespace => verbs.push(access.verb),
                _ => out.push((&access.namespace, vec![access.verb])),
            }
        }
        out
    }
}

impl fmt::Display for AccessReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let missing = self.missing_by_namespace();
        if missing.is_empty() {
            let mut namespaces: Vec<&str> = self.checks.iter().map(|c| &*c.namespace).collect();
            namespaces.dedup();
            return write!(
                f,
                "{} events: create, patch and get allowed in {}",
                self.api_name(),
                namespaces.join(", ")
            );
        }
        write!(f, "missing RBAC for {} events: ", self.api_name())?;
        for (i, (namespace, verbs)) in missing.iter().enumerate() {
            let verbs: Vec<String> = verbs.iter().map(|v| format!("{v:?}")).collect();
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{} in namespace {namespace}", verbs.join(", "))?;
        }
        write!(
            f,
            "; grant them with a Role in each of those namespaces (or a ClusterRole) with the rule \
             apiGroups: [{:?}], resources: [\"events\"], verbs: [\"create\", \"patch\", \"get\"], \
             bound to the controller's service account",
            self.api_group
        )
    }
}

impl KubeSink {
    /// Asks the API server, with one SelfSubjectAccessReview per namespace
    /// and verb (`POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`),
    /// whether this client may `create`, `patch` and `get` `events.k8s.io`
    /// `events` in each of `namespaces`. Include the namespace of events
    /// about cluster-scoped objects (`default` unless the Recorder was set
    /// otherwise). Run it at startup: a missing rule is found before the
    /// first event is lost.
    ///
    /// # Errors
    ///
    /// The [`SinkError`] of a review the server did not answer (every
    /// authenticated user may create SelfSubjectAccessReviews by default).
    ///
    /// # Example
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let sink = event_kube::KubeSink::try_default().await?;
    /// let report = sink.check_access(["shop", "default"]).await?;
    /// if report.is_allowed() {
    ///     tracing::info!(%report, "event RBAC checked");
    /// } else {
    ///     tracing::warn!(%report, "events will not be written");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn check_access<I, S>(&self, namespaces: I) -> Result<AccessReport, SinkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.check_access_in(EVENTS_GROUP, namespaces).await
    }

    /// [`check_access`](Self::check_access) for the events of `api_group`.
    pub(crate) async fn check_access_in<I, S>(
        &self,
        api_group: &'static str,
        namespaces: I,
    ) -> Result<AccessReport, SinkError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen: Vec<String> = Vec::new();
        let mut report = AccessReport {
            checks: Vec::new(),
            api_group,
        };
        for namespace in namespaces {
            let namespace = namespace.as_ref();
            if seen.iter().any(|n| n == namespace) {
                continue;
            }
            seen.push(namespace.to_owned());
            for verb in EVENT_VERBS {
                report
                    .checks
                    .push(self.review(api_group, namespace, verb).await?);
            }
        }
        Ok(report)
    }

    async fn review(
        &self,
        api_group: &str,
        namespace: &str,
        verb: &'static str,
    ) -> Result<Access, SinkError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(namespace.to_owned()),
                    verb: Some(verb.to_owned()),
                    group: Some(api_group.to_owned()),
                    resource: Some("events".to_owned()),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let body = serde_json::to_vec(&review).map_err(crate::sink::build_failed)?;
        let mut request = kube::core::Request::new(REVIEWS)
            .create(&PostParams::default(), body)
            .map_err(crate::sink::build_failed)?;
        request.extensions_mut().insert("selfsubjectaccessreview");
        let answer = self.exchange(request).await.map_err(|e| match e {
            SinkError::NotFound => SinkError::Fatal {
                message: "this API server does not serve SelfSubjectAccessReviews".to_owned(),
            },
            other => other,
        })?;
        let answer: SelfSubjectAccessReview =
            serde_json::from_slice(&answer).map_err(|e| SinkError::Fatal {
                message: format!("the API server's SelfSubjectAccessReview could not be read: {e}"),
            })?;
        let status = answer.status.ok_or_else(|| SinkError::Fatal {
            message: "the API server's SelfSubjectAccessReview has no status".to_owned(),
        })?;
        let reason = [status.reason, status.evaluation_error]
            .into_iter()
            .flatten()
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>();
        Ok(Access {
            namespace: namespace.to_owned(),
            verb,
            allowed: status.allowed && status.denied != Some(true),
            reason: (!reason.is_empty()).then(|| reason.join("; ")),
        })
    }
}
