//! The OpenAPI v3 documents kubectl reads: which query parameters a kind's
//! writes take (`fieldValidation`: kubectl then leaves validation to the
//! server, so `create -f` and `apply -f` need no `--validate=false`), and
//! the schemas `kubectl explain` prints.
//!
//! `/openapi/v3` lists one document per group version; each holds the
//! paths of its kinds and their schemas, made from k8s-openapi's JSON
//! schemas for the built-in kinds and from a definition's
//! `openAPIV3Schema` for a custom kind.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use http::{Method, Response};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Event as CoreEvent, Namespace, Node, Pod};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::crd;
use crate::handlers::Req;
use crate::http::{Body, Shared, json};
use crate::resources::{
    APIEXTENSIONS_GROUP, AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, COORDINATION_GROUP,
    EVENTS_GROUP, Kind,
};
use crate::status::ApiError;

/// A kind as its document describes it.
struct Served {
    group: String,
    version: String,
    kind: String,
    plural: String,
    namespaced: bool,
    /// Only `create` (the reviews).
    create_only: bool,
    schema: String,
}

fn generator() -> SchemaGenerator {
    SchemaSettings::openapi3().into_generator()
}

fn add<T: JsonSchema>(
    schemas_gen: &mut SchemaGenerator,
    (group, kind, plural): (&str, &str, &str),
    namespaced: bool,
) -> Served {
    let _ = schemas_gen.subschema_for::<T>();
    Served {
        group: group.to_owned(),
        version: "v1".to_owned(),
        kind: kind.to_owned(),
        plural: plural.to_owned(),
        namespaced,
        create_only: false,
        schema: T::schema_name().into_owned(),
    }
}

/// The document of a built-in group version (`api/v1`,
/// `apis/events.k8s.io/v1`, ...), if it is one.
fn built_in(gv: &str) -> Option<Value> {
    let mut schemas_gen = generator();
    let served = match gv {
        "api/v1" => vec![
            add::<ConfigMap>(&mut schemas_gen, ("", "ConfigMap", "configmaps"), true),
            add::<CoreEvent>(&mut schemas_gen, ("", "Event", "events"), true),
            add::<Namespace>(&mut schemas_gen, ("", "Namespace", "namespaces"), false),
            add::<Node>(&mut schemas_gen, ("", "Node", "nodes"), false),
            add::<Pod>(&mut schemas_gen, ("", "Pod", "pods"), true),
        ],
        "apis/events.k8s.io/v1" => vec![add::<Event>(
            &mut schemas_gen,
            (EVENTS_GROUP, "Event", "events"),
            true,
        )],
        "apis/coordination.k8s.io/v1" => {
            vec![add::<Lease>(
                &mut schemas_gen,
                (COORDINATION_GROUP, "Lease", "leases"),
                true,
            )]
        }
        "apis/apiextensions.k8s.io/v1" => vec![add::<CustomResourceDefinition>(
            &mut schemas_gen,
            (
                APIEXTENSIONS_GROUP,
                "CustomResourceDefinition",
                "customresourcedefinitions",
            ),
            false,
        )],
        "apis/authorization.k8s.io/v1" => {
            let mut s = add::<SelfSubjectAccessReview>(
                &mut schemas_gen,
                (
                    AUTHORIZATION_GROUP,
                    "SelfSubjectAccessReview",
                    "selfsubjectaccessreviews",
                ),
                false,
            );
            s.create_only = true;
            vec![s]
        }
        "apis/authentication.k8s.io/v1" => {
            let mut s = add::<SelfSubjectReview>(
                &mut schemas_gen,
                (
                    AUTHENTICATION_GROUP,
                    "SelfSubjectReview",
                    "selfsubjectreviews",
                ),
                false,
            );
            s.create_only = true;
            vec![s]
        }
        _ => return None,
    };
    let schemas = schemas_gen.take_definitions(true);
    Some(document(&served, schemas))
}

