//! A client's questions about itself: SelfSubjectAccessReview (`kubectl
//! auth can-i`, an access check at a controller's start) and
//! SelfSubjectReview (`kubectl auth whoami`), answered from the token's
//! user and [`Permissions`](crate::Permissions).

use http::{Method, Response};
use serde_json::{Value, json};

use crate::ADMIN_USER;
use crate::auth::{Decision, TokenEntry};
use crate::handlers::Req;
use crate::http::{Body, json};
use crate::resources::{AUTHENTICATION_GROUP, AUTHORIZATION_GROUP};
use crate::status::{ApiError, FieldError, render_value};

/// Paths every authenticated user may `get`: discovery, version, health
/// and the OpenAPI documents.
fn is_public_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    matches!(
        path,
        "/api" | "/apis" | "/version" | "/healthz" | "/livez" | "/readyz" | "/openapi"
    ) || [
        "/api/",
        "/apis/",
        "/openapi/",
        "/healthz/",
        "/livez/",
        "/readyz/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

/// The groups of a user, as a cluster's authenticators give them: the
/// admin is in `system:masters`, a service account in its namespace's
/// group.
fn groups(user: &str) -> Vec<String> {
    let mut groups = Vec::new();
    if user == ADMIN_USER {
        groups.push("system:masters".to_owned());
    }
    if let Some(rest) = user.strip_prefix("system:serviceaccount:")
        && let Some((namespace, _)) = rest.split_once(':')
    {
        groups.push("system:serviceaccounts".to_owned());
        groups.push(format!("system:serviceaccounts:{namespace}"));
    }
    groups.push("system:authenticated".to_owned());
    groups
}

fn user_of<'a>(req: &Req<'a>) -> Result<&'a TokenEntry, ApiError> {
    if *req.method != Method::POST {
        return Err(ApiError::method_not_allowed());
    }
    req.user.ok_or_else(ApiError::unauthorized)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
pub(crate) fn access_review(req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let user = user_of(req)?;
    let body = req.json_body()?;
    let spec = body.get("spec").cloned().unwrap_or_else(|| json!({}));
    let resource = spec.get("resourceAttributes").filter(|v| v.is_object());
    let non_resource = spec.get("nonResourceAttributes").filter(|v| v.is_object());
    let invalid =
        |e: FieldError| ApiError::invalid("SelfSubjectAccessReview", AUTHORIZATION_GROUP, "", &[e]);
    let decision = match (resource, non_resource) {
        (Some(_), Some(n)) => {
            return Err(invalid(FieldError::invalid(
                "spec.nonResourceAttributes",
                &render_value(n),
                "cannot be specified in combination with resourceAttributes",
            )));
        }
        (None, None) => {
            return Err(invalid(FieldError::invalid(
                "spec.resourceAttributes",
                "null",
                "exactly one of nonResourceAttributes or resourceAttributes must be specified",
            )));
        }
        (Some(r), None) => {
            let plural = match s(r, "subresource") {
                "" => s(r, "resource").to_owned(),
                sub => format!("{}/{sub}", s(r, "resource")),
            };
            let namespace = Some(s(r, "namespace")).filter(|ns| !ns.is_empty());
            user.permissions
                .decide(namespace, &plural, s(r, "group"), s(r, "verb"))
        }
        (None, Some(n)) => {
            let get = matches!(s(n, "verb"), "get" | "head");
            if user.permissions.is_unrestricted() || (get && is_public_path(s(n, "path"))) {
                Decision::Allowed
            } else {
                Decision::NoOpinion
            }
        }
    };
    let status = match decision {
        Decision::Allowed => json!({
            "allowed": true,
            "reason": format!("allowed by the permissions of user {}", crate::status::quote(&user.user)),
        }),
        Decision::Denied => json!({
            "allowed": false,
            "denied": true,
            "reason": format!("denied by a rule of user {}", crate::status::quote(&user.user)),
        }),
        Decision::NoOpinion => json!({"allowed": false}),
    };
    Ok(json(
        201,
        &json!({
            "kind": "SelfSubjectAccessReview",
            "apiVersion": format!("{AUTHORIZATION_GROUP}/v1"),
            "metadata": {"creationTimestamp": null},
            "spec": spec,
            "status": status,
        }),
    ))
}

/// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`.
pub(crate) fn self_review(req: &Req<'_>) -> Result<Response<Body>, ApiError> {
    let user = user_of(req)?;
    Ok(json(
        201,
        &json!({
            "kind": "SelfSubjectReview",
            "apiVersion": format!("{AUTHENTICATION_GROUP}/v1"),
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user.user, "groups": groups(&user.user)}},
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_groups() {
        assert_eq!(groups("admin"), ["system:masters", "system:authenticated"]);
        assert_eq!(
            groups("system:serviceaccount:shop:widgets"),
            [
                "system:serviceaccounts",
                "system:serviceaccounts:shop",
                "system:authenticated"
            ]
        );
        assert_eq!(groups("alice"), ["system:authenticated"]);
    }

    #[test]
    fn public_paths() {
        for p in [
            "/api",
            "/apis/events.k8s.io/v1",
            "/version",
            "/openapi/v3",
            "/healthz",
        ] {
            assert!(is_public_path(p), "{p}");
        }
        for p in ["/metrics", "/logs", "/apiserver"] {
            assert!(!is_public_path(p), "{p}");
        }
    }
}
