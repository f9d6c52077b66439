//! Routing and the REST verbs.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Response};
use http_body_util::BodyExt;
use serde_json::{Value, json};

use super::auth::TokenEntry;
use super::http::{Body, Shared, WatchBody, error, full, json};
use super::objects::{self, create_object_as, meta_str, prepare_update, set_name};
use super::patch::{merge_patch, strip_directives};
use super::resources::{self, AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, EVENTS_GROUP, Kind, View};
use super::selector::{FieldSelector, LabelSelector};
use super::status::{ApiError, FieldError, quote, success_status};
use super::store::{TableMode, WatchFilter, bookmark_object, format_time, render, watch_line};
use super::table::{IncludeObject, table};
use super::{access, crd, openapi, protobuf};

/// Default length of a watch when the client gives no `timeoutSeconds`.
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// One request, read and authenticated.
pub(crate) struct Req<'a> {
    pub(crate) method: &'a Method,
    pub(crate) path: &'a str,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) accept: &'a str,
    pub(crate) content_type: &'a str,
    pub(crate) body: &'a Bytes,
    pub(crate) user: Option<&'a TokenEntry>,
}

impl Req<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `dryRun=All` (in the query, or in a delete's `DeleteOptions` body):
    /// answer as if written, store nothing.
    fn dry_run(&self) -> bool {
        if self.param("dryRun") == Some("All") {
            return true;
        }
        *self.method == Method::DELETE
            && serde_json::from_slice::<Value>(self.body).is_ok_and(|b| {
                b.get("dryRun")
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v == "All"))
            })
    }

    fn flag(&self, key: &str) -> bool {
        matches!(self.param(key), Some("true" | "1" | ""))
    }

    pub(crate) fn json_body(&self) -> Result<Value, ApiError> {
        let media = self.content_type.split(';').next().unwrap_or("").trim();
        if media == protobuf::MEDIA_TYPE {
            return protobuf::to_json(self.body);
        }
        if media.contains("protobuf")
            || media.contains("cbor")
            || (media.contains("yaml") && !media.starts_with("application/apply-patch"))
        {
            return Err(ApiError::unsupported_media_type(media));
        }
        if self.body.is_empty() {
            return Err(ApiError::bad_request("the request body is empty"));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            ApiError::bad_request(format!("the body of the request is not valid JSON: {e}"))
        })
    }

    /// Strict field validation (`fieldValidation=Strict`, as kubectl
    /// asks): a body with fields its kind does not have is refused with
    /// 400. Without it (`Ignore`, `Warn`) such fields are dropped.
    fn check_fields(&self, kind: (&Kind, View), body: &Value) -> Result<(), ApiError> {
        if self.param("fieldValidation") != Some("Strict") {
            return Ok(());
        }
        let unknown = objects::unknown_fields(kind, body);
        if unknown.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = unknown
            .iter()
            .map(|f| format!("unknown field {}", quote(f)))
            .collect();
        Err(ApiError::bad_request(format!(
            "strict decoding error: {}",
            list.join(", ")
        )))
    }

    /// The `Table` version asked for in `Accept`, if any.
    fn table_version(&self) -> Option<&'static str> {
        for range in self.accept.split(',') {
            let params: Vec<&str> = range.split(';').map(str::trim).collect();
            let is_json = params
                .first()
                .is_some_and(|m| *m == "application/json" || *m == "*/*");
            if is_json && params.contains(&"as=Table") && params.contains(&"g=meta.k8s.io") {
                if params.contains(&"v=v1") {
                    return Some("v1");
                }
                if params.contains(&"v=v1beta1") {
                    return Some("v1beta1");
                }
            }
        }
        None
    }
}

/// Answers one request.
pub(crate) fn route(shared: &Shared, req: &Req<'_>) -> Response<Body> {
    match route_inner(shared, req) {
        Ok(r) => r,
        Err(e) => error(&e),
    }
}

