//! The whole-keyspace commands: KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL and
//! SWAPDB. (Commands on the keys they name live in `keys.rs`.)
//!
//! Every handler sees one shard and answers this shard's part; the network
//! layer splits and merges them as each command's `Route` says. SCAN and
//! RANDOMKEY need it to pick the shard, so their shard parts are also
//! public: `scan_shard`, `random_key`.

use crate::args::Args;
use crate::cmd::int_arg;
use crate::cmd::keys::db_index;
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::reply::Out;
use crate::shard::{Ctx, Shard};
use crate::spec::{CommandSpec, Exec, Merge, Route};
use crate::table::{Entry, POS_END};

/// KEYS pattern: this shard's live keys in the selected database that match.
/// Expired keys are skipped, not deleted (a read-only scan, as in Redis).
fn keys(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let now = ctx.now();
    let found: Vec<&[u8]> = ctx.shard.dbs[ctx.db]
        .table
        .iter()
        .filter(|e| e.expire_at() == 0 || e.expire_at() > now)
        .filter(|e| all || glob_match(pattern, e.key(), false))
        .map(Entry::key)
        .collect();
    out.array(found.len());
    for key in found {
        out.bulk(key);
    }
    Ok(())
}

/// FLUSHDB's and FLUSHALL's only option: ASYNC or SYNC. Without one,
/// `lazyfree-lazy-user-flush` decides. True for ASYNC.
fn flush_is_async(ctx: &Ctx, args: &Args) -> Result<bool, CmdError> {
    match args.len() {
        1 => Ok(ctx.shard.mem.conf.lazy.user_flush),
        2 if args.is(1, "async") => Ok(true),
        2 if args.is(1, "sync") => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

/// Empties database `db` of this shard; counts the keys removed as changes.
/// ASYNC hands the old table to the lazy-free queue: the reply does not wait
/// for millions of frees, and the shard frees them in steps between passes.
fn flush_db(ctx: &mut Ctx, db: usize, lazy: bool) {
    let Shard { dbs, mem, .. } = &mut *ctx.shard;
    let db = &mut dbs[db];
    let removed = db.table.len() as u64;
    let old = std::mem::take(&mut db.table);
    if lazy {
        mem.lazy.free_table(old);
    }
    db.volatile = 0;
    ctx.dirty(removed);
}

fn flushdb(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    flush_db(ctx, ctx.db, lazy);
    out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let lazy = flush_is_async(ctx, args)?;
    for db in 0..ctx.shard.dbs.len() {
        flush_db(ctx, db, lazy);
    }
    out.ok();
    Ok(())
}

/// SWAPDB index1 index2: this shard's part. Connections keep their selected
/// index, so they see the other data from their next command on.
fn swapdb(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let a = db_index(ctx, args.get(1), Some("ERR invalid first DB index"))?;
    let b = db_index(ctx, args.get(2), Some("ERR invalid second DB index"))?;
    ctx.shard.dbs.swap(a, b);
    // One change for the whole server, as Redis counts it, not one per shard.
    if ctx.shard.id == 0 {
        ctx.dirty(1);
    }
    out.ok();
    Ok(())
}

/// SCAN's options. Owned, because they travel to the shards a scan visits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOpts {
    /// COUNT: how many entries to visit (not to return); 10 by default.
    pub count: usize,
    pub pattern: Option<Vec<u8>>,
    /// TYPE: a type name as TYPE reports it, compared without case.
    pub type_filter: Option<Vec<u8>>,
}

/// Parses a SCAN cursor as Redis does, with C's `strtoul`: an optional sign,
/// decimal digits and nothing else; '-' negates modulo 2^64 and the empty
/// string is 0. Anything else, or overflow, is "ERR invalid cursor".
pub fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = || CmdError::Static("ERR invalid cursor");
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() {
        return if arg.is_empty() {
            Ok(0)
        } else {
            Err(invalid())
        };
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(invalid());
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add((d - b'0') as u64))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { n.wrapping_neg() } else { n })
}

