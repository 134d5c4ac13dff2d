use crate::cmd::collection::tests::{arr, b, keyspace_step, Rng, WRONGTYPE};
use crate::cmd::keyspace::tests::bulks;
use crate::cmd::string::tests::{encoding, err, exists, run, NOT_INT};
use crate::testing::{Harness, R};
use crate::types::HashLimits;
use std::collections::BTreeMap;

#[test]
fn hset_hget_hlen_and_the_listpack_encoding() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "HSET k f1 v1 f2 v2"), R::Int(2));
    assert_eq!(run(&mut h, "HSET k f1 x f3 v3"), R::Int(1));
    assert_eq!(run(&mut h, "HGET k f1"), b("x"));
    assert_eq!(run(&mut h, "HGET k nope"), R::Nil);
    assert_eq!(run(&mut h, "HGET nokey f"), R::Nil);
    assert_eq!(run(&mut h, "HLEN k"), R::Int(3));
    assert_eq!(run(&mut h, "HLEN nokey"), R::Int(0));
    assert_eq!(encoding(&h, "k"), "listpack");
    assert_eq!(run(&mut h, "TYPE k"), R::Simple("hash".into()));
    assert_eq!(run(&mut h, "OBJECT ENCODING k"), b("listpack"));
    assert_eq!(
        run(&mut h, "HSET k f1"),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        run(&mut h, "hmset k f1 v f2"),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(run(&mut h, "HMSET k a 1 b 2"), R::ok());
    assert_eq!(
        run(&mut h, "HMGET k a nope b"),
        R::Arr(vec![b("1"), R::Nil, b("2")])
    );
    assert_eq!(run(&mut h, "HMGET nokey a b"), R::Arr(vec![R::Nil, R::Nil]));
    assert_eq!(run(&mut h, "HSETNX k a 9"), R::Int(0));
    assert_eq!(run(&mut h, "HSETNX k c 9"), R::Int(1));
    assert_eq!(run(&mut h, "HSETNX new c 9"), R::Int(1));
    assert_eq!(run(&mut h, "HGET k a"), b("1"));
    assert_eq!(run(&mut h, "HGET k c"), b("9"));
}

#[test]
fn encodings_convert_past_either_limit() {
    let mut h = Harness::new();
    for i in 0..128 {
        run(&mut h, &format!("HSET big f{i} v"));
    }
    assert_eq!(encoding(&h, "big"), "listpack");
    run(&mut h, "HSET big one-more v");
    assert_eq!(encoding(&h, "big"), "hashtable");
    let long = "x".repeat(65);
    h.run(&["HSET", "long", "f", &long[..64]]);
    assert_eq!(encoding(&h, "long"), "listpack");
    h.run(&["HSET", "long", "f", &long]);
    assert_eq!(encoding(&h, "long"), "hashtable");
    assert_eq!(h.run(&["HGET", "long", "f"]), b(&long));
    h.run(&["HSETNX", "longfield", &long, "v"]);
    assert_eq!(encoding(&h, "longfield"), "hashtable");
    h.shard.conf.hash_limits = HashLimits {
        max_entries: 2,
        max_value: 64,
    };
    run(&mut h, "HSET small a 1 b 2");
    assert_eq!(encoding(&h, "small"), "listpack");
    run(&mut h, "HINCRBY small c 1");
    assert_eq!(encoding(&h, "small"), "hashtable");
}

#[test]
fn hdel_removes_fields_and_the_emptied_key() {
    let mut h = Harness::new();
    run(&mut h, "HSET k a 1 b 2 c 3");
    assert_eq!(run(&mut h, "HDEL k a nope a"), R::Int(1));
    assert_eq!(run(&mut h, "HDEL nokey a"), R::Int(0));
    assert_eq!(run(&mut h, "HDEL k b c"), R::Int(2));
    assert!(!exists(&h, "k"));
    assert_eq!(run(&mut h, "EXISTS k"), R::Int(0));
    let dirty = h.shard.stats.dirty;
    run(&mut h, "HSET k a 1 b 2");
    run(&mut h, "HDEL k a b z");
    assert_eq!(h.shard.stats.dirty, dirty + 4);
}

