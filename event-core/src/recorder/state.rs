//! A series' changing part: its [`State`], whose [`Lifecycle`] says where
//! it stands with the server, and the transitions a write makes on it.
//! Everything here is synchronous and free of I/O; the writer calls these
//! functions around each sink call, under the series' lock.

use std::time::Duration;

use jiff::Timestamp;

use super::decide::{Write, later};
use crate::sink::{EventRecord, Series, SinkError};

/// Where a series stands with the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// No Event under the current name, as far as this process knows.
    Unsent,
    /// A create under the current name was sent and its outcome is unknown
    /// (its answer was lost, or its caller cancelled): a later "already
    /// exists" may be that create.
    Creating,
    /// The server has the Event, with this many occurrences.
    Live {
        /// The count the server has.
        written: u32,
    },
    /// Never written again; what it had not written was counted as dropped.
    Abandoned(Abandon),
}

/// Why a series was given up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Abandon {
    /// The server refused the event as invalid.
    Invalid,
    /// Its first occurrence found the `emit` queue full.
    QueueFull,
    /// It left the cache owing a write while too many others did.
    Overflow,
    /// It could not be kept for a later write (its key's 64-bit hash is
    /// another cached key's), and its own write did not go through.
    Uncached,
    /// Its namespace is being deleted.
    NamespaceTerminating,
}

/// Where a series is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// In the cache: occurrences find it.
    Cached,
    /// Evicted while owing a write: kept (bounded) until written, and found
    /// again by a new occurrence of its key.
    Retiring,
    /// Forgotten.
    Gone,
}

/// An instant to the microsecond in 8 bytes, for the times a series keeps
/// (a `Timestamp` takes 16 bytes, 24 as an `Option`). The clock gives
/// microseconds already and the API stores them, so nothing is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Micros(i64);

impl Micros {
    pub(crate) fn of(t: Timestamp) -> Self {
        Self(t.as_microsecond())
    }

    /// The instant as a `Timestamp` (always in range: it came from one).
    pub(crate) fn get(self) -> Timestamp {
        Timestamp::from_microsecond(self.0).unwrap_or(Timestamp::MIN)
    }
}

/// The last failures of a series in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Failure {
    /// When the last one happened.
    pub(crate) at: Micros,
    /// How many in a row.
    pub(crate) in_a_row: u16,
    /// The last one was a definite refusal (Forbidden, Fatal): trying again
    /// at once would get the same answer.
    pub(crate) refused: bool,
}

/// The changing part of a series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct State {
    pub(crate) life: Lifecycle,
    /// Occurrences this series stands for (with those of an adopted Event).
    pub(crate) count: u32,
    /// The first occurrence (`eventTime`).
    pub(crate) event_time: Micros,
    /// The latest occurrence.
    pub(crate) last_observed: Micros,
    /// When a write was last attempted.
    pub(crate) last_attempt: Option<Micros>,
    pub(crate) failure: Option<Failure>,
    /// The server count (1: created, 2: series started) that a caller
    /// waiting in `publish` (or a queued `emit`) has taken on to write; 0
    /// when none. Later occurrences only count.
    pub(crate) claim: u8,
    /// Renames after true name clashes.
    pub(crate) generation: u16,
    pub(crate) place: Place,
    /// In the cache's dirty set.
    pub(crate) listed: bool,
    /// A writer holds the series' write turn (see `Engine::turn`): at most
    /// one write of a series runs at a time.
    pub(crate) writing: bool,
    /// When (Unix seconds) the series was last moved to the recently used
    /// end of the cache (see `Cache::touch`).
    pub(crate) placed: i64,
}

impl State {
    /// A series with its first occurrence at `now`.
    pub(crate) fn first(now: Timestamp) -> Self {
        Self {
            life: Lifecycle::Unsent,
            count: 1,
            event_time: Micros::of(now),
            last_observed: Micros::of(now),
            last_attempt: None,
            failure: None,
            claim: 0,
            generation: 0,
            place: Place::Cached,
            listed: false,
            writing: false,
            placed: now.as_second(),
        }
    }

    /// The count the server has (0 before a create).
    pub(crate) fn written(&self) -> u32 {
        match self.life {
            Lifecycle::Live { written } => written,
            Lifecycle::Unsent | Lifecycle::Creating | Lifecycle::Abandoned(_) => 0,
        }
    }

