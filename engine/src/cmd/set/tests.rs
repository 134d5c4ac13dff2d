use crate::cmd::collection::tests::{arr, b, keyspace_step, Rng, WRONGTYPE};
use crate::cmd::keyspace::tests::bulks;
use crate::cmd::string::tests::{encoding, err, exists, run, NOT_INT, SYNTAX};
use crate::testing::{Harness, R};
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn sadd_srem_scard_and_encodings() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "SADD s 3 1 2 1"), R::Int(3));
    assert_eq!(encoding(&h, "s"), "intset");
    assert_eq!(run(&mut h, "OBJECT ENCODING s"), b("intset"));
    assert_eq!(run(&mut h, "TYPE s"), R::Simple("set".into()));
    assert_eq!(run(&mut h, "SMEMBERS s"), arr(&["1", "2", "3"]));
    assert_eq!(run(&mut h, "SADD s 2 x"), R::Int(1));
    assert_eq!(encoding(&h, "s"), "hashtable");
    assert_eq!(run(&mut h, "SCARD s"), R::Int(4));
    assert_eq!(run(&mut h, "SCARD nokey"), R::Int(0));
    assert_eq!(run(&mut h, "SREM s 1 nope 1"), R::Int(1));
    assert_eq!(run(&mut h, "SREM nokey 1"), R::Int(0));
    assert_eq!(run(&mut h, "SREM s 2 3 x"), R::Int(3));
    assert!(!exists(&h, "s"));
    run(&mut h, "SADD str a");
    assert_eq!(encoding(&h, "str"), "hashtable");
    for i in 0..512 {
        run(&mut h, &format!("SADD big {i}"));
    }
    assert_eq!(encoding(&h, "big"), "intset");
    run(&mut h, "SADD big 512");
    assert_eq!(encoding(&h, "big"), "hashtable");
    h.shard.conf.set_max_intset = 1;
    run(&mut h, "SADD tiny 1");
    assert_eq!(encoding(&h, "tiny"), "intset");
    run(&mut h, "SADD tiny 2");
    assert_eq!(encoding(&h, "tiny"), "hashtable");
    let dirty = h.shard.stats.dirty;
    run(&mut h, "SADD d a b a");
    run(&mut h, "SREM d a z");
    assert_eq!(h.shard.stats.dirty, dirty + 3);
}

#[test]
fn membership_and_smembers() {
    let mut h = Harness::new();
    run(&mut h, "SADD s a b 5");
    assert_eq!(run(&mut h, "SISMEMBER s a"), R::Int(1));
    assert_eq!(run(&mut h, "SISMEMBER s z"), R::Int(0));
    assert_eq!(run(&mut h, "SISMEMBER nokey a"), R::Int(0));
    assert_eq!(
        run(&mut h, "SMISMEMBER s a z 5"),
        R::Arr(vec![R::Int(1), R::Int(0), R::Int(1)])
    );
    assert_eq!(run(&mut h, "SMISMEMBER nokey a"), R::Arr(vec![R::Int(0)]));
    assert_eq!(bulks(run(&mut h, "SMEMBERS s")), ["5", "a", "b"]);
    assert_eq!(run(&mut h, "SMEMBERS nokey"), R::Arr(vec![]));
    h.resp3 = true;
    assert_eq!(h.raw(&["SMEMBERS", "nokey"]), b"~0\r\n");
    assert_eq!(h.raw(&["SMEMBERS", "s"])[..4], *b"~3\r\n");
    assert_eq!(h.raw(&["SISMEMBER", "s", "a"]), b":1\r\n");
}

