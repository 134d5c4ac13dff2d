//! Two shards: keys live on their owner shard, multi-key commands split and
//! merge in key order, whole-keyspace commands see every shard, commands
//! whose keys span shards are refused, pipelines keep request order.

mod common;

use common::{encode, keys_on_two_shards, query, query_err, shard_of, Reply, Server};
use redis::Commands;
use std::collections::{HashMap, HashSet};

/// SCAN's cursor carries the shard it is walking in its top 16 bits.
const CURSOR_SHIFT: u32 = 48;

fn keys(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// Every key SCAN visits, each with the shard its cursor was on.
fn scan_all(con: &mut redis::Connection, count: usize) -> Vec<(String, usize)> {
    let mut cursor = 0u64;
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(count)
            .query(con)
            .unwrap();
        let shard = (cursor >> CURSOR_SHIFT) as usize;
        seen.extend(batch.into_iter().map(|k| (k, shard)));
        if next == 0 {
            return seen;
        }
        cursor = next;
    }
    panic!("SCAN did not come back to cursor 0");
}

fn dbsize(con: &mut redis::Connection) -> i64 {
    redis::cmd("DBSIZE").query(con).unwrap()
}

fn mset(con: &mut redis::Connection, keys: &[String]) {
    let pairs: Vec<(&str, &str)> = keys.iter().map(|k| (k.as_str(), k.as_str())).collect();
    let () = con.mset(&pairs).unwrap();
}

#[test]
fn keys_spread_over_both_shards() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let plain = keys("key:", 200);
    let tagged = keys("{user1}:", 50);
    mset(&mut con, &plain);
    mset(&mut con, &tagged);
    let seen = scan_all(&mut con, 1000);
    let mut per_shard = [0; 2];
    for (k, shard) in &seen {
        assert_eq!(*shard, shard_of(k, 2), "{k} found on shard {shard}");
        per_shard[*shard] += 1;
    }
    assert!(per_shard[0] > 20 && per_shard[1] > 20, "{per_shard:?}");
    // A hash tag keeps its keys together.
    let homes: HashSet<usize> = seen
        .iter()
        .filter(|(k, _)| k.starts_with("{user1}"))
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(homes.len(), 1);
    // Any connection, whichever shard accepted it, reads every key.
    for _ in 0..4 {
        let mut other = server.client();
        let got: Vec<String> = other.mget(&plain).unwrap();
        assert_eq!(got, plain);
    }
}

#[test]
fn multi_key_commands_merge_in_key_order() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let ks = keys("k", 40);
    assert!(ks.iter().any(|k| shard_of(k, 2) == 0) && ks.iter().any(|k| shard_of(k, 2) == 1));
    mset(&mut con, &ks);
    // Interleave missing keys and repeat some, in an order mixing shards.
    let mut asked = Vec::new();
    let mut want = Vec::new();
    for (i, k) in ks.iter().enumerate().rev() {
        asked.push(k.clone());
        want.push(Some(k.clone()));
        if i % 3 == 0 {
            asked.push(format!("missing{i}"));
            want.push(None);
            asked.push(ks[(i * 7) % ks.len()].clone());
            want.push(Some(ks[(i * 7) % ks.len()].clone()));
        }
    }
    let got: Vec<Option<String>> = con.mget(&asked).unwrap();
    assert_eq!(got, want);
    let present = want.iter().filter(|w| w.is_some()).count() as i64;
    assert_eq!(con.exists::<_, i64>(&asked).unwrap(), present);
    // DEL counts each key once, however often it is named.
    let doomed: Vec<&String> = ks.iter().step_by(2).collect();
    let mut del_args: Vec<String> = doomed.iter().map(|k| k.to_string()).collect();
    del_args.extend(doomed.iter().rev().map(|k| k.to_string()));
    del_args.push("missing".into());
    assert_eq!(con.del::<_, i64>(&del_args).unwrap(), doomed.len() as i64);
    let got: Vec<Option<String>> = con.mget(&ks).unwrap();
    for (i, (k, g)) in ks.iter().zip(got).enumerate() {
        assert_eq!(g, (i % 2 == 1).then(|| k.clone()), "{k}");
    }
}

#[test]
fn dbsize_and_keys_count_every_shard() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let ks = keys("user:", 300);
    mset(&mut con, &ks);
    mset(&mut con, &keys("other:", 7));
    assert_eq!(dbsize(&mut con), 307);
    let all: Vec<String> = con.keys("*").unwrap();
    assert_eq!(all.len(), 307);
    let users: HashSet<String> = con.keys("user:*").unwrap();
    assert_eq!(users, ks.into_iter().collect());
    let () = redis::cmd("SELECT").arg(1).query(&mut con).unwrap();
    assert_eq!(dbsize(&mut con), 0);
    assert!(con.keys::<_, Vec<String>>("*").unwrap().is_empty());
}

