//! The `emit` queue, the background writers draining it, and the guards that
//! keep the bookkeeping right however a write ends (done, failed, cancelled
//! or panicked) and whatever happens to the runtime the tasks run on.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::task::JoinHandle;

use super::Engine;
use super::correlate::Claim;
use super::decide::Mode;
use super::entry::{Entry, lock};
use super::outcome::{add, bump};
use super::state::{Abandon, Lifecycle, Place};
use super::writer::Outcome;

/// A queued immediate write.
pub(crate) struct Job {
    pub(crate) entry: Entry,
    pub(crate) claim: u8,
}

/// Releases a caller's claim on a series when its write ends, however it
/// ends (done, failed, cancelled, panicked), so later occurrences may claim
/// again; lists the series if it still owes a write.
pub(crate) struct ClaimGuard<'a> {
    engine: &'a Engine,
    entry: &'a Entry,
    claim: u8,
}

impl<'a> ClaimGuard<'a> {
    pub(crate) fn new(engine: &'a Engine, entry: &'a Entry, claim: u8) -> Self {
        Self {
            engine,
            entry,
            claim,
        }
    }
}

impl Drop for ClaimGuard<'_> {
    fn drop(&mut self) {
        let unlisted = {
            let mut st = self.entry.state();
            st.release(self.claim);
            st.owing() && !st.listed
        };
        if !unlisted {
            return;
        }
        let dropped = {
            let mut cache = lock(&self.engine.cache);
            let mut st = self.entry.state();
            cache.list(self.entry, &mut st);
            // Owing and in no map (a key whose hash collided with a cached
            // one): no later write will find it.
            if st.place == Place::Gone && st.owing() {
                st.abandon(Abandon::Uncached)
            } else {
                0
            }
        };
        if dropped > 0 {
            add(&self.engine.stats.dropped_unwritten, dropped);
            tracing::debug!(
                dropped,
                "an event whose key's hash is another cached key's was not written; dropped (counted in stats.dropped_unwritten)"
            );
        }
    }
}

/// Turns a panic inside the wrapped future into `None`.
pub(crate) struct CatchUnwind<F>(pub(crate) Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Some(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    }
}

/// The background tasks and how many of them are alive.
#[derive(Default)]
pub(crate) struct Tasks {
    handles: Mutex<Handles>,
    live_writers: AtomicUsize,
    maintenance_live: AtomicBool,
}

#[derive(Default)]
pub(crate) struct Handles {
    pub(crate) writers: Vec<JoinHandle<()>>,
    pub(crate) maintenance: Option<JoinHandle<()>>,
}

/// Held by a running task; marks it gone when the task ends or is dropped
/// (aborted, or its runtime shut down).
struct Alive {
    engine: Arc<Engine>,
    writer: bool,
}

impl Drop for Alive {
    fn drop(&mut self) {
        let tasks = &self.engine.tasks;
        if self.writer {
            tasks.live_writers.fetch_sub(1, Ordering::AcqRel);
        } else {
            tasks.maintenance_live.store(false, Ordering::Release);
        }
    }
}

impl Tasks {
    /// Takes the handles, for shutdown.
    pub(crate) fn take(&self) -> Handles {
        std::mem::take(&mut *lock(&self.handles))
    }
}

impl Engine {
    /// Starts the background tasks that are not running (all of them on
    /// first use; again when the runtime they ran on has shut down) on the
    /// caller's runtime. Returns whether they run: not when there is no
    /// runtime, or the caller's has shut down.
    pub(crate) fn ensure_started(self: &Arc<Self>) -> bool {
        let tasks = &self.tasks;
        let expected = self.config.writers;
        if tasks.live_writers.load(Ordering::Acquire) == expected
            && tasks.maintenance_live.load(Ordering::Acquire)
        {
            return true;
        }
        if self.is_shut_down() {
            return false;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let mut handles = lock(&tasks.handles);
        handles.writers.retain(|h| !h.is_finished());
        // Each missing writer once: a runtime that has shut down drops what
        // it is given at once (which uncounts it), so spawning until the
        // count is full would never end there. Whether the tasks run is
        // read from those spawned here, not from the counts, which tasks
        // still ending on an earlier runtime may yet lower.
        let mut running = true;
        let missing = expected.saturating_sub(tasks.live_writers.load(Ordering::Acquire));
        for _ in 0..missing {
            tasks.live_writers.fetch_add(1, Ordering::AcqRel);
            let alive = Alive {
                engine: Arc::clone(self),
                writer: true,
            };
            let writer = runtime.spawn(Arc::clone(self).run_writer(alive));
            running &= !writer.is_finished();
            handles.writers.push(writer);
        }
        if !tasks.maintenance_live.swap(true, Ordering::AcqRel) {
            let alive = Alive {
                engine: Arc::clone(self),
                writer: false,
            };
            let engine = Arc::clone(self);
            let maintenance = runtime.spawn(async move {
                let _alive = alive;
                engine.maintain().await;
            });
            running &= !maintenance.is_finished();
            handles.maintenance = Some(maintenance);
        }
        running
    }

    /// One background writer: immediate writes from the queue until it is
    /// closed and empty.
    async fn run_writer(self: Arc<Self>, alive: Alive) {
        let _alive = alive;
        while let Ok(job) = self.queue_rx.recv().await {
            let _claim = ClaimGuard::new(&self, &job.entry, job.claim);
            match CatchUnwind(Box::pin(self.write(&job.entry, Mode::Immediate))).await {
                Some(Outcome::Nothing(_)) => bump(&self.stats.coalesced),
                Some(_) => {}
                None => self.sink_panicked(),
            }
        }
    }

    /// Counts and logs a sink call that panicked; the series keeps its count.
    pub(crate) fn sink_panicked(&self) {
        bump(&self.stats.failed);
        tracing::error!(
            "the event sink panicked during a write; the count is kept for a later write"
        );
    }

    /// Queues the write an `emit` claimed. A full queue drops a new event
    /// (counted in `dropped_queue_full`); an occurrence of an existing
    /// series stays counted and a later write carries it.
    /// Returns whether the occurrence stays published (false: dropped).
    pub(crate) fn enqueue(&self, claim: Claim) -> bool {
        let Claim {
            entry, level, new, ..
        } = claim;
        let job = Job {
            entry,
            claim: level,
        };
        let Err(err) = self.queue_tx.try_send(job) else {
            bump(&self.stats.published);
            return true;
        };
        let full = err.is_full();
        let Job { entry, claim } = err.into_inner();
        let dropped = full && new && {
            let mut cache = lock(&self.cache);
            // Alone with it: one occurrence, no write running or done.
            let alone = {
                let st = entry.state();
                !st.writing && st.count == 1 && st.life == Lifecycle::Unsent && st.claim == claim
            };
            if alone {
                cache.forget(&entry, Abandon::QueueFull);
            }
            alone
        };
        if dropped {
            bump(&self.stats.dropped_queue_full);
            if !self.warned_queue_full.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    capacity = self.config.queue_capacity,
                    "event queue full: dropping events (counted in stats.dropped_queue_full)"
                );
            }
        } else {
            entry.state().release(claim);
            bump(&self.stats.published);
            bump(&self.stats.coalesced);
        }
        !dropped
    }
}
