//! Client-side twin of the API server's event validation.
//!
//! Every rule here mirrors one the API server applies to `events.k8s.io/v1`
//! creates, so a bad event is refused with a typed error naming the field and
//! the limit instead of an opaque 422. Lengths are counted in bytes, as the
//! server counts them.

use std::borrow::Cow;
use std::fmt;

/// Most bytes in `reason`.
pub const MAX_REASON_BYTES: usize = 128;
/// Most bytes in `action`.
pub const MAX_ACTION_BYTES: usize = 128;
/// Most bytes in `note`.
pub const MAX_NOTE_BYTES: usize = 1024;
/// Most bytes in `reportingInstance`.
pub const MAX_INSTANCE_BYTES: usize = 128;
/// Most characters in the name part of a qualified name.
pub const MAX_QUALIFIED_NAME_PART: usize = 63;
/// Most characters in a DNS-1123 subdomain (an event's name).
pub const MAX_DNS_SUBDOMAIN: usize = 253;
/// Most characters in a DNS-1123 label (a namespace).
pub(crate) const MAX_DNS_LABEL: usize = 63;
/// Most bytes in all annotations of one object together.
pub(crate) const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The marker placed between the head and the tail of a truncated note.
///
/// It holds no line break: `kubectl describe` prints a note's lines as
/// they are, so a marker on lines of its own would spread one event's row
/// over three lines of the Events table.
pub const NOTE_TRUNCATION_MARKER: &str = " [... note truncated ...] ";

/// Most bytes in one event's strings (references, note, annotations,
/// reason, action). The API server refuses request bodies over 3 MiB and
/// etcd stores objects of at most 1.5 MiB; this leaves room for the JSON
/// encoding and the object's metadata.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Checks the size of the whole event: `note_bytes` is the note as it will
/// be written.
pub(crate) fn validate_size(
    event: &crate::Event,
    note_bytes: usize,
    regarding: &crate::ObjectRef,
) -> Result<(), ValidationError> {
    const REGARDING: [&str; 7] = [
        "regarding.apiVersion",
        "regarding.kind",
        "regarding.name",
        "regarding.namespace",
        "regarding.uid",
        "regarding.fieldPath",
        "regarding.resourceVersion",
    ];
    const RELATED: [&str; 7] = [
        "related.apiVersion",
        "related.kind",
        "related.name",
        "related.namespace",
        "related.uid",
        "related.fieldPath",
        "related.resourceVersion",
    ];
    fn sizes(r: &crate::ObjectRef) -> [usize; 7] {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        [
            r.api_version.len(),
            r.kind.len(),
            r.name.len(),
            opt(&r.namespace),
            opt(&r.uid),
            opt(&r.field_path),
            opt(&r.resource_version),
        ]
    }
    // Sized on the stack: this runs for every occurrence.
    let mut parts = [("", 0usize); 18];
    parts[0] = ("reason", event.reason.len());
    parts[1] = ("action", event.action.len());
    parts[2] = ("note", note_bytes);
    parts[3] = (
        "metadata.annotations",
        event
            .annotations
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum(),
    );
    for (slot, part) in parts[4..11]
        .iter_mut()
        .zip(REGARDING.into_iter().zip(sizes(regarding)))
    {
        *slot = part;
    }
    if let Some(related) = &event.secondary {
        for (slot, part) in parts[11..]
            .iter_mut()
            .zip(RELATED.into_iter().zip(sizes(related)))
        {
            *slot = part;
        }
    }
    let total: usize = parts.iter().map(|(_, n)| n).sum();
    if total <= MAX_EVENT_BYTES {
        return Ok(());
    }
    let largest = parts
        .iter()
        .max_by_key(|(_, n)| *n)
        .map_or("event", |(field, _)| field);
    Err(ValidationError {
        violations: vec![Violation {
            field: largest,
            rule: Rule::EventTooLarge {
                max_bytes: MAX_EVENT_BYTES,
                actual_bytes: total,
            },
        }],
    })
}