#[test]
fn hstrlen_hexists_hkeys_hvals_hgetall() {
    let mut h = Harness::new();
    run(&mut h, "HSET k a 1 b hello c -5");
    assert_eq!(run(&mut h, "HSTRLEN k b"), R::Int(5));
    assert_eq!(run(&mut h, "HSTRLEN k c"), R::Int(2));
    assert_eq!(run(&mut h, "HSTRLEN k nope"), R::Int(0));
    assert_eq!(run(&mut h, "HSTRLEN nokey a"), R::Int(0));
    assert_eq!(run(&mut h, "HEXISTS k a"), R::Int(1));
    assert_eq!(run(&mut h, "HEXISTS k z"), R::Int(0));
    assert_eq!(run(&mut h, "HEXISTS nokey a"), R::Int(0));
    // A small hash replies in insertion order.
    assert_eq!(run(&mut h, "HKEYS k"), arr(&["a", "b", "c"]));
    assert_eq!(run(&mut h, "HVALS k"), arr(&["1", "hello", "-5"]));
    assert_eq!(
        run(&mut h, "HGETALL k"),
        arr(&["a", "1", "b", "hello", "c", "-5"])
    );
    assert_eq!(run(&mut h, "HGETALL nokey"), R::Arr(vec![]));
    assert_eq!(run(&mut h, "HKEYS nokey"), R::Arr(vec![]));
    h.resp3 = true;
    assert_eq!(h.raw(&["HGETALL", "k"])[..4], *b"%3\r\n");
    assert_eq!(h.raw(&["HGETALL", "nokey"]), b"%0\r\n");
    assert_eq!(h.raw(&["HKEYS", "nokey"]), b"*0\r\n");
}

#[test]
fn hincrby_and_hincrbyfloat() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "HINCRBY k n 5"), R::Int(5));
    assert_eq!(run(&mut h, "HINCRBY k n -7"), R::Int(-2));
    h.run(&[
        "HSET",
        "k",
        "big",
        "9223372036854775807",
        "s",
        "abc",
        "sp",
        " 1",
    ]);
    run(&mut h, "HSET k f 1.5");
    assert_eq!(
        run(&mut h, "HINCRBY k big 1"),
        err("ERR increment or decrement would overflow")
    );
    for field in ["s", "sp", "f"] {
        assert_eq!(
            run(&mut h, &format!("HINCRBY k {field} 1")),
            err("ERR hash value is not an integer")
        );
    }
    assert_eq!(run(&mut h, "HINCRBY k n x"), err(NOT_INT));
    assert_eq!(run(&mut h, "HINCRBY nokey n x"), err(NOT_INT));
    assert!(!exists(&h, "nokey"), "a failed increment creates nothing");
    assert_eq!(run(&mut h, "HINCRBYFLOAT k f 0.1"), b("1.6"));
    assert_eq!(run(&mut h, "HINCRBYFLOAT k n 1.5"), b("-0.5"));
    assert_eq!(run(&mut h, "HINCRBYFLOAT k new 10.5"), b("10.5"));
    assert_eq!(
        run(&mut h, "HINCRBYFLOAT k s 1"),
        err("ERR hash value is not a float")
    );
    assert_eq!(
        run(&mut h, "HINCRBYFLOAT k f x"),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        run(&mut h, "HINCRBYFLOAT k f +inf"),
        err("ERR value is NaN or Infinity")
    );
    run(&mut h, "HSET k huge 1e4932");
    assert_eq!(
        run(&mut h, "HINCRBYFLOAT k huge 1e4932"),
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(run(&mut h, "HGET k f"), b("1.6"));
}

