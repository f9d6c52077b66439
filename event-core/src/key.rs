//! [`EventKey`]: what makes two occurrences "the same event".

use std::sync::Arc;

use crate::{Event, EventType, ObjectRef};

/// Whether the note is part of an event's identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NotePolicy {
    /// Repeats with a different note join the same series and keep the first
    /// note (the server makes the note immutable). client-go's behaviour.
    #[default]
    Ignore,
    /// Each distinct note is its own event, so every message stays visible.
    Distinct,
}

/// An object reference as it takes part in a key: everything but
/// `resource_version`, so an object update does not split a series.
///
/// # Example
///
/// ```
/// use event_core::ObjectRef;
/// use event_core::key::RefKey;
///
/// let a = ObjectRef::new("v1", "Pod", "p").within("ns").with_resource_version("1");
/// let b = a.clone().with_resource_version("2");
/// assert_eq!(RefKey::from(&a), RefKey::from(&b));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefKey {
    /// API version.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace (`None` and empty are the same).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// UID.
    pub uid: Option<String>,
    /// Field path.
    pub field_path: Option<String>,
}

impl From<&ObjectRef> for RefKey {
    fn from(r: &ObjectRef) -> Self {
        Self {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            namespace: r.namespace.clone().filter(|ns| !ns.is_empty()),
            name: r.name.clone(),
            uid: r.uid.clone().filter(|u| !u.is_empty()),
            field_path: r.field_path.clone().filter(|f| !f.is_empty()),
        }
    }
}

/// The identity of an event for correlating repeats into a series.
///
/// Made of the type, action, reason, reporting controller and instance, the
/// regarding and related references (without `resource_version`), and — only
/// under [`NotePolicy::Distinct`] — the note. `Hash` and `Eq` are derived
/// from the same fields, so equal keys always hash equally.
///
/// # Example
///
/// ```
/// use event_core::{Event, ObjectRef};
/// use event_core::key::EventKey;
/// use event_core::config::NotePolicy;
///
/// let pod = ObjectRef::new("v1", "Pod", "p").within("ns");
/// let e1 = Event::warning("BackOff", "Starting").note("attempt 1");
/// let e2 = Event::warning("BackOff", "Starting").note("attempt 2");
/// let k = |e: &Event, p| EventKey::new(e, &pod, "example.com/c".into(), "pod-0".into(), p);
/// assert_eq!(k(&e1, NotePolicy::Ignore), k(&e2, NotePolicy::Ignore));
/// assert_ne!(k(&e1, NotePolicy::Distinct), k(&e2, NotePolicy::Distinct));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventKey {
    /// Normal or Warning.
    pub type_: EventType,
    /// The action.
    pub action: String,
    /// The reason.
    pub reason: String,
    /// The reporting controller (shared between keys).
    pub reporting_controller: Arc<str>,
    /// The reporting instance (shared between keys).
    pub reporting_instance: Arc<str>,
    /// The object the event is about.
    pub regarding: RefKey,
    /// The second object, if any (boxed: most events have none).
    pub related: Option<Box<RefKey>>,
    /// The note, under [`NotePolicy::Distinct`] only.
    pub note: Option<String>,
}

impl EventKey {
    /// The key of `event` about `regarding`, published by the given reporter.
    pub fn new(
        event: &Event,
        regarding: &ObjectRef,
        reporting_controller: Arc<str>,
        reporting_instance: Arc<str>,
        notes: NotePolicy,
    ) -> Self {
        Self {
            type_: event.type_,
            action: event.action.clone(),
            reason: event.reason.clone(),
            reporting_controller,
            reporting_instance,
            regarding: regarding.into(),
            related: event.secondary.as_ref().map(|r| Box::new(RefKey::from(r))),
            note: match notes {
                NotePolicy::Ignore => None,
                NotePolicy::Distinct => event.note.clone(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    fn hash<T: Hash>(t: &T) -> u64 {
        let mut h = DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }

    fn key(regarding: &ObjectRef) -> EventKey {
        EventKey::new(
            &Event::normal("Synced", "Reconciling"),
            regarding,
            "example.com/c".into(),
            "i".into(),
            NotePolicy::Ignore,
        )
    }

    #[test]
    fn resource_version_is_ignored_by_eq_and_hash() {
        let a = ObjectRef::new("v1", "Pod", "p")
            .within("ns")
            .with_uid("u")
            .with_resource_version("100");
        let b = a.clone().with_resource_version("101");
        assert_eq!(key(&a), key(&b));
        assert_eq!(hash(&key(&a)), hash(&key(&b)));
    }

    #[test]
    fn field_path_and_other_fields_split_keys() {
        let a = ObjectRef::new("v1", "Pod", "p").within("ns");
        for b in [
            a.clone().with_field_path("spec.containers{app}"),
            a.clone().with_uid("u"),
            ObjectRef::new("v1", "Pod", "q").within("ns"),
            ObjectRef::new("v1", "Pod", "p").within("other"),
            ObjectRef::new("v1", "ConfigMap", "p").within("ns"),
            ObjectRef::new("v2", "Pod", "p").within("ns"),
        ] {
            assert_ne!(key(&a), key(&b), "{b:?}");
        }
    }

    #[test]
    fn event_fields_split_keys() {
        let pod = ObjectRef::new("v1", "Pod", "p").within("ns");
        let base = Event::normal("Synced", "Reconciling");
        let k = |e: &Event, c: &str, i: &str| {
            EventKey::new(e, &pod, c.into(), i.into(), NotePolicy::Ignore)
        };
        let reference = k(&base, "c", "i");
        assert_ne!(
            reference,
            k(&Event::warning("Synced", "Reconciling"), "c", "i")
        );
        assert_ne!(
            reference,
            k(&Event::normal("Other", "Reconciling"), "c", "i")
        );
        assert_ne!(reference, k(&Event::normal("Synced", "Other"), "c", "i"));
        assert_ne!(reference, k(&base, "c2", "i"));
        assert_ne!(reference, k(&base, "c", "i2"));
        assert_ne!(reference, k(&base.clone().related(&pod), "c", "i"));
        assert_eq!(reference, k(&base.clone().note("different"), "c", "i"));
    }

    #[test]
    fn empty_namespace_equals_none() {
        let mut a = ObjectRef::new("v1", "Node", "n");
        let b = a.clone();
        a.namespace = Some(String::new());
        assert_eq!(key(&a), key(&b));
    }
}
