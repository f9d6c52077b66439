//! Engine behaviour, asserted by counts of writes.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use event_core::{DropReason, Error, Event, ObjectRef, Published, Recorder, SkipReason};

use event_core::config::RetryPolicy;

use event_core::sink::SinkError;
use event_testing::{MemorySink, WriteKind};
use support::{
    CTL, attempted_names, builder, count_of, delete_all, fail_all, fail_next, held_sink, pod,
    test_clock,
};

#[tokio::test(start_paused = true)]
async fn flood_of_ten_thousand_makes_three_writes() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::warning("BackOff", "Starting").note("exit 1");
    let p = pod("web-0");
    for i in 0..10_000u32 {
        let out = rec.publish(&e, &p).await.unwrap();
        match i {
            0 => assert_eq!(out, Published::Created),
            1 => assert_eq!(out, Published::SeriesUpdated { count: 2 }),
            _ => assert_eq!(out, Published::Coalesced { count: i + 1 }),
        }
        if i % 100 == 0 {
            clock.advance(Duration::from_millis(10)); // 10,000 within one second
        }
    }
    assert_eq!(sink.writes().len(), 2);
    rec.flush().await;
    let writes = sink.writes();
    assert_eq!(writes.len(), 3);
    assert_eq!(writes[2].kind, WriteKind::PatchSeries);
    assert_eq!(writes[2].record.count(), 10_000);
    assert_eq!(count_of(&sink, "BackOff"), 10_000);
    let s = rec.stats();
    assert_eq!(
        (s.published, s.created, s.patched, s.coalesced),
        (10_000, 1, 2, 9_998)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_concurrent_first_publishes_make_one_create() {
    let sink = MemorySink::new();
    let rec = Recorder::builder(Arc::new(sink.clone()), CTL)
        .build()
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (rec, barrier) = (rec.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                rec.publish(&Event::normal("Synced", "Reconciling"), &pod("p"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    rec.flush().await;
    assert_eq!(sink.creates(), 1);
    assert_eq!(count_of(&sink, "Synced"), 64);
    assert_eq!(rec.stats().published, 64);
}

#[tokio::test(start_paused = true)]
async fn patch_not_found_recreates_once_with_the_series_under_its_name() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::normal("Synced", "Reconciling");
    rec.publish(&e, &pod("p")).await.unwrap();
    let first_name = sink.writes()[0].record.name.clone();
    delete_all(&sink); // the event expired on the server
    let out = rec.publish(&e, &pod("p")).await.unwrap();
    assert_eq!(out, Published::Created);
    let writes = sink.writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[1].kind, WriteKind::Create);
    // The name is the series' own: the expired Event's name is free again.
    assert_eq!(writes[1].record.name, first_name);
    assert_eq!(writes[1].record.series.map(|s| s.count), Some(2));
    assert_eq!(sink.faults().attempts(), 3, "create, failed patch, create");
    // The series goes on under the new name.
    rec.publish(&e, &pod("p")).await.unwrap();
    rec.flush().await;
    assert_eq!(
        sink.writes().last().unwrap().record.name,
        writes[1].record.name
    );
    assert_eq!(count_of(&sink, "Synced"), 3);
}

#[tokio::test(start_paused = true)]
async fn another_series_event_under_the_name_gets_a_renamed_event() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let e = Event::normal("Synced", "Reconciling");
    // Learn the series' name, then let another series' Event hold it.
    let probe = MemorySink::new();
    let rec = builder(&probe, &clock).build().unwrap();
    rec.publish(&e, &pod("p")).await.unwrap();
    let mut foreign = probe.events()[0].clone();
    foreign.reason = "SomethingElse".into();
    sink.store(&foreign).unwrap();

    let rec = builder(&sink, &clock).build().unwrap();
    let out = rec.publish(&e, &pod("p")).await;
    assert_eq!(out.unwrap(), Published::Created);
    assert_eq!(sink.faults().attempts(), 2);
    assert_eq!(sink.reads(), 1);
    assert_eq!(sink.creates(), 1);
    let names = attempted_names(&sink);
    assert_eq!(names[0], foreign.name);
    assert_ne!(names[0], names[1], "renamed after the clash");
    // Nothing lost, the other Event untouched.
    assert_eq!(count_of(&sink, "Synced"), 1);
    assert_eq!(
        sink.events().iter().find(|ev| ev.name == foreign.name),
        Some(&foreign)
    );
    // The renamed Event is the series' from now on.
    rec.publish(&e, &pod("p")).await.unwrap();
    assert_eq!(count_of(&sink, "Synced"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_name_clash_whose_event_expired_before_the_read_creates_it() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    fail_next(&sink, [SinkError::AlreadyExists]);
    let rec = builder(&sink, &clock).build().unwrap();
    let out = rec
        .publish(&Event::normal("Synced", "Reconciling"), &pod("p"))
        .await;
    assert_eq!(out.unwrap(), Published::Created);
    assert_eq!(
        (sink.faults().attempts(), sink.reads(), sink.creates()),
        (2, 1, 1)
    );
    let names = attempted_names(&sink);
    assert_eq!(names[0], names[1], "the name is free: no rename");
}

#[tokio::test(start_paused = true)]
async fn spam_filter_limits_new_events_but_never_repeats() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let p = pod("noisy");
    let mut dropped = 0;
    for i in 0..30 {
        let e = Event::warning(format!("Reason{i}"), "Reconciling");
        if rec.publish(&e, &p).await.unwrap() == Published::Dropped(DropReason::Spam) {
            dropped += 1;
        }
        clock.advance(Duration::from_millis(30));
    }
    assert_eq!(dropped, 5);
    assert_eq!(sink.creates(), 25);
    assert_eq!(rec.stats().dropped_spam, 5);
    // Repeats of the 25 live series in the same second: all counted.
    for round in 0..4 {
        for i in 0..25 {
            let e = Event::warning(format!("Reason{i}"), "Reconciling");
            let out = rec.publish(&e, &p).await.unwrap();
            assert!(
                !matches!(out, Published::Dropped(_)),
                "round {round}: {out:?}"
            );
        }
    }
    rec.flush().await;
    assert_eq!(rec.stats().dropped_spam, 5);
    for i in 0..25 {
        assert_eq!(count_of(&sink, &format!("Reason{i}")), 5);
    }
    // Another object has its own bucket; Normal events have their own too.
    let out = rec
        .publish(&Event::warning("Reason0", "Reconciling"), &pod("quiet"))
        .await;
    assert_eq!(out.unwrap(), Published::Created);
    let out = rec.publish(&Event::normal("Fine", "Reconciling"), &p).await;
    assert_eq!(out.unwrap(), Published::Created);
}

#[tokio::test(start_paused = true)]
async fn emit_never_waits_and_drops_when_the_queue_is_full() {
    let sink = held_sink();
    let rec = Recorder::builder(Arc::new(sink.clone()), CTL)
        .queue_capacity(8)
        .writers(2)
        .no_spam_filter()
        .build()
        .unwrap();
    // Fill the writers (2 in flight) and the queue (8).
    for i in 0..8 {
        rec.emit(&Event::normal(format!("R{i}"), "A"), &pod("p"))
            .unwrap();
    }
    while sink.faults().waiting() < 2 {
        tokio::task::yield_now().await;
    }
    for i in 0..2 {
        rec.emit(&Event::normal(format!("S{i}"), "A"), &pod("p"))
            .unwrap();
    }
    assert_eq!(
        rec.stats().dropped_queue_full,
        0,
        "the queue holds 8 behind 2 writers"
    );
    for i in 0..100u64 {
        rec.emit(&Event::normal(format!("T{i}"), "A"), &pod("p"))
            .unwrap();
        assert_eq!(rec.stats().dropped_queue_full, i + 1);
    }
    let report = rec.shutdown(Duration::from_secs(1)).await;
    assert_eq!(report.stats.dropped_queue_full, 100);
    assert_eq!(
        report.unwritten.len(),
        10,
        "the queued and in-flight creates"
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_writes_every_dirty_series_then_refuses() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).no_spam_filter().build().unwrap();
    for i in 0..100 {
        for _ in 0..5 {
            rec.publish(&Event::normal(format!("R{i}"), "A"), &pod("p"))
                .await
                .unwrap();
        }
    }
    assert_eq!(sink.writes().len(), 200);
    let report = rec.shutdown(Duration::from_secs(30)).await;
    assert!(report.is_complete(), "{report:?}");
    for i in 0..100 {
        assert_eq!(count_of(&sink, &format!("R{i}")), 5);
    }
    assert_eq!(sink.writes().len(), 300);
    let after = rec.publish(&Event::normal("R0", "A"), &pod("p")).await;
    assert_eq!(after, Err(Error::ShutDown));
    assert_eq!(
        rec.emit(&Event::normal("R0", "A"), &pod("p")),
        Err(Error::ShutDown)
    );
}

#[tokio::test(start_paused = true)]
async fn cache_is_bounded() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock)
        .no_spam_filter()
        .max_cached_keys(1_000)
        .build()
        .unwrap();
    for i in 0..10_000 {
        rec.publish(&Event::normal(format!("R{i}"), "A"), &pod("p"))
            .await
            .unwrap();
        assert!(rec.cached_keys() <= 1_000);
    }
    assert_eq!(rec.cached_keys(), 1_000);
    assert_eq!(sink.creates(), 10_000);
}

