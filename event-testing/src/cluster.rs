//! [`ClusterEvents`]: the expectations of [`expect`](crate::expect) against
//! the Events a Kubernetes API server holds (a cluster, or the local API
//! double), watched as they arrive.
//!
//! The handle lists and watches `events.k8s.io/v1` Events with
//! `kube::runtime`'s watcher and keeps them in a reflector's store; each
//! change the watch brings wakes the waits, so a wait ends as soon as the
//! cluster holds a matching Event, and at the latest at its timeout. Nothing
//! polls.

use std::borrow::Borrow;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use event_core::sink::EventRecord;

use event_core::ObjectRef;

use event_core::key::RefKey;
use event_kube::event_record;
use futures::StreamExt;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use kube::{Api, Client};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::describe::{describe_records, grouped};
use crate::expect::Expectation;

/// How long [`ClusterEvents::wait_for`] and
/// [`ClusterEvents::assert_emitted`] wait, unless set with
/// [`ClusterEventsBuilder::timeout`].
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// How long [`ClusterEvents::assert_not_emitted`] watches for a match,
/// unless set with [`ClusterEventsBuilder::window`].
pub const DEFAULT_QUIET_WINDOW: Duration = Duration::from_secs(5);

/// Why a wait on a [`ClusterEvents`] failed. The messages read like the
/// failed assertions of a [`MemorySink`](crate::MemorySink): the
/// expectation, then what the cluster holds as `kubectl describe` Events
/// tables.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterError {
    /// [`ClusterEventsBuilder::start`] was called outside a tokio runtime.
    NoRuntime,
    /// No Event matched before the timeout (or the watch had not finished
    /// its first list by then).
    TimedOut {
        /// The expectation, what was seen, and the last watch error if any.
        message: String,
    },
    /// An Event matched within a window that should have had none.
    Matched {
        /// The expectation, the matching Events and the others.
        message: String,
    },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRuntime => f.write_str(
                "ClusterEvents must be started within a tokio runtime (it spawns its watch)",
            ),
            Self::TimedOut { message } | Self::Matched { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for ClusterError {}

/// Settings of a [`ClusterEvents`]; from [`ClusterEvents::builder`].
#[derive(Clone)]
pub struct ClusterEventsBuilder {
    client: Client,
    namespace: Option<String>,
    labels: Option<String>,
    fields: Option<String>,
    timeout: Duration,
    window: Duration,
}

impl fmt::Debug for ClusterEventsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterEventsBuilder")
            .field("namespace", &self.namespace)
            .field("labels", &self.labels)
            .field("fields", &self.fields)
            .field("timeout", &self.timeout)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl ClusterEventsBuilder {
    /// Watch only this namespace (default: all namespaces, which needs
    /// `list` and `watch` on events cluster-wide).
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into());
        self
    }

    /// Watch only Events whose labels match this label selector
    /// (`app=shop,tier!=db`).
    #[must_use]
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.labels = Some(selector.into());
        self
    }

    /// Watch only Events whose fields match this field selector, in the
    /// `events.k8s.io/v1` names (`regarding.name=web-0,type=Warning`).
    #[must_use]
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.fields = Some(selector.into());
        self
    }

    /// How long [`ClusterEvents::wait_for`] and
    /// [`ClusterEvents::assert_emitted`] wait ([`DEFAULT_WAIT_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`ClusterEvents::assert_not_emitted`] watches
    /// ([`DEFAULT_QUIET_WINDOW`]).
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Starts the watch on the current tokio runtime. It runs until the
    /// handle is dropped; list and watch failures are retried with backoff
    /// (and the last one is shown by a failed wait).
    ///
    /// # Errors
    ///
    /// [`ClusterError::NoRuntime`] outside a tokio runtime.
    pub fn start(self) -> Result<ClusterEvents, ClusterError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ClusterError::NoRuntime)?;
        let api: Api<K8sEvent> = match &self.namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        };
        let mut config = watcher::Config::default();
        if let Some(labels) = &self.labels {
            config = config.labels(labels);
        }
        if let Some(fields) = &self.fields {
            config = config.fields(fields);
        }
        let (store, writer) = reflector::store();
        let (changes_tx, changes) = watch::channel(0_u64);
        let last_error = Arc::new(Mutex::new(None));
        let stream = reflector(writer, watcher(api, config)).default_backoff();
        let errors = Arc::clone(&last_error);
        let task = runtime.spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                if let Err(e) = item {
                    *errors.lock().unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
                }
                // The reflector has applied the change to the store: wake
                // the waits so they look again.
                changes_tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        });
        Ok(ClusterEvents {
            store,
            changes,
            last_error,
            scope: self.scope(),
            timeout: self.timeout,
            window: self.window,
            task,
        })
    }

    fn scope(&self) -> String {
        let mut scope = match &self.namespace {
            Some(ns) => format!("namespace {ns}"),
            None => "all namespaces".to_owned(),
        };
        if let Some(labels) = &self.labels {
            scope.push_str(&format!(", labels {labels}"));
        }
        if let Some(fields) = &self.fields {
            scope.push_str(&format!(", fields {fields}"));
        }
        scope
    }
}

