//! Fault injection around any sink and on `MemorySink` itself.

mod support;

use std::sync::Arc;
use std::time::Duration;

use event_core::sink::{EventSink, SinkError};
use event_testing::{FaultCounts, Faults, FaultySink, MemorySink, Target, sample_record};
use support::{patch, series};

fn transient() -> SinkError {
    SinkError::Transient {
        message: "503".into(),
    }
}

/// Creates `n` distinct events through `sink`; returns which failed (by index).
async fn create_many(sink: &dyn EventSink, n: usize) -> Vec<usize> {
    let mut failed = Vec::new();
    for i in 0..n {
        let mut r = sample_record();
        r.name = format!("web-0.{i}");
        if sink.create(&r).await.is_err() {
            failed.push(i);
        }
    }
    failed
}

#[tokio::test]
async fn fail_next_n_then_pass() {
    let memory = MemorySink::new();
    let sink = FaultySink::new(memory.clone());
    sink.faults().fail_next(2, transient());
    assert_eq!(create_many(&sink, 4).await, [0, 1]);
    assert_eq!(memory.creates(), 2);
    assert_eq!(
        sink.faults().counts(),
        FaultCounts {
            attempts: 4,
            create_attempts: 4,
            patch_attempts: 0,
            injected: 2,
            hung: 0,
            passed: 2,
            lost: 0,
        }
    );
    // Faults injected by a wrapper never reach the inner sink's log.
    assert_eq!(memory.attempts().len(), 2);
}

#[tokio::test]
async fn rules_are_used_in_order_and_by_target() {
    let sink = FaultySink::new(MemorySink::new());
    sink.faults()
        .fail_next_on(Target::Patches, 1, SinkError::NotFound)
        .fail_next(1, SinkError::Throttled { retry_after: None });
    let r = sample_record();
    // The create skips the patch rule and takes the second one.
    assert_eq!(
        sink.create(&r).await,
        Err(SinkError::Throttled { retry_after: None })
    );
    sink.create(&r).await.unwrap();
    assert_eq!(
        patch(&sink, &series(r.clone(), 2, 1)).await,
        Err(SinkError::NotFound)
    );
    patch(&sink, &series(r, 2, 1)).await.unwrap();
    let counts = sink.faults().counts();
    assert_eq!((counts.create_attempts, counts.patch_attempts), (2, 2));
    assert_eq!((counts.injected, counts.passed), (2, 2));
}

#[tokio::test]
async fn seeded_fraction_is_reproducible() {
    let run = |seed| async move {
        let sink = FaultySink::new(MemorySink::new());
        sink.faults().fail_fraction(0.3, seed, transient());
        create_many(&sink, 1000).await
    };
    let a = run(42).await;
    let b = run(42).await;
    let c = run(43).await;
    assert_eq!(a, b);
    assert_ne!(a, c);
    // About 30 %: the draw is uniform.
    assert!((250..350).contains(&a.len()), "{}", a.len());
}

#[tokio::test]
async fn fraction_bounds() {
    for (fraction, failures) in [(1.5, 10), (1.0, 10), (0.0, 0), (-1.0, 0), (f64::NAN, 0)] {
        let sink = FaultySink::new(MemorySink::new());
        sink.faults().fail_fraction(fraction, 1, transient());
        assert_eq!(create_many(&sink, 10).await.len(), failures, "{fraction}");
    }
}