#[tokio::test(start_paused = true)]
async fn evicting_a_dirty_series_writes_its_count() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock)
        .no_spam_filter()
        .max_cached_keys(2)
        .build()
        .unwrap();
    for _ in 0..7 {
        rec.publish(&Event::normal("Old", "A"), &pod("p"))
            .await
            .unwrap();
    }
    rec.publish(&Event::normal("New1", "A"), &pod("p"))
        .await
        .unwrap();
    rec.publish(&Event::normal("New2", "A"), &pod("p"))
        .await
        .unwrap();
    assert_eq!(rec.cached_keys(), 2);
    rec.flush().await;
    assert_eq!(count_of(&sink, "Old"), 7);
}

#[tokio::test(start_paused = true)]
async fn seeded_transient_failures_lose_no_counts() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    sink.faults().fail_fraction(
        0.3,
        7,
        SinkError::Transient {
            message: "injected 503".into(),
        },
    );
    let rec = builder(&sink, &clock)
        .no_spam_filter()
        .retry(RetryPolicy::default().max_attempts(3))
        .build()
        .unwrap();
    let mut expected = std::collections::BTreeMap::new();
    let mut rng = fastrand::Rng::with_seed(11);
    for _ in 0..2_000 {
        let obj = rng.usize(0..20);
        let p = pod(&format!("p{obj}"));
        let e = Event::warning(format!("R{obj}"), "A");
        // Errors are allowed; counts must not be lost.
        let _ = rec.publish(&e, &p).await;
        *expected.entry(format!("R{obj}")).or_insert(0u32) += 1;
        if rng.u8(..) < 10 {
            clock.advance(Duration::from_secs(3));
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    let report = rec.shutdown(Duration::from_secs(600)).await;
    assert!(report.is_complete(), "{report:?}");
    for (reason, n) in expected {
        assert_eq!(count_of(&sink, &reason), n, "{reason}");
    }
    assert!(rec.stats().retried > 0);
}

#[tokio::test(start_paused = true)]
async fn background_task_flushes_at_most_once_per_interval() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::normal("Tick", "A");
    for _ in 0..3 {
        rec.publish(&e, &pod("p")).await.unwrap();
    }
    assert_eq!(sink.writes().len(), 2);
    // Not yet due.
    clock.advance(Duration::from_secs(4));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(sink.writes().len(), 2);
    clock.advance(Duration::from_secs(7));
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(sink.writes().len(), 3);
    assert_eq!(count_of(&sink, "Tick"), 3);
    // Clean series: nothing more is written.
    clock.advance(Duration::from_secs(60));
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(sink.writes().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn idle_keys_are_flushed_and_forgotten_and_their_series_continues() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::normal("Idle", "A");
    for _ in 0..4 {
        rec.publish(&e, &pod("p")).await.unwrap();
    }
    clock.advance(Duration::from_secs(6 * 60 + 1));
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(rec.cached_keys(), 0);
    assert_eq!(count_of(&sink, "Idle"), 4);
    assert_eq!(rec.stats().evicted, 1);
    // The next occurrence finds the stored Event by its name and continues
    // it: a create answered 409, a read, a patch.
    assert_eq!(
        rec.publish(&e, &pod("p")).await.unwrap(),
        Published::SeriesUpdated { count: 5 }
    );
    assert_eq!((sink.creates(), sink.reads()), (1, 1));
    assert_eq!(sink.events().len(), 1);
    assert_eq!(count_of(&sink, "Idle"), 5);
    assert_eq!(rec.stats().adopted, 1);
}

#[tokio::test(start_paused = true)]
async fn long_series_get_a_heartbeat_before_the_server_ttl() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock)
        .series_ttl(Duration::from_secs(3 * 3600))
        .build()
        .unwrap();
    let e = Event::normal("Long", "A");
    rec.publish(&e, &pod("p")).await.unwrap();
    rec.publish(&e, &pod("p")).await.unwrap();
    assert_eq!(sink.writes().len(), 2);
    for _ in 0..12 {
        clock.advance(Duration::from_secs(5 * 60));
        tokio::time::sleep(Duration::from_secs(5 * 60)).await;
    }
    // An hour with no occurrences: refreshed at least twice (every 30 min).
    let heartbeats = sink.writes().len() - 2;
    assert_eq!(
        heartbeats, 3,
        "an hour of silence: refreshed well within every 30 min"
    );
    assert!(
        sink.writes()[2..]
            .iter()
            .all(|w| w.kind == WriteKind::PatchSeries && w.record.count() == 2)
    );
}

