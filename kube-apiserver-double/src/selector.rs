//! Field and label selectors.

use serde_json::Value;

use super::resources::{Kind, View};
use super::status::ApiError;

/// How a term compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Equals,
    NotEquals,
}

/// One `key=value` or `key!=value` term.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Term {
    key: String,
    op: Op,
    value: String,
}

/// A parsed field selector: every term must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    terms: Vec<Term>,
}

/// Splits on separators that are not escaped with a backslash.
fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut escaped = false;
    for c in s.chars() {
        if escaped {
            cur.push('\\');
            cur.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    if escaped {
        cur.push('\\');
    }
    parts.push(cur);
    parts
}

fn unescape(s: &str) -> Result<String, ApiError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid field selector: invalid escape sequence in {s}"
                    )));
                }
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Finds the first unescaped operator in a term.
fn split_term(term: &str) -> Option<(String, Op, String)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                return Some((
                    term[..i].to_owned(),
                    Op::NotEquals,
                    term[i + 2..].to_owned(),
                ));
            }
            b'=' if bytes.get(i + 1) == Some(&b'=') => {
                return Some((term[..i].to_owned(), Op::Equals, term[i + 2..].to_owned()));
            }
            b'=' => return Some((term[..i].to_owned(), Op::Equals, term[i + 1..].to_owned())),
            _ => i += 1,
        }
    }
    None
}

