//! What the collection families (hashes, sets) share: lookups that check a
//! key's type (WRONGTYPE otherwise), creating a collection on first write,
//! removing one its command emptied, the COUNT of the random-member
//! commands, distinct random picks, and the *SCAN commands' arguments.

use crate::args::Args;
use crate::cmd::int_arg;
use crate::cmd::keyspace::{parse_cursor, parse_scan_opts, ScanOpts};
use crate::error::CmdError;
use crate::reply::Out;
use crate::shard::Ctx;
use crate::types::{Coll, Hash, Set};
use crate::value::Value;

/// A collection type as a family sees it.
pub(crate) trait Typed: Sized {
    /// The value as this type, None when it is another.
    fn of(v: Value<'_>) -> Option<&Self>;
    fn of_mut(c: &mut Coll) -> Option<&mut Self>;
}

impl Typed for Hash {
    fn of(v: Value<'_>) -> Option<&Hash> {
        match v {
            Value::Hash(h) => Some(h),
            _ => None,
        }
    }
    fn of_mut(c: &mut Coll) -> Option<&mut Hash> {
        match c {
            Coll::Hash(h) => Some(h),
            _ => None,
        }
    }
}

impl Typed for Set {
    fn of(v: Value<'_>) -> Option<&Set> {
        match v {
            Value::Set(s) => Some(s),
            _ => None,
        }
    }
    fn of_mut(c: &mut Coll) -> Option<&mut Set> {
        match c {
            Coll::Set(s) => Some(s),
            _ => None,
        }
    }
}

/// The `T` at `key` for a read (counts a hit or a miss, touches the LRU
/// clock); None when absent, WRONGTYPE when another type.
pub(crate) fn read<'c, T: Typed>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c T>, CmdError> {
    match ctx.read(key) {
        None => Ok(None),
        Some(e) => {
            let e: &'c _ = e;
            T::of(e.value()).map(Some).ok_or(CmdError::WrongType)
        }
    }
}

/// The `T` at `key`, which this command has already looked up with `read`
/// or `write` (so it is live and of this type): a second look, for a
/// command that needed the shard in between (its random generator).
pub(crate) fn peek<'c, T: Typed>(ctx: &'c Ctx, key: &[u8]) -> &'c T {
    let e = ctx.shard.dbs[ctx.db].table.get(key);
    e.and_then(|e| T::of(e.value()))
        .expect("looked up and type-checked earlier in the command")
}

/// The `T` at `key` for a write (no hit/miss counting); None when absent.
pub(crate) fn write<'c, T: Typed>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<Option<&'c mut T>, CmdError> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(e) => e
            .coll_mut()
            .and_then(T::of_mut)
            .map(Some)
            .ok_or(CmdError::WrongType),
    }
}

/// The `T` at `key` for a write, created by `new` (with no TTL) when absent.
pub(crate) fn write_or_create<'c, T: Typed>(
    ctx: &'c mut Ctx,
    key: &[u8],
    new: impl FnOnce() -> Coll,
) -> Result<&'c mut T, CmdError> {
    if write::<T>(ctx, key)?.is_none() {
        let lru = ctx.shard.lru_clock();
        let entry = crate::table::Entry::new_coll(key, new(), 0, lru);
        ctx.put_entry(ctx.db, entry);
    }
    Ok(write::<T>(ctx, key)?.expect("created above"))
}

/// Deletes `key` when the collection there is empty (Redis never keeps an
/// empty collection: a command that empties one removes its key).
pub(crate) fn drop_if_empty(ctx: &mut Ctx, key: &[u8]) {
    let empty = ctx
        .lookup(key)
        .and_then(|e| e.coll_mut())
        .is_some_and(|c| c.is_empty());
    if empty {
        ctx.delete(key);
    }
}

/// The count of SRANDMEMBER and HRANDFIELD: any i64 but i64::MIN (Redis
/// takes -LONG_MAX..LONG_MAX). Negative means "with repeats".
pub(crate) fn random_count(arg: &[u8]) -> Result<i64, CmdError> {
    let n = int_arg(arg)?;
    if n == i64::MIN {
        return Err(CmdError::Static(
            "ERR value is out of range, value must between -9223372036854775807 and \
             9223372036854775807",
        ));
    }
    Ok(n)
}

/// `count` distinct positions below `len` (count < len), in random order.
/// A small pick samples and rejects repeats; a large one shuffles the
/// front of the whole range (Redis also switches strategy on the ratio).
pub(crate) fn pick_distinct(ctx: &mut Ctx, len: usize, count: usize) -> Vec<usize> {
    if count * 3 > len {
        let mut all: Vec<usize> = (0..len).collect();
        for i in 0..count {
            let j = i + (ctx.shard.random() % (len - i) as u64) as usize;
            all.swap(i, j);
        }
        all.truncate(count);
        return all;
    }
    let mut seen = std::collections::HashSet::with_capacity(count);
    let mut picks = Vec::with_capacity(count);
    while picks.len() < count {
        let i = (ctx.shard.random() % len as u64) as usize;
        if seen.insert(i) {
            picks.push(i);
        }
    }
    picks
}

/// A position below `len` (> 0), uniform.
pub(crate) fn pick(ctx: &mut Ctx, len: usize) -> usize {
    (ctx.shard.random() % len as u64) as usize
}

/// HSCAN's and SSCAN's cursor (after the key).
pub(crate) fn scan_cursor(args: &Args) -> Result<u64, CmdError> {
    parse_cursor(args.get(2))
}

/// HSCAN's and SSCAN's options. Redis reads them after it has found the
/// key, so a missing key answers an empty scan whatever they are.
pub(crate) fn scan_opts(args: &Args) -> Result<ScanOpts, CmdError> {
    parse_scan_opts(args, 3, false)
}

/// Whether `item` passes a scan's MATCH.
pub(crate) fn scan_match(opts: &ScanOpts, item: &[u8]) -> bool {
    opts.pattern
        .as_deref()
        .is_none_or(|p| p == b"*" || crate::glob::glob_match(p, item, false))
}

/// A *SCAN reply: the next cursor and the items found.
pub(crate) fn scan_reply(out: &mut Out, next: u64, items: &[Vec<u8>]) {
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len());
    for item in items {
        out.bulk(item);
    }
}