#[tokio::test(start_paused = true)]
async fn invalid_and_forbidden_are_not_retried() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    fail_next(
        &sink,
        [SinkError::Invalid {
            message: "note: Too long".into(),
        }],
    );
    let out = rec.publish(&Event::normal("Bad", "A"), &pod("p")).await;
    assert!(matches!(out, Err(Error::Sink(SinkError::Invalid { .. }))));
    assert_eq!(sink.faults().attempts(), 1);
    // An invalid event is never tried again.
    rec.publish(&Event::normal("Bad", "A"), &pod("p"))
        .await
        .unwrap();
    rec.flush().await;
    assert_eq!(sink.faults().attempts(), 1);

    fail_next(
        &sink,
        [SinkError::Forbidden {
            message: "cannot create events".into(),
        }],
    );
    let out = rec.publish(&Event::normal("NoRbac", "A"), &pod("p")).await;
    assert!(matches!(out, Err(Error::Sink(SinkError::Forbidden { .. }))));
    assert_eq!(sink.faults().attempts(), 2);
    assert_eq!(rec.stats().failed, 2);
    assert_eq!(rec.stats().retried, 0);
    // RBAC fixed: the next flush writes the owed event with its count.
    rec.publish(&Event::normal("NoRbac", "A"), &pod("p"))
        .await
        .unwrap();
    rec.flush().await;
    assert_eq!(count_of(&sink, "NoRbac"), 2);
}

