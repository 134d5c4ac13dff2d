//! One redis-benchmark run: started pinned to the load CPU, watched so the
//! stop flag or a hung server cannot keep the tool waiting, and parsed.

use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Parallel connections of every run, as in compare.sh.
pub const CLIENTS: u32 = 50;

/// What one run is: the command, the pipeline depth, the value size, the
/// keys it picks from at random (`-r`), and how many requests (`-n`).
#[derive(Clone, Copy, Debug)]
pub struct Run {
    pub test: Test,
    pub pipeline: u32,
    pub size: u32,
    pub keys: u32,
    pub requests: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    Set,
    Get,
}

impl Test {
    pub const BOTH: [Test; 2] = [Test::Set, Test::Get];

    pub fn name(self) -> &'static str {
        match self {
            Test::Set => "SET",
            Test::Get => "GET",
        }
    }
}

/// The figures redis-benchmark gives for one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub ops: f64,
    /// Milliseconds: the first tick of the HdrHistogram distribution at or
    /// above 99.9 % (99.902 %), so a bound from above.
    pub p999_ms: f64,
}

/// Runs redis-benchmark against `port`, its output kept in `log`. Gives up
/// after `limit`, or as soon as `stop` is set, killing the load process.
pub fn redis_benchmark(
    run: &Run,
    port: u16,
    cpu: usize,
    log: &Path,
    stop: &AtomicBool,
    limit: Duration,
) -> Result<Outcome, String> {
    let what = format!(
        "redis-benchmark -t {} -P {} -d {}",
        run.test.name(),
        run.pipeline,
        run.size
    );
    let out = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = crate::server::pinned(cpu);
    cmd.arg("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()]);
    cmd.args([
        "-t",
        &run.test.name().to_lowercase(),
        "-n",
        &run.requests.to_string(),
    ]);
    cmd.args(["-P", &run.pipeline.to_string(), "-c", &CLIENTS.to_string()]);
    cmd.args([
        "-d",
        &run.size.to_string(),
        "-r",
        &run.keys.to_string(),
        "--precision",
        "3",
    ]);
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start redis-benchmark: {e}"))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(if stop.load(Ordering::Relaxed) {
                "stopped by a signal".into()
            } else {
                format!(
                    "{what} took over {} s (log: {})",
                    limit.as_secs(),
                    log.display()
                )
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(log).map_err(|e| format!("{}: {e}", log.display()))?;
    if !status.success() {
        return Err(format!("{what} failed: {status} (log: {})", log.display()));
    }
    if let Some(line) = error_line(&text) {
        return Err(format!(
            "{what} saw an error: {line} (log: {})",
            log.display()
        ));
    }
    parse(&text).ok_or_else(|| format!("no result from {what} (log: {})", log.display()))
}

/// The first line that reports an error reply or a connection error.
fn error_line(text: &str) -> Option<&str> {
    lines(text).find(|l| {
        let l = l.trim().to_lowercase();
        l.starts_with("error") || l.contains("error from server") || l.contains("connection reset")
    })
}

/// redis-benchmark redraws its progress line with `\r`: split on both.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\r', '\n'])
}

/// Reads "throughput summary: N requests per second" and the first line of
/// "Latency by percentile distribution" at or above 99.9 %.
pub fn parse(text: &str) -> Option<Outcome> {
    let mut ops = None;
    let mut p999 = None;
    let mut in_distribution = false;
    for line in lines(text).map(str::trim) {
        if let Some(rest) = line.strip_prefix("throughput summary:") {
            ops = rest.split_whitespace().next().and_then(|s| s.parse().ok());
        } else if line.starts_with("Latency by percentile distribution") {
            in_distribution = true;
        } else if in_distribution && p999.is_none() {
            // "99.902% <= 3.703 milliseconds (cumulative count 19981)"
            let mut words = line.split_whitespace();
            let pct = words
                .next()
                .and_then(|w| w.strip_suffix('%'))
                .and_then(|w| w.parse::<f64>().ok());
            let ms = words.nth(1).and_then(|w| w.parse::<f64>().ok());
            match (pct, ms) {
                (Some(p), Some(ms)) if p >= 99.9 => p999 = Some(ms),
                (Some(_), Some(_)) => {}
                _ => in_distribution = false, // the section ended without 99.9
            }
        }
    }
    Some(Outcome {
        ops: ops?,
        p999_ms: p999?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "SET: rps=0.0 (overall: nan) avg_msec=nan (overall: nan)\r\
SET: rps=63000.0 (overall: 63000.0)\r====== SET ======
  20000 requests completed in 0.32 seconds

Latency by percentile distribution:
0.000% <= 0.063 milliseconds (cumulative count 1)
99.805% <= 3.623 milliseconds (cumulative count 19962)
99.902% <= 3.703 milliseconds (cumulative count 19981)
99.951% <= 3.783 milliseconds (cumulative count 19992)

Cumulative distribution of latencies:
99.990% <= 2.103 milliseconds (cumulative count 16251)

Summary:
  throughput summary: 63291.14 requests per second
  latency summary (msec):
          avg       min       p50       p95       p99       max
        0.656     0.056     0.175     2.871     3.319     3.863
";

    #[test]
    fn parses_throughput_and_the_first_tick_at_999() {
        assert_eq!(
            parse(OUTPUT),
            Some(Outcome {
                ops: 63291.14,
                p999_ms: 3.703
            })
        );
        assert_eq!(error_line(OUTPUT), None);
    }

    #[test]
    fn a_run_without_a_summary_is_no_result() {
        assert_eq!(
            parse("Latency by percentile distribution:\n99.950% <= 1.0 milliseconds\n"),
            None
        );
    }

    #[test]
    fn spots_error_replies() {
        let text = "Error from server: ERR unknown command\r\n";
        assert!(error_line(text).is_some());
    }
}
