//! The kinds the server knows, the API groups that serve them, and the
//! discovery documents.
//!
//! Built-in kinds are fixed; a custom kind exists while a
//! CustomResourceDefinition for it is stored (see [`crate::crd`]), so the
//! set of served kinds is computed from the store on every request.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::crd::CustomInfo;

/// Group of the new events API.
pub(crate) const EVENTS_GROUP: &str = "events.k8s.io";
/// Group of Leases.
pub(crate) const COORDINATION_GROUP: &str = "coordination.k8s.io";
/// Group of CustomResourceDefinitions.
pub(crate) const APIEXTENSIONS_GROUP: &str = "apiextensions.k8s.io";
/// Group of SelfSubjectAccessReviews.
pub(crate) const AUTHORIZATION_GROUP: &str = "authorization.k8s.io";
/// Group of SelfSubjectReviews.
pub(crate) const AUTHENTICATION_GROUP: &str = "authentication.k8s.io";

/// Kinds of stored objects.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Namespace,
    Node,
    Pod,
    ConfigMap,
    Event,
    Lease,
    CustomResourceDefinition,
    /// A kind defined by a stored CustomResourceDefinition.
    Custom(CustomKind),
}

/// A custom kind; two are the same kind when their group and plural are.
#[derive(Clone, Debug)]
pub(crate) struct CustomKind(pub(crate) Arc<CustomInfo>);

impl CustomKind {
    fn key(&self) -> (&str, &str) {
        (&self.0.group, &self.0.plural)
    }
}

impl PartialEq for CustomKind {
    fn eq(&self, other: &CustomKind) -> bool {
        self.key() == other.key()
    }
}

impl Eq for CustomKind {}

impl PartialOrd for CustomKind {
    fn partial_cmp(&self, other: &CustomKind) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CustomKind {
    fn cmp(&self, other: &CustomKind) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for CustomKind {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl Kind {
    /// Every built-in kind.
    pub(crate) const BUILT_IN: [Kind; 7] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::ConfigMap,
        Kind::Event,
        Kind::Lease,
        Kind::CustomResourceDefinition,
    ];

    /// The resource (plural) name.
    pub(crate) fn plural(&self) -> &str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::ConfigMap => "configmaps",
            Kind::Event => "events",
            Kind::Lease => "leases",
            Kind::CustomResourceDefinition => "customresourcedefinitions",
            Kind::Custom(c) => &c.0.plural,
        }
    }

    /// The singular resource name.
    fn singular(&self) -> &str {
        match self {
            Kind::Namespace => "namespace",
            Kind::Node => "node",
            Kind::Pod => "pod",
            Kind::ConfigMap => "configmap",
            Kind::Event => "event",
            Kind::Lease => "lease",
            Kind::CustomResourceDefinition => "customresourcedefinition",
            Kind::Custom(c) => &c.0.singular,
        }
    }

    /// The kind name.
    pub(crate) fn kind(&self) -> &str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::ConfigMap => "ConfigMap",
            Kind::Event => "Event",
            Kind::Lease => "Lease",
            Kind::CustomResourceDefinition => "CustomResourceDefinition",
            Kind::Custom(c) => &c.0.kind,
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub(crate) fn namespaced(&self) -> bool {
        match self {
            Kind::Pod | Kind::ConfigMap | Kind::Event | Kind::Lease => true,
            Kind::Namespace | Kind::Node | Kind::CustomResourceDefinition => false,
            Kind::Custom(c) => c.0.namespaced,
        }
    }

    fn short_names(&self) -> Vec<&str> {
        match self {
            Kind::Namespace => vec!["ns"],
            Kind::Node => vec!["no"],
            Kind::Pod => vec!["po"],
            Kind::ConfigMap => vec!["cm"],
            Kind::Event => vec!["ev"],
            Kind::Lease => vec![],
            Kind::CustomResourceDefinition => vec!["crd", "crds"],
            Kind::Custom(c) => c.0.short_names.iter().map(String::as_str).collect(),
        }
    }

    /// The group of the kind's own API (events: events.k8s.io; empty for
    /// the core group).
    pub(crate) fn group(&self) -> &str {
        match self {
            Kind::Namespace | Kind::Node | Kind::Pod | Kind::ConfigMap => "",
            Kind::Event => EVENTS_GROUP,
            Kind::Lease => COORDINATION_GROUP,
            Kind::CustomResourceDefinition => APIEXTENSIONS_GROUP,
            Kind::Custom(c) => &c.0.group,
        }
    }

    /// The version of the kind's own API the request uses.
    pub(crate) fn version(&self) -> &str {
        match self {
            Kind::Custom(c) => &c.0.version,
            _ => "v1",
        }
    }

    /// The group the kind is seen through in `view` (core/v1 events have
    /// the core group).
    pub(crate) fn group_in(&self, view: View) -> &str {
        match view {
            View::Core => "",
            View::Group => self.group(),
        }
    }

    /// The `apiVersion` of objects of this kind seen through `view`.
    pub(crate) fn api_version_in(&self, view: View) -> String {
        match (view, self.group()) {
            (View::Core, _) | (View::Group, "") => "v1".to_owned(),
            (View::Group, group) => format!("{group}/{}", self.version()),
        }
    }