#[test]
fn hrandfield_counts_and_withvalues() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "HRANDFIELD nokey"), R::Nil);
    assert_eq!(run(&mut h, "HRANDFIELD nokey 5"), R::Arr(vec![]));
    assert_eq!(
        run(&mut h, "HRANDFIELD nokey -5 WITHVALUES"),
        R::Arr(vec![])
    );
    run(&mut h, "HSET k a 1 b 2 c 3");
    let one = run(&mut h, "HRANDFIELD k");
    assert!(["a", "b", "c"].iter().any(|f| one == b(f)), "{one:?}");
    assert_eq!(run(&mut h, "HRANDFIELD k 0"), R::Arr(vec![]));
    assert_eq!(bulks(run(&mut h, "HRANDFIELD k 10")), ["a", "b", "c"]);
    for count in [1, 2] {
        let picked = bulks(run(&mut h, &format!("HRANDFIELD k {count}")));
        let mut distinct = picked.clone();
        distinct.dedup();
        assert_eq!((picked.len(), distinct.len()), (count, count));
    }
    let R::Arr(many) = run(&mut h, "HRANDFIELD k -20 WITHVALUES") else {
        panic!()
    };
    assert_eq!(many.len(), 40);
    for pair in many.chunks(2) {
        let (R::Bulk(f), R::Bulk(v)) = (&pair[0], &pair[1]) else {
            panic!()
        };
        let want: &[u8] = match &f[..] {
            b"a" => b"1",
            b"b" => b"2",
            _ => b"3",
        };
        assert_eq!(&v[..], want);
    }
    h.resp3 = true;
    let R::Arr(pairs) = run(&mut h, "HRANDFIELD k 2 WITHVALUES") else {
        panic!()
    };
    assert!(pairs.iter().all(|p| matches!(p, R::Arr(v) if v.len() == 2)));
    h.resp3 = false;
    assert_eq!(run(&mut h, "HRANDFIELD k 1 foo"), err("ERR syntax error"));
    assert_eq!(run(&mut h, "HRANDFIELD k x"), err(NOT_INT));
    assert_eq!(
        run(&mut h, "HRANDFIELD k -9223372036854775808"),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        run(&mut h, "HRANDFIELD k -9223372036854770000 WITHVALUES"),
        err("ERR value is out of range")
    );
}

#[test]
fn hrandfield_is_roughly_uniform_over_a_table() {
    let mut h = Harness::new();
    for i in 0..200 {
        run(&mut h, &format!("HSET k f{i} v"));
    }
    assert_eq!(encoding(&h, "k"), "hashtable");
    let mut counts = BTreeMap::new();
    let R::Arr(picks) = run(&mut h, "HRANDFIELD k -20000") else {
        panic!()
    };
    for p in picks {
        *counts.entry(format!("{p:?}")).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 200);
    assert!(
        counts.values().all(|&n| (40..=180).contains(&n)),
        "{counts:?}"
    );
    assert_eq!(bulks(run(&mut h, "HRANDFIELD k 150")).len(), 150);
    let mut distinct = bulks(run(&mut h, "HRANDFIELD k 30"));
    distinct.dedup();
    assert_eq!(distinct.len(), 30);
}

#[test]
fn hscan_returns_every_field_and_filters_with_match() {
    let mut h = Harness::new();
    run(&mut h, "HSET small a 1 b 2");
    assert_eq!(
        run(&mut h, "HSCAN small 0"),
        R::Arr(vec![b("0"), arr(&["a", "1", "b", "2"])])
    );
    assert_eq!(
        run(&mut h, "HSCAN small 0 MATCH a*"),
        R::Arr(vec![b("0"), arr(&["a", "1"])])
    );
    assert_eq!(
        run(&mut h, "HSCAN nokey 0 COUNT 0"),
        R::Arr(vec![b("0"), arr(&[])])
    );
    assert_eq!(
        run(&mut h, "HSCAN small 0 COUNT 0"),
        err("ERR syntax error")
    );
    assert_eq!(run(&mut h, "HSCAN small x"), err("ERR invalid cursor"));
    for i in 0..1000 {
        run(&mut h, &format!("HSET big key:{i} {i}"));
    }
    let mut fields = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let R::Arr(reply) = h.run(&["HSCAN", "big", &cursor, "COUNT", "7"]) else {
            panic!()
        };
        let R::Bulk(next) = &reply[0] else { panic!() };
        cursor = String::from_utf8(next.clone()).unwrap();
        let R::Arr(items) = &reply[1] else { panic!() };
        for pair in items.chunks(2) {
            let (R::Bulk(f), R::Bulk(v)) = (&pair[0], &pair[1]) else {
                panic!("{pair:?}")
            };
            assert_eq!(&f[4..], &v[..]);
            fields.push(f.clone());
        }
        if cursor == "0" {
            break;
        }
    }
    fields.sort();
    fields.dedup();
    assert_eq!(fields.len(), 1000);
}

