//! insert_10m [N] [--attribute | --control] — the latency of every single insert, from an
//! empty shard to N keys (default 10,000,000): 16-byte keys, 100-byte values,
//! each one a `SET key value` run through `engine::cmd::execute` as the server
//! runs it (resolved command id, arguments as spans over one buffer, a reused
//! reply buffer), timed on its own with `Instant`.
//!
//! Prints the total time and inserts/s, the latency percentiles up to p99.99
//! and the maximum, how many inserts took over 100 µs and over 1 ms and how
//! many of those split a table segment, the slowest inserts, the table's own
//! estimate of its memory (`Table::overhead_bytes`), the RSS growth and
//! jemalloc's `stats.allocated` growth per key, and the page faults and
//! involuntary context switches of the run.
//! `--attribute` also reads the thread's rusage around every insert, so each
//! slow insert is marked with its own page faults and whether it was
//! preempted: on a busy machine or a VM, a slow insert may be the scheduler's
//! or the hypervisor's, not the table's. It adds two syscalls per insert
//! (outside the timed window, but inside the total).
//! `--control[=SECS]` runs no inserts: back-to-back `Instant::now()` gaps for
//! SECS seconds (default 6, about a 10 M run here), to show how many >1 ms
//! gaps the machine itself produces (a hypervisor's steal, another process
//! on the CPU) with no table in the loop.
//! Exit status 1 if any insert (or control gap) took over 1 ms.
//!
//! Run it in release: `cargo run --release -p ringcache-bench --bin insert_10m`.

// The server's allocator: an insert's latency includes its allocations.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use engine::{cmd, Args, Out, Registry, Shard};
use ringcache_bench::{write_key, KEY_LEN, VALUE, VALUE_LEN};
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const OVER_US: u32 = 100_000; // ns
const OVER_MS: u32 = 1_000_000; // ns
const SLOWEST: usize = 10;

/// An insert over 100 µs and what happened during it.
struct Slow {
    index: u64,
    ns: u32,
    split: bool,
    /// Page faults and involuntary context switches, with `--attribute`.
    faults: Option<u64>,
    preempted: Option<bool>,
}

#[derive(Clone, Copy)]
struct Usage {
    faults: u64,
    switches: u64,
}

fn usage(who: libc::c_int) -> Usage {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    Usage {
        faults: (ru.ru_minflt + ru.ru_majflt) as u64,
        switches: ru.ru_nivcsw as u64,
    }
}

fn main() {
    let mut n: u64 = 10_000_000;
    let mut attribute = false;
    let mut control: Option<f64> = None;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "--attribute" => attribute = true,
            "--control" => control = Some(6.0),
            _ if a.starts_with("--control=") => match a["--control=".len()..].parse() {
                Ok(secs) => control = Some(secs),
                Err(_) => {
                    eprintln!("--control=SECS takes a number of seconds");
                    std::process::exit(2)
                }
            },
            _ => match a.replace('_', "").parse() {
                Ok(v) => n = v,
                Err(_) => {
                    eprintln!(
                        "usage: insert_10m [N] [--attribute | --control[=SECS]]   (N keys, default 10000000)"
                    );
                    std::process::exit(2)
                }
            },
        }
    }

    if let Some(secs) = control {
        std::process::exit(control_run(secs));
    }
    let registry = Rc::new(Registry::new(&cmd::tables()));
    let set = registry.lookup(b"SET").expect("SET is an engine command");
    assert!(registry.spec(set).arity_ok(3));
    let mut shard = Shard::new(0, 1, 16, registry);
    shard.now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64;

    // One buffer shaped like a parsed `SET key value`; the spans index it as
    // the parser's spans index a connection's read buffer. Only the key's
    // digits change from one insert to the next.
    let mut buf = Vec::with_capacity(3 + KEY_LEN + VALUE_LEN);
    buf.extend_from_slice(b"SET");
    buf.extend_from_slice(b"key:000000000000");
    buf.extend_from_slice(&VALUE);
    let key_at = 3..3 + KEY_LEN;
    let spans = [
        (0, 3),
        (3, (3 + KEY_LEN) as u32),
        ((3 + KEY_LEN) as u32, (3 + KEY_LEN + VALUE_LEN) as u32),
    ];
    let mut out = Out::new(false);

    // Touched now, so its pages are not counted in the RSS growth below.
    let mut lat: Vec<u32> = vec![u32::MAX; n as usize];
    let mut slow: Vec<Slow> = Vec::new();
    let rss_before = rss_bytes();
    let heap_before = jemalloc_allocated();
    let run_before = usage(libc::RUSAGE_SELF);
    let start = Instant::now();
    for i in 0..n {
        write_key(&mut buf[key_at.clone()], i);
        out.buf.clear();
        let segments = shard.dbs[0].table.segments();
        let u0 = attribute.then(|| usage(libc::RUSAGE_THREAD));
        let t = Instant::now();
        cmd::execute(&mut shard, 0, set, &Args::new(&buf, &spans), &mut out);
        let ns = u32::try_from(t.elapsed().as_nanos()).unwrap_or(u32::MAX);
        let u1 = u0.map(|u0| (u0, usage(libc::RUSAGE_THREAD)));
        lat[i as usize] = ns;
        if ns > OVER_US {
            slow.push(Slow {
                index: i,
                ns,
                split: shard.dbs[0].table.segments() != segments,
                faults: u1.map(|(a, b)| b.faults - a.faults),
                preempted: u1.map(|(a, b)| b.switches != a.switches),
            });
        }
        if out.buf != b"+OK\r\n" {
            panic!("SET #{i} replied {:?}", String::from_utf8_lossy(&out.buf));
        }
    }
    let total = start.elapsed();
    let run = usage(libc::RUSAGE_SELF);
    let rss = rss_bytes()
        .zip(rss_before)
        .map(|(a, b)| a.saturating_sub(b));
    let heap = jemalloc_allocated()
        .zip(heap_before)
        .map(|(a, b)| a.saturating_sub(b));
    assert_eq!(shard.key_count() as u64, n, "every key inserted once");

    let secs = total.as_secs_f64();
    println!(
        "insert_10m: {n} SETs, {KEY_LEN}-byte keys, {VALUE_LEN}-byte values, \
         one shard, engine::cmd::execute{}",
        if attribute { ", --attribute" } else { "" }
    );
    println!(
        "total {secs:.3} s, {:.0} inserts/s (with the per-insert timing)",
        n as f64 / secs
    );
    lat.sort_unstable();
    let pct = |p: f64| lat[((p / 100.0 * n as f64).ceil() as usize).clamp(1, lat.len()) - 1];
    println!(
        "latency: p50 {}  p99 {}  p99.9 {}  p99.99 {}  max {}",
        show(pct(50.0)),
        show(pct(99.0)),
        show(pct(99.9)),
        show(pct(99.99)),
        show(*lat.last().unwrap_or(&0)),
    );
    let over_ms: Vec<&Slow> = slow.iter().filter(|s| s.ns > OVER_MS).collect();
    println!(
        "inserts over 100 µs: {}; over 1 ms: {}",
        describe(&slow.iter().collect::<Vec<_>>()),
        describe(&over_ms)
    );
    let over_ms = over_ms.len();
    slow.sort_unstable_by_key(|s| std::cmp::Reverse(s.ns));
    let worst: Vec<String> = slow.iter().take(SLOWEST).map(one).collect();
    if !worst.is_empty() {
        println!("slowest: {}", worst.join(", "));
    }
    let table = &shard.dbs[0].table;
    let growth = |b: Option<u64>| {
        b.map_or("n/a".into(), |b| {
            format!(
                "{:.2} GB, {:.1} bytes/key",
                b as f64 / 1e9,
                b as f64 / n as f64
            )
        })
    };
    println!(
        "table at the end: {} segments, Table::overhead_bytes {:.1} bytes/key; \
         RSS growth {}; jemalloc allocated growth {}",
        table.segments(),
        table.overhead_bytes() as f64 / n as f64,
        growth(rss),
        growth(heap),
    );
    println!(
        "whole run: {} page faults, {} involuntary context switches",
        run.faults - run_before.faults,
        run.switches - run_before.switches
    );
    if over_ms > 0 {
        println!("FAIL: {over_ms} insert(s) over 1 ms");
    }
    // Exit without dropping 10 M entries: nothing is left to measure.
    std::process::exit(i32::from(over_ms > 0));
}

