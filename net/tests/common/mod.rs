//! Shared by the integration tests: start the real `ringcache-server` on
//! port 0 and wait for its readiness line, then talk to it through the
//! `redis` crate or over a raw TCP socket with a small RESP reader.
//!
//! Every socket has a timeout, so a server that hangs fails the test instead
//! of blocking the suite.

// Each test file compiles this module on its own and uses part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long any single socket read or write may block.
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server may take to print its readiness line.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const READY: &str = "ready to accept connections: port=";

/// A running server, killed (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Collects stderr, so Drop can fail a test whose server panicked.
    stderr: Option<JoinHandle<String>>,
}

impl Server {
    /// Starts `ringcache-server --port 0 --shards N extra...` and waits for
    /// the line saying every shard listens.
    pub fn start(shards: usize, extra: &[&str]) -> Server {
        let shards = shards.to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_ringcache-server"))
            .args(["--port", "0", "--shards", &shards])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ringcache-server");
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        // Lines go through a channel so the wait has a deadline; the thread
        // keeps draining stdout afterwards so the server never blocks on it.
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            child,
            port: 0,
            stderr: Some(stderr),
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split(READY).nth(1) {
                        let port = rest.split_whitespace().next().unwrap_or_default();
                        server.port = port.parse().expect("port in the ready line");
                        return server;
                    }
                }
                Err(e) => {
                    let _ = server.child.kill();
                    let _ = server.child.wait();
                    let err = server.stderr.take().unwrap().join().unwrap_or_default();
                    panic!("no readiness line within {START_TIMEOUT:?} ({e:?}); stderr:\n{err}");
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// A `redis` crate connection with read and write timeouts.
    pub fn client(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).unwrap();
        let con = client.get_connection_with_timeout(IO_TIMEOUT).unwrap();
        con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        con.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        con
    }

    pub fn raw(&self) -> Raw {
        Raw::connect(self.port)
    }

    /// One raw connection accepted by each of the server's `shards`, in shard
    /// order, with its client id. The kernel spreads connections over the
    /// shards, and a client id is `sequence * shards + shard`, so connections
    /// are opened until every shard has one.
    pub fn raw_per_shard(&self, shards: usize) -> Vec<(i64, Raw)> {
        let mut found: Vec<Option<(i64, Raw)>> = (0..shards).map(|_| None).collect();
        for _ in 0..64 * shards {
            let mut raw = self.raw();
            let Reply::Int(id) = raw.cmd(&["CLIENT", "ID"]) else {
                panic!("CLIENT ID");
            };
            found[id as usize % shards].get_or_insert((id, raw));
            if found.iter().all(Option::is_some) {
                return found.into_iter().flatten().collect();
            }
        }
        panic!("no connection landed on some shard");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let err = self.stderr.take().and_then(|h| h.join().ok());
        if let Some(err) = err {
            if err.contains("panicked") && !std::thread::panicking() {
                panic!("the server panicked during the test:\n{err}");
            }
        }
    }
}

/// A reply as read off the wire: RESP2, plus RESP3's null and map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// RESP2's `$-1` or `*-1`.
    Nil,
    /// RESP3's `_`.
    Null,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Simple("OK".into())
    }

    pub fn bulk(s: &str) -> Reply {
        Reply::Bulk(s.as_bytes().to_vec())
    }

    pub fn err(s: &str) -> Reply {
        Reply::Error(s.into())
    }
}

/// Encodes one command as a RESP multibulk.
pub fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

/// A raw client socket: write any bytes, read replies.
pub struct Raw {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Raw {
    pub fn connect(port: u16) -> Raw {
        let w = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        w.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        w.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        w.set_nodelay(true).unwrap();
        let r = BufReader::new(w.try_clone().unwrap());
        Raw { w, r }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).expect("write to server");
    }

    /// Sends one command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        self.send(&encode(args));
        self.read()
    }

    /// Reads one reply; panics on a timeout or a closed connection.
    pub fn read(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        let len = || rest.parse::<i64>().expect("length");
        match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Int(len()),
            "$" if len() < 0 => Reply::Nil,
            "$" => {
                let mut buf = vec![0; len() as usize + 2];
                self.r.read_exact(&mut buf).expect("bulk payload");
                assert_eq!(&buf[buf.len() - 2..], b"\r\n", "bulk not ended by CRLF");
                buf.truncate(buf.len() - 2);
                Reply::Bulk(buf)
            }
            "*" if len() < 0 => Reply::Nil,
            "*" => Reply::Array((0..len()).map(|_| self.read()).collect()),
            "_" => Reply::Null,
            "%" => Reply::Map((0..len()).map(|_| (self.read(), self.read())).collect()),
            _ => panic!("reply of an unexpected type: {line:?}"),
        }
    }

    fn line(&mut self) -> String {
        let mut line = Vec::new();
        self.r.read_until(b'\n', &mut line).expect("reply line");
        assert!(!line.is_empty(), "connection closed by the server");
        assert!(line.ends_with(b"\r\n"), "truncated reply line {line:?}");
        line.truncate(line.len() - 2);
        String::from_utf8(line).expect("reply line is UTF-8")
    }

    /// Asserts the server closes the connection (EOF or reset) without
    /// sending anything more; a timeout fails.
    pub fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.r.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "data after the last reply: {rest:?}"),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
            Err(e) => panic!("connection not closed by the server: {e}"),
        }
    }

    /// Asserts nothing arrives within `wait` (for replies that must be suppressed).
    pub fn expect_silence(&mut self, wait: Duration) {
        self.r.get_ref().set_read_timeout(Some(wait)).unwrap();
        let mut byte = [0u8; 1];
        let got = self.r.read(&mut byte);
        self.r.get_ref().set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        match got {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            other => panic!("expected no reply, got {other:?} {byte:?}"),
        }
    }
}

/// Runs a command through the `redis` crate; panics with the server's text on an error.
pub fn query<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    redis_cmd(args)
        .query(con)
        .unwrap_or_else(|e| panic!("{args:?}: {}", err_text(&e)))
}

/// Runs a command that must fail and returns its error text.
pub fn query_err(con: &mut redis::Connection, args: &[&str]) -> String {
    match redis_cmd(args).query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?}: expected an error, got {v:?}"),
        Err(e) => err_text(&e),
    }
}

fn redis_cmd(args: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    cmd
}

/// The full error text (`CODE detail`) of a `redis` crate error.
pub fn err_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        _ => e.to_string(),
    }
}

/// The shard owning `key` among `shards` (Redis Cluster slots, split in
/// equal ranges), to pick keys that are, or are not, on the same shard.
pub fn shard_of(key: &str, shards: usize) -> usize {
    engine::slot::slot_owner(engine::slot::key_slot(key.as_bytes()), shards)
}

/// Two keys named `{prefix}N`, the first on shard 0 and the second on
/// shard 1 of a two-shard server.
pub fn keys_on_two_shards(prefix: &str) -> [String; 2] {
    let find = |shard| {
        (0..)
            .map(|i| format!("{prefix}{i}"))
            .find(|k| shard_of(k, 2) == shard)
            .unwrap()
    };
    [find(0), find(1)]
}

/// Polls `check` every 10 ms until it holds, failing after `limit`.
pub fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
