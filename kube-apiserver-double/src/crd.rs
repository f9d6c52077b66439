//! CustomResourceDefinitions: what a stored definition serves (its custom
//! kind in each served version), the API server's checks of a definition,
//! and the status it is given once its names are accepted.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::http::Shared;
use crate::resources::{CustomKind, Group, Kind};
use crate::status::{FieldError, quote};

/// One additional printer column of a custom kind's version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PrinterColumn {
    pub(crate) name: String,
    pub(crate) type_: String,
    pub(crate) format: String,
    pub(crate) description: String,
    pub(crate) priority: i64,
    /// A simple JSONPath (`.spec.replicas`).
    pub(crate) json_path: String,
}

/// A custom kind as one served version of its definition shows it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CustomInfo {
    pub(crate) group: String,
    /// The version the request uses.
    pub(crate) version: String,
    pub(crate) plural: String,
    pub(crate) singular: String,
    pub(crate) kind: String,
    pub(crate) short_names: Vec<String>,
    pub(crate) namespaced: bool,
    pub(crate) columns: Vec<PrinterColumn>,
    /// The version's `openAPIV3Schema`, if given.
    pub(crate) schema: Option<Value>,
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn versions(crd: &Value) -> &[Value] {
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// The served versions of a definition, its storage version first.
pub(crate) fn served_versions(crd: &Value) -> Vec<String> {
    let mut out: Vec<(bool, String)> = versions(crd)
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .map(|v| {
            let storage = v.get("storage").and_then(Value::as_bool) == Some(true);
            (!storage, s(v, "/name").to_owned())
        })
        .collect();
    out.sort_by_key(|(not_storage, _)| *not_storage);
    out.into_iter().map(|(_, name)| name).collect()
}

/// The custom kind a definition serves in `version`, if it serves it.
pub(crate) fn custom_kind(crd: &Value, version: &str) -> Option<Kind> {
    let v = versions(crd).iter().find(|v| {
        s(v, "/name") == version && v.get("served").and_then(Value::as_bool) == Some(true)
    })?;
    let columns = v
        .get("additionalPrinterColumns")
        .and_then(Value::as_array)
        .map(|cols| {
            cols.iter()
                .map(|c| PrinterColumn {
                    name: s(c, "/name").to_owned(),
                    type_: s(c, "/type").to_owned(),
                    format: s(c, "/format").to_owned(),
                    description: s(c, "/description").to_owned(),
                    priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                    json_path: s(c, "/jsonPath").to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let kind = s(crd, "/spec/names/kind");
    let singular = match s(crd, "/spec/names/singular") {
        "" => kind.to_lowercase(),
        given => given.to_owned(),
    };
    Some(Kind::Custom(CustomKind(Arc::new(CustomInfo {
        group: s(crd, "/spec/group").to_owned(),
        version: version.to_owned(),
        plural: s(crd, "/spec/names/plural").to_owned(),
        singular,
        kind: kind.to_owned(),
        short_names: crd
            .pointer("/spec/names/shortNames")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        namespaced: s(crd, "/spec/scope") == "Namespaced",
        columns,
        schema: v.pointer("/schema/openAPIV3Schema").cloned(),
    }))))
}

fn definitions(shared: &Shared) -> Vec<Value> {
    shared.store.list(&Kind::CustomResourceDefinition, None).0
}

/// The groups the stored definitions serve, with their served versions.
pub(crate) fn groups(shared: &Shared) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for crd in definitions(shared) {
        let name = s(&crd, "/spec/group").to_owned();
        let versions = served_versions(&crd);
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => {
                for v in versions {
                    if !g.versions.contains(&v) {
                        g.versions.push(v);
                    }
                }
            }
            None => groups.push(Group { name, versions }),
        }
    }
    groups
}

/// The custom kinds served in `group`/`version`.
pub(crate) fn kinds_in(shared: &Shared, group: &str, version: &str) -> Vec<Kind> {
    definitions(shared)
        .iter()
        .filter(|crd| s(crd, "/spec/group") == group)
        .filter_map(|crd| custom_kind(crd, version))
        .collect()
}

/// Every custom kind, in its storage version.
pub(crate) fn all_kinds(shared: &Shared) -> Vec<Kind> {
    definitions(shared)
        .iter()
        .filter_map(|crd| custom_kind(crd, served_versions(crd).first()?))
        .collect()
}

/// The API server's checks of a definition, beyond its metadata.
pub(crate) fn errors(crd: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let group = s(crd, "/spec/group");
    let plural = s(crd, "/spec/names/plural");
    let name = s(crd, "/metadata/name");
    if name != format!("{plural}.{group}") {
        errs.push(FieldError::invalid(
            "metadata.name",
            &quote(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    if group.is_empty() {
        errs.push(FieldError::required("spec.group", ""));
    } else if !group.contains('.') {
        errs.push(FieldError::invalid(
            "spec.group",
            &quote(group),
            "should be a domain with at least one dot",
        ));
    }
    let scope = s(crd, "/spec/scope");
    if scope != "Namespaced" && scope != "Cluster" {
        errs.push(FieldError::not_supported(
            "spec.scope",
            &quote(scope),
            &["Cluster", "Namespaced"],
        ));
    }
    if plural.is_empty() {
        errs.push(FieldError::required("spec.names.plural", ""));
    }
    if s(crd, "/spec/names/kind").is_empty() {
        errs.push(FieldError::required("spec.names.kind", ""));
    }
    let storage = versions(crd)
        .iter()
        .filter(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .count();
    if versions(crd).is_empty() {
        errs.push(FieldError::invalid(
            "spec.versions",
            "null",
            "must have exactly one version marked as storage version",
        ));
    } else if storage != 1 {
        errs.push(FieldError::invalid(
            "spec.versions",
            &crate::status::render_value(crd.pointer("/spec/versions").unwrap_or(&Value::Null)),
            "must have exactly one version marked as storage version",
        ));
    }
    errs
}

/// Fills in the defaulted names and the status of an accepted definition:
/// its names are accepted and it is established at once.
pub(crate) fn accept(crd: &mut Value, now: &str) {
    let kind = s(crd, "/spec/names/kind").to_owned();
    if let Some(names) = crd
        .pointer_mut("/spec/names")
        .and_then(Value::as_object_mut)
    {
        names
            .entry("singular")
            .or_insert_with(|| json!(kind.to_lowercase()));
        names
            .entry("listKind")
            .or_insert_with(|| json!(format!("{kind}List")));
    }
    let names = crd.pointer("/spec/names").cloned().unwrap_or(Value::Null);
    let storage: Vec<String> = served_versions(crd).into_iter().take(1).collect();
    let condition = |type_: &str, reason: &str, message: &str| json!({"type": type_, "status": "True", "lastTransitionTime": now, "reason": reason, "message": message});
    if let Some(o) = crd.as_object_mut() {
        o.insert(
            "status".to_owned(),
            json!({
                "conditions": [
                    condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                    condition("Established", "InitialNamesAccepted", "the initial names have been accepted"),
                ],
                "acceptedNames": names,
                "storedVersions": storage,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget_crd() -> Value {
        json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true,
                     "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]},
                    {"name": "v0", "served": false, "storage": false},
                ],
            },
        })
    }

    #[test]
    fn served_kinds() {
        let crd = widget_crd();
        assert!(errors(&crd).is_empty());
        assert_eq!(served_versions(&crd), ["v1", "v1beta1"]);
        let Some(Kind::Custom(k)) = custom_kind(&crd, "v1") else {
            panic!("not served")
        };
        assert_eq!((k.0.singular.as_str(), k.0.namespaced), ("widget", true));
        assert_eq!(k.0.columns[0].json_path, ".spec.size");
        assert!(custom_kind(&crd, "v0").is_none());
        assert_eq!(custom_kind(&crd, "v1beta1"), custom_kind(&crd, "v1"));
    }

    #[test]
    fn checks_and_acceptance() {
        let mut crd = widget_crd();
        crd["metadata"]["name"] = json!("widgets.example.org");
        crd["spec"]["scope"] = json!("Global");
        let errs = errors(&crd);
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["metadata.name", "spec.scope"]);
        assert_eq!(
            errs[1].message,
            "Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""
        );
        let mut crd = widget_crd();
        accept(&mut crd, "2025-01-01T00:00:00Z");
        assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
        assert_eq!(crd["status"]["conditions"][1]["type"], "Established");
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
    }
}
