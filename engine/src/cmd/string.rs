//! The string family. This file holds the helpers the family shares, the
//! plain reads (GET, GETDEL, MGET, STRLEN, GETRANGE), the multi-key writes
//! (MSET, MSETNX), the in-place edits (APPEND, SETRANGE) and the family's
//! command table. Beside it:
//!
//! ```text
//!   string/set.rs         SET and its options; SETNX, SETEX, PSETEX, GETSET, GETEX
//!   string/counters.rs    INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT
//!   string/longdouble.rs  the x87 long double INCRBYFLOAT computes in
//!   bits.rs               SETBIT, GETBIT, BITCOUNT, BITPOS and LCS
//! ```
//!
//! Values are stored in Redis's encodings so OBJECT ENCODING reads the same:
//! what a client sends goes through `StrVal::from_bytes` (an integer when it
//! reads back byte for byte), counters stay integers, and a string edited in
//! place becomes a heap buffer ("raw").

mod counters;
pub(crate) use counters::float_sum;
pub(crate) mod longdouble;
mod set;

use crate::args::Args;
use crate::cmd::{arity_error, int_arg};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};
use crate::table::Entry;
use crate::value::{StrVal, Value};

/// The largest string a command may build: Redis's default proto-max-bulk-len.
pub(crate) const MAX_STRING: u64 = 512 * 1024 * 1024;

const TOO_BIG: CmdError =
    CmdError::Static("ERR string exceeds maximum allowed size (proto-max-bulk-len)");

/// The string in an entry, or WRONGTYPE.
pub(crate) fn as_str(entry: &Entry) -> Result<StrVal<'_>, CmdError> {
    match entry.value() {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

/// The entry at `key` for a write (no hit/miss counting), checked to hold
/// a string; None when absent.
pub(crate) fn write_entry<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<Option<&'c mut Entry>, CmdError> {
    match ctx.lookup(key) {
        Some(e) => {
            as_str(e)?;
            Ok(Some(e))
        }
        None => Ok(None),
    }
}

/// The string at `key` for a read (counts a hit or a miss); None when absent.
pub(crate) fn read_str<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<StrVal<'c>>, CmdError> {
    ctx.read(key).map(|e| as_str(e)).transpose()
}

/// The string at `key` for a write (no hit/miss counting); None when absent.
pub(crate) fn write_str<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<StrVal<'c>>, CmdError> {
    ctx.lookup(key).map(|e| as_str(e)).transpose()
}

/// Redis's index arithmetic for ranges over `len` items: negatives count from
/// the end, both ends are clamped into the string. None when nothing is left.
pub(crate) fn clamp_range(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    let fix = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (start, end) = (fix(start), fix(end).min(len - 1));
    (start <= end).then_some((start as usize, end as usize))
}

/// Runs `edit` on the string at `key` as bytes to change in place ("raw" in
/// Redis's terms), created empty when absent and zero-padded to at least
/// `min_len`. `edit` also gets the length before the padding.
pub(crate) fn edit_str<T>(
    ctx: &mut Ctx,
    key: &[u8],
    min_len: usize,
    edit: impl FnOnce(&mut [u8], usize) -> T,
) -> Result<T, CmdError> {
    let e = match write_entry(ctx, key)? {
        Some(e) => e,
        None => ctx.set(key, Value::Str(StrVal::raw(b"")), 0),
    };
    let old_len = as_str(e)?.len();
    Ok(edit(e.edit(min_len), old_len))
}

/// Replies the string at `key`, or null when absent (Redis's getGenericCommand).
pub(crate) fn reply_value(ctx: &mut Ctx, key: &[u8], out: &mut Out) -> CmdResult {
    let Some(e) = ctx.read(key) else {
        out.null();
        return Ok(());
    };
    // A large value goes out from its own buffer, not copied into the reply.
    match e.shared() {
        Some(v) => out.bulk_shared(v),
        None => out.bulk(as_str(e)?.as_bytes(&mut itoa::Buffer::new())),
    }
    Ok(())
}

