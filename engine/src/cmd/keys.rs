//! The keyspace family: DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX,
//! COPY, MOVE, OBJECT, KEYS, FLUSHDB, FLUSHALL, SWAPDB, SCAN and RANDOMKEY.
//! (Expiry commands live in `expire.rs`.)
//!
//! Every handler sees one shard. Multi-key and whole-keyspace commands are
//! this shard's part of the answer; the network layer splits and merges them
//! as each command's `Route` says. SCAN and RANDOMKEY need it to pick the
//! shard, so their shard parts are also public: `scan_shard`, `random_key`.

use crate::args::Args;
use crate::cmd::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};
use crate::table::{Entry, POS_END};
use crate::value::{parse_i64, StrVal, Value};

impl Ctx<'_> {
    /// Redis's `lookupKeyReadWithFlags(LOOKUP_NOTOUCH)`: a read that counts a
    /// keyspace hit or miss but leaves the key's LRU clock alone, so TYPE,
    /// EXISTS, TTL and OBJECT can inspect a key without making it look used.
    pub(crate) fn lookup_notouch(&mut self, key: &[u8]) -> Option<&Entry> {
        // Two probes: `lookup` does the lazy expiry, but its borrow of the whole
        // context would keep the stats counter out of reach.
        let found = self.lookup(key).is_some();
        let stats = &mut self.shard.stats;
        if found {
            stats.keyspace_hits += 1;
        } else {
            stats.keyspace_misses += 1;
            return None;
        }
        self.shard.dbs[self.db].table.get(key)
    }

    /// Whether `key` exists in database `db` (expiring it there if its time has come).
    fn exists_in(&mut self, db: usize, key: &[u8]) -> bool {
        let home = std::mem::replace(&mut self.db, db);
        let found = self.exists(key);
        self.db = home;
        found
    }
}

/// DEL and UNLINK. UNLINK frees synchronously too: the engine has no
/// background thread to hand a large value to.
fn del(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let mut n = 0;
    for key in args.iter().skip(1) {
        n += ctx.delete(key) as i64;
    }
    ctx.dirty(n as u64);
    out.int(n);
    Ok(())
}

/// EXISTS key...: a key named twice is counted twice.
fn exists(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let n = args
        .iter()
        .skip(1)
        .filter(|key| ctx.lookup_notouch(key).is_some())
        .count();
    out.int(n as i64);
    Ok(())
}

/// TOUCH key...: a read of each key, which is what refreshes its LRU clock.
fn touch(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let n = args
        .iter()
        .skip(1)
        .filter(|key| ctx.read(key).is_some())
        .count();
    out.int(n as i64);
    Ok(())
}

fn type_(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let name = ctx
        .lookup_notouch(args.get(1))
        .map_or("none", |e| e.val.type_name());
    out.simple(name);
    Ok(())
}

/// RENAME and RENAMENX. The value moves with its expiry and its LRU clock;
/// renaming a key to itself checks that it exists and changes nothing.
fn rename_generic(ctx: &mut Ctx, args: &Args, out: &mut Out, nx: bool) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    // RENAME answers OK whatever happens; RENAMENX 1 when it renamed, else 0.
    let reply = |out: &mut Out, renamed: bool| {
        if nx {
            out.int(renamed as i64)
        } else {
            out.ok()
        }
    };
    if !ctx.exists(src) {
        return Err(CmdError::NoSuchKey);
    }
    if src == dst || (nx && ctx.exists(dst)) {
        reply(out, false);
        return Ok(());
    }
    let mut entry = ctx.take(src).expect("checked above");
    entry.key = dst.into();
    ctx.put_entry(ctx.db, entry);
    ctx.dirty(1);
    reply(out, true);
    Ok(())
}

fn rename(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    rename_generic(ctx, args, out, false)
}

fn renamenx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    rename_generic(ctx, args, out, true)
}

const SAME_OBJECT: CmdError = CmdError::Static("ERR source and destination objects are the same");