    /// A built-in kind from its resource name in the core group.
    pub(crate) fn from_core_plural(plural: &str) -> Option<Kind> {
        Kind::BUILT_IN
            .into_iter()
            .find(|k| k.group().is_empty() && k.plural() == plural)
            .or_else(|| (plural == "events").then_some(Kind::Event))
    }

    /// A built-in kind from its `apiVersion` and `kind`.
    pub(crate) fn built_in(api_version: &str, kind: &str) -> Option<(Kind, View)> {
        if api_version == "v1" && kind == "Event" {
            return Some((Kind::Event, View::Core));
        }
        Kind::BUILT_IN
            .into_iter()
            .find(|k| k.kind() == kind && k.api_version_in(View::Group) == api_version)
            .map(|k| {
                let view = if k.group().is_empty() {
                    View::Core
                } else {
                    View::Group
                };
                (k, view)
            })
    }
}

/// Through which API a resource is read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// `/api/v1`: the core group (and the core/v1 form of events).
    Core,
    /// `/apis/{group}/{version}`: the kind's own group (events.k8s.io/v1
    /// for events).
    Group,
}

impl View {
    /// The API group of an event seen through this view.
    pub(crate) fn group(self) -> &'static str {
        match self {
            View::Core => "",
            View::Group => EVENTS_GROUP,
        }
    }

    /// The `apiVersion` of an event seen through this view.
    pub(crate) fn api_version(self) -> &'static str {
        match self {
            View::Core => "v1",
            View::Group => "events.k8s.io/v1",
        }
    }
}

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource_entry(kind: &Kind) -> Value {
    let mut entry = json!({
        "name": kind.plural(),
        "singularName": kind.singular(),
        "namespaced": kind.namespaced(),
        "kind": kind.kind(),
        "verbs": VERBS,
    });
    let short = kind.short_names();
    if let (false, Some(o)) = (short.is_empty(), entry.as_object_mut()) {
        o.insert("shortNames".to_owned(), json!(short));
    }
    if let (Kind::Custom(_), Some(o)) = (kind, entry.as_object_mut()) {
        o.insert("categories".to_owned(), json!(["all"]));
    }
    entry
}

fn create_only(plural: &str, kind: &str) -> Value {
    json!({
        "name": plural,
        "singularName": "",
        "namespaced": false,
        "kind": kind,
        "verbs": ["create"],
    })
}

/// `GET /version`.
pub(crate) fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-events-double",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.23",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `GET /api`.
pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// `GET /api/v1`.
pub(crate) fn core_resources() -> Value {
    let resources: Vec<Value> = Kind::BUILT_IN
        .iter()
        .filter(|k| k.group().is_empty() || **k == Kind::Event)
        .map(resource_entry)
        .collect();
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": resources,
    })
}

/// One API group at `/apis/{group}`: its name and served versions, the
/// first one preferred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) name: String,
    pub(crate) versions: Vec<String>,
}

impl Group {
    fn doc(&self) -> Value {
        let gv = |v: &str| json!({"groupVersion": format!("{}/{v}", self.name), "version": v});
        json!({
            "name": self.name,
            "versions": self.versions.iter().map(|v| gv(v)).collect::<Vec<_>>(),
            "preferredVersion": gv(self.versions.first().map_or("v1", String::as_str)),
        })
    }
}

/// The built-in groups, in the order a real server lists them.
pub(crate) fn built_in_groups() -> Vec<Group> {
    [
        AUTHENTICATION_GROUP,
        AUTHORIZATION_GROUP,
        COORDINATION_GROUP,
        EVENTS_GROUP,
        APIEXTENSIONS_GROUP,
    ]
    .into_iter()
    .map(|name| Group {
        name: name.to_owned(),
        versions: vec!["v1".to_owned()],
    })
    .collect()
}

/// `GET /apis`.
pub(crate) fn api_groups(groups: &[Group]) -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": groups.iter().map(Group::doc).collect::<Vec<_>>(),
    })
}

/// `GET /apis/{group}`.
pub(crate) fn api_group(group: &Group) -> Value {
    let mut g = group.doc();
    if let Some(o) = g.as_object_mut() {
        o.insert("kind".to_owned(), json!("APIGroup"));
        o.insert("apiVersion".to_owned(), json!("v1"));
    }
    g
}

/// `GET /apis/{group}/{version}`: the built-in resources of the group
/// version and `custom` (the served custom kinds in it).
pub(crate) fn group_resources(group: &str, version: &str, custom: &[Kind]) -> Option<Value> {
    let mut resources: Vec<Value> = match (group, version) {
        (AUTHORIZATION_GROUP, "v1") => vec![create_only(
            "selfsubjectaccessreviews",
            "SelfSubjectAccessReview",
        )],
        (AUTHENTICATION_GROUP, "v1") => {
            vec![create_only("selfsubjectreviews", "SelfSubjectReview")]
        }
        (_, "v1") => Kind::BUILT_IN
            .iter()
            .filter(|k| !k.group().is_empty() && k.group() == group)
            .map(resource_entry)
            .collect(),
        _ => Vec::new(),
    };
    resources.extend(custom.iter().map(resource_entry));
    if resources.is_empty() {
        return None;
    }
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{group}/{version}"),
        "resources": resources,
    }))
}
