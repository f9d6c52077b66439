//! A coalesced repeat allocates nothing: counted with a counting allocator.
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
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
    let rec = Recorder::builder(Arc::new(Accept), "example.com/widgets")
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
    let event = Event::warning("BackOff", "Starting").note("Back-off restarting failed container");
    runtime.block_on(async {
        for _ in 0..2 {
            for pod in &pods {
                rec.publish(&event, pod).await.unwrap();
            }
        }
        let before = dhat::HeapStats::get().total_blocks;
        for round in 0..10u32 {
            for pod in &pods {
                let out = rec.publish(&event, pod).await.unwrap();
                assert_eq!(
                    out,
                    Published::Coalesced {
                        count: 2 * round + 3
                    }
                );
                rec.emit(&event, pod).unwrap();
            }
        }
        let after = dhat::HeapStats::get().total_blocks;
        assert_eq!(after - before, 0, "allocations in 2,000 coalesced repeats");
    });
}