/// What breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The field is empty but required.
    Required,
    /// The field is longer than allowed.
    TooLong {
        /// The limit, in bytes.
        max_bytes: usize,
        /// The actual length, in bytes.
        actual_bytes: usize,
    },
    /// The value has the wrong form.
    Format {
        /// The offending value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The whole event is larger than the API server stores; the field
    /// named is its largest part.
    EventTooLarge {
        /// The limit for the whole event, in bytes.
        max_bytes: usize,
        /// The whole event's size, in bytes.
        actual_bytes: usize,
    },
    /// The value is not one of those the server accepts.
    NotAllowed {
        /// The offending value.
        value: String,
        /// The accepted values.
        allowed: &'static [&'static str],
    },
}

/// One broken rule: the field (named as the API names it) and the rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The field, e.g. `reason`, `note`, `reportingController`.
    pub field: &'static str,
    /// The rule broken, with the actual length or value.
    pub rule: Rule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Rule::Required => write!(f, "{}: required", self.field),
            Rule::TooLong {
                max_bytes,
                actual_bytes,
            } => write!(
                f,
                "{}: {actual_bytes} bytes, at most {max_bytes} allowed",
                self.field
            ),
            Rule::Format { value, expected } => {
                write!(f, "{}: {value:?} is not {expected}", self.field)
            }
            Rule::EventTooLarge {
                max_bytes,
                actual_bytes,
            } => write!(
                f,
                "{}: the largest part of an event of {actual_bytes} bytes, at most {max_bytes} allowed",
                self.field
            ),
            Rule::NotAllowed { value, allowed } => write!(
                f,
                "{}: {value:?} is not allowed (allowed: {})",
                self.field,
                allowed.join(", ")
            ),
        }
    }
}

/// Every rule an event (or a configuration) breaks, reported together.
///
/// # Example
///
/// ```
/// use event_core::{Event, ObjectRef};
/// use event_core::validate::validate_event;
/// use event_core::config::NoteOverflow;
///
/// let long = "x".repeat(129);
/// let err = validate_event(&Event::normal(&long, ""), NoteOverflow::Truncate).unwrap_err();
/// assert_eq!(err.violations().len(), 2);
/// assert_eq!(
///     err.to_string(),
///     "invalid event: reason: 129 bytes, at most 128 allowed; action: required"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    violations: Vec<Violation>,
}

impl ValidationError {
    /// An error from a non-empty list of violations; `None` if the list is
    /// empty.
    pub fn from_violations(violations: Vec<Violation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self { violations })
    }

    /// The broken rules, in field order.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// Both lists of violations in one error.
    #[must_use]
    pub fn merge(mut self, other: Self) -> Self {
        self.violations.extend(other.violations);
        self
    }

    /// Whether a violation concerns `field`.
    pub fn concerns(&self, field: &str) -> bool {
        self.violations.iter().any(|v| v.field == field)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid event: ")?;
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationError {}

/// What to do with a note longer than [`MAX_NOTE_BYTES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NoteOverflow {
    /// Keep the head and the tail around [`NOTE_TRUNCATION_MARKER`], 1024
    /// bytes in all, cut on character boundaries.
    #[default]
    Truncate,
    /// Refuse the event with a [`ValidationError`].
    Reject,
}

/// The namespace that events about cluster-scoped objects are written to.
///
/// The API server accepts only `default` and `kube-system` for such events,
/// so no other value can be represented; [`str::parse`] rejects the rest.
///
/// # Example
///
/// ```
/// use event_core::config::ClusterScopedNamespace;
///
/// assert_eq!(ClusterScopedNamespace::default().as_str(), "default");
/// let ks: ClusterScopedNamespace = "kube-system".parse().unwrap();
/// assert_eq!(ks, ClusterScopedNamespace::KubeSystem);
/// let err = "operators".parse::<ClusterScopedNamespace>().unwrap_err();
/// assert!(err.to_string().contains("clusterScopedNamespace"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClusterScopedNamespace {
    /// `default`, as client-go and kube-rs use.
    #[default]
    Default,
    /// `kube-system`.
    KubeSystem,
}

impl ClusterScopedNamespace {
    /// The namespace name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::KubeSystem => "kube-system",
        }
    }
}

impl std::str::FromStr for ClusterScopedNamespace {
    type Err = ValidationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "default" => Ok(Self::Default),
            "kube-system" => Ok(Self::KubeSystem),
            other => Err(ValidationError {
                violations: vec![Violation {
                    field: "clusterScopedNamespace",
                    rule: Rule::NotAllowed {
                        value: other.to_owned(),
                        allowed: &["default", "kube-system"],
                    },
                }],
            }),
        }
    }
}

