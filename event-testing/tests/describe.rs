//! The `kubectl describe` table, with fixed clocks.

mod support;

use std::time::Duration;

use event_core::sink::EventSink;

use event_core::{EventType, ObjectRef};
use event_testing::{ManualClock, MemorySink, describe_records};
use support::{at, patch, pod, record, series};

#[tokio::test]
async fn describe_shows_one_object_with_series_ages() {
    let clock = ManualClock::default();
    let sink = MemorySink::with_clock(clock.clone());
    let web0 = pod("web-0");
    let mut scheduled = record("web-0.a", EventType::Normal, "Scheduled", &web0, 0);
    scheduled.reporting_controller = "default-scheduler".into();
    scheduled.note = Some("Successfully assigned shop/web-0 to worker-1".into());
    let mut backoff = record("web-0.b", EventType::Warning, "BackOff", &web0, 60);
    backoff.reporting_controller = "kubelet".into();
    backoff.note = Some("Back-off restarting failed container app".into());
    let other = record("web-1.a", EventType::Normal, "Scheduled", &pod("web-1"), 0);

    clock.set(at(0));
    sink.create(&scheduled).await.unwrap();
    sink.create(&other).await.unwrap();
    clock.set(at(60));
    sink.create(&backoff).await.unwrap();
    clock.set(at(60 + 1800));
    patch(&sink, &series(backoff, 1000, 1800 + 50))
        .await
        .unwrap();
    clock.set(at(60 + 1800));

    assert_eq!(
        sink.describe(&web0),
        "Events:
  Type     Reason     Age                   From               Message
  ----     ------     ----                  ----               -------
  Normal   Scheduled  31m                   default-scheduler  Successfully assigned shop/web-0 to worker-1
  Warning  BackOff    10s (x1000 over 30m)  kubelet            Back-off restarting failed container app
"
    );
    assert_eq!(sink.describe(&pod("web-2")), "Events:  <none>\n");
}

#[test]
fn every_age_step_in_one_table() {
    let p = pod("p");
    let now = at(10 * 86_400);
    let ages: [(u64, Option<(u32, u64)>); 5] = [
        (10 * 86_400 - 5, None),
        (10 * 86_400 - 150, Some((3, 10 * 86_400 - 5))),
        (10 * 86_400 - 4 * 3600, Some((2, 10 * 86_400 - 119))),
        (0, None),
        (10 * 86_400, None),
    ];
    let records: Vec<_> = ages
        .iter()
        .enumerate()
        .map(|(i, (first, s))| {
            let r = record(&format!("p.{i}"), EventType::Normal, "R", &p, *first);
            match s {
                Some((count, last)) => series(r, *count, *last),
                None => r,
            }
        })
        .collect();
    assert_eq!(
        describe_records(&records, now),
        "Events:
  Type    Reason  Age                 From                 Message
  ----    ------  ----                ----                 -------
  Normal  R       5s                  example.com/widgets\x20\x20
  Normal  R       5s (x3 over 2m30s)  example.com/widgets\x20\x20
  Normal  R       119s (x2 over 4h)   example.com/widgets\x20\x20
  Normal  R       10d                 example.com/widgets\x20\x20
  Normal  R       0s                  example.com/widgets\x20\x20
"
    );
}

#[test]
fn multi_line_notes_continue_on_lines_of_their_own_as_in_kubectl() {
    let mut failed = record("p.a", EventType::Warning, "ReconcileFailed", &pod("p"), 0);
    failed.note = Some("applying ConfigMap failed\ncaused by: connection refused\n".into());
    let mut synced = record("p.b", EventType::Normal, "Synced", &pod("p"), 1);
    synced.note = Some("ok".into());
    // The continuation line has no columns, so kubectl aligns the next row
    // on its own: its columns are only as wide as its own cells.
    assert_eq!(
        describe_records(&[failed, synced], at(3)),
        "Events:
  Type     Reason           Age   From                 Message
  ----     ------           ----  ----                 -------
  Warning  ReconcileFailed  3s    example.com/widgets  applying ConfigMap failed
caused by: connection refused
  Normal  Synced  2s  example.com/widgets  ok
"
    );
}

#[tokio::test]
async fn describe_all_groups_by_object() {
    let clock = ManualClock::new(at(0));
    let sink = MemorySink::with_clock(clock.clone());
    let node = ObjectRef::new("v1", "Node", "worker-1");
    for r in [
        record("w.a", EventType::Normal, "Started", &pod("web-0"), 0),
        record("n.a", EventType::Warning, "NodeNotReady", &node, 0),
        record("w.b", EventType::Normal, "Pulled", &pod("web-0"), 0),
    ] {
        sink.create(&r).await.unwrap();
    }
    clock.advance(Duration::from_secs(7));
    assert_eq!(
        sink.describe_all(),
        "Pod shop/web-0:
  Type    Reason   Age   From                 Message
  ----    ------   ----  ----                 -------
  Normal  Started  7s    example.com/widgets\x20\x20
  Normal  Pulled   7s    example.com/widgets\x20\x20
Node worker-1:
  Type     Reason        Age   From                 Message
  ----     ------        ----  ----                 -------
  Warning  NodeNotReady  7s    example.com/widgets\x20\x20
"
    );
}
