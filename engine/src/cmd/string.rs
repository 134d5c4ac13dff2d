//! The string family: GET, SET and its variants, the multi-key MGET/MSET,
//! in-place edits (APPEND, SETRANGE) and the counters (INCR ..., INCRBYFLOAT).
//! Bit commands and LCS live in `bits.rs`.
//!
//! Values are stored in Redis's encodings so OBJECT ENCODING reads the same:
//! what a client sends goes through `StrVal::from_bytes` (an integer when it
//! reads back byte for byte), counters stay integers, and a string edited in
//! place becomes a heap buffer ("raw").

use crate::args::Args;
use crate::cmd::{arity_error, int_arg};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};
use crate::table::Entry;
use crate::value::{parse_i64, StrVal, Value};
use longdouble::LongDouble;

mod longdouble;

/// The largest string a command may build: Redis's default proto-max-bulk-len.
pub(crate) const MAX_STRING: u64 = 512 * 1024 * 1024;

pub(crate) const TOO_BIG: CmdError =
    CmdError::Static("ERR string exceeds maximum allowed size (proto-max-bulk-len)");

/// The string in a value, or WRONGTYPE.
#[allow(unreachable_patterns)] // Only strings exist yet; the other types land with their families.
pub(crate) fn as_str(val: &mut Value) -> Result<&mut StrVal, CmdError> {
    match val {
        Value::Str(s) => Ok(s),
        _ => Err(CmdError::WrongType),
    }
}

fn string_of(entry: Option<&mut Entry>) -> Result<Option<&mut StrVal>, CmdError> {
    entry.map(|e| as_str(&mut e.val)).transpose()
}

/// The string at `key` for a read (counts a hit or a miss); None when absent.
pub(crate) fn read_str<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<Option<&'c mut StrVal>, CmdError> {
    string_of(ctx.read(key))
}

/// The string at `key` for a write (no hit/miss counting); None when absent.
pub(crate) fn write_str<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<Option<&'c mut StrVal>, CmdError> {
    string_of(ctx.lookup(key))
}

/// Redis's index arithmetic for ranges over `len` items: negatives count from
/// the end, both ends are clamped into the string. None when nothing is left.
pub(crate) fn clamp_range(start: i64, end: i64, len: i64) -> Option<(usize, usize)> {
    let fix = |i: i64| if i < 0 { (len + i).max(0) } else { i };
    let (start, end) = (fix(start), fix(end).min(len - 1));
    (start <= end).then_some((start as usize, end as usize))
}

/// Runs `edit` on the string at `key` as a buffer to change in place ("raw"
/// in Redis's terms), created empty when absent.
pub(crate) fn edit_str<T>(
    ctx: &mut Ctx,
    key: &[u8],
    edit: impl FnOnce(&mut Vec<u8>) -> T,
) -> Result<T, CmdError> {
    let s = match write_str(ctx, key)? {
        Some(s) => s,
        None => as_str(&mut ctx.set(key, Value::Str(StrVal::Heap(Vec::new())), 0).val)?,
    };
    Ok(edit(s.make_mut()))
}

/// Replies the string at `key`, or null when absent (Redis's getGenericCommand).
fn reply_value(ctx: &mut Ctx, key: &[u8], out: &mut Out) -> CmdResult {
    match read_str(ctx, key)? {
        Some(s) => out.bulk(s.as_bytes(&mut itoa::Buffer::new())),
        None => out.null(),
    }
    Ok(())
}

/// Stores a new string at `key`, replacing any value and TTL. An expiry that
/// has already passed removes the key instead: Redis would store it and let
/// it expire on the next access, which no client can tell apart.
fn store(ctx: &mut Ctx, key: &[u8], val: StrVal, expire_at: u64) {
    if expire_at != 0 && expire_at <= ctx.now() {
        if ctx.delete(key) {
            ctx.shard.stats.expired_keys += 1;
        }
    } else {
        ctx.set(key, Value::Str(val), expire_at);
    }
    ctx.dirty(1);
}

// ---------------------------------------------------------------------------
// SET and its options

/// The expiry a SET or GETEX option asks for. Only one kind may be given,
/// though the same one may repeat (the last value wins), as in Redis.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ttl<'a> {
    Keep,
    Persist,
    /// A time in seconds or milliseconds, relative to now or absolute.
    Time {
        arg: &'a [u8],
        secs: bool,
        absolute: bool,
    },
}