#[test]
fn scan_returns_every_key_exactly_once() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let ks = keys("scan:", 1000);
    for chunk in ks.chunks(100) {
        mset(&mut con, chunk);
    }
    let seen = scan_all(&mut con, 10);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (k, _) in &seen {
        *counts.entry(k.as_str()).or_default() += 1;
    }
    let dups: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dups.is_empty(), "returned more than once: {dups:?}");
    let missing: Vec<_> = ks
        .iter()
        .filter(|k| !counts.contains_key(k.as_str()))
        .collect();
    assert!(missing.is_empty(), "never returned: {missing:?}");
    assert_eq!(seen.len(), 1000);
}

#[test]
fn flushall_empties_every_shard() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    mset(&mut con, &keys("a", 100));
    let () = redis::cmd("SELECT").arg(2).query(&mut con).unwrap();
    mset(&mut con, &keys("b", 100));
    // FLUSHDB empties only the selected database, on every shard.
    let () = redis::cmd("FLUSHDB").query(&mut con).unwrap();
    assert_eq!(dbsize(&mut con), 0);
    mset(&mut con, &keys("b", 100));
    let () = redis::cmd("SELECT").arg(0).query(&mut con).unwrap();
    assert_eq!(dbsize(&mut con), 100);
    let () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
    for db in [0, 2] {
        let () = redis::cmd("SELECT").arg(db).query(&mut con).unwrap();
        assert_eq!(dbsize(&mut con), 0, "db{db}");
        assert!(scan_all(&mut con, 100).is_empty(), "db{db}");
    }
}

#[test]
fn keys_on_different_shards_are_crossslot() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let [a, b] = keys_on_two_shards("k");
    let a = a.as_str();
    let crossslot = "CROSSSLOT Keys in request don't hash to the same slot";
    assert_eq!(query_err(&mut con, &["MSETNX", a, "1", &b, "2"]), crossslot);
    assert_eq!(con.exists::<_, i64>(&[a, &b]).unwrap(), 0);
    let () = con.set(a, "1").unwrap();
    assert_eq!(query_err(&mut con, &["RENAME", a, &b]), crossslot);
    assert_eq!(con.get::<_, String>(a).unwrap(), "1");

    // The same hash tag puts both keys on one shard, whatever else they say.
    let (ta, tb) = ("{t}a", "{t}b0");
    assert_eq!(query::<i64>(&mut con, &["MSETNX", ta, "1", tb, "2"]), 1);
    let () = con.rename(ta, "{t}renamed").unwrap();
    let got: Vec<Option<String>> = con.mget(&[ta, "{t}renamed", tb]).unwrap();
    assert_eq!(got, [None, Some("1".into()), Some("2".into())]);
}

#[test]
fn resp3_replies_come_from_every_shard() {
    let server = Server::start(2, &[]);
    let mut raw = server.raw();
    let ks = keys("r", 8);
    assert!(ks.iter().any(|k| shard_of(k, 2) == 0) && ks.iter().any(|k| shard_of(k, 2) == 1));
    let Reply::Map(hello) = raw.cmd(&["HELLO", "3"]) else {
        panic!("HELLO 3 must answer a map");
    };
    assert!(hello.contains(&(Reply::bulk("proto"), Reply::Int(3))));
    // Replies made on the other shard are in RESP3 too.
    for k in &ks {
        assert_eq!(
            raw.cmd(&["GET", k]),
            Reply::Null,
            "{k} on shard {}",
            shard_of(k, 2)
        );
    }
    let mut mget = vec!["MGET"];
    mget.extend(ks.iter().map(String::as_str));
    assert_eq!(raw.cmd(&mget), Reply::Array(vec![Reply::Null; ks.len()]));
    assert!(matches!(raw.cmd(&["HELLO", "2"]), Reply::Array(_)));
    for k in &ks {
        assert_eq!(
            raw.cmd(&["GET", k]),
            Reply::Nil,
            "{k} on shard {}",
            shard_of(k, 2)
        );
    }
}

