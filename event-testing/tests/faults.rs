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