fn route_inner(shared: &Shared, req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let segs: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let discovery = match segs.as_slice() {
        ["version"] => Some(resources::version()),
        ["healthz" | "livez" | "readyz"] => return Ok(full(200, "text/plain", b"ok".to_vec())),
        ["api"] => Some(resources::api_versions(&shared.server_address)),
        ["api", "v1"] => Some(resources::core_resources()),
        ["apis"] => Some(resources::api_groups(&groups(shared))),
        ["apis", group] => Some(
            groups(shared)
                .iter()
                .find(|g| g.name == *group)
                .map(resources::api_group)
                .ok_or_else(ApiError::no_route)?,
        ),
        ["apis", group, version] => Some(
            served(shared, group)
                .then(|| {
                    resources::group_resources(
                        group,
                        version,
                        &crd::kinds_in(shared, group, version),
                    )
                })
                .flatten()
                .ok_or_else(ApiError::no_route)?,
        ),
        ["openapi", "v3", rest @ ..] => return openapi::v3(shared, req, rest),
        _ => None,
    };
    if let Some(doc) = discovery {
        if *req.method != Method::GET {
            return Err(ApiError::method_not_allowed());
        }
        return Ok(json(200, &doc));
    }
    match segs.as_slice() {
        [
            "apis",
            AUTHORIZATION_GROUP,
            "v1",
            "selfsubjectaccessreviews",
        ] => access::access_review(req),
        ["apis", AUTHENTICATION_GROUP, "v1", "selfsubjectreviews"] => access::self_review(req),
        ["api", "v1", rest @ ..] => resource(shared, req, ("", "v1"), rest),
        ["apis", group, version, rest @ ..] => resource(shared, req, (group, version), rest),
        _ => Err(ApiError::no_route()),
    }
}

/// The built-in API groups and those of the stored definitions.
pub(crate) fn groups(shared: &Shared) -> Vec<resources::Group> {
    let mut groups = resources::built_in_groups();
    groups.retain(|g| served(shared, &g.name));
    groups.extend(crd::groups(shared));
    groups
}

/// Whether the server serves the built-in `group` (`events.k8s.io` can be
/// switched off, as on clusters that only have core/v1 events).
pub(crate) fn served(shared: &Shared, group: &str) -> bool {
    group != EVENTS_GROUP || shared.serve_events_group
}

/// What a resource path names.
struct Target {
    kind: Kind,
    view: View,
    namespace: Option<String>,
    name: Option<String>,
}

impl Target {
    fn group(&self) -> &str {
        self.kind.group_in(self.view)
    }

    fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

/// The kind a resource name means in a group version (`""`/`v1`: the
/// core group, where events are served too).
fn resolve(shared: &Shared, (group, version): (&str, &str), plural: &str) -> Option<(Kind, View)> {
    if group.is_empty() {
        return Kind::from_core_plural(plural).map(|k| (k, View::Core));
    }
    if !served(shared, group) {
        return None;
    }
    let built_in = Kind::BUILT_IN.into_iter().find(|k| {
        version == "v1" && !k.group().is_empty() && k.group() == group && k.plural() == plural
    });
    built_in
        .or_else(|| {
            crd::kinds_in(shared, group, version)
                .into_iter()
                .find(|k| k.plural() == plural)
        })
        .map(|k| (k, View::Group))
}

fn parse_target(shared: &Shared, gv: (&str, &str), rest: &[&str]) -> Option<Target> {
    let t = |(kind, view): (Kind, View), namespace: Option<&str>, name: Option<&str>| Target {
        kind,
        view,
        namespace: namespace.map(str::to_owned),
        name: name.map(str::to_owned),
    };
    match rest {
        ["namespaces", ns, plural, tail @ ..]
            if tail.len() <= 2
                && resolve(shared, gv, plural).is_some_and(|(k, _)| k.namespaced()) =>
        {
            let resolved = resolve(shared, gv, plural)?;
            match tail {
                [] => Some(t(resolved, Some(ns), None)),
                [name] | [name, "status"] => Some(t(resolved, Some(ns), Some(name))),
                _ => None,
            }
        }
        [plural, tail @ ..] if tail.len() <= 2 => {
            let resolved = resolve(shared, gv, plural)?;
            let namespaced = resolved.0.namespaced();
            match tail {
                [] => Some(t(resolved, None, None)),
                [name] | [name, "status"] if !namespaced => Some(t(resolved, None, Some(name))),
                _ => None,
            }
        }
        _ => None,
    }
}

fn resource(
    shared: &Shared,
    req: &Req<'_>,
    gv: (&str, &str),
    rest: &[&str],
) -> Result<Response<Body>, ApiError> {
    let (watch_path, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let target = parse_target(shared, gv, rest).ok_or_else(ApiError::no_route)?;
    let watch = watch_path || req.flag("watch");
    let verb = match (req.method, target.name.is_some()) {
        (&Method::GET, _) if watch => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => return Err(ApiError::method_not_allowed()),
    };
    let user = req.user.ok_or_else(ApiError::unauthorized)?;
    if !user.permissions.allows_in(
        target.namespace.as_deref(),
        target.kind.plural(),
        target.group(),
        verb,
    ) {
        return Err(ApiError::forbidden(
            &user.user,
            verb,
            target.kind.plural(),
            target.group(),
            target.name.as_deref(),
            target.namespace.as_deref(),
        ));
    }
    match verb {
        "watch" => watch_objects(shared, req, &target),
        "list" => list(shared, req, &target),
        "get" => get(shared, req, &target),
        "create" => create(shared, req, &target),
        "update" => update(shared, req, &target),
        "patch" => patch(shared, req, &target),
        "delete" => delete(shared, req, &target),
        _ => delete_collection(shared, req, &target),
    }
}

fn selectors(req: &Req<'_>, target: &Target) -> Result<(FieldSelector, LabelSelector), ApiError> {
    let mut field_text = req.param("fieldSelector").unwrap_or("").to_owned();
    if let Some(name) = &target.name {
        let term = format!("metadata.name={name}");
        field_text = if field_text.is_empty() {
            term
        } else {
            format!("{term},{field_text}")
        };
    }
    let fields = FieldSelector::parse(&field_text)?;
    fields.check(&target.kind, target.view)?;
    let labels = LabelSelector::parse(req.param("labelSelector").unwrap_or(""))?;
    Ok((fields, labels))
}

fn strip_type(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("kind");
        o.remove("apiVersion");
    }
    v
}

fn object_key(v: &Value) -> String {
    format!(
        "{}/{}",
        v.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(""),
        v.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    )
}

fn table_response(
    shared: &Shared,
    req: &Req<'_>,
    target: &Target,
    version: &str,
    stored: &[Value],
    list_meta: &Value,
) -> Response<Body> {
    let api_version = format!("meta.k8s.io/{version}");
    let include = IncludeObject::parse(req.param("includeObject"));
    let t = table(
        &target.kind,
        target.view,
        &api_version,
        stored,
        shared.store.now(),
        list_meta,
        include,
    );
    full(
        200,
        &format!("application/json;as=Table;v={version};g=meta.k8s.io"),
        t.to_string().into_bytes(),
    )
}

fn list(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let (fields, labels) = selectors(req, target)?;
    let (items, rv) = shared.store.list(&target.kind, target.namespace.as_deref());
    let mut selected: Vec<Value> = items
        .into_iter()
        .filter(|o| fields.matches(&target.kind, target.view, o) && labels.matches(o))
        .collect();
    if let Some(after) = req.param("continue").filter(|c| !c.is_empty()) {
        // Items come in (namespace, name) order; compare as such, not as
        // one "ns/name" string ('-' and '.' sort before '/').
        let after = after.split_once('/').unwrap_or(("", after));
        selected.retain(|o| {
            let key = object_key(o);
            key.split_once('/').unwrap_or(("", key.as_str())) > after
        });
    }
    let limit = req
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|&l| l > 0);
    let mut list_meta = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = limit
        && selected.len() > limit
    {
        let remaining = selected.len() - limit;
        selected.truncate(limit);
        if let (Some(last), Some(m)) = (selected.last(), list_meta.as_object_mut()) {
            m.insert("continue".to_owned(), json!(object_key(last)));
            m.insert("remainingItemCount".to_owned(), json!(remaining));
        }
    }
    if let Some(version) = req.table_version() {
        return Ok(table_response(
            shared, req, target, version, &selected, &list_meta,
        ));
    }
    let rendered: Vec<Value> = selected
        .iter()
        .map(|o| strip_type(render(&target.kind, target.view, o)))
        .collect();
    Ok(json(
        200,
        &json!({
            "kind": format!("{}List", target.kind.kind()),
            "apiVersion": target.kind.api_version_in(target.view),
            "metadata": list_meta,
            "items": rendered,
        }),
    ))
}