#[tokio::test(start_paused = true)]
async fn throttling_waits_for_retry_after() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    fail_next(
        &sink,
        [SinkError::Throttled {
            retry_after: Some(Duration::from_secs(3)),
        }],
    );
    let rec = builder(&sink, &clock).build().unwrap();
    let start = tokio::time::Instant::now();
    let out = rec.publish(&Event::normal("Slow", "A"), &pod("p")).await;
    assert_eq!(out.unwrap(), Published::Created);
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(rec.stats().retried, 1);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_bounded_attempts() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let transient = || SinkError::Transient {
        message: "503".into(),
    };
    fail_next(&sink, (0..10).map(|_| transient()));
    let rec = builder(&sink, &clock).build().unwrap();
    let out = rec.publish(&Event::normal("Down", "A"), &pod("p")).await;
    assert_eq!(out, Err(Error::Sink(transient())));
    assert_eq!(
        sink.faults().attempts(),
        u64::from(event_core::config::DEFAULT_RETRY_ATTEMPTS)
    );
    // The occurrence is kept: flush writes it once the failures pass.
    clock.advance(Duration::from_secs(1));
    let out = rec
        .publish(&Event::normal("Down", "A"), &pod("p"))
        .await
        .unwrap();
    assert_eq!(
        out,
        Published::Coalesced { count: 2 },
        "no hammering right after a failure"
    );
    rec.flush().await; // 5 more failures queued: attempts 6..=10 fail
    rec.flush().await;
    assert_eq!(count_of(&sink, "Down"), 2);
}

#[tokio::test(start_paused = true)]
async fn events_about_events_are_skipped_and_invalid_input_is_typed() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let ev = ObjectRef::new("events.k8s.io/v1", "Event", "x.123").within("shop");
    let out = rec.publish(&Event::normal("Seen", "A"), &ev).await.unwrap();
    assert_eq!(out, Published::Skipped(SkipReason::AboutAnEvent));
    let long = "R".repeat(129);
    let err = rec
        .publish(&Event::normal(&long, ""), &pod("p").within("Bad_NS"))
        .await
        .unwrap_err();
    let Error::Invalid(v) = err else {
        panic!("{err:?}")
    };
    assert!(v.concerns("reason") && v.concerns("action") && v.concerns("regarding.namespace"));
    assert!(sink.writes().is_empty());
    assert_eq!(rec.stats().skipped, 1);
    assert_eq!(rec.stats().published, 0);
}

#[tokio::test(start_paused = true)]
async fn cluster_scoped_objects_go_to_the_configured_namespace() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let node = ObjectRef::new("v1", "Node", "worker-1").with_uid("n-uid");
    let rec = builder(&sink, &clock).build().unwrap();
    rec.publish(&Event::normal("Ready", "A"), &node)
        .await
        .unwrap();
    let rec = builder(&sink, &clock)
        .cluster_scoped_namespace(event_core::config::ClusterScopedNamespace::KubeSystem)
        .build()
        .unwrap();
    rec.publish(&Event::normal("Ready", "A"), &node)
        .await
        .unwrap();
    let w = sink.writes();
    assert_eq!(w[0].record.namespace, "default");
    assert_eq!(w[1].record.namespace, "kube-system");
    assert_eq!(
        w[0].record.regarding.namespace, None,
        "the reference is never rewritten"
    );
}