    /// Whether occurrences are waiting for a write.
    pub(crate) fn owing(&self) -> bool {
        !matches!(self.life, Lifecycle::Abandoned(_)) && self.count > self.written()
    }

    /// Occurrences not written (0 when abandoned: those were counted then).
    pub(crate) fn owed(&self) -> u32 {
        if self.owing() {
            self.count - self.written()
        } else {
            0
        }
    }

    /// How far the server is along the two writes an occurrence may wait
    /// for: 0 nothing, 1 created, 2 series started.
    pub(crate) fn level(&self) -> u8 {
        match self.life {
            Lifecycle::Live { written } if written >= 2 => 2,
            Lifecycle::Live { .. } => 1,
            Lifecycle::Unsent | Lifecycle::Creating | Lifecycle::Abandoned(_) => 0,
        }
    }

    /// Whether the last failures ask to wait: one flush interval after the
    /// first, doubling with each further one up to 64 intervals.
    pub(crate) fn backing_off(&self, now: Timestamp, interval: Duration) -> bool {
        self.failure.is_some_and(|f| {
            let factor = 1u32 << f.in_a_row.saturating_sub(1).min(6);
            now < later(f.at.get(), interval.saturating_mul(factor))
        })
    }

    /// The series as it stands: the count and the latest occurrence (an
    /// Event's `series` from its second occurrence on).
    pub(crate) fn series(&self) -> Series {
        Series {
            count: self.count,
            last_observed_time: self.last_observed.get(),
        }
    }

    /// Counts one more occurrence at `now`.
    pub(crate) fn observe(&mut self, now: Timestamp) {
        if self.count == 0 {
            // The first occurrence of a restarted series.
            self.event_time = Micros::of(now);
        }
        self.count = self.count.saturating_add(1);
        self.last_observed = self.last_observed.max(Micros::of(now));
    }

    /// The server refused the series of this Event: the occurrences that
    /// follow start a new Event under the next name. Returns the
    /// occurrences given up.
    pub(crate) fn restart(&mut self) -> u32 {
        let owed = self.owed();
        self.life = Lifecycle::Unsent;
        self.count = 0;
        self.generation = self.generation.saturating_add(1);
        self.failure = None;
        owed
    }

    /// Releases a caller's claim when it is still the latest one.
    pub(crate) fn release(&mut self, claim: u8) {
        if self.claim == claim {
            self.claim = 0;
        }
    }

    /// Gives the series up; returns the occurrences it had not written.
    pub(crate) fn abandon(&mut self, why: Abandon) -> u32 {
        let owed = self.owed();
        self.life = Lifecycle::Abandoned(why);
        owed
    }

    /// A write of `op` is about to be sent at `now`. Returns the lifecycle
    /// before it, for [`finish`](Self::finish).
    pub(crate) fn begin(&mut self, op: Write, now: Timestamp) -> Lifecycle {
        self.last_attempt = Some(Micros::of(now));
        let before = self.life;
        if op == Write::Create && before == Lifecycle::Unsent {
            // Until a definite answer, this create may take effect.
            self.life = Lifecycle::Creating;
        }
        before
    }

    /// The answer to a write of `op` that carried `sent` occurrences;
    /// `before` is what [`begin`](Self::begin) returned.
    pub(crate) fn finish(
        &mut self,
        op: Write,
        sent: u32,
        result: &Result<(), SinkError>,
        before: Lifecycle,
        now: Timestamp,
    ) -> Step {
        let definitely_not_created = matches!(
            result,
            Err(SinkError::AlreadyExists
                | SinkError::Throttled { .. }
                | SinkError::Forbidden { .. }
                | SinkError::NamespaceTerminating { .. }
                | SinkError::Invalid { .. }
                | SinkError::Fatal { .. }
                | SinkError::NotFound)
        );
        if op == Write::Create && definitely_not_created && self.life == Lifecycle::Creating {
            // This attempt created nothing; an earlier one may have.
            self.life = before;
        }
        if let Lifecycle::Abandoned(_) = self.life {
            // Given up while the write was under way; it stays given up.
            return if result.is_ok() {
                Step::Written
            } else {
                Step::Failed
            };
        }
        match (result, op) {
            (Ok(()), _) => {
                self.life = Lifecycle::Live {
                    written: self.written().max(sent),
                };
                self.failure = None;
                Step::Written
            }
            (Err(SinkError::AlreadyExists), Write::Create) => Step::Read,
            (Err(SinkError::NotFound), Write::Patch) => {
                // The Event expired or was deleted: create it again, with
                // every occurrence, under the same name.
                self.life = Lifecycle::Unsent;
                Step::Again
            }
            (Err(SinkError::Invalid { .. }), _) => Step::Refused,
            (Err(SinkError::NamespaceTerminating { .. }), _) => Step::Terminating,
            (Err(e), _) if e.is_retryable() => Step::Retry,
            (Err(e), _) => {
                self.failed(e, now);
                Step::Failed
            }
        }
    }