/// Stores a new string at `key`, replacing any value and TTL. An expiry that
/// has already passed removes the key instead: Redis stores it and lets it
/// expire on the next access, which no client can tell apart (it is counted
/// as expired all the same).
pub(crate) fn store(ctx: &mut Ctx, key: &[u8], val: StrVal<'_>, expire_at: u64) {
    if expire_at != 0 && expire_at <= ctx.now() {
        if ctx.delete_expired(key) {
            ctx.shard.stats.expired_keys += 1;
        }
    } else {
        ctx.set(key, Value::Str(val), expire_at);
    }
    ctx.dirty(1);
}

/// An option word upper-cased into `buf` without allocating; a longer
/// argument comes back as is and matches no option.
pub(crate) fn keyword<'b>(arg: &'b [u8], buf: &'b mut [u8; 16]) -> &'b [u8] {
    match buf.get_mut(..arg.len()) {
        Some(upper) => {
            upper.copy_from_slice(arg);
            upper.make_ascii_uppercase();
            upper
        }
        None => arg,
    }
}

// ---------------------------------------------------------------------------
// Reads

fn get(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_value(ctx, args.get(1), out)
}

fn getdel(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_value(ctx, args.get(1), out)?;
    if ctx.delete_implicit(args.get(1)) {
        ctx.dirty(1);
    }
    Ok(())
}

/// MGET key [key ...]: a null for each key that is absent or not a string.
fn mget(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    out.array(args.len() - 1);
    let mut scratch = itoa::Buffer::new();
    for key in args.iter().skip(1) {
        match ctx.read(key).and_then(|e| as_str(e).ok()) {
            Some(s) => out.bulk(s.as_bytes(&mut scratch)),
            None => out.null(),
        }
    }
    Ok(())
}

fn strlen(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let len = read_str(ctx, args.get(1))?.map_or(0, |s| s.len());
    out.int(len as i64);
    Ok(())
}

/// GETRANGE key start end (and its old name SUBSTR).
fn getrange(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (start, end) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    let mut scratch = itoa::Buffer::new();
    let bytes = match read_str(ctx, args.get(1))? {
        Some(s) => s.as_bytes(&mut scratch),
        None => b"",
    };
    // Two negative ends in reverse order select nothing, even where clamping
    // would make them meet: Redis checks this first.
    let range = if start < 0 && end < 0 && start > end {
        None
    } else {
        clamp_range(start, end, bytes.len() as i64)
    };
    out.bulk(range.map_or(&[][..], |(s, e)| &bytes[s..=e]));
    Ok(())
}

// ---------------------------------------------------------------------------
// Multi-key writes

/// MSET's and MSETNX's pairs, or the arity error Redis gives for an odd count.
fn pairs<'a>(args: &'a Args) -> Result<impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a, CmdError> {
    // The name and whole pairs: an odd count.
    if args.len() % 2 != 1 {
        return Err(arity_error(args.get(0)));
    }
    Ok((1..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1))))
}

fn mset(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    for (key, val) in pairs(args)? {
        store(ctx, key, StrVal::from_bytes(val), 0);
    }
    out.ok();
    Ok(())
}

