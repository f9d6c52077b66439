//! Time per `publish`: repeats of live series at 1k, 10k and 50k live keys,
//! and first publishes (the create path), into a sink that does nothing.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn repeat_publish(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("repeat_publish");
    group.throughput(Throughput::Elements(1));
    for keys in [1_000usize, 10_000, 50_000] {
        let rec = common::recorder(keys);
        let objects: Vec<_> = (0..keys).map(common::object).collect();
        let event = common::event();
        rt.block_on(async {
            // Two occurrences each: every key is a live series, so further
            // occurrences only count.
            for _ in 0..2 {
                for o in &objects {
                    rec.publish(&event, o).await.unwrap();
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
                        // A stride that visits keys all over the cache.
                        next = (next + 7_919) % keys;
                        let out = rec.publish(&event, &objects[next]).await.unwrap();
                        std::hint::black_box(out);
                    }
                    start.elapsed()
                })
            });
        });
    }
    group.finish();
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
    config = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    targets = repeat_publish, first_publish
}
criterion_main!(benches);