/// The control run: back-to-back clock reads for `secs` seconds, no work
/// between them. Returns the exit status (1 when a gap passed 1 ms).
fn control_run(secs: f64) -> i32 {
    let (mut gaps, mut over_us, mut over_ms, mut max) = (0u64, 0u64, 0u64, 0u32);
    let start = Instant::now();
    let mut last = start;
    while (last - start).as_secs_f64() < secs {
        let now = Instant::now();
        let ns = u32::try_from((now - last).as_nanos()).unwrap_or(u32::MAX);
        last = now;
        gaps += 1;
        over_us += u64::from(ns > OVER_US);
        over_ms += u64::from(ns > OVER_MS);
        max = max.max(ns);
    }
    println!(
        "control: {gaps} Instant::now() gaps in {:.3} s; over 100 µs: {over_us}; \
         over 1 ms: {over_ms}; max {}",
        start.elapsed().as_secs_f64(),
        show(max)
    );
    i32::from(over_ms > 0)
}

/// jemalloc's `stats.allocated`: bytes in live allocations (refreshed first).
fn jemalloc_allocated() -> Option<u64> {
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    tikv_jemalloc_ctl::stats::allocated::read()
        .ok()
        .map(|b| b as u64)
}

/// "N (S split a segment[, F took page faults, P were preempted])".
fn describe(list: &[&Slow]) -> String {
    let splits = list.iter().filter(|s| s.split).count();
    let mut text = format!("{} ({splits} split a segment", list.len());
    if list.iter().any(|s| s.faults.is_some()) {
        let faulted = list.iter().filter(|s| s.faults > Some(0)).count();
        let preempted = list.iter().filter(|s| s.preempted == Some(true)).count();
        let neither = list
            .iter()
            .filter(|s| !s.split && s.faults == Some(0) && s.preempted == Some(false))
            .count();
        text += &format!(
            ", {faulted} took page faults, {preempted} were preempted, \
             {neither} none of these"
        );
    }
    text + ")"
}

fn one(s: &Slow) -> String {
    let mut text = format!("#{} {}", s.index, show(s.ns));
    if s.split {
        text += " split";
    }
    if let Some(f) = s.faults.filter(|&f| f > 0) {
        text += &format!(" {f} faults");
    }
    if s.preempted == Some(true) {
        text += " preempted";
    }
    text
}

fn show(ns: u32) -> String {
    if ns >= 1_000_000 {
        format!("{:.2} ms", f64::from(ns) / 1e6)
    } else if ns >= 1_000 {
        format!("{:.1} µs", f64::from(ns) / 1e3)
    } else {
        format!("{ns} ns")
    }
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok()?)
}