/// Checks `reason`, `action`, `note`, annotations and the regarding/related
/// namespaces of an event, and returns the note as it will be written
/// (truncated when the policy allows).
///
/// Every violation is listed, not just the first.
///
/// # Errors
///
/// A [`ValidationError`] listing each broken rule.
///
/// # Example
///
/// ```
/// use event_core::Event;
/// use event_core::config::NoteOverflow;
/// use event_core::validate::{MAX_NOTE_BYTES, validate_event};
///
/// let e = Event::warning("Failed", "Reconciling").note("é".repeat(600));
/// let note = validate_event(&e, NoteOverflow::Truncate).unwrap().unwrap();
/// assert!(note.len() <= MAX_NOTE_BYTES);
/// assert!(validate_event(&e, NoteOverflow::Reject).is_err());
/// ```
pub fn validate_event(
    event: &crate::Event,
    overflow: NoteOverflow,
) -> Result<Option<Cow<'_, str>>, ValidationError> {
    check_event(event, overflow)?;
    Ok(event.note.as_deref().map(fit_note))
}

/// A note as it is written: itself when it fits, else cut to
/// [`MAX_NOTE_BYTES`] around the truncation marker.
pub(crate) fn fit_note(note: &str) -> Cow<'_, str> {
    if note.len() <= MAX_NOTE_BYTES {
        Cow::Borrowed(note)
    } else {
        Cow::Owned(truncate_note(note, MAX_NOTE_BYTES))
    }
}

/// The checks of [`validate_event`], without cutting the note: allocates
/// nothing for a valid event (a repeat's cost).
pub(crate) fn check_event(
    event: &crate::Event,
    overflow: NoteOverflow,
) -> Result<(), ValidationError> {
    let mut violations = Vec::new();
    check_identifier("reason", &event.reason, MAX_REASON_BYTES, &mut violations);
    check_identifier("action", &event.action, MAX_ACTION_BYTES, &mut violations);
    if let Some(note) = &event.note
        && note.len() > MAX_NOTE_BYTES
        && overflow == NoteOverflow::Reject
    {
        violations.push(Violation {
            field: "note",
            rule: Rule::TooLong {
                max_bytes: MAX_NOTE_BYTES,
                actual_bytes: note.len(),
            },
        });
    }
    if let Some(related) = &event.secondary {
        check_namespace(
            "related.namespace",
            related.namespace.as_deref(),
            &mut violations,
        );
    }
    let mut annotation_bytes = 0;
    for (key, value) in &event.annotations {
        annotation_bytes += key.len() + value.len();
        if !is_annotation_key(key) {
            violations.push(Violation {
                field: "metadata.annotations",
                rule: Rule::Format {
                    value: key.clone(),
                    expected: "a qualified name ([prefix/]name)",
                },
            });
        }
    }
    if annotation_bytes > MAX_ANNOTATIONS_BYTES {
        violations.push(Violation {
            field: "metadata.annotations",
            rule: Rule::TooLong {
                max_bytes: MAX_ANNOTATIONS_BYTES,
                actual_bytes: annotation_bytes,
            },
        });
    }
    match ValidationError::from_violations(violations) {
        Some(err) => Err(err),
        None => Ok(()),
    }
}

/// Checks a regarding object's namespace (must be a DNS-1123 label if set).
///
/// # Errors
///
/// A [`ValidationError`] for `regarding.namespace`.
pub(crate) fn validate_regarding(regarding: &crate::ObjectRef) -> Result<(), ValidationError> {
    let mut violations = Vec::new();
    check_namespace(
        "regarding.namespace",
        regarding.namespace.as_deref(),
        &mut violations,
    );
    ValidationError::from_violations(violations).map_or(Ok(()), Err)
}

fn check_namespace(field: &'static str, namespace: Option<&str>, out: &mut Vec<Violation>) {
    if let Some(ns) = namespace
        && !ns.is_empty()
        && !is_dns_label(ns)
    {
        out.push(Violation {
            field,
            rule: Rule::Format {
                value: ns.to_owned(),
                expected: "a DNS-1123 label (namespace)",
            },
        });
    }
}

