//! Model check of the per-series protocol with shuttle: two or three
//! threads run the engine's own transitions (`State::observe`, `decide`,
//! `State::begin`, `State::finish`, `State::adopt`) around a simulated
//! server that may lose an answer, delete the Event (a 404 on the next
//! patch) or hold it already (a 409 on the create); shuttle explores the
//! interleavings. After a final drain (the shutdown), the server holds
//! exactly one Event with every occurrence, no two writes of the series ran
//! at once, and every claim was released.
//!
//! What the model does not check: the write turn is modelled with a
//! `Condvar`; the engine's (`Engine::turn`, one `Notify` shared by all
//! series, armed before `writing` is read) is exercised by the tokio tests
//! of concurrent publishes (`tests/recorder.rs`), not explored here.
//!
//! shuttle rather than loom: the protocol is a handful of locks around
//! blocking calls, and shuttle explores schedules of whole threads with
//! random and PCT strategies cheaply and boundedly; loom's exhaustive
//! search of atomics is not what this protocol needs.

use jiff::Timestamp;
use shuttle::sync::{Arc, Condvar, Mutex};

use super::decide::{Mode, Timing, Write, decide};
use super::state::{Adopted, State, Step};
use crate::sink::SinkError;
use shuttle::rand::RngCore;

const TIMING: Timing = Timing {
    flush_interval: std::time::Duration::from_secs(10),
    heartbeat: std::time::Duration::from_secs(1800),
};

fn now() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The one Event of the series on the simulated server.
#[derive(Default)]
struct Server {
    /// Stored count and eventTime.
    stored: Option<(u32, Timestamp)>,
    writing: u32,
    /// Faults still to inject.
    lose_answers: u32,
    deletions: u32,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when the write turn (`State::writing`) is given back.
    turn_released: Condvar,
    server: Mutex<Server>,
}

/// A choice shuttle explores both ways.
fn coin() -> bool {
    shuttle::rand::thread_rng().next_u32() & 1 == 1
}

fn lock<T>(m: &Mutex<T>) -> shuttle::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The simulated API server's answer to one write.
fn serve(series: &Shared, op: Write, count: u32, event_time: Timestamp) -> Result<(), SinkError> {
    let mut server = lock(&series.server);
    server.writing += 1;
    assert_eq!(server.writing, 1, "two writes of one series at once");
    if coin() && server.deletions > 0 && server.stored.is_some() {
        server.deletions -= 1;
        server.stored = None;
    }
    let result = match (op, server.stored) {
        (Write::Create, Some(_)) => Err(SinkError::AlreadyExists),
        (Write::Create, None) => {
            server.stored = Some((count, event_time));
            Ok(())
        }
        (Write::Patch, None) => Err(SinkError::NotFound),
        (Write::Patch, Some((_, t))) => {
            server.stored = Some((count, t));
            Ok(())
        }
    };
    let lost = result.is_ok() && server.lose_answers > 0 && coin();
    if lost {
        server.lose_answers -= 1;
    }
    server.writing -= 1;
    if lost {
        Err(SinkError::Transient {
            message: "answer lost".into(),
        })
    } else {
        result
    }
}

/// Gives the write turn back when the writer ends.
struct Turn<'a>(&'a Shared);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).writing = false;
        self.0.turn_released.notify_all();
    }
}

