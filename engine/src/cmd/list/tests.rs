use crate::cmd::collection::tests::{arr, b, keyspace_step, Rng, WRONGTYPE};
use crate::cmd::string::tests::{encoding, err, exists, run, NOT_INT, SYNTAX};
use crate::testing::{Harness, R};
use crate::types::Fill;
use std::collections::{BTreeMap, VecDeque};

#[test]
fn push_pop_len_and_the_quicklist_encoding() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "RPUSH l a b c"), R::Int(3));
    assert_eq!(run(&mut h, "LPUSH l z y"), R::Int(5));
    assert_eq!(
        run(&mut h, "LRANGE l 0 -1"),
        arr(&["y", "z", "a", "b", "c"])
    );
    assert_eq!(run(&mut h, "LLEN l"), R::Int(5));
    assert_eq!(run(&mut h, "LLEN nokey"), R::Int(0));
    assert_eq!(run(&mut h, "TYPE l"), R::Simple("list".into()));
    assert_eq!(encoding(&h, "l"), "quicklist");
    assert_eq!(run(&mut h, "OBJECT ENCODING l"), b("quicklist"));
    assert_eq!(run(&mut h, "LPUSHX nokey a"), R::Int(0));
    assert_eq!(run(&mut h, "RPUSHX nokey a"), R::Int(0));
    assert!(!exists(&h, "nokey"));
    assert_eq!(run(&mut h, "RPUSHX l d e"), R::Int(7));
    assert_eq!(run(&mut h, "LPUSHX l x"), R::Int(8));
    assert_eq!(run(&mut h, "LPOP l"), b("x"));
    assert_eq!(run(&mut h, "RPOP l"), b("e"));
    assert_eq!(run(&mut h, "LPOP l 2"), arr(&["y", "z"]));
    assert_eq!(run(&mut h, "RPOP l 2"), arr(&["d", "c"]));
    assert_eq!(run(&mut h, "LPOP l 0"), arr(&[]));
    assert_eq!(run(&mut h, "RPOP l 10"), arr(&["b", "a"]));
    assert!(!exists(&h, "l"), "emptied: deleted");
    assert_eq!(run(&mut h, "LPOP l"), R::Nil);
    assert_eq!(run(&mut h, "LPOP l 3"), R::Nil);
    assert_eq!(
        run(&mut h, "LPOP l -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&mut h, "LPOP l x"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&mut h, "LPOP l 1 2"),
        err("ERR wrong number of arguments for 'lpop' command")
    );
    assert_eq!(
        run(&mut h, "RPUSH l"),
        err("ERR wrong number of arguments for 'rpush' command")
    );
    let dirty = h.shard.stats.dirty;
    run(&mut h, "RPUSH d 1 2 3");
    run(&mut h, "LPOP d 2");
    assert_eq!(h.shard.stats.dirty, dirty + 5);
}

#[test]
fn reply_shapes_in_resp2_and_resp3() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH l 1 two");
    for (resp3, null, null_arr) in [(false, "$-1\r\n", "*-1\r\n"), (true, "_\r\n", "_\r\n")] {
        h.resp3 = resp3;
        assert_eq!(h.raw(&["LINDEX", "l", "0"]), b"$1\r\n1\r\n");
        assert_eq!(h.raw(&["LINDEX", "l", "9"]), null.as_bytes());
        assert_eq!(h.raw(&["LPOP", "none"]), null.as_bytes());
        assert_eq!(h.raw(&["LPOP", "none", "1"]), null_arr.as_bytes());
        assert_eq!(h.raw(&["LMPOP", "1", "none", "LEFT"]), null_arr.as_bytes());
        assert_eq!(h.raw(&["LPOS", "l", "zz"]), null.as_bytes());
        assert_eq!(h.raw(&["LPOS", "l", "zz", "COUNT", "0"]), b"*0\r\n");
        assert_eq!(
            h.raw(&["LMOVE", "none", "l", "LEFT", "LEFT"]),
            null.as_bytes()
        );
        assert_eq!(
            h.raw(&["LRANGE", "l", "0", "-1"]),
            b"*2\r\n$1\r\n1\r\n$3\r\ntwo\r\n"
        );
    }
    h.resp3 = false;
    assert_eq!(
        h.raw(&["LMPOP", "2", "none", "l", "RIGHT", "COUNT", "5"]),
        b"*2\r\n$1\r\nl\r\n*2\r\n$3\r\ntwo\r\n$1\r\n1\r\n"
    );
    assert!(!exists(&h, "l"));
}