#[tokio::test(start_paused = true)]
async fn resource_version_changes_do_not_split_a_series_and_records_are_complete() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::warning("Failed", "Reconciling")
        .note("n".repeat(5000))
        .related(&ObjectRef::new("v1", "Secret", "s").within("shop"))
        .annotation("example.com/k", "v");
    rec.publish(&e, &pod("p").with_resource_version("1"))
        .await
        .unwrap();
    rec.publish(&e, &pod("p").with_resource_version("2"))
        .await
        .unwrap();
    let w = sink.writes();
    assert_eq!(w.len(), 2);
    let r = &w[0].record;
    assert!(r.note.as_ref().unwrap().len() <= 1024);
    assert_eq!(r.reporting_controller, CTL);
    assert!(!r.reporting_instance.is_empty());
    assert_eq!(r.related.as_ref().unwrap().name, "s");
    assert_eq!(r.annotations["example.com/k"], "v");
    assert_eq!(r.regarding.resource_version.as_deref(), Some("1"));
    assert!(event_core::validate::is_dns_subdomain(&r.name));
    assert_eq!(r.event_time.subsec_nanosecond() % 1000, 0);
}

#[test]
fn works_on_a_current_thread_runtime_and_tasks_end_on_drop() {
    let sink = MemorySink::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let held = Arc::new(sink.clone());
    let weak = Arc::downgrade(&held);
    rt.block_on(async {
        let rec = Recorder::builder(held, CTL).build().unwrap();
        for _ in 0..5 {
            rec.emit(&Event::normal("Emitted", "A"), &pod("p")).unwrap();
            tokio::task::yield_now().await;
        }
        drop(rec);
        // The last clone is gone: the background task makes its final flush.
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    assert_eq!(count_of(&sink, "Emitted"), 5);
    // Every task holding the recorder's state has ended: the sink it held
    // is released.
    assert!(
        weak.upgrade().is_none(),
        "background tasks still hold the sink"
    );
    drop(rt);
}

#[test]
fn emit_outside_a_runtime_is_an_error_not_a_panic() {
    let rec = Recorder::builder(Arc::new(MemorySink::new()), CTL)
        .build()
        .unwrap();
    assert_eq!(
        rec.emit(&Event::normal("R", "A"), &pod("p")),
        Err(Error::NoRuntime)
    );
}

#[tokio::test(start_paused = true)]
async fn a_forbidden_patch_is_not_repeated_for_every_occurrence() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::warning("CrashLoop", "Starting");
    rec.publish(&e, &pod("p")).await.unwrap();
    let forbidden = || SinkError::Forbidden {
        message: "cannot patch events".into(),
    };
    fail_next(&sink, (0..100).map(|_| forbidden()));
    assert!(rec.publish(&e, &pod("p")).await.is_err());
    // Queued and awaited occurrences alike: no request while backing off.
    for _ in 0..50 {
        rec.emit(&e, &pod("p")).unwrap();
        rec.publish(&e, &pod("p")).await.unwrap();
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        sink.faults().attempts(),
        2,
        "one create, one forbidden patch"
    );
    // The background task tries again after 10 s, then 20 s, 40 s, ...
    let mut attempts = Vec::new();
    for _ in 0..16 {
        clock.advance(Duration::from_secs(10));
        tokio::time::sleep(Duration::from_secs(10)).await;
        attempts.push(sink.faults().attempts());
    }
    assert_eq!(sink.faults().attempts(), 2 + 4, "{attempts:?}");
    // Permission granted: the next due write carries every occurrence.
    sink.faults().clear();
    rec.flush().await;
    assert_eq!(count_of(&sink, "CrashLoop"), 102);
    assert_eq!(rec.stats().failed, 5);
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_answer_was_lost_is_not_written_twice() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::normal("Lost", "A");
    sink.faults().lose_answers(1);
    // The create reaches the server, the answer is lost, the retry gets 409
    // for the same name: that is our own event, not a clash.
    assert_eq!(
        rec.publish(&e, &pod("p")).await.unwrap(),
        Published::Created
    );
    assert_eq!(sink.events().len(), 1);
    assert_eq!(sink.faults().attempts(), 2);
    assert_eq!(rec.stats().created, 1);
    for _ in 0..4 {
        rec.publish(&e, &pod("p")).await.unwrap();
    }
    rec.flush().await;
    assert_eq!(sink.events().len(), 1);
    assert_eq!(count_of(&sink, "Lost"), 5);
}

#[tokio::test(start_paused = true)]
async fn lost_answers_under_retries_keep_one_event_per_key() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).no_spam_filter().build().unwrap();
    for i in 0..50 {
        sink.faults().lose_answers(u64::from(i % 3 == 0));
        let e = Event::normal(format!("R{i}"), "A");
        for _ in 0..3 {
            let _ = rec.publish(&e, &pod("p")).await;
        }
    }
    rec.shutdown(Duration::from_secs(60)).await;
    assert_eq!(sink.events().len(), 50);
    for i in 0..50 {
        assert_eq!(count_of(&sink, &format!("R{i}")), 3);
    }
}

