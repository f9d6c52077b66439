//! The immutable part of a series: what makes two occurrences the same
//! event (its key), and what every write of it carries.
//!
//! A [`Body`] is one run of bytes: the canonical encoding of its key (see
//! [`encode`]) followed by the fields outside the key in the same form,
//! stored right after the series' state in the series' one allocation. The
//! cache indexes bodies by [`KeyHash`], a 64-bit hash of that encoding; a
//! lookup hit is confirmed by comparing the occurrence's encoding with the
//! body's, byte for byte (encodings are equal exactly when the keys are), in
//! one comparison of contiguous memory. Reading a field back walks the
//! encoding; that happens when a series is written, never on a repeat.
//!
//! The canonical encoding (and so the Event name derived from it, see
//! [`name_hash`]) is part of the stored state of a cluster: Events written
//! by one version are found again by the next only while it stays the
//! same. The [`KeyHash`] is not: it lives in one process only.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use crate::{Event, EventType, ObjectRef};

use crate::key::NotePolicy;

/// The 64-bit hash of a key within one process (not stored anywhere: it
/// changes from one process to the next).
pub(crate) type KeyHash = u64;

/// The string fields of a key and payload, in storage order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Field {
    Action,
    Reason,
    RegApiVersion,
    RegKind,
    RegNamespace,
    RegName,
    RegUid,
    RegFieldPath,
    RelApiVersion,
    RelKind,
    RelNamespace,
    RelName,
    RelUid,
    RelFieldPath,
    /// The note as written (already truncated). In the key only under
    /// [`NotePolicy::Distinct`].
    Note,
    RegResourceVersion,
    RelResourceVersion,
}

const FIELDS: usize = 17;
/// Fields that take part in the key without the note.
const KEY_FIELDS: usize = Field::Note as usize;

/// Values of every field of an occurrence, borrowed: `None` for an absent
/// optional field (an empty namespace, uid or field path counts as absent).
pub(crate) type Values<'a> = [Option<&'a str>; FIELDS];

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// The field values of an event: its action and reason, the regarding and
/// related references, and the note as it is written.
fn field_values<'a>(
    action: &'a str,
    reason: &'a str,
    regarding: &'a ObjectRef,
    related: Option<&'a ObjectRef>,
    note: Option<&'a str>,
) -> Values<'a> {
    let rel = related;
    [
        Some(action),
        Some(reason),
        Some(regarding.api_version.as_str()),
        Some(regarding.kind.as_str()),
        non_empty(regarding.namespace.as_deref()),
        Some(regarding.name.as_str()),
        non_empty(regarding.uid.as_deref()),
        non_empty(regarding.field_path.as_deref()),
        rel.map(|r| r.api_version.as_str()),
        rel.map(|r| r.kind.as_str()),
        rel.and_then(|r| non_empty(r.namespace.as_deref())),
        rel.map(|r| r.name.as_str()),
        rel.and_then(|r| non_empty(r.uid.as_deref())),
        rel.and_then(|r| non_empty(r.field_path.as_deref())),
        note,
        regarding.resource_version.as_deref(),
        rel.and_then(|r| r.resource_version.as_deref()),
    ]
}

/// The field values of `event` about `regarding` with `note` as it will be
/// written.
pub(crate) fn values<'a>(
    event: &'a Event,
    note: Option<&'a str>,
    regarding: &'a ObjectRef,
) -> Values<'a> {
    let related = event.secondary.as_ref();
    field_values(&event.action, &event.reason, regarding, related, note)
}

/// The field values of a stored Event, as [`values`] gives them for an
/// occurrence.
pub(crate) fn record_values(r: &crate::sink::EventRecord) -> Values<'_> {
    let related = r.related.as_ref();
    field_values(
        &r.action,
        &r.reason,
        &r.regarding,
        related,
        r.note.as_deref(),
    )
}

/// How many fields take part in the key under `policy`.
fn key_len(policy: NotePolicy) -> usize {
    match policy {
        NotePolicy::Ignore => KEY_FIELDS,
        NotePolicy::Distinct => KEY_FIELDS + 1,
    }
}

/// Writes the canonical encoding of a key into `out` (cleared first): the
/// type, then each key field as a presence byte, a little-endian u32 length
/// and the bytes. Related references are present or absent as a whole.
pub(crate) fn encode(out: &mut Vec<u8>, type_: EventType, values: &Values<'_>, policy: NotePolicy) {
    out.clear();
    out.push(match type_ {
        EventType::Normal => 0,
        EventType::Warning => 1,
    });
    out.push(u8::from(values[Field::RelKind as usize].is_some()));
    for value in &values[..key_len(policy)] {
        push_field(out, *value);
    }
}

