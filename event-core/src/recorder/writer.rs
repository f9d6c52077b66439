//! One write of one series, with everything that may follow it: retries
//! within the budget, a read after a name clash (adopt or rename), and a
//! re-create after the Event expired.

use super::Engine;
use super::decide::{Mode, Write, decide};
use super::entry::{Entry, lock};
use super::outcome::{add, bump};
use super::retry::Budget;
use super::state::{Abandon, Adopted, Lifecycle, Step};
use crate::sink::{EventRecord, SinkError};

/// How a write ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The Event was created (or found created by an earlier attempt).
    Created,
    /// The series was written with this count.
    Patched(u32),
    /// Nothing was due; the count so far.
    Nothing(u32),
    /// The write failed for good; the series keeps its count (unless the
    /// server refused it as invalid).
    Failed(SinkError),
    /// The namespace is being deleted: the series was given up quietly.
    Terminating,
    /// The write budget had no token in time: put off, the count so far.
    Deferred(u32),
}

/// A series' write turn: while it is held no other write of the series
/// runs. Given back when dropped (also when the write's future is dropped
/// or its task aborted), waking the writers waiting for a turn.
struct Turn<'a> {
    engine: &'a Engine,
    entry: &'a Entry,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.entry.state().writing = false;
        self.engine.turn_released.notify_waiters();
    }
}

impl Engine {
    /// Waits for `entry`'s write turn and takes it.
    async fn turn<'a>(&'a self, entry: &'a Entry) -> Turn<'a> {
        loop {
            let mut released = std::pin::pin!(self.turn_released.notified());
            // Registered before the check: a turn given back in between
            // still wakes this writer.
            released.as_mut().enable();
            {
                let mut st = entry.state();
                if !st.writing {
                    st.writing = true;
                    return Turn {
                        engine: self,
                        entry,
                    };
                }
            }
            released.await;
        }
    }

    /// Writes what `entry` needs in `mode`, holding its write turn.
    pub(crate) async fn write(&self, entry: &Entry, mut mode: Mode) -> Outcome {
        let _turn = self.turn(entry).await;
        let id = self.identity();
        let mut budget = Budget::start(self.config.retry);
        // Waits for the write budget are bounded as the caller's mode asks.
        let asked = mode;
        let mut done: Option<Outcome> = None;
        loop {
            if let Some(ended) = self.spend_budget(entry, mode, asked).await {
                return done.unwrap_or(ended);
            }
            let now = self.clock.now();
            let (op, record, series, before) = {
                let mut st = entry.state();
                let Some(op) = decide(&st, mode, now, &self.timing) else {
                    return done.unwrap_or(Outcome::Nothing(st.count));
                };
                let before = st.begin(op, now);
                (op, entry.record(&st, &id), st.series(), before)
            };
            let sent = record.count();
            let sent_at = tokio::time::Instant::now();
            let result = match op {
                Write::Create => self.sink.create(&record).await,
                // `decide` patches only a series (count >= 2), whose record
                // carries this same series.
                Write::Patch => self.sink.patch_series(&record, series).await,
            };
            self.note_answer(&result, sent_at);
            let step = entry.state().finish(op, sent, &result, before, now);
            let err = result.err();
            match (step, err) {
                (Step::Written, _) => {
                    tracing::debug!(name = %record.name, namespace = %record.namespace, count = sent, ?op, "event written");
                    return match op {
                        Write::Create => {
                            bump(&self.stats.created);
                            Outcome::Created
                        }
                        Write::Patch => {
                            bump(&self.stats.patched);
                            Outcome::Patched(sent)
                        }
                    };
                }
                (Step::Read, Some(err)) => {
                    if !budget.detour() {
                        return self.failed(entry, &record, err, now);
                    }
                    if !self.take_token(asked).await {
                        return done.unwrap_or(Outcome::Deferred(sent));
                    }
                    let asked_at = tokio::time::Instant::now();
                    let read = self.sink.get(&record.namespace, &record.name).await;
                    self.note_answer(&read, asked_at);
                    match read {
                        Ok(stored) if entry.is_series_of(&stored, &id) => {
                            let adopted = entry.state().adopt(&stored);
                            self.relist(entry);
                            match adopted {
                                Adopted::Own => {
                                    bump(&self.stats.created);
                                    done = Some(Outcome::Created);
                                }
                                Adopted::Continued => {
                                    bump(&self.stats.adopted);
                                    tracing::debug!(name = %record.name, stored = stored.count(), "continuing the stored event of this series");
                                    // The occurrence that found it is written now.
                                    mode = Mode::Flush;
                                }
                                // Nothing is due: the next turn of the loop
                                // ends the write.
                                Adopted::GivenUp => {}
                            }
                        }
                        Ok(_) => self.rename(entry, &record, "another series' event has this name"),
                        Err(SinkError::NotFound) => {
                            // It expired between the clash and the read.
                        }
                        Err(read) if read.is_retryable() => {
                            if !self.wait(&mut budget, &read).await {
                                return self.failed(entry, &record, read, now);
                            }
                        }
                        Err(read) => {
                            // Without reading it there is no telling whose it
                            // is: a new name keeps this series' count apart.
                            tracing::debug!(error = %read, "cannot read the event holding this name (continuing series across restarts needs the RBAC verb \"get\" on events, in the API group of the sink's transport)");
                            self.rename(
                                entry,
                                &record,
                                "the event holding this name cannot be read",
                            );
                        }
                    }
                }
                (Step::Again, _) => {
                    if !budget.detour() {
                        return self.failed(entry, &record, SinkError::NotFound, now);
                    }
                    self.relist(entry);
                    tracing::debug!(name = %record.name, "event gone from the server; creating it again with its series");
                }
                (Step::Retry, Some(err)) => {
                    if !self.wait(&mut budget, &err).await {
                        return self.failed(entry, &record, err, now);
                    }
                }
                (Step::Refused, Some(err)) => {
                    // A refused create is given up: later occurrences are
                    // counted as dropped until the key leaves the cache. A
                    // refused series patch starts a new Event, under the
                    // next name, with the occurrences that follow.
                    let owed = {
                        let mut st = entry.state();
                        match op {
                            Write::Create => st.abandon(Abandon::Invalid),
                            Write::Patch => st.restart(),
                        }
                    };
                    add(&self.stats.dropped_unwritten, owed);
                    bump(&self.stats.failed);
                    tracing::warn!(error = %err, reason = %record.reason, kind = %record.regarding.kind, name = %record.regarding.name, "the server refused the event as invalid; what it had not written is dropped (counted in stats.dropped_unwritten)");
                    return Outcome::Failed(err);
                }
                (Step::Terminating, Some(err)) => {
                    // Not RBAC and not worth a retry: nothing written into
                    // a namespace being deleted would last.
                    let owed = entry.state().abandon(Abandon::NamespaceTerminating);
                    add(&self.stats.dropped_namespace_terminating, owed);
                    tracing::debug!(error = %err, namespace = %record.namespace, reason = %record.reason, owed, "namespace being deleted; event dropped (counted in stats.dropped_namespace_terminating)");
                    return Outcome::Terminating;
                }
                (Step::Failed, Some(err)) => return self.failed(entry, &record, err, None),
                (_, None) => {
                    // Every step but `Written` comes from an error.
                    return done.unwrap_or(Outcome::Nothing(sent));
                }
            }
        }
    }