#[tokio::test(start_paused = true)]
async fn entries_that_left_the_cache_stay_bounded_when_writes_keep_failing() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    fail_all(
        &sink,
        SinkError::Forbidden {
            message: "no RBAC".into(),
        },
    );
    let rec = builder(&sink, &clock)
        .no_spam_filter()
        .max_cached_keys(100)
        .build()
        .unwrap();
    for round in 0..100 {
        for i in 0..100 {
            let e = Event::normal(format!("R{round}-{i}"), "A");
            let _ = rec.publish(&e, &pod("p")).await;
            let _ = rec.publish(&e, &pod("p")).await;
        }
        clock.advance(Duration::from_secs(10));
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let report = rec.shutdown(Duration::from_secs(5)).await;
    // Kept: the cache, and as many that left it as it holds plus the queue
    // and the writers. The rest were given up, and counted.
    let kept = 100
        + 100
        + event_core::config::DEFAULT_QUEUE_CAPACITY
        + event_core::config::DEFAULT_WRITERS;
    assert!(report.unwritten.len() <= kept, "{}", report.unwritten.len());
    assert!(rec.cached_keys() <= 100);
    let s = report.stats;
    let unwritten: u64 = report.unwritten.iter().map(|r| u64::from(r.count())).sum();
    assert_eq!(s.published, 20_000);
    assert_eq!(
        unwritten + s.dropped_unwritten,
        s.published,
        "every occurrence accounted for"
    );
}

#[tokio::test(start_paused = true)]
async fn extreme_settings_and_server_answers_do_not_panic() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock)
        .series_ttl(Duration::MAX)
        .heartbeat(Duration::MAX)
        .series_flush_interval(Duration::MAX)
        .queue_capacity(usize::MAX)
        .writers(usize::MAX)
        .max_cached_keys(usize::MAX)
        .spam_filter(
            event_core::config::SpamFilter::new(u32::MAX, Duration::MAX).max_keys(usize::MAX),
        )
        .retry(
            RetryPolicy::default()
                .max_attempts(u32::MAX)
                .initial_backoff(Duration::MAX)
                .max_backoff(Duration::MAX)
                .max_elapsed(Duration::MAX),
        )
        .build()
        .unwrap();
    fail_next(
        &sink,
        [
            SinkError::Throttled {
                retry_after: Some(Duration::MAX),
            },
            SinkError::Forbidden {
                message: "x".into(),
            },
        ],
    );
    let e = Event::normal("Extreme", "A");
    let _ = rec.publish(&e, &pod("p")).await;
    for _ in 0..3 {
        let _ = rec.publish(&e, &pod("p")).await;
        rec.emit(&e, &pod("p")).unwrap();
    }
    clock.advance(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_secs(60)).await;
    rec.flush().await;
    let report = rec.shutdown(Duration::from_secs(5)).await;
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(count_of(&sink, "Extreme"), 7);
}

#[tokio::test(start_paused = true)]
async fn one_busy_key_cannot_fill_the_emit_queue() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).queue_capacity(16).build().unwrap();
    for _ in 0..2_000 {
        rec.emit(&Event::warning("Busy", "A"), &pod("p")).unwrap();
    }
    rec.emit(&Event::normal("Other", "A"), &pod("q")).unwrap();
    assert_eq!(rec.stats().dropped_queue_full, 0);
    rec.flush().await;
    assert_eq!(count_of(&sink, "Busy"), 2_000);
    assert_eq!(count_of(&sink, "Other"), 1);
    assert_eq!(rec.stats().published, 2_001);
}

#[tokio::test(start_paused = true)]
async fn flush_waits_for_queued_emits() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).no_spam_filter().build().unwrap();
    for i in 0..50 {
        rec.emit(&Event::normal(format!("E{i}"), "A"), &pod("p"))
            .unwrap();
    }
    rec.flush().await;
    assert_eq!(sink.creates(), 50);
}

#[tokio::test(start_paused = true)]
async fn dropped_emits_are_not_counted_as_published() {
    let sink = held_sink();
    let rec = Recorder::builder(Arc::new(sink.clone()), CTL)
        .queue_capacity(1)
        .writers(1)
        .no_spam_filter()
        .build()
        .unwrap();
    for i in 0..10 {
        rec.emit(&Event::normal(format!("R{i}"), "A"), &pod("p"))
            .unwrap();
    }
    let s = rec.stats();
    assert_eq!(s.published + s.dropped_queue_full, 10);
    assert!(s.dropped_queue_full >= 8, "{s:?}");
}

