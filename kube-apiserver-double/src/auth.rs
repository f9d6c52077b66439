//! Bearer tokens and what each may do.

/// What a token may do: verbs on resources, cluster-wide or in one
/// namespace, with deny rules taking precedence over allow rules, and a
/// default for everything unnamed.
///
/// A resource is named by its plural (`"events"`, matching every API group)
/// or by `plural.group` (`"events.events.k8s.io"`; core resources have no
/// group suffix: `"pods"`); a subresource is `plural/sub` (`"pods/status"`,
/// which `"pods"` does not cover). `"*"` matches any resource or verb. Verbs
/// are the Kubernetes ones: `get`, `list`, `watch`, `create`, `update`,
/// `patch`, `delete`, `deletecollection`.
///
/// A rule given with [`allow`](Permissions::allow) holds in every namespace
/// and at the cluster scope, like a ClusterRoleBinding; one given with
/// [`allow_in`](Permissions::allow_in) holds only for requests in that
/// namespace, like a RoleBinding. The server answers
/// SelfSubjectAccessReviews (`kubectl auth can-i`) from the same rules.
///
/// ```
/// use kube_apiserver_double::Permissions;
///
/// let publisher = Permissions::none().allow("events", "create").allow("events", "patch");
/// assert!(publisher.allows("events", "events.k8s.io", "patch"));
/// assert!(!publisher.allows("pods", "", "get"));
///
/// let no_patch = Permissions::all().deny("events.events.k8s.io", "patch");
/// assert!(!no_patch.allows("events", "events.k8s.io", "patch"));
/// assert!(no_patch.allows("events", "", "patch"));
///
/// let shop_only = Permissions::none().allow_in("shop", "events.events.k8s.io", "create");
/// assert!(shop_only.allows_in(Some("shop"), "events", "events.k8s.io", "create"));
/// assert!(!shop_only.allows_in(Some("default"), "events", "events.k8s.io", "create"));
/// assert!(!shop_only.allows_in(None, "events", "events.k8s.io", "create"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    default_allow: bool,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
}

/// One allow or deny rule.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    /// `None`: every namespace and the cluster scope.
    namespace: Option<String>,
    resource: String,
    verb: String,
}

impl Rule {
    fn matches(&self, namespace: Option<&str>, plural: &str, group: &str, verb: &str) -> bool {
        let scope_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| Some(ns) == namespace);
        let res = self.resource.as_str();
        let res_ok = res == "*"
            || res == plural
            || res
                .strip_prefix(plural)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|g| g == group)
            || group_with_sub(res, plural, group);
        scope_ok && res_ok && (self.verb == "*" || self.verb == verb)
    }
}

/// `pods.group/status` style names for a subresource (`plural` is
/// `pods/status` then).
fn group_with_sub(res: &str, plural: &str, group: &str) -> bool {
    let (Some((res_base, res_sub)), Some((base, sub))) =
        (res.split_once('/'), plural.split_once('/'))
    else {
        return false;
    };
    res_sub == sub
        && (res_base == base
            || res_base
                .strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|g| g == group))
}

/// What the rules say about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A rule (or the default) allows it.
    Allowed,
    /// A deny rule matches.
    Denied,
    /// Nothing allows it.
    NoOpinion,
}