impl FieldSelector {
    /// Parses `a=b,c!=d`; an empty string selects everything.
    pub(crate) fn parse(s: &str) -> Result<FieldSelector, ApiError> {
        let mut terms = Vec::new();
        if s.trim().is_empty() {
            return Ok(FieldSelector { terms });
        }
        for part in split_unescaped(s, ',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((key, op, value)) = split_term(part) else {
                return Err(ApiError::bad_request(format!(
                    "invalid field selector: invalid selector: '{s}'; can't understand '{part}'"
                )));
            };
            terms.push(Term {
                key: key.trim().to_owned(),
                op,
                value: unescape(&value)?,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Checks every key is a field the kind can be selected by.
    pub(crate) fn check(&self, kind: &Kind, view: View) -> Result<(), ApiError> {
        let probe = Value::Object(serde_json::Map::new());
        for t in &self.terms {
            if field_value(kind, view, &probe, &t.key).is_none() {
                return Err(ApiError::bad_request(format!(
                    "field label not supported: {}",
                    t.key
                )));
            }
        }
        Ok(())
    }

    /// Whether the stored object (canonical form) is selected.
    pub(crate) fn matches(&self, kind: &Kind, view: View, obj: &Value) -> bool {
        self.terms.iter().all(|t| {
            let v = field_value(kind, view, obj, &t.key).unwrap_or_default();
            match t.op {
                Op::Equals => v == t.value,
                Op::NotEquals => v != t.value,
            }
        })
    }
}

fn str_at(obj: &Value, path: &[&str]) -> String {
    let mut cur = obj;
    for p in path {
        match cur.get(p) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

const REF_FIELDS: [&str; 7] = [
    "kind",
    "namespace",
    "name",
    "uid",
    "apiVersion",
    "resourceVersion",
    "fieldPath",
];

/// The value of a selectable field, or `None` when the label is not
/// supported for the kind. Events are stored in their events.k8s.io/v1 form.
fn field_value(kind: &Kind, view: View, obj: &Value, label: &str) -> Option<String> {
    match label {
        "metadata.name" => return Some(str_at(obj, &["metadata", "name"])),
        "metadata.namespace" if kind.namespaced() => {
            return Some(str_at(obj, &["metadata", "namespace"]));
        }
        _ => {}
    }
    match kind {
        Kind::Event => {
            let reference = match view {
                View::Core => label.strip_prefix("involvedObject."),
                View::Group => label.strip_prefix("regarding."),
            };
            if let Some(field) = reference {
                return REF_FIELDS
                    .contains(&field)
                    .then(|| str_at(obj, &["regarding", field]));
            }
            match (label, view) {
                ("reason", _) => Some(str_at(obj, &["reason"])),
                ("type", _) => Some(str_at(obj, &["type"])),
                ("reportingComponent", View::Core) | ("reportingController", View::Group) => {
                    Some(str_at(obj, &["reportingController"]))
                }
                ("source", _) => {
                    let c = str_at(obj, &["deprecatedSource", "component"]);
                    Some(if c.is_empty() {
                        str_at(obj, &["reportingController"])
                    } else {
                        c
                    })
                }
                _ => None,
            }
        }
        Kind::Pod => match label {
            "spec.nodeName" => Some(str_at(obj, &["spec", "nodeName"])),
            "spec.restartPolicy" => Some(str_at(obj, &["spec", "restartPolicy"])),
            "spec.schedulerName" => Some(str_at(obj, &["spec", "schedulerName"])),
            "spec.serviceAccountName" => Some(str_at(obj, &["spec", "serviceAccountName"])),
            "spec.hostNetwork" => {
                let v = str_at(obj, &["spec", "hostNetwork"]);
                Some(if v.is_empty() { "false".to_owned() } else { v })
            }
            "status.phase" => Some(str_at(obj, &["status", "phase"])),
            "status.podIP" => Some(str_at(obj, &["status", "podIP"])),
            "status.nominatedNodeName" => Some(str_at(obj, &["status", "nominatedNodeName"])),
            _ => None,
        },
        Kind::Node => match label {
            "spec.unschedulable" => {
                let v = str_at(obj, &["spec", "unschedulable"]);
                Some(if v.is_empty() { "false".to_owned() } else { v })
            }
            _ => None,
        },
        Kind::Namespace => match label {
            "status.phase" => Some(str_at(obj, &["status", "phase"])),
            _ => None,
        },
        _ => None,
    }
}

/// One label requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector: every requirement must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    reqs: Vec<LabelReq>,
}

/// Splits on commas outside parentheses.
fn split_top_level(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => {
                depth += 1;
                cur.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            ',' if depth == 0 => parts.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    parts.push(cur);
    parts
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
    pub(crate) fn parse(s: &str) -> Result<LabelSelector, ApiError> {
        let mut reqs = Vec::new();
        let bad =
            |part: &str| ApiError::bad_request(format!("unable to parse requirement: {part}"));
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let req = if let Some((k, v)) = part.split_once("!=") {
                LabelReq::NotEq(k.trim().to_owned(), v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once("==") {
                LabelReq::Eq(k.trim().to_owned(), v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once('=') {
                LabelReq::Eq(k.trim().to_owned(), v.trim().to_owned())
            } else if let Some((k, v)) = part.split_once(" notin ") {
                LabelReq::NotIn(k.trim().to_owned(), parse_set(v).ok_or_else(|| bad(part))?)
            } else if let Some((k, v)) = part.split_once(" in ") {
                LabelReq::In(k.trim().to_owned(), parse_set(v).ok_or_else(|| bad(part))?)
            } else if let Some(k) = part.strip_prefix('!') {
                LabelReq::NotExists(k.trim().to_owned())
            } else if part.contains(char::is_whitespace) {
                return Err(bad(part));
            } else {
                LabelReq::Exists(part.to_owned())
            };
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    /// Whether the object's labels are selected.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        let labels = obj.get("metadata").and_then(|m| m.get("labels"));
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            LabelReq::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelReq::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelReq::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::NotIn(k, vs) => !get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            LabelReq::Exists(k) => get(k).is_some(),
            LabelReq::NotExists(k) => get(k).is_none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({
            "metadata": {"name": "e1", "namespace": "shop"},
            "regarding": {"kind": "Pod", "name": "web-0", "namespace": "shop", "uid": "u1", "apiVersion": "v1"},
            "reason": "BackOff",
            "type": "Warning",
            "reportingController": "example.com/c",
        })
    }

    #[test]
    fn describe_query_matches() {
        let s = FieldSelector::parse(
            "involvedObject.name=web-0,involvedObject.namespace=shop,involvedObject.uid=u1",
        )
        .unwrap();
        s.check(&Kind::Event, View::Core).unwrap();
        assert!(s.matches(&Kind::Event, View::Core, &event()));
        let s = FieldSelector::parse("involvedObject.uid=other").unwrap();
        assert!(!s.matches(&Kind::Event, View::Core, &event()));
    }

    #[test]
    fn operators_and_empty_values() {
        let s =
            FieldSelector::parse("type!=Normal,reason==BackOff,involvedObject.fieldPath=").unwrap();
        assert!(s.matches(&Kind::Event, View::Core, &event()));
        let s = FieldSelector::parse("involvedObject.namespace=").unwrap();
        assert!(!s.matches(&Kind::Event, View::Core, &event()));
        let s = FieldSelector::parse("source=example.com/c").unwrap();
        assert!(s.matches(&Kind::Event, View::Core, &event()));
    }

    #[test]
    fn unsupported_label_is_bad_request() {
        let s = FieldSelector::parse("note=x").unwrap();
        assert_eq!(s.check(&Kind::Event, View::Core).unwrap_err().code, 400);
        let s = FieldSelector::parse("involvedObject.name=x").unwrap();
        assert!(s.check(&Kind::Event, View::Group).is_err());
        let s = FieldSelector::parse("regarding.name=web-0").unwrap();
        s.check(&Kind::Event, View::Group).unwrap();
        assert!(s.matches(&Kind::Event, View::Group, &event()));
    }

    #[test]
    fn escapes() {
        let s = FieldSelector::parse(r"reason=a\,b,type=Warning").unwrap();
        assert_eq!(s.terms.len(), 2);
        assert_eq!(s.terms[0].value, "a,b");
    }

    #[test]
    fn pods_on_a_node() {
        let s =
            FieldSelector::parse("spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed")
                .unwrap();
        s.check(&Kind::Pod, View::Core).unwrap();
        let pod = json!({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        assert!(s.matches(&Kind::Pod, View::Core, &pod));
    }

    #[test]
    fn labels() {
        let obj = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        assert!(
            LabelSelector::parse("app=web,tier in (front,back),!gone")
                .unwrap()
                .matches(&obj)
        );
        assert!(!LabelSelector::parse("app!=web").unwrap().matches(&obj));
        assert!(
            LabelSelector::parse("tier notin (back)")
                .unwrap()
                .matches(&obj)
        );
        assert!(!LabelSelector::parse("missing").unwrap().matches(&obj));
    }
}