#[cfg(test)]
thread_local! {
    /// Every key's hash on this thread, when set: collisions on demand.
    pub(crate) static SAME_HASH: std::cell::Cell<Option<KeyHash>> =
        const { std::cell::Cell::new(None) };
}

/// The cache's identity for an encoded key: seeded anew in every process,
/// so that nobody who names objects can work out two keys of the same hash
/// in advance (the cache keeps one series per hash; a second key of that
/// hash is written uncached, and dropped if that write fails).
pub(crate) fn key_hash(encoded: &[u8]) -> KeyHash {
    static SEED: OnceLock<u64> = OnceLock::new();
    #[cfg(test)]
    if let Some(hash) = SAME_HASH.get() {
        return hash;
    }
    xxh3_64_with_seed(encoded, *SEED.get_or_init(|| fastrand::u64(..)))
}

/// The hash in a series' Event name: the key, the reporter and the rename
/// generation. The same series of the same reporter always gets the same
/// name, in any process.
pub(crate) fn name_hash(encoded: &[u8], controller: &str, instance: &str, generation: u16) -> u64 {
    let mut input =
        Vec::with_capacity(encoded.len() + controller.len() + instance.len() + 2 * 4 + 2);
    for part in [controller.as_bytes(), instance.as_bytes()] {
        let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
        input.extend_from_slice(&len.to_le_bytes());
        input.extend_from_slice(part);
    }
    input.extend_from_slice(encoded);
    input.extend_from_slice(&generation.to_le_bytes());
    xxh3_64(&input)
}

/// Appends one field as the canonical encoding writes it: a presence
/// byte, and when present a little-endian u32 length and the bytes.
#[inline]
fn push_field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        None => out.push(0),
        Some(s) => {
            let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
            // The presence byte and the length in one append.
            let mut head = [1u8; 5];
            head[1..].copy_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&head);
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// What a series' body holds besides its bytes.
pub(crate) struct BodyHead {
    policy: NotePolicy,
    /// Where the key's canonical encoding ends in the bytes.
    key_end: u32,
    /// Boxed: 8 bytes for the many series without annotations, not 24.
    #[allow(clippy::box_collection)]
    annotations: Option<Box<BTreeMap<String, String>>>,
}

/// A new series' body, before it is stored with the series' state (see
/// [`Entry`](super::entry::Entry), which keeps both in one allocation).
pub(crate) struct NewBody {
    head: BodyHead,
    /// The key's canonical encoding, then the fields outside the key (in
    /// field order) in the same form: every field, in field order.
    bytes: Vec<u8>,
}

impl BodyHead {
    /// The length of the key's encoding, at the start of the bytes.
    pub(crate) fn key_len(&self) -> usize {
        self.key_end as usize
    }
}

impl NewBody {
    /// The body of an occurrence whose key encodes as `key` (see
    /// [`encode`]; the occurrence encoded it to look its series up).
    pub(crate) fn new(key: &[u8], event: &Event, values: &Values<'_>, policy: NotePolicy) -> Self {
        debug_assert!({
            let mut again = Vec::new();
            encode(&mut again, event.type_, values, policy);
            again == key
        });
        let total: usize = values.iter().flatten().map(|s| s.len() + 5).sum();
        let mut bytes = Vec::with_capacity(2 + FIELDS + total);
        bytes.extend_from_slice(key);
        let key_end = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        for value in &values[key_len(policy)..] {
            push_field(&mut bytes, *value);
        }
        let annotations =
            (!event.annotations.is_empty()).then(|| Box::new(event.annotations.clone()));
        Self {
            head: BodyHead {
                policy,
                key_end,
                annotations,
            },
            bytes,
        }
    }

    /// The body, to read.
    #[cfg(test)]
    pub(crate) fn body(&self) -> Body<'_> {
        Body::new(&self.head, &self.bytes)
    }

    pub(crate) fn into_parts(self) -> (BodyHead, Vec<u8>) {
        (self.head, self.bytes)
    }
}

/// The immutable part of one series, read where it is stored.
#[derive(Clone, Copy)]
pub(crate) struct Body<'a> {
    head: &'a BodyHead,
    bytes: &'a [u8],
}

impl<'a> Body<'a> {
    pub(crate) fn new(head: &'a BodyHead, bytes: &'a [u8]) -> Self {
        Self { head, bytes }
    }

