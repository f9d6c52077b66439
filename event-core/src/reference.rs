//! [`ObjectRef`]: a reference to the Kubernetes object an event is about.

/// A reference to a Kubernetes object: the `regarding` or `related` object of
/// an event.
///
/// It carries the same fields as core/v1 `ObjectReference`. Events keep the
/// reference exactly as given (a cluster-scoped object keeps an empty
/// namespace; `kubectl describe` looks for exactly that). For correlating
/// repeats, `resource_version` is ignored: an object update does not split a
/// series (see [`EventKey`](crate::key::EventKey)).
///
/// # Example
///
/// ```
/// use event_core::ObjectRef;
///
/// let pod = ObjectRef::new("v1", "Pod", "web-0")
///     .within("shop")
///     .with_uid("6c1b8f1e-0000-4000-8000-000000000001");
/// assert_eq!(pod.namespace.as_deref(), Some("shop"));
/// assert!(!pod.is_cluster_scoped());
///
/// let node = ObjectRef::new("v1", "Node", "worker-1");
/// assert!(node.is_cluster_scoped());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    /// API version of the object, e.g. `v1` or `apps/v1`.
    pub api_version: String,
    /// Kind of the object, e.g. `Pod`.
    pub kind: String,
    /// Name of the object.
    pub name: String,
    /// Namespace of the object; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// UID of the object.
    pub uid: Option<String>,
    /// Path to a part of the object, e.g. `spec.containers{app}`.
    pub field_path: Option<String>,
    /// Resource version the reference was taken at. Ignored by event keys.
    pub resource_version: Option<String>,
}

impl ObjectRef {
    /// A reference to a cluster-scoped object (or a namespaced one, once
    /// [`within`](Self::within) is called).
    pub fn new(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the namespace.
    #[must_use]
    pub fn within(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the UID.
    #[must_use]
    pub fn with_uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = Some(uid.into());
        self
    }

    /// Sets the field path.
    #[must_use]
    pub fn with_field_path(mut self, field_path: impl Into<String>) -> Self {
        self.field_path = Some(field_path.into());
        self
    }

    /// Sets the resource version.
    #[must_use]
    pub fn with_resource_version(mut self, resource_version: impl Into<String>) -> Self {
        self.resource_version = Some(resource_version.into());
        self
    }

    /// Whether the object has no namespace (a Node, a Namespace, a
    /// `ClusterRole`, ...). An empty namespace counts as none.
    ///
    /// # Example
    ///
    /// ```
    /// let mut r = event_core::ObjectRef::new("v1", "Namespace", "shop");
    /// assert!(r.is_cluster_scoped());
    /// r.namespace = Some(String::new());
    /// assert!(r.is_cluster_scoped());
    /// ```
    pub fn is_cluster_scoped(&self) -> bool {
        self.namespace.as_deref().is_none_or(str::is_empty)
    }

    /// Whether this reference points at an `Event` (events about events are
    /// never written, to prevent event loops).
    pub fn is_event(&self) -> bool {
        self.kind == "Event"
            && (self.api_version == "v1"
                || self.api_version.starts_with("events.k8s.io/")
                || self.api_version.is_empty())
    }
}

#[cfg(feature = "k8s-openapi")]
mod k8s {
    use k8s_openapi::api::core::v1::ObjectReference;

    use super::ObjectRef;

    impl From<&ObjectReference> for ObjectRef {
        fn from(r: &ObjectReference) -> Self {
            Self {
                api_version: r.api_version.clone().unwrap_or_default(),
                kind: r.kind.clone().unwrap_or_default(),
                name: r.name.clone().unwrap_or_default(),
                namespace: r.namespace.clone().filter(|ns| !ns.is_empty()),
                uid: r.uid.clone(),
                field_path: r.field_path.clone(),
                resource_version: r.resource_version.clone(),
            }
        }
    }

    impl From<ObjectReference> for ObjectRef {
        fn from(r: ObjectReference) -> Self {
            Self {
                api_version: r.api_version.unwrap_or_default(),
                kind: r.kind.unwrap_or_default(),
                name: r.name.unwrap_or_default(),
                namespace: r.namespace.filter(|ns| !ns.is_empty()),
                uid: r.uid,
                field_path: r.field_path,
                resource_version: r.resource_version,
            }
        }
    }

    impl From<&ObjectRef> for ObjectReference {
        fn from(r: &ObjectRef) -> Self {
            let non_empty = |s: &String| (!s.is_empty()).then(|| s.clone());
            Self {
                api_version: non_empty(&r.api_version),
                kind: non_empty(&r.kind),
                name: non_empty(&r.name),
                namespace: r.namespace.clone(),
                uid: r.uid.clone(),
                field_path: r.field_path.clone(),
                resource_version: r.resource_version.clone(),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trip_through_object_reference() {
            let r = ObjectRef::new("v1", "Pod", "p")
                .within("ns")
                .with_uid("u")
                .with_field_path("spec")
                .with_resource_version("7");
            let k: ObjectReference = (&r).into();
            assert_eq!(k.kind.as_deref(), Some("Pod"));
            assert_eq!(ObjectRef::from(&k), r);
            assert_eq!(ObjectRef::from(k), r);
        }

        #[test]
        fn empty_namespace_is_cluster_scoped() {
            let k = ObjectReference {
                kind: Some("Node".into()),
                name: Some("n".into()),
                namespace: Some(String::new()),
                ..ObjectReference::default()
            };
            assert!(ObjectRef::from(&k).is_cluster_scoped());
            assert_eq!(ObjectRef::from(&k).namespace, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_detection() {
        assert!(ObjectRef::new("v1", "Event", "e").is_event());
        assert!(ObjectRef::new("events.k8s.io/v1", "Event", "e").is_event());
        assert!(!ObjectRef::new("example.com/v1", "Event", "e").is_event());
        assert!(!ObjectRef::new("v1", "Pod", "e").is_event());
    }
}