#[tokio::test(start_paused = true)]
async fn note_policy_decides_whether_a_new_note_is_a_new_event() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let ignore = builder(&sink, &clock).build().unwrap();
    let distinct = builder(&sink, &clock)
        .note_policy(event_core::config::NotePolicy::Distinct)
        .build()
        .unwrap();
    for note in ["disk full", "disk full", "timeout"] {
        ignore
            .publish(&Event::warning("Ignored", "A").note(note), &pod("p"))
            .await
            .unwrap();
        distinct
            .publish(&Event::warning("Distinct", "A").note(note), &pod("p"))
            .await
            .unwrap();
    }
    ignore.flush().await;
    distinct.flush().await;
    let notes = |reason: &str| -> Vec<(Option<String>, u32)> {
        let mut v: Vec<_> = sink
            .events()
            .into_iter()
            .filter(|e| e.reason == reason)
            .map(|e| (e.note.clone(), e.count()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(notes("Ignored"), vec![(Some("disk full".into()), 3)]);
    assert_eq!(
        notes("Distinct"),
        vec![(Some("disk full".into()), 2), (Some("timeout".into()), 1)]
    );
    // Under Distinct, notes past 1024 bytes are keyed as written (truncated).
    let huge = |c: char| format!("{}{c}{}", "x".repeat(5_000), "y".repeat(5_000));
    distinct
        .publish(&Event::warning("Huge", "A").note(huge('1')), &pod("p"))
        .await
        .unwrap();
    let out = distinct
        .publish(&Event::warning("Huge", "A").note(huge('2')), &pod("p"))
        .await
        .unwrap();
    assert_eq!(out, Published::SeriesUpdated { count: 2 });
}

#[tokio::test(start_paused = true)]
async fn a_hanging_write_for_one_key_does_not_hold_up_others() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    sink.faults().never_answer_reason("Stuck");
    let rec = builder(&sink, &clock).build().unwrap();
    let stuck = {
        let rec = rec.clone();
        tokio::spawn(async move { rec.publish(&Event::normal("Stuck", "A"), &pod("p")).await })
    };
    tokio::task::yield_now().await;
    let other = tokio::time::timeout(
        Duration::from_secs(1),
        rec.publish(&Event::normal("Free", "A"), &pod("q")),
    )
    .await;
    assert_eq!(other.expect("not held up").unwrap(), Published::Created);
    // emit never waits, not even for the stuck key.
    rec.emit(&Event::normal("Stuck", "A"), &pod("p")).unwrap();
    stuck.abort();
}

#[tokio::test(start_paused = true)]
async fn continuous_occurrences_are_written_at_most_once_per_flush_interval() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::normal("Steady", "A");
    for _ in 0..100 {
        rec.publish(&e, &pod("p")).await.unwrap();
        clock.advance(Duration::from_secs(1));
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // 100 s of one occurrence per second: a create, the count-2 patch, then
    // one patch per 10 s interval at most.
    let later_patches = sink.patches() - 1;
    assert!((6..=10).contains(&later_patches), "{later_patches}");
    rec.flush().await;
    assert_eq!(count_of(&sink, "Steady"), 100);
}

#[test]
fn defaults_are_as_documented() {
    use event_core::config::*;
    assert_eq!(DEFAULT_SERIES_FLUSH_INTERVAL, Duration::from_secs(10));
    assert_eq!(DEFAULT_SERIES_TTL, Duration::from_secs(360));
    assert_eq!(DEFAULT_HEARTBEAT, Duration::from_secs(1800));
    assert_eq!(DEFAULT_MAX_CACHED_KEYS, 4096);
    assert_eq!(DEFAULT_QUEUE_CAPACITY, 1024);
    assert_eq!(DEFAULT_WRITERS, 4);
    assert_eq!(
        (DEFAULT_SPAM_BURST, DEFAULT_SPAM_REFILL),
        (25, Duration::from_secs(300))
    );
    assert_eq!(DEFAULT_SPAM_MAX_KEYS, 4096);
    assert_eq!(DEFAULT_RETRY_ATTEMPTS, 5);
    assert_eq!(DEFAULT_RETRY_INITIAL_BACKOFF, Duration::from_millis(200));
    assert_eq!(DEFAULT_RETRY_MAX_BACKOFF, Duration::from_secs(10));
    assert_eq!(DEFAULT_RETRY_MAX_ELAPSED, Duration::from_secs(30));
    assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(300));
    assert_eq!((MAX_QUEUE_CAPACITY, MAX_WRITERS), (65_536, 256));
    assert_eq!(NoteOverflow::default(), NoteOverflow::Truncate);
    assert_eq!(NotePolicy::default(), NotePolicy::Ignore);
    assert_eq!(ClusterScopedNamespace::default().as_str(), "default");
}

