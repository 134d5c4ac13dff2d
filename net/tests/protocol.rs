//! The wire protocol over raw TCP: inline commands, a command trickling in
//! byte by byte, and malformed frames, which get Redis's error text and a
//! closed connection while every other client and the data carry on.

mod common;

use common::{encode, keys_on_two_shards, Reply, Server};
use std::time::{Duration, Instant};

fn pong() -> Reply {
    Reply::Simple("PONG".into())
}

#[test]
fn inline_commands() {
    let server = Server::start(1, &[]);
    let mut raw = server.raw();
    raw.send(b"PING\r\n");
    assert_eq!(raw.read(), pong());
    raw.send(b"SET k \"a b\"\r\n");
    assert_eq!(raw.read(), Reply::ok());
    assert_eq!(raw.cmd(&["GET", "k"]), Reply::bulk("a b"));
    // A bare LF ends a line too; quotes and escapes follow redis-cli's rules.
    raw.send(b"SET q 'it\\'s' \nGET q\r\nECHO \"\\x41\\tb\"\r\n");
    assert_eq!(raw.read(), Reply::ok());
    assert_eq!(raw.read(), Reply::bulk("it's"));
    assert_eq!(raw.read(), Reply::bulk("A\tb"));
    // Empty lines are skipped without a reply.
    raw.send(b"\r\n\r\nPING\r\n");
    assert_eq!(raw.read(), pong());
}

#[test]
fn slow_client_does_not_hold_up_others() {
    // One shard, so both connections share the same executor.
    let server = Server::start(1, &[]);
    let mut slow = server.raw();
    let mut fast = server.raw();
    for (i, byte) in encode(&["SET", "slow", "value"]).iter().enumerate() {
        slow.send(&[*byte]);
        std::thread::sleep(Duration::from_millis(1));
        if i % 4 == 0 {
            assert_eq!(fast.cmd(&["PING"]), pong());
        }
    }
    assert_eq!(slow.read(), Reply::ok());
    for byte in b"*1\r\n$4\r\nPING\r\n" {
        slow.send(&[*byte]);
        assert_eq!(fast.cmd(&["GET", "slow"]), Reply::bulk("value"));
    }
    assert_eq!(slow.read(), pong());
}

#[test]
fn a_long_pipeline_runs_in_order_across_parse_ahead_runs() {
    // Over 32 commands (one parse-ahead run), with a SELECT, an inline
    // command and an incomplete tail in between, then an error that ends it.
    let server = Server::start(1, &[]);
    let mut raw = server.raw();
    let mut wire = Vec::new();
    let mut want = Vec::new();
    for i in 0..40 {
        let k = format!("p:{i}");
        if i == 20 {
            wire.extend(encode(&["SELECT", "1"]));
            want.push(Reply::ok());
        }
        wire.extend(encode(&["SET", &k, &i.to_string()]));
        want.push(Reply::ok());
        if i == 30 {
            wire.extend_from_slice(b"PING\r\n");
            want.push(pong());
        }
        wire.extend(encode(&["GET", &k]));
        want.push(Reply::bulk(&i.to_string()));
    }
    let tail = encode(&["GET", "p:5"]);
    let (head, rest) = tail.split_at(7);
    wire.extend_from_slice(head);
    raw.send(&wire);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(&raw.read(), w, "reply {i}");
    }
    raw.send(rest);
    assert_eq!(raw.read(), Reply::Nil, "p:5 is in database 0, p:20 on in 1");
    let mut bad = encode(&["GET", "p:25"]);
    bad.extend_from_slice(b"PING\r\n");
    bad.extend(encode(&["GET", "p:26"]));
    bad.extend_from_slice(b"*1\r\n+x\r\n");
    bad.extend(encode(&["GET", "p:27"]));
    raw.send(&bad);
    assert_eq!(raw.read(), Reply::bulk("25"));
    assert_eq!(raw.read(), pong());
    assert_eq!(raw.read(), Reply::bulk("26"));
    assert_eq!(
        raw.read(),
        Reply::err("ERR Protocol error: expected '$', got '+'")
    );
    raw.expect_closed();
    let mut fresh = server.raw();
    assert_eq!(fresh.cmd(&["GET", "p:5"]), Reply::bulk("5"));
    assert_eq!(fresh.cmd(&["GET", "p:27"]), Reply::Nil);
}

/// Sends `frame` on a fresh connection after storing a key through another,
/// expects `error` and a closed connection, then checks the server still
/// answers other clients with the data intact.
fn assert_protocol_error(frame: &[u8], error: &str) {
    let server = Server::start(2, &[]);
    let mut other = server.raw();
    assert_eq!(other.cmd(&["SET", "kept", "value"]), Reply::ok());
    let mut bad = server.raw();
    // Commands before the malformed frame in the same write still run, on
    // this connection's shard and on the other.
    let before = keys_on_two_shards("before:");
    let mut wire = Vec::new();
    for k in &before {
        wire.extend(encode(&["SET", k, "1"]));
    }
    wire.extend_from_slice(frame);
    let start = Instant::now();
    bad.send(&wire);
    assert_eq!(bad.read(), Reply::ok());
    assert_eq!(bad.read(), Reply::ok());
    assert_eq!(bad.read(), Reply::err(error));
    bad.expect_closed();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "slow: {:?}",
        start.elapsed()
    );
    assert_eq!(other.cmd(&["PING"]), pong());
    let mut fresh = server.raw();
    assert_eq!(fresh.cmd(&["PING"]), pong());
    assert_eq!(
        fresh.cmd(&["MGET", "kept", &before[0], &before[1]]),
        Reply::Array(vec![
            Reply::bulk("value"),
            Reply::bulk("1"),
            Reply::bulk("1")
        ])
    );
}

