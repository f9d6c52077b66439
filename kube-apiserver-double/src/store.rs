//! The object store: every kind in one map, one resource-version counter,
//! a bounded change history for watches, and the event TTL.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use event_core::Clock;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::events::to_core;
use super::resources::{Kind, View};
use super::selector::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::table::{IncludeObject, table};

/// Changes kept for watches that resume from a resource version.
const HISTORY_LIMIT: usize = 8192;
/// Watch events buffered per watcher before it is closed as too slow.
const WATCH_BUFFER: usize = 4096;

/// `(namespace, name)`; the namespace is empty for cluster-scoped kinds.
pub(crate) type ObjKey = (String, String);

#[derive(Clone, Debug)]
struct Entry {
    value: Value,
    expires: Option<Timestamp>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChangeType {
    Added,
    Modified,
    Deleted,
}

#[derive(Clone, Debug)]
struct Change {
    rv: u64,
    kind: Kind,
    type_: ChangeType,
    old: Option<Value>,
    new: Value,
}

/// What a watch streams: kind, view and filters.
#[derive(Clone, Debug)]
pub(crate) struct WatchFilter {
    pub(crate) kind: Kind,
    pub(crate) view: View,
    pub(crate) namespace: Option<String>,
    pub(crate) fields: FieldSelector,
    pub(crate) labels: LabelSelector,
    /// Send each object as a one-row `Table` (`kubectl get -w`).
    pub(crate) table: Option<TableMode>,
}

/// How a watch renders objects as tables.
#[derive(Clone, Debug)]
pub(crate) struct TableMode {
    /// `meta.k8s.io/v1` or `meta.k8s.io/v1beta1`.
    pub(crate) api_version: String,
    pub(crate) include: IncludeObject,
}

impl WatchFilter {
    fn selects(&self, obj: &Value) -> bool {
        if let Some(ns) = &self.namespace
            && obj.pointer("/metadata/namespace").and_then(Value::as_str) != Some(ns.as_str())
        {
            return false;
        }
        self.fields.matches(&self.kind, self.view, obj) && self.labels.matches(obj)
    }

    /// The watch line for one object.
    fn object_line(&self, type_: &str, stored: &Value, now: Timestamp) -> Bytes {
        match &self.table {
            None => watch_line(type_, &render(&self.kind, self.view, stored)),
            Some(mode) => {
                let rv = stored
                    .pointer("/metadata/resourceVersion")
                    .cloned()
                    .unwrap_or(Value::Null);
                let t = table(
                    &self.kind,
                    self.view,
                    &mode.api_version,
                    std::slice::from_ref(stored),
                    now,
                    &json!({"resourceVersion": rv}),
                    mode.include,
                );
                watch_line(type_, &t)
            }
        }
    }

    /// The watch line for a change, if this filter sees it.
    fn line(&self, change: &Change, now: Timestamp) -> Option<Bytes> {
        if change.kind != self.kind {
            return None;
        }
        let was = change.old.as_ref().is_some_and(|o| self.selects(o));
        let is = self.selects(&change.new);
        let type_ = match (change.type_, was, is) {
            (ChangeType::Added, _, true) | (ChangeType::Modified, false, true) => "ADDED",
            (ChangeType::Modified, true, true) => "MODIFIED",
            (ChangeType::Modified, true, false) => "DELETED",
            (ChangeType::Deleted, true, _) => "DELETED",
            _ => return None,
        };
        Some(self.object_line(type_, &change.new, now))
    }
}

/// One newline-terminated watch event.
pub(crate) fn watch_line(type_: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": type_, "object": object}).to_string();
    line.push('\n');
    Bytes::from(line)
}

/// A stored object as seen through `view`.
pub(crate) fn render(kind: &Kind, view: View, stored: &Value) -> Value {
    match kind {
        Kind::Event if view == View::Core => to_core(stored),
        // A custom object is shown in the version it is asked for.
        Kind::Custom(_) => {
            let mut v = stored.clone();
            if let Some(o) = v.as_object_mut() {
                o.insert("apiVersion".to_owned(), json!(kind.api_version_in(view)));
            }
            v
        }
        _ => stored.clone(),
    }
}

struct Watcher {
    filter: WatchFilter,
    tx: mpsc::Sender<Bytes>,
    /// Asked for periodic bookmarks (`allowWatchBookmarks=true`).
    bookmarks: bool,
}

/// The object of a `BOOKMARK` watch event: only the kind and the resource
/// version the watcher has been brought to, plus `annotations`.
pub(crate) fn bookmark_object(
    kind: &Kind,
    view: View,
    rv: u64,
    annotations: Option<Value>,
) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let (Some(annotations), Some(m)) = (annotations, metadata.as_object_mut()) {
        m.insert("annotations".to_owned(), annotations);
    }
    json!({
        "kind": kind.kind(),
        "apiVersion": kind.api_version_in(view),
        "metadata": metadata,
    })
}

