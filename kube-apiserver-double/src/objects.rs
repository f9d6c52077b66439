//! Objects as they are written: namespace and name placement, decoding,
//! validation and defaults, per kind.

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::{Value, json};

use super::crd;
use super::events::{EventDoc, validate_create, validate_update};
use super::http::Shared;
use super::meta::{NameRule, content_errors, create_errors};
use super::resources::{Kind, View};
use super::status::{ApiError, quote};
use super::store::format_time;

pub(crate) fn set_name(obj: &mut Value, key: &str, value: &str) {
    if let Some(o) = obj.as_object_mut() {
        let meta = o.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(key.to_owned(), json!(value));
        }
    }
}

pub(crate) fn meta_str<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.pointer(&format!("/metadata/{key}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The group a real server names in an Event's validation errors, whichever
/// API it came through: inside the server both are one kind, registered
/// with the core group, so the message reads `Event "x" is invalid`.
const EVENT_ERROR_GROUP: &str = "";

/// Random suffix for `generateName`, from the alphabet the API server uses.
fn name_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// Sets the namespace from the URL (rejecting a different one in the body)
/// and resolves `generateName`.
fn place(obj: &mut Value, kind: &Kind, namespace: Option<&str>) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    if kind.namespaced() {
        let ns = namespace.unwrap_or("");
        let body_ns = meta_str(obj, "namespace");
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        set_name(obj, "namespace", ns);
    } else if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("namespace");
    }
    if meta_str(obj, "name").is_empty() {
        let prefix = meta_str(obj, "generateName").to_owned();
        if !prefix.is_empty() {
            set_name(obj, "name", &format!("{prefix}{}", name_suffix()));
        }
    }
    Ok(())
}

fn typed_roundtrip<T: serde::de::DeserializeOwned + serde::Serialize>(
    kind: &Kind,
    obj: Value,
) -> Result<Value, ApiError> {
    let typed: T = serde_json::from_value(obj).map_err(|e| {
        ApiError::bad_request(format!(
            "{} in version {} cannot be handled as a {}: {e}",
            kind.kind(),
            quote(kind.version()),
            kind.kind()
        ))
    })?;
    serde_json::to_value(typed).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Decodes an object of a kind other than Event: its `apiVersion` and
/// `kind` must match, and it must fit the kind's type.
fn decode(kind: &Kind, mut obj: Value) -> Result<Value, ApiError> {
    let api_version = kind.api_version_in(View::Group);
    if let Some(av) = obj.get("apiVersion").and_then(Value::as_str)
        && av != api_version
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({api_version})"
        )));
    }
    if let Some(k) = obj.get("kind").and_then(Value::as_str)
        && k != kind.kind()
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.kind()
        )));
    }
    if let Some(o) = obj.as_object_mut() {
        o.insert("apiVersion".to_owned(), json!(api_version));
        o.insert("kind".to_owned(), json!(kind.kind()));
    }
    match kind {
        Kind::Pod => typed_roundtrip::<Pod>(kind, obj),
        Kind::ConfigMap => typed_roundtrip::<ConfigMap>(kind, obj),
        Kind::Node => typed_roundtrip::<Node>(kind, obj),
        Kind::Namespace => typed_roundtrip::<Namespace>(kind, obj),
        Kind::Lease => typed_roundtrip::<Lease>(kind, obj),
        Kind::CustomResourceDefinition => typed_roundtrip::<CustomResourceDefinition>(kind, obj),
        Kind::Event | Kind::Custom(_) => Ok(obj),
    }
}

