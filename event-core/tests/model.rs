//! A property-based model of the Recorder: random sequences of publishes and
//! emits on a handful of keys, clock advances, flushes, small caches and
//! faults, ending with a shutdown. Invariant: for every key the stored count
//! equals the accepted occurrences (less what a real deletion removed),
//! nothing is dropped uncounted, and the shutdown report lists exactly what
//! was not written.
//!
//! `MODEL_CASES` sets the number of cases (default 48; `cargo xtask soak`
//! runs many more).
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use event_core::{Error, Event, ObjectRef, Recorder};

use event_core::sink::SinkError;
use event_testing::{ManualClock, MemorySink};
use proptest::prelude::*;
use support::{attempted_names, delete_reason, fail_next, test_clock};

const KEYS: usize = 4;

#[derive(Clone, Debug)]
enum Op {
    Publish(usize),
    Emit(usize),
    Advance(u64),
    Flush,
    /// The next write fails before it takes effect.
    TransientBefore,
    /// The next write takes effect but its answer is lost.
    TransientAfter,
    Throttled,
    /// The key's stored Event is deleted (a 404 on its next patch).
    Delete(usize),
    /// Writes hang until the next advance.
    Hang,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..KEYS).prop_map(Op::Publish),
        6 => (0..KEYS).prop_map(Op::Emit),
        3 => (1u64..400).prop_map(Op::Advance),
        1 => Just(Op::Flush),
        1 => Just(Op::TransientBefore),
        1 => Just(Op::TransientAfter),
        1 => Just(Op::Throttled),
        1 => (0..KEYS).prop_map(Op::Delete),
        1 => Just(Op::Hang),
    ]
}

#[derive(Clone, Debug)]
struct Case {
    cache: usize,
    /// Keys whose Event name is taken by another series' Event at the start.
    foreign: Vec<bool>,
    ops: Vec<Op>,
    /// End with a sink that never answers and a short deadline.
    hang_at_end: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..=KEYS,
        proptest::collection::vec(any::<bool>(), KEYS),
        proptest::collection::vec(op(), 1..60),
        any::<bool>(),
    )
        .prop_map(|(cache, foreign, ops, hang_at_end)| Case {
            cache,
            foreign,
            ops,
            hang_at_end,
        })
}

fn reason(k: usize) -> String {
    format!("R{k}")
}

fn event(k: usize) -> Event {
    Event::warning(reason(k), "Starting")
}

fn object(k: usize) -> ObjectRef {
    ObjectRef::new("v1", "Pod", format!("p{}", k % 2)).within("shop")
}

fn recorder(sink: &MemorySink, clock: &ManualClock, cache: usize) -> Recorder {
    Recorder::builder(Arc::new(sink.clone()), "example.com/model")
        .clock(Arc::new(clock.clone()))
        .no_spam_filter()
        .max_cached_keys(cache)
        .build()
        .unwrap()
}

/// The name each key's Event gets, learnt from a recorder of its own.
async fn names(clock: &ManualClock) -> Vec<String> {
    let probe = MemorySink::new();
    let rec = recorder(&probe, clock, KEYS);
    let mut out = Vec::new();
    for k in 0..KEYS {
        rec.publish(&event(k), &object(k)).await.unwrap();
        out.push(attempted_names(&probe).last().cloned().unwrap());
    }
    out
}

