//! The per-key family: DEL, UNLINK, EXISTS, TOUCH, TYPE, RENAME, RENAMENX,
//! COPY, MOVE and OBJECT. (Expiry commands live in `expire.rs`; the
//! whole-keyspace commands KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL and
//! SWAPDB in `keyspace.rs`.)
//!
//! Every handler sees one shard. Multi-key commands are this shard's part of
//! the answer; the network layer splits and merges them as each command's
//! `Route` says.

use crate::args::Args;
use crate::error::{CmdError, CmdResult};
use crate::memory::evict::idle_seconds;
use crate::memory::lfu;
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};
use crate::table::Entry;
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

/// DEL: frees at once, unless `lazyfree-lazy-user-del` makes it UNLINK.
fn del(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let lazy = ctx.shard.mem.conf.lazy.user_del;
    remove_keys(ctx, args, lazy, out)
}

/// UNLINK: a large value goes to the lazy-free queue, freed in steps
/// between the shard's passes, so the reply does not wait for it.
fn unlink(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    remove_keys(ctx, args, true, out)
}

fn remove_keys(ctx: &mut Ctx, args: &Args, lazy: bool, out: &mut Out) -> CmdResult {
    let mut n = 0;
    for key in args.iter().skip(1) {
        n += if lazy {
            ctx.unlink(key)
        } else {
            ctx.delete(key)
        } as i64;
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
        .map_or("none", |e| e.type_name());
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
    let entry = ctx.take(src).expect("checked above").with_key(dst);
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
pub(super) fn db_index(
    ctx: &Ctx,
    arg: &[u8],
    bad: Option<&'static str>,
) -> Result<usize, CmdError> {
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
    let lru = ctx.shard.touch().fresh();
    let Some(e) = ctx.read(src) else {
        out.int(0);
        return Ok(());
    };
    let entry = e.duplicate(dst, lru);
    if !replace && ctx.exists_in(dst_db, dst) {
        out.int(0);
        return Ok(());
    }
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

/// OBJECT REFCOUNT. Values are never shared here, but Redis shares the
/// integers 0..10000 (reporting INT_MAX) unless an LRU/LFU policy needs
/// per-key clocks; clients and tests look for that, so it is reported alike.
/// Only LFU is visible to a shard, so an LRU policy still reports shared.
fn refcount(val: Value, lfu: bool) -> i64 {
    match val {
        Value::Str(StrVal::Int(n)) if (0..10_000).contains(&n) && !lfu => i32::MAX as i64,
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
    let (lfu, clock) = (ctx.shard.lfu(), ctx.shard.lru_clock());
    let (now_min, lfu_conf) = (lfu::minutes(ctx.now()), ctx.shard.mem.conf.lfu);
    let Some(e) = ctx.lookup_notouch(args.get(2)) else {
        out.null();
        return Ok(());
    };
    match name {
        "encoding" => out.bulk_str(e.encoding()),
        "refcount" => out.int(refcount(e.value(), lfu)),
        "idletime" if lfu => return Err(CmdError::Static(LFU_SELECTED)),
        "idletime" => out.int(idle_seconds(e.lru(), clock) as i64),
        _ if !lfu => return Err(CmdError::Static(LFU_NOT_SELECTED)),
        _ => out.int(lfu::decayed(e.lru(), now_min, lfu_conf) as i64),
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
        exec: Exec::Shard(unlink),
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
];

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, R};

    fn err(text: &str) -> R {
        R::Err(text.into())
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
        h.shard.mem.conf.policy = crate::memory::Policy::AllkeysLfu;
        assert_eq!(h.run(&["OBJECT", "REFCOUNT", "k"]), R::Int(1));
        let minutes = (h.shard.now_ms / 60_000) as u32 & 0xFFFF;
        h.shard.dbs[0]
            .table
            .get_mut(b"k")
            .unwrap()
            .set_lru((minutes << 8) | 10);
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
        assert_eq!(super::idle_seconds((1 << 24) - 1 - 5, 4), 9);
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
}