#[test]
fn wrong_types_both_ways() {
    let mut h = Harness::new();
    run(&mut h, "SET s v");
    run(&mut h, "HSET hk f v");
    for line in [
        "HSET s f v",
        "HSETNX s f v",
        "HGET s f",
        "HMGET s f",
        "HDEL s f",
        "HLEN s",
        "HSTRLEN s f",
        "HEXISTS s f",
        "HKEYS s",
        "HVALS s",
        "HGETALL s",
        "HINCRBY s f 1",
        "HINCRBYFLOAT s f 1",
        "HRANDFIELD s",
        "HRANDFIELD s 2",
        "HSCAN s 0",
        "GET hk",
        "GETDEL hk",
        "GETEX hk",
        "GETSET hk v",
        "SET hk v GET",
        "APPEND hk v",
        "INCR hk",
        "INCRBYFLOAT hk 1",
        "DECRBY hk 1",
        "SETRANGE hk 0 v",
        "GETRANGE hk 0 1",
        "STRLEN hk",
        "SETBIT hk 0 1",
        "GETBIT hk 0",
        "BITCOUNT hk",
        "BITPOS hk 1",
    ] {
        assert_eq!(run(&mut h, line), err(WRONGTYPE), "{line}");
    }
    assert_eq!(run(&mut h, "MGET s hk"), R::Arr(vec![b("v"), R::Nil]));
    assert_eq!(
        run(&mut h, "LCS hk s"),
        err("ERR The specified keys must contain string values")
    );
    assert_eq!(run(&mut h, "HGET hk f"), b("v"), "untouched by the errors");
    assert_eq!(run(&mut h, "GET s"), b("v"));
    // SET replaces any type.
    assert_eq!(run(&mut h, "SET hk str"), R::ok());
    assert_eq!(run(&mut h, "GET hk"), b("str"));
}

#[test]
fn keyspace_commands_carry_hashes() {
    let mut h = Harness::new();
    run(&mut h, "HSET a f v g w");
    run(&mut h, "EXPIRE a 100");
    assert_eq!(run(&mut h, "RENAME a b"), R::ok());
    assert_eq!(run(&mut h, "HGETALL b"), arr(&["f", "v", "g", "w"]));
    assert_eq!(run(&mut h, "TTL b"), R::Int(100));
    assert_eq!(run(&mut h, "COPY b c"), R::Int(1));
    run(&mut h, "HDEL c f");
    assert_eq!(run(&mut h, "HLEN b"), R::Int(2), "a copy is its own hash");
    assert_eq!(run(&mut h, "MOVE c 1"), R::Int(1));
    run(&mut h, "SELECT 1");
    h.db = 1;
    assert_eq!(run(&mut h, "HGETALL c"), arr(&["g", "w"]));
    h.db = 0;
    assert_eq!(run(&mut h, "PERSIST b"), R::Int(1));
    assert_eq!(
        run(&mut h, "SCAN 0 TYPE hash"),
        R::Arr(vec![b("0"), arr(&["b"])])
    );
    // What MEMORY USAGE reports, less the slot.
    let mem_of = |h: &Harness| h.shard.dbs[0].table.get(b"b").unwrap().mem_bytes();
    let mem = mem_of(&h);
    for i in 0..500 {
        run(&mut h, &format!("HSET b field{i} value{i}"));
    }
    let bigger = mem_of(&h);
    assert!(mem < 150 && bigger > 500 * 20, "{mem} {bigger}");
    run(&mut h, "PEXPIRE b 10");
    h.advance(10);
    assert_eq!(run(&mut h, "HLEN b"), R::Int(0));
    assert_eq!(run(&mut h, "DEL c"), R::Int(0));
}

type Model = BTreeMap<String, BTreeMap<String, String>>;

