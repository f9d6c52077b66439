//! Fault injection: make any [`EventSink`] fail, stall or hang on purpose.
//!
//! A [`Faults`] handle holds the plan; [`FaultySink`] applies it around any
//! sink, and every [`MemorySink`](crate::MemorySink) carries one too
//! ([`MemorySink::faults`](crate::MemorySink::faults)). Each write passes
//! through the plan in this order:
//!
//! 1. counted as an attempt;
//! 2. delayed by the configured latency (`tokio::time::sleep`, so paused
//!    tokio time skips it);
//! 3. held forever when "never answer" is on;
//! 4. failed when a "fail next" rule has writes left (rules are used up in
//!    the order they were added);
//! 5. failed when the seeded random draw falls under the configured
//!    fraction;
//! 6. otherwise passed to the sink.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};

use crate::WriteKind;

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

#[derive(Debug, Default)]
struct Plan {
    fail_next: VecDeque<FailNext>,
    fraction: Option<FailFraction>,
    latency: Duration,
    never_answer: Option<Target>,
    counts: FaultCounts,
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

    /// Delays every write by `latency` before anything else happens to it
    /// (`tokio::time::sleep`: under paused tokio time the delay passes
    /// instantly once the runtime is idle). `Duration::ZERO` removes it.
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

    /// Removes every fault (the counters stay).
    pub fn clear(&self) -> &Self {
        let mut plan = self.lock();
        plan.fail_next.clear();
        plan.fraction = None;
        plan.latency = Duration::ZERO;
        plan.never_answer = None;
        self
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
    pub(crate) async fn apply(&self, kind: WriteKind) -> Result<(), SinkError> {
        let latency = {
            let mut plan = self.lock();
            plan.counts.attempts += 1;
            match kind {
                WriteKind::Create => plan.counts.create_attempts += 1,
                WriteKind::PatchSeries => plan.counts.patch_attempts += 1,
            }
            plan.latency
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        match self.decide(kind) {
            Verdict::Pass => Ok(()),
            Verdict::Fail(error) => Err(error),
            Verdict::Hang => std::future::pending().await,
        }
    }

    fn decide(&self, kind: WriteKind) -> Verdict {
        let mut plan = self.lock();
        if plan.never_answer.is_some_and(|t| t.matches(kind)) {
            plan.counts.hung += 1;
            return Verdict::Hang;
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
}

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
        }
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
        self.faults.apply(WriteKind::Create).await?;
        self.inner.create(event).await
    }

    async fn patch_series(&self, event: &EventRecord, series: Series) -> Result<(), SinkError> {
        self.faults.apply(WriteKind::PatchSeries).await?;
        self.inner.patch_series(event, series).await
    }

    async fn get(&self, namespace: &str, name: &str) -> Result<EventRecord, SinkError> {
        self.inner.get(namespace, name).await
    }
}
