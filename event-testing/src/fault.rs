//! Fault injection: make any [`EventSink`] fail, stall or hang on purpose.
//!
//! A [`Faults`] handle holds the plan; [`FaultySink`] applies it around any
//! sink, and every [`MemorySink`](crate::MemorySink) carries one too
//! ([`MemorySink::faults`](crate::MemorySink::faults)). Each write passes
//! through the plan in this order:
//!
//! 1. waits while the plan is on [`hold`](Faults::hold), until
//!    [`release`](Faults::release);
//! 2. panics when a [`panic_next`](Faults::panic_next) is left (a sink that
//!    panics; not counted as an attempt);
//! 3. counted as an attempt;
//! 4. delayed by the configured latency (`tokio::time::sleep`, so paused
//!    tokio time skips it);
//! 5. held forever when "never answer" is on for its kind or its reason;
//! 6. failed with the next error of a [`fail_after`](Faults::fail_after)
//!    script once its skipped writes are past;
//! 7. failed when a "fail next" rule has writes left (rules are used up in
//!    the order they were added);
//! 8. failed when the seeded random draw falls under the configured
//!    fraction;
//! 9. otherwise passed to the sink; when an answer is to be
//!    [lost](Faults::lose_answers), the write takes effect and its caller
//!    gets a transport error instead of the sink's answer.
//!
//! Reads ([`EventSink::get`]) take none of these; [`reads_find`](Faults::reads_find)
//! makes them find another series' Event under every name.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};

use tokio::sync::Notify;

use crate::{Write, WriteKind};

/// Which writes a fault rule applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Target {
    /// Creates and series patches.
    #[default]
    All,
    /// Creates only.
    Creates,
    /// Series patches only.
    Patches,
}

impl Target {
    fn matches(self, kind: WriteKind) -> bool {
        match self {
            Self::All => true,
            Self::Creates => kind == WriteKind::Create,
            Self::Patches => kind == WriteKind::PatchSeries,
        }
    }
}

/// Counters of what passed through a fault plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Writes attempted (creates and patches).
    pub attempts: u64,
    /// Creates attempted.
    pub create_attempts: u64,
    /// Series patches attempted.
    pub patch_attempts: u64,
    /// Writes failed on purpose.
    pub injected: u64,
    /// Writes held forever.
    pub hung: u64,
    /// Writes passed on to the sink.
    pub passed: u64,
    /// Writes that took effect but whose answer was lost.
    pub lost: u64,
}

#[derive(Debug)]
struct FailNext {
    target: Target,
    remaining: u64,
    error: SinkError,
}

#[derive(Debug)]
struct FailFraction {
    fraction: f64,
    rng: fastrand::Rng,
    error: SinkError,
}

/// Errors for the writes counted after the next `skip` ones, in order.
#[derive(Debug)]
struct Script {
    skip: u64,
    errors: VecDeque<SinkError>,
}

#[derive(Debug, Default)]
struct Plan {
    fail_next: VecDeque<FailNext>,
    script: Option<Script>,
    fraction: Option<FailFraction>,
    latency: Duration,
    never_answer: Option<Target>,
    never_answer_reason: Option<String>,
    hold: bool,
    /// Held writes still allowed through while the hold lasts.
    admits: u64,
    /// Bumped by every release: a write held before it goes on even if
    /// the plan is on hold again by the time it wakes.
    releases: u64,
    waiting: u64,
    panic_next: u64,
    lose_answers: u64,
    reads_find: Option<EventRecord>,
    counts: FaultCounts,
}

/// A write counted in [`Faults::waiting`] for as long as this lives: until
/// it goes on, or until its future is dropped (a timeout, an aborted task).
struct Waiting<'a>(&'a Faults);

impl<'a> Waiting<'a> {
    fn enter(faults: &'a Faults) -> Self {
        faults.lock().waiting += 1;
        Waiting(faults)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        let mut plan = self.0.lock();
        plan.waiting = plan.waiting.saturating_sub(1);
    }
}

/// What a write should do, decided under the lock and acted on outside it.
enum Verdict {
    Pass,
    Fail(SinkError),
    Hang,
}

