//! remote_get [BINARY] [--requests N] [--pipeline P] [--conns C] [--rounds R] [--both]
//!            [--only local|remote]
//!
//! What a GET routed to another shard costs against one served where it was
//! received, in server CPU per request. Starts `BINARY --shards 2 --cpus 0,1`
//! (default target/release/ringcache-server), keeps only connections the
//! kernel handed to shard 0 (a client id's shard is `id % 2`), and sends
//! pipelined GETs of a 100-byte value whose key (`{tag}` pinned) lives on
//! shard 0 ("local") or on shard 1 ("remote"), alternating the two per round.
//! That is the worst case: shard 1 has nothing else to do, so it sleeps and
//! is woken for every hop. With `--both`, C connections on each shard load
//! both at once, each asking for a key on its own shard ("local") or on the
//! other one ("remote"): a loaded server, where a hop finds its shard awake.
//! CPU is the whole server process's utime+stime from /proc: a remote GET
//! costs both shards, which is the point. Prints each round (with each
//! shard's threads' share), the medians and the ratio remote/local; `--only`
//! runs one half (to profile it). The server is stopped by PID when the tool
//! ends.

use ringcache_bench::{process_cpu_ticks, push_command, thread_cpu_ticks, VALUE};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

struct Options {
    binary: String,
    requests: u64,
    pipeline: usize,
    conns: usize,
    rounds: usize,
    both: bool,
    /// Run only "local" or only "remote" (to profile one of them).
    only: Option<String>,
}

fn options() -> Options {
    let mut o = Options {
        binary: "target/release/ringcache-server".into(),
        requests: 2_000_000,
        pipeline: 16,
        conns: 8,
        rounds: 3,
        both: false,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = || args.next().and_then(|v| v.parse().ok()).expect("a number");
        match a.as_str() {
            "--requests" => o.requests = num(),
            "--pipeline" => o.pipeline = num() as usize,
            "--conns" => o.conns = num() as usize,
            "--rounds" => o.rounds = num() as usize,
            "--both" => o.both = true,
            "--only" => {
                let half = args.next().filter(|h| h == "local" || h == "remote");
                o.only = Some(half.expect("--only local or --only remote"));
            }
            _ if !a.starts_with("--") => o.binary = a,
            _ => panic!("unknown option {a}"),
        }
    }
    o
}