/// The fields of `input` that `kept` (the same object after a round trip
/// through its type) lost, as paths (`spec`, `spec.containers[0].size`).
fn lost_fields(input: &Value, kept: &Value, path: &str, out: &mut Vec<String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match (input, kept) {
        (Value::Object(given), Value::Object(stored)) => {
            for (key, value) in given {
                match stored.get(key) {
                    _ if value.is_null() => {}
                    None => out.push(join(key)),
                    Some(s) => lost_fields(value, s, &join(key), out),
                }
            }
        }
        (Value::Array(given), Value::Array(stored)) => {
            for (i, (value, s)) in given.iter().zip(stored).enumerate() {
                lost_fields(value, s, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn unknown_in<T: serde::de::DeserializeOwned + serde::Serialize>(body: &Value) -> Vec<String> {
    let Ok(typed) = serde_json::from_value::<T>(body.clone()) else {
        return Vec::new(); // decoding reports it
    };
    let kept = serde_json::to_value(typed).unwrap_or(Value::Null);
    let mut out = Vec::new();
    lost_fields(body, &kept, "", &mut out);
    out
}

/// Fields of `body` that the kind does not have (none for custom kinds,
/// which keep what they are given): what strict field validation refuses.
pub(crate) fn unknown_fields((kind, view): (&Kind, View), body: &Value) -> Vec<String> {
    match kind {
        Kind::Pod => unknown_in::<Pod>(body),
        Kind::ConfigMap => unknown_in::<ConfigMap>(body),
        Kind::Node => unknown_in::<Node>(body),
        Kind::Namespace => unknown_in::<Namespace>(body),
        Kind::Lease => unknown_in::<Lease>(body),
        Kind::CustomResourceDefinition => unknown_in::<CustomResourceDefinition>(body),
        Kind::Event if view == View::Core => unknown_in::<k8s_openapi::api::core::v1::Event>(body),
        Kind::Event => unknown_in::<k8s_openapi::api::events::v1::Event>(body),
        Kind::Custom(_) => Vec::new(),
    }
}

/// Validates a decoded object of a kind other than Event and fills in
/// its defaults.
fn normalize(kind: &Kind, now: &str, mut v: Value) -> Result<Value, ApiError> {
    let rule = if *kind == Kind::Namespace {
        NameRule::DnsLabel
    } else {
        NameRule::DnsSubdomain
    };
    let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
    let mut errs = create_errors(&meta, kind.namespaced(), rule);
    if *kind == Kind::CustomResourceDefinition {
        errs.extend(crd::errors(&v));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(
            kind.kind(),
            kind.group(),
            meta_str(&v, "name"),
            &errs,
        ));
    }
    if *kind == Kind::CustomResourceDefinition {
        crd::accept(&mut v, now);
    }
    if let Some(o) = v.as_object_mut() {
        match kind {
            Kind::Pod => {
                let status = o.entry("status").or_insert_with(|| json!({}));
                if status.get("phase").is_none()
                    && let Some(s) = status.as_object_mut()
                {
                    s.insert("phase".to_owned(), json!("Pending"));
                }
            }
            Kind::Namespace => {
                let status = o.entry("status").or_insert_with(|| json!({}));
                if status.get("phase").is_none()
                    && let Some(s) = status.as_object_mut()
                {
                    s.insert("phase".to_owned(), json!("Active"));
                }
            }
            _ => {}
        }
    }
    Ok(v)
}

/// The stored form of a new object sent through `view`: placed in its
/// namespace, decoded, admitted by `admit` (the API server's admission
/// runs between decoding and validation), then validated.
pub(crate) fn prepare_new(
    (kind, view): (&Kind, View),
    namespace: Option<&str>,
    mut body: Value,
    now: &str,
    admit: impl FnOnce() -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    place(&mut body, kind, namespace)?;
    if *kind != Kind::Event {
        let typed = decode(kind, body)?;
        admit()?;
        return normalize(kind, now, typed);
    }
    let doc = EventDoc::decode(view, body)?;
    admit()?;
    let name = doc.metadata.name.clone().unwrap_or_default();
    let errs = validate_create(&doc, view);
    if !errs.is_empty() {
        return Err(ApiError::invalid("Event", EVENT_ERROR_GROUP, &name, &errs));
    }
    // After the kind's own rules, the ones every object passes.
    let errs = create_errors(&doc.meta_value(), true, NameRule::PathSegment);
    if !errs.is_empty() {
        return Err(ApiError::invalid("Event", EVENT_ERROR_GROUP, &name, &errs));
    }
    Ok(doc.to_value())
}

/// The stored form of an update of `current` to `new` (in `view`'s form).
pub(crate) fn prepare_update(
    (kind, view): (&Kind, View),
    current: &Value,
    mut new: Value,
    now: &str,
) -> Result<Value, ApiError> {
    let name = meta_str(current, "name").to_owned();
    let new_name = meta_str(&new, "name");
    if !new_name.is_empty() && new_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({new_name}) does not match the name on the URL ({name})"
        )));
    }
    let ns = meta_str(current, "namespace").to_owned();
    place(&mut new, kind, Some(&ns))?;
    set_name(&mut new, "name", &name);
    if *kind != Kind::Event {
        return normalize(kind, now, decode(kind, new)?);
    }
    let new_doc = EventDoc::decode(view, new)?;
    let old_doc = EventDoc::from_stored(current).unwrap_or_default();
    let errs = validate_update(&new_doc, &old_doc, view);
    if !errs.is_empty() {
        return Err(ApiError::invalid("Event", EVENT_ERROR_GROUP, &name, &errs));
    }
    let errs = content_errors(&new_doc.meta_value());
    if !errs.is_empty() {
        return Err(ApiError::invalid("Event", EVENT_ERROR_GROUP, &name, &errs));
    }
    Ok(new_doc.to_value())
}

/// Namespace lifecycle admission for a create: the namespace must exist
/// (404 for the namespace otherwise) and must not be terminating (403).
fn admit_create(
    shared: &Shared,
    (kind, view): (&Kind, View),
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    if !kind.namespaced() || !shared.require_namespaces {
        return Ok(());
    }
    let Some(ns) = shared.store.get(&Kind::Namespace, "", namespace) else {
        return Err(ApiError::not_found("namespaces", "", namespace));
    };
    if ns.pointer("/status/phase").and_then(Value::as_str) == Some("Terminating") {
        return Err(ApiError::namespace_terminating(
            kind.plural(),
            kind.group_in(view),
            name,
            namespace,
        ));
    }
    Ok(())
}

/// Creates an object sent through `view`, as a POST would.
pub(crate) fn create_object(
    shared: &Shared,
    kind: &Kind,
    view: View,
    namespace: Option<&str>,
    body: Value,
) -> Result<Value, ApiError> {
    create_object_as(shared, (kind, view), namespace, body, false)
}

/// [`create_object`], optionally as a dry run that stores nothing.
pub(crate) fn create_object_as(
    shared: &Shared,
    (kind, view): (&Kind, View),
    namespace: Option<&str>,
    body: Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let ns = namespace.unwrap_or("");
    let name = body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let now = format_time(shared.store.now());
    let obj = prepare_new((kind, view), namespace, body, &now, || {
        admit_create(shared, (kind, view), ns, &name)
    })?;
    shared.store.create(kind, kind.group_in(view), obj, dry_run)
}