#[test]
fn lindex_lset_linsert() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH l a b c 10");
    assert_eq!(run(&mut h, "LINDEX l 0"), b("a"));
    assert_eq!(run(&mut h, "LINDEX l -1"), b("10"));
    assert_eq!(run(&mut h, "LINDEX l -5"), R::Nil);
    assert_eq!(run(&mut h, "LINDEX l 4"), R::Nil);
    assert_eq!(
        run(&mut h, "LINDEX nokey x"),
        R::Nil,
        "no key: index unread"
    );
    assert_eq!(run(&mut h, "LINDEX l x"), err(NOT_INT));
    assert_eq!(run(&mut h, "LSET l 1 B"), R::ok());
    assert_eq!(run(&mut h, "LSET l -1 11"), R::ok());
    assert_eq!(run(&mut h, "LSET l 4 x"), err("ERR index out of range"));
    assert_eq!(run(&mut h, "LSET nokey 0 x"), err("ERR no such key"));
    assert_eq!(run(&mut h, "LSET l x x"), err(NOT_INT));
    assert_eq!(run(&mut h, "LINSERT l BEFORE B b0"), R::Int(5));
    assert_eq!(run(&mut h, "LINSERT l after 11 12"), R::Int(6));
    assert_eq!(run(&mut h, "LINSERT l AFTER 011 x"), R::Int(-1));
    assert_eq!(run(&mut h, "LINSERT nokey AFTER a x"), R::Int(0));
    assert_eq!(run(&mut h, "LINSERT l middle a x"), err(SYNTAX));
    assert_eq!(
        run(&mut h, "LRANGE l 0 -1"),
        arr(&["a", "b0", "B", "c", "11", "12"])
    );
}

#[test]
fn lrange_and_ltrim_clamp_like_redis() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH l 0 1 2 3 4 5");
    assert_eq!(run(&mut h, "LRANGE l 1 2"), arr(&["1", "2"]));
    assert_eq!(run(&mut h, "LRANGE l -2 100"), arr(&["4", "5"]));
    assert_eq!(run(&mut h, "LRANGE l -100 0"), arr(&["0"]));
    assert_eq!(run(&mut h, "LRANGE l 3 2"), arr(&[]));
    assert_eq!(run(&mut h, "LRANGE l 6 9"), arr(&[]));
    assert_eq!(run(&mut h, "LRANGE nokey 0 -1"), arr(&[]));
    assert_eq!(run(&mut h, "LRANGE l a 1"), err(NOT_INT));
    assert_eq!(run(&mut h, "LTRIM l 1 -2"), R::ok());
    assert_eq!(run(&mut h, "LRANGE l 0 -1"), arr(&["1", "2", "3", "4"]));
    assert_eq!(run(&mut h, "LTRIM l -3 1"), R::ok());
    assert_eq!(run(&mut h, "LRANGE l 0 -1"), arr(&["2"]));
    assert_eq!(run(&mut h, "LTRIM nokey 0 1"), R::ok());
    assert_eq!(run(&mut h, "LTRIM l 5 10"), R::ok());
    assert!(!exists(&h, "l"));
}

