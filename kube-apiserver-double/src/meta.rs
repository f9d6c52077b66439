//! Object metadata rules every kind shares: names, namespace, labels,
//! annotations and finalizers, with the API server's field paths and
//! messages.

use serde_json::Value;

use crate::names::{dns_label_errors, dns_subdomain_errors, qualified_name_errors};
use crate::status::{FieldError, quote};

/// Most bytes all annotations of one object may take, keys and values
/// together (256 KiB).
pub(crate) const ANNOTATIONS_LIMIT: usize = 256 * 1024;
/// Most characters of a label value.
const LABEL_VALUE_LIMIT: usize = 63;
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

/// How a kind's object names are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameRule {
    /// A DNS-1123 subdomain (most kinds).
    DnsSubdomain,
    /// A DNS-1123 label (namespaces).
    DnsLabel,
    /// Only what a URL path segment needs: not `.` or `..`, no `/` or `%`
    /// (the check every object gets after its kind's own rules).
    PathSegment,
}

impl NameRule {
    /// Problems of `name`; a `prefix` is a `generateName`, which may end in
    /// a `-` because a suffix follows.
    fn errors(self, name: &str, prefix: bool) -> Vec<String> {
        match self {
            NameRule::DnsSubdomain | NameRule::DnsLabel => {
                let name = if prefix {
                    name.strip_suffix('-').unwrap_or(name)
                } else {
                    name
                };
                if self == NameRule::DnsLabel {
                    dns_label_errors(name)
                } else {
                    dns_subdomain_errors(name)
                }
            }
            NameRule::PathSegment => path_segment_errors(name, prefix),
        }
    }
}