async fn run(case: Case) {
    let clock = test_clock();
    let sink = MemorySink::new();
    for (k, name) in names(&clock).await.into_iter().enumerate() {
        if case.foreign[k] {
            let mut foreign = support::record("Foreign");
            foreign.name = name;
            foreign.reporting_controller = "example.com/model".into();
            sink.store(&foreign).unwrap();
        }
    }
    let rec = recorder(&sink, &clock, case.cache);
    let mut accepted = [0u32; KEYS];
    let mut deleted = [false; KEYS];
    let mut pending = Vec::new();
    for op in case.ops {
        match op {
            Op::Publish(k) => {
                let rec = rec.clone();
                pending.push((
                    k,
                    tokio::spawn(async move { rec.publish(&event(k), &object(k)).await }),
                ));
            }
            Op::Emit(k) => {
                rec.emit(&event(k), &object(k)).unwrap();
                accepted[k] += 1;
            }
            Op::Advance(secs) => {
                sink.faults().release();
                clock.advance(Duration::from_secs(secs));
                tokio::time::sleep(Duration::from_secs(secs)).await;
            }
            Op::Flush => {
                let rec = rec.clone();
                pending.push((
                    KEYS,
                    tokio::spawn(async move {
                        rec.flush().await;
                        Ok(event_core::Published::Created)
                    }),
                ));
            }
            Op::TransientBefore => fail_next(
                &sink,
                [SinkError::Transient {
                    message: "503".into(),
                }],
            ),
            Op::TransientAfter => {
                sink.faults().lose_answers(1);
            }
            Op::Throttled => fail_next(
                &sink,
                [SinkError::Throttled {
                    retry_after: Some(Duration::from_secs(2)),
                }],
            ),
            Op::Delete(k) => {
                deleted[k] |= delete_reason(&sink, &reason(k));
            }
            Op::Hang => {
                sink.faults().hold();
            }
        }
        tokio::task::yield_now().await;
    }
    sink.faults().clear();
    sink.faults().release();
    for (k, task) in pending {
        match task.await.unwrap() {
            Ok(_) | Err(Error::Sink(_)) if k < KEYS => accepted[k] += 1,
            Ok(_) | Err(Error::Sink(_)) => {}
            Err(other) => panic!("{other}"),
        }
    }
    let deadline = if case.hang_at_end {
        sink.faults().hold();
        Duration::from_secs(1)
    } else {
        Duration::from_secs(3600)
    };
    let report = rec.shutdown(deadline).await;
    let stats = report.stats;
    assert_eq!(stats.dropped_queue_full, 0);
    assert_eq!(stats.dropped_unwritten, 0);
    assert_eq!(
        stats.published,
        accepted.iter().map(|&n| u64::from(n)).sum::<u64>()
    );
    let stored: HashMap<String, event_core::sink::EventRecord> = sink
        .events()
        .into_iter()
        .map(|e| (e.reason.clone(), e))
        .collect();
    let reported: HashMap<String, event_core::sink::EventRecord> = report
        .unwritten
        .iter()
        .map(|r| (r.reason.clone(), r.clone()))
        .collect();
    assert_eq!(
        report.unwritten.len(),
        reported.len(),
        "one record per series"
    );
    assert!(stored.len() <= KEYS + 1, "one Event per series: {stored:?}");
    for k in 0..KEYS {
        let have = stored.get(&reason(k));
        let got = have.map_or(0, event_core::sink::EventRecord::count);
        // What the stored Event and the report's record stand for: the
        // record's count includes the stored one when it is the same life
        // of the series (same eventTime); otherwise it adds to it.
        let counted = match (have, reported.get(&reason(k))) {
            (Some(h), Some(r)) if h.event_time == r.event_time => {
                // Equal only for a create whose answer was lost: the
                // Recorder cannot know it took effect.
                assert!(
                    r.count() >= got || deleted[k],
                    "key {k}: listed {r:?}, stored {h:?}"
                );
                r.count()
            }
            (_, Some(r)) => got + r.count(),
            (_, None) => got,
        };
        if deleted[k] {
            assert!(
                counted <= accepted[k],
                "key {k}: {counted} > {}",
                accepted[k]
            );
        } else {
            assert_eq!(counted, accepted[k], "key {k}");
        }
    }
    if !case.hang_at_end {
        assert!(report.is_complete(), "{:?}", report.unwritten);
    }
    let foreign: Vec<_> = sink
        .events()
        .into_iter()
        .filter(|e| e.reason == "Foreign")
        .collect();
    assert_eq!(foreign.len(), case.foreign.iter().filter(|&&f| f).count());
    assert!(
        foreign.iter().all(|e| e.series.is_none()),
        "another series' Event is never touched"
    );
}

fn cases() -> u32 {
    std::env::var("MODEL_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // A failure prints its minimal case; nothing is written to disk.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_accepted_occurrence_is_stored_or_reported(case in case()) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(run(case));
    }
}

/// Found by the model: a key evicted clean and seen again within the same
/// clock instant, whose create then had an unknown outcome, took the
/// earlier life's Event for its own create and lost an occurrence.
#[tokio::test(start_paused = true)]
async fn a_second_life_in_the_same_instant_is_not_taken_for_its_own_create() {
    run(Case {
        cache: 1,
        foreign: vec![false; KEYS],
        ops: vec![
            Op::Publish(0),
            Op::Publish(1),
            Op::Flush,
            Op::TransientBefore,
            Op::Publish(0),
            Op::Publish(0),
        ],
        hang_at_end: false,
    })
    .await;
}

/// Found by the model: a renamed series, evicted and seen again, is
/// reported with the occurrences of its new life only.
#[tokio::test(start_paused = true)]
async fn a_renamed_series_cut_short_by_shutdown_is_reported() {
    run(Case {
        cache: 1,
        foreign: vec![false, false, true, false],
        ops: vec![Op::Publish(2), Op::Publish(0), Op::Advance(5), Op::Emit(2)],
        hang_at_end: true,
    })
    .await;
}