#[test]
fn lrem_and_lpos() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH l a 1 a b 1 a c");
    assert_eq!(run(&mut h, "LPOS l a"), R::Int(0));
    assert_eq!(run(&mut h, "LPOS l a RANK 2"), R::Int(2));
    assert_eq!(run(&mut h, "LPOS l a RANK -1"), R::Int(5));
    assert_eq!(run(&mut h, "LPOS l a RANK -2 COUNT 0"), arr_ints(&[2, 0]));
    assert_eq!(run(&mut h, "LPOS l a COUNT 2"), arr_ints(&[0, 2]));
    assert_eq!(run(&mut h, "LPOS l a COUNT 0 MAXLEN 3"), arr_ints(&[0, 2]));
    assert_eq!(run(&mut h, "LPOS l a RANK 4"), R::Nil);
    assert_eq!(run(&mut h, "LPOS l 1 RANK -1 MAXLEN 2"), R::Nil);
    assert_eq!(run(&mut h, "LPOS l 01"), R::Nil);
    assert_eq!(run(&mut h, "LPOS nokey a COUNT 1"), arr(&[]));
    assert_eq!(
        run(&mut h, "LPOS l a RANK 0"),
        err(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second \
             ... or use negative to start from the end of the list"
        )
    );
    assert_eq!(
        run(&mut h, "LPOS l a COUNT -1"),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        run(&mut h, "LPOS l a MAXLEN x"),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(run(&mut h, "LPOS l a RANK"), err(SYNTAX));
    assert_eq!(run(&mut h, "LPOS l a FOO 1"), err(SYNTAX));
    assert_eq!(run(&mut h, "LREM l -1 a"), R::Int(1));
    assert_eq!(run(&mut h, "LREM l 1 1"), R::Int(1));
    assert_eq!(
        run(&mut h, "LRANGE l 0 -1"),
        arr(&["a", "a", "b", "1", "c"])
    );
    assert_eq!(run(&mut h, "LREM l 0 a"), R::Int(2));
    assert_eq!(run(&mut h, "LREM l 0 zz"), R::Int(0));
    assert_eq!(run(&mut h, "LREM l x a"), err(NOT_INT));
    assert_eq!(run(&mut h, "LREM nokey 0 a"), R::Int(0));
    assert_eq!(run(&mut h, "LREM l 0 b"), R::Int(1));
    assert_eq!(run(&mut h, "LREM l 0 1"), R::Int(1));
    assert_eq!(run(&mut h, "LREM l 0 c"), R::Int(1));
    assert!(!exists(&h, "l"));
}

fn arr_ints(v: &[i64]) -> R {
    R::Arr(v.iter().map(|&i| R::Int(i)).collect())
}

#[test]
fn lmove_rpoplpush_and_lmpop() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH a 1 2 3");
    assert_eq!(run(&mut h, "LMOVE a b LEFT RIGHT"), b("1"));
    assert_eq!(run(&mut h, "LMOVE a b right left"), b("3"));
    assert_eq!(run(&mut h, "LRANGE b 0 -1"), arr(&["3", "1"]));
    assert_eq!(run(&mut h, "RPOPLPUSH b b"), b("1"));
    assert_eq!(run(&mut h, "LRANGE b 0 -1"), arr(&["1", "3"]));
    assert_eq!(run(&mut h, "RPOPLPUSH a a"), b("2"), "one item rotates");
    assert_eq!(run(&mut h, "LRANGE a 0 -1"), arr(&["2"]));
    assert_eq!(run(&mut h, "RPOPLPUSH a b"), b("2"));
    assert!(!exists(&h, "a"));
    assert_eq!(run(&mut h, "RPOPLPUSH a b"), R::Nil);
    assert_eq!(run(&mut h, "LMOVE b b UP LEFT"), err(SYNTAX));
    run(&mut h, "SET str x");
    assert_eq!(run(&mut h, "LMOVE b str LEFT LEFT"), err(WRONGTYPE));
    assert_eq!(run(&mut h, "LMOVE str b LEFT LEFT"), err(WRONGTYPE));
    assert_eq!(run(&mut h, "LMOVE nokey str LEFT LEFT"), R::Nil);
    assert_eq!(run(&mut h, "LLEN b"), R::Int(3), "nothing moved");

    assert_eq!(
        run(&mut h, "LMPOP 2 nokey b LEFT COUNT 2"),
        R::Arr(vec![b("b"), arr(&["2", "1"])])
    );
    assert_eq!(
        run(&mut h, "LMPOP 1 b RIGHT"),
        R::Arr(vec![b("b"), arr(&["3"])])
    );
    assert!(!exists(&h, "b"));
    assert_eq!(run(&mut h, "LMPOP 1 b LEFT"), R::Nil);
    assert_eq!(run(&mut h, "LMPOP 2 nokey str LEFT"), err(WRONGTYPE));
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(run(&mut h, "LMPOP 0 b LEFT"), numkeys);
    assert_eq!(run(&mut h, "LMPOP x b LEFT"), numkeys);
    assert_eq!(run(&mut h, "LMPOP 2 b LEFT"), err(SYNTAX));
    assert_eq!(run(&mut h, "LMPOP 1 b MIDDLE"), err(SYNTAX));
    let count = err("ERR count should be greater than 0");
    assert_eq!(run(&mut h, "LMPOP 1 b LEFT COUNT 0"), count);
    assert_eq!(run(&mut h, "LMPOP 1 b LEFT COUNT 1 COUNT 1"), err(SYNTAX));
    assert_eq!(run(&mut h, "LMPOP 1 b LEFT COUNT"), err(SYNTAX));
}

