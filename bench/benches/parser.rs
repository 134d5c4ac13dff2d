//! RESP request parsing: how fast `net::resp::parse_command` walks a read
//! buffer holding 16 pipelined commands (what one read brings at
//! `redis-benchmark -P 16`), for SETs of 100-byte values and for GETs.
//! Throughput is in commands; the spans and scratch buffers are reused as a
//! connection reuses them, so no iteration allocates.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use net::resp::{parse_command, Frame, Limits};
use ringcache_bench::{key, push_command, VALUE};

const PIPELINE: u64 = 16;

fn buffer(set: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..PIPELINE {
        let k = key(i * 7919);
        if set {
            push_command(&mut buf, &[b"SET", &k, &VALUE]);
        } else {
            push_command(&mut buf, &[b"GET", &k]);
        }
    }
    buf
}

/// Parses every command in `buf`; returns the argument count seen, so the
/// work cannot be optimised away.
fn parse_all(
    buf: &[u8],
    limits: &Limits,
    spans: &mut Vec<(u32, u32)>,
    scratch: &mut Vec<u8>,
) -> usize {
    let mut pos = 0;
    let mut args = 0;
    while let Some((used, frame)) =
        parse_command(&buf[pos..], limits, spans, scratch).expect("valid RESP")
    {
        debug_assert_eq!(frame, Frame::Multibulk);
        args += spans.len();
        pos += used;
    }
    assert_eq!(pos, buf.len(), "whole buffer parsed");
    args
}

fn parser(c: &mut Criterion) {
    let limits = Limits::default();
    let mut spans = Vec::with_capacity(16);
    let mut scratch = Vec::new();
    let mut group = c.benchmark_group("parse_command");
    group.throughput(Throughput::Elements(PIPELINE));
    for (name, set) in [("16 pipelined SET 100B", true), ("16 pipelined GET", false)] {
        let buf = buffer(set);
        assert_eq!(
            parse_all(&buf, &limits, &mut spans, &mut scratch),
            PIPELINE as usize * if set { 3 } else { 2 }
        );
        group.bench_function(name, |b| {
            b.iter(|| parse_all(black_box(&buf), &limits, &mut spans, &mut scratch))
        });
    }
    group.finish();
}

criterion_group!(benches, parser);
criterion_main!(benches);
