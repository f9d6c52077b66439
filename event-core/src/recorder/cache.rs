//! The correlation cache and its invariants.
//!
//! - `cached`: at most `max_cached_keys` series, least recently used first
//!   out; an idle one leaves after the series TTL. Recency is kept to the
//!   second: a hit moves its series to the recently used end only when it
//!   was last moved more than [`PLACED_WITHIN`] seconds ago, so most hits
//!   only look the series up (no list splicing, which at tens of thousands
//!   of keys costs more cache misses than the rest of a repeat). An idle
//!   series therefore leaves at most two seconds after the TTL, and a full
//!   cache evicts a series used at most two seconds before the least
//!   recently used one.
//! - `retiring`: series that left `cached` still owing a write. They are
//!   written as soon as their backoff allows, and an occurrence of their key
//!   brings them back (so there is never more than one series per key). At
//!   most `max_retiring`; past that the oldest is abandoned and what it
//!   owed is counted as dropped.
//! - `dirty`: every series in `cached` or `retiring` that owes a write
//!   (each once, marked `listed`). Series leave it when found clean.
//!
//! A series that leaves every map is `Place::Gone`; a series is removed
//! from a map only while it is the one stored there under its key.
//!
//! Lock order: the cache, then a series' state (then the spam filter). No
//! function here logs: what happened is returned in a [`Fallout`] for the
//! caller to count and log once the lock is released.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use hashbrown::HashTable;
use jiff::Timestamp;
use lru::LruCache;

use super::body::KeyHash;
use super::decide::{Mode, Timing, decide, later};
use super::entry::{Entry, Identity};
use super::state::{Abandon, Place, State};
use crate::sink::EventRecord;

/// Keys are already 64-bit hashes: use them as they are.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type Build = BuildHasherDefault<KeyHasher>;

/// A cached series used this many seconds after it was last moved to the
/// recently used end stays where it is.
pub(crate) const PLACED_WITHIN: i64 = 1;

/// What a cache operation did that its caller must count and log.
#[derive(Default)]
pub(crate) struct Fallout {
    /// Series that left the cache.
    pub(crate) evicted: u32,
    /// Series abandoned because too many that left the cache owed writes,
    /// with the occurrences each had not written.
    pub(crate) overflowed: Vec<(Entry, u32)>,
}

/// The cached series: found by their hash in one probe of a table of
/// 8-byte slots (each series keeps its own hash, so a slot holds only the
/// series' pointer: 576 KiB with its control bytes at 50,000 keys, against
/// 2 MiB for slots of a 128-bit hash and a pointer), with their recency
/// kept apart in `order` (which a lookup never reads; it is larger than the
/// table, a linked node per series, and only a move to the recently used
/// end, at most once a second per series, touches it). Both always hold
/// the same hashes, each at most once.
struct Cached {
    by_hash: HashTable<Entry>,
    /// Least recently placed first.
    order: LruCache<KeyHash, (), Build>,
}

impl Cached {
    fn new() -> Self {
        Self {
            by_hash: HashTable::new(),
            order: LruCache::unbounded_with_hasher(Build::default()),
        }
    }

    fn len(&self) -> usize {
        self.by_hash.len()
    }

    fn get(&self, hash: KeyHash) -> Option<&Entry> {
        self.by_hash.find(hash, |e| e.hash() == hash)
    }

    /// Caches `entry` under `hash` at the recently used end, in place of
    /// any series cached under it.
    /// Caches `entry` at the recently used end. Its hash is not cached
    /// yet: a series is cached only after a lookup of its hash found
    /// nothing.
    fn put(&mut self, entry: Entry) {
        let hash = entry.hash();
        debug_assert!(self.get(hash).is_none(), "a cached hash cached again");
        self.by_hash.insert_unique(hash, entry, Entry::hash);
        self.order.put(hash, ());
    }

    fn promote(&mut self, hash: KeyHash) {
        self.order.promote(&hash);
    }

    fn remove(&mut self, hash: KeyHash) -> Option<Entry> {
        self.order.pop(&hash);
        let found = self.by_hash.find_entry(hash, |e| e.hash() == hash).ok()?;
        Some(found.remove().0)
    }

    fn peek_oldest(&self) -> Option<&Entry> {
        let (hash, ()) = self.order.peek_lru()?;
        self.get(*hash)
    }