fn get(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let name = target.name.as_deref().unwrap_or("");
    let stored = shared
        .store
        .get(&target.kind, target.ns(), name)
        .ok_or_else(|| ApiError::not_found(target.kind.plural(), target.group(), name))?;
    if let Some(version) = req.table_version() {
        let rv = stored
            .pointer("/metadata/resourceVersion")
            .cloned()
            .unwrap_or(Value::Null);
        return Ok(table_response(
            shared,
            req,
            target,
            version,
            &[stored],
            &json!({"resourceVersion": rv}),
        ));
    }
    Ok(json(200, &render(&target.kind, target.view, &stored)))
}

fn watch_objects(
    shared: &Shared,
    req: &Req<'_>,
    target: &Target,
) -> Result<Response<Body>, ApiError> {
    let (fields, labels) = selectors(req, target)?;
    let initial_events = req.param("sendInitialEvents") == Some("true");
    let since = match req.param("resourceVersion").filter(|v| !v.is_empty()) {
        _ if initial_events => None,
        None => None,
        Some(v) => Some(v.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!("invalid resource version: {}", quote(v)))
        })?),
    };
    let timeout = req
        .param("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs);
    let filter = WatchFilter {
        kind: target.kind.clone(),
        view: target.view,
        namespace: target.namespace.clone(),
        fields,
        labels,
        table: req.table_version().map(|v| TableMode {
            api_version: format!("meta.k8s.io/{v}"),
            include: IncludeObject::parse(req.param("includeObject")),
        }),
    };
    let bookmarks = req.param("allowWatchBookmarks") == Some("true");
    let mut start = shared.store.watch(filter, since, bookmarks)?;
    if initial_events {
        let bookmark = bookmark_object(
            &target.kind,
            target.view,
            start.rv,
            Some(json!({"k8s.io/initial-events-end": "true"})),
        );
        start.initial.push(watch_line("BOOKMARK", &bookmark));
    }
    let body = WatchBody::new(start.initial, start.rx, timeout);
    let mut resp = Response::new(body.boxed());
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

fn create(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let body = req.json_body()?;
    req.check_fields((&target.kind, target.view), &body)?;
    let created = create_object_as(
        shared,
        (&target.kind, target.view),
        target.namespace.as_deref(),
        body,
        req.dry_run(),
    )?;
    Ok(json(201, &render(&target.kind, target.view, &created)))
}

fn update(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let body = req.json_body()?;
    req.check_fields((&target.kind, target.view), &body)?;
    let name = target.name.as_deref().unwrap_or("");
    let (kind, view) = (&target.kind, target.view);
    let now = format_time(shared.store.now());
    let updated = shared.store.update(
        kind,
        target.group(),
        (target.ns(), name),
        req.dry_run(),
        |current| prepare_update((kind, view), current, body, &now),
    )?;
    Ok(json(200, &render(kind, view, &updated)))
}

/// Most operations one JSON patch may hold.
const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

fn patch(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let media = req.content_type.split(';').next().unwrap_or("").trim();
    let strategic = match media {
        "application/merge-patch+json" => false,
        "application/strategic-merge-patch+json" => true,
        "application/json-patch+json" => return json_patch(shared, req, target),
        "application/apply-patch+yaml" | "application/apply-patch+json" => {
            return apply(shared, req, target);
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    let mut patch_doc = req.json_body()?;
    if strategic {
        strip_directives(&mut patch_doc);
    }
    merge_into_stored(shared, req, target, &patch_doc)
}

/// An RFC 6902 JSON patch: a list of operations applied in order to the
/// object as `target.view` shows it; a failed operation (a `test` that
/// does not hold, a path that does not exist) changes nothing.
fn json_patch(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let ops: json_patch::Patch = serde_json::from_value(req.json_body()?)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if ops.0.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(ApiError::too_large_message(format!(
            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            ops.0.len()
        )));
    }
    patch_stored(shared, req, target, |doc| {
        json_patch::patch(doc, &ops).map_err(|e| ApiError::patch_failed(&e.to_string()))
    })
}

/// Merges `patch_doc` into the stored object (as `target.view` shows it)
/// and answers the result.
fn merge_into_stored(
    shared: &Shared,
    req: &Req<'_>,
    target: &Target,
    patch_doc: &Value,
) -> Result<Response<Body>, ApiError> {
    patch_stored(shared, req, target, |doc| {
        merge_patch(doc, patch_doc);
        Ok(())
    })
}

/// Changes the stored object (as `target.view` shows it) with `change`,
/// checks the result as an update, and answers it.
fn patch_stored(
    shared: &Shared,
    req: &Req<'_>,
    target: &Target,
    change: impl FnOnce(&mut Value) -> Result<(), ApiError>,
) -> Result<Response<Body>, ApiError> {
    let name = target.name.as_deref().unwrap_or("");
    let (kind, view) = (&target.kind, target.view);
    let now = format_time(shared.store.now());
    let updated = shared.store.update(
        kind,
        target.group(),
        (target.ns(), name),
        req.dry_run(),
        |current| {
            let mut doc = render(kind, view, current);
            change(&mut doc)?;
            req.check_fields((kind, view), &doc)?;
            prepare_update((kind, view), current, doc, &now)
        },
    )?;
    Ok(json(200, &render(kind, view, &updated)))
}

/// Server-side apply, reduced to create-or-merge.
fn apply(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    if req.param("fieldManager").is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            &[FieldError::required(
                "fieldManager",
                "is required for apply patch",
            )],
        ));
    }
    let mut patch_doc = req.json_body()?;
    let name = target.name.as_deref().unwrap_or("");
    let (kind, view) = (&target.kind, target.view);
    if shared.store.get(kind, target.ns(), name).is_none() {
        set_name(&mut patch_doc, "name", name);
        let created = create_object_as(
            shared,
            (kind, view),
            target.namespace.as_deref(),
            patch_doc,
            req.dry_run(),
        )?;
        return Ok(json(201, &render(kind, view, &created)));
    }
    if let Some(m) = patch_doc.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("resourceVersion");
    }
    merge_into_stored(shared, req, target, &patch_doc)
}

