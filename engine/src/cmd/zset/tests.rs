use crate::cmd::collection::tests::{arr, b, keyspace_step, Rng, WRONGTYPE};
use crate::cmd::string::tests::{encoding, err, exists, run, NOT_INT, SYNTAX};
use crate::testing::{Harness, R};
use std::collections::BTreeMap;

fn dbl(s: &str) -> R {
    R::Double(s.into())
}

#[test]
fn zadd_options_and_replies() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "ZADD z 1 a 2 b 3 c 1 a"), R::Int(3));
    assert_eq!(run(&mut h, "TYPE z"), R::Simple("zset".into()));
    assert_eq!(run(&mut h, "OBJECT ENCODING z"), b("listpack"));
    assert_eq!(run(&mut h, "ZADD z CH 5 a 2 b 4 d"), R::Int(2));
    assert_eq!(run(&mut h, "ZADD z NX 9 a 9 e"), R::Int(1));
    assert_eq!(run(&mut h, "ZSCORE z a"), b("5"));
    assert_eq!(run(&mut h, "ZADD z XX CH 6 a 9 f"), R::Int(1));
    assert!(!matches!(run(&mut h, "ZSCORE z f"), R::Bulk(_)));
    assert_eq!(run(&mut h, "ZADD z GT CH 1 a 7 a"), R::Int(1));
    assert_eq!(run(&mut h, "ZADD z LT CH 8 a 0.5 b"), R::Int(1));
    assert_eq!(run(&mut h, "ZSCORE z a"), b("7"));
    assert_eq!(run(&mut h, "ZSCORE z b"), b("0.5"));
    assert_eq!(run(&mut h, "ZADD z INCR 2.5 a"), b("9.5"));
    assert_eq!(run(&mut h, "ZADD z NX INCR 1 a"), R::Nil);
    assert_eq!(run(&mut h, "ZADD z XX INCR 1 zz"), R::Nil);
    assert_eq!(run(&mut h, "ZADD z GT INCR -1 a"), R::Nil);
    assert_eq!(run(&mut h, "ZADD nokey XX 1 a"), R::Int(0));
    assert_eq!(run(&mut h, "ZADD nokey XX INCR 1 a"), R::Nil);
    assert!(!exists(&h, "nokey"));
    assert_eq!(run(&mut h, "ZINCRBY z -0.5 a"), b("9"));
    assert_eq!(run(&mut h, "ZINCRBY z 3 new"), b("3"));
    assert_eq!(run(&mut h, "ZADD z +inf a"), R::Int(0));
    assert_eq!(
        run(&mut h, "ZINCRBY z -inf a"),
        err("ERR resulting score is not a number (NaN)")
    );
    assert_eq!(run(&mut h, "ZSCORE z a"), b("inf"));
    for (line, e) in [
        ("ZADD z NX 1", SYNTAX),
        ("ZADD z NX XX", SYNTAX),
        ("ZADD z 1 a 2", SYNTAX),
        (
            "ZADD z NX XX 1 a",
            "ERR XX and NX options at the same time are not compatible",
        ),
        (
            "ZADD z GT LT 1 a",
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            "ZADD z NX GT 1 a",
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ),
        (
            "ZADD z INCR 1 a 2 b",
            "ERR INCR option supports a single increment-element pair",
        ),
        ("ZADD z 1 a x b", "ERR value is not a valid float"),
        ("ZADD z nan a", "ERR value is not a valid float"),
        ("ZINCRBY z x a", "ERR value is not a valid float"),
    ] {
        assert_eq!(run(&mut h, line), err(e), "{line}");
    }
    assert_eq!(run(&mut h, "ZSCORE z b"), b("0.5"), "nothing half-done");
    let dirty = h.shard.stats.dirty;
    run(&mut h, "ZADD d 1 a 2 b");
    run(&mut h, "ZADD d 1 a 3 b");
    assert_eq!(h.shard.stats.dirty, dirty + 3);
}