    /// Records a write that failed for good.
    pub(crate) fn failed(&mut self, err: &SinkError, now: Timestamp) {
        let in_a_row = self.failure.map_or(1, |f| f.in_a_row.saturating_add(1));
        self.failure = Some(Failure {
            at: Micros::of(now),
            in_a_row,
            refused: !err.is_retryable(),
        });
    }

    /// Takes over the stored Event of this series found under its name,
    /// unless the series was given up while the Event was read: what it had
    /// not written was counted as dropped then, and it stays given up.
    pub(crate) fn adopt(&mut self, stored: &EventRecord) -> Adopted {
        if let Lifecycle::Abandoned(_) = self.life {
            return Adopted::GivenUp;
        }
        let stored_count = stored.count();
        if self.life == Lifecycle::Creating && stored.event_time == self.event_time.get() {
            // Our own earlier create, whose answer was lost.
            self.life = Lifecycle::Live {
                written: self.written().max(stored_count),
            };
            Adopted::Own
        } else {
            // Written by an earlier life of this series (evicted from the
            // cache, or another process with the same reporter): continue
            // its count.
            self.count = self.count.saturating_add(stored_count);
            self.event_time = Micros::of(stored.event_time);
            self.last_observed = self.last_observed.max(Micros::of(stored.last_seen()));
            self.life = Lifecycle::Live {
                written: stored_count,
            };
            Adopted::Continued
        }
    }
}

/// What the writer does after a sink answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The write went through.
    Written,
    /// The name is taken: read the stored Event to learn whose it is.
    Read,
    /// Decide again and write what is due now (the Event must be created
    /// again).
    Again,
    /// A failure that may pass: retry within the budget.
    Retry,
    /// The server refuses the event as invalid: abandon it.
    Refused,
    /// The namespace is being deleted: abandon the series quietly.
    Terminating,
    /// Failed for good; the series keeps its count for a later write.
    Failed,
}

