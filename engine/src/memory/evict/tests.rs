//! Each policy's choice, with injected time and access counts; the meter
//! is the test thread's own allocation count (`testing::counting`).

use super::time_limit;
use crate::memory::{lfu, Policy};
use crate::testing::{Harness, R};
use std::time::Duration;

const VALUE: usize = 1000;

/// A harness under `policy` that sees every key in each sample, so the
/// approximate policies choose exactly, with keys k0..k(n-1) set one
/// second apart (k0 the oldest).
fn filled(policy: Policy, n: usize) -> Harness {
    let mut h = Harness::new();
    h.shard.mem.conf.policy = policy;
    h.shard.mem.conf.samples = 10_000;
    let v = "v".repeat(VALUE);
    for i in 0..n {
        assert_eq!(h.run(&["SET", &format!("k{i}"), &v]), R::ok());
        h.advance(1000);
    }
    h
}

/// Sets the budget just under what is held now: the next denyoom command
/// must evict first (a few keys: the command's own arguments, made by the
/// harness before it runs, count too, as a connection's buffer does).
fn squeeze(h: &mut Harness) {
    let used = h.shard.mem.used();
    h.shard.mem.set_budget(used - 1);
}

fn present(h: &mut Harness, n: usize) -> Vec<usize> {
    (0..n)
        .filter(|i| h.run(&["EXISTS", &format!("k{i}")]) == R::Int(1))
        .collect()
}

/// The keys of k0..k(n-1) that are gone, in the order `order` lists them.
fn gone_in(h: &mut Harness, n: usize, order: &[usize]) -> Vec<usize> {
    let left = present(h, n);
    order
        .iter()
        .copied()
        .filter(|i| !left.contains(i))
        .collect()
}

fn set_new(h: &mut Harness, key: &str) -> R {
    h.run(&["SET", key, &"w".repeat(VALUE)])
}

const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";

#[test]
fn allkeys_lru_evicts_the_least_recently_used() {
    let mut h = filled(Policy::AllkeysLru, 20);
    // Reading k0 makes it the most recent: k1 is the idlest.
    h.run(&["GET", "k0"]);
    let order: Vec<usize> = (1..20).chain([0]).collect();
    squeeze(&mut h);
    assert_eq!(set_new(&mut h, "new1"), R::ok());
    let n = h.shard.stats.evicted_keys as usize;
    assert!((1..=4).contains(&n), "{n} evicted");
    assert_eq!(gone_in(&mut h, 20, &order), order[..n]);
    squeeze(&mut h);
    set_new(&mut h, "new2");
    let n = h.shard.stats.evicted_keys as usize;
    assert_eq!(gone_in(&mut h, 20, &order), order[..n]);
}

#[test]
fn allkeys_lfu_evicts_the_least_frequently_used() {
    let mut h = filled(Policy::AllkeysLfu, 10);
    let now_min = lfu::minutes(h.shard.now_ms);
    for i in 0..10u32 {
        let e = h.shard.dbs[0].table.get_mut(format!("k{i}").as_bytes());
        // k7 is the rarest; the rest have been read more, k9 the most.
        let counter = if i == 7 { 2 } else { 20 + i };
        e.unwrap().set_lru((now_min << 8) | counter);
    }
    let order = [7, 0, 1, 2, 3, 4, 5, 6, 8, 9];
    squeeze(&mut h);
    set_new(&mut h, "new");
    let n = h.shard.stats.evicted_keys as usize;
    assert!(n >= 1);
    assert_eq!(gone_in(&mut h, 10, &order), order[..n]);
    // A counter decays with idle time: after 30 minutes k9's 29 is 0.
    h.advance(30 * 60_000);
    assert_eq!(h.run(&["OBJECT", "FREQ", "k9"]), R::Int(0));
}

#[test]
fn volatile_ttl_evicts_the_soonest_to_expire_and_never_a_persistent_key() {
    let mut h = filled(Policy::VolatileTtl, 12);
    for (key, ttl) in [("k4", "400"), ("k2", "200"), ("k9", "900"), ("k5", "500")] {
        h.run(&["EXPIRE", key, ttl]);
    }
    let order = [2, 4, 5, 9];
    squeeze(&mut h);
    set_new(&mut h, "a");
    let n = h.shard.stats.evicted_keys as usize;
    assert_eq!(gone_in(&mut h, 12, &order), order[..n]);
    // Once nothing with an expiry is left, writes are refused; reads and
    // deletes are still served, and no persistent key was touched.
    let mut refused = false;
    for _ in 0..4 {
        squeeze(&mut h);
        refused = set_new(&mut h, "b") == R::Err(OOM.into());
    }
    assert!(refused);
    assert_eq!(present(&mut h, 12), vec![0, 1, 3, 6, 7, 8, 10, 11]);
    assert_eq!(h.run(&["GET", "k0"]), R::bulk(&"v".repeat(VALUE)));
    assert_eq!(h.run(&["DEL", "k0"]), R::Int(1));
    assert_eq!(h.shard.stats.evicted_keys, 4);
}