#[test]
fn encodings_follow_the_limits_and_stay_large() {
    let mut h = Harness::new();
    for i in 0..128 {
        run(&mut h, &format!("ZADD z {i} m{i}"));
    }
    assert_eq!(encoding(&h, "z"), "listpack");
    run(&mut h, "ZADD z 1 one-more");
    assert_eq!(encoding(&h, "z"), "skiplist");
    run(&mut h, &format!("ZADD long 1 {}", "x".repeat(65)));
    assert_eq!(encoding(&h, "long"), "skiplist");
    h.shard.conf.zset_limits.max_entries = 0;
    run(&mut h, "ZADD none 1 a");
    assert_eq!(encoding(&h, "none"), "skiplist");
    h.shard.conf.zset_limits.max_entries = 2;
    run(&mut h, "ZADD two 1 a 2 b");
    assert_eq!(encoding(&h, "two"), "listpack");
    run(&mut h, "ZADD two 3 c");
    assert_eq!(encoding(&h, "two"), "skiplist");
    assert_eq!(run(&mut h, "ZREM two a b c"), R::Int(3));
    assert!(!exists(&h, "two"));
}

#[test]
fn reads_rank_and_remove() {
    let mut h = Harness::new();
    run(&mut h, "ZADD z 1 a 2 b 2 c 3 d");
    assert_eq!(run(&mut h, "ZCARD z"), R::Int(4));
    assert_eq!(run(&mut h, "ZCARD nokey"), R::Int(0));
    assert_eq!(run(&mut h, "ZRANK z c"), R::Int(2));
    assert_eq!(run(&mut h, "ZREVRANK z c"), R::Int(1));
    assert_eq!(run(&mut h, "ZRANK z nope"), R::Nil);
    assert_eq!(run(&mut h, "ZRANK nokey a"), R::Nil);
    assert_eq!(run(&mut h, "ZSCORE nokey a"), R::Nil);
    assert_eq!(
        run(&mut h, "ZMSCORE z a nope d"),
        R::Arr(vec![b("1"), R::Nil, b("3")])
    );
    assert_eq!(run(&mut h, "ZMSCORE nokey a"), R::Arr(vec![R::Nil]));
    assert_eq!(run(&mut h, "ZREM z a nope a"), R::Int(1));
    assert_eq!(run(&mut h, "ZREM nokey a"), R::Int(0));
    h.resp3 = true;
    assert_eq!(h.raw(&["ZSCORE", "z", "b"]), b",2\r\n");
    assert_eq!(h.raw(&["ZMSCORE", "z", "b", "x"]), b"*2\r\n,2\r\n_\r\n");
    assert_eq!(h.raw(&["ZINCRBY", "z", "0.25", "b"]), b",2.25\r\n");
}