    /// Sleeps before a retry if the budget allows one.
    async fn wait(&self, budget: &mut Budget, err: &SinkError) -> bool {
        match budget.next_wait(err) {
            Some(wait) => {
                bump(&self.stats.retried);
                tracing::debug!(error = %err, wait_ms = wait.as_millis(), "retrying event write");
                tokio::time::sleep(wait).await;
                true
            }
            None => false,
        }
    }

    /// Gives the series the next name after a true clash.
    fn rename(&self, entry: &Entry, record: &EventRecord, why: &str) {
        let mut st = entry.state();
        st.generation = st.generation.saturating_add(1);
        // Nothing was sent under the new name.
        if st.life == Lifecycle::Creating {
            st.life = Lifecycle::Unsent;
        }
        drop(st);
        tracing::debug!(name = %record.name, why, "event name taken; trying the series' next name");
    }

    /// Lists `entry` again after a step that leaves it owing a write.
    fn relist(&self, entry: &Entry) {
        let mut cache = lock(&self.cache);
        let mut st = entry.state();
        cache.list(entry, &mut st);
    }

    /// Ends a write that failed for good: counted, logged (at warn level
    /// for the first failure in a row), and backed off.
    fn failed(
        &self,
        entry: &Entry,
        record: &EventRecord,
        err: SinkError,
        now: impl Into<Option<jiff::Timestamp>>,
    ) -> Outcome {
        bump(&self.stats.failed);
        let first = {
            let mut st = entry.state();
            if let Some(now) = now.into() {
                st.failed(&err, now);
            }
            st.failure.is_none_or(|f| f.in_a_row <= 1)
        };
        let (reason, kind, name) = (
            &record.reason,
            &record.regarding.kind,
            &record.regarding.name,
        );
        match &err {
            SinkError::Forbidden { .. } if first => tracing::warn!(
                error = %err, %reason, %kind, %name,
                "event write forbidden: the publisher lacks RBAC rights on events (the error names the rule its API needs)"
            ),
            _ if first => tracing::warn!(
                error = %err, %reason, %kind, %name,
                "event write failed; the count is kept for a later write"
            ),
            _ => tracing::debug!(error = %err, %reason, "event write failed again"),
        }
        Outcome::Failed(err)
    }
}
