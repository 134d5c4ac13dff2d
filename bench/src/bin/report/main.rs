//! report: ringcache against redis-server over pipeline depth and value
//! size, written as a markdown table (`report.md`, also on stdout) and a
//! chart (`report.png`).
//!
//! ```text
//! report [--quick] [--out DIR] [--server PATH] [--server-cpu N] [--load-cpu N] [--run-secs S]
//! ```
//!
//! Both servers run side by side for the whole report, each pinned to the
//! server CPU, and each point is measured on one right after the other, so a
//! busy moment of a shared machine lands on both columns of the same row.
//! Per value size both are flushed; per (size, depth) a short probe on
//! redis-server sizes `-n` for about `--run-secs` there, the same `-n` for
//! both; then SET and GET (GET reads what that server's SET wrote).

mod chart;
mod load;
mod server;
mod table;

use load::{Run, Test};
use server::{Kind, Server};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use table::Figure;

const USAGE: &str = "\
usage: report [--quick] [--out DIR] [--server PATH] [--server-cpu N] [--load-cpu N] [--run-secs S]
  --quick         only -P 1,16 and 100 B, 1 KiB values (a smoke run, ~1 min)
  --out DIR       where report.md and report.png go [bench/]
  --server PATH   ringcache-server binary [target/release/ringcache-server]
  --server-cpu N  CPU both servers are pinned to [1]
  --load-cpu N    CPU redis-benchmark is pinned to [0]
  --run-secs S    target length of one run on redis-server [2.5]
Full run: -P 1,4,16,64 x 100 B, 1 KiB, 4 KiB, 64 KiB x SET,GET x 2 servers, ~5 min.";

/// The values of all keys of one size together stay under this, so a
/// 64 KiB run does not fill the machine's memory.
const VALUE_BUDGET: u64 = 64 << 20;
/// Keys for the small values, as compare.sh (`-r 100000`).
const MAX_KEYS: u64 = 100_000;
/// A run that takes this long has hung.
const RUN_LIMIT: Duration = Duration::from_secs(180);

struct Options {
    sizes: Vec<u32>,
    pipelines: Vec<u32>,
    out: PathBuf,
    server: PathBuf,
    server_cpu: usize,
    load_cpu: usize,
    run_secs: f64,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut o = Options {
            sizes: vec![100, 1024, 4096, 65536],
            pipelines: vec![1, 4, 16, 64],
            out: bench.to_path_buf(),
            server: bench.join("../target/release/ringcache-server"),
            server_cpu: 1,
            load_cpu: 0,
            run_secs: 2.5,
        };
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or(format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => {
                    o.sizes = vec![100, 1024];
                    o.pipelines = vec![1, 16];
                }
                "--out" => o.out = value()?.into(),
                "--server" => o.server = value()?.into(),
                "--server-cpu" => o.server_cpu = number(&value()?)?,
                "--load-cpu" => o.load_cpu = number(&value()?)?,
                "--run-secs" => o.run_secs = number(&value()?)?,
                "-h" | "--help" => return Err(String::new()),
                _ => return Err(format!("unknown argument '{arg}'")),
            }
        }
        Ok(o)
    }
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("'{s}' is not a number"))
}

fn main() -> ExitCode {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("report: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("report: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(o: &Options) -> Result<(), String> {
    if !o.server.is_file() {
        return Err(format!(
            "{} not found (build it, or pass --server)",
            o.server.display()
        ));
    }
    if o.server_cpu == o.load_cpu {
        eprintln!(
            "report: warning: servers and load share CPU {}",
            o.server_cpu
        );
    }
    // A signal only sets the flag: the run in flight is killed, and the
    // servers are stopped by their guards on the way out.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).map_err(|e| e.to_string())?;
    }
    let logs = std::env::temp_dir().join(format!("ringcache-report.{}", std::process::id()));
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let started = Instant::now();
    let load_start = loadavg();
    let mut servers = Vec::new();
    for kind in Kind::BOTH {
        servers.push(Server::start(kind, &o.server, o.server_cpu, &logs)?);
    }
    let bench = Bench {
        o,
        logs: &logs,
        stop: &stop,
    };
    let figs = bench
        .all(&mut servers)
        .inspect_err(|_| eprintln!("report: logs kept in {}", logs.display()))?;
    drop(servers);
    let about = About {
        load_start,
        load_end: loadavg(),
        secs: started.elapsed().as_secs(),
    };
    write_outputs(o, &figs, &about)?;
    let _ = std::fs::remove_dir_all(&logs);
    Ok(())
}

/// What every run needs besides the point it measures.
struct Bench<'a> {
    o: &'a Options,
    logs: &'a Path,
    stop: &'a AtomicBool,
}