fn check_identifier(field: &'static str, value: &str, max: usize, out: &mut Vec<Violation>) {
    if value.is_empty() {
        out.push(Violation {
            field,
            rule: Rule::Required,
        });
    } else if value.len() > max {
        out.push(Violation {
            field,
            rule: Rule::TooLong {
                max_bytes: max,
                actual_bytes: value.len(),
            },
        });
    }
}

/// The reporter as it will be written: a checked controller name and an
/// instance of at most [`MAX_INSTANCE_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValidReporter {
    /// `reportingController`.
    pub controller: String,
    /// `reportingInstance`.
    pub instance: String,
}

/// Checks a reporter: the controller must be a qualified name; an explicit
/// instance must be 1..=128 bytes; a derived one is cut to 128 bytes.
///
/// # Errors
///
/// A [`ValidationError`] naming `reportingController` and/or
/// `reportingInstance`.
pub(crate) fn validate_reporter(
    reporter: &crate::Reporter,
) -> Result<ValidReporter, ValidationError> {
    let mut violations = Vec::new();
    if reporter.controller.is_empty() {
        violations.push(Violation {
            field: "reportingController",
            rule: Rule::Required,
        });
    } else if !is_qualified_name(&reporter.controller) {
        violations.push(Violation {
            field: "reportingController",
            rule: Rule::Format {
                value: reporter.controller.clone(),
                expected: "a qualified name: an optional DNS subdomain prefix and '/', then at most 63 characters of [A-Za-z0-9-_.] starting and ending alphanumeric",
            },
        });
    }
    let (instance, source) = reporter.resolve_instance();
    let instance = match source {
        crate::reporter::InstanceSource::Explicit => {
            check_identifier(
                "reportingInstance",
                &instance,
                MAX_INSTANCE_BYTES,
                &mut violations,
            );
            instance
        }
        _ => cut_to_bytes(&instance, MAX_INSTANCE_BYTES).to_owned(),
    };
    match ValidationError::from_violations(violations) {
        Some(err) => Err(err),
        None => Ok(ValidReporter {
            controller: reporter.controller.clone(),
            instance,
        }),
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character
/// boundary.
pub(crate) fn cut_to_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The longest suffix of `s` of at most `max` bytes that starts on a
/// character boundary.
fn tail_to_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Shortens `note` to at most `max` bytes, keeping its head and its tail
/// around [`NOTE_TRUNCATION_MARKER`]. Notes within the limit are returned
/// unchanged. Never splits a UTF-8 character.
pub(crate) fn truncate_note(note: &str, max: usize) -> String {
    if note.len() <= max {
        return note.to_owned();
    }
    if max <= NOTE_TRUNCATION_MARKER.len() {
        return cut_to_bytes(note, max).to_owned();
    }
    let budget = max - NOTE_TRUNCATION_MARKER.len();
    let head = cut_to_bytes(note, budget / 2);
    let tail = tail_to_bytes(note, budget - head.len());
    let mut out = String::with_capacity(max);
    out.push_str(head);
    out.push_str(NOTE_TRUNCATION_MARKER);
    out.push_str(tail);
    out
}

/// Whether `s` is a Kubernetes qualified name: an optional DNS-1123
/// subdomain prefix and `/`, then a name of 1 to 63 characters from
/// `[A-Za-z0-9-_.]` that starts and ends alphanumeric.
///
/// # Example
///
/// ```
/// use event_core::validate::is_qualified_name;
///
/// assert!(is_qualified_name("example.com/my-controller"));
/// assert!(is_qualified_name("my-controller"));
/// assert!(!is_qualified_name("my controller"));
/// assert!(!is_qualified_name(&format!("example.com/{}", "a".repeat(64))));
/// ```
pub fn is_qualified_name(s: &str) -> bool {
    qualified_name(s, is_lower_alnum)
}

/// Whether `s` is a valid annotation key: a qualified name whose prefix
/// the API server checks in lower case (so any case passes).
fn is_annotation_key(s: &str) -> bool {
    qualified_name(s, |c| c.is_ascii_alphanumeric())
}

/// A qualified name whose prefix's labels are made of `alnum` characters
/// (with inner `-`).
fn qualified_name(s: &str, alnum: fn(u8) -> bool) -> bool {
    let (prefix, name) = match s.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, s),
    };
    if let Some(prefix) = prefix
        && (prefix.is_empty()
            || prefix.len() > MAX_DNS_SUBDOMAIN
            || !prefix.split('.').all(|label| label_shape(label, alnum)))
    {
        return false;
    }
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_QUALIFIED_NAME_PART
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Whether `s` is a DNS-1123 subdomain: at most 253 characters, lowercase
/// alphanumeric labels with inner `-`, joined by `.`.
pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_DNS_SUBDOMAIN && s.split('.').all(is_label_shape)
}

