//! Bearer tokens and what each may do.

/// What a token may do: verbs on resources, with deny rules taking
/// precedence over allow rules, and a default for everything unnamed.
///
/// A resource is named by its plural (`"events"`, matching every API group)
/// or by `plural.group` (`"events.events.k8s.io"`; core resources have no
/// group suffix: `"pods"`). `"*"` matches any resource or verb. Verbs are the
/// Kubernetes ones: `get`, `list`, `watch`, `create`, `update`, `patch`,
/// `delete`.
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
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    default_allow: bool,
    allow: Vec<(String, String)>,
    deny: Vec<(String, String)>,
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
    /// `/version`) stays open to every valid token.
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

    /// Allows `verb` on `resource`.
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
        self.allow.push((resource.into(), verb.into()));
        self
    }

    /// Denies `verb` on `resource`, whatever else allows it.
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
        self.deny.push((resource.into(), verb.into()));
        self
    }

    /// Whether `verb` on `plural` in API `group` (empty for core) is allowed.
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
        let matches = |(res, v): &(String, String)| {
            let res_ok = res == "*"
                || res == plural
                || res
                    .strip_prefix(plural)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|g| g == group);
            res_ok && (v == "*" || v == verb)
        };
        if self.deny.iter().any(matches) {
            return false;
        }
        self.default_allow || self.allow.iter().any(matches)
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
    fn wildcards() {
        let p = Permissions::none().allow("*", "get");
        assert!(p.allows("pods", "", "get"));
        assert!(!p.allows("pods", "", "list"));
        let p = Permissions::all().deny("events", "*");
        assert!(!p.allows("events", "", "list"));
        assert!(p.allows("pods", "", "list"));
    }
}