/// The server, killed by PID when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(binary: &str) -> Server {
    let mut child = Command::new(binary)
        .args(["--port", "0", "--shards", "2", "--cpus", "0,1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {binary}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let port = line
        .split("port=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    Server { child, port }
}

fn cpu_ticks(pid: u32) -> u64 {
    process_cpu_ticks(pid).unwrap_or_else(|e| panic!("{e}"))
}

/// CPU ticks so far of each shard's threads (named `shard-N-...`), in shard
/// order: where a hop's cost lands.
fn shard_ticks(pid: u32) -> Vec<u64> {
    let mut by_shard = std::collections::BTreeMap::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
    {
        let tid: u32 = task.file_name().to_string_lossy().parse().expect("tid");
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if let (Some(shard), Ok(t)) = (
            comm.trim()
                .strip_prefix("shard-")
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.parse::<usize>().ok()),
            thread_cpu_ticks(pid, tid),
        ) {
            *by_shard.entry(shard).or_insert(0) += t;
        }
    }
    by_shard.into_values().collect()
}

fn call(c: &mut TcpStream, parts: &[&[u8]]) -> String {
    let mut req = Vec::new();
    push_command(&mut req, parts);
    c.write_all(&req).unwrap();
    let mut buf = [0u8; 512];
    let n = c.read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// `n` connections that `shard` (of two) accepted.
fn shard_conns(port: u16, shard: u64, n: usize) -> Vec<TcpStream> {
    let mut kept = Vec::new();
    for _ in 0..n * 50 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
        c.set_nodelay(true).unwrap();
        let id: u64 = call(&mut c, &[b"CLIENT", b"ID"])
            .trim_start_matches(':')
            .trim()
            .parse()
            .unwrap();
        if id % 2 == shard {
            kept.push(c);
            if kept.len() == n {
                return kept;
            }
        }
    }
    panic!(
        "shard {shard} accepted fewer than {n} of {} connections",
        n * 50
    );
}

/// A key of the form `{tagN}k` that lives on `shard` of two.
fn key_on(shard: usize) -> Vec<u8> {
    (0..)
        .map(|i| format!("{{tag{i}}}k").into_bytes())
        .find(|k| engine::slot::slot_owner(engine::slot::key_slot(k), 2) == shard)
        .unwrap()
}

/// Sends `per_conn` pipelined GETs on every connection at once, each of the
/// key paired with its connection.
fn load(conns: &mut [(TcpStream, Vec<u8>)], per_conn: u64, pipeline: usize) {
    let reply_len = (format!("${}\r\n", VALUE.len()).len() + VALUE.len() + 2) * pipeline;
    std::thread::scope(|s| {
        for (c, key) in conns.iter_mut() {
            let mut batch = Vec::new();
            for _ in 0..pipeline {
                push_command(&mut batch, &[b"GET", key]);
            }
            s.spawn(move || {
                let mut replies = vec![0u8; reply_len];
                for _ in 0..per_conn / pipeline as u64 {
                    c.write_all(&batch).unwrap();
                    c.read_exact(&mut replies).unwrap();
                }
                assert!(
                    replies.ends_with(b"\r\n") && replies[0] == b'$',
                    "not a GET reply"
                );
            });
        }
    });
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let o = options();
    let server = start(&o.binary);
    let pid = server.child.id();
    let shards: &[u64] = if o.both { &[0, 1] } else { &[0] };
    let mut conns: Vec<(TcpStream, u64)> = shards
        .iter()
        .flat_map(|&s| {
            shard_conns(server.port, s, o.conns)
                .into_iter()
                .map(move |c| (c, s))
        })
        .collect();
    let keys = [key_on(0), key_on(1)];
    for k in &keys {
        assert_eq!(call(&mut conns[0].0, &[b"SET", k, &VALUE]), "+OK\r\n");
    }
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let per_conn = o.requests / conns.len() as u64;
    let done = per_conn / o.pipeline as u64 * o.pipeline as u64 * conns.len() as u64;
    let mut cpu = [Vec::new(), Vec::new()];
    println!(
        "remote_get: {done} GETs per run, pipeline {}, {} connections on shard{} {shards:?}",
        o.pipeline,
        o.conns,
        if o.both { "s" } else { "" }
    );
    for round in 0..o.rounds {
        for (i, name) in ["local", "remote"].into_iter().enumerate() {
            if o.only.as_deref().is_some_and(|only| only != name) {
                continue;
            }
            // A connection on shard s asks for the key on shard s (local) or
            // on the other one (remote).
            let mut paired: Vec<(TcpStream, Vec<u8>)> = conns
                .iter()
                .map(|(c, s)| {
                    let key = &keys[(*s as usize + i) % 2];
                    (c.try_clone().expect("clone"), key.clone())
                })
                .collect();
            let (t0, s0, start) = (cpu_ticks(pid), shard_ticks(pid), Instant::now());
            load(&mut paired, per_conn, o.pipeline);
            let secs = start.elapsed().as_secs_f64();
            let per_req = |ticks: u64| ticks as f64 / hz * 1e6 / done as f64;
            let us = per_req(cpu_ticks(pid) - t0);
            let split: Vec<String> = shard_ticks(pid)
                .iter()
                .zip(&s0)
                .map(|(t, t0)| format!("{:.3}", per_req(t - t0)))
                .collect();
            println!(
                "round {} {name:6}: {:.0} ops/s, {us:.3} server cpu-us/req (shards {})",
                round + 1,
                done as f64 / secs,
                split.join(" + ")
            );
            cpu[i].push(us);
        }
    }
    if o.only.is_some() {
        return;
    }
    let (l, r) = (median(&mut cpu[0]), median(&mut cpu[1]));
    println!(
        "median: local {l:.3} cpu-us/req, remote {r:.3} cpu-us/req, remote/local {:.2}",
        r / l
    );
}