/// MSETNX: sets every pair, or none when any key exists. The network layer
/// routes it whole to one shard (CROSSSLOT otherwise), so the check and the
/// writes are atomic here.
fn msetnx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let any_exists = pairs(args)?.any(|(key, _)| ctx.exists(key));
    if !any_exists {
        for (key, val) in pairs(args)? {
            store(ctx, key, StrVal::from_bytes(val), 0);
        }
    }
    out.int(!any_exists as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// In-place edits

/// Fails when a string of `len` bytes grown by `extra` would pass the limit.
fn check_size(len: u64, extra: u64) -> CmdResult {
    match len.checked_add(extra) {
        Some(total) if total <= MAX_STRING => Ok(()),
        _ => Err(TOO_BIG),
    }
}

fn append(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (key, tail) = (args.get(1), args.get(2));
    let len = match write_entry(ctx, key)? {
        Some(e) => {
            let old = as_str(e)?.len();
            check_size(old as u64, tail.len() as u64)?;
            let buf = e.edit(old + tail.len());
            buf[old..].copy_from_slice(tail);
            buf.len()
        }
        None => {
            ctx.set(key, Value::Str(StrVal::from_bytes(tail)), 0);
            tail.len()
        }
    };
    ctx.dirty(1);
    out.int(len as i64);
    Ok(())
}

/// SETRANGE key offset value: overwrites from `offset`, zero-padding the gap.
fn setrange(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (key, patch) = (args.get(1), args.get(3));
    let offset = int_arg(args.get(2))?;
    if offset < 0 {
        return Err(CmdError::Static("ERR offset is out of range"));
    }
    let old_len = write_str(ctx, key)?.map_or(0, |s| s.len());
    // Writing nothing changes nothing, and creates no key.
    if patch.is_empty() {
        out.int(old_len as i64);
        return Ok(());
    }
    check_size(offset as u64, patch.len() as u64)?;
    let (start, end) = (offset as usize, offset as usize + patch.len());
    let len = edit_str(ctx, key, end, |buf, _| {
        buf[start..end].copy_from_slice(patch);
        buf.len()
    })?;
    ctx.dirty(1);
    out.int(len as i64);
    Ok(())
}

const GETRANGE: CommandSpec = CommandSpec {
    name: "getrange",
    arity: 4,
    flags: "readonly",
    keys: (1, 1, 1),
    acl: "read string slow",
    route: Route::Keyed,
    exec: Exec::Shard(getrange),
    group: "string",
    summary: "Returns a substring of the string stored at a key.",
    since: "2.4.0",
    ..CommandSpec::DEFAULT
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: "readonly fast",
        keys: (1, 1, 1),
        acl: "read string fast",
        route: Route::Keyed,
        exec: Exec::Shard(get),
        group: "string",
        summary: "Returns the string value of a key.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: "write denyoom",
        keys: (1, 1, 1),
        acl: "write string slow",
        route: Route::Keyed,
        exec: Exec::Shard(set::set),
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(set::setnx),
        group: "string",
        summary: "Set the string value of a key only when the key doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: "write denyoom",
        keys: (1, 1, 1),
        acl: "write string slow",
        route: Route::Keyed,
        exec: Exec::Shard(set::setex),
        group: "string",
        summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
        since: "2.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: "write denyoom",
        keys: (1, 1, 1),
        acl: "write string slow",
        route: Route::Keyed,
        exec: Exec::Shard(set::psetex),
        group: "string",
        summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
        since: "2.6.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(set::getset),
        group: "string",
        summary: "Returns the previous string value of a key after setting it to a new value.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: "write fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(getdel),
        group: "string",
        summary: "Returns the string value of a key after deleting the key.",
        since: "6.2.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getex",
        arity: -2,
        flags: "write fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(set::getex),
        group: "string",
        summary: "Returns the string value of a key after setting its expiration time.",
        since: "6.2.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: "readonly fast",
        keys: (1, -1, 1),
        acl: "read string fast",
        route: Route::Split(Merge::ByKey),
        exec: Exec::Shard(mget),
        group: "string",
        summary: "Atomically returns the string values of one or more keys.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: "write denyoom",
        keys: (1, -1, 2),
        acl: "write string slow",
        route: Route::Split(Merge::AllOk),
        exec: Exec::Shard(mset),
        group: "string",
        summary: "Atomically creates or modifies the string values of one or more keys.",
        since: "1.0.1",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: "write denyoom",
        keys: (1, -1, 2),
        acl: "write string slow",
        route: Route::Keyed,
        exec: Exec::Shard(msetnx),
        group: "string",
        summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
        since: "1.0.1",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "append",
        arity: 3,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(append),
        group: "string",
        summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
        since: "2.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: "readonly fast",
        keys: (1, 1, 1),
        acl: "read string fast",
        route: Route::Keyed,
        exec: Exec::Shard(strlen),
        group: "string",
        summary: "Returns the length of a string value.",
        since: "2.2.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(counters::incr),
        group: "string",
        summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(counters::decr),
        group: "string",
        summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(counters::incrby),
        group: "string",
        summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(counters::decrby),
        group: "string",
        summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: "write denyoom fast",
        keys: (1, 1, 1),
        acl: "write string fast",
        route: Route::Keyed,
        exec: Exec::Shard(counters::incrbyfloat),
        group: "string",
        summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "2.6.0",
        ..CommandSpec::DEFAULT
    },
    GETRANGE,
    // GETRANGE's old name.
    CommandSpec {
        name: "substr",
        summary: "Returns a substring from a string value.",
        since: "1.0.0",
        ..GETRANGE
    },
    CommandSpec {
        name: "setrange",
        arity: 4,
        flags: "write denyoom",
        keys: (1, 1, 1),
        acl: "write string slow",
        route: Route::Keyed,
        exec: Exec::Shard(setrange),
        group: "string",
        summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
        since: "2.2.0",
        ..CommandSpec::DEFAULT
    },
];