impl Ttl<'_> {
    fn same_kind(&self, other: &Ttl) -> bool {
        match (self, other) {
            (
                Ttl::Time {
                    secs: a,
                    absolute: b,
                    ..
                },
                Ttl::Time {
                    secs: c,
                    absolute: d,
                    ..
                },
            ) => (a, b) == (c, d),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }

    /// The absolute expiry in Unix ms (None for KEEPTTL/PERSIST), with
    /// Redis's checks: positive, and no overflow once in ms from the epoch.
    fn expire_at(&self, now: u64, cmd: &str) -> Result<Option<u64>, CmdError> {
        let Ttl::Time {
            arg,
            secs,
            absolute,
        } = *self
        else {
            return Ok(None);
        };
        let n = int_arg(arg)?;
        let ms = Some(n)
            .filter(|&n| n > 0)
            .and_then(|n| if secs { n.checked_mul(1000) } else { Some(n) })
            .and_then(|ms| {
                if absolute {
                    Some(ms)
                } else {
                    ms.checked_add(now as i64)
                }
            });
        match ms {
            Some(ms) => Ok(Some(ms as u64)),
            None => Err(CmdError::InvalidExpire(cmd.into())),
        }
    }
}

#[derive(Default)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Option<Ttl<'a>>,
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

/// Parses SET's options (`for_set`) or GETEX's from argument `from` on.
fn parse_opts<'a>(args: &Args<'a>, from: usize, for_set: bool) -> Result<SetOpts<'a>, CmdError> {
    let mut o = SetOpts::default();
    let mut upper = [0u8; 16];
    let mut i = from;
    while i < args.len() {
        let has_value = i + 1 < args.len();
        let time = |secs, absolute| {
            has_value.then(|| Ttl::Time {
                arg: args.get(i + 1),
                secs,
                absolute,
            })
        };
        let ttl = match keyword(args.get(i), &mut upper) {
            b"NX" if for_set && !o.xx => {
                o.nx = true;
                None
            }
            b"XX" if for_set && !o.nx => {
                o.xx = true;
                None
            }
            b"GET" if for_set => {
                o.get = true;
                None
            }
            b"KEEPTTL" if for_set => Some(Ttl::Keep),
            b"PERSIST" if !for_set => Some(Ttl::Persist),
            b"EX" => Some(time(true, false).ok_or(CmdError::Syntax)?),
            b"PX" => Some(time(false, false).ok_or(CmdError::Syntax)?),
            b"EXAT" => Some(time(true, true).ok_or(CmdError::Syntax)?),
            b"PXAT" => Some(time(false, true).ok_or(CmdError::Syntax)?),
            _ => return Err(CmdError::Syntax),
        };
        if let Some(ttl) = ttl {
            if o.ttl.is_some_and(|had| !had.same_kind(&ttl)) {
                return Err(CmdError::Syntax);
            }
            i += matches!(ttl, Ttl::Time { .. }) as usize;
            o.ttl = Some(ttl);
        }
        i += 1;
    }
    Ok(o)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
fn set(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let o = parse_opts(args, 3, true)?;
    let expire_at = match &o.ttl {
        Some(ttl) => ttl.expire_at(ctx.now(), "set")?,
        None => None,
    };
    if o.get {
        reply_value(ctx, key, out)?;
    }
    let old_ttl = ctx.lookup(key).map(|e| e.expire_at);
    if (o.nx && old_ttl.is_some()) || (o.xx && old_ttl.is_none()) {
        if !o.get {
            out.null();
        }
        return Ok(());
    }
    let expire_at = match o.ttl {
        Some(Ttl::Keep) => old_ttl.unwrap_or(0),
        _ => expire_at.unwrap_or(0),
    };
    store(ctx, key, StrVal::from_bytes(args.get(2)), expire_at);
    if !o.get {
        out.ok();
    }
    Ok(())
}

fn setnx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let absent = !ctx.exists(key);
    if absent {
        store(ctx, key, StrVal::from_bytes(args.get(2)), 0);
    }
    out.int(absent as i64);
    Ok(())
}

/// SETEX and PSETEX: SET with a relative expiry in seconds or milliseconds.
fn set_with_ttl(ctx: &mut Ctx, args: &Args, out: &mut Out, secs: bool, cmd: &str) -> CmdResult {
    let ttl = Ttl::Time {
        arg: args.get(2),
        secs,
        absolute: false,
    };
    let expire_at = ttl.expire_at(ctx.now(), cmd)?.unwrap_or(0);
    store(ctx, args.get(1), StrVal::from_bytes(args.get(3)), expire_at);
    out.ok();
    Ok(())
}