/// One random command, run against the engine and against the model;
/// the two replies must agree. Table order is not insertion order, so
/// whole-hash replies are compared sorted.
fn step(h: &mut Harness, m: &mut Model, rng: &mut Rng) {
    let key = format!("k{}", rng.next(3));
    let field = |rng: &mut Rng| format!("f{}", rng.next(12));
    let value = |rng: &mut Rng| match rng.next(6) {
        0 => "v".repeat(70 + rng.next(10)),
        1 => format!("{}", rng.next(100) as i64 - 50),
        _ => format!("v{}", rng.next(1000)),
    };
    let hash = m.get(&key).cloned().unwrap_or_default();
    if rng.next(20) == 0 {
        return keyspace_step(h, m, rng, 3);
    }
    let (cmd, want): (Vec<String>, R) = match rng.next(10) {
        0 | 1 => {
            let mut cmd = vec!["HSET".into(), key.clone()];
            let mut added = 0;
            let entry = m.entry(key.clone()).or_default();
            for _ in 0..1 + rng.next(3) {
                let (f, v) = (field(rng), value(rng));
                added += entry.insert(f.clone(), v.clone()).is_none() as i64;
                cmd.extend([f, v]);
            }
            (cmd, R::Int(added))
        }
        2 => {
            let (f, v) = (field(rng), value(rng));
            let new = !hash.contains_key(&f);
            if new {
                m.entry(key.clone())
                    .or_default()
                    .insert(f.clone(), v.clone());
            }
            (vec!["HSETNX".into(), key, f, v], R::Int(new as i64))
        }
        3 => {
            let (f, g) = (field(rng), field(rng));
            let mut gone = 0;
            if let Some(e) = m.get_mut(&key) {
                gone += e.remove(&f).is_some() as i64;
                gone += e.remove(&g).is_some() as i64;
                if e.is_empty() {
                    m.remove(&key);
                }
            }
            (vec!["HDEL".into(), key, f, g], R::Int(gone))
        }
        4 => {
            let f = field(rng);
            let want = hash.get(&f).map_or(R::Nil, |v| b(v));
            (vec!["HGET".into(), key, f], want)
        }
        5 => {
            let (f, g) = (field(rng), field(rng));
            let get = |f: &String| hash.get(f).map_or(R::Nil, |v| b(v));
            (
                vec!["HMGET".into(), key, f.clone(), g.clone()],
                R::Arr(vec![get(&f), get(&g)]),
            )
        }
        6 => (vec!["HLEN".into(), key], R::Int(hash.len() as i64)),
        7 => {
            let f = field(rng);
            let by = rng.next(20) as i64 - 10;
            let want = match hash.get(&f).map(|v| v.parse::<i64>()) {
                Some(Err(_)) => err("ERR hash value is not an integer"),
                current => {
                    let n = current.map_or(0, |c| c.unwrap()) + by;
                    m.entry(key.clone())
                        .or_default()
                        .insert(f.clone(), n.to_string());
                    R::Int(n)
                }
            };
            (vec!["HINCRBY".into(), key, f, by.to_string()], want)
        }
        8 => {
            let f = field(rng);
            let want = R::Int(hash.get(&f).map_or(0, String::len) as i64);
            (vec!["HSTRLEN".into(), key, f], want)
        }
        _ => {
            let cmd = ["HGETALL".to_string(), key.clone()];
            let got = h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
            let R::Arr(flat) = got else { panic!("{got:?}") };
            let mut pairs: Vec<(R, R)> = flat
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect();
            pairs.sort_by(|(f, _), (g, _)| match (f, g) {
                (R::Bulk(f), R::Bulk(g)) => f.cmp(g),
                _ => panic!("{f:?} {g:?}"),
            });
            let want: Vec<(R, R)> = hash.iter().map(|(f, v)| (b(f), b(v))).collect();
            assert_eq!(pairs, want, "HGETALL {key}");
            return;
        }
    };
    let got = h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got, want, "{cmd:?}");
}

#[test]
fn random_commands_agree_with_a_model() {
    for (seed, limits) in [
        (1u64, HashLimits::default()),
        (
            2,
            HashLimits {
                max_entries: 4,
                max_value: 64,
            },
        ),
        (
            3,
            HashLimits {
                max_entries: 0,
                max_value: 0,
            },
        ),
    ] {
        let mut h = Harness::new();
        h.shard.conf.hash_limits = limits;
        let mut m = Model::new();
        let mut rng = Rng::seeded(seed);
        for _ in 0..5_000 {
            step(&mut h, &mut m, &mut rng);
        }
        for key in ["k0", "k1", "k2"] {
            assert_eq!(exists(&h, key), m.contains_key(key), "{key}");
        }
    }
}
