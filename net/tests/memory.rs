//! Memory limits through the real server: a fill far past `maxmemory`
//! stays inside it, a hot shard borrows budget from a cold one, the
//! shards' meters add up to the allocator's figure, noeviction's OOM error,
//! UNLINK and FLUSHALL ASYNC, and MEMORY.

mod common;

use common::{query, query_err, Server};
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn info(con: &mut redis::Connection, section: &str) -> HashMap<String, String> {
    let text: String = query(con, &["INFO", section]);
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn num(map: &HashMap<String, String>, key: &str) -> u64 {
    map[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}: {}", map[key]))
}

/// `shardN:used_memory=..,budget=..,...` as a map of each field.
fn shard_line(map: &HashMap<String, String>, shard: usize) -> HashMap<String, u64> {
    map[&format!("shard{shard}")]
        .split(',')
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.parse().unwrap()))
        .collect()
}

/// Writes `n` values of `size` bytes under `prefix`, pipelined.
fn fill(con: &mut redis::Connection, prefix: &str, n: usize, size: usize) {
    let value = vec![b'x'; size];
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("SET")
                .arg(format!("{prefix}{i}"))
                .arg(&value[..])
                .ignore();
        }
        let _: () = pipe.query(con).unwrap();
    }
}

const LIMIT: u64 = 24 << 20;

#[test]
fn a_fill_behind_one_tag_stays_within_maxmemory_by_borrowing() {
    let server = Server::start(
        2,
        &["--maxmemory", "24mb", "--maxmemory-policy", "allkeys-lru"],
    );
    let mut con = server.client();
    // 96 MB of values, every key on the shard that owns {hot}.
    let start = Instant::now();
    let mut worst = 0;
    for round in 0..8 {
        fill(&mut con, &format!("{{hot}}:{round}:"), 12_000, 1000);
        worst = worst.max(num(&info(&mut con, "memory"), "used_memory"));
    }
    let stats = info(&mut con, "all");
    let evicted = num(&stats, "evicted_keys");
    let keys: u64 = query(&mut con, &["DBSIZE"]);
    assert!(evicted > 60_000, "{evicted} evicted");
    assert_eq!(
        keys + evicted,
        96_000,
        "errors: {:?} shards: {:?} {:?}",
        stats.get("errorstat_OOM"),
        stats.get("shard0"),
        stats.get("shard1")
    );
    // The used figure stays within the limit (and a margin for what one
    // pipeline's replies and buffers hold at the moment INFO looks).
    assert!(worst <= LIMIT + (1 << 20), "used_memory reached {worst}");
    // The hot shard holds nearly all of it: it borrowed the cold shard's
    // budget (an even split would have kept it near 12 MB).
    let hot = (0..2)
        .map(|s| shard_line(&stats, s))
        .max_by_key(|l| l["keys"])
        .unwrap();
    assert!(
        hot["budget"] > LIMIT * 3 / 4,
        "hot shard's budget {} after {:?}",
        hot["budget"],
        start.elapsed()
    );
    assert!(keys > 15_000, "{keys} keys kept");
}

#[test]
fn the_shards_meters_add_up_to_the_allocators_figure() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    fill(&mut con, "k:", 20_000, 500);
    let stats = info(&mut con, "all");
    let allocated = num(&stats, "used_memory");
    let shards: u64 = (0..2).map(|s| shard_line(&stats, s)["used_memory"]).sum();
    // The rest is the threads that are not shards (start-up, the allocator's
    // own caches): small beside 10 MB of data, never negative.
    assert!(shards <= allocated, "{shards} > {allocated}");
    assert!(
        allocated - shards < allocated / 5,
        "shards {shards} of {allocated}"
    );
    assert!(shards > 10_000_000);
}

