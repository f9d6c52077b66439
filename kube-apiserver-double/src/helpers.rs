//! Test helpers on [`ApiServer`]: reading the stored events and creating
//! objects without going through HTTP.

use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use serde_json::{Value, json};

use super::resources::{self, Kind, View};
use super::{ApiServer, ApiServerError, crd, events, objects, store};

impl ApiServer {
    /// Stored events, in the events.k8s.io/v1 JSON form, ordered by
    /// namespace and name.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.events_json().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn events_json(&self) -> Vec<Value> {
        self.shared.store.list(&Kind::Event, None).0
    }

    /// Stored events as `k8s_openapi` events.k8s.io/v1 objects.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.events().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> Vec<k8s_openapi::api::events::v1::Event> {
        self.events_json()
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect()
    }

    /// Stored events as the core/v1 API shows them.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.core_events().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn core_events(&self) -> Vec<k8s_openapi::api::core::v1::Event> {
        self.events_json()
            .iter()
            .filter_map(|v| serde_json::from_value(events::to_core(v)).ok())
            .collect()
    }

    /// One stored event.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.event("default", "nope").is_none());
    /// # Ok(()) }
    /// ```
    pub fn event(
        &self,
        namespace: &str,
        name: &str,
    ) -> Option<k8s_openapi::api::events::v1::Event> {
        let v = self.shared.store.get(&Kind::Event, namespace, name)?;
        serde_json::from_value(v).ok()
    }

    /// Deletes a stored event; `false` if there was none.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(!server.delete_event("default", "nope"));
    /// # Ok(()) }
    /// ```
    pub fn delete_event(&self, namespace: &str, name: &str) -> bool {
        self.shared
            .store
            .delete(
                &Kind::Event,
                resources::EVENTS_GROUP,
                (namespace, name),
                false,
            )
            .is_ok()
    }

    /// Removes every stored event now, as if their TTL had passed; returns
    /// how many there were.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert_eq!(server.expire_events(), 0);
    /// # Ok(()) }
    /// ```
    pub fn expire_events(&self) -> usize {
        self.shared.store.expire_events()
    }

    /// Creates any supported object from its JSON (`apiVersion` and `kind`
    /// required: `v1` `Namespace`, `Pod`, `ConfigMap`, `Node`, `Event`, or
    /// `events.k8s.io/v1` `Event`), exactly as a POST would, and returns the
    /// stored object. Creating a namespaced object also creates its
    /// namespace when missing.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] with the code the API would answer
    /// (400, 409, 422).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let cm = server.create_object(serde_json::json!({
    ///     "apiVersion": "v1", "kind": "ConfigMap",
    ///     "metadata": {"name": "settings", "namespace": "shop"},
    ///     "data": {"color": "blue"},
    /// }))?;
    /// assert!(cm["metadata"]["uid"].is_string());
    /// # Ok(()) }
    /// ```
    pub fn create_object(&self, object: Value) -> Result<Value, ApiServerError> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind_name = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let custom = || {
            let (group, version) = api_version.split_once('/')?;
            crd::kinds_in(&self.shared, group, version)
                .into_iter()
                .find(|k| k.kind() == kind_name)
                .map(|k| (k, View::Group))
        };
        let (kind, view) = Kind::built_in(api_version, kind_name)
            .or_else(custom)
            .ok_or_else(|| ApiServerError::Rejected {
                code: 400,
                message: format!("unsupported kind {kind_name:?} of apiVersion {api_version:?}"),
            })?;
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if kind.namespaced()
            && let Some(ns) = &namespace
        {
            self.ensure_namespace(ns)?;
        }
        let ns = if kind.namespaced() {
            Some(namespace.unwrap_or_else(|| "default".to_owned()))
        } else {
            None
        };
        Ok(objects::create_object(
            &self.shared,
            &kind,
            view,
            ns.as_deref(),
            object,
        )?)
    }

    fn ensure_namespace(&self, name: &str) -> Result<(), ApiServerError> {
        if self.shared.store.get(&Kind::Namespace, "", name).is_none() {
            self.create_namespace(name)?;
        }
        Ok(())
    }

    fn typed<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiServerError> {
        serde_json::from_value(v).map_err(|e| ApiServerError::Rejected {
            code: 500,
            message: e.to_string(),
        })
    }

    /// Creates a namespace.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let ns = server.create_namespace("shop")?;
    /// assert_eq!(ns.metadata.name.as_deref(), Some("shop"));
    /// # Ok(()) }
    /// ```
    pub fn create_namespace(&self, name: &str) -> Result<Namespace, ApiServerError> {
        let v = objects::create_object(
            &self.shared,
            &Kind::Namespace,
            View::Core,
            None,
            json!({"metadata": {"name": name}}),
        )?;
        ApiServer::typed(v)
    }

    /// Creates a pod with one running, ready container (and its namespace
    /// when missing).
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let pod = server.create_pod("shop", "web-0")?;
    /// assert_ne!(pod.metadata.uid.as_deref(), Some("web-0"));
    /// # Ok(()) }
    /// ```
    pub fn create_pod(&self, namespace: &str, name: &str) -> Result<Pod, ApiServerError> {
        let v = self.create_object(json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{
                    "name": "app",
                    "image": "registry.example/app:1.0",
                    "imageID": "",
                    "ready": true,
                    "started": true,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": store::format_time(self.shared.store.now())}},
                }],
            },
        }))?;
        ApiServer::typed(v)
    }

    /// Creates a configmap (and its namespace when missing).
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let cm = server.create_configmap("shop", "settings", &[("color", "blue")])?;
    /// assert_eq!(cm.data.unwrap()["color"], "blue");
    /// # Ok(()) }
    /// ```
    pub fn create_configmap(
        &self,
        namespace: &str,
        name: &str,
        data: &[(&str, &str)],
    ) -> Result<ConfigMap, ApiServerError> {
        let data: serde_json::Map<String, Value> = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let v = self.create_object(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": data,
        }))?;
        ApiServer::typed(v)
    }

    /// Creates a node (cluster-scoped), ready, reporting kubelet v1.32.0,
    /// and its Lease in `kube-node-lease`, as a kubelet keeps it.
    ///
    /// # Errors
    ///
    /// [`ApiServerError::Rejected`] (409 if it exists, 422 for a bad name).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// let node = server.create_node("node-1")?;
    /// assert!(node.metadata.namespace.is_none());
    /// # Ok(()) }
    /// ```
    pub fn create_node(&self, name: &str) -> Result<Node, ApiServerError> {
        let v = self.create_object(json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
            "spec": {},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname", "address": name}],
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": "",
                    "containerRuntimeVersion": "containerd://1.7.0",
                    "kernelVersion": "6.1.0",
                    "kubeProxyVersion": "",
                    "kubeletVersion": "v1.32.0",
                    "machineID": "",
                    "operatingSystem": "linux",
                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "systemUUID": "",
                },
            },
        }))?;
        // The kubelet's heartbeat: a Lease named after the node.
        let now = store::format_micro_time(self.shared.store.now());
        self.create_object(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {
                "name": name,
                "namespace": "kube-node-lease",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name, "uid": v["metadata"]["uid"]}],
            },
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": now},
        }))?;
        ApiServer::typed(v)
    }

    /// A stored object of any kind by resource name (`"pods"`, `"nodes"`,
    /// `"leases"`, the plural of a custom kind, ...); cluster-scoped
    /// objects take an empty namespace.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = kube_apiserver_double::ApiServer::start().await?;
    /// assert!(server.object("namespaces", "", "default").is_some());
    /// # Ok(()) }
    /// ```
    pub fn object(&self, resource: &str, namespace: &str, name: &str) -> Option<Value> {
        let kind = Kind::BUILT_IN
            .into_iter()
            .find(|k| k.plural() == resource)
            .or_else(|| {
                crd::all_kinds(&self.shared)
                    .into_iter()
                    .find(|k| k.plural() == resource)
            })?;
        let ns = if kind.namespaced() { namespace } else { "" };
        self.shared.store.get(&kind, ns, name)
    }
}
