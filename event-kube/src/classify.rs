//! How answers from the Kubernetes API map to [`SinkError`].

use std::time::Duration;

use event_core::sink::SinkError;

/// The RBAC rule a publisher through `events.k8s.io/v1` needs, in the
/// messages of [`SinkError::Forbidden`] from a [`KubeSink`](crate::KubeSink)
/// (a [`CoreV1Sink`](crate::CoreV1Sink) names [`CORE_RBAC_HINT`](crate::CORE_RBAC_HINT)).
pub const RBAC_HINT: &str = "the publisher needs RBAC: apiGroups [\"events.k8s.io\"], resources [\"events\"], verbs [\"create\", \"patch\", \"get\"]";
use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use kube::core::Status;

/// Classifies an HTTP answer from the API server.
///
/// | status | result |
/// | --- | --- |
/// | 2xx | `Ok(())` |
/// | 404 | [`SinkError::NotFound`] |
/// | 409 | [`SinkError::AlreadyExists`] (a `Conflict` reason is [`SinkError::Transient`]) |
/// | 422 | [`SinkError::Invalid`] with the server's message and causes |
/// | 403 with the Status cause `NamespaceTerminating` | [`SinkError::NamespaceTerminating`]: the namespace is being deleted (no RBAC hint) |
/// | 401, 403 | [`SinkError::Forbidden`] with the server's message and the RBAC rule needed |
/// | 429 | [`SinkError::Throttled`], `retry_after` from the `Retry-After` header (seconds), else from the body's `details.retryAfterSeconds` |
/// | 408, 5xx | [`SinkError::Transient`] |
/// | anything else | [`SinkError::Fatal`] |
///
/// The body is read as a Kubernetes `Status` when it is one; otherwise its
/// text is the message.
///
/// # Errors
///
/// The [`SinkError`] for any status that is not a success.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use event_core::sink::SinkError;
/// use event_kube::classify_response;
/// use http::{HeaderMap, HeaderValue, StatusCode};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", HeaderValue::from_static("1"));
/// assert_eq!(
///     classify_response(StatusCode::TOO_MANY_REQUESTS, &headers, b""),
///     Err(SinkError::Throttled { retry_after: Some(Duration::from_secs(1)) }),
/// );
/// assert_eq!(classify_response(StatusCode::CREATED, &headers, b"{}"), Ok(()));
/// ```
pub fn classify_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), SinkError> {
    classify_response_for(status, headers, body, RBAC_HINT)
}

/// The bytes of a body that is not a Status kept in an error's message.
const MAX_BODY_IN_MESSAGE: usize = 1024;

/// [`classify_response`] for an API whose RBAC rule is `rbac_hint`.
pub(crate) fn classify_response_for(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    rbac_hint: &str,
) -> Result<(), SinkError> {
    if status.is_success() {
        return Ok(());
    }
    let parsed = serde_json::from_slice::<Status>(body)
        .ok()
        .filter(|s| !s.message.is_empty() || !s.reason.is_empty() || s.details.is_some());
    let parsed = parsed.unwrap_or_else(|| {
        // Only the start of a body that is not a Status (a proxy's error
        // page, say): the message is logged and kept with the error.
        let mut cut = MAX_BODY_IN_MESSAGE.min(body.len());
        // Not inside a character.
        while cut > 0 && body.get(cut).is_some_and(|b| b & 0xC0 == 0x80) {
            cut -= 1;
        }
        let start = body.get(..cut).unwrap_or(body);
        let text = String::from_utf8_lossy(start);
        let text = text.trim();
        if text.is_empty() {
            Status::failure(status.canonical_reason().unwrap_or(""), "")
        } else if start.len() < body.len() {
            let more = body.len() - start.len();
            Status::failure(&format!("{text}... ({more} more bytes)"), "")
        } else {
            Status::failure(text, "")
        }
    });
    let retry_after = headers.get(RETRY_AFTER).and_then(|v| {
        v.to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    });
    Err(classify_status(
        status.as_u16(),
        &parsed,
        retry_after,
        rbac_hint,
    ))
}

/// Classifies an error from a [`kube::Client`] call.
///
/// `kube::Error::Api` is classified by its status code as in
/// [`classify_response`] (the `Retry-After` header is not kept by that
/// error; the body's `retryAfterSeconds` is used when present). Transport
/// failures — `HyperError`, `Service` (connection refused or reset,
/// timeouts), errors while reading a response, and credential refreshes that
/// failed — are [`SinkError::Transient`]. Anything else (building or
/// encoding the request, configuration) is [`SinkError::Fatal`].
///
/// # Example
///
/// ```
/// use event_core::sink::SinkError;
/// use event_kube::classify_error;
/// use kube::core::Status;
///
/// let not_found = kube::Error::Api(Status::failure("events \"x\" not found", "NotFound").with_code(404).boxed());
/// assert_eq!(classify_error(&not_found), SinkError::NotFound);
///
/// let refused = kube::Error::Service(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into());
/// assert!(matches!(classify_error(&refused), SinkError::Transient { .. }));
/// ```
pub fn classify_error(error: &kube::Error) -> SinkError {
    classify_error_for(error, RBAC_HINT)
}