/// Parses a database index as Redis's `getIntFromObjectOrReply` then
/// `selectDb` do: `bad` replaces both of the former's texts when given.
fn db_index(ctx: &Ctx, arg: &[u8], bad: Option<&'static str>) -> Result<usize, CmdError> {
    let n = parse_i64(arg).ok_or(bad.map_or(CmdError::NotInteger, CmdError::Static))?;
    const NOT_INT32: &str =
        "ERR value is out of range, value must between -2147483648 and 2147483647";
    let n = i32::try_from(n).map_err(|_| CmdError::Static(bad.unwrap_or(NOT_INT32)))?;
    usize::try_from(n)
        .ok()
        .filter(|&i| i < ctx.shard.dbs.len())
        .ok_or(CmdError::Static("ERR DB index is out of range"))
}

/// MOVE key db: 1 when moved, 0 when the key is missing here or present there.
fn move_(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let dst = db_index(ctx, args.get(2), None)?;
    if dst == ctx.db {
        return Err(SAME_OBJECT);
    }
    if !ctx.exists(key) || ctx.exists_in(dst, key) {
        out.int(0);
        return Ok(());
    }
    let entry = ctx.take(key).expect("checked above");
    ctx.put_entry(dst, entry);
    ctx.dirty(1);
    out.int(1);
    Ok(())
}

/// COPY source destination [DB index] [REPLACE]: the copy keeps the expiry
/// and starts a fresh LRU clock, as a newly created value does in Redis.
fn copy(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    let mut dst_db = ctx.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if args.is(i, "replace") {
            replace = true;
        } else if args.is(i, "db") && i + 1 < args.len() {
            dst_db = db_index(ctx, args.get(i + 1), None)?;
            i += 1;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 1;
    }
    if dst_db == ctx.db && src == dst {
        return Err(SAME_OBJECT);
    }
    let Some(e) = ctx.read(src) else {
        out.int(0);
        return Ok(());
    };
    let (val, expire_at) = (e.val.clone(), e.expire_at);
    if !replace && ctx.exists_in(dst_db, dst) {
        out.int(0);
        return Ok(());
    }
    let lru = ctx.shard.lru_clock();
    let entry = Entry {
        key: dst.into(),
        val,
        expire_at,
        lru,
    };
    ctx.put_entry(dst_db, entry);
    ctx.dirty(1);
    out.int(1);
    Ok(())
}

const OBJECT_HELP: &[&str] = &[
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
];

const LFU_SELECTED: &str = "ERR An LFU maxmemory policy is selected, idle time not tracked. \
    Please note that when switching between policies at runtime LRU and LFU data will take some \
    time to adjust.";
const LFU_NOT_SELECTED: &str = "ERR An LFU maxmemory policy is not selected, access frequency \
    not tracked. Please note that when switching between policies at runtime LRU and LFU data will \
    take some time to adjust.";