#[test]
fn volatile_policies_take_only_keys_with_an_expiry() {
    for policy in [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
    ] {
        let mut h = filled(policy, 12);
        for key in ["k1", "k3", "k6", "k10"] {
            h.run(&["EXPIRE", key, "1000"]);
        }
        squeeze(&mut h);
        assert_eq!(set_new(&mut h, "x"), R::ok(), "{policy:?}");
        let mut refused = false;
        for _ in 0..4 {
            squeeze(&mut h);
            refused = set_new(&mut h, "y") == R::Err(OOM.into());
        }
        assert!(refused, "{policy:?}");
        assert_eq!(
            present(&mut h, 12),
            vec![0, 2, 4, 5, 7, 8, 9, 11],
            "{policy:?}"
        );
        assert_eq!(h.shard.dbs[0].volatile, 0);
        assert_eq!(h.shard.stats.evicted_keys, 4);
    }
}

#[test]
fn allkeys_random_evicts_until_within_budget() {
    let mut h = filled(Policy::AllkeysRandom, 50);
    // Room for about 40 keys: the next write evicts about ten.
    let used = h.shard.mem.used();
    h.shard.mem.set_budget(used - 10 * VALUE as u64);
    assert_eq!(set_new(&mut h, "new"), R::ok());
    let left = present(&mut h, 50).len();
    assert!((35..=40).contains(&left), "{left} keys left");
    assert_eq!(h.shard.stats.evicted_keys, 50 - left as u64);
}

#[test]
fn noeviction_refuses_writes_and_serves_reads_and_deletes() {
    let mut h = filled(Policy::NoEviction, 10);
    squeeze(&mut h);
    assert_eq!(set_new(&mut h, "x"), R::Err(OOM.into()));
    assert_eq!(h.run(&["APPEND", "k0", "more"]), R::Err(OOM.into()));
    assert_eq!(h.run(&["STRLEN", "k0"]), R::Int(VALUE as i64));
    assert_eq!(h.run(&["DEL", "k1", "k2", "k3", "k4", "k5"]), R::Int(5));
    assert_eq!(h.shard.stats.evicted_keys, 0);
    let set = h.shard.registry.lookup(b"set").unwrap();
    assert_eq!(h.shard.cmd_stats[set as usize].rejected_calls, 1);
    assert_eq!(h.shard.cmd_stats[set as usize].calls, 10);
    assert_eq!(h.shard.err_stats.get("OOM"), Some(&2));
    // Deleting made room again.
    assert_eq!(set_new(&mut h, "y"), R::ok());
}

#[test]
fn a_lower_budget_is_reached_in_steps_by_the_housework() {
    let mut h = filled(Policy::AllkeysLru, 200);
    let used = h.shard.mem.used();
    h.run(&["SET", "probe", &"v".repeat(VALUE)]);
    let per_key = h.shard.mem.used() - used;
    h.run(&["DEL", "probe"]);
    h.shard.mem.set_budget(used - 100 * per_key);
    assert!(h.shard.housework_pending());
    while h.shard.housework(Duration::from_millis(1)) {}
    assert!(!h.shard.mem.over());
    let left = present(&mut h, 200);
    assert!((95..=101).contains(&left.len()), "{} left", left.len());
    // The oldest went: what is left is the most recent.
    assert_eq!(left, (200 - left.len()..200).collect::<Vec<_>>());
}

#[test]
fn the_tenacity_bounds_each_commands_eviction_time() {
    assert_eq!(time_limit(0), Some(Duration::ZERO));
    assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
    assert_eq!(time_limit(11), Some(Duration::from_micros(575)));
    assert!(time_limit(99).unwrap() > Duration::from_secs(60));
    assert_eq!(time_limit(100), None);
}

#[test]
fn unlink_of_a_large_value_returns_at_once_and_frees_in_steps() {
    let mut h = Harness::new();
    let big = 40 << 20;
    h.run(&["SETRANGE", "big", &(big - 1).to_string(), "x"]);
    let held = h.shard.mem.used();
    assert!(held > big as u64);
    assert_eq!(h.run(&["UNLINK", "big"]), R::Int(1));
    assert_eq!(h.run(&["EXISTS", "big"]), R::Int(0));
    assert_eq!(h.shard.mem.lazy.pending_objects(), 1);
    assert!(h.shard.mem.used() > big as u64, "not freed yet");
    let mut steps = 0;
    while h.shard.housework(Duration::from_micros(100)) {
        steps += 1;
    }
    assert!(steps > 1, "freed in {steps} steps");
    assert_eq!(h.shard.mem.lazy.pending_objects(), 0);
    assert_eq!(h.shard.mem.lazy.freed_objects, 1);
    assert!(h.shard.mem.used() < held - big as u64 + (1 << 20));
}

