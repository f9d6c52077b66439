//! `Status` bodies: the errors the API server answers with.

use serde_json::{Value, json};

/// One field error, rendered the way the API server renders them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    /// `FieldValueInvalid`, `FieldValueRequired`, ...
    pub(crate) reason: &'static str,
    /// The body after the path: `Invalid value: "x": detail`.
    pub(crate) message: String,
    /// The field path, e.g. `series.count`.
    pub(crate) field: String,
}

impl FieldError {
    /// A required field is missing.
    pub(crate) fn required(field: &str, detail: &str) -> FieldError {
        let message = if detail.is_empty() {
            "Required value".to_owned()
        } else {
            format!("Required value: {detail}")
        };
        FieldError {
            reason: "FieldValueRequired",
            message,
            field: field.to_owned(),
        }
    }

    /// A field has an invalid value; `value` is already rendered
    /// (see [`quote`] and [`render_value`]).
    pub(crate) fn invalid(field: &str, value: &str, detail: &str) -> FieldError {
        let message = if detail.is_empty() {
            format!("Invalid value: {value}")
        } else {
            format!("Invalid value: {value}: {detail}")
        };
        FieldError {
            reason: "FieldValueInvalid",
            message,
            field: field.to_owned(),
        }
    }

    /// A value is not one of `supported`.
    pub(crate) fn not_supported(field: &str, value: &str, supported: &[&str]) -> FieldError {
        let list: Vec<String> = supported.iter().map(|v| quote(v)).collect();
        FieldError {
            reason: "FieldValueNotSupported",
            message: format!(
                "Unsupported value: {value}: supported values: {}",
                list.join(", ")
            ),
            field: field.to_owned(),
        }
    }

    /// A value is longer than `limit` bytes (the value is not repeated).
    pub(crate) fn too_long(field: &str, limit: usize) -> FieldError {
        FieldError {
            reason: "FieldValueTooLong",
            message: format!("Too long: must have at most {limit} bytes"),
            field: field.to_owned(),
        }
    }

    /// A field may not be set here.
    pub(crate) fn forbidden(field: &str, detail: &str) -> FieldError {
        FieldError {
            reason: "FieldValueForbidden",
            message: format!("Forbidden: {detail}"),
            field: field.to_owned(),
        }
    }

    /// `path: body`, as in the Status message.
    fn line(&self) -> String {
        format!("{}: {}", self.field, self.message)
    }
}

/// A string value rendered like Go's `%q`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON value rendered for an `Invalid value:` message.
pub(crate) fn render_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::String(s) => quote(s),
        other => other.to_string(),
    }
}