#[test]
fn wrong_types_both_ways() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH l a");
    run(&mut h, "SET str v");
    run(&mut h, "HSET hk f v");
    run(&mut h, "SADD s m");
    for line in [
        "LPUSH str a",
        "RPUSH hk a",
        "LPUSHX s a",
        "RPUSHX str a",
        "LPOP str",
        "RPOP str 2",
        "LLEN s",
        "LINDEX str 0",
        "LINSERT str BEFORE a b",
        "LRANGE hk 0 -1",
        "LREM s 0 a",
        "LSET str 0 a",
        "LTRIM str 0 1",
        "LPOS str a",
        "RPOPLPUSH str l",
        "LMPOP 1 s LEFT",
        "GET l",
        "INCR l",
        "APPEND l x",
        "SETRANGE l 0 x",
        "HGET l f",
        "HSET l f v",
        "SADD l m",
        "SCARD l",
    ] {
        assert_eq!(run(&mut h, line), err(WRONGTYPE), "{line}");
    }
    assert_eq!(run(&mut h, "MGET l str"), R::Arr(vec![R::Nil, b("v")]));
    assert_eq!(run(&mut h, "SET l x"), R::ok(), "SET replaces any type");
    assert_eq!(run(&mut h, "TYPE l"), R::Simple("string".into()));
}

#[test]
fn keyspace_commands_carry_lists() {
    let mut h = Harness::new();
    run(&mut h, "RPUSH a 1 2 x");
    run(&mut h, "EXPIRE a 50");
    assert_eq!(run(&mut h, "RENAME a b"), R::ok());
    assert_eq!(run(&mut h, "COPY b c"), R::Int(1));
    run(&mut h, "RPOP c");
    assert_eq!(run(&mut h, "LRANGE b 0 -1"), arr(&["1", "2", "x"]));
    assert_eq!(run(&mut h, "LRANGE c 0 -1"), arr(&["1", "2"]));
    assert_eq!(run(&mut h, "TTL c"), R::Int(50));
    run(&mut h, "SET str v");
    let R::Arr(scan) = run(&mut h, "SCAN 0 TYPE list") else {
        panic!()
    };
    let mut keys = crate::cmd::keyspace::tests::bulks(scan[1].clone());
    keys.sort();
    assert_eq!(keys, ["b", "c"]);
    assert_eq!(run(&mut h, "MOVE b 1"), R::Int(1));
    h.db = 1;
    assert_eq!(run(&mut h, "LLEN b"), R::Int(3));
    assert_eq!(run(&mut h, "DEL b"), R::Int(1));
}

#[test]
fn a_long_list_spans_nodes_and_keeps_its_order() {
    let mut h = Harness::new();
    h.shard.conf.list_fill = Fill(3);
    for i in 0..50 {
        run(&mut h, &format!("RPUSH l {i}"));
    }
    assert_eq!(run(&mut h, "LINDEX l 31"), b("31"));
    assert_eq!(run(&mut h, "LSET l 31 thirty-one"), R::ok());
    assert_eq!(run(&mut h, "LINSERT l BEFORE 40 x"), R::Int(51));
    assert_eq!(
        run(&mut h, "LRANGE l 29 33"),
        arr(&["29", "30", "thirty-one", "32", "33"])
    );
    assert_eq!(run(&mut h, "LRANGE l 39 41"), arr(&["39", "x", "40"]));
    assert_eq!(run(&mut h, "LPOS l 45"), R::Int(46));
    let entry = h.shard.dbs[0].table.get(b"l").unwrap();
    assert!(entry.mem_bytes() > 50 * 2, "{}", entry.mem_bytes());
}