#[test]
fn srandmember_counts() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "SRANDMEMBER nokey"), R::Nil);
    assert_eq!(run(&mut h, "SRANDMEMBER nokey 3"), R::Arr(vec![]));
    run(&mut h, "SADD s a b c");
    let one = run(&mut h, "SRANDMEMBER s");
    assert!(["a", "b", "c"].iter().any(|m| one == b(m)));
    assert_eq!(run(&mut h, "SRANDMEMBER s 0"), R::Arr(vec![]));
    assert_eq!(bulks(run(&mut h, "SRANDMEMBER s 5")), ["a", "b", "c"]);
    let mut two = bulks(run(&mut h, "SRANDMEMBER s 2"));
    two.dedup();
    assert_eq!(two.len(), 2);
    assert_eq!(bulks(run(&mut h, "SRANDMEMBER s -10")).len(), 10);
    assert_eq!(run(&mut h, "SRANDMEMBER s x"), err(NOT_INT));
    assert_eq!(run(&mut h, "SRANDMEMBER s 1 2"), err(SYNTAX));
    assert_eq!(
        run(&mut h, "SRANDMEMBER s -9223372036854775808"),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(h.raw(&["SRANDMEMBER", "s", "0"]), b"*0\r\n");
}

#[test]
fn srandmember_and_spop_are_roughly_uniform() {
    let mut h = Harness::new();
    for i in 0..100 {
        run(&mut h, &format!("SADD ints {i}"));
        run(&mut h, &format!("SADD strs m{i}"));
    }
    for key in ["ints", "strs"] {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for m in bulks(run(&mut h, &format!("SRANDMEMBER {key} -10000"))) {
            *counts.entry(m).or_default() += 1;
        }
        assert_eq!(counts.len(), 100, "{key}");
        assert!(
            counts.values().all(|&n| (40..=180).contains(&n)),
            "{counts:?}"
        );
    }
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for _ in 0..2_000 {
        run(&mut h, "DEL p");
        run(&mut h, "SADD p a b c d");
        let R::Bulk(m) = run(&mut h, "SPOP p") else {
            panic!()
        };
        *first.entry(String::from_utf8(m).unwrap()).or_default() += 1;
    }
    assert!(
        first.values().all(|&n| (350..=650).contains(&n)),
        "{first:?}"
    );
}

