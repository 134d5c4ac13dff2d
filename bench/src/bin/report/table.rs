//! The figures of a report and their markdown table.

use crate::load::Test;
use crate::server::Kind;
use std::fmt::Write;

/// One server's figures for one run.
#[derive(Clone, Copy, Debug)]
pub struct Figure {
    pub test: Test,
    pub size: u32,
    pub pipeline: u32,
    pub kind: Kind,
    pub ops: f64,
    pub p999_ms: f64,
    /// Server utime+stime over the run divided by its requests.
    pub cpu_us: f64,
}

/// The figure of `kind` for one (test, size, pipeline) point, if measured.
pub fn find(figs: &[Figure], test: Test, size: u32, pipeline: u32, kind: Kind) -> Option<&Figure> {
    figs.iter()
        .find(|f| f.test == test && f.size == size && f.pipeline == pipeline && f.kind == kind)
}

/// "100 B", "1 KiB", "64 KiB".
pub fn size_label(size: u32) -> String {
    // Not `is_multiple_of`: it is newer than the workspace's rust-version.
    match (size / 1024, size % 1024) {
        (kib, 0) if kib > 0 => format!("{kib} KiB"),
        _ => format!("{size} B"),
    }
}

/// One row per (test, size, pipeline), both servers side by side with the
/// ratio ringcache/redis: above 1 is better for ops/s, worse for the others.
pub fn markdown(figs: &[Figure], sizes: &[u32], pipelines: &[u32]) -> String {
    let mut t = String::new();
    t.push_str("| test | value | -P | ops/s ringcache | ops/s redis | ratio ");
    t.push_str("| p99.9 ms ringcache | p99.9 ms redis | ratio ");
    t.push_str("| CPU µs/req ringcache | CPU µs/req redis | ratio |\n");
    t.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for test in Test::BOTH {
        for &size in sizes {
            for &p in pipelines {
                let (Some(a), Some(b)) = (
                    find(figs, test, size, p, Kind::Ringcache),
                    find(figs, test, size, p, Kind::Redis),
                ) else {
                    continue;
                };
                let _ = writeln!(
                    t,
                    "| {} | {} | {p} | {:.0} | {:.0} | {} | {:.3} | {:.3} | {} | {:.2} | {:.2} | {} |",
                    test.name(),
                    size_label(size),
                    a.ops,
                    b.ops,
                    ratio(a.ops, b.ops),
                    a.p999_ms,
                    b.p999_ms,
                    ratio(a.p999_ms, b.p999_ms),
                    a.cpu_us,
                    b.cpu_us,
                    ratio(a.cpu_us, b.cpu_us),
                );
            }
        }
    }
    t
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "n/a".into()
    }
}
