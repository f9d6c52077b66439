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
/// use event_core::{ObjectRef, RefKey};
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
/// use event_core::{Event, EventKey, NotePolicy, ObjectRef};
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

/// The cache's form of a key: every field of [`EventKey`] except the
/// reporter (fixed per Recorder), packed into one byte string. One
/// allocation per key and one contiguous comparison per lookup keep a
/// repeat publish cheap however many keys are cached.
pub(crate) mod packed {
    use super::{EventKey, NotePolicy, RefKey};
    use crate::{Event, EventType, ObjectRef};
    use std::sync::Arc;

    fn put_str(out: &mut Vec<u8>, s: &str) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&s.as_bytes()[..len as usize]);
    }

    fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
        match s {
            None => out.push(0),
            Some(s) => {
                out.push(1);
                put_str(out, s);
            }
        }
    }

    fn put_ref(out: &mut Vec<u8>, r: &ObjectRef) {
        put_str(out, &r.api_version);
        put_str(out, &r.kind);
        put_opt(out, r.namespace.as_deref().filter(|ns| !ns.is_empty()));
        put_str(out, &r.name);
        put_opt(out, r.uid.as_deref().filter(|u| !u.is_empty()));
        put_opt(out, r.field_path.as_deref().filter(|f| !f.is_empty()));
    }

    /// Writes the packed key of `event` about `regarding` into `out`
    /// (cleared first). Under [`NotePolicy::Distinct`] the key holds `note`:
    /// the note as it will be written (already truncated), so a key never
    /// holds more than 1024 bytes of note.
    pub(crate) fn encode(
        out: &mut Vec<u8>,
        event: &Event,
        note: Option<&str>,
        regarding: &ObjectRef,
        notes: NotePolicy,
    ) {
        out.clear();
        out.push(match event.type_ {
            EventType::Normal => 0,
            EventType::Warning => 1,
        });
        put_str(out, &event.action);
        put_str(out, &event.reason);
        put_ref(out, regarding);
        match &event.secondary {
            None => out.push(0),
            Some(r) => {
                out.push(1);
                put_ref(out, r);
            }
        }
        put_opt(
            out,
            match notes {
                NotePolicy::Ignore => None,
                NotePolicy::Distinct => note,
            },
        );
    }

    struct Reader<'a>(&'a [u8]);

    impl Reader<'_> {
        fn byte(&mut self) -> Option<u8> {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            Some(b)
        }
        fn string(&mut self) -> Option<String> {
            let (len, rest) = self.0.split_first_chunk::<4>()?;
            let len = u32::from_le_bytes(*len) as usize;
            let bytes = rest.get(..len)?;
            self.0 = &rest[len..];
            String::from_utf8(bytes.to_vec()).ok()
        }
        fn opt(&mut self) -> Option<Option<String>> {
            match self.byte()? {
                0 => Some(None),
                _ => self.string().map(Some),
            }
        }
        fn reference(&mut self) -> Option<RefKey> {
            Some(RefKey {
                api_version: self.string()?,
                kind: self.string()?,
                namespace: self.opt()?,
                name: self.string()?,
                uid: self.opt()?,
                field_path: self.opt()?,
            })
        }
    }

    /// The [`EventKey`] a packed key stands for.
    pub(crate) fn decode(
        bytes: &[u8],
        controller: &Arc<str>,
        instance: &Arc<str>,
    ) -> Option<EventKey> {
        let mut r = Reader(bytes);
        let type_ = match r.byte()? {
            0 => EventType::Normal,
            _ => EventType::Warning,
        };
        let action = r.string()?;
        let reason = r.string()?;
        let regarding = r.reference()?;
        let related = match r.byte()? {
            0 => None,
            _ => Some(Box::new(r.reference()?)),
        };
        let note = r.opt()?;
        Some(EventKey {
            type_,
            action,
            reason,
            reporting_controller: Arc::clone(controller),
            reporting_instance: Arc::clone(instance),
            regarding,
            related,
            note,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use proptest::prelude::*;

        fn arb_ref() -> impl Strategy<Value = ObjectRef> {
            (
                "[a-z/0-9]{0,3}",
                "[A-Za-z]{0,3}",
                proptest::option::of("[a-z]{0,2}"),
                "[a-z.]{0,3}",
                proptest::option::of("[a-z]{0,2}"),
                proptest::option::of("[a-z]{0,2}"),
                proptest::option::of("[0-9]{0,2}"),
            )
                .prop_map(|(av, k, ns, n, uid, fp, rv)| ObjectRef {
                    api_version: av,
                    kind: k,
                    name: n,
                    namespace: ns,
                    uid,
                    field_path: fp,
                    resource_version: rv,
                })
        }

        fn arb_event() -> impl Strategy<Value = Event> {
            (
                any::<bool>(),
                "[A-Za-z]{0,3}",
                "[A-Za-z]{0,3}",
                proptest::option::of("[a-z ]{0,3}"),
                proptest::option::of(arb_ref()),
            )
                .prop_map(|(w, reason, action, note, related)| {
                    let mut e = if w {
                        Event::warning(reason, action)
                    } else {
                        Event::normal(reason, action)
                    };
                    e.note = note;
                    e.secondary = related;
                    e
                })
        }

        proptest! {
            /// Packed keys are equal exactly when the keys are, and decode
            /// back to the key.
            #[test]
            fn packing_preserves_key_identity(
                a in arb_event(), ra in arb_ref(), b in arb_event(), rb in arb_ref(), distinct in any::<bool>()
            ) {
                let policy = if distinct { NotePolicy::Distinct } else { NotePolicy::Ignore };
                let (c, i): (Arc<str>, Arc<str>) = ("ctl".into(), "inst".into());
                let key = |e: &Event, r: &ObjectRef| EventKey::new(e, r, c.clone(), i.clone(), policy);
                let pack = |e: &Event, r: &ObjectRef| { let mut v = Vec::new(); encode(&mut v, e, e.note.as_deref(), r, policy); v };
                prop_assert_eq!(key(&a, &ra) == key(&b, &rb), pack(&a, &ra) == pack(&b, &rb));
                prop_assert_eq!(decode(&pack(&a, &ra), &c, &i), Some(key(&a, &ra)));
                // Near misses: the same event with only an ignored field changed.
                let mut ra2 = ra.clone();
                ra2.resource_version = Some(format!("{}9", ra.resource_version.clone().unwrap_or_default()));
                prop_assert_eq!(pack(&a, &ra), pack(&a, &ra2));
                let mut a2 = a.clone();
                a2.note = Some(format!("{}!", a.note.clone().unwrap_or_default()));
                prop_assert_eq!(pack(&a, &ra) == pack(&a2, &ra), !distinct);
                prop_assert_eq!(key(&a, &ra) == key(&a2, &ra), !distinct);
            }
        }
    }
}