    /// The canonical encoding of this body's key.
    pub(crate) fn key(self) -> &'a [u8] {
        self.bytes
            .get(..self.head.key_end as usize)
            .unwrap_or_default()
    }

    /// Field `f`, or `None` when absent.
    pub(crate) fn get(self, f: Field) -> Option<&'a str> {
        self.walk().nth(f as usize).flatten()
    }

    /// Field `f`, or the empty string when absent.
    pub(crate) fn str(self, f: Field) -> &'a str {
        self.get(f).unwrap_or_default()
    }

    pub(crate) fn type_(self) -> EventType {
        match self.bytes.first() {
            Some(1) => EventType::Warning,
            _ => EventType::Normal,
        }
    }

    /// Whether the event has a related object (its kind is always present
    /// then, possibly empty).
    pub(crate) fn has_related(self) -> bool {
        self.bytes.get(1) == Some(&1)
    }

    pub(crate) fn annotations(self) -> Option<&'a BTreeMap<String, String>> {
        self.head.annotations.as_deref()
    }

    /// Every field value, as [`values`] gives them for an occurrence, read
    /// back from the encoding (which was written from strings, so every
    /// field is UTF-8 and every length in range).
    pub(crate) fn values(self) -> Values<'a> {
        let mut out = [None; FIELDS];
        for (slot, value) in out.iter_mut().zip(self.walk()) {
            *slot = value;
        }
        out
    }

    /// The fields in order, read from the encoding.
    fn walk(self) -> impl Iterator<Item = Option<&'a str>> {
        let mut rest = self.bytes.get(2..).unwrap_or_default();
        std::iter::from_fn(move || {
            let (&present, after) = rest.split_first()?;
            rest = after;
            if present == 0 {
                return Some(None);
            }
            let (len, after) = rest.split_first_chunk::<4>()?;
            let (text, after) = after.split_at_checked(u32::from_le_bytes(*len) as usize)?;
            rest = after;
            Some(std::str::from_utf8(text).ok())
        })
    }

    /// Whether an occurrence whose key encodes as `encoded` is this series.
    pub(crate) fn is_key(self, encoded: &[u8]) -> bool {
        self.key() == encoded
    }

    /// Whether an occurrence with these values is this series.
    pub(crate) fn is_key_of(self, type_: EventType, values: &Values<'_>) -> bool {
        let mut encoded = Vec::new();
        encode(&mut encoded, type_, values, self.head.policy);
        self.is_key(&encoded)
    }
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
            "[a-zé.]{0,3}",
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

    fn encoded(e: &Event, r: &ObjectRef, p: NotePolicy) -> Vec<u8> {
        let mut v = Vec::new();
        encode(&mut v, e.type_, &values(e, e.note.as_deref(), r), p);
        v
    }

    fn key(e: &Event, r: &ObjectRef, p: NotePolicy) -> crate::key::EventKey {
        crate::key::EventKey::new(e, r, "c".into(), "i".into(), p)
    }

    proptest! {
        /// Encodings are equal exactly when the public keys are; a body
        /// gives back the values it was built from and recognises exactly
        /// the occurrences of its key.
        #[test]
        fn encoding_and_body_follow_key_identity(
            a in arb_event(), ra in arb_ref(), b in arb_event(), rb in arb_ref(), distinct in any::<bool>()
        ) {
            let p = if distinct { NotePolicy::Distinct } else { NotePolicy::Ignore };
            let same = key(&a, &ra, p) == key(&b, &rb, p);
            prop_assert_eq!(same, encoded(&a, &ra, p) == encoded(&b, &rb, p));
            let va = values(&a, a.note.as_deref(), &ra);
            let new = NewBody::new(&encoded(&a, &ra, p), &a, &va, p);
            let body = new.body();
            prop_assert_eq!(body.values(), va);
            prop_assert_eq!(body.is_key_of(b.type_, &values(&b, b.note.as_deref(), &rb)), same);
            prop_assert_eq!(body.key(), &encoded(&a, &ra, p)[..]);
            prop_assert_eq!(body.is_key(&encoded(&b, &rb, p)), same);
            // Only ignored fields changed: the same key.
            let mut ra2 = ra.clone();
            ra2.resource_version = Some("other".into());
            prop_assert_eq!(encoded(&a, &ra, p), encoded(&a, &ra2, p));
        }
    }

    #[test]
    fn hashes_are_stable_across_releases() {
        // Event names are derived from these; a change splits every series
        // stored by an earlier release.
        let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
        let e = Event::warning("BackOff", "Starting").note("exit 1");
        let enc = encoded(&e, &pod, NotePolicy::Ignore);
        assert_eq!(enc.len(), 69);
        assert_eq!(
            name_hash(&enc, "example.com/c", "c-0", 0),
            0xc873_3efe_45c5_09b0
        );
        assert_ne!(
            name_hash(&enc, "example.com/c", "c-0", 0),
            name_hash(&enc, "example.com/c", "c-1", 0)
        );
        assert_ne!(
            name_hash(&enc, "example.com/c", "c-0", 0),
            name_hash(&enc, "example.com/c", "c-0", 1)
        );
    }
}
