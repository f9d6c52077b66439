//! One series as the engine shares it: an [`Entry`] holds its immutable
//! [`Body`] and its [`State`] in one allocation, and builds what a write
//! sends (its Event's name, namespace and record).

use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;

use triomphe::ThinArc;

use super::body::{Body, BodyHead, Field, KeyHash, NewBody, key_hash, name_hash};
use super::state::State;
use crate::ObjectRef;
use crate::name::series_name;
use crate::sink::EventRecord;
use crate::validate::ClusterScopedNamespace;

/// What a write needs to know about the Recorder.
pub(crate) struct Identity<'a> {
    pub(crate) controller: &'a str,
    pub(crate) instance: &'a str,
    pub(crate) cluster_namespace: ClusterScopedNamespace,
}

/// How much of a series' bytes [`Entry::warm`] fetches: a typical key
/// (an object's kind, namespace, name and uid, a reason and an action) is
/// 100 to 200 bytes.
const WARM_BYTES: usize = 256;

/// One series, shared by the cache, the dirty set, queued jobs and writers:
/// a handle (one pointer; cloning it counts a reference) to one allocation
/// holding the series' state and then its body's bytes. A repeat reads the
/// state and compares the key, so at tens of thousands of series, where each
/// is far from the processor's caches, keeping them together saves a
/// round trip to memory on every repeat (and a second allocation per
/// series).
#[derive(Clone)]
pub(crate) struct Entry(ThinArc<Head, u8>);

struct Head {
    state: Mutex<State>,
    body: BodyHead,
    /// The hash of the key, which the cache keeps the series under.
    hash: KeyHash,
}

/// Locks `m`. A poisoned lock (a panic elsewhere while it was held) still
/// yields the data: counts are plain integers, and every transition leaves
/// them consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Entry {
    /// A new series; `hash` is its key's (see [`key_hash`]), which the
    /// occurrence computed already.
    pub(crate) fn new(body: NewBody, hash: KeyHash, now: Timestamp) -> Self {
        let (body, bytes) = body.into_parts();
        debug_assert_eq!(
            hash,
            key_hash(bytes.get(..body.key_len()).unwrap_or_default())
        );
        let head = Head {
            state: Mutex::new(State::first(now)),
            hash,
            body,
        };
        Self(ThinArc::from_header_and_slice(head, &bytes))
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.0.header.header.state)
    }

    /// The series' immutable body.
    pub(crate) fn body(&self) -> Body<'_> {
        Body::new(&self.0.header.header.body, &self.0.slice)
    }

    /// Reads one byte of every cache line of the first [`WARM_BYTES`] of
    /// the series' bytes (where its key is; a longer key's tail is fetched
    /// by the comparison), and the last byte of that stretch, each read
    /// independent of the others, so that the processor fetches them all at
    /// once. At tens of thousands of series a repeat finds its series far
    /// from the processor's caches; the key comparison alone would fetch
    /// one line after another, each a full trip to memory. The stretch does
    /// not depend on the key's length, which is kept in the header:
    /// waiting for that read first would put a trip to memory before the
    /// others.
    pub(crate) fn warm(&self) {
        let bytes = &self.0.slice;
        let window = bytes.get(..WARM_BYTES).unwrap_or(bytes);
        let mut acc = window.last().copied().unwrap_or_default();
        for b in window.iter().step_by(64) {
            acc ^= *b;
        }
        std::hint::black_box(acc);
    }

    /// Whether `a` and `b` are handles of the same series.
    pub(crate) fn same(a: &Self, b: &Self) -> bool {
        a.0.ptr() == b.0.ptr()
    }

    /// The hash the cache keeps this series under (of its key).
    pub(crate) fn hash(&self) -> KeyHash {
        self.0.header.header.hash
    }

    /// The namespace of this series' Event.
    pub(crate) fn namespace(&self, id: &Identity<'_>) -> String {
        self.body()
            .get(Field::RegNamespace)
            .unwrap_or(id.cluster_namespace.as_str())
            .to_owned()
    }

    /// The name of this series' Event at rename `generation`.
    pub(crate) fn name(&self, id: &Identity<'_>, generation: u16) -> String {
        let hash = name_hash(self.body().key(), id.controller, id.instance, generation);
        series_name(self.body().str(Field::RegName), id.controller, hash)
    }

    /// The record as it stands, for a write.
    pub(crate) fn record(&self, st: &State, id: &Identity<'_>) -> EventRecord {
        let b = self.body();
        // Read back once for the fields below (every field lookup walks
        // the encoding).
        let values = b.values();
        let get = |f: Field| values[f as usize];
        let own = |f: Field| get(f).map(str::to_owned);
        let str = |f: Field| get(f).unwrap_or_default().to_owned();
        // A reference from its seven fields, in `ObjectRef`'s order.
        let reference =
            |[api_version, kind, name, namespace, uid, field_path, rv]: [Field; 7]| ObjectRef {
                api_version: str(api_version),
                kind: str(kind),
                name: str(name),
                namespace: own(namespace),
                uid: own(uid),
                field_path: own(field_path),
                resource_version: own(rv),
            };
        let regarding = reference([
            Field::RegApiVersion,
            Field::RegKind,
            Field::RegName,
            Field::RegNamespace,
            Field::RegUid,
            Field::RegFieldPath,
            Field::RegResourceVersion,
        ]);
        let related = b.has_related().then(|| {
            reference([
                Field::RelApiVersion,
                Field::RelKind,
                Field::RelName,
                Field::RelNamespace,
                Field::RelUid,
                Field::RelFieldPath,
                Field::RelResourceVersion,
            ])
        });
        EventRecord {
            name: self.name(id, st.generation),
            namespace: self.namespace(id),
            event_time: st.event_time.get(),
            series: (st.count >= 2).then(|| st.series()),
            regarding,
            related,
            reason: str(Field::Reason),
            action: str(Field::Action),
            note: own(Field::Note),
            type_: b.type_(),
            reporting_controller: id.controller.to_owned(),
            reporting_instance: id.instance.to_owned(),
            annotations: b.annotations().cloned().unwrap_or_default(),
        }
    }

    /// Whether `stored` (found under this series' name) is this series:
    /// the same key fields, written by the same reporter.
    pub(crate) fn is_series_of(&self, stored: &EventRecord, id: &Identity<'_>) -> bool {
        stored.reporting_controller == id.controller
            && stored.reporting_instance == id.instance
            && self
                .body()
                .is_key_of(stored.type_, &super::body::record_values(stored))
    }
}
