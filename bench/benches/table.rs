//! The shard's key table (`engine::table::Table`) at 1 M keys of 16 bytes
//! with 100-byte values: building it from empty, through `insert_new` and
//! through `upsert` (the path SET takes), and finding keys in it, present and
//! absent, in a scattered order, one at a time and 16 at a time with and
//! without `Table::prefetch` (a pipeline's look-ahead). Throughput is in keys.
//!
//! Entries are built before the clock starts and the full table is dropped
//! after it stops, so the insert figures are the table's work: hashing,
//! probing and segment splits, not the allocation of keys and values.

// The server's allocator: a table's growth is mostly allocation, and glibc
// malloc's mmap threshold would make the first benchmark pay for the rest.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use criterion::{
    black_box, criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput,
};
use engine::table::{Entry, Table};
use engine::value::{StrVal, Value};
use ringcache_bench::{key, scatter, KEY_LEN, VALUE};
use std::time::{Duration, Instant};

const KEYS: u64 = 1_000_000;
/// Lookups per iteration of the get benchmarks.
const LOOKUPS: u64 = 1 << 16;

fn entry(i: u64) -> Entry {
    Entry::new(&key(i), Value::Str(StrVal::raw(&VALUE)), 0, 0)
}

fn entries() -> Vec<Entry> {
    (0..KEYS).map(entry).collect()
}

fn full_table() -> Table {
    let mut t = Table::new();
    for e in entries() {
        t.insert_new(e);
    }
    t
}

/// `LOOKUPS` keys in scattered order, drawn from `base..base + KEYS`.
fn lookup_keys(base: u64) -> Vec<[u8; KEY_LEN]> {
    (0..LOOKUPS).map(|i| key(base + scatter(i, KEYS))).collect()
}

fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("table 1M keys");
    // An iteration takes about a second: ten flat samples, one each.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(KEYS));
    group.bench_function("insert_new", |b| {
        b.iter_batched(
            || (Table::new(), entries()),
            |(mut t, entries)| {
                for e in entries {
                    t.insert_new(e);
                }
                t
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("upsert new keys", |b| {
        b.iter_batched(
            || {
                let keys: Vec<_> = (0..KEYS).map(key).collect();
                (Table::new(), keys, entries())
            },
            |(mut t, keys, entries)| {
                for (k, e) in keys.iter().zip(entries) {
                    let (_, found) = t.upsert(k, move || e);
                    debug_assert!(!found);
                }
                t
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn get(c: &mut Criterion) {
    let table = full_table();
    assert_eq!(table.len() as u64, KEYS);
    let mut group = c.benchmark_group("table 1M keys");
    group.throughput(Throughput::Elements(LOOKUPS));
    for (name, base, present) in [("get hit", 0, true), ("get miss", KEYS, false)] {
        let keys = lookup_keys(base);
        assert!(keys.iter().all(|k| table.get(k).is_some() == present));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut found = 0usize;
                for k in &keys {
                    found += table.get(black_box(k)).is_some() as usize;
                }
                found
            })
        });
    }
    // What a pipeline of 16 GETs does, with and without starting to load
    // every key's slot line and block first (`Table::prefetch`). Between
    // batches, 64 KiB of other memory is written, as a server's sockets and
    // buffers do: without it each lookup finds the last batch's lines, and
    // the out-of-order core overlaps back-to-back lookups by itself.
    let keys = lookup_keys(0);
    let mut other = vec![0u8; 8 << 20];
    for prefetch in [false, true] {
        let name = if prefetch {
            "get hit, 16 at a time, prefetched"
        } else {
            "get hit, 16 at a time"
        };
        group.bench_function(name, |b| {
            // Only the lookups are timed, not the writes between batches.
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                let mut found = 0usize;
                for _ in 0..iters {
                    for (n, batch) in keys.chunks(16).enumerate() {
                        let at = n * 7 * 4096 % (other.len() - (64 << 10));
                        for line in other[at..at + (64 << 10)].iter_mut().step_by(64) {
                            *line = n as u8;
                        }
                        let refs: [&[u8]; 16] = std::array::from_fn(|i| &batch[i][..]);
                        let started = Instant::now();
                        if prefetch {
                            table.prefetch(black_box(&refs));
                        }
                        for k in refs {
                            found += table.get(k).is_some() as usize;
                        }
                        spent += started.elapsed();
                    }
                }
                black_box(found);
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, insert, get);
criterion_main!(benches);