impl Bench<'_> {
    /// Every (size, depth, test) point on both servers.
    fn all(&self, servers: &mut [Server]) -> Result<Vec<Figure>, String> {
        let mut figs = Vec::new();
        for &size in &self.o.sizes {
            for s in servers.iter() {
                let reply = s.call(&[b"FLUSHALL"])?;
                if reply != "+OK" {
                    return Err(format!("{} FLUSHALL replied {reply}", s.kind.name()));
                }
            }
            let keys = (VALUE_BUDGET / u64::from(size)).min(MAX_KEYS) as u32;
            for &pipeline in &self.o.pipelines {
                let redis = servers
                    .iter()
                    .find(|s| s.kind == Kind::Redis)
                    .expect("redis started");
                let requests = self.size_requests(redis.port, pipeline, size, keys)?;
                for test in Test::BOTH {
                    let run = Run {
                        test,
                        pipeline,
                        size,
                        keys,
                        requests,
                    };
                    for s in servers.iter_mut() {
                        figs.push(self.measure(s, &run)?);
                    }
                }
            }
        }
        Ok(figs)
    }

    /// `-n` for about `run_secs` of SET on redis-server at this point: a
    /// probe long enough (>= 0.3 s) that connection setup does not decide
    /// the rate, then scaled.
    fn size_requests(&self, port: u16, pipeline: u32, size: u32, keys: u32) -> Result<u64, String> {
        let mut n = 10_000u64.max(u64::from(load::CLIENTS * pipeline) * 20);
        let mut ops = 0.0;
        for attempt in 0..3 {
            let run = Run {
                test: Test::Set,
                pipeline,
                size,
                keys,
                requests: n,
            };
            let log = self
                .logs
                .join(format!("probe-P{pipeline}-d{size}-{attempt}.log"));
            ops =
                load::redis_benchmark(&run, port, self.o.load_cpu, &log, self.stop, RUN_LIMIT)?.ops;
            if n as f64 / ops >= 0.3 {
                break;
            }
            n = round_to((ops * 0.4) as u64, 1000);
        }
        Ok(round_to((ops * self.o.run_secs) as u64, 1000).clamp(20_000, 10_000_000))
    }

    fn measure(&self, s: &mut Server, run: &Run) -> Result<Figure, String> {
        let name = format!(
            "{}-{}-P{}-d{}",
            s.kind.name(),
            run.test.name(),
            run.pipeline,
            run.size
        );
        let log = self.logs.join(format!("{name}.log"));
        let t0 = s.cpu_ticks()?;
        let out = load::redis_benchmark(run, s.port, self.o.load_cpu, &log, self.stop, RUN_LIMIT)?;
        let t1 = s.cpu_ticks()?;
        s.check_alive()?;
        let cpu_us = (t1 - t0) as f64 / clock_ticks_per_sec() * 1e6 / run.requests as f64;
        eprintln!(
            "== {name} -n {}: {:.0} ops/s, p99.9 {:.3} ms, {cpu_us:.2} CPU µs/req",
            run.requests, out.ops, out.p999_ms
        );
        Ok(Figure {
            test: run.test,
            size: run.size,
            pipeline: run.pipeline,
            kind: s.kind,
            ops: out.ops,
            p999_ms: out.p999_ms,
            cpu_us,
        })
    }
}