#[test]
fn spop_with_and_without_count() {
    let mut h = Harness::new();
    assert_eq!(run(&mut h, "SPOP nokey"), R::Nil);
    assert_eq!(run(&mut h, "SPOP nokey 3"), R::Arr(vec![]));
    run(&mut h, "SADD s 1 2 3 4 5");
    let R::Bulk(m) = run(&mut h, "SPOP s") else {
        panic!()
    };
    assert_eq!(run(&mut h, "SCARD s"), R::Int(4));
    assert_eq!(
        run(
            &mut h,
            &format!("SISMEMBER s {}", String::from_utf8(m.clone()).unwrap())
        ),
        R::Int(0)
    );
    assert_eq!(run(&mut h, "SPOP s 0"), R::Arr(vec![]));
    let popped = bulks(run(&mut h, "SPOP s 3"));
    assert_eq!(popped.len(), 3);
    assert_eq!(run(&mut h, "SCARD s"), R::Int(1));
    let last = bulks(run(&mut h, "SPOP s 10"));
    assert_eq!(last.len(), 1);
    assert!(!exists(&h, "s"));
    let mut all: BTreeSet<String> = popped.into_iter().chain(last).collect();
    all.insert(String::from_utf8(m.clone()).unwrap());
    assert_eq!(all.len(), 5);
    run(&mut h, "SADD s a");
    assert_eq!(run(&mut h, "SPOP s"), b("a"));
    assert!(!exists(&h, "s"));
    assert_eq!(
        run(&mut h, "SPOP s -1"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        run(&mut h, "SPOP s x"),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(run(&mut h, "SPOP s 1 2"), err(SYNTAX));
    h.resp3 = true;
    run(&mut h, "SADD s a b c");
    assert_eq!(h.raw(&["SPOP", "s", "2"])[..4], *b"~2\r\n");
}

#[test]
fn smove() {
    let mut h = Harness::new();
    run(&mut h, "SADD src 1 2 a");
    run(&mut h, "SADD dst 3");
    assert_eq!(run(&mut h, "SMOVE src dst 1"), R::Int(1));
    assert_eq!(bulks(run(&mut h, "SMEMBERS dst")), ["1", "3"]);
    assert_eq!(run(&mut h, "SMOVE src dst nope"), R::Int(0));
    assert_eq!(run(&mut h, "SMOVE src new a"), R::Int(1));
    assert_eq!(encoding(&h, "new"), "hashtable");
    assert_eq!(run(&mut h, "SMOVE src dst 2"), R::Int(1));
    assert!(!exists(&h, "src"), "emptied: gone");
    assert_eq!(run(&mut h, "SMOVE nokey dst 2"), R::Int(0));
    assert_eq!(run(&mut h, "SMOVE dst dst 2"), R::Int(1));
    assert_eq!(run(&mut h, "SMOVE dst dst 9"), R::Int(0));
    run(&mut h, "SET str x");
    assert_eq!(run(&mut h, "SMOVE nokey str 1"), R::Int(0));
    assert_eq!(run(&mut h, "SMOVE dst str 1"), err(WRONGTYPE));
    assert_eq!(run(&mut h, "SMOVE str dst 1"), err(WRONGTYPE));
    assert_eq!(bulks(run(&mut h, "SMEMBERS dst")), ["1", "2", "3"]);
}

#[test]
fn algebra_and_store_forms() {
    let mut h = Harness::new();
    run(&mut h, "SADD a 1 2 3 4");
    run(&mut h, "SADD b 3 4 5");
    run(&mut h, "SADD c x 4");
    assert_eq!(run(&mut h, "SINTER a b"), arr(&["3", "4"]));
    assert_eq!(run(&mut h, "SINTER a b c"), arr(&["4"]));
    assert_eq!(run(&mut h, "SINTER a nokey"), arr(&[]));
    assert_eq!(run(&mut h, "SUNION a b"), arr(&["1", "2", "3", "4", "5"]));
    assert_eq!(
        bulks(run(&mut h, "SUNION a c nokey")),
        ["1", "2", "3", "4", "x"]
    );
    assert_eq!(run(&mut h, "SDIFF a b"), arr(&["1", "2"]));
    assert_eq!(run(&mut h, "SDIFF a b c"), arr(&["1", "2"]));
    assert_eq!(run(&mut h, "SDIFF nokey a"), arr(&[]));
    assert_eq!(run(&mut h, "SDIFF a a"), arr(&[]));
    assert_eq!(run(&mut h, "SINTERCARD 2 a b"), R::Int(2));
    assert_eq!(run(&mut h, "SINTERCARD 2 a b LIMIT 1"), R::Int(1));
    assert_eq!(run(&mut h, "SINTERCARD 2 a b limit 0"), R::Int(2));
    assert_eq!(run(&mut h, "SINTERCARD 1 nokey"), R::Int(0));
    assert_eq!(
        run(&mut h, "SINTERCARD 0 a"),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        run(&mut h, "SINTERCARD x a"),
        err("ERR numkeys should be greater than 0")
    );
    assert_eq!(
        run(&mut h, "SINTERCARD 3 a b"),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        run(&mut h, "SINTERCARD 2 a b LIMIT -1"),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(
        run(&mut h, "SINTERCARD 2 a b LIMIT x"),
        err("ERR LIMIT can't be negative")
    );
    assert_eq!(run(&mut h, "SINTERCARD 2 a b LIMIT"), err(SYNTAX));
    assert_eq!(run(&mut h, "SINTERCARD 1 a b"), err(SYNTAX));

    run(&mut h, "SET dst old EX 100");
    assert_eq!(run(&mut h, "SINTERSTORE dst a b"), R::Int(2));
    assert_eq!(encoding(&h, "dst"), "intset");
    assert_eq!(run(&mut h, "TTL dst"), R::Int(-1));
    assert_eq!(run(&mut h, "SUNIONSTORE dst a c"), R::Int(5));
    assert_eq!(encoding(&h, "dst"), "hashtable");
    assert_eq!(run(&mut h, "SDIFFSTORE dst a b"), R::Int(2));
    assert_eq!(run(&mut h, "SMEMBERS dst"), arr(&["1", "2"]));
    // A destination among the sources is read before it is replaced.
    assert_eq!(run(&mut h, "SUNIONSTORE a a b"), R::Int(5));
    assert_eq!(run(&mut h, "SINTERSTORE dst a nokey"), R::Int(0));
    assert!(
        !exists(&h, "dst"),
        "an empty result deletes the destination"
    );
    h.resp3 = true;
    assert_eq!(h.raw(&["SINTER", "a", "nokey"]), b"~0\r\n");
}

#[test]
fn sscan_small_and_large() {
    let mut h = Harness::new();
    run(&mut h, "SADD s 1 2 3");
    assert_eq!(
        run(&mut h, "SSCAN s 0"),
        R::Arr(vec![b("0"), arr(&["1", "2", "3"])])
    );
    assert_eq!(
        run(&mut h, "SSCAN s 0 MATCH 2*"),
        R::Arr(vec![b("0"), arr(&["2"])])
    );
    assert_eq!(run(&mut h, "SSCAN nokey 0"), R::Arr(vec![b("0"), arr(&[])]));
    assert_eq!(run(&mut h, "SSCAN s 0 TYPE set"), err(SYNTAX));
    for i in 0..500 {
        run(&mut h, &format!("SADD big m{i}"));
    }
    let mut seen = BTreeSet::new();
    let mut cursor = "0".to_string();
    loop {
        let R::Arr(reply) = h.run(&["SSCAN", "big", &cursor, "COUNT", "13"]) else {
            panic!()
        };
        let R::Bulk(next) = &reply[0] else { panic!() };
        cursor = String::from_utf8(next.clone()).unwrap();
        seen.extend(bulks(reply[1].clone()));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
}

#[test]
fn wrong_types() {
    let mut h = Harness::new();
    run(&mut h, "SET str v");
    run(&mut h, "SADD s a");
    run(&mut h, "HSET hk f v");
    for line in [
        "SADD str a",
        "SREM str a",
        "SCARD str",
        "SISMEMBER hk a",
        "SMISMEMBER str a",
        "SMEMBERS hk",
        "SRANDMEMBER str",
        "SRANDMEMBER str 3",
        "SPOP str",
        "SPOP str 2",
        "SSCAN str 0",
        "SINTER s str",
        "SINTER nokey str",
        "SUNION s hk",
        "SDIFF s str",
        "SINTERSTORE dst s str",
        "SUNIONSTORE dst s str",
        "SDIFFSTORE dst s hk",
        "SINTERCARD 2 s str",
        "GET s",
        "INCR s",
        "HGET s f",
        "HSET s f v",
        "SADD hk a",
    ] {
        assert_eq!(run(&mut h, line), err(WRONGTYPE), "{line}");
    }
    assert!(!exists(&h, "dst"));
    assert_eq!(run(&mut h, "MGET s str"), R::Arr(vec![R::Nil, b("v")]));
}

#[test]
fn keyspace_commands_carry_sets() {
    let mut h = Harness::new();
    run(&mut h, "SADD a 1 2 x");
    run(&mut h, "EXPIRE a 50");
    assert_eq!(run(&mut h, "RENAME a b"), R::ok());
    assert_eq!(run(&mut h, "COPY b c"), R::Int(1));
    run(&mut h, "SREM c x");
    assert_eq!(run(&mut h, "SCARD b"), R::Int(3));
    assert_eq!(run(&mut h, "TTL c"), R::Int(50));
    let R::Arr(scan) = run(&mut h, "SCAN 0 TYPE set") else {
        panic!()
    };
    assert_eq!(bulks(scan[1].clone()), ["b", "c"]);
    assert_eq!(run(&mut h, "DEL b c"), R::Int(2));
}

type Model = BTreeMap<String, BTreeSet<String>>;

fn sorted_reply(h: &mut Harness, cmd: &[String]) -> Vec<String> {
    bulks(h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>()))
}

/// One random command against the engine and the model. Keys share a
/// shard here, so the multi-key commands run whole.
fn step(h: &mut Harness, m: &mut Model, rng: &mut Rng) {
    let key = |rng: &mut Rng| format!("k{}", rng.next(4));
    let member = |rng: &mut Rng| match rng.next(3) {
        0 => format!("m{}", rng.next(15)),
        _ => format!("{}", rng.next(30) as i64 - 5),
    };
    let k = key(rng);
    let set = m.get(&k).cloned().unwrap_or_default();
    if rng.next(20) == 0 {
        return keyspace_step(h, m, rng, 4);
    }
    let (cmd, want): (Vec<String>, R) = match rng.next(11) {
        0..=2 => {
            let mut cmd = vec!["SADD".to_string(), k.clone()];
            let entry = m.entry(k.clone()).or_default();
            let mut added = 0;
            for _ in 0..1 + rng.next(3) {
                let x = member(rng);
                added += entry.insert(x.clone()) as i64;
                cmd.push(x);
            }
            (cmd, R::Int(added))
        }
        3 => {
            let (x, y) = (member(rng), member(rng));
            let mut gone = 0;
            if let Some(e) = m.get_mut(&k) {
                gone += e.remove(&x) as i64;
                gone += e.remove(&y) as i64;
                if e.is_empty() {
                    m.remove(&k);
                }
            }
            (vec!["SREM".into(), k, x, y], R::Int(gone))
        }
        4 => {
            let x = member(rng);
            let want = R::Int(set.contains(&x) as i64);
            (vec!["SISMEMBER".into(), k, x], want)
        }
        5 => (vec!["SCARD".into(), k], R::Int(set.len() as i64)),
        6 => {
            let (src, dst, x) = (k, key(rng), member(rng));
            let moved = set.contains(&x);
            if moved && src != dst {
                let s = m.get_mut(&src).unwrap();
                s.remove(&x);
                if s.is_empty() {
                    m.remove(&src);
                }
                m.entry(dst.clone()).or_default().insert(x.clone());
            }
            (vec!["SMOVE".into(), src, dst, x], R::Int(moved as i64))
        }
        7 => {
            // SPOP: whatever comes out must have been a member.
            let cmd = vec!["SPOP".to_string(), k.clone()];
            let got = h.run(&["SPOP", &k]);
            match got {
                R::Nil => assert!(set.is_empty()),
                R::Bulk(x) => {
                    let x = String::from_utf8(x).unwrap();
                    let s = m.get_mut(&k).unwrap();
                    assert!(s.remove(&x), "{cmd:?} gave {x}");
                    if s.is_empty() {
                        m.remove(&k);
                    }
                }
                other => panic!("{other:?}"),
            }
            return;
        }
        n => {
            let (a, b2, dst) = (k, key(rng), key(rng));
            let (sa, sb) = (set, m.get(&b2).cloned().unwrap_or_default());
            let (name, result): (&str, BTreeSet<String>) = match n {
                8 => ("SINTER", sa.intersection(&sb).cloned().collect()),
                9 => ("SUNION", sa.union(&sb).cloned().collect()),
                _ => ("SDIFF", sa.difference(&sb).cloned().collect()),
            };
            if rng.next(2) == 0 {
                let cmd = vec![name.to_string(), a, b2];
                let want: Vec<String> = result.into_iter().collect();
                assert_eq!(sorted_reply(h, &cmd), want, "{cmd:?}");
                return;
            }
            let len = result.len() as i64;
            if result.is_empty() {
                m.remove(&dst);
            } else {
                m.insert(dst.clone(), result);
            }
            (vec![format!("{name}STORE"), dst, a, b2], R::Int(len))
        }
    };
    let got = h.run(&cmd.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(got, want, "{cmd:?}");
}

#[test]
fn random_commands_agree_with_a_model() {
    for (seed, max_intset) in [(1u64, 512), (2, 4), (3, 0)] {
        let mut h = Harness::new();
        h.shard.conf.set_max_intset = max_intset;
        let mut m = Model::new();
        let mut rng = Rng::seeded(seed);
        for _ in 0..5_000 {
            step(&mut h, &mut m, &mut rng);
        }
        for (k, members) in &m {
            let want: Vec<String> = members.iter().cloned().collect();
            assert_eq!(sorted_reply(&mut h, &["SMEMBERS".into(), k.clone()]), want);
        }
        for k in ["k0", "k1", "k2", "k3"] {
            assert_eq!(exists(&h, k), m.contains_key(k), "{k}");
        }
    }
}