    fn pop_oldest(&mut self) -> Option<Entry> {
        let (hash, ()) = self.order.peek_lru()?;
        self.remove(*hash)
    }

    /// Most recently placed first.
    fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.order.iter().filter_map(|(hash, ())| self.get(*hash))
    }
}

pub(crate) struct Cache {
    cached: Cached,
    retiring: LruCache<KeyHash, Entry, Build>,
    dirty: HashMap<KeyHash, Entry, Build>,
    max_cached: usize,
    max_retiring: usize,
    /// When the heartbeat next looks at the cached series.
    pub(crate) next_heartbeat_sweep: Option<Timestamp>,
    /// The latest first-occurrence time given to a new series.
    last_event_time: Timestamp,
}

fn is(a: &Entry, b: &Entry) -> bool {
    Entry::same(a, b)
}

impl Cache {
    pub(crate) fn new(max_cached: usize, max_retiring: usize) -> Self {
        Self {
            cached: Cached::new(),
            retiring: LruCache::unbounded_with_hasher(Build::default()),
            dirty: HashMap::with_hasher(Build::default()),
            max_cached: max_cached.max(1),
            max_retiring,
            next_heartbeat_sweep: None,
            last_event_time: Timestamp::MIN,
        }
    }

    /// The first-occurrence time for a new series at `now`: never the same
    /// as an earlier series' of this Recorder (one microsecond later when
    /// the clock has not moved), so a stored Event with this series' exact
    /// `eventTime` can only be from its own create.
    pub(crate) fn event_time(&mut self, now: Timestamp) -> Timestamp {
        let next = self
            .last_event_time
            .checked_add(jiff::SignedDuration::from_micros(1))
            .unwrap_or(Timestamp::MAX);
        self.last_event_time = now.max(next);
        self.last_event_time
    }

    pub(crate) fn cached_len(&self) -> usize {
        self.cached.len()
    }

    /// The series cached under `hash` (its recency unchanged: see
    /// [`touch`](Self::touch)), or the retiring one, brought back into the
    /// cache at `now`. Borrowed: a repeat that only counts never touches
    /// the series' reference count.
    pub(crate) fn find(
        &mut self,
        hash: KeyHash,
        now: Timestamp,
        out: &mut Fallout,
    ) -> Option<&Entry> {
        // A hash is never both cached and retiring, and there are seldom
        // any retiring series: looking there first leaves one probe of the
        // cache on a hit.
        if let Some(entry) = self.retiring.pop(&hash) {
            {
                let mut st = entry.state();
                st.place = Place::Cached;
                st.placed = now.as_second();
            }
            self.make_room(out);
            self.cached.put(entry);
        }
        self.cached.get(hash)
    }

    /// Caches a new series (evicting the least recently used when full),
    /// listed when `list`: its first occurrence owes the create. A caller
    /// that awaits the create lists it only if the create does not go
    /// through (see `ClaimGuard`).
    pub(crate) fn insert(&mut self, entry: &Entry, st: &mut State, list: bool, out: &mut Fallout) {
        self.make_room(out);
        self.cached.put(entry.clone());
        if list {
            self.list(entry, st);
        }
    }

    /// Records a use at `now` of a cached series: whether it is to move to
    /// the recently used end (it was last moved there more than
    /// [`PLACED_WITHIN`] seconds ago); if so, the caller calls
    /// [`promote`](Self::promote) before it releases the cache lock.
    pub(crate) fn touch(st: &mut State, now: Timestamp) -> bool {
        let secs = now.as_second();
        let due = st.place == Place::Cached && secs > st.placed.saturating_add(PLACED_WITHIN);
        if due {
            st.placed = secs;
        }
        due
    }

    /// Moves the series cached under `hash` to the recently used end.
    pub(crate) fn promote(&mut self, hash: KeyHash) {
        self.cached.promote(hash);
    }

    /// Lists `entry` as dirty if it owes a write and is not listed yet.
    pub(crate) fn list(&mut self, entry: &Entry, st: &mut State) {
        if Self::to_list(st) {
            self.put_dirty(entry.clone());
        }
    }

    /// Whether a series that owes a write is to be listed as dirty; marks
    /// it listed if so, and the caller calls [`put_dirty`](Self::put_dirty)
    /// before it releases the cache lock.
    pub(crate) fn to_list(st: &mut State) -> bool {
        let due = st.owing() && !st.listed && st.place != Place::Gone;
        if due {
            st.listed = true;
        }
        due
    }

