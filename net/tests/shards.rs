//! Two shards: keys live on their owner shard, multi-key commands split and
//! merge in key order, whole-keyspace commands see every shard, commands
//! whose keys span shards are refused, pipelines keep request order.

mod common;

use common::{encode, err_text, Reply, Server};
use redis::Commands;
use std::collections::{HashMap, HashSet};

/// SCAN's cursor carries the shard it is walking in its top 16 bits.
const CURSOR_SHIFT: u32 = 48;

/// The shard owning `key` with `shards` shards (Redis Cluster slot ranges).
fn shard_of(key: &str, shards: usize) -> usize {
    engine::slot::slot_owner(engine::slot::key_slot(key.as_bytes()), shards)
}

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
    let doomed: Vec<&String> = ks.iter().step_by(2).collect();
    let mut del_args: Vec<String> = doomed.iter().map(|k| k.to_string()).collect();
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
    let a = "a";
    let b = (0..)
        .map(|i| format!("b{i}"))
        .find(|k| shard_of(k, 2) != shard_of(a, 2))
        .unwrap();
    let crossslot = "CROSSSLOT Keys in request don't hash to the same slot";
    let err = |con: &mut redis::Connection, args: &[&str]| {
        let mut cmd = redis::cmd(args[0]);
        args[1..].iter().for_each(|x| {
            cmd.arg(*x);
        });
        err_text(&cmd.query::<redis::Value>(con).unwrap_err())
    };
    assert_eq!(err(&mut con, &["MSETNX", a, "1", &b, "2"]), crossslot);
    assert_eq!(con.exists::<_, i64>(&[a, &b]).unwrap(), 0);
    let () = con.set(a, "1").unwrap();
    assert_eq!(err(&mut con, &["RENAME", a, &b]), crossslot);
    assert_eq!(con.get::<_, String>(a).unwrap(), "1");

    // The same hash tag puts both keys on one shard, whatever else they say.
    let (ta, tb) = ("{t}a", "{t}b0");
    assert_eq!(
        redis::cmd("MSETNX")
            .arg(ta)
            .arg("1")
            .arg(tb)
            .arg("2")
            .query::<i64>(&mut con)
            .unwrap(),
        1
    );
    let () = con.rename(ta, "{t}renamed").unwrap();
    let got: Vec<Option<String>> = con.mget(&[ta, "{t}renamed", tb]).unwrap();
    assert_eq!(got, [None, Some("1".into()), Some("2".into())]);
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
    raw.send(&wire);
    for (i, w) in want.iter().enumerate() {
        assert_eq!(&raw.read(), w, "reply {i}");
    }
    assert_eq!(raw.cmd(&["DBSIZE"]), Reply::Int(500));
}