type Model = BTreeMap<String, VecDeque<String>>;

/// Redis's inclusive range over `len`, clamped; None when empty.
fn range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let stop = if stop < 0 { len + stop } else { stop }.min(len - 1);
    (start <= stop && start < len).then_some((start as usize, stop as usize))
}

fn strs(items: impl IntoIterator<Item = String>) -> R {
    R::Arr(items.into_iter().map(|s| R::Bulk(s.into_bytes())).collect())
}

/// Puts `l` back at `k` in the model, or removes `k` when `l` is empty.
fn keep(m: &mut Model, k: &str, l: VecDeque<String>) {
    if l.is_empty() {
        m.remove(k);
    } else {
        m.insert(k.to_string(), l);
    }
}

/// One random command against the engine and the model.
fn step(h: &mut Harness, m: &mut Model, rng: &mut Rng) {
    let key = |rng: &mut Rng| format!("k{}", rng.next(3));
    let item = |rng: &mut Rng| match rng.next(4) {
        0 => format!("s{}", rng.next(6)),
        1 => "x".repeat(rng.next(300)),
        _ => format!("{}", rng.next(12) as i64 - 3),
    };
    let int = |rng: &mut Rng| rng.next(16) as i64 - 8;
    if rng.next(25) == 0 {
        return keyspace_step(h, m, rng, 3);
    }
    let k = key(rng);
    let mut l = m.get(&k).cloned().unwrap_or_default();
    let (cmd, want): (Vec<String>, R) = match rng.next(14) {
        0..=2 => {
            let left = rng.next(2) == 0;
            let name = if left { "LPUSH" } else { "RPUSH" };
            let mut cmd = vec![name.to_string(), k.clone()];
            for _ in 0..1 + rng.next(4) {
                let x = item(rng);
                if left {
                    l.push_front(x.clone());
                } else {
                    l.push_back(x.clone());
                }
                cmd.push(x);
            }
            let want = R::Int(l.len() as i64);
            keep(m, &k, l);
            (cmd, want)
        }
        3 => {
            let left = rng.next(2) == 0;
            let name = if left { "LPOP" } else { "RPOP" };
            let n = rng.next(4);
            let want = if !m.contains_key(&k) {
                R::Nil
            } else {
                let got: Vec<String> = (0..n)
                    .filter_map(|_| if left { l.pop_front() } else { l.pop_back() })
                    .collect();
                strs(got)
            };
            keep(m, &k, l);
            (vec![name.into(), k, n.to_string()], want)
        }
        4 => {
            let i = int(rng);
            let want = range(i, i, l.len()).map_or(R::Nil, |(i, _)| b(&l[i]));
            (vec!["LINDEX".into(), k, i.to_string()], want)
        }
        5 => {
            let (a, z) = (int(rng), int(rng));
            let want = match range(a, z, l.len()) {
                Some((a, z)) => strs(l.range(a..=z).cloned()),
                None => arr(&[]),
            };
            (vec!["LRANGE".into(), k, a.to_string(), z.to_string()], want)
        }
        6 => {
            let (a, z) = (int(rng), int(rng));
            let kept = match range(a, z, l.len()) {
                Some((a, z)) => l.range(a..=z).cloned().collect(),
                None => VecDeque::new(),
            };
            keep(m, &k, kept);
            (
                vec!["LTRIM".into(), k, a.to_string(), z.to_string()],
                R::ok(),
            )
        }
        7 => {
            let (n, x) = (rng.next(5) as i64 - 2, item(rng));
            let mut gone = 0;
            let max = if n == 0 {
                usize::MAX
            } else {
                n.unsigned_abs() as usize
            };
            let mut idx: Vec<usize> = (0..l.len()).filter(|&i| l[i] == x).collect();
            if n < 0 {
                idx.reverse();
            }
            idx.truncate(max);
            idx.sort_unstable_by(|a, b| b.cmp(a));
            for i in idx {
                l.remove(i);
                gone += 1;
            }
            keep(m, &k, l);
            (vec!["LREM".into(), k, n.to_string(), x], R::Int(gone))
        }
        8 => {
            let (i, x) = (int(rng), item(rng));
            let want = if !m.contains_key(&k) {
                err("ERR no such key")
            } else if let Some((i, _)) = range(i, i, l.len()) {
                l[i] = x.clone();
                R::ok()
            } else {
                err("ERR index out of range")
            };
            keep(m, &k, l);
            (vec!["LSET".into(), k, i.to_string(), x], want)
        }
        9 => {
            let (pivot, x, after) = (item(rng), item(rng), rng.next(2) == 1);
            let want = if !m.contains_key(&k) {
                R::Int(0)
            } else if let Some(i) = l.iter().position(|y| *y == pivot) {
                l.insert(i + after as usize, x.clone());
                R::Int(l.len() as i64)
            } else {
                R::Int(-1)
            };
            keep(m, &k, l);
            let side = if after { "AFTER" } else { "BEFORE" };
            (vec!["LINSERT".into(), k, side.into(), pivot, x], want)
        }
        10 => {
            let (x, rank) = (item(rng), int(rng));
            let rank = if rank == 0 { 1 } else { rank };
            let mut found: Vec<i64> = (0..l.len())
                .filter(|&i| l[i] == x)
                .map(|i| i as i64)
                .collect();
            if rank < 0 {
                found.reverse();
            }
            let found: Vec<i64> = found
                .into_iter()
                .skip(rank.unsigned_abs() as usize - 1)
                .collect();
            let want = R::Arr(found.into_iter().map(R::Int).collect());
            let cmd = vec![
                "LPOS".into(),
                k,
                x,
                "RANK".into(),
                rank.to_string(),
                "COUNT".into(),
                "0".into(),
            ];
            (cmd, want)
        }
        11 | 12 => {
            let dst = key(rng);
            let (from_left, to_left) = (rng.next(2) == 0, rng.next(2) == 0);
            let side = |left: bool| if left { "LEFT" } else { "RIGHT" };
            let cmd = vec![
                "LMOVE".into(),
                k.clone(),
                dst.clone(),
                side(from_left).into(),
                side(to_left).into(),
            ];
            let popped = if from_left {
                l.pop_front()
            } else {
                l.pop_back()
            };
            let Some(x) = popped else {
                let got = h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
                assert_eq!(got, R::Nil, "{cmd:?}");
                return;
            };
            keep(m, &k, l);
            let d = m.entry(dst).or_default();
            if to_left {
                d.push_front(x.clone());
            } else {
                d.push_back(x.clone());
            }
            (cmd, b(&x))
        }
        _ => {
            let (other, n) = (key(rng), 1 + rng.next(3));
            let cmd = vec![
                "LMPOP".into(),
                "2".into(),
                k.clone(),
                other.clone(),
                "RIGHT".into(),
                "COUNT".into(),
                n.to_string(),
            ];
            let from = if m.contains_key(&k) {
                Some(k)
            } else {
                m.contains_key(&other).then_some(other)
            };
            let want = match from {
                None => R::Nil,
                Some(from) => {
                    let mut l = m.remove(&from).unwrap();
                    let got: Vec<String> = (0..n).filter_map(|_| l.pop_back()).collect();
                    keep(m, &from, l);
                    R::Arr(vec![b(&from), strs(got)])
                }
            };
            (cmd, want)
        }
    };
    let got = h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got, want, "{cmd:?}");
}

#[test]
fn random_commands_agree_with_a_model() {
    for (seed, fill) in [(1u64, -2), (2, 3), (3, 1), (4, -1)] {
        let mut h = Harness::new();
        h.shard.conf.list_fill = Fill(fill);
        let mut m = Model::new();
        let mut rng = Rng::seeded(seed);
        for _ in 0..6_000 {
            step(&mut h, &mut m, &mut rng);
        }
        for (k, l) in &m {
            assert_eq!(h.run(&["LRANGE", k, "0", "-1"]), strs(l.iter().cloned()));
            assert_eq!(h.run(&["LLEN", k]), R::Int(l.len() as i64));
        }
        for k in ["k0", "k1", "k2"] {
            assert_eq!(exists(&h, k), m.contains_key(k), "{k}");
        }
    }
}