/// The writer's loop, as `Engine::write` runs it, bounded.
fn write(series: &Shared, mut mode: Mode) {
    // The series' write turn, taken and given back as `Engine::turn` does.
    {
        let mut st = lock(&series.state);
        while st.writing {
            st = series
                .turn_released
                .wait(st)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        st.writing = true;
    }
    let _turn = Turn(series);
    for _ in 0..12 {
        let (op, count, event_time, before) = {
            let mut st = lock(&series.state);
            let Some(op) = decide(&st, mode, now(), &TIMING) else {
                return;
            };
            let before = st.begin(op, now());
            (op, st.count, st.event_time.get(), before)
        };
        shuttle::thread::yield_now();
        let result = serve(series, op, count, event_time);
        shuttle::thread::yield_now();
        let step = lock(&series.state).finish(op, count, &result, before, now());
        match step {
            Step::Written => return,
            Step::Read => {
                let stored = lock(&series.server).stored;
                if let Some((count, t)) = stored {
                    let adopted = lock(&series.state).adopt(&super::state::tests::stored(count, t));
                    if adopted == Adopted::Continued {
                        mode = Mode::Flush;
                    }
                }
            }
            Step::Again | Step::Retry => {}
            Step::Refused | Step::Terminating | Step::Failed => return,
        }
    }
}

/// One occurrence: counted, and written by its caller when it claims a
/// write (as `publish` does, and an `emit`'s queued job).
fn occurrence(series: &Shared) {
    let claim = {
        let mut st = lock(&series.state);
        st.observe(now());
        decide(&st, Mode::Occurrence, now(), &TIMING).map(|_| {
            let level = st.count.min(2) as u8;
            st.claim = level;
            level
        })
    };
    if let Some(level) = claim {
        write(series, Mode::Immediate);
        lock(&series.state).release(level);
    }
}

/// A series' life: `occurrences` from threads of their own (the first has
/// claimed the create), with a flush tick running beside them when
/// `flusher`, then a drain. `earlier` is what the server already stores of
/// this series (an earlier life, left the cache clean); the life starts
/// `offset` microseconds after it.
fn life(occurrences: u32, flusher: bool, earlier: Option<(u32, Timestamp)>, offset: i64) -> u32 {
    let mut first = State::first(
        now()
            .checked_add(jiff::SignedDuration::from_micros(offset))
            .unwrap_or(Timestamp::MAX),
    );
    first.claim = 1;
    let series = Arc::new(Shared {
        state: Mutex::new(first),
        turn_released: Condvar::new(),
        server: Mutex::new(Server {
            stored: earlier,
            lose_answers: 1,
            deletions: u32::from(earlier.is_none()),
            ..Server::default()
        }),
    });
    let mut threads = Vec::new();
    {
        // The first occurrence created the series and claimed its create.
        let series = Arc::clone(&series);
        threads.push(shuttle::thread::spawn(move || {
            write(&series, Mode::Immediate);
            lock(&series.state).release(1);
        }));
    }
    for _ in 1..occurrences {
        let series = Arc::clone(&series);
        threads.push(shuttle::thread::spawn(move || occurrence(&series)));
    }
    if flusher {
        let series = Arc::clone(&series);
        threads.push(shuttle::thread::spawn(move || write(&series, Mode::Tick)));
    }
    for t in threads {
        t.join()
            .unwrap_or_else(|_| panic!("a protocol thread panicked"));
    }
    // The shutdown: faults stop, and the drain writes what is owed.
    {
        let mut server = lock(&series.server);
        server.lose_answers = 0;
        server.deletions = 0;
    }
    for _ in 0..4 {
        write(&series, Mode::Flush);
    }
    let st = lock(&series.state);
    let stored = lock(&series.server).stored;
    assert_eq!(st.claim, 0, "a claim was never released");
    assert!(!st.owing(), "still owing after the drain: {st:?}");
    let before = earlier.map_or(0, |(count, _)| count);
    assert_eq!(
        stored.map(|(count, _)| count),
        Some(before + occurrences),
        "the stored count is every occurrence"
    );
    before + occurrences
}

fn scenario(occurrences: u32, flusher: bool) {
    life(occurrences, flusher, None, 0);
}

#[test]
fn two_publishers_and_a_flush_tick() {
    shuttle::check_random(|| scenario(2, true), 3_000);
}

#[test]
fn a_second_life_continues_the_stored_event() {
    shuttle::check_random(
        || {
            let stored = (3, now());
            life(2, true, Some(stored), 1);
        },
        2_000,
    );
}

#[test]
fn three_publishers() {
    shuttle::check_pct(|| scenario(3, false), 3_000, 3);
}
