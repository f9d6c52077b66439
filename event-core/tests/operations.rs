//! Running in production: filters, the spam key, a namespace being
//! deleted, the write budget and the per-event log record, asserted by
//! counts.
#![allow(missing_docs, clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use event_core::{DropReason, Event, EventType, Published, Recorder};

use event_core::config::{SpamFilter, SpamKey};
use event_testing::MemorySink;
use support::{CTL, OnEvent, builder, count_of, fail_all, pod, test_clock};

#[tokio::test(start_paused = true)]
async fn filters_drop_and_count_without_writing() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let off = builder(&sink, &clock)
        .events_enabled(false)
        .build()
        .unwrap();
    let warning = Event::warning("BackOff", "Starting");
    for _ in 0..3 {
        let out = off.publish(&warning, &pod("a")).await.unwrap();
        assert_eq!(out, Published::Dropped(DropReason::Filtered));
        off.emit(&warning, &pod("a")).unwrap();
    }
    // Filtered before validation: never an error.
    let invalid = Event::warning("", "Starting");
    let out = off.publish(&invalid, &pod("a")).await.unwrap();
    assert_eq!(out, Published::Dropped(DropReason::Filtered));
    off.flush().await;
    let s = off.stats();
    assert_eq!((s.dropped_filtered, s.published, s.writes()), (7, 0, 0));
    assert_eq!(sink.faults().attempts(), 0);

    let rec = builder(&sink, &clock)
        .minimum_type(EventType::Warning)
        .keep_reasons(["BackOff", "Failed"])
        .drop_reasons(["Failed"])
        .build()
        .unwrap();
    let cases = [
        (Event::normal("BackOff", "Starting"), false),
        (Event::warning("BackOff", "Starting"), true),
        (Event::warning("Failed", "Reconciling"), false),
        (Event::warning("Unhealthy", "Probing"), false),
    ];
    for (event, published) in &cases {
        for _ in 0..2 {
            let out = rec.publish(event, &pod("b")).await.unwrap();
            assert_eq!(
                out == Published::Dropped(DropReason::Filtered),
                !published,
                "{event:?}: {out:?}"
            );
        }
    }
    rec.flush().await;
    let s = rec.stats();
    assert_eq!((s.dropped_filtered, s.published), (6, 2));
    assert_eq!((sink.creates(), sink.patches()), (1, 1));
    assert_eq!(count_of(&sink, "BackOff"), 2);
}

#[tokio::test(start_paused = true)]
async fn the_spam_key_per_reason_keeps_one_noisy_reason_from_starving_the_others() {
    // Per object (the default): ten new events of one noisy reason use up
    // the object's bucket of ten, and the next reason is dropped.
    // Per object and reason: it has its own bucket.
    for (key, failed_published) in [(SpamKey::Object, false), (SpamKey::ObjectAndReason, true)] {
        let (sink, clock) = (MemorySink::new(), test_clock());
        let rec = builder(&sink, &clock)
            .spam_filter(SpamFilter::new(10, std::time::Duration::from_secs(300)))
            .spam_key(key)
            .build()
            .unwrap();
        let mut spam = 0;
        for i in 0..15 {
            let noisy = Event::warning("Probe", format!("Probing{i}"));
            if rec.publish(&noisy, &pod("p")).await.unwrap() == Published::Dropped(DropReason::Spam)
            {
                spam += 1;
            }
        }
        assert_eq!(spam, 5, "{key:?}");
        let failed = Event::warning("ReconcileFailed", "Reconciling");
        let out = rec.publish(&failed, &pod("p")).await.unwrap();
        assert_eq!(
            out == Published::Created,
            failed_published,
            "{key:?}: {out:?}"
        );
        let expected_spam = if failed_published { 5 } else { 6 };
        assert_eq!(rec.stats().dropped_spam, expected_spam, "{key:?}");
        assert_eq!(sink.creates(), if failed_published { 11 } else { 10 });
    }
}