/// The Events of a cluster (or of the API double), watched and kept in a
/// local store, checked against the same [`Expectation`]s as a
/// [`MemorySink`](crate::MemorySink), with the same calls:
///
/// | in a unit test | against a cluster |
/// | --- | --- |
/// | `sink.assert_emitted(&e)` | `events.assert_emitted(&e).await` (waits up to the timeout) |
/// | `sink.assert_not_emitted(&e)` | `events.assert_not_emitted(&e).await` (watches for the window) |
/// | `sink.matching(&e)` | `events.matching(&e)` (what the watch has seen) |
/// | `sink.describe(&object)` | `events.describe(&object)` |
///
/// [`wait_for`](Self::wait_for) and [`none_within`](Self::none_within)
/// return the failure as a [`ClusterError`] instead of panicking. Stored
/// Events are read back into [`EventRecord`]s with
/// [`event_kube::event_record`], so a record looks the same whichever sink
/// wrote it. Series counts on a server change at most once per flush
/// interval of the writer, and a wait looks at the state after each batch
/// of watch changes, so a count may pass a value unseen: wait for
/// [`count_at_least`](Expectation::count_at_least), or for an exact
/// [`count`](Expectation::count) only when it is the final one.
///
/// The watch stops when the handle is dropped. It needs `list` and `watch`
/// on `events` in `events.k8s.io`.
///
/// # Example
///
/// ```no_run
/// use event_core::ObjectRef;
/// use event_testing::{ClusterEvents, expect};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let events = ClusterEvents::namespaced(kube::Client::try_default().await?, "shop")?;
/// let settings = ObjectRef::new("v1", "ConfigMap", "settings").within("shop");
/// // ... start the controller under test ...
/// events.assert_emitted(expect::normal("Synced").regarding(&settings)).await;
/// events.assert_not_emitted(expect::warning("SyncFailed").regarding(&settings)).await;
/// # Ok(()) }
/// ```
pub struct ClusterEvents {
    store: reflector::Store<K8sEvent>,
    /// Bumped after every item of the watch.
    changes: watch::Receiver<u64>,
    last_error: Arc<Mutex<Option<String>>>,
    /// What is watched, in words.
    scope: String,
    timeout: Duration,
    window: Duration,
    task: JoinHandle<()>,
}

