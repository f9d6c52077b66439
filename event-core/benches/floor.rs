//! What a repeat cannot cost less than on the machine that runs it: the
//! same lookup as the engine's, done with nothing else.
//!
//! Each of 1k, 10k or 50k series is one heap allocation the size of a
//! cached series (its state, then its key and note). A lookup does what
//! an exact repeat must: encode the occurrence's key, hash it, probe a
//! table of 8-byte slots, compare the stored key byte for byte and write
//! a count into the series. There is no clock, no lock, no validation and
//! no decision. Objects are rewritten in place, as in
//! `repeat_publish_in_place`, and keys are visited with the same stride.
//!
//! The difference between the 1k and 50k figures is the price of the
//! series being far from the processor's caches. The engine pays it on
//! top of its own work, so `repeat_publish_in_place/50000` can be no
//! faster than `repeat_publish_in_place/1000` plus that difference.
#![allow(missing_docs, clippy::unwrap_used)]

mod common;

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use event_core::ObjectRef;
use hashbrown::HashTable;
use xxhash_rust::xxh3::xxh3_64;

/// Bytes of one cached series, as in the engine at these keys: its
/// reference count and state (128 bytes), then its key (118), then its
/// note and the fields outside the key.
const SIZE: usize = 296;
/// Where the key's length (two bytes) and then the key start.
const KEY_AT: usize = 128;

/// Appends one field as the engine's key encoding does: a presence byte,
/// and when present a four-byte length and the bytes.
fn push(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            out.extend_from_slice(&u32::try_from(s.len()).unwrap().to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
    }
}

/// The key of the benchmarks' event about `o`, in the engine's form: the
/// type, whether there is a related object, then fourteen fields.
fn encode(out: &mut Vec<u8>, o: &ObjectRef) {
    out.clear();
    out.extend_from_slice(&[1, 0]);
    for s in [
        Some("Starting"),
        Some("BackOff"),
        Some(o.api_version.as_str()),
        Some(o.kind.as_str()),
        o.namespace.as_deref(),
        Some(o.name.as_str()),
        o.uid.as_deref(),
    ] {
        push(out, s);
    }
    for _ in 0..7 {
        push(out, None);
    }
}

/// One series: one allocation reached through an 8-byte table slot, with
/// its hash and count at the start and its key after the header.
struct Series(Box<[u8; SIZE]>);

impl Series {
    fn new(key: &[u8]) -> Self {
        let mut bytes = Box::new([0u8; SIZE]);
        bytes[..8].copy_from_slice(&xxh3_64(key).to_le_bytes());
        let len = u16::try_from(key.len()).unwrap();
        bytes[KEY_AT..KEY_AT + 2].copy_from_slice(&len.to_le_bytes());
        bytes[KEY_AT + 2..KEY_AT + 2 + key.len()].copy_from_slice(key);
        Self(bytes)
    }

    fn word(&self, at: usize) -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[at..at + 8]);
        u64::from_le_bytes(word)
    }

    fn hash(&self) -> u64 {
        self.word(0)
    }

    fn key(&self) -> &[u8] {
        let len = usize::from(u16::from_le_bytes([self.0[KEY_AT], self.0[KEY_AT + 1]]));
        &self.0[KEY_AT + 2..KEY_AT + 2 + len]
    }

    fn count(&mut self) {
        let n = self.word(8) + 1;
        self.0[8..16].copy_from_slice(&n.to_le_bytes());
    }
}

fn table(keys: usize) -> HashTable<Series> {
    let mut table = HashTable::new();
    let mut key = Vec::new();
    for i in 0..keys {
        encode(&mut key, &common::object(i));
        let series = Series::new(&key);
        table.insert_unique(series.hash(), series, Series::hash);
    }
    table
}

fn exact_lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("exact_lookup");
    group.throughput(Throughput::Elements(1));
    for keys in [1_000usize, 10_000, 50_000] {
        let mut table = table(keys);
        let mut object = common::object(0);
        let mut key = Vec::new();
        let mut next = 0usize;
        group.bench_function(BenchmarkId::from_parameter(keys), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    next = common::next_key(next, keys);
                    common::rewrite(&mut object, next);
                    encode(&mut key, &object);
                    let hash = xxh3_64(&key);
                    let found = table.find_mut(hash, |s| s.hash() == hash);
                    let series = found.filter(|s| s.key() == key.as_slice()).unwrap();
                    series.count();
                }
                start.elapsed()
            });
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = exact_lookup
}
criterion_main!(benches);
