//! Time per `publish`: repeats of live series at 1k, 10k and 50k live keys
//! (about objects read from an array of them, and about one object rewritten
//! in place), and first publishes (the create path), into a sink that does
//! nothing.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use event_core::ObjectRef;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Where a benchmark's objects come from.
enum Objects {
    /// One object per key, read from an array: at 50k keys, far away in
    /// memory.
    Array(Vec<ObjectRef>),
    /// One object rewritten in place into each key's: what a controller
    /// publishes about is usually at hand (it has just reconciled it). The
    /// time includes the rewrite (three short strings, without allocating).
    InPlace(ObjectRef),
}

impl Objects {
    fn get(&mut self, i: usize) -> &ObjectRef {
        match self {
            Self::Array(all) => &all[i],
            Self::InPlace(object) => {
                common::rewrite(object, i);
                object
            }
        }
    }
}

/// Repeats of live series at 1k, 10k and 50k live keys, visiting keys all
/// over the cache.
fn repeats(c: &mut Criterion, name: &str, objects: fn(usize) -> Objects) {
    let rt = runtime();
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    for keys in [1_000usize, 10_000, 50_000] {
        let rec = common::recorder(keys);
        let mut objects = objects(keys);
        let event = common::event();
        rt.block_on(async {
            // Two occurrences each: every key is a live series, so further
            // occurrences only count.
            for _ in 0..2 {
                for i in 0..keys {
                    rec.publish(&event, objects.get(i)).await.unwrap();
                }
            }
        });
        assert_eq!(rec.cached_keys(), keys);
        let mut next = 0usize;
        group.bench_function(BenchmarkId::from_parameter(keys), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        next = common::next_key(next, keys);
                        let out = rec.publish(&event, objects.get(next)).await.unwrap();
                        std::hint::black_box(out);
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
}

fn repeat_publish(c: &mut Criterion) {
    repeats(c, "repeat_publish", |keys| {
        Objects::Array((0..keys).map(common::object).collect())
    });
}

fn repeat_publish_in_place(c: &mut Criterion) {
    repeats(c, "repeat_publish_in_place", |_| {
        Objects::InPlace(common::object(0))
    });
}

fn first_publish(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("first_publish");
    group.throughput(Throughput::Elements(1));
    group.bench_function("create_path", |b| {
        b.iter_custom(|iters| {
            let rec = common::recorder(4096);
            let objects: Vec<_> = (0..iters as usize).map(common::object).collect();
            let event = common::event();
            rt.block_on(async {
                let start = Instant::now();
                for o in &objects {
                    std::hint::black_box(rec.publish(&event, o).await.unwrap());
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = repeat_publish, repeat_publish_in_place, first_publish
}
criterion_main!(benches);