#[test]
fn noeviction_refuses_writes_with_redis_text_and_serves_reads_and_deletes() {
    let server = Server::start(1, &["--maxmemory", "8mb"]);
    let mut con = server.client();
    let value = vec![b'x'; 1000];
    let mut refused = None;
    for i in 0..20_000 {
        let r: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(&value[..])
            .query(&mut con);
        if let Err(e) = r {
            refused = Some(common::err_text(&e));
            break;
        }
    }
    assert_eq!(
        refused.as_deref(),
        Some("OOM command not allowed when used memory > 'maxmemory'.")
    );
    assert_eq!(query::<Vec<u8>>(&mut con, &["GET", "k0"]), value);
    assert_eq!(query::<i64>(&mut con, &["DEL", "k0", "k1"]), 2);
    let stats = info(&mut con, "all");
    assert_eq!(num(&stats, "evicted_keys"), 0);
    assert!(stats["errorstat_OOM"].starts_with("count="));
    assert_eq!(
        query_err(&mut con, &["CONFIG", "SET", "maxmemory-policy", "nope"])
            .split(" - ")
            .next(),
        Some("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')")
    );
    // Lowering the limit below what is held, under an evicting policy,
    // evicts down to it in steps.
    let _: () = query(
        &mut con,
        &["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
    );
    let _: () = query(&mut con, &["CONFIG", "SET", "maxmemory", "4mb"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while num(&info(&mut con, "memory"), "used_memory") > 4 << 20 {
        assert!(Instant::now() < deadline, "still over 4 MB");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(num(&info(&mut con, "stats"), "evicted_keys") > 0);
}

#[test]
fn unlink_and_flushall_async_return_at_once_and_free_in_steps() {
    let server = Server::start(1, &[]);
    let mut con = server.client();
    let _: () = query(
        &mut con,
        &["SETRANGE", "big", &((64 << 20) - 1).to_string(), "x"],
    );
    fill(&mut con, "k:", 50_000, 100);
    let t = Instant::now();
    assert_eq!(query::<i64>(&mut con, &["UNLINK", "big"]), 1);
    let _: () = query(&mut con, &["FLUSHALL", "ASYNC"]);
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    assert_eq!(query::<i64>(&mut con, &["DBSIZE"]), 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let m = info(&mut con, "memory");
        if num(&m, "lazyfree_pending_objects") == 0 {
            assert_eq!(num(&m, "lazyfreed_objects"), 50_001);
            assert!(num(&m, "used_memory") < 32 << 20);
            break;
        }
        assert!(Instant::now() < deadline, "lazy free did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn memory_subcommands() {
    let server = Server::start(2, &[]);
    let mut con = server.client();
    let _: () = query(&mut con, &["SET", "a", &"v".repeat(5000)]);
    let usage: i64 = query(&mut con, &["MEMORY", "USAGE", "a"]);
    assert!((5000..6000).contains(&usage), "{usage}");
    let _: () = query(&mut con, &["SET", "b", "1"]);
    let small: i64 = query(&mut con, &["MEMORY", "USAGE", "b", "SAMPLES", "0"]);
    assert!(small < 64, "{small}");
    assert_eq!(
        query::<Option<i64>>(&mut con, &["MEMORY", "USAGE", "none"]),
        None
    );
    assert_eq!(
        query_err(&mut con, &["MEMORY", "USAGE", "a", "SAMPLES"]),
        "ERR syntax error"
    );
    let stats: Vec<redis::Value> = query(&mut con, &["MEMORY", "STATS"]);
    let names: Vec<String> = stats
        .iter()
        .step_by(2)
        .map(|v| redis::from_redis_value(v).unwrap())
        .collect();
    for want in [
        "peak.allocated",
        "total.allocated",
        "keys.count",
        "dataset.bytes",
        "db.0",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} in {names:?}");
    }
    let doctor: String = query(&mut con, &["MEMORY", "DOCTOR"]);
    assert!(doctor.starts_with("Hi Sam"), "{doctor}");
    let malloc: String = query(&mut con, &["MEMORY", "MALLOC-STATS"]);
    assert!(
        malloc.contains("jemalloc"),
        "{}",
        &malloc[..100.min(malloc.len())]
    );
    let _: () = query(&mut con, &["MEMORY", "PURGE"]);
    assert_eq!(
        query_err(&mut con, &["MEMORY", "NOPE"]),
        "ERR unknown subcommand or wrong number of arguments for 'NOPE'. Try MEMORY HELP."
    );
    let help: Vec<String> = query(&mut con, &["MEMORY", "HELP"]);
    assert!(help[0].starts_with("MEMORY <subcommand>"));
    let m = info(&mut con, "memory");
    for field in [
        "used_memory",
        "used_memory_rss",
        "used_memory_peak",
        "used_memory_dataset",
        "maxmemory",
        "allocator_allocated",
        "mem_fragmentation_ratio",
        "lazyfree_pending_objects",
    ] {
        assert!(m.contains_key(field), "{field}");
    }
    assert!(num(&m, "used_memory_peak") >= num(&m, "used_memory"));
}