    /// Lists a series marked listed by [`to_list`](Self::to_list).
    pub(crate) fn put_dirty(&mut self, entry: Entry) {
        self.dirty.insert(entry.hash(), entry);
    }

    /// Removes `entry` from every map it is in, and abandons it for `why`.
    /// Returns the occurrences it had not written.
    pub(crate) fn forget(&mut self, entry: &Entry, why: Abandon) -> u32 {
        let hash = entry.hash();
        if self.cached.get(hash).is_some_and(|e| is(e, entry)) {
            self.cached.remove(hash);
        }
        if self.retiring.peek(&hash).is_some_and(|e| is(e, entry)) {
            self.retiring.pop(&hash);
        }
        self.unlist(entry);
        let mut st = entry.state();
        st.place = Place::Gone;
        st.listed = false;
        st.abandon(why)
    }

    fn unlist(&mut self, entry: &Entry) {
        let hash = entry.hash();
        if self.dirty.get(&hash).is_some_and(|e| is(e, entry)) {
            self.dirty.remove(&hash);
        }
    }

    fn make_room(&mut self, out: &mut Fallout) {
        while self.cached.len() >= self.max_cached {
            let Some(old) = self.cached.pop_oldest() else {
                break;
            };
            self.retire(old, out);
        }
    }

    /// A series leaves the cache: kept as retiring if it owes a write,
    /// forgotten otherwise.
    fn retire(&mut self, entry: Entry, out: &mut Fallout) {
        out.evicted = out.evicted.saturating_add(1);
        let mut st = entry.state();
        if !st.owing() {
            st.place = Place::Gone;
            st.listed = false;
            drop(st);
            self.unlist(&entry);
            return;
        }
        st.place = Place::Retiring;
        self.list(&entry, &mut st);
        drop(st);
        self.retiring.put(entry.hash(), entry);
        while self.retiring.len() > self.max_retiring {
            let Some((_, oldest)) = self.retiring.pop_lru() else {
                break;
            };
            let owed = self.forget(&oldest, Abandon::Overflow);
            out.overflowed.push((oldest, owed));
        }
    }

    /// Expires idle series, then returns those that need a write in `mode`
    /// at `now` (with the heartbeat's when its sweep is due), and forgets
    /// listed series found clean.
    pub(crate) fn collect(
        &mut self,
        mode: Mode,
        now: Timestamp,
        timing: &Timing,
        ttl: std::time::Duration,
        out: &mut Fallout,
    ) -> Vec<(Entry, Mode)> {
        if mode == Mode::Tick {
            while let Some(oldest) = self.cached.peek_oldest() {
                if now < later(oldest.state().last_observed.get(), ttl) {
                    break;
                }
                if let Some(old) = self.cached.pop_oldest() {
                    self.retire(old, out);
                }
            }
        }
        let mut due = Vec::new();
        let mut clean = Vec::new();
        for (hash, entry) in &self.dirty {
            let st = entry.state();
            if !st.owing() {
                clean.push(*hash);
            } else if decide(&st, mode, now, timing).is_some() {
                due.push((entry.clone(), mode));
            }
        }
        for hash in clean {
            let Some(entry) = self.dirty.remove(&hash) else {
                continue;
            };
            let mut st = entry.state();
            st.listed = false;
            if st.place == Place::Retiring {
                st.place = Place::Gone;
                drop(st);
                if self.retiring.peek(&hash).is_some_and(|e| is(e, &entry)) {
                    self.retiring.pop(&hash);
                }
            }
        }
        let sweep = mode == Mode::Tick && self.next_heartbeat_sweep.is_none_or(|t| now >= t);
        if sweep {
            self.next_heartbeat_sweep = Some(later(now, timing.heartbeat / 2));
            for entry in self.cached.iter() {
                let st = entry.state();
                if !st.listed && decide(&st, Mode::Heartbeat, now, timing).is_some() {
                    due.push((entry.clone(), Mode::Heartbeat));
                }
            }
        }
        due
    }

    /// Every series that still owes a write, as it would be written.
    pub(crate) fn unwritten(&self, id: &Identity<'_>) -> Vec<EventRecord> {
        self.cached
            .iter()
            .chain(self.retiring.iter().map(|(_, entry)| entry))
            .filter_map(|entry| {
                let st = entry.state();
                st.owing().then(|| entry.record(&st, id))
            })
            .collect()
    }