/// An error answer: HTTP status code plus `Status` body.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    pub(crate) code: u16,
    pub(crate) reason: &'static str,
    pub(crate) message: String,
    pub(crate) details: Option<Value>,
    pub(crate) retry_after: Option<u64>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// `kind.group` as the API server prints it (`events.events.k8s.io`,
    /// or just `pods` for the core group).
    fn qualified(resource: &str, group: &str) -> String {
        if group.is_empty() {
            resource.to_owned()
        } else {
            format!("{resource}.{group}")
        }
    }

    /// Names the object the error is about in `details`.
    fn about(mut self, plural: &str, group: &str, name: &str) -> ApiError {
        self.details = Some(json!({"name": name, "group": group, "kind": plural}));
        self
    }

    /// 404 for a missing object.
    pub(crate) fn not_found(plural: &str, group: &str, name: &str) -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            format!(
                "{} {} not found",
                ApiError::qualified(plural, group),
                quote(name)
            ),
        )
        .about(plural, group, name)
    }

    /// 404 for a path the server does not serve.
    pub(crate) fn no_route() -> ApiError {
        let mut e = ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
        e.details = Some(json!({}));
        e
    }

    /// 409 for a duplicate name.
    pub(crate) fn already_exists(plural: &str, group: &str, name: &str) -> ApiError {
        ApiError::new(
            409,
            "AlreadyExists",
            format!(
                "{} {} already exists",
                ApiError::qualified(plural, group),
                quote(name)
            ),
        )
        .about(plural, group, name)
    }

    /// 409 for a DELETE of a namespace already being deleted.
    pub(crate) fn namespace_being_removed(name: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on namespaces {}: The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
                quote(name)
            ),
        )
        .about("namespaces", "", name)
    }

    /// 409 for a stale `resourceVersion`.
    pub(crate) fn conflict(plural: &str, group: &str, name: &str) -> ApiError {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {}: the object has been modified; please apply your changes to the latest version and try again",
                ApiError::qualified(plural, group),
                quote(name)
            ),
        )
        .about(plural, group, name)
    }

    /// 410 for a watch from a resource version that is no longer kept.
    pub(crate) fn gone(rv: &str) -> ApiError {
        ApiError::new(410, "Expired", format!("too old resource version: {rv}"))
    }

    /// 422 with field causes.
    pub(crate) fn invalid(kind: &str, group: &str, name: &str, errors: &[FieldError]) -> ApiError {
        let mut lines: Vec<String> = Vec::new();
        for e in errors {
            let line = e.line();
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        let body = if lines.len() == 1 {
            lines.join("")
        } else {
            format!("[{}]", lines.join(", "))
        };
        let mut e = ApiError::new(
            422,
            "Invalid",
            format!(
                "{} {} is invalid: {body}",
                ApiError::qualified(kind, group),
                quote(name)
            ),
        );
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.reason, "message": e.message, "field": e.field}))
            .collect();
        let mut details = json!({"name": name, "kind": kind, "causes": causes});
        if !group.is_empty() {
            details["group"] = json!(group);
        }
        e.details = Some(details);
        e
    }

    /// 400.
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message)
    }

    /// 401.
    pub(crate) fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    /// 403 for a verb the token may not use.
    pub(crate) fn forbidden(
        user: &str,
        verb: &str,
        plural: &str,
        group: &str,
        name: Option<&str>,
        namespace: Option<&str>,
    ) -> ApiError {
        let what = match name {
            Some(n) => format!("{} {}", ApiError::qualified(plural, group), quote(n)),
            None => ApiError::qualified(plural, group),
        };
        let scope = match namespace {
            Some(ns) => format!("in the namespace {}", quote(ns)),
            None => "at the cluster scope".to_owned(),
        };
        let mut e = ApiError::new(
            403,
            "Forbidden",
            format!(
                "{what} is forbidden: User {} cannot {verb} resource {} in API group {} {scope}",
                quote(user),
                quote(plural),
                quote(group)
            ),
        );
        e.details = Some(json!({"name": name.unwrap_or_default(), "group": group, "kind": plural}));
        e
    }

    /// 403 from namespace lifecycle admission: no new objects in a
    /// namespace that is being deleted.
    pub(crate) fn namespace_terminating(
        plural: &str,
        group: &str,
        name: &str,
        namespace: &str,
    ) -> ApiError {
        let what = if name.is_empty() {
            ApiError::qualified(plural, group)
        } else {
            format!("{} {}", ApiError::qualified(plural, group), quote(name))
        };
        let mut e = ApiError::new(
            403,
            "Forbidden",
            format!(
                "{what} is forbidden: unable to create new content in namespace {namespace} because it is being terminated"
            ),
        );
        e.details = Some(json!({
            "name": name,
            "group": group,
            "kind": plural,
            "causes": [{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {namespace} is being terminated"),
                "field": "metadata.namespace",
            }],
        }));
        e
    }

    /// 403 for deleting a namespace every cluster keeps.
    pub(crate) fn immortal_namespace(name: &str) -> ApiError {
        let mut e = ApiError::new(
            403,
            "Forbidden",
            format!(
                "namespaces {} is forbidden: this namespace may not be deleted",
                quote(name)
            ),
        );
        e.details = Some(json!({"name": name, "kind": "namespaces"}));
        e
    }

    /// 405.
    pub(crate) fn method_not_allowed() -> ApiError {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 413.
    pub(crate) fn too_large() -> ApiError {
        ApiError::new(
            413,
            "RequestEntityTooLarge",
            "the request body is too large",
        )
    }

    /// 413 with a message of its own.
    pub(crate) fn too_large_message(message: String) -> ApiError {
        ApiError::new(413, "RequestEntityTooLarge", message)
    }

    /// 422 for a JSON patch whose operations cannot be applied.
    pub(crate) fn patch_failed(message: &str) -> ApiError {
        let mut e = ApiError::new(422, "Invalid", message);
        e.details = Some(json!({
            "causes": [{"reason": "UnexpectedServerResponse", "message": message}],
        }));
        e
    }

    /// 415.
    pub(crate) fn unsupported_media_type(content_type: &str) -> ApiError {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (as JSON); got {}",
                quote(content_type)
            ),
        )
    }

    /// An injected error with a given code.
    pub(crate) fn injected(code: u16, retry_after: Option<u64>) -> ApiError {
        let reason = match code {
            400 => "BadRequest",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "NotFound",
            409 => "Conflict",
            410 => "Expired",
            422 => "Invalid",
            429 => "TooManyRequests",
            500 => "InternalError",
            503 => "ServiceUnavailable",
            504 => "Timeout",
            _ => "Unknown",
        };
        let mut e = ApiError::new(code, reason, format!("injected fault: {code} {reason}"));
        if code == 429 {
            e.details = Some(json!({"retryAfterSeconds": retry_after.unwrap_or(1)}));
        }
        e.retry_after = retry_after;
        e
    }

    /// The `Status` body.
    pub(crate) fn to_status(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let (Some(d), Some(obj)) = (&self.details, v.as_object_mut()) {
            obj.insert("details".to_owned(), d.clone());
        }
        v
    }
}