fn setex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    set_with_ttl(ctx, args, out, true, "setex")
}

fn psetex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    set_with_ttl(ctx, args, out, false, "psetex")
}

fn getset(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_value(ctx, args.get(1), out)?;
    store(ctx, args.get(1), StrVal::from_bytes(args.get(2)), 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads

fn get(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_value(ctx, args.get(1), out)
}

fn getdel(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_value(ctx, args.get(1), out)?;
    if ctx.delete(args.get(1)) {
        ctx.dirty(1);
    }
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
fn getex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let o = parse_opts(args, 2, false)?;
    let now = ctx.now();
    let Some(e) = ctx.read(key) else {
        out.null();
        return Ok(());
    };
    let had_ttl = e.expire_at != 0;
    let s = as_str(&mut e.val)?;
    // The value is checked before the time, so a missing key never errors.
    let expire_at = match &o.ttl {
        Some(ttl) => ttl.expire_at(now, "getex")?,
        None => None,
    };
    out.bulk(s.as_bytes(&mut itoa::Buffer::new()));
    match (expire_at, o.ttl) {
        (Some(at), _) if at <= now => {
            ctx.delete(key);
        }
        (Some(at), _) => {
            ctx.set_expire(key, at);
        }
        (None, Some(Ttl::Persist)) if had_ttl => {
            ctx.set_expire(key, 0);
        }
        _ => return Ok(()),
    }
    ctx.dirty(1);
    Ok(())
}

/// MGET key [key ...]: a null for each key that is absent or not a string.
fn mget(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    out.array(args.len() - 1);
    let mut scratch = itoa::Buffer::new();
    for key in args.iter().skip(1) {
        match ctx.read(key).and_then(|e| as_str(&mut e.val).ok()) {
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
    // Both ends before the start and reversed: empty, even where clamping would meet.
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
    if args.len() % 2 == 0 {
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
pub(crate) fn check_size(len: u64, extra: u64) -> CmdResult {
    match len.checked_add(extra) {
        Some(total) if total <= MAX_STRING => Ok(()),
        _ => Err(TOO_BIG),
    }
}

fn append(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (key, tail) = (args.get(1), args.get(2));
    let len = match write_str(ctx, key)? {
        Some(s) => {
            check_size(s.len() as u64, tail.len() as u64)?;
            let buf = s.make_mut();
            buf.extend_from_slice(tail);
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
    let len = edit_str(ctx, key, |buf| {
        if buf.len() < end {
            buf.resize(end, 0);
        }
        buf[start..end].copy_from_slice(patch);
        buf.len()
    })?;
    ctx.dirty(1);
    out.int(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Counters

/// Adds `by` to the integer at `key` (0 when absent), keeping its TTL.
fn incr_by(ctx: &mut Ctx, args: &Args, out: &mut Out, by: i64) -> CmdResult {
    let key = args.get(1);
    let slot = write_str(ctx, key)?;
    let current = match &slot {
        Some(StrVal::Int(n)) => *n,
        Some(s) => parse_i64(s.as_bytes(&mut itoa::Buffer::new())).ok_or(CmdError::NotInteger)?,
        None => 0,
    };
    let n = current.checked_add(by).ok_or(CmdError::Overflow)?;
    match slot {
        Some(s) => *s = StrVal::Int(n),
        None => {
            ctx.set(key, Value::Str(StrVal::Int(n)), 0);
        }
    }
    ctx.dirty(1);
    out.int(n);
    Ok(())
}

fn incr(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    incr_by(ctx, args, out, 1)
}

fn decr(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    incr_by(ctx, args, out, -1)
}

fn incrby(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let by = int_arg(args.get(2))?;
    incr_by(ctx, args, out, by)
}

fn decrby(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let by = int_arg(args.get(2))?;
    let by = by
        .checked_neg()
        .ok_or(CmdError::Static("ERR decrement would overflow"))?;
    incr_by(ctx, args, out, by)
}

/// INCRBYFLOAT key increment. Redis adds in `long double` and stores the sum
/// printed with "%.17Lf" less its trailing zeros, so the arithmetic is done
/// in the same 80-bit format (see `longdouble`) to store the same text.
fn incrbyfloat(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let slot = write_str(ctx, key)?;
    let current = match &slot {
        Some(StrVal::Int(n)) => LongDouble::from_i64(*n),
        Some(s) => {
            LongDouble::parse(s.as_bytes(&mut itoa::Buffer::new())).ok_or(CmdError::NotFloat)?
        }
        None => LongDouble::ZERO,
    };
    let by = LongDouble::parse(args.get(2)).ok_or(CmdError::NotFloat)?;
    let sum = current.add(by).ok_or(CmdError::Static(
        "ERR increment would produce NaN or Infinity",
    ))?;
    let text = sum.to_human();
    match slot {
        Some(s) => *s = StrVal::raw(text.as_bytes()),
        None => {
            ctx.set(key, Value::Str(StrVal::raw(text.as_bytes())), 0);
        }
    }
    ctx.dirty(1);
    out.bulk(text.as_bytes());
    Ok(())
}

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
        exec: Exec::Shard(set),
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
        exec: Exec::Shard(setnx),
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
        exec: Exec::Shard(setex),
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
        exec: Exec::Shard(psetex),
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
        exec: Exec::Shard(getset),
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
        exec: Exec::Shard(getex),
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
        exec: Exec::Shard(incr),
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
        exec: Exec::Shard(decr),
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
        exec: Exec::Shard(incrby),
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
        exec: Exec::Shard(decrby),
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
        exec: Exec::Shard(incrbyfloat),
        group: "string",
        summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
        since: "2.6.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
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
    },
    CommandSpec {
        name: "substr",
        arity: 4,
        flags: "readonly",
        keys: (1, 1, 1),
        acl: "read string slow",
        route: Route::Keyed,
        exec: Exec::Shard(getrange),
        group: "string",
        summary: "Returns a substring from a string value.",
        since: "1.0.0",
        ..CommandSpec::DEFAULT
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
        e.val.encoding()
    }

    /// The key's expiry in ms from the harness's now; None without one.
    fn ttl_ms(h: &Harness, key: &str) -> Option<i64> {
        let e = h.shard.dbs[h.db].table.get(key.as_bytes()).expect("key");
        (e.expire_at != 0).then(|| e.expire_at as i64 - h.shard.now_ms as i64)
    }

    fn exists(h: &Harness, key: &str) -> bool {
        h.shard.dbs[h.db].table.get(key.as_bytes()).is_some()
    }

    const SYNTAX: &str = "ERR syntax error";
    const NOT_INT: &str = "ERR value is not an integer or out of range";

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
    fn set_nx_xx_get() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SET foo 1 nx"), R::ok());
        assert_eq!(run(&mut h, "SET foo 2 NX"), R::Nil);
        assert_eq!(run(&mut h, "SET bar 1 xx"), R::Nil);
        assert!(!exists(&h, "bar"));
        assert_eq!(run(&mut h, "SET foo 2 XX"), R::ok());
        assert_eq!(run(&mut h, "GET foo"), R::bulk("2"));
        assert_eq!(run(&mut h, "SET foo bar2 GET"), R::bulk("2"));
        assert_eq!(run(&mut h, "SET new bar GET"), R::Nil);
        assert_eq!(run(&mut h, "GET new"), R::bulk("bar"));
        assert_eq!(run(&mut h, "SET foo baz GET XX"), R::bulk("bar2"));
        assert_eq!(run(&mut h, "SET none bar GET XX"), R::Nil);
        assert!(!exists(&h, "none"));
        assert_eq!(run(&mut h, "SET foo qux GET NX"), R::bulk("baz"));
        assert_eq!(run(&mut h, "GET foo"), R::bulk("baz"));
        assert_eq!(run(&mut h, "SET foo v nx NX get GET"), R::bulk("baz"));
    }

    #[test]
    fn set_expiry_options() {
        let mut h = Harness::new();
        let now = h.shard.now_ms;
        run(&mut h, "SET foo bar EX 10");
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000));
        run(&mut h, "SET foo bar px 1500");
        assert_eq!(ttl_ms(&h, "foo"), Some(1500));
        run(&mut h, &format!("SET foo bar EXAT {}", now / 1000 + 20));
        assert_eq!(ttl_ms(&h, "foo"), Some(20_000 - (now % 1000) as i64));
        run(&mut h, &format!("SET foo bar PXAT {}", now + 300));
        assert_eq!(ttl_ms(&h, "foo"), Some(300));
        // The same option twice: the last value wins.
        run(&mut h, "SET foo bar EX 10 EX 20");
        assert_eq!(ttl_ms(&h, "foo"), Some(20_000));
        // KEEPTTL keeps it; a plain SET drops it.
        assert_eq!(run(&mut h, "SET foo baz KEEPTTL"), R::ok());
        assert_eq!(ttl_ms(&h, "foo"), Some(20_000));
        assert_eq!(run(&mut h, "SET foo baz xx px 10000"), R::ok());
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000));
        run(&mut h, "SET foo baz");
        assert_eq!(ttl_ms(&h, "foo"), None);
        run(&mut h, "SET gone v KEEPTTL");
        assert_eq!(ttl_ms(&h, "gone"), None);
        // The key goes when its time comes.
        run(&mut h, "SET short v PX 100");
        h.advance(99);
        assert_eq!(run(&mut h, "GET short"), R::bulk("v"));
        h.advance(1);
        assert_eq!(run(&mut h, "GET short"), R::Nil);
    }

    #[test]
    fn set_with_a_past_time_leaves_no_key() {
        let mut h = Harness::new();
        run(&mut h, "SET foo old");
        let dirty = h.shard.stats.dirty;
        assert_eq!(run(&mut h, "SET foo new PXAT 1"), R::ok());
        assert!(!exists(&h, "foo"));
        assert_eq!(h.shard.stats.dirty, dirty + 1);
        run(&mut h, "SET foo old");
        assert_eq!(run(&mut h, "SET foo new EXAT 1 GET"), R::bulk("old"));
        assert!(!exists(&h, "foo"));
        assert_eq!(run(&mut h, "SET nokey v EXAT 1"), R::ok());
        assert!(!exists(&h, "nokey"));
    }

    #[test]
    fn set_option_errors() {
        let mut h = Harness::new();
        for bad in [
            "SET foo bar non-existing-option",
            "SET foo bar NX XX",
            "SET foo bar XX NX",
            "SET foo bar EX 10 PX 100",
            "SET foo bar EX 10 KEEPTTL",
            "SET foo bar KEEPTTL PXAT 10",
            "SET foo bar EXAT 10 EX 10",
            "SET foo bar PERSIST",
            "SET foo bar EX",
            "SET foo bar NX EX",
        ] {
            assert_eq!(run(&mut h, bad), err(SYNTAX), "{bad}");
        }
        let invalid = err("ERR invalid expire time in 'set' command");
        for bad in [
            "SET foo bar EX 0",
            "SET foo bar EX -1",
            "SET foo bar PX 0",
            "SET foo bar EXAT 0",
            "SET foo bar PXAT -5",
            "SET foo bar EX 9223372036854775807",
            "SET foo bar PX 9223372036854775807",
        ] {
            assert_eq!(run(&mut h, bad), invalid, "{bad}");
        }
        assert_eq!(run(&mut h, "SET foo bar EX 1.5"), err(NOT_INT));
        assert_eq!(run(&mut h, "SET foo bar EX abc"), err(NOT_INT));
        assert!(!exists(&h, "foo"));
        assert_eq!(
            run(&mut h, "SET foo"),
            err("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SETNX novar foobared"), R::Int(1));
        assert_eq!(run(&mut h, "SETNX novar blabla"), R::Int(0));
        assert_eq!(run(&mut h, "GET novar"), R::bulk("foobared"));
        // A volatile key counts while it lives, and not once it is gone.
        run(&mut h, "SET x 10 PX 1000");
        assert_eq!(run(&mut h, "SETNX x 20"), R::Int(0));
        h.advance(1000);
        assert_eq!(run(&mut h, "SETNX x 20"), R::Int(1));
        assert_eq!(run(&mut h, "GET x"), R::bulk("20"));
        assert_eq!(ttl_ms(&h, "x"), None);

        assert_eq!(run(&mut h, "SETEX k 10 v"), R::ok());
        assert_eq!(ttl_ms(&h, "k"), Some(10_000));
        assert_eq!(run(&mut h, "PSETEX k 1500 w"), R::ok());
        assert_eq!(ttl_ms(&h, "k"), Some(1500));
        assert_eq!(run(&mut h, "GET k"), R::bulk("w"));
        assert_eq!(
            run(&mut h, "SETEX k 0 v"),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            run(&mut h, "PSETEX k -1 v"),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(run(&mut h, "SETEX k ten v"), err(NOT_INT));
        assert_eq!(run(&mut h, "GET k"), R::bulk("w"));
    }

    #[test]
    fn getset_and_getdel() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "GETSET foo xyz"), R::Nil);
        assert_eq!(run(&mut h, "GET foo"), R::bulk("xyz"));
        run(&mut h, "SET foo bar EX 100");
        assert_eq!(run(&mut h, "GETSET foo 12"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), None);
        assert_eq!(encoding(&h, "foo"), "int");
        let dirty = h.shard.stats.dirty;
        assert_eq!(run(&mut h, "GETDEL foo"), R::bulk("12"));
        assert_eq!(run(&mut h, "GETDEL foo"), R::Nil);
        assert!(!exists(&h, "foo"));
        assert_eq!(h.shard.stats.dirty, dirty + 1);
    }

    #[test]
    fn getex_options() {
        let mut h = Harness::new();
        let now = h.shard.now_ms;
        run(&mut h, "SET foo bar");
        assert_eq!(run(&mut h, "GETEX foo"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), None);
        assert_eq!(run(&mut h, "GETEX foo ex 10"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000));
        run(&mut h, "GETEX foo PX 10000 PX 500");
        assert_eq!(ttl_ms(&h, "foo"), Some(500));
        run(&mut h, &format!("GETEX foo EXAT {}", now / 1000 + 10));
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000 - (now % 1000) as i64));
        run(&mut h, &format!("GETEX foo pxat {}", now + 10_000));
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000));
        let dirty = h.shard.stats.dirty;
        assert_eq!(run(&mut h, "GETEX foo PERSIST"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), None);
        run(&mut h, "GETEX foo PERSIST");
        assert_eq!(
            h.shard.stats.dirty,
            dirty + 1,
            "persisting a persistent key changes nothing"
        );
        // A time already past deletes the key after replying its value.
        assert_eq!(run(&mut h, "GETEX foo PXAT 1"), R::bulk("bar"));
        assert!(!exists(&h, "foo"));
        // A missing key is nil before the time is even read.
        assert_eq!(run(&mut h, "GETEX nokey EX 0"), R::Nil);
        run(&mut h, "SET foo bar");
        assert_eq!(
            run(&mut h, "GETEX foo EX 0"),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(run(&mut h, "GETEX foo EX x"), err(NOT_INT));
        for bad in [
            "GETEX foo non-existent-option",
            "GETEX foo NX",
            "GETEX foo GET",
            "GETEX foo KEEPTTL",
            "GETEX foo PERSIST EX 10",
            "GETEX foo EX 10 PERSIST",
            "GETEX foo EX",
        ] {
            assert_eq!(run(&mut h, bad), err(SYNTAX), "{bad}");
        }
        assert_eq!(
            run(&mut h, "GETEX"),
            err("ERR wrong number of arguments for 'getex' command")
        );
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
    fn incr_and_decr() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "INCR novar"), R::Int(1));
        assert_eq!(run(&mut h, "GET novar"), R::bulk("1"));
        assert_eq!(run(&mut h, "INCR novar"), R::Int(2));
        run(&mut h, "SET novar 100 EX 50");
        assert_eq!(run(&mut h, "INCR novar"), R::Int(101));
        assert_eq!(encoding(&h, "novar"), "int");
        assert_eq!(ttl_ms(&h, "novar"), Some(50_000));
        run(&mut h, "SET novar 17179869184");
        assert_eq!(run(&mut h, "INCR novar"), R::Int(17179869185));
        assert_eq!(run(&mut h, "INCRBY novar 17179869184"), R::Int(34359738369));
        run(&mut h, "SET novar 17179869184");
        assert_eq!(run(&mut h, "DECRBY novar 17179869185"), R::Int(-1));
        assert_eq!(run(&mut h, "DECR novar"), R::Int(-2));
        for bad in ["    11", "11    ", "  11  ", "1.5", "", "0x10", "+1", "01"] {
            h.run(&["SET", "novar", bad]);
            assert_eq!(run(&mut h, "INCR novar"), err(NOT_INT), "{bad:?}");
        }
        run(&mut h, "SET x 0");
        assert_eq!(
            run(&mut h, "DECRBY x -9223372036854775808"),
            err("ERR decrement would overflow")
        );
        assert_eq!(run(&mut h, "INCRBY x abc"), err(NOT_INT));
        run(&mut h, "SET x 9223372036854775807");
        let overflow = err("ERR increment or decrement would overflow");
        assert_eq!(run(&mut h, "INCR x"), overflow);
        run(&mut h, "SET x -9223372036854775808");
        assert_eq!(run(&mut h, "DECR x"), overflow);
        assert_eq!(run(&mut h, "INCRBY x 9223372036854775807"), R::Int(-1));
        run(&mut h, "SET x 10abc");
        assert_eq!(run(&mut h, "INCRBY x abc"), err(NOT_INT));
        assert_eq!(run(&mut h, "GET x"), R::bulk("10abc"));
    }

    #[test]
    fn incrbyfloat() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "INCRBYFLOAT novar 1"), R::bulk("1"));
        assert_eq!(run(&mut h, "INCRBYFLOAT novar 0.25"), R::bulk("1.25"));
        assert_eq!(run(&mut h, "GET novar"), R::bulk("1.25"));
        run(&mut h, "SET novar 1.5 EX 100");
        assert_eq!(run(&mut h, "INCRBYFLOAT novar 1.5"), R::bulk("3"));
        assert_eq!(encoding(&h, "novar"), "embstr");
        assert_eq!(ttl_ms(&h, "novar"), Some(100_000));
        run(&mut h, "SET novar 17179869184");
        assert_eq!(
            run(&mut h, "INCRBYFLOAT novar 1.5"),
            R::bulk("17179869185.5")
        );
        run(&mut h, "SET novar 17179869184");
        assert_eq!(
            run(&mut h, "INCRBYFLOAT novar 17179869184"),
            R::bulk("34359738368")
        );
        run(&mut h, "SET foo 1");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo -1.1"), R::bulk("-0.1"));
        // Redis works in long double: these are its replies, not f64's.
        run(&mut h, "DEL foo");
        run(&mut h, "INCRBYFLOAT foo 0.1");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo 0.2"), R::bulk("0.3"));
        assert_eq!(
            run(&mut h, "INCRBYFLOAT m 1000.1"),
            R::bulk("1000.09999999999999998")
        );
        run(&mut h, "DEL foo");
        run(&mut h, &format!("INCRBYFLOAT foo {}", 1.0 / 41.0));
        assert_eq!(
            run(&mut h, &format!("INCRBYFLOAT foo {}", -1.0 / 41.0)),
            R::bulk("0")
        );
        assert_eq!(run(&mut h, "GET foo"), R::bulk("0"));

        let not_float = err("ERR value is not a valid float");
        for bad in ["    11", "11    ", " 11 ", "abc", "nan"] {
            h.run(&["SET", "novar", bad]);
            assert_eq!(run(&mut h, "INCRBYFLOAT novar 1.0"), not_float, "{bad:?}");
        }
        run(&mut h, "SET foo 1");
        run(&mut h, "SETRANGE foo 2 2");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo 1"), not_float);
        run(&mut h, "SET foo 0");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo x"), not_float);
        let nan_inf = err("ERR increment would produce NaN or Infinity");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo +inf"), nan_inf);
        run(&mut h, "SET foo inf");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo -inf"), nan_inf);
        assert_eq!(run(&mut h, "GET foo"), R::bulk("inf"));
    }

    #[test]
    fn getrange_and_substr() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "GETRANGE mykey 0 -1"), R::bulk(""));
        h.run(&["SET", "mykey", "Hello World"]);
        for (range, want) in [
            ("0 3", "Hell"),
            ("0 -1", "Hello World"),
            ("-4 -1", "orld"),
            ("5 3", ""),
            ("5 5000", " World"),
            ("-5000 10000", "Hello World"),
            ("-1 -5", ""),
            ("-20 -30", ""),
            ("0 4294967297", "Hello World"),
        ] {
            assert_eq!(
                run(&mut h, &format!("GETRANGE mykey {range}")),
                R::bulk(want),
                "{range}"
            );
        }
        run(&mut h, "SET mykey 1234");
        for (range, want) in [
            ("0 2", "123"),
            ("-3 -1", "234"),
            ("5 3", ""),
            ("3 5000", "4"),
        ] {
            assert_eq!(
                run(&mut h, &format!("SUBSTR mykey {range}")),
                R::bulk(want),
                "{range}"
            );
        }
        run(&mut h, "SET empty x");
        run(&mut h, "SETRANGE empty 0 y");
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
