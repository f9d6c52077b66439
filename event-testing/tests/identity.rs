//! Series that never split: one Event per series past the cache bound and
//! across restarts, counted exactly against `MemorySink`.

use std::sync::Arc;
use std::time::Duration;

use event_core::{Event, ObjectRef, Published, Recorder, Reporter};
use event_testing::{ManualClock, MemorySink};

fn recorder(sink: &MemorySink, clock: &ManualClock, reporter: Reporter) -> Recorder {
    Recorder::builder(sink.arc(), reporter)
        .clock(Arc::new(clock.clone()))
        .no_spam_filter()
        .max_cached_keys(1_000)
        .build()
        .expect("valid reporter")
}

fn reporter(instance: &str) -> Reporter {
    Reporter::new("example.com/widgets").with_instance(instance)
}

fn pod(i: usize) -> ObjectRef {
    ObjectRef::new("v1", "Pod", format!("web-{i}"))
        .within(format!("team-{}", i % 10))
        .with_uid(format!("uid-{i}"))
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_live_keys_past_a_cache_of_one_thousand_make_one_event_each() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let rec = recorder(&sink, &clock, reporter("widgets-0"));
    let e = Event::warning("BackOff", "Starting");
    for _round in 0..5 {
        for i in 0..10_000 {
            rec.publish(&e, &pod(i)).await.expect("published");
        }
        // Spread over simulated time: a minute per round.
        clock.advance(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let report = rec.shutdown(Duration::from_secs(600)).await;
    assert!(report.is_complete(), "{} unwritten", report.unwritten.len());
    let events = sink.events();
    assert_eq!(events.len(), 10_000);
    assert!(events.iter().all(|ev| ev.count() == 5));
    let s = report.stats;
    assert_eq!(s.published, 50_000);
    assert_eq!(s.created, 10_000);
    assert!(s.evicted >= 40_000, "{s:?}");
    assert!(s.adopted > 0, "{s:?}");
    assert_eq!(s.dropped_unwritten, 0);
    assert!(rec.cached_keys() <= 1_000);
}

#[tokio::test(start_paused = true)]
async fn a_restarted_controller_continues_its_series() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let e = Event::warning("BackOff", "Starting").note("exit 1");
    let first = recorder(&sink, &clock, reporter("widgets-0"));
    for _ in 0..5 {
        first.publish(&e, &pod(0)).await.expect("published");
    }
    assert!(first.shutdown(Duration::from_secs(30)).await.is_complete());
    clock.advance(Duration::from_secs(30));

    let second = recorder(&sink, &clock, reporter("widgets-0"));
    assert_eq!(
        second.publish(&e, &pod(0)).await.expect("published"),
        Published::SeriesUpdated { count: 6 }
    );
    for _ in 0..4 {
        second.publish(&e, &pod(0)).await.expect("published");
    }
    assert!(second.shutdown(Duration::from_secs(30)).await.is_complete());
    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].count(), 10);
    assert_eq!(second.stats().adopted, 1);

    // Another instance (the server makes reportingInstance immutable)
    // starts its own Event.
    let other = recorder(&sink, &clock, reporter("widgets-1"));
    other.publish(&e, &pod(0)).await.expect("published");
    let mut counts: Vec<u32> = sink
        .events()
        .iter()
        .map(event_core::sink::EventRecord::count)
        .collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 10]);
}

#[tokio::test(start_paused = true)]
async fn an_idle_series_resumes_its_stored_event() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let rec = recorder(&sink, &clock, reporter("widgets-0"));
    let e = Event::normal("Synced", "Reconciling");
    for _ in 0..3 {
        rec.publish(&e, &pod(1)).await.expect("published");
    }
    // Idle past the series TTL: flushed and evicted, its Event still stored
    // (the server keeps it an hour).
    clock.advance(Duration::from_secs(20 * 60));
    tokio::time::sleep(Duration::from_secs(20 * 60)).await;
    assert_eq!(rec.cached_keys(), 0);
    rec.publish(&e, &pod(1)).await.expect("published");
    rec.flush().await;
    let events = sink.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].count(), 4);
}