fn round_to(n: u64, step: u64) -> u64 {
    (n + step / 2) / step * step
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 {
        hz as f64
    } else {
        100.0
    }
}

/// The conditions of the run, written above the table.
struct About {
    load_start: String,
    load_end: String,
    secs: u64,
}

fn write_outputs(o: &Options, figs: &[Figure], about: &About) -> Result<(), String> {
    let table = table::markdown(figs, &o.sizes, &o.pipelines);
    println!("{table}");
    println!(
        "loadavg at start {}, at end {}; {} s; ratio ringcache/redis: above 1 is better for ops/s, worse for the others.",
        about.load_start, about.load_end, about.secs
    );
    std::fs::create_dir_all(&o.out).map_err(|e| format!("{}: {e}", o.out.display()))?;
    let md = o.out.join("report.md");
    std::fs::write(&md, markdown_page(o, &table, about))
        .map_err(|e| format!("{}: {e}", md.display()))?;
    let png = o.out.join("report.png");
    let subtitle = format!(
        "servers pinned to CPU {}, redis-benchmark on CPU {}; {}; {}; loadavg {} .. {}",
        o.server_cpu,
        o.load_cpu,
        shell("uname -srm"),
        shell("date -u '+%Y-%m-%d %H:%M UTC'"),
        about.load_start,
        about.load_end
    );
    chart::draw(&png, figs, &o.sizes, &o.pipelines, &subtitle)?;
    eprintln!("report: wrote {} and {}", md.display(), png.display());
    Ok(())
}

fn markdown_page(o: &Options, table: &str, about: &About) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let sizes: Vec<String> = o.sizes.iter().map(|&s| table::size_label(s)).collect();
    let keys: Vec<String> = o
        .sizes
        .iter()
        .map(|&s| (VALUE_BUDGET / u64::from(s)).min(MAX_KEYS).to_string())
        .collect();
    let mut page = String::from("# ringcache vs redis-server: pipeline depth and value size\n\n");
    page += "Written by `bench/src/bin/report/` (see bench/README.md); do not edit by hand.\n\n";
    page += &format!(
        "- {}, commit {}\n",
        shell("date -u '+%Y-%m-%d %H:%M UTC'"),
        commit()
    );
    page += &format!(
        "- host: `{}`, {cpu}, {} CPUs; loadavg {} at start, {} at end; {} s\n",
        shell("uname -srm"),
        shell("nproc"),
        about.load_start,
        about.load_end,
        about.secs
    );
    page += &format!(
        "- {}; servers on CPU {}, redis-benchmark on CPU {}\n",
        shell("redis-server --version | cut -d' ' -f1-3"),
        o.server_cpu,
        o.load_cpu
    );
    page += &format!(
        "- redis-benchmark -c {} -P {:?} -d {} with -r {} keys; -n per point sized for ~{} s on redis-server\n\n",
        load::CLIENTS, o.pipelines, sizes.join(", "), keys.join(", "), o.run_secs
    );
    page += "ratio = ringcache/redis: above 1 is better for ops/s, worse for p99.9 and CPU. ";
    page += "p99.9 is redis-benchmark's HdrHistogram tick at 99.902 %, a bound from above. ";
    page += "CPU µs/req is the server's utime+stime over the run (100 Hz ticks) per request.\n\n";
    page += "![ops/s and p99.9 against pipeline depth](report.png)\n\n";
    page += table;
    page
}

fn loadavg() -> String {
    let s = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Output of a shell one-liner, for the header only ("?" when it fails).
fn shell(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

/// The short commit, marked when the tree has changes. Read-only git
/// commands: diff-index takes no lock on the index.
fn commit() -> String {
    let dir = env!("CARGO_MANIFEST_DIR");
    let head = shell(&format!("git -C '{dir}' rev-parse --short HEAD"));
    let clean = shell(&format!(
        "git -C '{dir}' diff-index --quiet HEAD -- && echo clean"
    ));
    if clean == "clean" {
        head
    } else {
        format!("{head} (with uncommitted changes)")
    }
}