    /// How many series are kept, cached or retiring, and listed.
    #[cfg(test)]
    pub(crate) fn sizes(&self) -> (usize, usize, usize) {
        (self.cached.len(), self.retiring.len(), self.dirty.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::NotePolicy;
    use crate::recorder::body::{NewBody, encode, key_hash, values};
    use crate::recorder::state::Lifecycle;
    use crate::{Event, ObjectRef};

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    fn entry(i: u64) -> Entry {
        let pod = ObjectRef::new("v1", "Pod", format!("p{i}"));
        let e = Event::normal("R", "A");
        let values = values(&e, None, &pod);
        let mut key = Vec::new();
        encode(&mut key, e.type_, &values, NotePolicy::Ignore);
        let body = NewBody::new(&key, &e, &values, NotePolicy::Ignore);
        Entry::new(body, key_hash(&key), t(0))
    }

    fn insert(cache: &mut Cache, e: &Entry, out: &mut Fallout) {
        let mut st = e.state();
        cache.insert(e, &mut st, true, out);
    }

    #[test]
    fn owing_series_retire_within_a_bound_and_come_back() {
        let mut cache = Cache::new(2, 2);
        let mut out = Fallout::default();
        let entries: Vec<_> = (0..6).map(entry).collect();
        for e in &entries {
            insert(&mut cache, e, &mut out);
        }
        // Two cached, two retiring (they owe their create), two abandoned.
        assert_eq!(cache.sizes(), (2, 2, 4));
        assert_eq!(out.evicted, 4);
        assert_eq!(out.overflowed.len(), 2);
        assert!(out.overflowed.iter().all(|(_, owed)| *owed == 1));
        assert_eq!(
            entries[0].state().life,
            Lifecycle::Abandoned(Abandon::Overflow)
        );
        // A retiring series is found again, and comes back into the cache.
        let mut out = Fallout::default();
        let found = cache
            .find(entries[2].hash(), t(0), &mut out)
            .unwrap()
            .clone();
        assert!(Entry::same(&found, &entries[2]));
        assert_eq!(found.state().place, Place::Cached);
        assert_eq!(cache.sizes(), (2, 2, 4));
        assert_eq!(out.evicted, 1);
    }

    #[test]
    fn a_use_moves_a_series_to_the_recently_used_end_once_a_second() {
        // (when the least recently placed series is used, which one the
        // next insert evicts)
        for (used_at, evicted) in [(PLACED_WITHIN + 1, 1), (PLACED_WITHIN, 0)] {
            let mut cache = Cache::new(2, 4);
            let mut out = Fallout::default();
            let entries = [entry(1), entry(2), entry(3)];
            insert(&mut cache, &entries[0], &mut out);
            insert(&mut cache, &entries[1], &mut out);
            let moved = Cache::touch(&mut entries[0].state(), t(used_at));
            assert_eq!(moved, evicted == 1, "used at {used_at} s");
            if moved {
                cache.promote(entries[0].hash());
            }
            insert(&mut cache, &entries[2], &mut out);
            assert_eq!(out.evicted, 1);
            // Evicted owing its create: retiring, not cached.
            assert_eq!(entries[evicted].state().place, Place::Retiring);
            assert_eq!(entries[1 - evicted].state().place, Place::Cached);
        }
    }

    #[test]
    fn clean_series_leave_every_map() {
        let timing = Timing {
            flush_interval: std::time::Duration::from_secs(10),
            heartbeat: std::time::Duration::from_secs(1800),
        };
        let mut cache = Cache::new(1, 4);
        let mut out = Fallout::default();
        let (a, b) = (entry(1), entry(2));
        insert(&mut cache, &a, &mut out);
        a.state().life = Lifecycle::Live { written: 1 };
        insert(&mut cache, &b, &mut out);
        // `a` was clean when it left: gone, and unlisted by the next collect.
        assert_eq!(a.state().place, Place::Gone);
        let due = cache.collect(
            Mode::Tick,
            t(0),
            &timing,
            std::time::Duration::MAX,
            &mut out,
        );
        assert_eq!(due.len(), 1, "only b owes its create");
        assert_eq!(cache.sizes(), (1, 0, 1));
        assert!(cache.find(a.hash(), t(0), &mut out).is_none());
    }
}