/// Whose Event a name clash turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Adopted {
    /// This process's own create, whose answer was lost.
    Own,
    /// An earlier life of the same series: its count continues.
    Continued,
    /// Nothing: the series was given up meanwhile.
    GivenUp,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ObjectRef;
    use crate::sink::Series;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    /// A stored Event of `count` occurrences first seen at `event_time`.
    pub(crate) fn stored(count: u32, event_time: Timestamp) -> EventRecord {
        EventRecord {
            name: "p.0".into(),
            namespace: "ns".into(),
            event_time,
            series: (count >= 2).then_some(Series {
                count,
                last_observed_time: event_time,
            }),
            regarding: ObjectRef::new("v1", "Pod", "p"),
            related: None,
            reason: "R".into(),
            action: "A".into(),
            note: None,
            type_: crate::EventType::Normal,
            reporting_controller: "c".into(),
            reporting_instance: "i".into(),
            annotations: Default::default(),
        }
    }

    #[test]
    fn adopting_our_own_lost_create_does_not_add_its_count_again() {
        let mut st = State::first(t(0));
        let before = st.begin(Write::Create, t(0));
        let lost = Err(SinkError::Transient {
            message: String::new(),
        });
        assert_eq!(
            st.finish(Write::Create, 1, &lost, before, t(0)),
            Step::Retry
        );
        assert_eq!(st.life, Lifecycle::Creating);
        // A 429 on the retry does not make the first attempt's outcome known.
        let before = st.begin(Write::Create, t(0));
        let busy = Err(SinkError::Throttled { retry_after: None });
        assert_eq!(
            st.finish(Write::Create, 1, &busy, before, t(0)),
            Step::Retry
        );
        assert_eq!(st.life, Lifecycle::Creating);
        st.observe(t(1));
        assert_eq!(st.adopt(&stored(1, t(0))), Adopted::Own);
        assert_eq!((st.count, st.written()), (2, 1));
    }

    #[test]
    fn a_stored_event_of_the_same_instant_is_ours_only_after_an_unsure_create() {
        // Never sent a create: an Event with the same eventTime is an
        // earlier life's, whose count continues.
        let mut st = State::first(t(0));
        assert_eq!(st.adopt(&stored(1, t(0))), Adopted::Continued);
        assert_eq!((st.count, st.written()), (2, 1));
    }

    #[test]
    fn a_series_given_up_while_its_event_was_read_adopts_nothing() {
        let mut st = State::first(t(0));
        let before = st.begin(Write::Create, t(0));
        let lost = Err(SinkError::Transient {
            message: String::new(),
        });
        st.finish(Write::Create, 1, &lost, before, t(0));
        let before = st.begin(Write::Create, t(0));
        let exists = Err(SinkError::AlreadyExists);
        assert_eq!(
            st.finish(Write::Create, 1, &exists, before, t(0)),
            Step::Read
        );
        // Left the cache while too many others owed writes, before the
        // read came back: its one occurrence was counted as dropped.
        assert_eq!(st.abandon(Abandon::Overflow), 1);
        for stored in [stored(1, t(0)), stored(4, t(-60))] {
            assert_eq!(st.adopt(&stored), Adopted::GivenUp);
            assert_eq!(st.life, Lifecycle::Abandoned(Abandon::Overflow));
            assert_eq!((st.count, st.written()), (1, 0));
        }
    }

    #[test]
    fn adopting_an_earlier_life_continues_its_count() {
        let mut st = State::first(t(100));
        assert_eq!(st.adopt(&stored(5, t(0))), Adopted::Continued);
        assert_eq!(
            (st.count, st.written(), st.event_time),
            (6, 5, Micros::of(t(0)))
        );
    }

    #[test]
    fn answers_move_the_lifecycle() {
        let mut st = State::first(t(0));
        let u = Lifecycle::Unsent;
        assert_eq!(st.finish(Write::Create, 1, &Ok(()), u, t(0)), Step::Written);
        assert_eq!(st.life, Lifecycle::Live { written: 1 });
        st.observe(t(1));
        let gone = Err(SinkError::NotFound);
        assert_eq!(st.finish(Write::Patch, 2, &gone, u, t(1)), Step::Again);
        assert_eq!(st.life, Lifecycle::Unsent);
        assert!(st.owing());
        let taken = Err(SinkError::AlreadyExists);
        assert_eq!(st.finish(Write::Create, 2, &taken, u, t(1)), Step::Read);
        let busy = Err(SinkError::Throttled { retry_after: None });
        assert_eq!(st.finish(Write::Create, 2, &busy, u, t(1)), Step::Retry);
        let no = Err(SinkError::Forbidden {
            message: String::new(),
        });
        assert_eq!(st.finish(Write::Create, 2, &no, u, t(1)), Step::Failed);
        assert!(st.failure.is_some_and(|f| f.refused && f.in_a_row == 1));
        assert!(st.backing_off(t(5), Duration::from_secs(10)));
        assert!(!st.backing_off(t(11), Duration::from_secs(10)));
        let bad = Err(SinkError::Invalid {
            message: String::new(),
        });
        assert_eq!(st.finish(Write::Create, 2, &bad, u, t(1)), Step::Refused);
        assert_eq!(st.abandon(Abandon::Invalid), 2);
        assert!(!st.owing());
        assert_eq!(st.owed(), 0);
    }

    #[test]
    fn claims_are_released_only_by_their_owner() {
        let mut st = State::first(t(0));
        st.claim = 2;
        st.release(1);
        assert_eq!(st.claim, 2);
        st.release(2);
        assert_eq!(st.claim, 0);
    }
}