#[test]
fn flushall_async_empties_at_once_and_frees_in_steps() {
    let mut h = Harness::new();
    for i in 0..20_000 {
        h.run(&["SET", &format!("key:{i}"), "value"]);
    }
    h.db = 3;
    h.run(&["SET", "other", "1"]);
    let held = h.shard.mem.used();
    assert_eq!(h.run(&["FLUSHALL", "ASYNC"]), R::ok());
    assert_eq!(h.run(&["DBSIZE"]), R::Int(0));
    h.db = 0;
    assert_eq!(h.run(&["DBSIZE"]), R::Int(0));
    // The one-key database went at once; the large one waits.
    assert_eq!(h.shard.mem.lazy.pending_objects(), 20_000);
    while h.shard.housework(Duration::from_micros(200)) {}
    assert_eq!(h.shard.mem.lazy.pending_objects(), 0);
    assert_eq!(h.shard.mem.lazy.freed_objects, 20_000);
    assert!(h.shard.mem.used() < held / 4);
    // Without ASYNC, lazyfree-lazy-user-flush decides.
    h.run(&["SET", "k", "v"]);
    h.shard.mem.conf.lazy.user_flush = true;
    assert_eq!(h.run(&["FLUSHDB"]), R::ok());
    assert_eq!(h.run(&["FLUSHDB", "SYNC"]), R::ok());
    assert!(h.run(&["FLUSHDB", "LATER"]).is_err());
}

#[test]
fn lazy_eviction_counts_queued_bytes_as_freed() {
    let mut h = Harness::new();
    h.shard.mem.conf.policy = Policy::AllkeysLru;
    h.shard.mem.conf.lazy.eviction = true;
    let big = 16 << 20;
    h.run(&["SETRANGE", "big", &(big - 1).to_string(), "x"]);
    h.advance(5000);
    h.run(&["SET", "small", "v"]);
    squeeze(&mut h);
    assert_eq!(h.run(&["SET", "another", "v"]), R::ok());
    assert_eq!(h.run(&["EXISTS", "big"]), R::Int(0));
    assert_eq!(
        h.run(&["EXISTS", "small"]),
        R::Int(1),
        "one eviction was enough"
    );
    assert_eq!(h.shard.mem.lazy.pending_objects(), 1);
    while h.shard.housework(Duration::from_millis(1)) {}
    assert!(!h.shard.mem.over());
}

#[test]
fn a_sample_finds_every_key_when_allowed_to_look_everywhere() {
    let mut h = Harness::new();
    for i in 0..5000 {
        h.run(&["SET", &format!("key:{i}"), "v"]);
    }
    let table = &h.shard.dbs[0].table;
    for r in [0u64, 7, u64::MAX, 0x1234_5678_9abc_def0] {
        let mut seen = std::collections::HashSet::new();
        table.sample(r, usize::MAX, |e| seen.insert(e.key().to_vec()));
        assert_eq!(seen.len(), 5000);
        let mut n = 0;
        table.sample(r, 100, |_| {
            n += 1;
            true
        });
        assert!(n <= 100 && n > 50, "{n} entries in 100 slots");
    }
    crate::table::Table::new().sample(3, 10, |_| panic!("empty"));
}

#[test]
fn unlink_of_a_large_set_frees_it_in_steps() {
    let mut h = Harness::new();
    for i in 0..200 {
        let members: Vec<String> = (0..100).map(|j| format!("m{i}:{j}")).collect();
        let mut args = vec!["SADD", "big"];
        args.extend(members.iter().map(String::as_str));
        h.run(&args);
    }
    h.run(&["SADD", "small", "a", "b"]);
    assert_eq!(h.run(&["UNLINK", "big", "small"]), R::Int(2));
    assert_eq!(
        h.shard.mem.lazy.pending_objects(),
        1,
        "only the large set waits"
    );
    let mut steps = 0;
    while h.shard.housework(Duration::from_micros(20)) {
        steps += 1;
    }
    assert!(steps > 1, "{steps} steps");
    assert_eq!(h.shard.mem.lazy.freed_objects, 1);
    assert_eq!(h.shard.mem.lazy.pending_bytes, 0);
}

#[test]
fn a_few_keys_left_in_a_large_table_are_still_found() {
    let mut h = filled(Policy::AllkeysLru, 3000);
    for i in 0..2998 {
        h.run(&["DEL", &format!("k{i}")]);
    }
    // Samples of 5 rarely land on one of two keys in thousands of slots.
    h.shard.mem.conf.samples = 1;
    for _ in 0..2 {
        assert!(h.shard.evict_one());
    }
    assert!(!h.shard.evict_one(), "nothing left");
    assert_eq!(h.run(&["DBSIZE"]), R::Int(0));
}