#[test]
fn concurrent_clients_count_right_across_shards() {
    let server = Server::start(2, &[]);
    let counters = keys("counter:", 10);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let mut raw = server.raw();
            let counters = counters.clone();
            std::thread::spawn(move || {
                for round in 0..5 {
                    let mut wire = Vec::new();
                    for i in 0..100 {
                        wire.extend(encode(&["INCR", &counters[(i + t + round) % 10]]));
                    }
                    raw.send(&wire);
                    for _ in 0..100 {
                        assert!(matches!(raw.read(), Reply::Int(_)));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut con = server.client();
    let got: Vec<i64> = con.mget(&counters).unwrap();
    assert_eq!(got, vec![200; 10]);
}

/// Enough busy connections at once that a sleeping shard waits for several
/// completions together (32 or more receiving): every request still gets its
/// answer, on one shard and across two.
#[test]
fn many_busy_connections_are_all_answered() {
    for shards in [1, 2] {
        let server = Server::start(shards, &[]);
        let threads: Vec<_> = (0..48)
            .map(|t| {
                let mut raw = server.raw();
                std::thread::spawn(move || {
                    let key = format!("busy:{t}");
                    for _ in 0..200 {
                        assert!(matches!(raw.cmd(&["INCR", &key]), Reply::Int(_)));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut con = server.client();
        let keys: Vec<String> = (0..48).map(|t| format!("busy:{t}")).collect();
        let got: Vec<i64> = con.mget(&keys).unwrap();
        assert_eq!(got, vec![200; 48], "{shards} shard(s)");
    }
}

#[test]
fn pipeline_replies_come_back_in_request_order() {
    let server = Server::start(2, &[]);
    let mut raw = server.raw();
    let mut wire = Vec::new();
    let mut want = Vec::new();
    for i in 0..1000 {
        let key = format!("p:{}", i / 2);
        match i % 10 {
            // Commands that need the whole server flush the per-shard batches.
            9 => {
                wire.extend(encode(&["DBSIZE"]));
                want.push(Reply::Int((i / 2 + 1) as i64));
            }
            7 => {
                wire.extend(encode(&["PING"]));
                want.push(Reply::Simple("PONG".into()));
            }
            _ if i % 2 == 0 => {
                let value = format!("v{i}");
                wire.extend(encode(&["SET", &key, &value]));
                want.push(Reply::ok());
            }
            _ => {
                wire.extend(encode(&["GET", &key]));
                want.push(Reply::bulk(&format!("v{}", i - 1)));
            }
        }
    }
    // SELECT mid-pipeline: later commands, on any shard, use the new db.
    for db in ["1", "0"] {
        wire.extend(encode(&["SELECT", db]));
        want.push(Reply::ok());
        for k in ["p:0", "p:1", "p:2", "p:3", "p:4", "p:5"] {
            wire.extend(encode(&["SET", k, "one"]));
            want.push(Reply::ok());
            wire.extend(encode(&["GET", k]));
            want.push(Reply::bulk("one"));
        }
        wire.extend(encode(&["GET", "p:7"]));
        want.push(if db == "1" {
            Reply::Nil
        } else {
            Reply::bulk("v14")
        });
    }
    raw.send(&wire);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(&raw.read(), w, "reply {i}");
    }
    assert_eq!(raw.cmd(&["DBSIZE"]), Reply::Int(500));
    assert_eq!(raw.cmd(&["SELECT", "1"]), Reply::ok());
    assert_eq!(raw.cmd(&["DBSIZE"]), Reply::Int(6));
}

#[test]
fn hops_reuse_their_buffers_without_mixing_replies_up() {
    let server = Server::start(2, &[]);
    let mut conns = server.raw_per_shard(2);
    let [home, away] = keys_on_two_shards("hop");
    let big = "b".repeat(70_000);
    let mut raw = conns.remove(0).1;
    // The connection is on shard 0: `home` is local, `away` hops to shard 1.
    assert_eq!(raw.cmd(&["SET", &away, &big]), Reply::ok());
    assert_eq!(raw.cmd(&["SET", &home, "here"]), Reply::ok());
    for round in 0..6 {
        let mut wire = Vec::new();
        let mut want = Vec::new();
        // Rounds alternate: all replies from shard 1 (its buffer becomes the
        // reply), then shard 1's replies spliced between local ones, with
        // values of every size so a reused buffer that kept old bytes shows.
        for i in 0..(5 + round * 3) {
            let value = format!("{round}-{i}-{}", "x".repeat(i * 37 % 300));
            wire.extend(encode(&["SET", &away, &value]));
            want.push(Reply::ok());
            wire.extend(encode(&["GET", &away]));
            want.push(Reply::bulk(&value));
            if round % 2 == 1 {
                wire.extend(encode(&["GET", &home]));
                want.push(Reply::bulk("here"));
            }
        }
        wire.extend(encode(&["SET", &away, &big]));
        want.push(Reply::ok());
        wire.extend(encode(&["GET", &away]));
        want.push(Reply::bulk(&big));
        raw.send(&wire);
        for (i, w) in want.iter().enumerate() {
            assert_eq!(&raw.read(), w, "round {round}, reply {i}");
        }
    }
}