/// Namespaces that namespace lifecycle admission keeps from deletion.
const IMMORTAL_NAMESPACES: [&str; 3] = ["default", "kube-system", "kube-public"];

fn delete(shared: &Shared, req: &Req<'_>, target: &Target) -> Result<Response<Body>, ApiError> {
    let name = target.name.as_deref().unwrap_or("");
    if target.kind == Kind::Namespace && IMMORTAL_NAMESPACES.contains(&name) {
        return Err(ApiError::immortal_namespace(name));
    }
    let gone = shared.store.delete(
        &target.kind,
        target.group(),
        (target.ns(), name),
        req.dry_run(),
    )?;
    if target.kind == Kind::CustomResourceDefinition && !req.dry_run() {
        for version in crd::served_versions(&gone) {
            if let Some(kind) = crd::custom_kind(&gone, &version) {
                shared.store.remove_kind(&kind);
            }
        }
    }
    if matches!(target.kind, Kind::Pod | Kind::Namespace) {
        return Ok(json(200, &render(&target.kind, target.view, &gone)));
    }
    Ok(json(
        200,
        &success_status(
            target.kind.plural(),
            target.group(),
            name,
            meta_str(&gone, "uid"),
        ),
    ))
}

fn delete_collection(
    shared: &Shared,
    req: &Req<'_>,
    target: &Target,
) -> Result<Response<Body>, ApiError> {
    let (fields, labels) = selectors(req, target)?;
    let (items, _) = shared.store.list(&target.kind, target.namespace.as_deref());
    for o in items
        .iter()
        .filter(|o| fields.matches(&target.kind, target.view, o) && labels.matches(o))
    {
        // Already gone is fine: something else deleted it meanwhile.
        let _ = shared.store.delete(
            &target.kind,
            target.group(),
            (meta_str(o, "namespace"), meta_str(o, "name")),
            req.dry_run(),
        );
    }
    Ok(json(
        200,
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
    ))
}