#[tokio::test(start_paused = true)]
async fn a_namespace_being_deleted_drops_quietly_without_retries() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let rec = builder(&sink, &clock).build().unwrap();
    // Counts warn-level (and worse) log records, to show a namespace being
    // deleted is dropped quietly.
    let warnings = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = Arc::clone(&warnings);
    let _guard = tracing::subscriber::set_default(OnEvent(move |event: &tracing::Event<'_>| {
        if *event.metadata().level() <= tracing::Level::WARN {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }));
    fail_all(
        &sink,
        event_core::sink::SinkError::NamespaceTerminating {
            message:
                "unable to create new content in namespace shop because it is being terminated"
                    .into(),
        },
    );
    let e = Event::warning("BackOff", "Starting");
    let first = rec.publish(&e, &pod("web-0")).await.unwrap();
    assert_eq!(first, Published::Dropped(DropReason::NamespaceTerminating));
    // One attempt: no retry, no re-create.
    assert_eq!(sink.faults().attempts(), 1);
    for _ in 0..4 {
        let out = rec.publish(&e, &pod("web-0")).await.unwrap();
        assert_eq!(out, Published::Dropped(DropReason::NamespaceTerminating));
    }
    rec.flush().await;
    let report = rec.shutdown(std::time::Duration::from_secs(5)).await;
    assert!(report.is_complete());
    let s = report.stats;
    assert_eq!(sink.faults().attempts(), 1);
    assert_eq!(
        (
            s.published,
            s.dropped_namespace_terminating,
            s.failed,
            s.retried
        ),
        (5, 5, 0, 0)
    );
    assert_eq!(s.dropped_unwritten, 0);
    assert_eq!(warnings.load(std::sync::atomic::Ordering::SeqCst), 0);
}

/// Log records of the target `event_core::events`, with their fields; from
/// inside the subscriber it also calls the Recorder, which would deadlock
/// if any of the Recorder's locks were held while logging.
#[derive(Clone, Default)]
struct EventLog {
    records: Arc<std::sync::Mutex<Vec<std::collections::BTreeMap<String, String>>>>,
    recorder: Arc<std::sync::OnceLock<Recorder>>,
}

struct Fields<'a>(&'a mut std::collections::BTreeMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