/// A shared, changeable fault plan for a sink.
///
/// Clones share the plan, so a test keeps one handle and changes the plan
/// while the code under test runs. A fresh plan lets every write through.
///
/// # Example
///
/// ```
/// use event_core::{Event, ObjectRef, Recorder};
/// use event_core::sink::SinkError;
/// use event_testing::MemorySink;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), event_core::Error> {
/// let sink = MemorySink::new();
/// let recorder = Recorder::builder(sink.arc(), "example.com/widgets").build()?;
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
///
/// sink.faults().fail_next(1, SinkError::Forbidden { message: "no create".into() });
/// let first = recorder.publish(&Event::normal("Synced", "Reconciling"), &pod).await;
/// assert!(first.is_err());
/// assert_eq!(sink.faults().counts().injected, 1);
/// assert!(sink.events().is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Faults {
    plan: Arc<Mutex<Plan>>,
    released: Arc<Notify>,
}

impl Faults {
    /// A plan that lets every write through.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fails the next `n` writes with `error`.
    pub fn fail_next(&self, n: u64, error: SinkError) -> &Self {
        self.fail_next_on(Target::All, n, error)
    }

    /// Fails the next `n` writes of the given kind with `error`; other
    /// writes pass this rule untouched.
    pub fn fail_next_on(&self, target: Target, n: u64, error: SinkError) -> &Self {
        if n > 0 {
            self.lock().fail_next.push_back(FailNext {
                target,
                remaining: n,
                error,
            });
        }
        self
    }

    /// Fails each write with probability `fraction` (0.0 to 1.0, clamped),
    /// drawn from a random generator seeded with `seed`: the same seed and
    /// the same sequence of writes fail the same writes on every run.
    pub fn fail_fraction(&self, fraction: f64, seed: u64, error: SinkError) -> &Self {
        let fraction = if fraction.is_nan() {
            0.0
        } else {
            fraction.clamp(0.0, 1.0)
        };
        self.lock().fraction = Some(FailFraction {
            fraction,
            rng: fastrand::Rng::with_seed(seed),
            error,
        });
        self
    }

    /// Delays every write by `latency` once it is counted, before the plan
    /// decides its fate (`tokio::time::sleep`: under paused tokio time the
    /// delay passes instantly once the runtime is idle). `Duration::ZERO`
    /// removes it.
    pub fn latency(&self, latency: Duration) -> &Self {
        self.lock().latency = latency;
        self
    }

    /// Makes every write hang forever: the future never completes, like a
    /// server that accepts the connection and never answers. Use it to test
    /// timeouts and shutdown deadlines.
    pub fn never_answer(&self) -> &Self {
        self.never_answer_on(Target::All)
    }

    /// Makes every write of the given kind hang forever.
    pub fn never_answer_on(&self, target: Target) -> &Self {
        self.lock().never_answer = Some(target);
        self
    }

    /// Makes every write of an event with this reason hang forever; other
    /// writes go on.
    pub fn never_answer_reason(&self, reason: &str) -> &Self {
        self.lock().never_answer_reason = Some(reason.to_owned());
        self
    }

    /// Fails the writes after the next `skip` ones with `errors`, one
    /// error each, in order; replaces an earlier script.
    ///
    /// # Example
    ///
    /// A create that passes, then a patch refused as invalid, then a
    /// transient failure:
    ///
    /// ```
    /// use event_core::sink::SinkError;
    /// # let faults = event_testing::Faults::new();
    /// faults.fail_after(1, [
    ///     SinkError::Invalid { message: "series.count: Invalid value".into() },
    ///     SinkError::Transient { message: "503".into() },
    /// ]);
    /// ```
    pub fn fail_after(&self, skip: u64, errors: impl IntoIterator<Item = SinkError>) -> &Self {
        self.lock().script = Some(Script {
            skip,
            errors: errors.into_iter().collect(),
        });
        self
    }

    /// Lets the next `n` writes that pass take effect, then loses their
    /// answer: the caller gets [`SinkError::Transient`] as after a
    /// connection reset, and cannot tell that the write happened.
    pub fn lose_answers(&self, n: u64) -> &Self {
        self.lock().lose_answers = n;
        self
    }

    /// Makes the next `n` writes panic, as a sink with a bug would.
    pub fn panic_next(&self, n: u64) -> &Self {
        self.lock().panic_next = n;
        self
    }