/// Problems of a name used as one segment of a URL path.
pub(crate) fn path_segment_errors(name: &str, prefix: bool) -> Vec<String> {
    let mut errs = Vec::new();
    if !prefix {
        for bad in [".", ".."] {
            if name == bad {
                errs.push(format!("may not be '{bad}'"));
            }
        }
    }
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

fn label_value_errors(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_LIMIT {
        errs.push(format!(
            "must be no more than {LABEL_VALUE_LIMIT} characters"
        ));
    }
    let b = value.as_bytes();
    let valid = b.is_empty()
        || (b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.')));
    if !valid {
        errs.push(format!(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '{LABEL_VALUE_FMT}')"
        ));
    }
    errs
}

fn str_map(meta: &Value, key: &str) -> Vec<(String, String)> {
    meta.get(key)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Problems of labels, annotations and finalizers: the part of the
/// metadata rules that creates and updates share.
pub(crate) fn content_errors(meta: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (key, value) in str_map(meta, "labels") {
        for msg in qualified_name_errors(&key) {
            errs.push(FieldError::invalid("metadata.labels", &quote(&key), &msg));
        }
        for msg in label_value_errors(&value) {
            errs.push(FieldError::invalid("metadata.labels", &quote(&value), &msg));
        }
    }
    let annotations = str_map(meta, "annotations");
    for (key, _) in &annotations {
        // Annotation keys are qualified names compared in lower case.
        for msg in qualified_name_errors(&key.to_lowercase()) {
            errs.push(FieldError::invalid(
                "metadata.annotations",
                &quote(key),
                &msg,
            ));
        }
    }
    let total: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > ANNOTATIONS_LIMIT {
        errs.push(FieldError::too_long(
            "metadata.annotations",
            ANNOTATIONS_LIMIT,
        ));
    }
    let finalizers = meta.get("finalizers").and_then(Value::as_array);
    for finalizer in finalizers.into_iter().flatten().filter_map(Value::as_str) {
        for msg in qualified_name_errors(finalizer) {
            errs.push(FieldError::invalid(
                "metadata.finalizers",
                &quote(finalizer),
                &msg,
            ));
        }
    }
    errs
}

/// The metadata rules of a create: `generateName`, `name` (by `rule`),
/// `namespace` (required and a DNS label when `namespaced`, forbidden
/// otherwise), then [`content_errors`].
pub(crate) fn create_errors(meta: &Value, namespaced: bool, rule: NameRule) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let s = |key: &str| meta.get(key).and_then(Value::as_str).unwrap_or_default();
    let generate = s("generateName");
    if !generate.is_empty() {
        for msg in rule.errors(generate, true) {
            errs.push(FieldError::invalid(
                "metadata.generateName",
                &quote(generate),
                &msg,
            ));
        }
    }
    let name = s("name");
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        for msg in rule.errors(name, false) {
            errs.push(FieldError::invalid("metadata.name", &quote(name), &msg));
        }
    }
    let namespace = s("namespace");
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required("metadata.namespace", ""));
        } else {
            for msg in dns_label_errors(namespace) {
                errs.push(FieldError::invalid(
                    "metadata.namespace",
                    &quote(namespace),
                    &msg,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            "metadata.namespace",
            "not allowed on this type",
        ));
    }
    errs.extend(content_errors(meta));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(errs: &[FieldError]) -> Vec<(&str, &str)> {
        errs.iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect()
    }

    #[test]
    fn path_segments() {
        assert_eq!(path_segment_errors("..", false), vec!["may not be '..'"]);
        assert_eq!(path_segment_errors(".", false), vec!["may not be '.'"]);
        assert_eq!(
            path_segment_errors("a/b%c", false),
            vec!["may not contain '/'", "may not contain '%'"]
        );
        assert!(path_segment_errors("..", true).is_empty());
        assert!(path_segment_errors("Web_0.x", false).is_empty());
    }

    #[test]
    fn labels_and_annotations() {
        let meta = json!({
            "name": "a",
            "labels": {"bad key!": "ok", "app": "bad value!", "long": "x".repeat(64)},
            "annotations": {"Example.COM/Key": "fine", "not a key": "v"},
        });
        let errs = create_errors(&meta, false, NameRule::DnsSubdomain);
        let got = fields(&errs);
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!(got[0].0, "metadata.labels");
        assert!(
            got[0]
                .1
                .starts_with("Invalid value: \"bad value!\": a valid label")
        );
        assert!(
            got[1]
                .1
                .starts_with("Invalid value: \"bad key!\": name part must consist")
        );
        assert_eq!(
            got[2].1,
            format!(
                "Invalid value: \"{}\": must be no more than 63 characters",
                "x".repeat(64)
            )
        );
        assert_eq!(got[3].0, "metadata.annotations");
        assert!(
            got[3]
                .1
                .starts_with("Invalid value: \"not a key\": name part")
        );
    }

    #[test]
    fn annotation_total_size() {
        let big = "x".repeat(ANNOTATIONS_LIMIT);
        let meta = json!({"name": "a", "annotations": {"k": big}});
        let errs = create_errors(&meta, false, NameRule::DnsSubdomain);
        assert_eq!(
            fields(&errs),
            vec![(
                "metadata.annotations",
                "Too long: must have at most 262144 bytes"
            )]
        );
        assert_eq!(errs[0].reason, "FieldValueTooLong");
        let fits = json!({"name": "a", "annotations": {"k": "x".repeat(ANNOTATIONS_LIMIT - 1)}});
        assert!(create_errors(&fits, false, NameRule::DnsSubdomain).is_empty());
    }

    #[test]
    fn names_and_namespaces() {
        let errs = create_errors(&json!({"name": ".."}), true, NameRule::PathSegment);
        assert_eq!(
            fields(&errs),
            vec![
                ("metadata.name", "Invalid value: \"..\": may not be '..'"),
                ("metadata.namespace", "Required value"),
            ]
        );
        let errs = create_errors(
            &json!({"generateName": "web-", "name": "web-x1", "namespace": "shop"}),
            false,
            NameRule::DnsLabel,
        );
        assert_eq!(
            fields(&errs),
            vec![("metadata.namespace", "Forbidden: not allowed on this type")]
        );
    }
}
