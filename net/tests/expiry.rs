//! Expiry end to end: a key read after its TTL is gone, and the background
//! sweep removes expired keys nobody reads. Deadlines are polled, never slept.

mod common;

use common::{encode, wait_until, Reply, Server};
use redis::Commands;
use std::time::{Duration, Instant};

fn dbsize(con: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

/// Sets `n` keys named `prefix0..` with a TTL of `px` ms, in one pipeline.
fn set_volatile(con: &mut redis::Connection, prefix: &str, n: usize, px: u64) {
    let mut pipe = redis::pipe();
    for i in 0..n {
        pipe.cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg("v")
            .arg("PX")
            .arg(px)
            .ignore();
    }
    let () = pipe.query(con).unwrap();
}

#[test]
fn px_key_is_gone_once_expired() {
    let server = Server::start(1, &[]);
    let mut raw = server.raw();
    let sent = Instant::now();
    assert_eq!(raw.cmd(&["SET", "k", "v", "PX", "100"]), Reply::ok());
    // Whenever the key is seen gone, its 100 ms have passed (allowing for
    // the server's millisecond clock); a slow host may see it gone at once.
    let not_early = || {
        let at = sent.elapsed();
        assert!(at >= Duration::from_millis(98), "gone after {at:?}");
    };
    match raw.cmd(&["PTTL", "k"]) {
        Reply::Int(-2) => not_early(),
        Reply::Int(pttl) => assert!((0..=100).contains(&pttl), "pttl {pttl}"),
        other => panic!("PTTL: {other:?}"),
    }
    wait_until(Duration::from_secs(2), "k to expire", || {
        match raw.cmd(&["GET", "k"]) {
            Reply::Bulk(v) => assert_eq!(v, b"v"),
            Reply::Nil => {
                not_early();
                return true;
            }
            other => panic!("GET k: {other:?}"),
        }
        false
    });
    assert_eq!(raw.cmd(&["EXISTS", "k"]), Reply::Int(0));
    assert_eq!(raw.cmd(&["TTL", "k"]), Reply::Int(-2));
}

#[test]
fn expired_keys_are_gone_on_every_shard() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    set_volatile(&mut con, "k", 50, 100);
    let keys: Vec<String> = (0..50).map(|i| format!("k{i}")).collect();
    let () = con.set("stays", "v").unwrap();
    wait_until(Duration::from_secs(2), "every key to expire", || {
        con.exists::<_, i64>(&keys).unwrap() == 0
    });
    let got: Vec<Option<String>> = con.mget(&keys).unwrap();
    assert!(got.iter().all(Option::is_none));
    assert_eq!(con.get::<_, String>("stays").unwrap(), "v");
}

#[test]
fn active_expiry_removes_unread_keys() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    set_volatile(&mut con, "gone", 300, 100);
    set_volatile(&mut con, "later", 10, 3_600_000);
    let () = con.set("stays", "v").unwrap();
    assert_eq!(dbsize(&mut con), 311);
    // DBSIZE counts keys still in the table, so only the sweep lowers it.
    wait_until(
        Duration::from_millis(2500),
        "the sweep to drop 300 keys",
        || dbsize(&mut con) == 11,
    );
    let info: String = redis::cmd("INFO").arg("stats").query(&mut con).unwrap();
    let expired = info
        .split("\r\n")
        .find_map(|l| l.strip_prefix("expired_keys:"))
        .unwrap();
    assert_eq!(expired, "300");
}

#[test]
fn without_active_expiry_only_reads_remove_keys() {
    let server = Server::start(2, &["--enable-debug-command", "yes"]);
    let mut raw = server.raw();
    assert_eq!(raw.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), Reply::ok());
    let mut wire = Vec::new();
    for i in 0..20 {
        wire.extend(encode(&["SET", &format!("k{i}"), "v", "PX", "50"]));
    }
    raw.send(&wire);
    for _ in 0..20 {
        assert_eq!(raw.read(), Reply::ok());
    }
    // Reading one expired key removes it; the other 19 stay in the table.
    wait_until(Duration::from_secs(2), "k0 to expire", || {
        raw.cmd(&["GET", "k0"]) == Reply::Nil
    });
    assert_eq!(raw.cmd(&["DBSIZE"]), Reply::Int(19));
    assert_eq!(raw.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]), Reply::ok());
    wait_until(Duration::from_secs(2), "the sweep to drop the rest", || {
        raw.cmd(&["DBSIZE"]) == Reply::Int(0)
    });
}