/// Redis's `addReplyHelp`: a title naming the command as sent, the lines, then HELP's own.
fn help_reply(out: &mut Out, cmd: &[u8], lines: &[&str]) {
    let cmd = String::from_utf8_lossy(cmd).to_uppercase();
    out.array(lines.len() + 3);
    out.simple(&format!(
        "{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    ));
    for line in lines {
        out.simple(line);
    }
    out.simple("HELP");
    out.simple("    Prints this help.");
}

/// Redis's LRU clock wraps at 24 bits.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

/// Seconds since `lru`, across one wrap of the clock (Redis's estimateObjectIdleTime).
fn idle_seconds(lru: u32, clock: u32) -> u32 {
    if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    }
}

/// OBJECT FREQ's counter, decayed by one per idle minute (Redis's
/// LFUDecrAndReturn with the default lfu-decay-time of 1). Under an LFU
/// policy the entry's `lru` field holds Redis's layout: the last decrement
/// time in minutes (16 bits) above an 8-bit logarithmic counter.
fn lfu_counter(lru: u32, now_ms: u64) -> u32 {
    let (ldt, counter) = (lru >> 8, lru & 0xFF);
    let now_min = ((now_ms / 60_000) & 0xFFFF) as u32;
    let elapsed = if now_min >= ldt {
        now_min - ldt
    } else {
        0xFFFF - ldt + now_min
    };
    counter.saturating_sub(elapsed)
}

/// OBJECT REFCOUNT. Values are never shared here, but Redis shares the
/// integers 0..10000 (reporting INT_MAX) unless an LRU/LFU policy needs
/// per-key clocks; clients and tests look for that, so it is reported alike.
/// Only LFU is visible to a shard, so an LRU policy still reports shared.
fn refcount(val: &Value, lfu: bool) -> i64 {
    match val {
        Value::Str(StrVal::Int(n)) if (0..10_000).contains(n) && !lfu => i32::MAX as i64,
        _ => 1,
    }
}

/// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT key, and OBJECT HELP. The
/// lookup leaves the key's LRU clock alone; a missing key answers nil.
fn object(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let sub = args.get(1).to_ascii_lowercase();
    let (name, argc) = match sub.as_slice() {
        b"help" => ("help", 2),
        b"encoding" => ("encoding", 3),
        b"freq" => ("freq", 3),
        b"idletime" => ("idletime", 3),
        b"refcount" => ("refcount", 3),
        _ => {
            return Err(CmdError::UnknownSubcommand {
                sub: String::from_utf8_lossy(args.get(1))
                    .chars()
                    .take(128)
                    .collect(),
                cmd: String::from_utf8_lossy(args.get(0)).to_uppercase(),
            })
        }
    };
    if args.len() != argc {
        return Err(CmdError::Arity(format!("object|{name}")));
    }
    if name == "help" {
        help_reply(out, args.get(0), OBJECT_HELP);
        return Ok(());
    }
    let (lfu, clock, now) = (ctx.shard.conf.lfu, ctx.shard.lru_clock(), ctx.now());
    let Some(e) = ctx.lookup_notouch(args.get(2)) else {
        out.null();
        return Ok(());
    };
    match name {
        "encoding" => out.bulk_str(e.val.encoding()),
        "refcount" => out.int(refcount(&e.val, lfu)),
        "idletime" if lfu => return Err(CmdError::Static(LFU_SELECTED)),
        "idletime" => out.int(idle_seconds(e.lru, clock) as i64),
        _ if !lfu => return Err(CmdError::Static(LFU_NOT_SELECTED)),
        _ => out.int(lfu_counter(e.lru, now) as i64),
    }
    Ok(())
}

/// KEYS pattern: this shard's live keys in the selected database that match.
/// Expired keys are skipped, not deleted (a read-only scan, as in Redis).
fn keys(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let pattern = args.get(1);
    let all = pattern == b"*";
    let now = ctx.now();
    let found: Vec<&[u8]> = ctx.shard.dbs[ctx.db]
        .table
        .iter()
        .filter(|e| e.expire_at == 0 || e.expire_at > now)
        .filter(|e| all || glob_match(pattern, &e.key, false))
        .map(|e| &*e.key)
        .collect();
    out.array(found.len());
    for key in found {
        out.bulk(key);
    }
    Ok(())
}

/// FLUSHDB's and FLUSHALL's only option: ASYNC or SYNC. Both free at once, for
/// the same reason as UNLINK.
fn check_flush_args(args: &Args) -> CmdResult {
    match args.len() {
        1 => Ok(()),
        2 if args.is(1, "async") || args.is(1, "sync") => Ok(()),
        _ => Err(CmdError::Syntax),
    }
}

/// Empties database `db` of this shard; counts the keys removed as changes.
fn flush_db(ctx: &mut Ctx, db: usize) {
    let db = &mut ctx.shard.dbs[db];
    let removed = db.table.len() as u64;
    db.table.clear();
    db.volatile = 0;
    ctx.dirty(removed);
}

fn flushdb(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    check_flush_args(args)?;
    flush_db(ctx, ctx.db);
    out.ok();
    Ok(())
}

fn flushall(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    check_flush_args(args)?;
    for db in 0..ctx.shard.dbs.len() {
        flush_db(ctx, db);
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
    let type_of = |e: &Entry| e.val.type_name().as_bytes();
    let mut expired = Vec::new();
    let next = ctx.shard.dbs[ctx.db].table.scan(pos, count, |e| {
        if pattern.is_some_and(|p| !glob_match(p, &e.key, false)) {
            return;
        }
        if e.expire_at != 0 && e.expire_at <= now {
            expired.push(e.key.to_vec());
        } else if type_filter.is_none_or(|t| t.eq_ignore_ascii_case(type_of(e))) {
            out_keys.push(e.key.to_vec());
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
        let key = e.key.to_vec();
        if e.expire_at == 0 || e.expire_at > now {
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

/// Commands on every key they name, split per shard with their counts summed.
const MULTI_KEY: CommandSpec = CommandSpec {
    arity: -2,
    keys: (1, -1, 1),
    route: Route::Split(Merge::SumInt),
    ..GENERIC
};

/// Commands on one key, or two keys that must share a shard.
const KEYED: CommandSpec = CommandSpec {
    keys: (1, 1, 1),
    route: Route::Keyed,
    ..GENERIC
};

const TWO_KEYS: CommandSpec = CommandSpec {
    keys: (1, 2, 1),
    ..KEYED
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
        name: "del",
        flags: "write",
        acl: "keyspace write slow",
        exec: Exec::Shard(del),
        summary: "Deletes one or more keys.",
        ..MULTI_KEY
    },
    CommandSpec {
        name: "unlink",
        flags: "write fast",
        acl: "keyspace write fast",
        exec: Exec::Shard(del),
        summary: "Asynchronously deletes one or more keys.",
        since: "4.0.0",
        ..MULTI_KEY
    },
    CommandSpec {
        name: "exists",
        flags: "readonly fast",
        acl: "keyspace read fast",
        exec: Exec::Shard(exists),
        summary: "Determines whether one or more keys exist.",
        ..MULTI_KEY
    },
    CommandSpec {
        name: "touch",
        flags: "readonly fast",
        acl: "keyspace read fast",
        exec: Exec::Shard(touch),
        summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
        since: "3.2.1",
        ..MULTI_KEY
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: "readonly fast",
        acl: "keyspace read fast",
        exec: Exec::Shard(type_),
        summary: "Determines the type of value stored at a key.",
        ..KEYED
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: "write",
        acl: "keyspace write slow",
        exec: Exec::Shard(rename),
        summary: "Renames a key and overwrites the destination.",
        ..TWO_KEYS
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: "write fast",
        acl: "keyspace write fast",
        exec: Exec::Shard(renamenx),
        summary: "Renames a key only when the target key name doesn't exist.",
        ..TWO_KEYS
    },
    CommandSpec {
        name: "copy",
        arity: -3,
        flags: "write denyoom",
        acl: "keyspace write slow",
        exec: Exec::Shard(copy),
        summary: "Copies the value of a key to a new key.",
        since: "6.2.0",
        ..TWO_KEYS
    },
    CommandSpec {
        name: "move",
        arity: 3,
        flags: "write fast",
        acl: "keyspace write fast",
        exec: Exec::Shard(move_),
        summary: "Moves a key to another database.",
        ..KEYED
    },
    CommandSpec {
        // Redis declares OBJECT as a container whose subcommands carry the key
        // at 2; one entry here, so the container carries it for routing.
        name: "object",
        arity: -2,
        flags: "readonly",
        keys: (2, 2, 1),
        acl: "keyspace read slow",
        exec: Exec::Shard(object),
        summary: "A container for object introspection commands.",
        since: "2.2.3",
        subcommands: &["encoding", "freq", "help", "idletime", "refcount"],
        ..KEYED
    },
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
mod tests {
    use super::parse_cursor;
    use crate::testing::{Harness, R};

    fn err(text: &str) -> R {
        R::Err(text.into())
    }

    fn bulks(r: R) -> Vec<String> {
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
    fn del_and_unlink_count_what_they_removed() {
        let mut h = populated(3);
        assert_eq!(h.run(&["DEL", "key:0", "key:1", "nokey"]), R::Int(2));
        assert_eq!(h.run(&["UNLINK", "key:2", "key:2"]), R::Int(1));
        assert_eq!(h.run(&["GET", "key:2"]), R::Nil);
        assert_eq!(h.shard.stats.dirty, 3 + 3);
    }

    #[test]
    fn del_against_an_expired_key_is_zero() {
        let mut h = populated(1);
        h.run(&["PEXPIRE", "key:0", "1000"]);
        h.advance(1100);
        assert_eq!(h.run(&["DEL", "key:0"]), R::Int(0));
        assert_eq!(h.shard.dbs[0].volatile, 0);
    }

    #[test]
    fn exists_counts_repeats_and_empty_values() {
        let mut h = Harness::new();
        h.run(&["SET", "empty", ""]);
        assert_eq!(h.run(&["EXISTS", "empty", "empty", "nokey"]), R::Int(2));
        h.run(&["DEL", "empty"]);
        assert_eq!(h.run(&["EXISTS", "empty"]), R::Int(0));
    }

    #[test]
    fn type_names_the_value_or_none() {
        let mut h = populated(1);
        assert_eq!(h.run(&["TYPE", "key:0"]), R::Simple("string".into()));
        assert_eq!(h.run(&["TYPE", "nokey"]), R::Simple("none".into()));
    }

    #[test]
    fn only_touch_refreshes_the_lru_clock() {
        let mut h = populated(1);
        h.advance(3000);
        for cmd in [
            &["TTL", "key:0"][..],
            &["TYPE", "key:0"],
            &["EXISTS", "key:0"],
        ] {
            h.run(cmd);
        }
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "key:0"]), R::Int(3));
        assert_eq!(h.run(&["TOUCH", "nokey", "key:0", "key:0"]), R::Int(2));
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "key:0"]), R::Int(0));
    }

    #[test]
    fn reads_that_do_not_touch_still_count_hits_and_misses() {
        let mut h = populated(1);
        h.run(&["EXISTS", "key:0", "nokey"]);
        h.run(&["OBJECT", "ENCODING", "nokey"]);
        assert_eq!(h.shard.stats.keyspace_hits, 1);
        assert_eq!(h.shard.stats.keyspace_misses, 2);
    }

    #[test]
    fn rename_moves_value_and_ttl_and_replaces_the_target() {
        let mut h = Harness::new();
        h.run(&["SET", "mykey", "hello"]);
        assert_eq!(h.run(&["RENAME", "mykey", "mykey1"]), R::ok());
        assert_eq!(h.run(&["RENAME", "mykey1", "mykey2"]), R::ok());
        assert_eq!(h.run(&["GET", "mykey2"]), R::bulk("hello"));
        assert_eq!(h.run(&["EXISTS", "mykey", "mykey1"]), R::Int(0));

        h.run(&["SET", "a", "1"]);
        h.run(&["EXPIRE", "a", "100"]);
        h.run(&["SET", "b", "2"]);
        h.run(&["EXPIRE", "b", "50"]);
        assert_eq!(h.run(&["RENAME", "a", "b"]), R::ok());
        assert_eq!(h.run(&["GET", "b"]), R::bulk("1"));
        assert_eq!(h.run(&["TTL", "b"]), R::Int(100));
        assert_eq!(h.shard.dbs[0].volatile, 1);

        // The target's TTL is not inherited.
        h.run(&["SET", "c", "3"]);
        assert_eq!(h.run(&["RENAME", "c", "b"]), R::ok());
        assert_eq!(h.run(&["TTL", "b"]), R::Int(-1));
        assert_eq!(h.shard.dbs[0].volatile, 0);
    }

    #[test]
    fn rename_edge_cases() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["RENAME", "nokey", "x"]), err("ERR no such key"));
        assert_eq!(h.run(&["RENAMENX", "nokey", "x"]), err("ERR no such key"));
        assert_eq!(h.run(&["RENAME", "nokey", "nokey"]), err("ERR no such key"));
        h.run(&["SET", "mykey", "foo"]);
        assert_eq!(h.run(&["RENAME", "mykey", "mykey"]), R::ok());
        assert_eq!(h.run(&["RENAMENX", "mykey", "mykey"]), R::Int(0));
        h.run(&["PEXPIRE", "mykey", "10"]);
        h.advance(10);
        assert_eq!(h.run(&["RENAME", "mykey", "x"]), err("ERR no such key"));
    }

    #[test]
    fn renamenx_only_when_the_target_is_absent() {
        let mut h = Harness::new();
        h.run(&["SET", "mykey", "foobar"]);
        assert_eq!(h.run(&["RENAMENX", "mykey", "mykey2"]), R::Int(1));
        assert_eq!(h.run(&["GET", "mykey2"]), R::bulk("foobar"));
        h.run(&["SET", "mykey", "foo"]);
        assert_eq!(h.run(&["RENAMENX", "mykey", "mykey2"]), R::Int(0));
        assert_eq!(h.run(&["GET", "mykey"]), R::bulk("foo"));
        assert_eq!(h.run(&["GET", "mykey2"]), R::bulk("foobar"));
        // An expired target counts as absent.
        h.run(&["PEXPIRE", "mykey2", "5"]);
        h.advance(5);
        assert_eq!(h.run(&["RENAMENX", "mykey", "mykey2"]), R::Int(1));
    }

    #[test]
    fn copy_within_and_across_databases() {
        let mut h = Harness::new();
        h.db = 9;
        h.run(&["SET", "mykey", "foobar"]);
        assert_eq!(h.run(&["COPY", "mykey", "mynewkey"]), R::Int(1));
        assert_eq!(h.run(&["GET", "mynewkey"]), R::bulk("foobar"));
        assert_eq!(h.run(&["DBSIZE"]), R::Int(2));
        assert_eq!(h.run(&["COPY", "mykey", "mynewkey", "DB", "10"]), R::Int(1));
        h.run(&["SET", "mykey2", "hello"]);
        assert_eq!(
            h.run(&["COPY", "mykey2", "mynewkey", "DB", "10"]),
            R::Int(0)
        );
        assert_eq!(
            h.run(&["COPY", "mykey2", "mynewkey", "db", "10", "replace"]),
            R::Int(1)
        );
        h.db = 10;
        assert_eq!(h.run(&["GET", "mynewkey"]), R::bulk("hello"));
        assert_eq!(h.run(&["DBSIZE"]), R::Int(1));
        // The copy is independent of its source.
        h.run(&["SET", "mynewkey", "hoge"]);
        h.db = 9;
        assert_eq!(h.run(&["GET", "mykey2"]), R::bulk("hello"));
        assert_eq!(h.run(&["COPY", "nokey", "x"]), R::Int(0));
        // Copying a key onto itself in another database is fine.
        assert_eq!(h.run(&["COPY", "mykey", "mykey", "DB", "3"]), R::Int(1));
    }

    #[test]
    fn copy_carries_the_expiry_only_when_there_is_one() {
        let mut h = Harness::new();
        h.run(&["SET", "mykey", "foobar"]);
        h.run(&["EXPIRE", "mykey", "100"]);
        assert_eq!(h.run(&["COPY", "mykey", "new", "REPLACE"]), R::Int(1));
        assert_eq!(h.run(&["TTL", "new"]), R::Int(100));
        h.run(&["PERSIST", "mykey"]);
        assert_eq!(h.run(&["COPY", "mykey", "new", "REPLACE"]), R::Int(1));
        assert_eq!(h.run(&["TTL", "new"]), R::Int(-1));
        assert_eq!(h.run(&["GET", "new"]), R::bulk("foobar"));
        assert_eq!(h.shard.dbs[0].volatile, 0);
    }

    #[test]
    fn copy_errors() {
        let mut h = Harness::new();
        h.run(&["SET", "a", "1"]);
        let same = err("ERR source and destination objects are the same");
        assert_eq!(h.run(&["COPY", "a", "a"]), same);
        assert_eq!(h.run(&["COPY", "a", "a", "DB", "0"]), same);
        assert_eq!(h.run(&["COPY", "nokey", "nokey"]), same);
        assert_eq!(h.run(&["COPY", "a", "b", "DB"]), err("ERR syntax error"));
        assert_eq!(h.run(&["COPY", "a", "b", "foo"]), err("ERR syntax error"));
        assert_eq!(
            h.run(&["COPY", "a", "b", "DB", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["COPY", "a", "b", "DB", "16"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            h.run(&["COPY", "a", "b", "DB", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
    }

    #[test]
    fn move_to_another_database() {
        let mut h = Harness::new();
        h.db = 9;
        h.run(&["SET", "mykey", "foobar"]);
        h.run(&["EXPIRE", "mykey", "100"]);
        assert_eq!(h.run(&["MOVE", "mykey", "10"]), R::Int(1));
        assert_eq!(h.run(&["EXISTS", "mykey"]), R::Int(0));
        assert_eq!(h.run(&["DBSIZE"]), R::Int(0));
        h.db = 10;
        assert_eq!(h.run(&["GET", "mykey"]), R::bulk("foobar"));
        assert_eq!(h.run(&["TTL", "mykey"]), R::Int(100));
        assert_eq!((h.shard.dbs[9].volatile, h.shard.dbs[10].volatile), (0, 1));
        h.db = 9;
        h.run(&["SET", "mykey", "hello"]);
        assert_eq!(h.run(&["MOVE", "mykey", "10"]), R::Int(0));
        assert_eq!(h.run(&["MOVE", "nokey", "10"]), R::Int(0));
        h.run(&["SET", "plain", "x"]);
        assert_eq!(h.run(&["MOVE", "plain", "10"]), R::Int(1));
        h.db = 10;
        assert_eq!(h.run(&["TTL", "plain"]), R::Int(-1));
    }

    #[test]
    fn move_errors() {
        let mut h = Harness::new();
        h.run(&["SET", "mykey", "hello"]);
        assert_eq!(
            h.run(&["MOVE", "mykey", "notanumber"]),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            h.run(&["MOVE", "mykey", "0"]),
            err("ERR source and destination objects are the same")
        );
        assert_eq!(
            h.run(&["MOVE", "mykey", "-1"]),
            err("ERR DB index is out of range")
        );
        assert_eq!(
            h.run(&["MOVE", "mykey", "99999999999"]),
            err("ERR value is out of range, value must between -2147483648 and 2147483647")
        );
    }

    #[test]
    fn object_subcommands() {
        let mut h = Harness::new();
        h.run(&["SET", "int", "12"]);
        h.run(&["SET", "big", "123456"]);
        h.run(&["SET", "short", "hello"]);
        h.run(&["SET", "long", &"x".repeat(100)]);
        assert_eq!(h.run(&["OBJECT", "ENCODING", "int"]), R::bulk("int"));
        assert_eq!(h.run(&["object", "encoding", "short"]), R::bulk("embstr"));
        assert_eq!(h.run(&["OBJECT", "ENCODING", "long"]), R::bulk("raw"));
        assert_eq!(h.run(&["OBJECT", "REFCOUNT", "int"]), R::Int(2147483647));
        assert_eq!(h.run(&["OBJECT", "REFCOUNT", "big"]), R::Int(1));
        assert_eq!(h.run(&["OBJECT", "REFCOUNT", "short"]), R::Int(1));
        for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
            assert_eq!(h.run(&["OBJECT", sub, "nokey"]), R::Nil, "{sub}");
        }
        h.advance(7_500);
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "short"]), R::Int(7));
        assert_eq!(
            h.run(&["OBJECT", "FREQ", "short"]),
            err(
                "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
                 Please note that when switching between policies at runtime LRU and LFU data \
                 will take some time to adjust."
            )
        );
    }

    #[test]
    fn object_under_lfu() {
        let mut h = Harness::new();
        h.run(&["SET", "k", "1"]);
        h.shard.conf.lfu = true;
        assert_eq!(h.run(&["OBJECT", "REFCOUNT", "k"]), R::Int(1));
        let minutes = (h.shard.now_ms / 60_000) as u32 & 0xFFFF;
        h.shard.dbs[0].table.get_mut(b"k").unwrap().lru = (minutes << 8) | 10;
        assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), R::Int(10));
        h.advance(3 * 60_000);
        assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), R::Int(7));
        h.advance(60 * 60_000);
        assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), R::Int(0));
        assert_eq!(
            h.run(&["OBJECT", "IDLETIME", "k"]),
            err(
                "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that \
                 when switching between policies at runtime LRU and LFU data will take some time \
                 to adjust."
            )
        );
    }

    #[test]
    fn idle_time_survives_a_wrap_of_the_lru_clock() {
        assert_eq!(super::idle_seconds(10, 25), 15);
        assert_eq!(super::idle_seconds(super::LRU_CLOCK_MAX - 5, 4), 9);
    }

    #[test]
    fn object_help_and_errors() {
        let mut h = Harness::new();
        let R::Arr(lines) = h.run(&["object", "help"]) else {
            panic!("help is an array")
        };
        assert_eq!(lines.len(), 15);
        assert_eq!(
            lines[0],
            R::Simple("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:".into())
        );
        assert_eq!(lines[14], R::Simple("    Prints this help.".into()));
        assert_eq!(
            h.run(&["OBJECT", "foo", "k"]),
            err("ERR unknown subcommand 'foo'. Try OBJECT HELP.")
        );
        assert_eq!(
            h.run(&["OBJECT", "Encoding"]),
            err("ERR wrong number of arguments for 'object|encoding' command")
        );
        assert_eq!(
            h.run(&["OBJECT", "HELP", "x"]),
            err("ERR wrong number of arguments for 'object|help' command")
        );
        h.resp3 = true;
        assert_eq!(h.raw(&["OBJECT", "ENCODING", "nokey"]), b"_\r\n");
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