#[test]
fn ranges_by_rank_score_and_lex() {
    let mut h = Harness::new();
    run(&mut h, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(
        run(&mut h, "ZRANGE z 0 -1"),
        arr(&["a", "b", "c", "d", "e"])
    );
    assert_eq!(
        run(&mut h, "ZRANGE z 1 2 WITHSCORES"),
        arr(&["b", "2", "c", "3"])
    );
    assert_eq!(run(&mut h, "ZRANGE z 0 1 REV"), arr(&["e", "d"]));
    assert_eq!(run(&mut h, "ZREVRANGE z -2 -1"), arr(&["b", "a"]));
    assert_eq!(run(&mut h, "ZRANGE z 3 1"), arr(&[]));
    assert_eq!(run(&mut h, "ZRANGE nokey 0 -1"), arr(&[]));
    assert_eq!(run(&mut h, "ZRANGEBYSCORE z (1 3"), arr(&["b", "c"]));
    assert_eq!(
        run(&mut h, "ZRANGEBYSCORE z -inf +inf LIMIT 1 2"),
        arr(&["b", "c"])
    );
    assert_eq!(run(&mut h, "ZRANGEBYSCORE z 2 4 LIMIT -1 2"), arr(&[]));
    assert_eq!(
        run(&mut h, "ZREVRANGEBYSCORE z 4 (2 WITHSCORES"),
        arr(&["d", "4", "c", "3"])
    );
    assert_eq!(
        run(&mut h, "ZRANGE z (4 1 BYSCORE REV LIMIT 1 5"),
        arr(&["b", "a"])
    );
    assert_eq!(run(&mut h, "ZRANGEBYSCORE z 3 2"), arr(&[]));
    assert_eq!(run(&mut h, "ZCOUNT z (1 3"), R::Int(2));
    assert_eq!(run(&mut h, "ZCOUNT z 5 1"), R::Int(0));
    assert_eq!(run(&mut h, "ZCOUNT nokey 1 2"), R::Int(0));
    run(&mut h, "ZADD l 0 a 0 b 0 c 0 d");
    assert_eq!(run(&mut h, "ZRANGEBYLEX l [b (d"), arr(&["b", "c"]));
    assert_eq!(run(&mut h, "ZRANGEBYLEX l - + LIMIT 1 1"), arr(&["b"]));
    assert_eq!(run(&mut h, "ZREVRANGEBYLEX l + (b"), arr(&["d", "c"]));
    assert_eq!(
        run(&mut h, "ZRANGE l [c - BYLEX REV"),
        arr(&["c", "b", "a"])
    );
    assert_eq!(run(&mut h, "ZLEXCOUNT l (a +"), R::Int(3));
    assert_eq!(run(&mut h, "ZLEXCOUNT l + -"), R::Int(0));
    for (line, e) in [
        ("ZRANGEBYSCORE z x 1", "ERR min or max is not a float"),
        ("ZCOUNT z 1 (", "ERR min or max is not a float"),
        (
            "ZRANGEBYLEX l a +",
            "ERR min or max not valid string range item",
        ),
        (
            "ZLEXCOUNT l [a x",
            "ERR min or max not valid string range item",
        ),
        (
            "ZRANGE z 0 1 LIMIT 0 1",
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ),
        (
            "ZRANGE l - + BYLEX WITHSCORES",
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ),
        ("ZRANGEBYSCORE z 1 2 REV", SYNTAX),
        ("ZRANGE z 0 1 BYSCORE BYLEX", SYNTAX),
        ("ZRANGEBYSCORE z 1 2 LIMIT 1", SYNTAX),
        ("ZRANGEBYSCORE z 1 2 LIMIT x 1", NOT_INT),
        ("ZRANGE z a 1", NOT_INT),
        ("ZRANGESTORE d z 0 1 WITHSCORES", SYNTAX),
    ] {
        assert_eq!(run(&mut h, line), err(e), "{line}");
    }
    h.resp3 = true;
    assert_eq!(
        h.run(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        R::Arr(vec![
            R::Arr(vec![b("a"), dbl("1")]),
            R::Arr(vec![b("b"), dbl("2")])
        ])
    );
}

#[test]
fn rangestore_and_removals_by_range() {
    let mut h = Harness::new();
    run(&mut h, "ZADD z 1 a 2 b 3 c 4 d 5 e");
    assert_eq!(run(&mut h, "ZRANGESTORE d z 1 3"), R::Int(3));
    assert_eq!(
        run(&mut h, "ZRANGE d 0 -1 WITHSCORES"),
        arr(&["b", "2", "c", "3", "d", "4"])
    );
    assert_eq!(encoding(&h, "d"), "listpack");
    assert_eq!(
        run(&mut h, "ZRANGESTORE d z 4 (2 BYSCORE REV LIMIT 0 1"),
        R::Int(1)
    );
    assert_eq!(run(&mut h, "ZRANGE d 0 -1"), arr(&["d"]));
    assert_eq!(run(&mut h, "ZRANGESTORE d z 9 10"), R::Int(0));
    assert!(!exists(&h, "d"));
    run(&mut h, "SET s x");
    assert_eq!(run(&mut h, "ZRANGESTORE d s 0 1"), err(WRONGTYPE));
    assert_eq!(run(&mut h, "ZRANGESTORE s z 0 0"), R::Int(1));
    assert_eq!(run(&mut h, "TYPE s"), R::Simple("zset".into()));
    assert_eq!(run(&mut h, "ZREMRANGEBYRANK z -2 -1"), R::Int(2));
    assert_eq!(run(&mut h, "ZREMRANGEBYSCORE z (1 2"), R::Int(1));
    assert_eq!(run(&mut h, "ZRANGE z 0 -1"), arr(&["a", "c"]));
    assert_eq!(
        run(&mut h, "ZREMRANGEBYSCORE z x 1"),
        err("ERR min or max is not a float")
    );
    assert_eq!(run(&mut h, "ZREMRANGEBYRANK z 0 -1"), R::Int(2));
    assert!(!exists(&h, "z"));
    run(&mut h, "ZADD l 0 a 0 b 0 c");
    assert_eq!(run(&mut h, "ZREMRANGEBYLEX l (a [b"), R::Int(1));
    assert_eq!(run(&mut h, "ZREMRANGEBYLEX l - +"), R::Int(2));
    assert!(!exists(&h, "l"));
    assert_eq!(run(&mut h, "ZREMRANGEBYLEX nokey - +"), R::Int(0));
}

#[test]
fn pops_random_members_and_scan() {
    let mut h = Harness::new();
    run(&mut h, "ZADD z 1 a 2 b 3 c 4 d");
    assert_eq!(run(&mut h, "ZPOPMIN z"), arr(&["a", "1"]));
    assert_eq!(run(&mut h, "ZPOPMAX z 2"), arr(&["d", "4", "c", "3"]));
    assert_eq!(run(&mut h, "ZPOPMIN z 0"), arr(&[]));
    assert_eq!(run(&mut h, "ZPOPMIN nokey"), arr(&[]));
    assert_eq!(
        run(&mut h, "ZPOPMIN z -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(run(&mut h, "ZPOPMIN z 1 2"), err(SYNTAX));
    h.resp3 = true;
    run(&mut h, "ZADD z 5 e");
    assert_eq!(h.raw(&["ZPOPMAX", "z"]), b"*2\r\n$1\r\ne\r\n,5\r\n");
    assert_eq!(
        h.run(&["ZPOPMIN", "z", "9"]),
        R::Arr(vec![R::Arr(vec![b("b"), dbl("2")])])
    );
    assert!(!exists(&h, "z"));
    h.resp3 = false;
    assert_eq!(run(&mut h, "ZRANDMEMBER nokey"), R::Nil);
    assert_eq!(run(&mut h, "ZRANDMEMBER nokey 3"), arr(&[]));
    run(&mut h, "ZADD r 1 a 2 b 3 c");
    let R::Bulk(one) = run(&mut h, "ZRANDMEMBER r") else {
        panic!()
    };
    assert!([&b"a"[..], b"b", b"c"].contains(&&one[..]));
    let R::Arr(all) = run(&mut h, "ZRANDMEMBER r 5 WITHSCORES") else {
        panic!()
    };
    assert_eq!(all.len(), 6);
    let R::Arr(many) = run(&mut h, "ZRANDMEMBER r -7") else {
        panic!()
    };
    assert_eq!(many.len(), 7);
    assert_eq!(run(&mut h, "ZRANDMEMBER r 1 x"), err(SYNTAX));
    assert_eq!(
        run(&mut h, &format!("ZRANDMEMBER r {} WITHSCORES", i64::MAX)),
        err("ERR value is out of range")
    );
    assert_eq!(
        run(&mut h, "ZSCAN r 0"),
        R::Arr(vec![b("0"), arr(&["a", "1", "b", "2", "c", "3"])])
    );
    assert_eq!(
        run(&mut h, "ZSCAN r 0 MATCH b*"),
        R::Arr(vec![b("0"), arr(&["b", "2"])])
    );
    h.shard.conf.zset_limits.max_entries = 0;
    for i in 0..100 {
        run(&mut h, &format!("ZADD big {i}.5 m{i}"));
    }
    let (mut cursor, mut seen) = ("0".to_string(), 0);
    loop {
        let R::Arr(parts) = run(&mut h, &format!("ZSCAN big {cursor} COUNT 7")) else {
            panic!()
        };
        let (R::Bulk(next), R::Arr(items)) = (&parts[0], &parts[1]) else {
            panic!()
        };
        seen += items.len() / 2;
        cursor = String::from_utf8(next.clone()).unwrap();
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen, 100);
}

#[test]
fn wrongtype_both_ways() {
    let mut h = Harness::new();
    run(&mut h, "SET s x");
    run(&mut h, "ZADD z 1 a");
    for line in [
        "ZADD s 1 a",
        "ZINCRBY s 1 a",
        "ZREM s a",
        "ZCARD s",
        "ZSCORE s a",
        "ZMSCORE s a",
        "ZRANK s a",
        "ZCOUNT s 0 1",
        "ZLEXCOUNT s - +",
        "ZRANGE s 0 1",
        "ZRANGEBYSCORE s 0 1",
        "ZREMRANGEBYRANK s 0 1",
        "ZPOPMIN s",
        "ZRANDMEMBER s",
        "ZSCAN s 0",
        "GET z",
        "HGET z a",
        "SADD z a",
        "LPUSH z a",
        "APPEND z a",
    ] {
        assert_eq!(run(&mut h, line), err(WRONGTYPE), "{line}");
    }
    assert_eq!(run(&mut h, "ZADD s XX 1 a"), err(WRONGTYPE));
    assert_eq!(
        run(&mut h, "ZADD s 1 a x b"),
        err("ERR value is not a valid float")
    );
    assert_eq!(run(&mut h, "COPY z z2"), R::Int(1));
    assert_eq!(run(&mut h, "RENAME z2 z3"), R::ok());
    assert_eq!(run(&mut h, "ZRANGE z3 0 -1 WITHSCORES"), arr(&["a", "1"]));
    assert_eq!(run(&mut h, "MOVE z3 1"), R::Int(1));
    h.db = 1;
    assert_eq!(run(&mut h, "ZSCORE z3 a"), b("1"));
    h.db = 0;
    assert_eq!(
        run(&mut h, "SCAN 0 TYPE zset"),
        R::Arr(vec![b("0"), arr(&["z"])])
    );
    // What MEMORY USAGE reports grows with the members.
    let mem_of = |h: &Harness| h.shard.dbs[0].table.get(b"z").unwrap().mem_bytes();
    let small = mem_of(&h);
    for i in 0..300 {
        run(&mut h, &format!("ZADD z {i} member-{i}"));
    }
    assert!(mem_of(&h) > small + 300 * 8, "{} {small}", mem_of(&h));
}

/// The model: key → member → score.
type Model = BTreeMap<String, BTreeMap<String, f64>>;

fn sorted(set: &BTreeMap<String, f64>) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = set.iter().map(|(m, s)| (m.clone(), *s)).collect();
    v.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then_with(|| a.0.cmp(&b.0)));
    v
}

fn fmt(s: f64) -> String {
    crate::reply::format_double(s)
}

/// One random command against the engine and the model.
fn step(h: &mut Harness, m: &mut Model, rng: &mut Rng) {
    let k = format!("k{}", rng.next(3));
    let member = |rng: &mut Rng| format!("m{}", rng.next(20));
    let score = |rng: &mut Rng| (rng.next(9) as f64 - 4.0) / 2.0;
    if rng.next(25) == 0 {
        return keyspace_step(h, m, rng, 3);
    }
    let set = m.get(&k).cloned().unwrap_or_default();
    let order = sorted(&set);
    let names = |items: &[(String, f64)]| R::Arr(items.iter().map(|(m, _)| b(m)).collect());
    let (cmd, want): (Vec<String>, R) = match rng.next(13) {
        0..=2 => {
            let mut cmd = vec!["ZADD".to_string(), k.clone()];
            let (ch, gt) = (rng.next(2) == 0, rng.next(4) == 0);
            if ch {
                cmd.push("CH".into());
            }
            if gt {
                cmd.push("GT".into());
            }
            let entry = m.entry(k.clone()).or_default();
            let mut changed = 0;
            for _ in 0..1 + rng.next(3) {
                let (x, s) = (member(rng), score(rng));
                match entry.get(&x).copied() {
                    None => {
                        entry.insert(x.clone(), s);
                        changed += 1;
                    }
                    Some(cur) if cur != s && (!gt || s > cur) => {
                        entry.insert(x.clone(), s);
                        changed += ch as i64;
                    }
                    Some(_) => {}
                }
                cmd.push(fmt(s));
                cmd.push(x);
            }
            (cmd, R::Int(changed))
        }
        3 => {
            let (x, by) = (member(rng), score(rng));
            let new = set.get(&x).copied().unwrap_or(0.0) + by;
            m.entry(k.clone()).or_default().insert(x.clone(), new);
            (vec!["ZINCRBY".into(), k, fmt(by), x], b(&fmt(new)))
        }
        4 => {
            let (x, y) = (member(rng), member(rng));
            let mut gone = 0;
            if let Some(e) = m.get_mut(&k) {
                gone += e.remove(&x).is_some() as i64;
                gone += e.remove(&y).is_some() as i64;
                if e.is_empty() {
                    m.remove(&k);
                }
            }
            (vec!["ZREM".into(), k, x, y], R::Int(gone))
        }
        5 => {
            let x = member(rng);
            let want = match order.iter().position(|(n, _)| *n == x) {
                Some(r) => R::Int(r as i64),
                None => R::Nil,
            };
            (vec!["ZRANK".into(), k, x], want)
        }
        6 => {
            let (a, z) = (score(rng), score(rng));
            let inside: Vec<(String, f64)> = order
                .iter()
                .filter(|(_, s)| a < *s && *s <= z)
                .cloned()
                .collect();
            let (off, lim) = (rng.next(3), rng.next(4) as i64 - 1);
            let take = if lim < 0 { usize::MAX } else { lim as usize };
            let want: Vec<_> = inside.into_iter().skip(off).take(take).collect();
            let cmd = vec![
                "ZRANGEBYSCORE".into(),
                k,
                format!("({}", fmt(a)),
                fmt(z),
                "LIMIT".into(),
                off.to_string(),
                lim.to_string(),
            ];
            (cmd, names(&want))
        }
        7 => {
            let (a, z) = (rng.next(8) as i64 - 4, rng.next(8) as i64 - 4);
            let n = order.len() as i64;
            let (s, e) = (
                if a < 0 { (n + a).max(0) } else { a },
                if z < 0 { n + z } else { z },
            );
            let mut rev = order.clone();
            rev.reverse();
            let want: Vec<_> = if s > e || s >= n {
                vec![]
            } else {
                rev[s as usize..=e.min(n - 1) as usize].to_vec()
            };
            (
                vec!["ZREVRANGE".into(), k, a.to_string(), z.to_string()],
                names(&want),
            )
        }
        8 => {
            let (a, z) = (score(rng), score(rng));
            let n = order.iter().filter(|(_, s)| a <= *s && *s < z).count();
            (
                vec!["ZCOUNT".into(), k, fmt(a), format!("({}", fmt(z))],
                R::Int(n as i64),
            )
        }
        9 => {
            let n = rng.next(3);
            let popped: Vec<(String, f64)> = order.iter().rev().take(n).cloned().collect();
            if let Some(e) = m.get_mut(&k) {
                for (x, _) in &popped {
                    e.remove(x);
                }
                if e.is_empty() {
                    m.remove(&k);
                }
            }
            let flat = popped
                .iter()
                .flat_map(|(x, s)| [b(x), b(&fmt(*s))])
                .collect();
            (vec!["ZPOPMAX".into(), k, n.to_string()], R::Arr(flat))
        }
        10 => {
            let (a, z) = (rng.next(6) as i64 - 3, rng.next(6) as i64 - 3);
            let n = order.len() as i64;
            let (s, e) = (
                if a < 0 { (n + a).max(0) } else { a },
                if z < 0 { n + z } else { z },
            );
            let mut gone = 0;
            if s <= e && s < n {
                for (x, _) in &order[s as usize..=e.min(n - 1) as usize] {
                    m.get_mut(&k).unwrap().remove(x);
                    gone += 1;
                }
                if m.get(&k).is_some_and(|e| e.is_empty()) {
                    m.remove(&k);
                }
            }
            (
                vec!["ZREMRANGEBYRANK".into(), k, a.to_string(), z.to_string()],
                R::Int(gone),
            )
        }
        11 => {
            let (other, dst) = (format!("k{}", rng.next(3)), format!("k{}", rng.next(3)));
            let theirs = m.get(&other).cloned().unwrap_or_default();
            let inter = rng.next(2) == 0;
            let mut result = BTreeMap::new();
            for (x, s) in &set {
                match theirs.get(x) {
                    Some(t) => result.insert(x.clone(), s + t),
                    None if !inter => result.insert(x.clone(), *s),
                    None => None,
                };
            }
            if !inter {
                for (x, t) in &theirs {
                    result.entry(x.clone()).or_insert(*t);
                }
            }
            let len = result.len() as i64;
            if result.is_empty() {
                m.remove(&dst);
            } else {
                m.insert(dst.clone(), result);
            }
            let name = if inter { "ZINTERSTORE" } else { "ZUNIONSTORE" };
            (vec![name.into(), dst, "2".into(), k, other], R::Int(len))
        }
        _ => {
            let x = member(rng);
            let want = set.get(&x).map_or(R::Nil, |s| b(&fmt(*s)));
            (vec!["ZSCORE".into(), k, x], want)
        }
    };
    let got = h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got, want, "{cmd:?}");
}

#[test]
fn random_commands_agree_with_a_model() {
    for (seed, max_entries) in [(1u64, 128), (2, 4), (3, 0)] {
        let mut h = Harness::new();
        h.shard.conf.zset_limits.max_entries = max_entries;
        let mut m = Model::new();
        let mut rng = Rng::seeded(seed);
        for _ in 0..6_000 {
            step(&mut h, &mut m, &mut rng);
        }
        for (k, set) in &m {
            let flat: Vec<R> = sorted(set)
                .iter()
                .flat_map(|(x, s)| [b(x), b(&fmt(*s))])
                .collect();
            assert_eq!(h.run(&["ZRANGE", k, "0", "-1", "WITHSCORES"]), R::Arr(flat));
        }
        for k in ["k0", "k1", "k2"] {
            assert_eq!(exists(&h, k), m.contains_key(k), "{k}");
        }
    }
}

#[test]
fn union_inter_diff_with_weights_and_aggregates() {
    let mut h = Harness::new();
    run(&mut h, "ZADD a 1 x 2 y 3 z");
    run(&mut h, "ZADD b 10 y 20 z 30 w");
    run(&mut h, "SADD s x w");
    assert_eq!(
        run(&mut h, "ZUNION 2 a b WITHSCORES"),
        arr(&["x", "1", "y", "12", "z", "23", "w", "30"])
    );
    assert_eq!(
        run(
            &mut h,
            "ZINTER 2 a b WEIGHTS 2 0.5 AGGREGATE MAX WITHSCORES"
        ),
        arr(&["y", "5", "z", "10"])
    );
    assert_eq!(run(&mut h, "ZINTER 2 a b AGGREGATE min"), arr(&["y", "z"]));
    assert_eq!(run(&mut h, "ZDIFF 2 a b WITHSCORES"), arr(&["x", "1"]));
    assert_eq!(run(&mut h, "ZDIFF 3 b nokey a"), arr(&["w"]));
    assert_eq!(
        run(&mut h, "ZUNION 2 a s WITHSCORES"),
        arr(&["w", "1", "x", "2", "y", "2", "z", "3"])
    );
    assert_eq!(run(&mut h, "ZINTERCARD 2 a b"), R::Int(2));
    assert_eq!(run(&mut h, "ZINTERCARD 2 a b LIMIT 1"), R::Int(1));
    assert_eq!(run(&mut h, "ZINTERCARD 2 a nokey"), R::Int(0));
    assert_eq!(run(&mut h, "ZUNIONSTORE d 2 a b WEIGHTS 1 -1"), R::Int(4));
    assert_eq!(
        run(&mut h, "ZRANGE d 0 -1 WITHSCORES"),
        arr(&["w", "-30", "z", "-17", "y", "-8", "x", "1"])
    );
    assert_eq!(encoding(&h, "d"), "listpack");
    assert_eq!(run(&mut h, "ZINTERSTORE d 2 a b"), R::Int(2));
    assert_eq!(
        run(&mut h, "COMMAND GETKEYS ZUNIONSTORE d 2 a b WEIGHTS 1 2"),
        arr(&["d", "a", "b"])
    );
    assert_eq!(
        run(&mut h, "COMMAND GETKEYS ZMPOP 2 a b MIN COUNT 3"),
        arr(&["a", "b"])
    );
    assert_eq!(run(&mut h, "ZDIFFSTORE d 2 a a"), R::Int(0));
    assert!(!exists(&h, "d"));
    run(&mut h, "ZADD inf +inf m");
    run(&mut h, "ZADD ninf -inf m");
    assert_eq!(
        run(&mut h, "ZUNION 2 inf ninf WITHSCORES"),
        arr(&["m", "0"])
    );
    assert_eq!(
        run(&mut h, "ZUNION 1 inf WEIGHTS 0 WITHSCORES"),
        arr(&["m", "0"])
    );
    run(&mut h, "SET str v");
    for (line, e) in [
        (
            "ZUNION 0 a",
            "ERR at least 1 input key is needed for 'zunion' command",
        ),
        (
            "ZINTERSTORE d 0 a",
            "ERR at least 1 input key is needed for 'zinterstore' command",
        ),
        ("ZUNION x a", NOT_INT),
        ("ZUNION 3 a b", SYNTAX),
        ("ZUNION 2 a str", WRONGTYPE),
        ("ZUNION 2 a b WEIGHTS 1", SYNTAX),
        (
            "ZUNION 2 a b WEIGHTS 1 x",
            "ERR weight value is not a float",
        ),
        ("ZUNION 2 a b AGGREGATE avg", SYNTAX),
        ("ZDIFF 2 a b WEIGHTS 1 1", SYNTAX),
        ("ZUNIONSTORE d 2 a b WITHSCORES", SYNTAX),
        ("ZINTERCARD 2 a b LIMIT -1", "ERR LIMIT can't be negative"),
        ("ZINTERCARD 2 a b WITHSCORES", SYNTAX),
    ] {
        assert_eq!(run(&mut h, line), err(e), "{line}");
    }
    h.resp3 = true;
    assert_eq!(
        h.run(&["ZINTER", "2", "a", "b", "WITHSCORES"]),
        R::Arr(vec![
            R::Arr(vec![b("y"), dbl("12")]),
            R::Arr(vec![b("z"), dbl("23")])
        ])
    );
}

#[test]
fn zmpop_pops_from_the_first_set_there() {
    let mut h = Harness::new();
    run(&mut h, "ZADD b 1 x 2 y 3 z");
    let pair = |m: &str, s: &str| R::Arr(vec![b(m), b(s)]);
    assert_eq!(
        run(&mut h, "ZMPOP 2 a b MIN"),
        R::Arr(vec![b("b"), R::Arr(vec![pair("x", "1")])])
    );
    assert_eq!(
        run(&mut h, "ZMPOP 1 b MAX COUNT 5"),
        R::Arr(vec![b("b"), R::Arr(vec![pair("z", "3"), pair("y", "2")])])
    );
    assert!(!exists(&h, "b"));
    assert_eq!(run(&mut h, "ZMPOP 2 a b MIN"), R::Nil);
    run(&mut h, "SET s v");
    for (line, e) in [
        ("ZMPOP 0 a MIN", "ERR numkeys should be greater than 0"),
        ("ZMPOP 2 a MIN", SYNTAX),
        ("ZMPOP 1 a LEFT", SYNTAX),
        (
            "ZMPOP 1 a MIN COUNT 0",
            "ERR count should be greater than 0",
        ),
        ("ZMPOP 1 a MIN COUNT 1 COUNT 1", SYNTAX),
        ("ZMPOP 1 a LEFT COUNT 0", SYNTAX),
        ("ZMPOP 1 s MIN", WRONGTYPE),
    ] {
        assert_eq!(run(&mut h, line), err(e), "{line}");
    }
    h.resp3 = true;
    assert_eq!(h.raw(&["ZMPOP", "1", "a", "MIN"]), b"_\r\n");
    assert_eq!(
        h.run(&["BZPOPMIN", "a", "0"]),
        R::Err("ERR unknown command 'BZPOPMIN', with args beginning with: 'a' '0' ".into())
    );
}