impl Permissions {
    /// Everything allowed (until denied).
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// assert!(Permissions::all().allows("pods", "", "delete"));
    /// ```
    pub fn all() -> Permissions {
        Permissions {
            default_allow: true,
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }

    /// Nothing allowed (until allowed). Discovery (`/api`, `/apis`,
    /// `/version`) stays open to every valid token, and so do the reviews
    /// of its own access (`kubectl auth can-i`, `kubectl auth whoami`).
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// assert!(!Permissions::none().allows("events", "events.k8s.io", "create"));
    /// ```
    pub fn none() -> Permissions {
        Permissions {
            default_allow: false,
            allow: Vec::new(),
            deny: Vec::new(),
        }
    }

    fn rule(
        namespace: Option<String>,
        resource: impl Into<String>,
        verb: impl Into<String>,
    ) -> Rule {
        Rule {
            namespace,
            resource: resource.into(),
            verb: verb.into(),
        }
    }

    /// Allows `verb` on `resource` everywhere.
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// let p = Permissions::none().allow("configmaps", "*");
    /// assert!(p.allows("configmaps", "", "watch"));
    /// ```
    #[must_use]
    pub fn allow(mut self, resource: impl Into<String>, verb: impl Into<String>) -> Permissions {
        self.allow.push(Permissions::rule(None, resource, verb));
        self
    }

    /// Allows `verb` on `resource` in `namespace` only.
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// let p = Permissions::none().allow_in("shop", "configmaps", "get");
    /// assert!(p.allows_in(Some("shop"), "configmaps", "", "get"));
    /// assert!(!p.allows_in(Some("other"), "configmaps", "", "get"));
    /// ```
    #[must_use]
    pub fn allow_in(
        mut self,
        namespace: impl Into<String>,
        resource: impl Into<String>,
        verb: impl Into<String>,
    ) -> Permissions {
        self.allow
            .push(Permissions::rule(Some(namespace.into()), resource, verb));
        self
    }

    /// Denies `verb` on `resource` everywhere, whatever else allows it.
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// let p = Permissions::all().allow("events", "patch").deny("events", "patch");
    /// assert!(!p.allows("events", "events.k8s.io", "patch"));
    /// ```
    #[must_use]
    pub fn deny(mut self, resource: impl Into<String>, verb: impl Into<String>) -> Permissions {
        self.deny.push(Permissions::rule(None, resource, verb));
        self
    }

    /// Denies `verb` on `resource` in `namespace`, whatever else allows it.
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// let p = Permissions::all().deny_in("kube-system", "*", "*");
    /// assert!(!p.allows_in(Some("kube-system"), "pods", "", "get"));
    /// assert!(p.allows_in(Some("default"), "pods", "", "get"));
    /// ```
    #[must_use]
    pub fn deny_in(
        mut self,
        namespace: impl Into<String>,
        resource: impl Into<String>,
        verb: impl Into<String>,
    ) -> Permissions {
        self.deny
            .push(Permissions::rule(Some(namespace.into()), resource, verb));
        self
    }

    /// Whether `verb` on `plural` in API `group` (empty for core) is allowed
    /// at the cluster scope (or in every namespace at once).
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// let p = Permissions::none().allow("events.events.k8s.io", "create");
    /// assert!(p.allows("events", "events.k8s.io", "create"));
    /// assert!(!p.allows("events", "", "create"));
    /// ```
    pub fn allows(&self, plural: &str, group: &str, verb: &str) -> bool {
        self.allows_in(None, plural, group, verb)
    }

    /// Whether `verb` on `plural` in API `group` is allowed in `namespace`
    /// (`None`: at the cluster scope).
    ///
    /// # Example
    ///
    /// ```
    /// use kube_apiserver_double::Permissions;
    ///
    /// let p = Permissions::none().allow("pods", "get").allow_in("shop", "pods", "delete");
    /// assert!(p.allows_in(Some("shop"), "pods", "", "get"));
    /// assert!(p.allows_in(Some("shop"), "pods", "", "delete"));
    /// assert!(!p.allows_in(Some("web"), "pods", "", "delete"));
    /// ```
    pub fn allows_in(
        &self,
        namespace: Option<&str>,
        plural: &str,
        group: &str,
        verb: &str,
    ) -> bool {
        self.decide(namespace, plural, group, verb) == Decision::Allowed
    }

    /// What the rules say about `verb` on `plural` in `group` and `namespace`.
    pub(crate) fn decide(
        &self,
        namespace: Option<&str>,
        plural: &str,
        group: &str,
        verb: &str,
    ) -> Decision {
        let matches = |r: &Rule| r.matches(namespace, plural, group, verb);
        if self.deny.iter().any(matches) {
            Decision::Denied
        } else if self.default_allow || self.allow.iter().any(matches) {
            Decision::Allowed
        } else {
            Decision::NoOpinion
        }
    }

    /// Whether every verb on every resource is allowed (nothing denied).
    pub(crate) fn is_unrestricted(&self) -> bool {
        self.default_allow && self.deny.is_empty()
    }
}

impl Default for Permissions {
    fn default() -> Permissions {
        Permissions::all()
    }
}

/// A token the server accepts.
#[derive(Clone, Debug)]
pub(crate) struct TokenEntry {
    pub(crate) token: String,
    pub(crate) user: String,
    pub(crate) permissions: Permissions,
}

/// Finds the user for an `Authorization` header value.
pub(crate) fn authenticate<'a>(
    tokens: &'a [TokenEntry],
    header: Option<&str>,
) -> Option<&'a TokenEntry> {
    let header = header?;
    let (scheme, token) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    tokens.iter().find(|t| t.token == token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let tokens = vec![TokenEntry {
            token: "abc".into(),
            user: "alice".into(),
            permissions: Permissions::all(),
        }];
        assert_eq!(
            authenticate(&tokens, Some("Bearer abc")).map(|t| t.user.as_str()),
            Some("alice")
        );
        assert!(authenticate(&tokens, Some("Bearer abd")).is_none());
        assert!(authenticate(&tokens, Some("Basic abc")).is_none());
        assert!(authenticate(&tokens, None).is_none());
    }

    #[test]
    fn namespaces_and_subresources() {
        let p = Permissions::none()
            .allow_in("shop", "events.events.k8s.io", "create")
            .allow("pods/status", "patch")
            .deny_in("shop", "pods/status", "patch");
        assert_eq!(
            p.decide(Some("shop"), "events", "events.k8s.io", "create"),
            Decision::Allowed
        );
        assert_eq!(
            p.decide(None, "events", "events.k8s.io", "create"),
            Decision::NoOpinion
        );
        assert_eq!(
            p.decide(Some("web"), "pods/status", "", "patch"),
            Decision::Allowed
        );
        assert_eq!(
            p.decide(Some("shop"), "pods/status", "", "patch"),
            Decision::Denied
        );
        assert_eq!(
            p.decide(Some("web"), "pods", "", "patch"),
            Decision::NoOpinion
        );
        assert!(Permissions::all().is_unrestricted());
        assert!(!Permissions::all().deny("pods", "get").is_unrestricted());
    }

    #[test]
    fn wildcards() {
        let p = Permissions::none().allow("*", "get");
        assert!(p.allows("pods", "", "get"));
        assert!(!p.allows("pods", "", "list"));
        let p = Permissions::all().deny("events", "*");
        assert!(!p.allows("events", "", "list"));
        assert!(p.allows("pods", "", "list"));
    }
}