/// The built-in documents, made once.
fn built_ins() -> &'static BTreeMap<&'static str, Value> {
    static DOCS: OnceLock<BTreeMap<&'static str, Value>> = OnceLock::new();
    DOCS.get_or_init(|| {
        [
            "api/v1",
            "apis/events.k8s.io/v1",
            "apis/coordination.k8s.io/v1",
            "apis/apiextensions.k8s.io/v1",
            "apis/authorization.k8s.io/v1",
            "apis/authentication.k8s.io/v1",
        ]
        .into_iter()
        .filter_map(|gv| Some((gv, built_in(gv)?)))
        .collect()
    })
}

/// The schema name of a custom kind (`com.example.v1.Widget`), as the API
/// server names them: the group reversed, the version, the kind.
fn custom_schema_name(group: &str, version: &str, kind: &str) -> String {
    let reversed: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", reversed.join("."))
}

/// The document of a custom group version, if definitions serve it.
fn custom(shared: &Shared, group: &str, version: &str) -> Option<Value> {
    let kinds = crd::kinds_in(shared, group, version);
    if kinds.is_empty() {
        return None;
    }
    let mut schemas_gen = generator();
    let meta = schemas_gen.subschema_for::<ObjectMeta>();
    let mut schemas = schemas_gen.take_definitions(true);
    let mut served = Vec::new();
    for kind in &kinds {
        let Kind::Custom(c) = kind else { continue };
        let info = &c.0;
        let name = custom_schema_name(group, version, &info.kind);
        let mut schema = info.schema.clone().unwrap_or_else(
            || json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}),
        );
        if let Some(props) = schema
            .as_object_mut()
            .map(|o| o.entry("properties").or_insert_with(|| json!({})))
            .and_then(Value::as_object_mut)
        {
            props.insert("apiVersion".to_owned(), json!({"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."}));
            props.insert("kind".to_owned(), json!({"type": "string", "description": "Kind is a string value representing the REST resource this object represents."}));
            props.insert(
                "metadata".to_owned(),
                json!({"allOf": [meta.as_value()], "description": "Standard object's metadata."}),
            );
        }
        schemas.insert(name.clone(), schema);
        served.push(Served {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: info.kind.clone(),
            plural: info.plural.clone(),
            namespaced: info.namespaced,
            create_only: false,
            schema: name,
        });
    }
    Some(document(&served, schemas))
}

fn param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": {"type": "string", "uniqueItems": true}})
}

/// The query parameters of a write.
fn write_params() -> Vec<Value> {
    vec![
        param(
            "dryRun",
            "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
        ),
        param(
            "fieldManager",
            "fieldManager is a name associated with the actor or entity that is making these changes.",
        ),
        param(
            "fieldValidation",
            "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict",
        ),
    ]
}

fn operation(s: &Served, action: &str, verb: &str, body: bool) -> Value {
    let reference = json!({"$ref": format!("#/components/schemas/{}", s.schema)});
    let scope = if s.namespaced { "Namespaced" } else { "" };
    let mut op = json!({
        "operationId": format!("{verb}{scope}{}", s.kind),
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": s.group, "version": s.version, "kind": s.kind},
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": reference}}}},
    });
    if body && let Some(o) = op.as_object_mut() {
        o.insert("parameters".to_owned(), json!(write_params()));
        o.insert(
            "requestBody".to_owned(),
            json!({"required": true, "content": {"*/*": {"schema": reference}}}),
        );
    }
    op
}