impl EventLog {
    /// What the subscriber does with one log record.
    fn on(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() != event_core::config::EVENT_LOG_TARGET {
            return;
        }
        assert_eq!(*event.metadata().level(), tracing::Level::INFO);
        let mut fields = std::collections::BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let first_of_web = fields["name"] == "web-0" && fields["count"] == "1";
        self.records.lock().unwrap().push(fields);
        if let Some(rec) = self.recorder.get() {
            // Takes the cache lock, then (emit) the cache, a series' state
            // and the spam filter's locks.
            let _ = rec.cached_keys();
            if first_of_web {
                rec.emit(&Event::warning("FromTheLog", "Logging"), &pod("logger"))
                    .unwrap();
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn each_published_occurrence_is_a_log_record_when_asked() {
    let (sink, clock) = (MemorySink::new(), test_clock());
    let log = EventLog::default();
    let subscriber = log.clone();
    let _guard = tracing::subscriber::set_default(OnEvent(move |event: &tracing::Event<'_>| {
        subscriber.on(event);
    }));

    // Off by default.
    let quiet = builder(&sink, &clock).build().unwrap();
    quiet
        .publish(&Event::normal("Synced", "Reconciling"), &pod("a"))
        .await
        .unwrap();
    assert!(log.records.lock().unwrap().is_empty());

    let rec = builder(&sink, &clock)
        .log_events(true)
        .minimum_type(EventType::Warning)
        .build()
        .unwrap();
    log.recorder.set(rec.clone()).unwrap();
    let e = Event::warning("BackOff", "Starting").note("exit 1");
    for _ in 0..3 {
        rec.publish(&e, &pod("web-0")).await.unwrap();
    }
    rec.emit(&e, &pod("web-0")).unwrap();
    // Filtered: not published, not logged.
    rec.publish(&Event::normal("Synced", "Reconciling"), &pod("web-0"))
        .await
        .unwrap();
    let all = log.records.lock().unwrap().clone();
    // The subscriber's own emit, from inside the first record, went
    // through (tracing does not dispatch records logged from inside a
    // subscriber, so it has none).
    let records: Vec<_> = all.iter().filter(|r| r["name"] == "web-0").collect();
    assert_eq!(records.len(), all.len());
    let counts: Vec<&str> = records.iter().map(|r| r["count"].as_str()).collect();
    assert_eq!(counts, ["1", "2", "3", "4"], "{records:?}");
    let expected: std::collections::BTreeMap<String, String> = [
        ("type", "Warning"),
        ("reason", "BackOff"),
        ("action", "Starting"),
        ("kind", "Pod"),
        ("namespace", "shop"),
        ("name", "web-0"),
        ("reporting_controller", CTL),
        ("note", "exit 1"),
        ("count", "4"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .chain([(
        "message".to_owned(),
        "Warning BackOff Pod/web-0: exit 1".to_owned(),
    )])
    .collect();
    assert_eq!(*records[3], expected);
    rec.flush().await;
    let s = rec.stats();
    assert_eq!((s.published, s.dropped_filtered), (5, 1));
    assert_eq!(count_of(&sink, "FromTheLog"), 1);
}

/// The Recorder's clock, following tokio's (paused) time.
#[derive(Debug)]
struct TokioTime(tokio::time::Instant, jiff::Timestamp);

impl event_core::Clock for TokioTime {
    fn now(&self) -> jiff::Timestamp {
        let elapsed = jiff::SignedDuration::try_from(self.0.elapsed()).unwrap();
        event_core::clock::truncate_to_micros(self.1 + elapsed)
    }
}

/// A sink that answers 429 (`Retry-After: 2`) from `from` until `until`,
/// and logs the instant of every request.
struct Throttling {
    inner: MemorySink,
    from: tokio::time::Instant,
    until: tokio::time::Instant,
    requests: std::sync::Mutex<Vec<tokio::time::Instant>>,
    throttled: std::sync::atomic::AtomicU64,
}

impl Throttling {
    fn answer(&self) -> Result<(), event_core::sink::SinkError> {
        let now = tokio::time::Instant::now();
        self.requests.lock().unwrap().push(now);
        if now >= self.from && now < self.until {
            self.throttled
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(event_core::sink::SinkError::Throttled {
                retry_after: Some(std::time::Duration::from_secs(2)),
            });
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl event_core::sink::EventSink for Throttling {
    async fn create(
        &self,
        e: &event_core::sink::EventRecord,
    ) -> Result<(), event_core::sink::SinkError> {
        self.answer()?;
        self.inner.create(e).await
    }
    async fn patch_series(
        &self,
        e: &event_core::sink::EventRecord,
        series: event_core::sink::Series,
    ) -> Result<(), event_core::sink::SinkError> {
        self.answer()?;
        self.inner.patch_series(e, series).await
    }
    async fn get(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<event_core::sink::EventRecord, event_core::sink::SinkError> {
        self.answer()?;
        event_core::sink::EventSink::get(&self.inner, namespace, name).await
    }
}

/// Most requests in any window of `window` among `times` (sorted).
fn busiest(times: &[tokio::time::Instant], window: std::time::Duration) -> usize {
    let mut most = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end] - times[start] >= window {
            start += 1;
        }
        most = most.max(end - start + 1);
    }
    most
}

#[tokio::test(start_paused = true)]
async fn the_write_budget_bounds_the_request_rate_and_loses_nothing_under_429s() {
    use std::time::Duration;
    const RATE: u32 = 10;
    const BURST: u32 = 20;
    let start = tokio::time::Instant::now();
    let sink = Arc::new(Throttling {
        inner: MemorySink::new(),
        from: start + Duration::from_secs(2),
        until: start + Duration::from_secs(12),
        requests: std::sync::Mutex::new(Vec::new()),
        throttled: std::sync::atomic::AtomicU64::new(0),
    });
    let clock = TokioTime(start, jiff::Timestamp::from_second(1_800_000_000).unwrap());
    let rec = Recorder::builder(sink.clone(), CTL)
        .clock(Arc::new(clock))
        .no_spam_filter()
        .write_budget(event_core::config::WriteBudget::new(RATE, BURST))
        .build()
        .unwrap();

    // Ten series are started before the 429s begin (at 2 s; they end at
    // 12 s). Then, for 30 s, every 100 ms: two new events (one emitted,
    // one published) and a repeat of each of the ten series.
    let repeat = Event::warning("Repeated", "Flooding");
    let mut published = 0u64;
    for object in 0..10 {
        for _ in 0..2 {
            let out = rec.publish(&repeat, &pod(&format!("repeat{object}"))).await;
            assert!(out.unwrap().wrote());
            published += 1;
        }
    }
    let mut repeat_waits = Duration::ZERO;
    let mut failed = 0u32;
    for tick in 0..300u32 {
        let new = Event::warning(format!("Burst{tick}"), "Flooding");
        rec.emit(&new, &pod(&format!("e{}", tick % 50))).unwrap();
        match rec.publish(&new, &pod(&format!("p{}", tick % 50))).await {
            Ok(Published::Created | Published::Deferred { count: 1 }) => {}
            // Retried for the policy's attempts and time, then left for a
            // later write; the occurrence stays counted.
            Err(event_core::Error::Sink(event_core::sink::SinkError::Throttled { .. })) => {
                failed += 1;
            }
            other => panic!("{other:?}"),
        }
        published += 2;
        for object in 0..10 {
            let before = tokio::time::Instant::now();
            let out = rec
                .publish(&repeat, &pod(&format!("repeat{object}")))
                .await
                .unwrap();
            // A coalesced repeat never waits for the budget.
            assert!(matches!(out, Published::Coalesced { .. }), "{out:?}");
            repeat_waits += before.elapsed();
            published += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = rec.shutdown(Duration::from_secs(600)).await;
    assert!(report.is_complete(), "{} unwritten", report.unwritten.len());
    let s = report.stats;

    // Nothing published is lost once the server recovers.
    assert_eq!(s.published, published);
    let stored: u64 = sink
        .inner
        .events()
        .iter()
        .map(|e| u64::from(e.count()))
        .sum();
    assert_eq!(stored, published);
    assert_eq!(sink.inner.events().len(), 600 + 10);
    let repeated: Vec<u32> = sink
        .inner
        .events()
        .iter()
        .filter(|e| e.reason == "Repeated")
        .map(event_core::sink::EventRecord::count)
        .collect();
    assert_eq!(repeated, [302; 10]);
    assert_eq!(
        (s.dropped_queue_full, s.dropped_unwritten, s.dropped_spam),
        (0, 0, 0)
    );

    // The request rate stays within the budget in every window.
    let requests = sink.requests.lock().unwrap().clone();
    for seconds in [1, 5, 10, 30] {
        let window = Duration::from_secs(seconds);
        let most = busiest(&requests, window);
        let allowed = BURST as usize + (RATE * u32::try_from(seconds).unwrap()) as usize;
        assert!(most <= allowed, "{most} requests within {seconds} s");
    }
    // While 429s come, each pause lets one request through (two when a
    // request was already under way), not one per waiting series.
    let during = requests
        .iter()
        .filter(|t| **t >= start + Duration::from_secs(2) && **t < start + Duration::from_secs(12))
        .count();
    let throttled = sink.throttled.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(throttled, during as u64);
    assert_eq!(s.throttled, throttled);
    // 10 s of 429s with `Retry-After: 2`: five pauses, each opened by one
    // request (one more if a request was under way when a 429 came).
    assert!(during <= 6, "{during} requests during 10 s of 429s");

    // The stats show the waiting, and repeats never waited.
    assert!(
        s.budget_waits > 0 && s.budget_wait > Duration::ZERO,
        "{s:?}"
    );
    assert!(s.budget_deferred > 0, "{s:?}");
    assert_eq!(repeat_waits, Duration::ZERO);
    println!(
        "{s:?}; {} requests, {during} during the 429s, {failed} publishes failed",
        requests.len()
    );
}