impl fmt::Debug for ClusterEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterEvents")
            .field("scope", &self.scope)
            .field("events", &self.store.len())
            .field("timeout", &self.timeout)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Drop for ClusterEvents {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ClusterEvents {
    /// Settings for a handle over `client`: all namespaces unless narrowed,
    /// [`DEFAULT_WAIT_TIMEOUT`], [`DEFAULT_QUIET_WINDOW`].
    pub fn builder(client: Client) -> ClusterEventsBuilder {
        ClusterEventsBuilder {
            client,
            namespace: None,
            labels: None,
            fields: None,
            timeout: DEFAULT_WAIT_TIMEOUT,
            window: DEFAULT_QUIET_WINDOW,
        }
    }

    /// Watches the Events of one namespace.
    ///
    /// # Errors
    ///
    /// [`ClusterError::NoRuntime`] outside a tokio runtime.
    pub fn namespaced(client: Client, namespace: &str) -> Result<Self, ClusterError> {
        Self::builder(client).namespace(namespace).start()
    }

    /// Watches the Events of every namespace.
    ///
    /// # Errors
    ///
    /// [`ClusterError::NoRuntime`] outside a tokio runtime.
    pub fn all(client: Client) -> Result<Self, ClusterError> {
        Self::builder(client).start()
    }

    /// Every Event the watch has seen and the cluster still holds, oldest
    /// first (by event time, then namespace and name).
    pub fn events(&self) -> Vec<EventRecord> {
        let mut records: Vec<EventRecord> =
            self.store.state().iter().map(|e| event_record(e)).collect();
        records.sort_by(|a, b| {
            (a.event_time, &a.namespace, &a.name).cmp(&(b.event_time, &b.namespace, &b.name))
        });
        records
    }

    /// The Events seen so far that meet `expectation`, oldest first.
    pub fn matching(&self, expectation: &Expectation) -> Vec<EventRecord> {
        let mut records = self.events();
        records.retain(|r| expectation.matches(r));
        records
    }

    /// The `kubectl describe` Events section for `object` from what the
    /// watch has seen, ages computed now: the same text kubectl prints for
    /// Events written through `events.k8s.io/v1`, rows in name order (the
    /// order the API server lists them in; such Events carry no
    /// `lastTimestamp` for kubectl to sort on). For Events written through
    /// core/v1 kubectl sorts by `lastTimestamp`, so its rows may come in
    /// another order.
    pub fn describe(&self, object: &ObjectRef) -> String {
        describe_records(&self.about(object), jiff::Timestamp::now())
    }

    /// The Events about `object`, in the order `kubectl describe` shows them.
    fn about(&self, object: &ObjectRef) -> Vec<EventRecord> {
        let key = RefKey::from(object);
        let mut records = self.events();
        records.retain(|r| RefKey::from(&r.regarding) == key);
        records.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        records
    }

    /// Waits until the watch has listed the Events once (at most the
    /// handle's timeout), so that what it holds is what the cluster held at
    /// some point after the call.
    ///
    /// # Errors
    ///
    /// [`ClusterError::TimedOut`] when the first list did not complete in
    /// time, with the last watch error.
    pub async fn ready(&self) -> Result<(), ClusterError> {
        let deadline = deadline_after(self.timeout);
        self.listed_by(deadline)
            .await
            .map_err(|why| ClusterError::TimedOut {
                message: format!("the watch of {} {why}", self.scope),
            })
    }

    /// Waits until the cluster holds an Event meeting `expectation` and
    /// returns it (the oldest, if several), for at most the handle's
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`ClusterError::TimedOut`]: the expectation, then the Events the
    /// cluster holds for the expected object as a `kubectl describe`
    /// table (all watched Events by object when the expectation names none).
    pub async fn wait_for(
        &self,
        expectation: impl Borrow<Expectation>,
    ) -> Result<EventRecord, ClusterError> {
        self.wait_for_within(expectation, self.timeout).await
    }

    /// [`wait_for`](Self::wait_for) with its own timeout.
    ///
    /// # Errors
    ///
    /// As [`wait_for`](Self::wait_for).
    pub async fn wait_for_within(
        &self,
        expectation: impl Borrow<Expectation>,
        timeout: Duration,
    ) -> Result<EventRecord, ClusterError> {
        let expectation = expectation.borrow();
        let deadline = deadline_after(timeout);
        let outcome = self
            .watch_until(deadline, |records| {
                records.iter().find(|r| expectation.matches(r)).cloned()
            })
            .await;
        match outcome {
            Ok(Some(found)) => Ok(found),
            Ok(None) => Err(ClusterError::TimedOut {
                message: self.timed_out(expectation, timeout),
            }),
            Err(why) => Err(ClusterError::TimedOut {
                message: format!(
                    "expected an event matching: {expectation}\nbut the watch of {} {why}",
                    self.scope
                ),
            }),
        }
    }

    /// Watches for `window` and succeeds if no Event meeting `expectation`
    /// was seen in it (one already held when the window opens counts).
    /// Returns as soon as one matches. What is seen is the watch's state
    /// after each batch of changes it delivers: an Event created and deleted
    /// between two looks, or a count that passed through a value between
    /// them, may go unseen.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Matched`] with the matching Events and the others;
    /// [`ClusterError::TimedOut`] when the watch had not listed the Events
    /// by the end of the window (nothing can be said then).
    pub async fn none_within(
        &self,
        expectation: impl Borrow<Expectation>,
        window: Duration,
    ) -> Result<(), ClusterError> {
        let expectation = expectation.borrow();
        let deadline = deadline_after(window);
        let outcome = self
            .watch_until(deadline, |records| {
                let found: Vec<EventRecord> = records
                    .iter()
                    .filter(|r| expectation.matches(r))
                    .cloned()
                    .collect();
                (!found.is_empty()).then_some(found)
            })
            .await;
        match outcome {
            Ok(None) => Ok(()),
            Ok(Some(found)) => Err(ClusterError::Matched {
                message: self.matched(expectation, &found),
            }),
            Err(why) => Err(ClusterError::TimedOut {
                message: format!(
                    "expected no event matching: {expectation}\nbut the watch of {} {why}",
                    self.scope
                ),
            }),
        }
    }

    /// Asserts that the cluster comes to hold an Event meeting
    /// `expectation` within the handle's timeout, and returns it: the
    /// waiting form of [`MemorySink::assert_emitted`](crate::MemorySink::assert_emitted).
    ///
    /// # Panics
    ///
    /// When the timeout passes first, with the message of
    /// [`wait_for`](Self::wait_for)'s error.
    #[track_caller]
    pub fn assert_emitted(
        &self,
        expectation: impl Borrow<Expectation>,
    ) -> impl Future<Output = EventRecord> + '_ {
        let expectation = expectation.borrow().clone();
        let caller = std::panic::Location::caller();
        async move {
            match self.wait_for(&expectation).await {
                Ok(found) => found,
                Err(e) => panic!("{}\n(asserted at {caller})", e.to_string().trim_end()),
            }
        }
    }

    /// Asserts that no Event meeting `expectation` is held during the
    /// handle's window: the watching form of
    /// [`MemorySink::assert_not_emitted`](crate::MemorySink::assert_not_emitted).
    ///
    /// # Panics
    ///
    /// As soon as one matches, with the message of
    /// [`none_within`](Self::none_within)'s error.
    #[track_caller]
    pub fn assert_not_emitted(
        &self,
        expectation: impl Borrow<Expectation>,
    ) -> impl Future<Output = ()> + '_ {
        let expectation = expectation.borrow().clone();
        let caller = std::panic::Location::caller();
        async move {
            if let Err(e) = self.none_within(&expectation, self.window).await {
                panic!("{}\n(asserted at {caller})", e.to_string().trim_end());
            }
        }
    }

    /// Waits until the first list is complete, by `deadline`.
    async fn listed_by(&self, deadline: Instant) -> Result<(), String> {
        match tokio::time::timeout_at(deadline, self.store.wait_until_ready()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(format!("has stopped{}", self.last_error_note())),
            Err(_) => Err(format!(
                "did not complete its first list in time{}",
                self.last_error_note()
            )),
        }
    }

    /// Looks at the store once the first list is complete and again after
    /// every change the watch brings, until `look` is done (`Some`) or the
    /// deadline passes (`None`). `Err` when the first list did not complete.
    async fn watch_until<T>(
        &self,
        deadline: Instant,
        mut look: impl FnMut(&[EventRecord]) -> Option<T>,
    ) -> Result<Option<T>, String> {
        self.listed_by(deadline).await?;
        let mut changes = self.changes.clone();
        loop {
            // Marked seen before reading the store: a change after the read
            // wakes the select below.
            changes.borrow_and_update();
            if let Some(found) = look(&self.events()) {
                return Ok(Some(found));
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() {
                        // The watch task is gone: nothing more will come,
                        // and nothing can be said of what the cluster holds.
                        return Err("has stopped".to_owned());
                    }
                }
                () = tokio::time::sleep_until(deadline) => return Ok(None),
            }
        }
    }

    fn last_error_note(&self) -> String {
        match &*self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
        {
            Some(e) => format!(" (last watch error: {e})"),
            None => String::new(),
        }
    }

    /// The Events to show for `expectation`: those about its object, or
    /// all, as `kubectl describe` tables.
    fn shown(&self, expectation: &Expectation) -> (usize, String) {
        let now = jiff::Timestamp::now();
        match expectation.regarding_object() {
            Some(object) => {
                let records = self.about(object);
                let label = crate::describe::object_label(object);
                (
                    records.len(),
                    format!(
                        "The cluster holds for {label} ({}):\n{}",
                        self.scope,
                        describe_records(&records, now)
                    ),
                )
            }
            None => {
                let records = self.events();
                (
                    records.len(),
                    format!(
                        "The cluster holds ({}):\n{}",
                        self.scope,
                        grouped(&records, now)
                    ),
                )
            }
        }
    }

    fn timed_out(&self, expectation: &Expectation, timeout: Duration) -> String {
        let (n, shown) = self.shown(expectation);
        format!(
            "expected an event matching: {expectation}\nbut none of the {n} events seen matches after waiting {timeout:?}{}. {shown}",
            self.last_error_note()
        )
    }

    fn matched(&self, expectation: &Expectation, found: &[EventRecord]) -> String {
        let (n, shown) = self.shown(expectation);
        format!(
            "expected no event matching: {expectation}\nbut {} of the {n} events seen {}:\n{}{shown}",
            found.len(),
            if found.len() == 1 { "matches" } else { "match" },
            grouped(found, jiff::Timestamp::now()),
        )
    }
}

/// The instant `after` from now, or a year from now when that overflows (a
/// timeout of `Duration::MAX` means "as long as it takes").
fn deadline_after(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}