fn document(served: &[Served], mut schemas: Map<String, Value>) -> Value {
    let mut paths = Map::new();
    for s in served {
        if let Some(schema) = schemas.get_mut(&s.schema).and_then(Value::as_object_mut) {
            schema.insert(
                "x-kubernetes-group-version-kind".to_owned(),
                json!([{"group": s.group, "version": s.version, "kind": s.kind}]),
            );
        }
        let prefix = if s.group.is_empty() {
            "/api/v1".to_owned()
        } else {
            format!("/apis/{}/{}", s.group, s.version)
        };
        let collection = if s.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}", s.plural)
        } else {
            format!("{prefix}/{}", s.plural)
        };
        let mut ops = json!({"post": operation(s, "post", "create", true)});
        if !s.create_only {
            ops["get"] = operation(s, "list", "list", false);
            paths.insert(
                format!("{collection}/{{name}}"),
                json!({
                    "get": operation(s, "get", "read", false),
                    "put": operation(s, "put", "replace", true),
                    "patch": operation(s, "patch", "patch", true),
                    "delete": operation(s, "delete", "delete", false),
                }),
            );
        }
        paths.insert(collection, ops);
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// A short stable digest of a document, for its URL (kubectl caches by it).
fn digest(doc: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in doc.to_string().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016X}")
}

/// Whether the group of a group version path (`apis/{group}/{version}`)
/// is served.
fn gv_served(shared: &Shared, gv: &str) -> bool {
    match gv.split('/').collect::<Vec<_>>().as_slice() {
        ["apis", group, ..] => crate::handlers::served(shared, group),
        _ => true,
    }
}

/// Every document, by group version path.
fn documents(shared: &Shared) -> BTreeMap<String, Value> {
    let mut docs: BTreeMap<String, Value> = built_ins()
        .iter()
        .filter(|(gv, _)| gv_served(shared, gv))
        .map(|(gv, doc)| ((*gv).to_owned(), doc.clone()))
        .collect();
    for group in crd::groups(shared) {
        for version in &group.versions {
            if let Some(doc) = custom(shared, &group.name, version) {
                docs.insert(format!("apis/{}/{version}", group.name), doc);
            }
        }
    }
    docs
}

/// `GET /openapi/v3` and `GET /openapi/v3/{group version path}`.
pub(crate) fn v3(
    shared: &Shared,
    req: &Req<'_>,
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    if *req.method != Method::GET {
        return Err(ApiError::method_not_allowed());
    }
    if rest.is_empty() {
        let paths: Map<String, Value> = documents(shared)
            .iter()
            .map(|(gv, doc)| {
                let url = format!("/openapi/v3/{gv}?hash={}", digest(doc));
                (gv.clone(), json!({"serverRelativeURL": url}))
            })
            .collect();
        return Ok(json(200, &json!({"paths": paths})));
    }
    let gv = rest.join("/");
    if !gv_served(shared, &gv) {
        return Err(ApiError::no_route());
    }
    let doc = match built_ins().get(gv.as_str()) {
        Some(doc) => doc.clone(),
        None => match rest {
            ["apis", group, version] => {
                custom(shared, group, version).ok_or_else(ApiError::no_route)?
            }
            _ => return Err(ApiError::no_route()),
        },
    };
    Ok(json(200, &doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_documents_have_paths_and_schemas() {
        let docs = built_ins();
        assert_eq!(docs.len(), 6);
        let core = &docs["api/v1"];
        let patch = &core["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(
            patch["x-kubernetes-group-version-kind"]["kind"],
            "ConfigMap"
        );
        assert!(
            patch["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        let pod = &core["components"]["schemas"]["io.k8s.api.core.v1.Pod"];
        assert_eq!(pod["x-kubernetes-group-version-kind"][0]["kind"], "Pod");
        assert!(pod["properties"]["spec"].is_object());
        assert!(
            core["components"]["schemas"]["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
                .is_object()
        );
        let events = &docs["apis/events.k8s.io/v1"];
        assert!(
            events["paths"]["/apis/events.k8s.io/v1/namespaces/{namespace}/events"]["post"]
                .is_object()
        );
        assert_eq!(
            custom_schema_name("example.com", "v1", "Widget"),
            "com.example.v1.Widget"
        );
        assert_eq!(digest(core), digest(&core.clone()));
    }
}
