//! The one decision every path makes: which write, if any, a series needs
//! now. Pure: the state, the mode, the time and the timing settings in, a
//! [`Write`] or nothing out.

use std::time::Duration;

use jiff::Timestamp;

use super::state::{Lifecycle, Place, State};

/// A write to the sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Write {
    /// Create the Event (with its series when the count is 2 or more).
    Create,
    /// Patch the series of the existing Event.
    Patch,
}

/// Why the question is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// An occurrence was just counted: must its caller write (and wait)?
    /// Only the create and the series start are written on behalf of an
    /// occurrence, and each by one caller.
    Occurrence,
    /// A caller holding the series' write turn on behalf of an occurrence.
    Immediate,
    /// The background tick: owed writes once per flush interval (at once
    /// for series that left the cache), outside any backoff.
    Tick,
    /// The background heartbeat: re-write a series before the server's TTL.
    Heartbeat,
    /// An explicit flush, or the first round of a drain: every owed write.
    Flush,
    /// Later rounds of a drain: every owed write but those the server
    /// refused for good (they would only be refused again).
    Drain,
}

/// The timing settings the decision needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    pub(crate) flush_interval: Duration,
    pub(crate) heartbeat: Duration,
}

/// `t + d`, saturating at the largest timestamp instead of panicking.
pub(crate) fn later(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// The write `st` needs now in `mode`, if any.
pub(crate) fn decide(st: &State, mode: Mode, now: Timestamp, timing: &Timing) -> Option<Write> {
    let op = match st.life {
        Lifecycle::Abandoned(_) => return None,
        Lifecycle::Unsent | Lifecycle::Creating => Write::Create,
        Lifecycle::Live { .. } => Write::Patch,
    };
    let waiting = st.backing_off(now, timing.flush_interval);
    let due = match mode {
        Mode::Occurrence => {
            let wanted = st.count.min(2) as u8;
            !waiting && wanted > st.level().max(st.claim)
        }
        Mode::Immediate => !waiting && st.level() < 2 && st.count.min(2) as u8 > st.level(),
        Mode::Tick => {
            let interval_passed = st.place == Place::Retiring
                || st
                    .last_attempt
                    .is_none_or(|t| now >= later(t.get(), timing.flush_interval));
            st.owing() && !waiting && interval_passed
        }
        Mode::Heartbeat => {
            let stale = st
                .last_attempt
                .is_none_or(|t| now >= later(t.get(), timing.heartbeat / 2));
            st.level() == 2 && !waiting && stale
        }
        Mode::Flush => st.owing(),
        Mode::Drain => st.owing() && !st.failure.is_some_and(|f| f.refused),
    };
    due.then_some(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::state::{Abandon, Failure, Micros};

    const TIMING: Timing = Timing {
        flush_interval: Duration::from_secs(10),
        heartbeat: Duration::from_secs(1800),
    };

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    /// A series with `count` occurrences, `written` on the server
    /// (`None`: not created), last attempted at `attempt` seconds.
    fn st(count: u32, written: Option<u32>, attempt: Option<i64>) -> State {
        let mut s = State::first(t(0));
        s.count = count;
        s.life = written.map_or(Lifecycle::Unsent, |written| Lifecycle::Live { written });
        s.last_attempt = attempt.map(|s| Micros::of(t(s)));
        s
    }

    fn with(mut s: State, f: impl FnOnce(&mut State)) -> State {
        f(&mut s);
        s
    }

    fn failed(refused: bool) -> impl FnOnce(&mut State) {
        move |s: &mut State| {
            s.failure = Some(Failure {
                at: Micros::of(t(0)),
                in_a_row: 1,
                refused,
            });
        }
    }

    #[test]
    fn decision_table() {
        use Mode::*;
        use Write::*;
        let cases: Vec<(&str, State, Mode, i64, Option<Write>)> = vec![
            // Occurrences: the first creates, the second starts the series,
            // later ones only count.
            (
                "first occurrence",
                st(1, None, None),
                Occurrence,
                0,
                Some(Create),
            ),
            (
                "second, create in flight",
                with(st(2, None, None), |s| s.claim = 1),
                Occurrence,
                0,
                Some(Create),
            ),
            (
                "third, both claimed",
                with(st(3, None, None), |s| s.claim = 2),
                Occurrence,
                0,
                None,
            ),
            (
                "second after the create",
                st(2, Some(1), Some(0)),
                Occurrence,
                0,
                Some(Patch),
            ),
            (
                "third after the series start",
                st(3, Some(2), Some(0)),
                Occurrence,
                0,
                None,
            ),
            (
                "second while backing off",
                with(st(2, Some(1), Some(0)), failed(true)),
                Occurrence,
                5,
                None,
            ),
            (
                "second after the backoff",
                with(st(2, Some(1), Some(0)), failed(true)),
                Occurrence,
                10,
                Some(Patch),
            ),
            (
                "abandoned",
                with(st(2, None, None), |s| {
                    s.life = Lifecycle::Abandoned(Abandon::Invalid);
                }),
                Occurrence,
                0,
                None,
            ),
            // A caller holding the write turn.
            (
                "immediate create",
                st(1, None, None),
                Immediate,
                0,
                Some(Create),
            ),
            (
                "immediate create carries the series",
                st(5, None, None),
                Immediate,
                0,
                Some(Create),
            ),
            (
                "immediate series start",
                st(4, Some(1), Some(0)),
                Immediate,
                0,
                Some(Patch),
            ),
            (
                "immediate, series already started",
                st(9, Some(2), Some(0)),
                Immediate,
                0,
                None,
            ),
            (
                "immediate, nothing new",
                st(1, Some(1), Some(0)),
                Immediate,
                0,
                None,
            ),
            (
                "immediate while backing off",
                with(st(1, None, Some(0)), failed(false)),
                Immediate,
                3,
                None,
            ),
            // The background tick.
            ("tick, clean", st(5, Some(5), Some(0)), Tick, 60, None),
            (
                "tick, dirty within the interval",
                st(6, Some(5), Some(0)),
                Tick,
                9,
                None,
            ),
            (
                "tick, dirty after the interval",
                st(6, Some(5), Some(0)),
                Tick,
                10,
                Some(Patch),
            ),
            (
                "tick, never attempted",
                st(1, None, None),
                Tick,
                0,
                Some(Create),
            ),
            (
                "tick, retiring ignores the interval",
                with(st(6, Some(5), Some(0)), |s| s.place = Place::Retiring),
                Tick,
                1,
                Some(Patch),
            ),
            (
                "tick, retiring still backs off",
                with(
                    with(st(6, Some(5), Some(0)), |s| s.place = Place::Retiring),
                    failed(true),
                ),
                Tick,
                1,
                None,
            ),
            (
                "tick, re-create after expiry",
                st(7, None, Some(0)),
                Tick,
                10,
                Some(Create),
            ),
            // The heartbeat.
            (
                "heartbeat, clean long series",
                st(5, Some(5), Some(0)),
                Heartbeat,
                900,
                Some(Patch),
            ),
            (
                "heartbeat, too soon",
                st(5, Some(5), Some(0)),
                Heartbeat,
                899,
                None,
            ),
            (
                "heartbeat, single event",
                st(1, Some(1), Some(0)),
                Heartbeat,
                3600,
                None,
            ),
            // Flush and drain.
            (
                "flush ignores interval and backoff",
                with(st(6, Some(5), Some(0)), failed(true)),
                Flush,
                1,
                Some(Patch),
            ),
            ("flush, clean", st(5, Some(5), Some(0)), Flush, 1, None),
            (
                "drain skips refused",
                with(st(6, Some(5), Some(0)), failed(true)),
                Drain,
                1,
                None,
            ),
            (
                "drain retries what may pass",
                with(st(6, None, Some(0)), failed(false)),
                Drain,
                1,
                Some(Create),
            ),
            (
                "drain, abandoned",
                with(st(6, Some(5), Some(0)), |s| {
                    s.life = Lifecycle::Abandoned(Abandon::Overflow);
                }),
                Drain,
                1,
                None,
            ),
        ];
        assert!(cases.len() >= 20);
        for (name, state, mode, at, want) in cases {
            assert_eq!(decide(&state, mode, t(at), &TIMING), want, "{name}");
        }
    }

    #[test]
    fn later_saturates() {
        assert_eq!(later(t(0), Duration::MAX), Timestamp::MAX);
        assert_eq!(
            later(Timestamp::MAX, Duration::from_secs(1)),
            Timestamp::MAX
        );
    }
}