/// Parses the options of a SCAN-style command from `from_index` on (the
/// argument after the cursor): MATCH pattern, COUNT n (n ≥ 1), and TYPE name
/// when `allow_type` (SCAN has it; HSCAN, SSCAN and ZSCAN answer a syntax error).
pub fn parse_scan_opts(
    args: &Args,
    from_index: usize,
    allow_type: bool,
) -> Result<ScanOpts, CmdError> {
    let mut opts = ScanOpts {
        count: 10,
        pattern: None,
        type_filter: None,
    };
    let mut i = from_index;
    while i < args.len() {
        if i + 1 >= args.len() {
            return Err(CmdError::Syntax);
        }
        let val = args.get(i + 1);
        if args.is(i, "count") {
            opts.count = usize::try_from(int_arg(val)?)
                .ok()
                .filter(|&n| n >= 1)
                .ok_or(CmdError::Syntax)?;
        } else if args.is(i, "match") {
            opts.pattern = Some(val.to_vec());
        } else if args.is(i, "type") && allow_type {
            opts.type_filter = Some(val.to_vec());
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

/// SCAN's options (MATCH, COUNT, TYPE), from `from_index`: 2 for SCAN itself.
pub fn parse_scan_args(args: &Args, from_index: usize) -> Result<ScanOpts, CmdError> {
    parse_scan_opts(args, from_index, true)
}

/// One SCAN step over this shard's selected database: visits about `count`
/// entries from hash-space position `pos`, appends the live keys that match
/// `pattern` and `type_filter` to `out_keys`, and returns the next position
/// (`POS_END` when done). Expired keys met on the way are deleted, as Redis does.
pub fn scan_shard(
    ctx: &mut Ctx,
    pos: u64,
    count: usize,
    pattern: Option<&[u8]>,
    type_filter: Option<&[u8]>,
    out_keys: &mut Vec<Vec<u8>>,
) -> u64 {
    let now = ctx.now();
    let pattern = pattern.filter(|p| *p != b"*");
    let type_of = |e: &Entry| e.type_name().as_bytes();
    let mut expired = Vec::new();
    let next = ctx.shard.dbs[ctx.db].table.scan(pos, count, |e| {
        if pattern.is_some_and(|p| !glob_match(p, e.key(), false)) {
            return;
        }
        if e.expire_at() != 0 && e.expire_at() <= now {
            expired.push(e.key().to_vec());
        } else if type_filter.is_none_or(|t| t.eq_ignore_ascii_case(type_of(e))) {
            out_keys.push(e.key().to_vec());
        }
    });
    for key in expired {
        ctx.lookup(&key);
    }
    next
}

/// SCAN on one shard: the cursor is the table's hash-space position, "0"
/// when the walk is done. A multi-shard server routes SCAN itself, with
/// `parse_cursor`, `parse_scan_args` and `scan_shard`.
fn scan(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let cursor = parse_cursor(args.get(1))?;
    let opts = parse_scan_args(args, 2)?;
    let mut keys = Vec::new();
    let next = scan_shard(
        ctx,
        cursor,
        opts.count,
        opts.pattern.as_deref(),
        opts.type_filter.as_deref(),
        &mut keys,
    );
    out.array(2);
    out.bulk_int(if next >= POS_END { 0 } else { next as i64 });
    out.array(keys.len());
    for key in &keys {
        out.bulk(key);
    }
    Ok(())
}

/// A live key of this shard's selected database chosen at random, or None
/// when it has none. Expired keys drawn are deleted and the draw retried.
pub fn random_key(ctx: &mut Ctx) -> Option<Vec<u8>> {
    loop {
        let len = ctx.db().table.len();
        if len == 0 {
            return None;
        }
        let n = (ctx.shard.random() % len as u64) as usize;
        let now = ctx.now();
        let e = ctx.db().table.nth(n)?;
        let key = e.key().to_vec();
        if e.expire_at() == 0 || e.expire_at() > now {
            return Some(key);
        }
        ctx.lookup(&key);
    }
}

fn randomkey(ctx: &mut Ctx, _args: &Args, out: &mut Out) -> CmdResult {
    match random_key(ctx) {
        Some(key) => out.bulk(&key),
        None => out.null(),
    }
    Ok(())
}

const GENERIC: CommandSpec = CommandSpec {
    group: "generic",
    ..CommandSpec::DEFAULT
};

const FLUSH: CommandSpec = CommandSpec {
    arity: -1,
    flags: "write",
    acl: "keyspace write slow dangerous",
    route: Route::AllShards(Merge::AllOk),
    group: "server",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: "readonly",
        acl: "keyspace read slow dangerous",
        route: Route::AllShards(Merge::Concat),
        exec: Exec::Shard(keys),
        summary: "Returns all key names that match a pattern.",
        ..GENERIC
    },
    CommandSpec {
        name: "flushdb",
        exec: Exec::Shard(flushdb),
        summary: "Remove all keys from the current database.",
        ..FLUSH
    },
    CommandSpec {
        name: "flushall",
        exec: Exec::Shard(flushall),
        summary: "Removes all keys from all databases.",
        ..FLUSH
    },
    CommandSpec {
        name: "swapdb",
        arity: 3,
        flags: "write fast",
        acl: "keyspace write fast dangerous",
        route: Route::AllShards(Merge::AllOk),
        exec: Exec::Shard(swapdb),
        group: "server",
        summary: "Swaps two Redis databases.",
        since: "4.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "scan",
        arity: -2,
        flags: "readonly",
        acl: "keyspace read slow",
        route: Route::Cursor,
        exec: Exec::Shard(scan),
        summary: "Iterates over the key names in the database.",
        since: "2.8.0",
        ..GENERIC
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: "readonly",
        acl: "keyspace read slow",
        route: Route::AnyShard,
        exec: Exec::Shard(randomkey),
        summary: "Returns a random key name from the database.",
        ..GENERIC
    },
];

#[cfg(test)]
pub(crate) mod tests {
    use super::parse_cursor;
    use crate::testing::{Harness, R};

    fn err(text: &str) -> R {
        R::Err(text.into())
    }

    /// The bulk strings of an array reply, sorted.
    pub(crate) fn bulks(r: R) -> Vec<String> {
        let R::Arr(items) = r else {
            panic!("not an array: {r:?}")
        };
        let mut out: Vec<String> = items
            .into_iter()
            .map(|i| match i {
                R::Bulk(b) => String::from_utf8(b).unwrap(),
                other => panic!("not a bulk: {other:?}"),
            })
            .collect();
        out.sort();
        out
    }

    /// A harness with `n` keys `key:0`.. `key:{n-1}`.
    fn populated(n: usize) -> Harness {
        let mut h = Harness::new();
        for i in 0..n {
            h.run(&["SET", &format!("key:{i}"), "v"]);
        }
        h
    }

    #[test]
    fn nested_glob_regression_is_fast() {
        let mut h = Harness::new();
        h.run(&["SET", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1"]);
        let t = std::time::Instant::now();
        assert_eq!(
            h.run(&["KEYS", "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"]),
            R::Arr(vec![])
        );
        assert!(t.elapsed().as_secs() < 1, "{:?}", t.elapsed());
    }

    #[test]
    fn keys_matches_the_pattern_and_skips_expired_keys() {
        let mut h = Harness::new();
        for key in ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"] {
            h.run(&["SET", key, "hello"]);
        }
        assert_eq!(bulks(h.run(&["KEYS", "foo*"])), ["foo_a", "foo_b", "foo_c"]);
        assert_eq!(bulks(h.run(&["KEYS", "*"])).len(), 6);
        assert_eq!(bulks(h.run(&["KEYS", "key_[xy]"])), ["key_x", "key_y"]);
        h.run(&["PEXPIRE", "key_x", "1"]);
        h.advance(1);
        assert_eq!(bulks(h.run(&["KEYS", "key_*"])), ["key_y", "key_z"]);
        h.db = 1;
        assert_eq!(h.run(&["KEYS", "*"]), R::Arr(vec![]));
    }

    #[test]
    fn flushdb_and_flushall() {
        let mut h = populated(5);
        h.run(&["EXPIRE", "key:0", "100"]);
        h.db = 3;
        h.run(&["SET", "other", "x"]);
        let dirty = h.shard.stats.dirty;
        assert_eq!(h.run(&["FLUSHDB", "async"]), R::ok());
        assert_eq!(h.run(&["DBSIZE"]), R::Int(0));
        assert_eq!(h.shard.stats.dirty, dirty + 1);
        h.db = 0;
        assert_eq!(h.run(&["DBSIZE"]), R::Int(5));
        h.db = 3;
        h.run(&["SET", "other", "x"]);
        assert_eq!(h.run(&["FLUSHALL", "SYNC"]), R::ok());
        assert_eq!(h.shard.key_count(), 0);
        assert!(h.shard.dbs.iter().all(|d| d.volatile == 0));
        assert_eq!(h.run(&["FLUSHDB", "foo"]), err("ERR syntax error"));
        assert_eq!(h.run(&["FLUSHALL", "async", "x"]), err("ERR syntax error"));
        assert_eq!(h.run(&["FLUSHALL"]), R::ok());
    }

    #[test]
    fn swapdb_swaps_and_checks_its_indexes() {
        let mut h = Harness::new();
        h.run(&["SET", "a", "zero"]);
        h.db = 1;
        h.run(&["SET", "a", "one"]);
        h.run(&["EXPIRE", "a", "10"]);
        assert_eq!(h.run(&["SWAPDB", "0", "1"]), R::ok());
        assert_eq!(h.run(&["GET", "a"]), R::bulk("zero"));
        h.db = 0;
        assert_eq!(h.run(&["GET", "a"]), R::bulk("one"));
        assert_eq!(h.run(&["TTL", "a"]), R::Int(10));
        assert_eq!(h.run(&["SWAPDB", "0", "0"]), R::ok());
        let cases = [
            (["x", "0"], "ERR invalid first DB index"),
            (["0", "abc"], "ERR invalid second DB index"),
            (["0", "99999999999"], "ERR invalid second DB index"),
            (["0", "16"], "ERR DB index is out of range"),
            (["-1", "0"], "ERR DB index is out of range"),
        ];
        for ([a, b], text) in cases {
            assert_eq!(h.run(&["SWAPDB", a, b]), err(text), "{a} {b}");
        }
    }

    /// Runs a whole SCAN with extra arguments, returning every key seen.
    fn scan_all(h: &mut Harness, extra: &[&str]) -> Vec<String> {
        let mut cursor = "0".to_string();
        let mut keys = Vec::new();
        loop {
            let mut cmd = vec!["SCAN", &cursor];
            cmd.extend_from_slice(extra);
            let R::Arr(parts) = h.run(&cmd) else {
                panic!("SCAN answers an array")
            };
            let [R::Bulk(next), batch] = &parts[..] else {
                panic!("SCAN answers a cursor and a batch")
            };
            keys.extend(bulks(batch.clone()));
            cursor = String::from_utf8(next.clone()).unwrap();
            if cursor == "0" {
                return keys;
            }
        }
    }

    #[test]
    fn scan_visits_every_key_with_count_match_and_type() {
        let mut h = populated(1000);
        let mut all = scan_all(&mut h, &[]);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 1000);
        assert_eq!(scan_all(&mut h, &["COUNT", "5"]).len(), 1000);
        assert_eq!(scan_all(&mut h, &["MATCH", "key:1??"]).len(), 100);
        assert_eq!(scan_all(&mut h, &["TYPE", "list"]).len(), 0);
        assert_eq!(
            scan_all(&mut h, &["type", "STRING", "match", "key:*", "count", "10"]).len(),
            1000
        );
    }

    #[test]
    fn scan_keeps_its_guarantee_under_writes_and_drops_expired_keys() {
        let mut h = populated(100);
        h.run(&["PEXPIRE", "key:7", "1"]);
        h.advance(1);
        let mut cursor = "0".to_string();
        let mut seen = Vec::new();
        let mut extra = 0;
        loop {
            let R::Arr(parts) = h.run(&["SCAN", &cursor, "COUNT", "7"]) else {
                panic!()
            };
            let [R::Bulk(next), batch] = &parts[..] else {
                panic!()
            };
            seen.extend(bulks(batch.clone()));
            cursor = String::from_utf8(next.clone()).unwrap();
            if cursor == "0" {
                break;
            }
            for _ in 0..10 {
                h.run(&["SET", &format!("added:{extra}"), "x"]);
                extra += 1;
            }
        }
        seen.retain(|k| k.starts_with("key:"));
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 99);
        assert!(!seen.contains(&"key:7".to_string()));
        assert_eq!(h.shard.stats.expired_keys, 1);
    }

    #[test]
    fn scan_argument_errors() {
        let mut h = populated(3);
        let syntax = err("ERR syntax error");
        assert_eq!(h.run(&["SCAN", "0", "COUNT", "0"]), syntax);
        assert_eq!(h.run(&["SCAN", "0", "MATCH"]), syntax);
        assert_eq!(h.run(&["SCAN", "0", "foo", "bar"]), syntax);
        assert_eq!(
            h.run(&["SCAN", "0", "COUNT", "abc"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["SCAN", "abc", "COUNT", "0"]),
            err("ERR invalid cursor")
        );
        assert_eq!(scan_all(&mut h, &[]).len(), 3);
    }

    #[test]
    fn cursors_parse_like_strtoul() {
        assert_eq!(parse_cursor(b""), Ok(0));
        assert_eq!(parse_cursor(b"+5"), Ok(5));
        assert_eq!(parse_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551615"), Ok(u64::MAX));
        for bad in [
            &b"18446744073709551616"[..],
            b" 1",
            b"1 ",
            b"-",
            b"abc",
            b"1.5",
        ] {
            assert!(parse_cursor(bad).is_err(), "{bad:?}");
        }
        let mut h = populated(1);
        assert_eq!(
            h.run(&["SCAN", "-1"]),
            R::Arr(vec![R::bulk("0"), R::Arr(vec![])])
        );
    }

    #[test]
    fn parse_scan_opts_refuses_type_where_it_does_not_apply() {
        let args = crate::OwnedArgs::from_slices(&["HSCAN", "h", "0", "TYPE", "x"]);
        assert_eq!(
            super::parse_scan_opts(&args.args(), 3, false),
            Err(crate::CmdError::Syntax)
        );
        let opts = super::parse_scan_args(&args.args(), 3).unwrap();
        assert_eq!(opts.type_filter.as_deref(), Some(&b"x"[..]));
        assert_eq!(opts.count, 10);
    }

    #[test]
    fn randomkey_returns_live_keys_only() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["RANDOMKEY"]), R::Nil);
        h.run(&["SET", "foo", "x"]);
        h.run(&["SET", "bar", "y"]);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..100 {
            let R::Bulk(k) = h.run(&["RANDOMKEY"]) else {
                panic!()
            };
            seen.insert(k);
        }
        assert_eq!(seen.len(), 2);
        h.run(&["PEXPIRE", "foo", "1"]);
        h.run(&["PEXPIRE", "bar", "1"]);
        h.advance(1);
        assert_eq!(h.run(&["RANDOMKEY"]), R::Nil);
        assert_eq!(h.shard.dbs[0].table.len(), 0);
        h.run(&["SET", "x", "10"]);
        h.run(&["DEL", "x"]);
        assert_eq!(h.run(&["RANDOMKEY"]), R::Nil);
    }
}
