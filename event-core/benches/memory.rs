//! Heap bytes per cached key, measured with a counting allocator (dhat):
//! the growth of live heap bytes while 50,000 distinct keys are published,
//! divided by the keys cached, with and without note text.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn live_bytes() -> u64 {
    dhat::HeapStats::get().curr_bytes as u64
}

/// Live heap bytes held by a recorder after publishing `event` once about
/// each of `keys` objects, and the keys it caches.
fn measure(event: &event_core::Event, keys: usize, bound: usize) -> (u64, usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let objects: Vec<_> = (0..keys).map(common::object).collect();
    let before = live_bytes();
    let rec = common::recorder(bound);
    rt.block_on(async {
        for o in &objects {
            rec.publish(event, o).await.unwrap();
        }
    });
    let held = live_bytes().saturating_sub(before);
    let cached = rec.cached_keys();
    drop(rec);
    drop(rt);
    (held, cached)
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let keys = 50_000usize;
    let note = "Back-off restarting failed container";
    for (label, event) in [
        (
            "with a 37-byte note",
            event_core::Event::warning("BackOff", "Starting").note(note),
        ),
        (
            "without a note",
            event_core::Event::warning("BackOff", "Starting"),
        ),
    ] {
        let (held, cached) = measure(&event, keys, keys);
        println!(
            "memory per cached key ({label}): {:.0} bytes ({cached} keys, {held} bytes)",
            held as f64 / cached as f64
        );
        let (held, cached) = measure(&event, keys, 1_000);
        println!("  with max_cached_keys 1000 after {keys} keys: {cached} cached, {held} bytes");
    }
}
