//! The kinds the server knows and its discovery documents.

use serde_json::{Value, json};

/// Group of the new events API.
pub(crate) const EVENTS_GROUP: &str = "events.k8s.io";

/// Kinds of stored objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Kind {
    Namespace,
    Node,
    Pod,
    ConfigMap,
    Event,
}

impl Kind {
    /// Every kind.
    pub(crate) const ALL: [Kind; 5] = [
        Kind::Namespace,
        Kind::Node,
        Kind::Pod,
        Kind::ConfigMap,
        Kind::Event,
    ];

    /// The resource (plural) name.
    pub(crate) fn plural(self) -> &'static str {
        match self {
            Kind::Namespace => "namespaces",
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::ConfigMap => "configmaps",
            Kind::Event => "events",
        }
    }

    /// The singular resource name.
    fn singular(self) -> &'static str {
        match self {
            Kind::Namespace => "namespace",
            Kind::Node => "node",
            Kind::Pod => "pod",
            Kind::ConfigMap => "configmap",
            Kind::Event => "event",
        }
    }

    /// The kind name.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::ConfigMap => "ConfigMap",
            Kind::Event => "Event",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub(crate) fn namespaced(self) -> bool {
        matches!(self, Kind::Pod | Kind::ConfigMap | Kind::Event)
    }

    fn short_names(self) -> &'static [&'static str] {
        match self {
            Kind::Namespace => &["ns"],
            Kind::Node => &["no"],
            Kind::Pod => &["po"],
            Kind::ConfigMap => &["cm"],
            Kind::Event => &["ev"],
        }
    }

    /// A kind from its resource name in the core group.
    pub(crate) fn from_core_plural(plural: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.plural() == plural)
    }

    /// A kind from its `kind` name.
    pub(crate) fn from_kind(kind: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.kind() == kind)
    }
}

/// Through which API a resource is read or written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// `/api/v1`.
    Core,
    /// `/apis/events.k8s.io/v1`.
    EventsV1,
}

impl View {
    /// The API group (empty for core).
    pub(crate) fn group(self) -> &'static str {
        match self {
            View::Core => "",
            View::EventsV1 => EVENTS_GROUP,
        }
    }

    /// The `apiVersion` of objects in this view.
    pub(crate) fn api_version(self) -> &'static str {
        match self {
            View::Core => "v1",
            View::EventsV1 => "events.k8s.io/v1",
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

fn resource_entry(kind: Kind) -> Value {
    json!({
        "name": kind.plural(),
        "singularName": kind.singular(),
        "namespaced": kind.namespaced(),
        "kind": kind.kind(),
        "verbs": VERBS,
        "shortNames": kind.short_names(),
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
    let resources: Vec<Value> = Kind::ALL.into_iter().map(resource_entry).collect();
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": resources,
    })
}

fn events_group() -> Value {
    let gv = json!({"groupVersion": "events.k8s.io/v1", "version": "v1"});
    json!({
        "name": EVENTS_GROUP,
        "versions": [gv],
        "preferredVersion": gv,
    })
}

/// `GET /apis`.
pub(crate) fn api_groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [events_group()],
    })
}

/// `GET /apis/events.k8s.io`.
pub(crate) fn api_group() -> Value {
    let mut g = events_group();
    if let Some(o) = g.as_object_mut() {
        o.insert("kind".to_owned(), json!("APIGroup"));
        o.insert("apiVersion".to_owned(), json!("v1"));
    }
    g
}

/// `GET /apis/events.k8s.io/v1`.
pub(crate) fn events_resources() -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "events.k8s.io/v1",
        // The same short name as core/v1 events, as a real server lists it.
        "resources": [resource_entry(Kind::Event)],
    })
}
