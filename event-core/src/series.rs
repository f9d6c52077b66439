//! The correlation cache: one entry per [`EventKey`], bounded, with O(1)
//! amortized lookup, expiry and eviction.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use lru::LruCache;

use crate::key::packed;
use crate::{EventKey, EventRecord, ObjectRef, RefKey, Series};

/// One correlated event: its identity, what the server has, and what has
/// happened since.
pub(crate) struct Entry {
    /// The packed key (see `key::packed`), shared with the cache.
    pub(crate) key: Arc<[u8]>,
    /// Serializes writes of this event (held across the sink call; other
    /// keys never wait on it).
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    state: Mutex<EntryState>,
}

pub(crate) struct EntryState {
    pub(crate) name: String,
    pub(crate) namespace: Arc<str>,
    pub(crate) event_time: Timestamp,
    pub(crate) note: Option<String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) regarding_rv: Option<String>,
    pub(crate) related_rv: Option<String>,
    /// Occurrences seen.
    pub(crate) count: u32,
    pub(crate) last_observed: Timestamp,
    /// The count the server has; 0 before the create succeeded.
    pub(crate) written: u32,
    /// The event exists on the server (as far as we know).
    pub(crate) live: bool,
    pub(crate) last_write: Option<Timestamp>,
    pub(crate) last_attempt: Option<Timestamp>,
    pub(crate) failed_at: Option<Timestamp>,
    /// Failed writes in a row (for the entry's own backoff).
    pub(crate) failures: u32,
    /// A create under the current name was sent and its outcome is not
    /// known (a transport error, a 5xx, a cancelled task): its count. A
    /// later 409 for this name means that create went through.
    pub(crate) maybe_created: Option<u32>,
    /// The last failure was a definite refusal (Forbidden, Fatal): trying
    /// again at once would get the same answer.
    pub(crate) refused: bool,
    /// An immediate write of this entry is queued or running: further
    /// occurrences only count.
    pub(crate) queued: bool,
    /// The server refused the event as invalid: never written again.
    pub(crate) poisoned: bool,
    /// Listed in [`Cache::dirty`].
    pub(crate) listed: bool,
    /// Removed from the cache; flushed once more if dirty.
    pub(crate) evicted: bool,
    /// A failure was already logged at warn level for this key.
    pub(crate) warned: bool,
}

/// Locks `m`. A poisoned lock (a panic elsewhere while it was held) still
/// yields the data: counts are plain integers.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `t + d`, saturating at the largest timestamp instead of panicking.
pub(crate) fn later(t: Timestamp, d: std::time::Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

impl EntryState {
    /// Whether the event on the server has a series: what was written
    /// carried a count of 2 or more.
    pub(crate) fn has_series(&self) -> bool {
        self.live && self.written >= 2
    }

    pub(crate) fn is_dirty(&self) -> bool {
        !self.poisoned && self.count > self.written
    }

    /// Whether a write failed for good recently: the entry waits one flush
    /// interval after the first failure, doubling with each further one (up
    /// to 64 intervals), before it is tried again on its own.
    pub(crate) fn backing_off(&self, now: Timestamp, interval: std::time::Duration) -> bool {
        self.failed_at.is_some_and(|t| {
            let factor = 1u32 << self.failures.saturating_sub(1).min(6);
            now < later(t, interval.saturating_mul(factor))
        })
    }
}

/// Everything needed to start an entry.
pub(crate) struct NewEntry {
    pub(crate) name: String,
    pub(crate) namespace: Arc<str>,
    pub(crate) now: Timestamp,
    pub(crate) note: Option<String>,
    pub(crate) annotations: BTreeMap<String, String>,
    pub(crate) regarding_rv: Option<String>,
    pub(crate) related_rv: Option<String>,
}

impl Entry {
    pub(crate) fn new(key: Arc<[u8]>, new: NewEntry) -> Self {
        Self {
            key,
            write_lock: tokio::sync::Mutex::new(()),
            state: Mutex::new(EntryState {
                name: new.name,
                namespace: new.namespace,
                event_time: new.now,
                note: new.note,
                annotations: new.annotations,
                regarding_rv: new.regarding_rv,
                related_rv: new.related_rv,
                count: 1,
                last_observed: new.now,
                written: 0,
                live: false,
                last_write: None,
                last_attempt: None,
                failed_at: None,
                failures: 0,
                maybe_created: None,
                refused: false,
                queued: false,
                poisoned: false,
                listed: false,
                evicted: false,
                warned: false,
            }),
        }
    }

    /// Locks the state. A poisoned lock (a panic elsewhere while it was
    /// held) still yields the data: counts are plain integers.
    pub(crate) fn state(&self) -> MutexGuard<'_, EntryState> {
        lock(&self.state)
    }

    /// The key this entry stands for.
    pub(crate) fn key(&self, controller: &Arc<str>, instance: &Arc<str>) -> EventKey {
        packed::decode(&self.key, controller, instance).unwrap_or_else(|| EventKey {
            type_: crate::EventType::Normal,
            action: String::new(),
            reason: String::new(),
            reporting_controller: Arc::clone(controller),
            reporting_instance: Arc::clone(instance),
            regarding: RefKey::from(&ObjectRef::default()),
            related: None,
            note: None,
        })
    }

    /// The record as it stands, for a write.
    pub(crate) fn record(&self, st: &EntryState, key: &EventKey) -> EventRecord {
        let to_ref = |r: &RefKey, rv: &Option<String>| ObjectRef {
            api_version: r.api_version.clone(),
            kind: r.kind.clone(),
            name: r.name.clone(),
            namespace: r.namespace.clone(),
            uid: r.uid.clone(),
            field_path: r.field_path.clone(),
            resource_version: rv.clone(),
        };
        EventRecord {
            name: st.name.clone(),
            namespace: st.namespace.to_string(),
            event_time: st.event_time,
            series: (st.count >= 2).then_some(Series {
                count: st.count,
                last_observed_time: st.last_observed,
            }),
            regarding: to_ref(&key.regarding, &st.regarding_rv),
            related: key.related.as_ref().map(|r| to_ref(r, &st.related_rv)),
            reason: key.reason.clone(),
            action: key.action.clone(),
            note: st.note.clone(),
            type_: key.type_,
            reporting_controller: key.reporting_controller.to_string(),
            reporting_instance: key.reporting_instance.to_string(),
            annotations: st.annotations.clone(),
        }
    }
}

/// The bounded cache plus the list of entries with unwritten occurrences.
pub(crate) struct Cache {
    pub(crate) entries: LruCache<Arc<[u8]>, Arc<Entry>>,
    /// Entries whose count is ahead of the server (each listed once).
    pub(crate) dirty: Vec<Arc<Entry>>,
    pub(crate) next_heartbeat_sweep: Option<Timestamp>,
}

impl Cache {
    pub(crate) fn new() -> Self {
        Self {
            entries: LruCache::unbounded(),
            dirty: Vec::new(),
            next_heartbeat_sweep: None,
        }
    }

    /// Lists `entry` as dirty if it is and is not listed yet.
    pub(crate) fn list_if_dirty(&mut self, entry: &Arc<Entry>, st: &mut EntryState) {
        if st.is_dirty() && !st.listed {
            st.listed = true;
            self.dirty.push(Arc::clone(entry));
        }
    }
}