#[test]
fn huge_multibulk_count_is_refused() {
    assert_protocol_error(
        b"*3000000000\r\n",
        "ERR Protocol error: invalid multibulk length",
    );
}

#[test]
fn huge_bulk_length_is_refused_at_once() {
    assert_protocol_error(
        b"*1\r\n$2147483648\r\n",
        "ERR Protocol error: invalid bulk length",
    );
}

#[test]
fn missing_dollar_is_refused() {
    assert_protocol_error(
        b"*1\r\nfoo\r\n",
        "ERR Protocol error: expected '$', got 'f'",
    );
}

#[test]
fn unbalanced_quotes_are_refused() {
    assert_protocol_error(
        b"SET k \"abc\r\n",
        "ERR Protocol error: unbalanced quotes in request",
    );
}

/// Resident memory of the server process, from /proc.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmRSS");
    kb * 1024
}

#[test]
fn declared_large_bulk_is_not_allocated_up_front() {
    let server = Server::start(1, &[]);
    let mut big = server.raw();
    // 500 MB declared (under proto-max-bulk-len), only 3 bytes sent.
    big.send(b"*2\r\n$4\r\nECHO\r\n$500000000\r\nabc");
    let mut other = server.raw();
    assert_eq!(other.cmd(&["PING"]), pong());
    let rss = rss_bytes(server.pid());
    assert!(
        rss < 200 << 20,
        "server RSS {rss} bytes after a 500 MB header"
    );
    // The sender is waiting for its payload, not refused.
    big.expect_silence(Duration::from_millis(50));
}

#[test]
fn arity_error_keeps_the_connection() {
    let server = Server::start(1, &[]);
    let mut raw = server.raw();
    assert_eq!(
        raw.cmd(&["GET"]),
        Reply::err("ERR wrong number of arguments for 'get' command")
    );
    assert_eq!(
        raw.cmd(&["SET", "k"]),
        Reply::err("ERR wrong number of arguments for 'set' command")
    );
    assert_eq!(raw.cmd(&["PING"]), pong());
}

#[test]
fn quit_replies_ok_and_closes() {
    let server = Server::start(1, &[]);
    let mut raw = server.raw();
    // Commands pipelined after QUIT are not run.
    let mut wire = encode(&["QUIT"]);
    wire.extend(encode(&["SET", "after-quit", "1"]));
    raw.send(&wire);
    assert_eq!(raw.read(), Reply::ok());
    raw.expect_closed();
    let mut other = server.raw();
    assert_eq!(other.cmd(&["EXISTS", "after-quit"]), Reply::Int(0));
}

/// Values of 4 KiB and more go out from their stored buffers in a vectored
/// send: pipelined between small replies, from both shards, under CLIENT
/// REPLY SKIP, read by SET ... GET and GETDEL, and still whole after APPEND.
#[test]
fn large_values_are_sent_whole_from_their_own_buffers() {
    let server = Server::start(2, &[]);
    let mut raw = server.raw();
    let big = |k: &str| format!("{}{k}", "v".repeat(10_000));
    let [a, b] = keys_on_two_shards("big");
    for k in [&a, &b] {
        assert_eq!(raw.cmd(&["SET", k, &big(k)]), Reply::ok());
    }
    let mut pipeline = Vec::new();
    for k in [&a, &b, &a] {
        pipeline.extend(encode(&["GET", k]));
        pipeline.extend(encode(&["PING"]));
    }
    pipeline.extend(encode(&["GET", "absent"]));
    raw.send(&pipeline);
    for k in [&a, &b, &a] {
        assert_eq!(raw.read(), Reply::bulk(&big(k)));
        assert_eq!(raw.read(), pong());
    }
    assert_eq!(raw.read(), Reply::Nil);
    raw.send(
        &[
            encode(&["CLIENT", "REPLY", "SKIP"]),
            encode(&["GET", &a]),
            encode(&["GET", &b]),
        ]
        .concat(),
    );
    assert_eq!(raw.read(), Reply::bulk(&big(&b)));
    assert_eq!(raw.cmd(&["SET", &a, "small", "GET"]), Reply::bulk(&big(&a)));
    assert_eq!(raw.cmd(&["GETDEL", &b]), Reply::bulk(&big(&b)));
    assert_eq!(raw.cmd(&["SET", &b, &big(&b)]), Reply::ok());
    assert_eq!(
        raw.cmd(&["APPEND", &b, "!"]),
        Reply::Int(10_000 + b.len() as i64 + 1)
    );
    assert_eq!(raw.cmd(&["GET", &b]), Reply::bulk(&format!("{}!", big(&b))));
}