    /// Holds every write before it is counted, until [`release`](Self::release):
    /// a server that has stopped answering for a while. [`waiting`](Self::waiting)
    /// tells how many writes are held.
    pub fn hold(&self) -> &Self {
        let mut plan = self.lock();
        plan.hold = true;
        plan.admits = 0;
        drop(plan);
        self
    }

    /// Lets the held writes and every later one go on.
    pub fn release(&self) -> &Self {
        {
            let mut plan = self.lock();
            plan.hold = false;
            plan.admits = 0;
            plan.releases = plan.releases.wrapping_add(1);
        }
        self.released.notify_waiters();
        self
    }

    /// While the plan is on hold, lets `n` more writes through (the
    /// longest-held first is not promised: whichever wakes first), then
    /// holds again. Admissions not used when the hold ends are dropped.
    pub fn admit(&self, n: u64) -> &Self {
        {
            let mut plan = self.lock();
            if !plan.hold {
                return self;
            }
            plan.admits = plan.admits.saturating_add(n);
        }
        self.released.notify_waiters();
        self
    }

    /// Writes held now by [`hold`](Self::hold) or hung by a "never answer"
    /// rule.
    pub fn waiting(&self) -> u64 {
        self.lock().waiting
    }

    /// Makes every read find `record` under the name asked for: another
    /// series' Event in every place, as when a name clashes. `None` reads
    /// the sink again.
    pub fn reads_find(&self, record: Option<EventRecord>) -> &Self {
        self.lock().reads_find = record;
        self
    }

    /// Removes every fault and releases held writes (the counters stay).
    pub fn clear(&self) -> &Self {
        {
            let mut plan = self.lock();
            plan.fail_next.clear();
            plan.script = None;
            plan.fraction = None;
            plan.latency = Duration::ZERO;
            plan.never_answer = None;
            plan.never_answer_reason = None;
            plan.panic_next = 0;
            plan.lose_answers = 0;
            plan.reads_find = None;
        }
        self.release()
    }

    /// The counters so far.
    ///
    /// # Example
    ///
    /// ```
    /// use event_core::sink::SinkError;
    /// use event_testing::{FaultySink, MemorySink};
    /// use event_core::sink::EventSink;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// # let record = event_testing::sample_record();
    /// let sink = FaultySink::new(MemorySink::new());
    /// sink.faults().fail_next(1, SinkError::Transient { message: "503".into() });
    /// assert!(sink.create(&record).await.is_err());
    /// assert!(sink.create(&record).await.is_ok());
    /// let counts = sink.faults().counts();
    /// assert_eq!((counts.attempts, counts.injected, counts.passed), (2, 1, 1));
    /// # }
    /// ```
    pub fn counts(&self) -> FaultCounts {
        self.lock().counts
    }

    /// Number of writes attempted so far.
    pub fn attempts(&self) -> u64 {
        self.lock().counts.attempts
    }

    /// Sets the counters back to zero (the plan stays).
    pub fn reset_counts(&self) {
        self.lock().counts = FaultCounts::default();
    }

