//! A coalesced repeat allocates nothing: counted with a counting allocator.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use event_core::config::WriteBudget;
use event_core::sink::{EventRecord, EventSink, Series, SinkError};
use event_core::{Event, ObjectRef, Published, Recorder};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

struct Accept;

#[async_trait]
impl EventSink for Accept {
    async fn create(&self, _: &EventRecord) -> Result<(), SinkError> {
        Ok(())
    }
    async fn patch_series(&self, _: &EventRecord, _: Series) -> Result<(), SinkError> {
        Ok(())
    }
}

#[test]
fn a_coalesced_repeat_allocates_nothing() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // No write budget: the 400 writes of the first two occurrences are not
    // what this test is about.
    let rec = Recorder::builder(Arc::new(Accept), "example.com/widgets")
        .write_budget(WriteBudget::unlimited())
        .build()
        .unwrap();
    let pods: Vec<ObjectRef> = (0..100)
        .map(|i| {
            ObjectRef::new("v1", "Pod", format!("web-{i}"))
                .within("shop")
                .with_uid(format!("uid-{i}"))
                .with_resource_version("42")
        })
        .collect();
    let short = Event::warning("BackOff", "Starting").note("Back-off restarting failed container");
    // A note the first occurrence had to cut to size, and annotations whose
    // keys are checked (one with an upper-case prefix) on every occurrence.
    let long = Event::warning("Failed", "Starting")
        .note("x".repeat(4000))
        .annotation("Example.com/Owner", "team-a")
        .annotation("example.com/run", "7");
    runtime.block_on(async {
        for event in [&short, &long] {
            for _ in 0..2 {
                for pod in &pods {
                    rec.publish(event, pod).await.unwrap();
                }
            }
        }
        let before = dhat::HeapStats::get().total_blocks;
        for round in 0..10u32 {
            for event in [&short, &long] {
                for pod in &pods {
                    let out = rec.publish(event, pod).await.unwrap();
                    assert_eq!(
                        out,
                        Published::Coalesced {
                            count: 2 * round + 3
                        }
                    );
                    rec.emit(event, pod).unwrap();
                }
            }
        }
        let after = dhat::HeapStats::get().total_blocks;
        assert_eq!(after - before, 0, "allocations in 4,000 coalesced repeats");

        // An event about an object with a name far over any limit is
        // refused, and keeps nothing of its size.
        let held = dhat::HeapStats::get().curr_bytes;
        let huge = ObjectRef::new("v1", "Pod", "n".repeat(1 << 20)).within("shop");
        let refused = rec.publish(&short, &huge).await;
        assert!(
            matches!(refused, Err(event_core::Error::Invalid(_))),
            "{refused:?}"
        );
        drop(huge);
        let kept = dhat::HeapStats::get().curr_bytes.saturating_sub(held);
        assert!(
            kept < 64 * 1024,
            "{kept} bytes kept after a refused 1 MiB name"
        );
    });
}