/// [`classify_error`] for an API whose RBAC rule is `rbac_hint`.
pub(crate) fn classify_error_for(error: &kube::Error, rbac_hint: &str) -> SinkError {
    match error {
        kube::Error::Api(status) => classify_status(status.code, status, None, rbac_hint),
        kube::Error::HyperError(_)
        | kube::Error::Service(_)
        | kube::Error::ReadEvents(_)
        | kube::Error::Auth(_) => SinkError::Transient {
            message: error_chain(error),
        },
        _ => SinkError::Fatal {
            message: error_chain(error),
        },
    }
}

/// The error's message followed by its sources, `: `-separated.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn classify_status(
    code: u16,
    status: &Status,
    retry_after: Option<Duration>,
    rbac_hint: &str,
) -> SinkError {
    match code {
        404 => SinkError::NotFound,
        409 if status.reason == "Conflict" => SinkError::Transient {
            message: format!("HTTP 409: {}", describe(status)),
        },
        409 => SinkError::AlreadyExists,
        422 => SinkError::Invalid {
            message: describe(status),
        },
        403 if is_namespace_terminating(status) => SinkError::NamespaceTerminating {
            message: describe(status),
        },
        401 | 403 => SinkError::Forbidden {
            message: format!("{}; {rbac_hint}", describe(status)),
        },
        429 => SinkError::Throttled {
            retry_after: retry_after.or_else(|| {
                status
                    .details
                    .as_ref()
                    .map(|d| d.retry_after_seconds)
                    .filter(|&s| s > 0)
                    .map(|s| Duration::from_secs(u64::from(s)))
            }),
        },
        408 | 500..=599 => SinkError::Transient {
            message: format!("HTTP {code}: {}", describe(status)),
        },
        _ => SinkError::Fatal {
            message: format!("HTTP {code}: {}", describe(status)),
        },
    }
}

/// The cause the API server's namespace lifecycle admission adds to the 403
/// it answers to new content in a namespace being deleted.
const NAMESPACE_TERMINATING: &str = "NamespaceTerminating";

/// Whether a 403 is the answer to new content in a namespace being deleted
/// (a cause of type `NamespaceTerminating`, or that as the Status reason).
fn is_namespace_terminating(status: &Status) -> bool {
    status.reason == NAMESPACE_TERMINATING
        || status
            .details
            .iter()
            .flat_map(|d| d.causes.iter())
            .any(|c| c.reason == NAMESPACE_TERMINATING)
}