    /// Runs one write of `kind` through the plan: `Ok` to let it through,
    /// `Err` to fail it; never returns for a hung write.
    pub(crate) async fn apply(
        &self,
        kind: WriteKind,
        record: &EventRecord,
    ) -> Result<(), SinkError> {
        self.wait_while_held().await;
        let (latency, scripted) = {
            let mut plan = self.lock();
            if plan.panic_next > 0 {
                plan.panic_next -= 1;
                drop(plan);
                panic!("a sink that panics (injected fault)");
            }
            plan.counts.attempts += 1;
            match kind {
                WriteKind::Create => plan.counts.create_attempts += 1,
                WriteKind::PatchSeries => plan.counts.patch_attempts += 1,
            }
            // The script picks its writes in the order they are counted,
            // whatever the latency does to their order afterwards.
            let scripted = plan.script.as_mut().and_then(|script| {
                if script.skip > 0 {
                    script.skip -= 1;
                    None
                } else {
                    script.errors.pop_front()
                }
            });
            (plan.latency, scripted)
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match self.decide(kind, record, scripted) {
            Verdict::Pass => Ok(()),
            Verdict::Fail(error) => Err(error),
            Verdict::Hang => {
                let _counted = Waiting::enter(self);
                std::future::pending().await
            }
        }
    }

    /// The answer the caller gets for a write the sink answered with
    /// `result`.
    pub(crate) fn answer(&self, result: Result<(), SinkError>) -> Result<(), SinkError> {
        let mut plan = self.lock();
        if result.is_ok() && plan.lose_answers > 0 {
            plan.lose_answers -= 1;
            plan.counts.lost += 1;
            return Err(SinkError::Transient {
                message: "connection reset after the request was sent".to_owned(),
            });
        }
        result
    }

    /// What a read finds instead of the stored Event, if anything.
    pub(crate) fn read_override(&self, namespace: &str, name: &str) -> Option<EventRecord> {
        self.lock().reads_find.clone().map(|mut record| {
            namespace.clone_into(&mut record.namespace);
            name.clone_into(&mut record.name);
            record
        })
    }

    async fn wait_while_held(&self) {
        let mut held: Option<(Waiting<'_>, u64)> = None;
        loop {
            let mut released = std::pin::pin!(self.released.notified());
            {
                let mut plan = self.lock();
                let released_since = held
                    .as_ref()
                    .is_some_and(|(_, seen)| *seen != plan.releases);
                if !plan.hold || released_since {
                    return;
                }
                if plan.admits > 0 {
                    plan.admits -= 1;
                    return;
                }
                // Registered before the lock is let go: a release or an
                // admission from now on wakes this write.
                released.as_mut().enable();
                let releases = plan.releases;
                drop(plan);
                match &mut held {
                    Some((_, seen)) => *seen = releases,
                    None => held = Some((Waiting::enter(self), releases)),
                }
            }
            released.await;
        }
    }

    fn decide(
        &self,
        kind: WriteKind,
        record: &EventRecord,
        scripted: Option<SinkError>,
    ) -> Verdict {
        let mut plan = self.lock();
        if plan.never_answer.is_some_and(|t| t.matches(kind))
            || plan.never_answer_reason.as_deref() == Some(record.reason.as_str())
        {
            plan.counts.hung += 1;
            return Verdict::Hang;
        }
        if let Some(error) = scripted {
            plan.counts.injected += 1;
            return Verdict::Fail(error);
        }
        let rule = plan.fail_next.iter().position(|r| r.target.matches(kind));
        if let Some(rule) = rule.and_then(|i| plan.fail_next.get_mut(i).map(|r| (i, r))) {
            let (i, rule) = rule;
            rule.remaining -= 1;
            let error = rule.error.clone();
            if rule.remaining == 0 {
                plan.fail_next.remove(i);
            }
            plan.counts.injected += 1;
            return Verdict::Fail(error);
        }
        if let Some(fraction) = plan.fraction.as_mut()
            && fraction.rng.f64() < fraction.fraction
        {
            let error = fraction.error.clone();
            plan.counts.injected += 1;
            return Verdict::Fail(error);
        }
        plan.counts.passed += 1;
        Verdict::Pass
    }

    fn lock(&self) -> MutexGuard<'_, Plan> {
        // Every update under this lock is complete before it can panic.
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plan = self.lock();
        f.debug_struct("Faults")
            .field("fail_next", &plan.fail_next)
            .field("fail_fraction", &plan.fraction.as_ref().map(|f| f.fraction))
            .field("latency", &plan.latency)
            .field("never_answer", &plan.never_answer)
            .field("never_answer_reason", &plan.never_answer_reason)
            .field("hold", &plan.hold)
            .field("counts", &plan.counts)
            .finish()
    }
}

/// A sink that runs every write through a [`Faults`] plan before passing it
/// to the sink inside.
///
/// # Example
///
/// ```
/// use std::sync::Arc;
/// use event_core::{Event, ObjectRef, Recorder};
/// use event_core::sink::SinkError;
/// use event_testing::{FaultySink, MemorySink};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), event_core::Error> {
/// let memory = MemorySink::new();
/// let faulty = FaultySink::new(memory.clone());
/// faulty.faults().fail_next(2, SinkError::Transient { message: "503".into() });
///
/// let recorder = Recorder::builder(Arc::new(faulty.clone()), "example.com/widgets").build()?;
/// let pod = ObjectRef::new("v1", "Pod", "web-0").within("shop");
/// recorder.publish(&Event::normal("Synced", "Reconciling"), &pod).await?;
///
/// // Two failures retried, then written once.
/// assert_eq!(faulty.faults().attempts(), 3);
/// assert_eq!(memory.creates(), 1);
/// # Ok(()) }
/// ```
pub struct FaultySink<S: ?Sized> {
    faults: Faults,
    inner: Arc<S>,
    calls: Arc<Mutex<VecDeque<Write>>>,
}

/// Writes a [`FaultySink`] keeps in its call log; older ones are forgotten.
pub const CALL_LOG_LIMIT: usize = 100_000;

impl<S> FaultySink<S> {
    /// Wraps `sink` with an empty fault plan.
    pub fn new(sink: S) -> Self {
        Self::with_faults(Arc::new(sink), Faults::new())
    }
}

impl<S: ?Sized> FaultySink<S> {
    /// Wraps a shared sink (also `Arc<dyn EventSink>`) with the given plan.
    pub fn with_faults(sink: Arc<S>, faults: Faults) -> Self {
        Self {
            faults,
            inner: sink,
            calls: Arc::default(),
        }
    }