/// The start of a watch: lines to send first, then the live feed.
pub(crate) struct WatchStart {
    pub(crate) initial: Vec<Bytes>,
    pub(crate) rx: mpsc::Receiver<Bytes>,
    /// The resource version the initial lines bring the watcher to.
    pub(crate) rv: u64,
}

#[derive(Default)]
struct State {
    rv: u64,
    objects: BTreeMap<Kind, BTreeMap<ObjKey, Entry>>,
    history: VecDeque<Change>,
    /// Highest resource version no longer in `history`.
    compacted: u64,
    watchers: Vec<Watcher>,
    next_expiry: Option<Timestamp>,
    /// The clock's time when the lock was taken.
    now: Timestamp,
}

impl State {
    fn bump(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    fn record(&mut self, change: Change) {
        let now = self.now;
        self.watchers.retain(|w| match w.filter.line(&change, now) {
            Some(line) => w.tx.try_send(line).is_ok(),
            None => !w.tx.is_closed(),
        });
        if self.history.len() >= HISTORY_LIMIT
            && let Some(old) = self.history.pop_front()
        {
            self.compacted = old.rv;
        }
        self.history.push_back(change);
    }

    fn purge(&mut self, now: Timestamp) -> usize {
        match self.next_expiry {
            Some(t) if t <= now => {}
            _ => return 0,
        }
        let due = |st: &State, kind: &Kind| -> Vec<ObjKey> {
            st.objects
                .get(kind)
                .map(|m| {
                    m.iter()
                        .filter(|(_, e)| e.expires.is_some_and(|t| t <= now))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let expired = due(self, &Kind::Event);
        for key in &expired {
            self.remove(&Kind::Event, key);
        }
        for (_, name) in due(self, &Kind::Namespace) {
            self.finalize_namespace(&name);
        }
        self.next_expiry = [Kind::Event, Kind::Namespace]
            .iter()
            .filter_map(|k| self.objects.get(k))
            .flat_map(|m| m.values().filter_map(|e| e.expires))
            .min();
        expired.len()
    }

    /// What the namespace controller does once a deleted namespace's
    /// contents are gone: removes them, then the namespace.
    fn finalize_namespace(&mut self, name: &str) -> Option<Value> {
        let kinds: Vec<Kind> = self
            .objects
            .keys()
            .filter(|k| k.namespaced())
            .cloned()
            .collect();
        for k in kinds {
            let keys: Vec<ObjKey> = self
                .objects
                .get(&k)
                .map(|m| m.keys().filter(|(ns, _)| ns == name).cloned().collect())
                .unwrap_or_default();
            for key in keys {
                self.remove(&k, &key);
            }
        }
        self.remove(&Kind::Namespace, &(String::new(), name.to_owned()))
    }

    fn remove(&mut self, kind: &Kind, key: &ObjKey) -> Option<Value> {
        let entry = self.objects.get_mut(kind)?.remove(key)?;
        let rv = self.bump();
        let mut gone = entry.value;
        set_meta(&mut gone, "resourceVersion", json!(rv.to_string()));
        self.record(Change {
            rv,
            kind: kind.clone(),
            type_: ChangeType::Deleted,
            old: Some(gone.clone()),
            new: gone.clone(),
        });
        Some(gone)
    }
}

/// Marks a namespace as being deleted at `now`, as a real server does on
/// its DELETE.
fn mark_terminating(ns: &mut Value, now: Timestamp) {
    set_meta(ns, "deletionTimestamp", json!(format_time(now)));
    ns["spec"] = json!({"finalizers": ["kubernetes"]});
    ns["status"] = json!({"phase": "Terminating"});
}

/// A namespace's phase follows its deletion, whatever an update says: a
/// namespace being deleted keeps its status and finalizers, and one that
/// is not may not say it is terminating.
fn keep_namespace_lifecycle(current: &Value, new: &mut Value, name: &str) -> Result<(), ApiError> {
    if current.pointer("/metadata/deletionTimestamp").is_some() {
        for part in ["status", "spec"] {
            if let Some(v) = current.get(part) {
                new[part] = v.clone();
            }
        }
        return Ok(());
    }
    let phase = new.pointer("/status/phase").and_then(Value::as_str);
    if phase.is_some_and(|p| p != "Active") {
        let value = super::status::quote(phase.unwrap_or_default());
        let error = super::status::FieldError::invalid(
            "status.phase",
            &value,
            "may only be 'Active' if `deletionTimestamp` is empty",
        );
        return Err(ApiError::invalid("Namespace", "", name, &[error]));
    }
    Ok(())
}

fn set_meta(obj: &mut Value, key: &str, value: Value) {
    if let Some(o) = obj.as_object_mut() {
        let meta = o.entry("metadata").or_insert_with(|| json!({}));
        if let Some(m) = meta.as_object_mut() {
            m.insert(key.to_owned(), value);
        }
    }
}

fn meta_str<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A random version-4 UUID.
fn new_uid() -> String {
    let hi = fastrand::u64(..);
    let lo = fastrand::u64(..);
    let hi = (hi & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// A `Time` (seconds) string.
pub(crate) fn format_time(t: Timestamp) -> String {
    jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%SZ", t).unwrap_or_default()
}

/// A `MicroTime` string.
pub(crate) fn format_micro_time(t: Timestamp) -> String {
    event_core::clock::format_micro_time(event_core::clock::truncate_to_micros(t))
}

/// The store shared by the server and its handle.
pub(crate) struct Store {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    event_ttl: Duration,
    /// How long a deleted namespace stays `Terminating` before it and its
    /// contents are removed.
    namespace_termination: Duration,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("event_ttl", &self.event_ttl)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub(crate) fn new(clock: Arc<dyn Clock>, event_ttl: Duration) -> Store {
        Store {
            state: Mutex::new(State::default()),
            clock,
            event_ttl,
            namespace_termination: Duration::ZERO,
        }
    }

    /// Deleted namespaces stay `Terminating` for `for_` before they and
    /// their contents are removed (at once when zero).
    pub(crate) fn namespace_termination(mut self, for_: Duration) -> Store {
        self.namespace_termination = for_;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        let mut guard = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.clock.now();
        guard.now = now;
        guard.purge(now);
        guard
    }

    /// The current time of the server's clock.
    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn expiry(&self, kind: &Kind) -> Option<Timestamp> {
        if *kind != Kind::Event {
            return None;
        }
        let ttl =
            jiff::SignedDuration::try_from(self.event_ttl).unwrap_or(jiff::SignedDuration::MAX);
        Some(self.clock.now().checked_add(ttl).unwrap_or(Timestamp::MAX))
    }

    /// Objects of a kind (optionally in one namespace) and the list's resource version.
    pub(crate) fn list(&self, kind: &Kind, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let st = self.lock();
        let items = st
            .objects
            .get(kind)
            .map(|m| {
                m.iter()
                    .filter(|((ns, _), _)| namespace.is_none_or(|want| want == ns))
                    .map(|(_, e)| e.value.clone())
                    .collect()
            })
            .unwrap_or_default();
        (items, st.rv)
    }

    /// One object.
    pub(crate) fn get(&self, kind: &Kind, namespace: &str, name: &str) -> Option<Value> {
        let st = self.lock();
        st.objects
            .get(kind)?
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|e| e.value.clone())
    }

    /// Stores a new object; assigns uid, resourceVersion and creationTimestamp.
    /// A dry run checks and answers the same but stores nothing.
    pub(crate) fn create(
        &self,
        kind: &Kind,
        group: &str,
        mut obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let key = (
            meta_str(&obj, "namespace").to_owned(),
            meta_str(&obj, "name").to_owned(),
        );
        let expires = self.expiry(kind);
        let now = self.now();
        let mut st = self.lock();
        let exists = st.objects.get(kind).is_some_and(|m| m.contains_key(&key));
        if exists {
            return Err(ApiError::already_exists(kind.plural(), group, &key.1));
        }
        if dry_run {
            set_meta(&mut obj, "uid", json!(new_uid()));
            set_meta(&mut obj, "creationTimestamp", json!(format_time(now)));
            return Ok(obj);
        }
        let rv = st.bump();
        set_meta(&mut obj, "uid", json!(new_uid()));
        set_meta(&mut obj, "resourceVersion", json!(rv.to_string()));
        set_meta(&mut obj, "creationTimestamp", json!(format_time(now)));
        if let Some(o) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            o.remove("deletionTimestamp");
            o.remove("managedFields");
        }
        st.objects.entry(kind.clone()).or_default().insert(
            key,
            Entry {
                value: obj.clone(),
                expires,
            },
        );
        if let Some(t) = expires {
            st.next_expiry = Some(st.next_expiry.map_or(t, |n| n.min(t)));
        }
        st.record(Change {
            rv,
            kind: kind.clone(),
            type_: ChangeType::Added,
            old: None,
            new: obj.clone(),
        });
        Ok(obj)
    }

    /// Replaces an object with what `f` makes of the current one. A
    /// `resourceVersion` in the result must match the stored one. A dry run
    /// checks and answers the same but stores nothing.
    pub(crate) fn update(
        &self,
        kind: &Kind,
        group: &str,
        (namespace, name): (&str, &str),
        dry_run: bool,
        f: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Value, ApiError> {
        let key = (namespace.to_owned(), name.to_owned());
        let mut st = self.lock();
        let Some((current, kept_until)) = st
            .objects
            .get(kind)
            .and_then(|m| m.get(&key))
            .map(|e| (e.value.clone(), e.expires))
        else {
            return Err(ApiError::not_found(kind.plural(), group, name));
        };
        // An event lives for its TTL after its last write; anything else
        // keeps its deadline (a namespace being deleted, its removal).
        let expires = if *kind == Kind::Event {
            self.expiry(kind)
        } else {
            kept_until
        };
        let mut new = f(&current)?;
        let wanted_rv = meta_str(&new, "resourceVersion");
        if !wanted_rv.is_empty() && wanted_rv != meta_str(&current, "resourceVersion") {
            return Err(ApiError::conflict(kind.plural(), group, name));
        }
        if let Some(o) = new.get_mut("metadata").and_then(Value::as_object_mut) {
            // Set by the server only: kept as they are, or left unset.
            o.remove("managedFields");
            o.remove("deletionTimestamp");
        }
        for k in [
            "uid",
            "creationTimestamp",
            "name",
            "namespace",
            "deletionTimestamp",
            "resourceVersion",
        ] {
            if let Some(v) = current.get("metadata").and_then(|m| m.get(k)) {
                set_meta(&mut new, k, v.clone());
            }
        }
        if *kind == Kind::Namespace {
            keep_namespace_lifecycle(&current, &mut new, name)?;
        }
        // A write that changes nothing is not made, as etcd's store skips
        // it: no new version, no watch event, no longer life for an event.
        if dry_run || new == current {
            return Ok(new);
        }
        let rv = st.bump();
        set_meta(&mut new, "resourceVersion", json!(rv.to_string()));
        if let Some(m) = st.objects.get_mut(kind) {
            m.insert(
                key,
                Entry {
                    value: new.clone(),
                    expires,
                },
            );
        }
        if let Some(t) = expires {
            st.next_expiry = Some(st.next_expiry.map_or(t, |n| n.min(t)));
        }
        st.record(Change {
            rv,
            kind: kind.clone(),
            type_: ChangeType::Modified,
            old: Some(current),
            new: new.clone(),
        });
        Ok(new)
    }

    /// Deletes an object. A namespace is first marked for deletion (its
    /// `deletionTimestamp` set, its phase `Terminating`, which refuses new
    /// content), and removed with its contents once the namespace
    /// termination time has passed, as a real server's namespace
    /// controller does. A dry run answers the same but deletes nothing.
    pub(crate) fn delete(
        &self,
        kind: &Kind,
        group: &str,
        (namespace, name): (&str, &str),
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let now = self.now();
        let mut st = self.lock();
        let key = (namespace.to_owned(), name.to_owned());
        let terminates = *kind == Kind::Namespace && !self.namespace_termination.is_zero();
        let current = st.objects.get(kind).and_then(|m| m.get(&key));
        if terminates && current.is_some_and(|e| e.expires.is_some()) {
            return Err(ApiError::namespace_being_removed(name));
        }
        if dry_run {
            let mut v = current
                .map(|e| e.value.clone())
                .ok_or_else(|| ApiError::not_found(kind.plural(), group, name))?;
            if terminates {
                mark_terminating(&mut v, now);
            }
            return Ok(v);
        }
        if *kind != Kind::Namespace {
            return st
                .remove(kind, &key)
                .ok_or_else(|| ApiError::not_found(kind.plural(), group, name));
        }
        if self.namespace_termination.is_zero() {
            return st
                .finalize_namespace(name)
                .ok_or_else(|| ApiError::not_found(kind.plural(), group, name));
        }
        let termination = jiff::SignedDuration::try_from(self.namespace_termination)
            .unwrap_or(jiff::SignedDuration::MAX);
        let finalize_at = now.checked_add(termination).unwrap_or(Timestamp::MAX);
        let rv = st.rv + 1;
        let entry = st
            .objects
            .get_mut(kind)
            .and_then(|m| m.get_mut(&key))
            .ok_or_else(|| ApiError::not_found(kind.plural(), group, name))?;
        let old = entry.value.clone();
        entry.expires = Some(finalize_at);
        let ns = &mut entry.value;
        mark_terminating(ns, now);
        set_meta(ns, "resourceVersion", json!(rv.to_string()));
        let new = ns.clone();
        st.bump();
        st.next_expiry = Some(st.next_expiry.map_or(finalize_at, |n| n.min(finalize_at)));
        st.record(Change {
            rv,
            kind: kind.clone(),
            type_: ChangeType::Modified,
            old: Some(old),
            new: new.clone(),
        });
        Ok(new)
    }

    /// Removes every object of `kind` (its definition is gone); returns how
    /// many there were.
    pub(crate) fn remove_kind(&self, kind: &Kind) -> usize {
        let mut st = self.lock();
        let keys: Vec<ObjKey> = st
            .objects
            .get(kind)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for key in &keys {
            st.remove(kind, key);
        }
        keys.len()
    }

    /// Removes every stored event now, as if their TTL had passed.
    pub(crate) fn expire_events(&self) -> usize {
        let mut st = self.lock();
        let keys: Vec<ObjKey> = st
            .objects
            .get(&Kind::Event)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for key in &keys {
            st.remove(&Kind::Event, key);
        }
        // Namespaces being deleted keep their deadlines.
        st.next_expiry = st
            .objects
            .get(&Kind::Namespace)
            .and_then(|m| m.values().filter_map(|e| e.expires).min());
        keys.len()
    }

    /// Sends each watch that asked for bookmarks a `BOOKMARK` at the current
    /// resource version. Under the lock, so it follows every change already
    /// sent to the watch and precedes every later one; a watch whose buffer
    /// is full skips it.
    pub(crate) fn send_bookmarks(&self) {
        let st = self.lock();
        for w in st.watchers.iter().filter(|w| w.bookmarks) {
            let object = bookmark_object(&w.filter.kind, w.filter.view, st.rv, None);
            let _ = w.tx.try_send(watch_line("BOOKMARK", &object));
        }
    }

    /// Starts a watch. Without a resource version (or with "0") it begins
    /// with an ADDED line for every current object.
    pub(crate) fn watch(
        &self,
        filter: WatchFilter,
        since: Option<u64>,
        bookmarks: bool,
    ) -> Result<WatchStart, ApiError> {
        let (tx, rx) = mpsc::channel(WATCH_BUFFER);
        let mut st = self.lock();
        let mut initial = Vec::new();
        match since {
            None | Some(0) => {
                if let Some(m) = st.objects.get(&filter.kind) {
                    for e in m.values() {
                        if filter.selects(&e.value) {
                            initial.push(filter.object_line("ADDED", &e.value, st.now));
                        }
                    }
                }
            }
            Some(rv) => {
                if rv < st.compacted {
                    return Err(ApiError::gone(&rv.to_string()));
                }
                for change in st.history.iter().filter(|c| c.rv > rv) {
                    if let Some(line) = filter.line(change, st.now) {
                        initial.push(line);
                    }
                }
            }
        }
        // Bookmarks are JSON watch events; a watch of tables gets none.
        let bookmarks = bookmarks && filter.table.is_none();
        st.watchers.push(Watcher {
            filter,
            tx,
            bookmarks,
        });
        Ok(WatchStart {
            initial,
            rx,
            rv: st.rv,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed(Mutex<Timestamp>);
    impl Clock for Fixed {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
    }

    fn store() -> (Arc<Fixed>, Store) {
        let clock = Arc::new(Fixed(Mutex::new(
            Timestamp::from_second(1_700_000_000).unwrap(),
        )));
        (clock.clone(), Store::new(clock, Duration::from_secs(3600)))
    }

    fn ev(name: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "ns"}})
    }

    #[test]
    fn uids_are_uuids() {
        let u = new_uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }

    #[test]
    fn ttl_is_reset_by_writes_and_expires() {
        let (clock, s) = store();
        s.create(&Kind::Event, "events.k8s.io", ev("a"), false)
            .unwrap();
        s.create(&Kind::Event, "events.k8s.io", ev("b"), false)
            .unwrap();
        *clock.0.lock().unwrap() = Timestamp::from_second(1_700_003_000).unwrap();
        // A write that changes nothing is not made: no new version, and
        // the event's life is not extended.
        let same = s
            .update(&Kind::Event, "", ("ns", "a"), false, |v| Ok(v.clone()))
            .unwrap();
        assert_eq!(Some(&same), s.get(&Kind::Event, "ns", "a").as_ref());
        let rv = |s: &Store| s.list(&Kind::Event, None).1;
        let before = rv(&s);
        s.update(&Kind::Event, "", ("ns", "b"), false, |v| {
            let mut v = v.clone();
            v["note"] = json!("changed");
            Ok(v)
        })
        .unwrap();
        assert_eq!(rv(&s), before + 1);
        *clock.0.lock().unwrap() = Timestamp::from_second(1_700_003_600).unwrap();
        assert!(s.get(&Kind::Event, "ns", "a").is_none());
        assert!(s.get(&Kind::Event, "ns", "b").is_some());
        assert_eq!(s.expire_events(), 1);
        assert_eq!(s.list(&Kind::Event, None).0.len(), 0);
    }

    #[test]
    fn duplicates_and_conflicts() {
        let (_, s) = store();
        s.create(&Kind::ConfigMap, "", ev("a"), false).unwrap();
        assert_eq!(
            s.create(&Kind::ConfigMap, "", ev("a"), false)
                .unwrap_err()
                .code,
            409
        );
        let stale = s
            .update(&Kind::ConfigMap, "", ("ns", "a"), false, |v| {
                let mut v = v.clone();
                v["metadata"]["resourceVersion"] = json!("999");
                Ok(v)
            })
            .unwrap_err();
        assert_eq!(stale.reason, "Conflict");
        assert_eq!(
            s.delete(&Kind::ConfigMap, "", ("ns", "zz"), false)
                .unwrap_err()
                .code,
            404
        );
    }

    #[test]
    fn watch_replays_from_a_version() {
        let (_, s) = store();
        let a = s.create(&Kind::ConfigMap, "", ev("a"), false).unwrap();
        let rv: u64 = a["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        s.create(&Kind::ConfigMap, "", ev("b"), false).unwrap();
        let filter = WatchFilter {
            kind: Kind::ConfigMap,
            view: View::Core,
            namespace: None,
            fields: FieldSelector::default(),
            labels: LabelSelector::default(),
            table: None,
        };
        let mut w = s.watch(filter, Some(rv), false).unwrap();
        assert_eq!(w.initial.len(), 1);
        s.delete(&Kind::ConfigMap, "", ("ns", "a"), false).unwrap();
        let line = w.rx.try_recv().unwrap();
        assert!(std::str::from_utf8(&line).unwrap().contains("\"DELETED\""));
    }
}