/// The `Status` a successful delete answers with when it returns no object.
pub(crate) fn success_status(plural: &str, group: &str, name: &str, uid: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": group, "kind": plural, "uid": uid},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_message_dedups_lines_but_keeps_causes() {
        let errs = vec![
            FieldError::invalid("reason", &quote("B"), "field is immutable"),
            FieldError::invalid("reason", &quote("B"), "field is immutable"),
        ];
        let e = ApiError::invalid("Widget", "example.com", "e1", &errs);
        assert_eq!(
            e.message,
            "Widget.example.com \"e1\" is invalid: reason: Invalid value: \"B\": field is immutable"
        );
        let s = e.to_status();
        assert_eq!(s["details"]["causes"].as_array().map(Vec::len), Some(2));
        assert_eq!(s["code"], 422);
    }

    #[test]
    fn several_errors_are_bracketed() {
        let errs = vec![
            FieldError::required("action", ""),
            FieldError::required("reason", ""),
        ];
        let e = ApiError::invalid("Event", "", "e1", &errs);
        assert_eq!(
            e.message,
            "Event \"e1\" is invalid: [action: Required value, reason: Required value]"
        );
    }

    #[test]
    fn forbidden_message() {
        let e = ApiError::forbidden(
            "limited",
            "patch",
            "events",
            "events.k8s.io",
            Some("x"),
            Some("ns"),
        );
        assert_eq!(
            e.message,
            "events.events.k8s.io \"x\" is forbidden: User \"limited\" cannot patch resource \"events\" in API group \"events.k8s.io\" in the namespace \"ns\""
        );
        let e = ApiError::forbidden("u", "list", "nodes", "", None, None);
        assert_eq!(
            e.message,
            "nodes is forbidden: User \"u\" cannot list resource \"nodes\" in API group \"\" at the cluster scope"
        );
    }
}