    /// Every write this sink answered, in order, with the answer its caller
    /// got (an injected failure, the inner sink's answer, or a lost one);
    /// `at` is the system time of the answer. Hung writes are not listed;
    /// the log keeps the latest [`CALL_LOG_LIMIT`] writes.
    /// With no faults planned this is a log of the calls reaching the inner
    /// sink: how an end-to-end test counts the requests a Recorder made.
    ///
    /// # Example
    ///
    /// ```
    /// use std::sync::Arc;
    /// use event_core::sink::{EventSink, SinkError};
    /// use event_testing::{FaultySink, MemorySink, WriteKind, sample_record};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sink = FaultySink::new(MemorySink::new());
    /// sink.faults().fail_next(1, SinkError::Transient { message: "503".into() });
    /// let _ = sink.create(&sample_record()).await;
    /// let _ = sink.create(&sample_record()).await;
    /// let calls = sink.calls();
    /// assert_eq!(calls.len(), 2);
    /// assert!(calls.iter().all(|c| c.kind == WriteKind::Create));
    /// assert_eq!((calls[0].is_ok(), calls[1].is_ok()), (false, true));
    /// # }
    /// ```
    pub fn calls(&self) -> Vec<Write> {
        self.lock_calls().iter().cloned().collect()
    }

    fn lock_calls(&self) -> MutexGuard<'_, VecDeque<Write>> {
        // A push is complete before anything can panic.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answered(
        &self,
        kind: WriteKind,
        record: EventRecord,
        result: Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        let mut calls = self.lock_calls();
        if calls.len() >= CALL_LOG_LIMIT {
            calls.pop_front();
        }
        calls.push_back(Write {
            kind,
            record,
            at: event_core::clock::truncate_to_micros(jiff::Timestamp::now()),
            result: result.clone(),
        });
        drop(calls);
        result
    }

    /// The plan this sink applies (a shared handle).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The wrapped sink.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }
}

impl<S: ?Sized> Clone for FaultySink<S> {
    fn clone(&self) -> Self {
        Self {
            faults: self.faults.clone(),
            inner: Arc::clone(&self.inner),
            calls: Arc::clone(&self.calls),
        }
    }
}

impl<S: ?Sized> fmt::Debug for FaultySink<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FaultySink")
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<S: EventSink + ?Sized> EventSink for FaultySink<S> {
    async fn create(&self, event: &EventRecord) -> Result<(), SinkError> {
        let result = match self.faults.apply(WriteKind::Create, event).await {
            Ok(()) => self.faults.answer(self.inner.create(event).await),
            Err(injected) => Err(injected),
        };
        self.answered(WriteKind::Create, event.clone(), result)
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        let result = match self.faults.apply(WriteKind::PatchSeries, event).await {
            Ok(()) => self
                .faults
                .answer(self.inner.patch_series(event, series).await),
            Err(injected) => Err(injected),
        };
        let logged = event.clone().with_series(series);
        self.answered(WriteKind::PatchSeries, logged, result)
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        match self.faults.read_override(namespace, name) {
            Some(found) => Ok(found),
            None => self.inner.get(namespace, name).await,
        }
    }
}