/// The server's message, its reason when there is no message, and every
/// cause the message does not already contain.
fn describe(status: &Status) -> String {
    let mut text = if status.message.is_empty() {
        status.reason.clone()
    } else {
        status.message.clone()
    };
    let causes = status.details.iter().flat_map(|d| d.causes.iter());
    for cause in causes {
        if cause.message.is_empty() || text.contains(&cause.message) {
            continue;
        }
        text.push_str(if text.is_empty() { "" } else { "; " });
        if !cause.field.is_empty() {
            text.push_str(&cause.field);
            text.push_str(": ");
        }
        text.push_str(&cause.message);
    }
    text
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn classify(code: u16, body: &str) -> SinkError {
        let status = StatusCode::from_u16(code).unwrap();
        classify_response(status, &HeaderMap::new(), body.as_bytes()).unwrap_err()
    }

    #[test]
    fn success_is_ok() {
        for code in [200, 201, 204] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(classify_response(status, &HeaderMap::new(), b""), Ok(()));
        }
    }

    #[test]
    fn statuses_map_to_their_class() {
        assert_eq!(classify(404, ""), SinkError::NotFound);
        assert_eq!(
            classify(409, r#"{"reason":"AlreadyExists"}"#),
            SinkError::AlreadyExists
        );
        assert!(matches!(
            classify(409, r#"{"reason":"Conflict"}"#),
            SinkError::Transient { .. }
        ));
        assert!(matches!(classify(422, ""), SinkError::Invalid { .. }));
        assert!(matches!(classify(401, ""), SinkError::Forbidden { .. }));
        assert!(matches!(classify(403, ""), SinkError::Forbidden { .. }));
        assert_eq!(
            classify(429, ""),
            SinkError::Throttled { retry_after: None }
        );
        for code in [408, 500, 502, 503, 504] {
            assert!(
                matches!(classify(code, ""), SinkError::Transient { .. }),
                "{code}"
            );
        }
        for code in [301, 400, 405, 410, 413, 415] {
            assert!(
                matches!(classify(code, ""), SinkError::Fatal { .. }),
                "{code}"
            );
        }
    }

    #[test]
    fn invalid_carries_message_and_new_causes() {
        let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure",
            "message":"Event \"x\" is invalid: note: Too long: may not be more than 1024 bytes",
            "reason":"Invalid","code":422,
            "details":{"name":"x","group":"events.k8s.io","kind":"Event","causes":[
                {"reason":"FieldValueTooLong","message":"Too long: may not be more than 1024 bytes","field":"note"},
                {"reason":"FieldValueRequired","message":"Required value","field":"reportingController"}]}}"#;
        let SinkError::Invalid { message } = classify(422, body) else {
            panic!("not Invalid")
        };
        assert_eq!(
            message,
            "Event \"x\" is invalid: note: Too long: may not be more than 1024 bytes; \
             reportingController: Required value"
        );
    }

    #[test]
    fn forbidden_names_the_rbac_rule() {
        let body = r#"{"message":"events.events.k8s.io is forbidden: User \"system:serviceaccount:a:b\" cannot create resource \"events\"","reason":"Forbidden","code":403}"#;
        let SinkError::Forbidden { message } = classify(403, body) else {
            panic!("not Forbidden")
        };
        assert!(message.starts_with("events.events.k8s.io is forbidden"));
        assert!(RBAC_HINT.contains(r#"apiGroups ["events.k8s.io"], resources ["events"]"#));
        assert!(RBAC_HINT.contains(r#"verbs ["create", "patch", "get"]"#));
        assert!(message.contains(RBAC_HINT));
    }

    #[test]
    fn a_namespace_being_deleted_is_not_rbac() {
        // As the API server answers a create in a namespace being deleted.
        let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"events.events.k8s.io \"web-0.1\" is forbidden: unable to create new content in namespace shop because it is being terminated",
            "reason":"Forbidden","details":{"name":"web-0.1","group":"events.k8s.io","kind":"events",
            "causes":[{"reason":"NamespaceTerminating","message":"namespace shop is being terminated","field":"metadata.namespace"}]},"code":403}"#;
        assert_eq!(
            classify(403, body),
            SinkError::NamespaceTerminating {
                message: "events.events.k8s.io \"web-0.1\" is forbidden: unable to create new content in namespace shop because it is being terminated; \
                          metadata.namespace: namespace shop is being terminated"
                    .into()
            }
        );
        // Any other 403 stays Forbidden, with the RBAC rule.
        let other = body.replace("\"NamespaceTerminating\"", "\"Other\"");
        let SinkError::Forbidden { message } = classify(403, &other) else {
            panic!("not Forbidden")
        };
        assert!(message.contains(RBAC_HINT));
    }

    #[test]
    fn non_status_bodies_become_the_message() {
        assert_eq!(
            classify(502, "<html>bad gateway</html>"),
            SinkError::Transient {
                message: "HTTP 502: <html>bad gateway</html>".into()
            }
        );
        assert_eq!(
            classify(503, ""),
            SinkError::Transient {
                message: "HTTP 503: Service Unavailable".into()
            }
        );
        // A large page: its start, cut between characters, and how much
        // was left out.
        let page = format!("<html>x{}</html>", "é".repeat(2_000));
        let SinkError::Transient { message } = classify(502, &page) else {
            panic!("not Transient")
        };
        assert!(message.starts_with("HTTP 502: <html>xéé"), "{message}");
        assert!(message.ends_with("é... (2991 more bytes)"), "{message}");
        assert!(!message.contains('\u{FFFD}'), "{message}");
        assert!(message.len() < 1100, "{} bytes", message.len());
    }

    #[test]
    fn retry_after_from_header_then_body() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let body = br#"{"reason":"TooManyRequests","details":{"retryAfterSeconds":7}}"#;
        let status = StatusCode::TOO_MANY_REQUESTS;
        assert_eq!(
            classify_response(status, &headers, body),
            Err(SinkError::Throttled {
                retry_after: Some(Duration::from_secs(3))
            })
        );
        assert_eq!(
            classify_response(status, &HeaderMap::new(), body),
            Err(SinkError::Throttled {
                retry_after: Some(Duration::from_secs(7))
            })
        );
        // An HTTP date or garbage is not understood: no hint.
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            classify_response(status, &headers, b""),
            Err(SinkError::Throttled { retry_after: None })
        );
    }

    #[test]
    fn kube_errors() {
        let api = |code: u16, reason: &str| {
            kube::Error::Api(Status::failure("m", reason).with_code(code).boxed())
        };
        assert_eq!(classify_error(&api(404, "NotFound")), SinkError::NotFound);
        assert_eq!(
            classify_error(&api(409, "AlreadyExists")),
            SinkError::AlreadyExists
        );
        assert_eq!(
            classify_error(&api(422, "Invalid")),
            SinkError::Invalid {
                message: "m".into()
            }
        );
        assert!(matches!(
            classify_error(&api(503, "")),
            SinkError::Transient { .. }
        ));
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(matches!(
            classify_error(&kube::Error::Service(io.into())),
            SinkError::Transient { .. }
        ));
        let serde = serde_json::from_str::<u8>("x").unwrap_err();
        assert!(matches!(
            classify_error(&kube::Error::SerdeError(serde)),
            SinkError::Fatal { .. }
        ));
    }

    #[test]
    fn chains_are_flattened_without_repeats() {
        let io = std::io::Error::other("connection reset by peer");
        let e = kube::Error::Service(io.into());
        let SinkError::Transient { message } = classify_error(&e) else {
            panic!("not Transient")
        };
        assert_eq!(message, "ServiceError: connection reset by peer");
    }
}
