//! `event_core::sink::FanOut` with one side failing: every sink still receives,
//! the failure is reported per sink, and a retry never writes twice to a
//! sink that took the write.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;

use event_core::{Event, Recorder};

use event_core::sink::FanOut;

use event_core::sink::SinkError;
use event_testing::{MemorySink, Target, WriteKind};

use support::pod;

fn transient() -> SinkError {
    SinkError::Transient {
        message: "connection reset".into(),
    }
}

fn fan_out(primary: &MemorySink, mirror: &MemorySink) -> FanOut {
    FanOut::builder("kubernetes", primary.arc())
        .mirror("webhook", mirror.arc())
        .build()
}

fn recorder(sinks: &FanOut) -> Recorder {
    Recorder::builder(Arc::new(sinks.clone()), "example.com/widgets")
        .build()
        .unwrap()
}

/// Publishes one `Synced` event through a fan-out of `primary` and
/// `mirror`, which must succeed in the end.
async fn publish_synced(primary: &MemorySink, mirror: &MemorySink) -> (FanOut, Recorder) {
    let sinks = fan_out(primary, mirror);
    let recorder = recorder(&sinks);
    recorder
        .publish(&Event::normal("Synced", "Reconciling"), &pod("web-0"))
        .await
        .unwrap();
    (sinks, recorder)
}

fn kinds(sink: &MemorySink) -> Vec<(WriteKind, u32, bool)> {
    sink.attempts()
        .iter()
        .map(|w| (w.kind, w.record.count(), w.is_ok()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_failing_mirror_is_reported_and_catches_up_with_the_next_write() {
    let (primary, mirror) = (MemorySink::new(), MemorySink::new());
    mirror
        .faults()
        .fail_next_on(Target::Creates, 1, transient());
    let sinks = fan_out(&primary, &mirror);
    let recorder = recorder(&sinks);
    let event = Event::warning("BackOff", "Starting").note("exited with 1");

    recorder.publish(&event, &pod("web-0")).await.unwrap();
    // The Recorder saw the primary's success: nothing retried, nothing failed.
    let stats = recorder.stats();
    assert_eq!((stats.created, stats.retried, stats.failed), (1, 0, 0));
    assert_eq!(primary.events().len(), 1);
    assert!(mirror.events().is_empty());
    let report = sinks.report("webhook").unwrap();
    assert_eq!((report.written, report.failed), (0, 1));
    assert_eq!(report.last_error, Some(transient()));
    assert!(!report.primary);
    let main = sinks.report("kubernetes").unwrap();
    assert_eq!((main.primary, main.written, main.failed), (true, 1, 0));

    // The repeat's series patch finds nothing on the mirror: it gets the
    // whole Event, with its series.
    recorder.publish(&event, &pod("web-0")).await.unwrap();
    assert_eq!(
        kinds(&mirror),
        vec![
            (WriteKind::Create, 1, false),
            (WriteKind::PatchSeries, 2, false),
            (WriteKind::Create, 2, true),
        ]
    );
    assert_eq!(
        kinds(&primary),
        vec![
            (WriteKind::Create, 1, true),
            (WriteKind::PatchSeries, 2, true)
        ]
    );
    assert_eq!(mirror.events(), primary.events());
    let report = sinks.report("webhook").unwrap();
    assert_eq!((report.written, report.failed, report.recreated), (1, 1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_the_primary_failed_skips_the_mirror_that_took_the_write() {
    let (primary, mirror) = (MemorySink::new(), MemorySink::new());
    primary.faults().fail_next(2, transient());
    let (sinks, recorder) = publish_synced(&primary, &mirror).await;
    let stats = recorder.stats();
    assert_eq!((stats.created, stats.retried, stats.failed), (1, 2, 0));
    // Three attempts on the primary, exactly one create on the mirror.
    assert_eq!(
        kinds(&primary),
        vec![
            (WriteKind::Create, 1, false),
            (WriteKind::Create, 1, false),
            (WriteKind::Create, 1, true),
        ]
    );
    assert_eq!(kinds(&mirror), vec![(WriteKind::Create, 1, true)]);
    let report = sinks.report("webhook").unwrap();
    assert_eq!((report.written, report.repeats_skipped), (1, 2));
    let main = sinks.report("kubernetes").unwrap();
    assert_eq!((main.written, main.failed), (1, 2));
    assert_eq!(main.last_error, Some(transient()));
}

#[tokio::test(start_paused = true)]
async fn a_mirror_that_failed_too_gets_the_retry() {
    let (primary, mirror) = (MemorySink::new(), MemorySink::new());
    primary.faults().fail_next(1, transient());
    mirror.faults().fail_next(1, transient());
    let (sinks, _) = publish_synced(&primary, &mirror).await;
    let both = vec![(WriteKind::Create, 1, false), (WriteKind::Create, 1, true)];
    assert_eq!(kinds(&primary), both);
    assert_eq!(kinds(&mirror), both);
    assert_eq!(sinks.report("webhook").unwrap().repeats_skipped, 0);
}

#[tokio::test(start_paused = true)]
async fn a_refusing_primary_does_not_keep_the_mirror_from_receiving() {
    let (primary, mirror) = (MemorySink::new(), MemorySink::new());
    let forbidden = SinkError::Forbidden {
        message: "events is forbidden".into(),
    };
    primary.faults().fail_next(1, forbidden.clone());
    let sinks = fan_out(&primary, &mirror);
    let recorder = recorder(&sinks);

    let published = recorder
        .publish(&Event::warning("BackOff", "Starting"), &pod("web-0"))
        .await;
    assert!(published.is_err(), "{published:?}");
    assert_eq!(recorder.stats().failed, 1);
    assert!(primary.events().is_empty());
    assert_eq!(mirror.events().len(), 1);
    assert_eq!(
        sinks.report("kubernetes").unwrap().last_error,
        Some(forbidden)
    );
    assert_eq!(sinks.report("webhook").unwrap().written, 1);
}

#[tokio::test(start_paused = true)]
async fn reads_come_from_the_primary() {
    use event_core::sink::EventSink;
    let (primary, mirror) = (MemorySink::new(), MemorySink::new());
    let sinks = fan_out(&primary, &mirror);
    let record = event_testing::sample_record();
    primary.arc().create(&record).await.unwrap();
    assert_eq!(
        sinks.get(&record.namespace, &record.name).await.unwrap(),
        record
    );
    mirror.arc().create(&record).await.unwrap();
    primary.delete(&record.namespace, &record.name);
    assert_eq!(
        sinks.get(&record.namespace, &record.name).await,
        Err(SinkError::NotFound)
    );
}

#[tokio::test]
async fn a_mirror_holding_the_event_takes_a_changed_create_as_a_series_patch() {
    use event_core::sink::{EventSink, Series};
    let (primary, mirror) = (MemorySink::new(), MemorySink::new());
    let sinks = fan_out(&primary, &mirror);
    primary.faults().fail_next(1, transient());
    let first = event_testing::sample_record();
    assert_eq!(sinks.create(&first).await, Err(transient()));
    // The retried create carries the occurrences seen meanwhile.
    let series = Series {
        count: 3,
        last_observed_time: first.event_time,
    };
    sinks
        .create(&first.clone().with_series(series))
        .await
        .unwrap();
    let held = mirror.get(&first.namespace, &first.name).unwrap();
    assert_eq!(held.count(), 3);
    let report = sinks.report("webhook").unwrap();
    assert_eq!((report.written, report.failed), (2, 0));
    assert_eq!(primary.creates(), 1);
}