#[tokio::test(start_paused = true)]
async fn latency_delays_each_write() {
    let sink = FaultySink::new(MemorySink::new());
    sink.faults().latency(Duration::from_millis(250));
    let start = tokio::time::Instant::now();
    assert!(create_many(&sink, 4).await.is_empty());
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    sink.faults().latency(Duration::ZERO);
    sink.inner().reset();
    assert!(create_many(&sink, 4).await.is_empty());
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn never_answer_hangs_until_cleared() {
    let memory = MemorySink::new();
    let sink = FaultySink::new(memory.clone());
    sink.faults().never_answer();
    let r = sample_record();
    let hung = tokio::time::timeout(Duration::from_secs(3600), sink.create(&r)).await;
    assert!(hung.is_err());
    assert_eq!(sink.faults().counts().hung, 1);
    assert!(memory.attempts().is_empty());

    sink.faults().clear();
    sink.create(&r).await.unwrap();
    assert_eq!(memory.creates(), 1);
}

#[tokio::test(start_paused = true)]
async fn never_answer_on_patches_only() {
    let sink = FaultySink::new(MemorySink::new());
    sink.faults().never_answer_on(Target::Patches);
    let r = sample_record();
    sink.create(&r).await.unwrap();
    let repeated = series(r, 2, 1);
    let hung = tokio::time::timeout(Duration::from_secs(60), patch(&sink, &repeated)).await;
    assert!(hung.is_err());
}

#[tokio::test]
async fn memory_sink_faults_are_logged_as_attempts() {
    let sink = MemorySink::new();
    sink.faults().fail_next(
        1,
        SinkError::Forbidden {
            message: "denied".into(),
        },
    );
    let r = sample_record();
    assert!(matches!(
        sink.create(&r).await,
        Err(SinkError::Forbidden { .. })
    ));
    sink.create(&r).await.unwrap();
    let attempts = sink.attempts();
    assert_eq!(attempts.len(), 2);
    assert!(!attempts[0].is_ok());
    assert!(attempts[1].is_ok());
    assert_eq!(sink.writes().len(), 1);
    assert_eq!(sink.faults().attempts(), 2);
    // reset() keeps the plan's counters; reset_counts() clears them.
    sink.reset();
    assert_eq!(sink.faults().attempts(), 2);
    sink.faults().reset_counts();
    assert_eq!(sink.faults().counts(), FaultCounts::default());
}

#[tokio::test]
async fn wraps_a_shared_dyn_sink_with_a_shared_plan() {
    let memory = MemorySink::new();
    let inner: Arc<dyn EventSink> = memory.arc();
    let faults = Faults::new();
    let sink = FaultySink::with_faults(inner, faults.clone());
    let clone = sink.clone();
    faults.fail_next(1, transient());
    assert!(clone.create(&sample_record()).await.is_err());
    assert_eq!(sink.faults().counts().injected, 1);
    assert!(format!("{sink:?}").starts_with("FaultySink { faults: Faults {"));
    sink.create(&sample_record()).await.unwrap();
    assert_eq!(memory.creates(), 1);
}

#[tokio::test]
async fn a_lost_answer_hides_a_write_that_took_effect() {
    let sink = MemorySink::new();
    sink.faults().lose_answers(1);
    let r = sample_record();
    assert!(matches!(
        sink.create(&r).await,
        Err(SinkError::Transient { .. })
    ));
    // Stored and logged as done; the caller could not tell.
    assert_eq!(sink.creates(), 1);
    assert_eq!(sink.create(&r).await, Err(SinkError::AlreadyExists));
    assert_eq!(sink.faults().counts().lost, 1);
}

#[tokio::test]
async fn fail_after_skips_then_fails_in_order() {
    let sink = MemorySink::new();
    sink.faults().fail_after(
        1,
        [
            transient(),
            SinkError::Forbidden {
                message: "no".into(),
            },
        ],
    );
    let mut outcomes = Vec::new();
    for i in 0..4 {
        let mut r = sample_record();
        r.name = format!("web-0.{i}");
        outcomes.push(sink.create(&r).await.err());
    }
    assert_eq!(
        outcomes,
        [
            None,
            Some(transient()),
            Some(SinkError::Forbidden {
                message: "no".into()
            }),
            None
        ]
    );
}

#[tokio::test]
async fn panic_next_panics_once_and_is_not_an_attempt() {
    let sink = MemorySink::new();
    sink.faults().panic_next(1);
    let r = sample_record();
    let first = tokio::spawn({
        let sink = sink.clone();
        let r = r.clone();
        async move { sink.create(&r).await }
    })
    .await;
    assert!(first.unwrap_err().is_panic());
    assert_eq!(sink.faults().attempts(), 0);
    sink.create(&r).await.unwrap();
    assert_eq!(sink.faults().attempts(), 1);
}

#[tokio::test(start_paused = true)]
async fn held_writes_wait_until_admitted_or_released() {
    let sink = MemorySink::new();
    sink.faults().hold();
    let tasks: Vec<_> = (0..3)
        .map(|i| {
            let sink = sink.clone();
            tokio::spawn(async move {
                let mut r = sample_record();
                r.name = format!("web-0.{i}");
                sink.create(&r).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!((sink.faults().waiting(), sink.creates()), (3, 0));
    sink.faults().admit(1);
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!((sink.faults().waiting(), sink.creates()), (2, 1));
    sink.faults().release();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!((sink.faults().waiting(), sink.creates()), (0, 3));
}

#[tokio::test(start_paused = true)]
async fn never_answer_reason_hangs_only_that_reason() {
    let sink = MemorySink::new();
    sink.faults().never_answer_reason("Stuck");
    let mut stuck = sample_record();
    stuck.reason = "Stuck".into();
    let hung = tokio::time::timeout(Duration::from_secs(60), sink.create(&stuck)).await;
    assert!(hung.is_err());
    sink.create(&sample_record()).await.unwrap();
    assert_eq!(sink.faults().counts().hung, 1);
}

#[tokio::test]
async fn reads_find_another_series_event_under_every_name() {
    let sink = MemorySink::new();
    let mut foreign = sample_record();
    foreign.reason = "Other".into();
    sink.faults().reads_find(Some(foreign));
    let found = EventSink::get(&sink, "shop", "any.name").await.unwrap();
    assert_eq!(
        (found.name.as_str(), found.reason.as_str()),
        ("any.name", "Other")
    );
    sink.faults().clear();
    assert_eq!(
        EventSink::get(&sink, "shop", "any.name").await,
        Err(SinkError::NotFound)
    );
    assert_eq!(sink.reads(), 2);
}

#[tokio::test]
async fn store_is_another_writers_event_not_one_of_ours() {
    let sink = MemorySink::new();
    let r = sample_record();
    sink.store(&r).unwrap();
    assert_eq!(sink.store(&r), Err(SinkError::AlreadyExists));
    assert_eq!(sink.events().len(), 1);
    assert!(sink.attempts().is_empty());
    assert_eq!(sink.create(&r).await, Err(SinkError::AlreadyExists));
}

#[tokio::test(start_paused = true)]
async fn the_script_picks_writes_in_the_order_they_are_counted() {
    let sink = MemorySink::new();
    sink.faults()
        .latency(Duration::from_millis(10))
        .fail_after(1, [transient()]);
    let mut a = sample_record();
    a.name = "web-0.a".into();
    let mut b = sample_record();
    b.name = "web-0.b".into();
    let sa = sink.clone();
    let first = tokio::spawn(async move { sa.create(&a).await });
    while sink.faults().counts().attempts < 1 {
        tokio::task::yield_now().await;
    }
    // The second write counted waits less, and is answered first.
    sink.faults().latency(Duration::from_millis(1));
    let sb = sink.clone();
    let second = tokio::spawn(async move { sb.create(&b).await });
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(second.is_finished() && !first.is_finished());
    // Yet the script's failure is the second counted.
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!((first, second), (Ok(()), Err(transient())));
}

#[tokio::test(start_paused = true)]
async fn a_held_write_given_up_is_no_longer_waiting() {
    let sink = MemorySink::new();
    sink.faults().hold();
    let given_up =
        tokio::time::timeout(Duration::from_secs(1), sink.create(&sample_record())).await;
    assert!(given_up.is_err());
    assert_eq!(sink.faults().waiting(), 0);
    sink.faults().never_answer();
    sink.faults().release();
    let hung = tokio::time::timeout(Duration::from_secs(1), sink.create(&sample_record())).await;
    assert!(hung.is_err());
    assert_eq!(sink.faults().waiting(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_release_frees_held_writes_even_if_the_hold_is_back() {
    let sink = MemorySink::new();
    // Admissions outside a hold are dropped.
    sink.faults().admit(5);
    sink.faults().hold();
    let task = tokio::spawn({
        let sink = sink.clone();
        async move { sink.create(&sample_record()).await }
    });
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(sink.faults().waiting(), 1);
    sink.faults().release();
    sink.faults().hold();
    task.await.unwrap().unwrap();
    assert_eq!((sink.faults().waiting(), sink.creates()), (0, 1));
}

#[tokio::test]
async fn both_sinks_log_a_series_patch_with_the_series_it_wrote() {
    let memory = MemorySink::new();
    let faulty = FaultySink::new(memory.clone());
    let r = sample_record();
    faulty.create(&r).await.unwrap();
    // The record still carries no series: the patch's own is what is written.
    let written = event_core::sink::Series {
        count: 3,
        last_observed_time: r.event_time,
    };
    faulty.patch_series(&r, written).await.unwrap();
    let expected = Some(written.merge_patch());
    assert_eq!(faulty.calls()[1].patch_body(), expected);
    assert_eq!(memory.writes()[1].patch_body(), expected);
}