/// Whether `s` is a DNS-1123 label (a namespace name): at most 63
/// characters, lowercase alphanumeric with inner `-`.
pub(crate) fn is_dns_label(s: &str) -> bool {
    s.len() <= MAX_DNS_LABEL && is_label_shape(s)
}

fn is_label_shape(s: &str) -> bool {
    label_shape(s, is_lower_alnum)
}

/// `alnum` characters with inner `-`, not empty.
fn label_shape(s: &str, alnum: fn(u8) -> bool) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter().all(|&c| alnum(c) || c == b'-')
}

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, ObjectRef, Reporter};

    fn ev(reason: &str, action: &str) -> Event {
        Event::normal(reason, action)
    }

    #[test]
    fn reason_and_action_limits_at_the_boundary() {
        let ok = "r".repeat(128);
        let long = "r".repeat(129);
        assert!(validate_event(&ev(&ok, &ok), NoteOverflow::Reject).is_ok());
        let err = validate_event(&ev(&long, "a"), NoteOverflow::Reject).unwrap_err();
        assert_eq!(
            err.violations(),
            &[Violation {
                field: "reason",
                rule: Rule::TooLong {
                    max_bytes: 128,
                    actual_bytes: 129
                }
            }]
        );
        let err = validate_event(&ev("r", &long), NoteOverflow::Reject).unwrap_err();
        assert!(err.concerns("action") && !err.concerns("reason"));
        let err = validate_event(&ev(&long, &long), NoteOverflow::Reject).unwrap_err();
        assert_eq!(err.violations().len(), 2);
    }

    #[test]
    fn reason_limit_counts_bytes_not_characters() {
        // 65 characters, 130 bytes.
        let r = "é".repeat(65);
        let err = validate_event(&ev(&r, "a"), NoteOverflow::Reject).unwrap_err();
        assert!(err.to_string().contains("130 bytes, at most 128"));
    }

    #[test]
    fn empty_reason_and_action_are_required() {
        let err = validate_event(&ev("", ""), NoteOverflow::Reject).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid event: reason: required; action: required"
        );
    }

    #[test]
    fn note_limits_at_the_boundary() {
        let exact = ev("r", "a").note("n".repeat(1024));
        assert_eq!(
            validate_event(&exact, NoteOverflow::Reject)
                .unwrap()
                .unwrap()
                .len(),
            1024
        );
        let over = ev("r", "a").note("n".repeat(1025));
        let err = validate_event(&over, NoteOverflow::Reject).unwrap_err();
        assert_eq!(
            err.violations()[0].rule,
            Rule::TooLong {
                max_bytes: 1024,
                actual_bytes: 1025
            }
        );
        let cut = validate_event(&over, NoteOverflow::Truncate)
            .unwrap()
            .unwrap();
        assert!(cut.len() <= 1024);
        assert!(cut.contains(NOTE_TRUNCATION_MARKER));
    }

    #[test]
    fn multibyte_note_under_1024_chars_but_over_1024_bytes() {
        // 600 characters, 1200 bytes: kopf would let this through.
        let note = "é".repeat(600);
        assert!(note.chars().count() < 1024);
        let e = ev("r", "a").note(note);
        assert!(validate_event(&e, NoteOverflow::Reject).is_err());
        let cut = validate_event(&e, NoteOverflow::Truncate).unwrap().unwrap();
        assert!(cut.len() <= 1024);
        let without_marker = cut.replace(NOTE_TRUNCATION_MARKER, "");
        assert!(without_marker.chars().all(|c| c == 'é'));
    }

    #[test]
    fn truncation_keeps_head_and_tail() {
        let note = format!("HEAD{}TAIL", "-".repeat(3000));
        let cut = truncate_note(&note, 1024);
        assert_eq!(cut.len(), 1024);
        assert!(cut.starts_with("HEAD") && cut.ends_with("TAIL"));
    }

    #[test]
    fn a_truncated_note_stays_on_one_line_and_fills_the_limit() {
        let note = format!("first line\n{}\nlast line", "x".repeat(3000));
        let cut = truncate_note(&note, 1024);
        assert_eq!(cut.len(), 1024);
        // The note's own line breaks stay; the marker adds none.
        assert_eq!(cut.lines().count(), 3);
        assert_eq!(cut.matches(NOTE_TRUNCATION_MARKER).count(), 1);
        // Two-byte characters: the tail takes what the head's boundary left.
        let cut = truncate_note(&"é".repeat(2000), 1024);
        assert_eq!(cut.len(), 1024);
        assert!(!cut.contains('\n'));
        assert_eq!(cut.replace(NOTE_TRUNCATION_MARKER, ""), "é".repeat(499));
    }

    #[test]
    fn qualified_names() {
        assert!(is_qualified_name("example.com/my-controller"));
        assert!(is_qualified_name("kubelet"));
        assert!(is_qualified_name(&format!(
            "example.com/{}",
            "a".repeat(63)
        )));
        assert!(!is_qualified_name(&format!(
            "example.com/{}",
            "a".repeat(64)
        )));
        assert!(!is_qualified_name("my controller"));
        assert!(!is_qualified_name("/name"));
        assert!(!is_qualified_name("Example.com/name"));
        assert!(!is_qualified_name("example.com/-name"));
        assert!(!is_qualified_name("a/b/c"));
        assert!(!is_qualified_name(""));
    }

    #[test]
    fn reporter_validation() {
        let bad = Reporter::new("my controller").with_instance("i".repeat(129));
        let err = validate_reporter(&bad).unwrap_err();
        assert!(err.concerns("reportingController"));
        assert!(err.concerns("reportingInstance"));
        assert!(err.to_string().contains("129 bytes, at most 128"));
        let ok = Reporter::new("example.com/c").with_instance("i".repeat(128));
        assert_eq!(validate_reporter(&ok).unwrap().instance.len(), 128);
        let err = validate_reporter(&Reporter::new("a/b").with_instance("")).unwrap_err();
        assert!(err.concerns("reportingInstance"));
    }

    #[test]
    fn derived_instance_is_within_limit() {
        let r = validate_reporter(&Reporter::new("example.com/c")).unwrap();
        assert!(!r.instance.is_empty() && r.instance.len() <= MAX_INSTANCE_BYTES);
    }

    #[test]
    fn cluster_scoped_namespace_choices() {
        assert_eq!(
            "default".parse::<ClusterScopedNamespace>().unwrap(),
            ClusterScopedNamespace::Default
        );
        assert_eq!(
            "kube-system".parse::<ClusterScopedNamespace>().unwrap(),
            ClusterScopedNamespace::KubeSystem
        );
        for bad in ["", "kube-public", "my-operator", "Default"] {
            let err = bad.parse::<ClusterScopedNamespace>().unwrap_err();
            assert!(err.concerns("clusterScopedNamespace"), "{bad}");
        }
    }

    #[test]
    fn oversized_events_name_their_largest_field() {
        let pod = crate::ObjectRef::new("v1", "Pod", "p").within("ns");
        let e = Event::normal("R", "A");
        assert!(validate_size(&e, 1024, &pod).is_ok());
        let huge = pod.clone().with_field_path("x".repeat(MAX_EVENT_BYTES));
        let err = validate_size(&e, 0, &huge).unwrap_err();
        assert_eq!(err.violations()[0].field, "regarding.fieldPath");
        assert!(matches!(
            err.violations()[0].rule,
            Rule::EventTooLarge { max_bytes: MAX_EVENT_BYTES, actual_bytes } if actual_bytes == MAX_EVENT_BYTES + 10
        ));
        let related = e.clone().related(&crate::ObjectRef::new(
            "v1",
            "Pod",
            "x".repeat(MAX_EVENT_BYTES),
        ));
        let err = validate_size(&related, 0, &pod).unwrap_err();
        assert_eq!(err.violations()[0].field, "related.name");
        assert!(err.to_string().contains("related.name"), "{err}");
    }

    #[test]
    fn annotation_keys_are_checked_in_lower_case() {
        let mut e = Event::normal("R", "A");
        e.annotations.insert("Example.COM/Key".into(), "v".into());
        assert!(validate_event(&e, NoteOverflow::Truncate).is_ok());
        e.annotations.insert("not a key".into(), "v".into());
        assert!(validate_event(&e, NoteOverflow::Truncate).is_err());
    }

    #[test]
    fn namespaces_and_annotations() {
        let r = ObjectRef::new("v1", "Pod", "p").within("Bad_NS");
        assert!(
            validate_regarding(&r)
                .unwrap_err()
                .concerns("regarding.namespace")
        );
        let e = ev("r", "a").annotation("not a key", "v");
        assert!(
            validate_event(&e, NoteOverflow::Truncate)
                .unwrap_err()
                .concerns("metadata.annotations")
        );
        let e = ev("r", "a").annotation("example.com/k", "x".repeat(MAX_ANNOTATIONS_BYTES));
        assert!(validate_event(&e, NoteOverflow::Truncate).is_err());
    }

    #[test]
    fn limits_are_the_api_servers() {
        assert_eq!(
            (MAX_REASON_BYTES, MAX_ACTION_BYTES, MAX_INSTANCE_BYTES),
            (128, 128, 128)
        );
        assert_eq!(MAX_NOTE_BYTES, 1024);
        assert_eq!(MAX_QUALIFIED_NAME_PART, 63);
        assert_eq!((MAX_DNS_SUBDOMAIN, MAX_DNS_LABEL), (253, 63));
        assert_eq!(MAX_ANNOTATIONS_BYTES, 256 * 1024);
        assert_eq!(NOTE_TRUNCATION_MARKER, " [... note truncated ...] ");
    }

    #[test]
    fn violations_are_listed_together() {
        assert!(ValidationError::from_violations(vec![]).is_none());
        let one = |field| {
            ValidationError::from_violations(vec![Violation {
                field,
                rule: Rule::Required,
            }])
        };
        let (Some(a), Some(b)) = (one("reason"), one("action")) else {
            panic!("a non-empty list is an error");
        };
        let both = a.merge(b);
        assert_eq!(both.violations().len(), 2);
        assert!(both.concerns("reason") && both.concerns("action"));
        assert!(!both.concerns("note"));
        assert_eq!(
            both.to_string(),
            "invalid event: reason: required; action: required"
        );
        let too_long = Violation {
            field: "reason",
            rule: Rule::TooLong {
                max_bytes: 128,
                actual_bytes: 129,
            },
        };
        assert_eq!(
            too_long.to_string(),
            "reason: 129 bytes, at most 128 allowed"
        );
    }

    #[test]
    fn regarding_namespace_must_be_a_dns_label() {
        let pod = |ns: &str| crate::ObjectRef::new("v1", "Pod", "p").within(ns);
        assert!(validate_regarding(&pod("ok")).is_ok());
        let err = validate_regarding(&pod("Not_OK")).unwrap_err();
        assert!(err.concerns("regarding.namespace"));
    }

    #[test]
    fn dns_checks() {
        assert!(is_dns_subdomain(&"a".repeat(253)));
        assert!(!is_dns_subdomain(&"a".repeat(254)));
        assert!(!is_dns_subdomain("a-"));
        assert!(!is_dns_subdomain("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
        assert!(is_dns_label(&"a".repeat(63)));
        assert!(is_dns_label("kube-system"));
        assert!(!is_dns_label("kube.system"));
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn truncated_note_is_head_marker_tail(note in any::<String>(), max in 0usize..2048) {
                let cut = truncate_note(&note, max);
                prop_assert!(cut.len() <= max);
                if note.len() <= max {
                    prop_assert_eq!(&cut, &note);
                } else if let Some((head, tail)) = cut.split_once(NOTE_TRUNCATION_MARKER) {
                    prop_assert!(note.starts_with(head));
                    prop_assert!(note.ends_with(tail));
                } else {
                    prop_assert!(note.starts_with(&cut));
                }
            }

            #[test]
            fn cut_never_splits_a_character(s in any::<String>(), max in 0usize..64) {
                let cut = cut_to_bytes(&s, max);
                prop_assert!(cut.len() <= max);
                prop_assert!(s.starts_with(cut));
            }
        }
    }
}