#[cfg(test)]
pub(crate) mod tests {
    use crate::testing::{Harness, R};

    /// Runs a command written as one line of space-separated words.
    pub(crate) fn run(h: &mut Harness, line: &str) -> R {
        h.run(&line.split(' ').collect::<Vec<_>>())
    }

    pub(crate) fn err(text: &str) -> R {
        R::Err(text.into())
    }

    pub(crate) fn encoding(h: &Harness, key: &str) -> &'static str {
        let e = h.shard.dbs[h.db].table.get(key.as_bytes()).expect("key");
        e.encoding()
    }

    /// The key's expiry in ms from the harness's now; None without one.
    pub(crate) fn ttl_ms(h: &Harness, key: &str) -> Option<i64> {
        let e = h.shard.dbs[h.db].table.get(key.as_bytes()).expect("key");
        (e.expire_at() != 0).then(|| e.expire_at() as i64 - h.shard.now_ms as i64)
    }

    pub(crate) fn exists(h: &Harness, key: &str) -> bool {
        h.shard.dbs[h.db].table.get(key.as_bytes()).is_some()
    }

    pub(crate) const SYNTAX: &str = "ERR syntax error";
    pub(crate) const NOT_INT: &str = "ERR value is not an integer or out of range";

    #[test]
    fn set_and_get_keep_bytes_and_pick_the_encoding() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SET x foobar"), R::ok());
        assert_eq!(run(&mut h, "GET x"), R::bulk("foobar"));
        assert_eq!(h.run(&["SET", "x", ""]), R::ok());
        assert_eq!(run(&mut h, "GET x"), R::bulk(""));
        assert_eq!(run(&mut h, "GET nope"), R::Nil);
        let big = "abcd".repeat(250_000);
        assert_eq!(h.run(&["SET", "big", &big]), R::ok());
        assert_eq!(run(&mut h, "GET big"), R::bulk(&big));
        assert_eq!(encoding(&h, "big"), "raw");
        for (val, enc) in [
            ("123", "int"),
            ("-5", "int"),
            ("0123", "embstr"),
            ("1.5", "embstr"),
        ] {
            run(&mut h, &format!("SET e {val}"));
            assert_eq!(encoding(&h, "e"), enc, "{val}");
            assert_eq!(run(&mut h, "GET e"), R::bulk(val));
        }
        h.resp3 = true;
        assert_eq!(h.raw(&["GET", "nope"]), b"_\r\n");
        assert_eq!(h.shard.stats.keyspace_misses, 2);
    }

    #[test]
    fn mget_mset_msetnx() {
        let mut h = Harness::new();
        assert_eq!(
            h.run(&["MSET", "x", "10", "y", "foo bar", "z", "x\n\r\n"]),
            R::ok()
        );
        assert_eq!(
            run(&mut h, "MGET x nokey y z"),
            R::Arr(vec![
                R::bulk("10"),
                R::Nil,
                R::bulk("foo bar"),
                R::bulk("x\n\r\n")
            ])
        );
        assert_eq!(encoding(&h, "x"), "int");
        assert_eq!(
            run(&mut h, "MSET x 10 y"),
            err("ERR wrong number of arguments for 'mset' command")
        );
        assert_eq!(
            run(&mut h, "msetnx x 20 y"),
            err("ERR wrong number of arguments for 'msetnx' command")
        );
        assert_eq!(run(&mut h, "MSETNX x1 xxx y2 yyy x 20"), R::Int(0));
        assert!(!exists(&h, "x1") && !exists(&h, "y2"));
        assert_eq!(run(&mut h, "MSETNX x1 xxx y2 yyy"), R::Int(1));
        assert_eq!(
            run(&mut h, "MGET x1 y2"),
            R::Arr(vec![R::bulk("xxx"), R::bulk("yyy")])
        );
        run(&mut h, "DEL x1");
        assert_eq!(run(&mut h, "MSETNX x1 xxx x1 yyy"), R::Int(1));
        assert_eq!(run(&mut h, "GET x1"), R::bulk("yyy"));
        assert_eq!(run(&mut h, "MSETNX x1 xxx x1 zzz"), R::Int(0));
        assert_eq!(run(&mut h, "GET x1"), R::bulk("yyy"));
        let dirty = h.shard.stats.dirty;
        run(&mut h, "MSET a 1 b 2 c 3");
        assert_eq!(h.shard.stats.dirty, dirty + 3);
    }

    #[test]
    fn append_and_strlen() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "APPEND k 12"), R::Int(2));
        assert_eq!(encoding(&h, "k"), "int");
        assert_eq!(run(&mut h, "APPEND k 3"), R::Int(3));
        assert_eq!(encoding(&h, "k"), "raw");
        assert_eq!(run(&mut h, "GET k"), R::bulk("123"));
        run(&mut h, "SET k hello EX 100");
        assert_eq!(run(&mut h, "APPEND k _world"), R::Int(11));
        assert_eq!(run(&mut h, "GET k"), R::bulk("hello_world"));
        assert_eq!(ttl_ms(&h, "k"), Some(100_000));
        assert_eq!(run(&mut h, "STRLEN notakey"), R::Int(0));
        run(&mut h, "SET myinteger -555");
        assert_eq!(run(&mut h, "STRLEN myinteger"), R::Int(4));
        assert_eq!(h.run(&["SET", "s", "foozzz0123456789 baz"]), R::ok());
        assert_eq!(run(&mut h, "STRLEN s"), R::Int(20));
    }

    #[test]
    fn getrange_and_substr() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "GETRANGE mykey 0 -1"), R::bulk(""));
        for (value, range, want) in [
            ("Hello World", "0 3", "Hell"),
            ("Hello World", "0 -1", "Hello World"),
            ("Hello World", "-4 -1", "orld"),
            ("Hello World", "5 3", ""),
            ("Hello World", "5 5000", " World"),
            ("Hello World", "-5000 10000", "Hello World"),
            ("Hello World", "-1 -5", ""),
            ("Hello World", "-20 -30", ""),
            ("Hello World", "0 4294967297", "Hello World"),
            ("1234", "0 2", "123"),
            ("1234", "-3 -1", "234"),
            ("1234", "5 3", ""),
            ("1234", "3 5000", "4"),
        ] {
            h.run(&["SET", "mykey", value]);
            for cmd in ["GETRANGE", "SUBSTR"] {
                let reply = run(&mut h, &format!("{cmd} mykey {range}"));
                assert_eq!(reply, R::bulk(want), "{cmd} {value:?} {range}");
            }
        }
        h.run(&["SET", "empty", ""]);
        assert_eq!(run(&mut h, "GETRANGE empty 0 -1"), R::bulk(""));
        assert_eq!(run(&mut h, "GETRANGE mykey a 1"), err(NOT_INT));
        assert_eq!(run(&mut h, "GETRANGE nokey 0 b"), err(NOT_INT));
    }

    #[test]
    fn setrange() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SETRANGE mykey 0 foo"), R::Int(3));
        assert_eq!(run(&mut h, "GET mykey"), R::bulk("foo"));
        assert_eq!(h.run(&["SETRANGE", "nokey", "0", ""]), R::Int(0));
        assert!(!exists(&h, "nokey"));
        assert_eq!(run(&mut h, "SETRANGE gap 1 foo"), R::Int(4));
        assert_eq!(run(&mut h, "GET gap"), R::bulk("\0foo"));
        assert_eq!(encoding(&h, "gap"), "raw");
        for (offset, patch, len, want) in [
            (0, "b", 3, "boo"),
            (0, "", 3, "foo"),
            (1, "b", 3, "fbo"),
            (4, "bar", 7, "foo\0bar"),
        ] {
            run(&mut h, "SET mykey foo");
            let reply = h.run(&["SETRANGE", "mykey", &offset.to_string(), patch]);
            assert_eq!(reply, R::Int(len));
            assert_eq!(run(&mut h, "GET mykey"), R::bulk(want));
        }
        for (offset, patch, len, want, enc) in [
            (0, "2", 4, "2234", "raw"),
            (0, "", 4, "1234", "int"),
            (1, "3", 4, "1334", "raw"),
            (5, "2", 6, "1234\x002", "raw"),
        ] {
            run(&mut h, "SET mykey 1234");
            let reply = h.run(&["SETRANGE", "mykey", &offset.to_string(), patch]);
            assert_eq!(reply, R::Int(len));
            assert_eq!(encoding(&h, "mykey"), enc);
            assert_eq!(run(&mut h, "GET mykey"), R::bulk(want));
        }
        let too_big = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        let out_of_range = err("ERR offset is out of range");
        assert_eq!(run(&mut h, "SETRANGE big 536870908 world"), too_big);
        assert!(!exists(&h, "big"));
        run(&mut h, "SET mykey hello");
        assert_eq!(run(&mut h, "SETRANGE mykey -1 world"), out_of_range);
        assert_eq!(run(&mut h, "SETRANGE mykey 536870908 world"), too_big);
        assert_eq!(run(&mut h, "SETRANGE K 9223372036854775807 A"), too_big);
        assert_eq!(run(&mut h, "SETRANGE K 2147483647 A"), too_big);
        assert_eq!(run(&mut h, "SETRANGE K x A"), err(NOT_INT));
    }

    #[test]
    fn writes_count_as_dirty_and_reads_as_hits() {
        let mut h = Harness::new();
        for line in [
            "SET a 1",
            "INCR a",
            "INCRBYFLOAT a 1",
            "APPEND a x",
            "SETRANGE a 0 y",
            "SETNX b 1",
        ] {
            let before = h.shard.stats.dirty;
            run(&mut h, line);
            assert_eq!(h.shard.stats.dirty, before + 1, "{line}");
        }
        let before = h.shard.stats.dirty;
        for line in [
            "SETNX a 1",
            "SET a 1 NX",
            "GET a",
            "MSETNX a 1 c 2",
            "GETEX a",
            "STRLEN a",
        ] {
            run(&mut h, line);
        }
        assert_eq!(h.shard.stats.dirty, before);
        let (hits, misses) = (h.shard.stats.keyspace_hits, h.shard.stats.keyspace_misses);
        run(&mut h, "MGET a b nokey");
        run(&mut h, "INCR nokey2");
        assert_eq!(h.shard.stats.keyspace_hits, hits + 2);
        assert_eq!(h.shard.stats.keyspace_misses, misses + 1);
    }
}