#[tokio::test(start_paused = true)]
async fn shutdown_does_not_repeat_a_refused_write() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::warning("NoPatch", "A");
    rec.publish(&e, &pod("p")).await.unwrap();
    fail_all(
        &sink,
        SinkError::Forbidden {
            message: "cannot patch".into(),
        },
    );
    assert!(rec.publish(&e, &pod("p")).await.is_err());
    rec.publish(&e, &pod("p")).await.unwrap();
    let report = rec.shutdown(Duration::from_secs(30)).await;
    assert_eq!(report.unwritten.len(), 1);
    assert_eq!(
        sink.faults().attempts(),
        3,
        "create, refused patch, one final try"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_series_patch_lets_the_next_occurrence_start_a_new_event() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    let e = Event::normal("Odd", "A");
    rec.publish(&e, &pod("p")).await.unwrap();
    fail_next(
        &sink,
        [SinkError::Invalid {
            message: "series.count: Invalid value".into(),
        }],
    );
    assert!(rec.publish(&e, &pod("p")).await.is_err());
    // The occurrence the refused patch carried is given up, and counted.
    assert_eq!(rec.stats().dropped_unwritten, 1);
    assert_eq!(
        rec.publish(&e, &pod("p")).await.unwrap(),
        Published::Created
    );
    assert_eq!(sink.creates(), 2);
    let names: std::collections::HashSet<_> = sink.events().into_iter().map(|ev| ev.name).collect();
    assert_eq!(names.len(), 2, "a new Event under the series' next name");
}

#[tokio::test(start_paused = true)]
async fn concurrent_first_publishes_wait_only_for_the_create_and_the_series_start() {
    let sink = held_sink();
    let rec = Recorder::builder(sink.arc(), CTL).build().unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let rec = rec.clone();
            tokio::spawn(async move {
                rec.publish(&Event::normal("Synced", "Reconciling"), &pod("p"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let settle = || tokio::time::sleep(Duration::from_millis(1));
    let finished = |tasks: &[tokio::task::JoinHandle<Published>]| {
        tasks.iter().filter(|t| t.is_finished()).count()
    };
    settle().await;
    // The create is waiting; fourteen publishers have returned.
    assert_eq!(sink.faults().waiting(), 1);
    assert_eq!(finished(&tasks), 14);
    sink.faults().admit(1);
    settle().await;
    // The first has its create; the second now waits for the series start.
    assert_eq!(sink.faults().waiting(), 1);
    assert_eq!(finished(&tasks), 15);
    sink.faults().admit(1);
    settle().await;
    assert_eq!(finished(&tasks), 16);
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let coalesced = outcomes
        .iter()
        .filter(|o| matches!(o, Published::Coalesced { .. }))
        .count();
    assert_eq!(coalesced, 14);
    assert!(outcomes.contains(&Published::Created));
    assert!(outcomes.contains(&Published::SeriesUpdated { count: 16 }));
    let writes: Vec<_> = sink
        .writes()
        .into_iter()
        .map(|w| (w.kind, w.record.count()))
        .collect();
    assert_eq!(
        writes,
        [(WriteKind::Create, 1), (WriteKind::PatchSeries, 16)]
    );
}

/// A repeat moves its series to the recently used end of the cache (at
/// most once a second), so a full cache evicts the series not used lately.
#[tokio::test]
async fn a_full_cache_evicts_the_series_not_used_lately() {
    let sink = MemorySink::new();
    let clock = test_clock();
    let rec = builder(&sink, &clock).max_cached_keys(2).build().unwrap();
    let e = Event::normal("Synced", "Syncing");
    for name in ["a", "b"] {
        for _ in 0..2 {
            rec.publish(&e, &pod(name)).await.unwrap();
        }
    }
    clock.advance(Duration::from_secs(2));
    // `a`, the least recently placed, is used; written, so both are clean.
    let used = rec.publish(&e, &pod("a")).await.unwrap();
    assert_eq!(used, Published::Coalesced { count: 3 });
    rec.flush().await;
    rec.publish(&e, &pod("c")).await.unwrap();
    assert_eq!(rec.stats().evicted, 1);

    // `a` is still cached: its repeat only counts.
    let writes = sink.writes().len();
    let again = rec.publish(&e, &pod("a")).await.unwrap();
    assert_eq!(again, Published::Coalesced { count: 4 });
    assert_eq!(sink.writes().len(), writes);
    // `b` left: its next occurrence tries a create (and adopts the stored
    // Event it finds under its name).
    let attempts = sink.attempts().len();
    rec.publish(&e, &pod("b")).await.unwrap();
    assert_eq!(sink.attempts()[attempts].kind, WriteKind::Create);
}
