//! What the collection families (hashes, sets, lists) share: lookups that
//! check a key's type (WRONGTYPE otherwise), creating a collection on first
//! write, removing one its command emptied, count arguments, the COUNT of
//! the random-member commands, distinct random picks, and the *SCAN
//! commands' arguments.

use crate::args::Args;
use crate::cmd::int_arg;
use crate::cmd::keyspace::{parse_cursor, parse_scan_opts, ScanOpts};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::types::{Coll, Hash, List, Set, Zset};
use crate::value::Value;

/// A collection type as a family sees it.
pub(crate) trait Typed: Sized {
    /// The value as this type, None when it is another.
    fn of(v: Value<'_>) -> Option<&Self>;
    fn of_mut(c: &mut Coll) -> Option<&mut Self>;
    /// Members (a hash's fields, a list's items).
    fn len(&self) -> usize;
}

/// A collection of distinct members (hashes, sets; not lists).
pub(crate) trait Members: Typed {
    /// Removes a member (a hash's field); true when it was there.
    fn remove(&mut self, member: &[u8]) -> bool;
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
    fn len(&self) -> usize {
        Hash::len(self)
    }
}

impl Members for Hash {
    fn remove(&mut self, field: &[u8]) -> bool {
        Hash::remove(self, field)
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
    fn len(&self) -> usize {
        Set::len(self)
    }
}

impl Members for Set {
    fn remove(&mut self, member: &[u8]) -> bool {
        Set::remove(self, member)
    }
}

impl Typed for List {
    fn of(v: Value<'_>) -> Option<&List> {
        match v {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    fn of_mut(c: &mut Coll) -> Option<&mut List> {
        match c {
            Coll::List(l) => Some(l),
            _ => None,
        }
    }
    fn len(&self) -> usize {
        List::len(self)
    }
}

impl Typed for Zset {
    fn of(v: Value<'_>) -> Option<&Zset> {
        match v {
            Value::Zset(z) => Some(z),
            _ => None,
        }
    }
    fn of_mut(c: &mut Coll) -> Option<&mut Zset> {
        match c {
            Coll::Zset(z) => Some(z),
            _ => None,
        }
    }
    fn len(&self) -> usize {
        Zset::len(self)
    }
}

impl Members for Zset {
    fn remove(&mut self, member: &[u8]) -> bool {
        Zset::remove(self, member).is_some()
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

/// HDEL and SREM: removes the members named from argument 2 on, and the
/// key once they are all gone; replies how many were removed.
pub(crate) fn remove_members<T: Members>(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let mut removed = 0;
    if let Some(coll) = write::<T>(ctx, key)? {
        for m in args.iter().skip(2) {
            removed += coll.remove(m) as i64;
            if coll.len() == 0 {
                break;
            }
        }
        drop_if_empty(ctx, key);
    }
    ctx.dirty(removed as u64);
    out.int(removed);
    Ok(())
}

/// HLEN and SCARD.
pub(crate) fn cardinality<T: Typed>(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let n = read::<T>(ctx, args.get(1))?.map_or(0, T::len);
    out.int(n as i64);
    Ok(())
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

/// Stores `coll` at `key` as a new value with no TTL, replacing whatever
/// was there; an empty one deletes the key instead. True when something
/// changed (a key written, or one deleted).
pub(crate) fn store(ctx: &mut Ctx, key: &[u8], coll: Coll) -> bool {
    if coll.is_empty() {
        return ctx.delete(key);
    }
    let lru = ctx.shard.lru_clock();
    ctx.put_entry(ctx.db, crate::table::Entry::new_coll(key, coll, 0, lru));
    true
}

/// A count that must be a non-negative integer; `err` otherwise (Redis's
/// getPositiveLong with a message: one error for both).
pub(crate) fn positive(arg: &[u8], err: &'static str) -> Result<usize, CmdError> {
    crate::value::parse_i64(arg)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(CmdError::Static(err))
}

/// A count that must be an integer of at least 1 (numkeys, LMPOP's
/// COUNT); `err` otherwise.
pub(crate) fn at_least_one(arg: &[u8], err: &'static str) -> Result<usize, CmdError> {
    match positive(arg, err)? {
        0 => Err(CmdError::Static(err)),
        n => Ok(n),
    }
}

/// Redis's error for a numkeys below 1 or not a number.
pub(crate) const NUMKEYS: &str = "ERR numkeys should be greater than 0";

/// LMPOP and ZMPOP (numkeys key [key ...] WHERE [COUNT count]): the number
/// of keys, what `read_where` makes of the word after them, and the COUNT
/// (1 when absent); errors in Redis's order.
pub(crate) fn mpop_args<W>(
    args: &Args,
    read_where: impl FnOnce(&[u8]) -> Result<W, CmdError>,
) -> Result<(usize, W, usize), CmdError> {
    let numkeys = at_least_one(args.get(1), NUMKEYS)?;
    let where_at = numkeys
        .checked_add(2)
        .filter(|&i| i < args.len())
        .ok_or(CmdError::Syntax)?;
    let end = read_where(args.get(where_at))?;
    let mut count = None;
    let mut i = where_at + 1;
    while i < args.len() {
        match args.arg(i + 1) {
            Some(n) if count.is_none() && args.is(i, "count") => {
                count = Some(at_least_one(n, "ERR count should be greater than 0")?);
                i += 2;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    Ok((numkeys, end, count.unwrap_or(1)))
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
fn pick_distinct(ctx: &mut Ctx, len: usize, count: usize) -> Vec<usize> {
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

/// The members SRANDMEMBER and HRANDFIELD reply with, as positions below
/// `len` (> 0), handed to `emit` in batches: `n` < 0 draws -n with repeats,
/// `n` > 0 draws min(n, len) distinct ones. Repeats are drawn a batch at a
/// time because -n may be anything up to 2^63: Redis writes such a reply as
/// it goes, and so does this, where collecting the draws first would try to
/// allocate them all. `emit` gets the context back to look the key up.
pub(crate) fn random_picks(
    ctx: &mut Ctx,
    len: usize,
    n: i64,
    mut emit: impl FnMut(&Ctx, &[usize]),
) {
    const BATCH: usize = 1024;
    let count = n.unsigned_abs() as usize;
    if n < 0 {
        let mut batch = Vec::with_capacity(count.min(BATCH));
        let mut left = count;
        while left > 0 {
            batch.clear();
            batch.extend((0..left.min(BATCH)).map(|_| pick(ctx, len)));
            left -= batch.len();
            emit(ctx, &batch);
        }
    } else if count >= len {
        emit(ctx, &(0..len).collect::<Vec<_>>());
    } else {
        let picks = pick_distinct(ctx, len, count);
        emit(ctx, &picks);
    }
}

/// HRANDFIELD and ZRANDMEMBER's count and whether `word` (WITHVALUES,
/// WITHSCORES) follows it. With it a reply is two items per pick, so Redis
/// takes at most half the range.
pub(crate) fn random_count_args(args: &Args, word: &str) -> Result<(i64, bool), CmdError> {
    let n = random_count(args.get(2))?;
    let pairs = match args.len() {
        3 => false,
        4 if args.is(3, word) => true,
        _ => return Err(CmdError::Syntax),
    };
    if pairs && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
        return Err(CmdError::Static("ERR value is out of range"));
    }
    Ok((n, pairs))
}

/// HRANDFIELD and ZRANDMEMBER with a count `n` (see `random_picks`): the
/// array header, then `emit` replies each batch of positions from the `T`
/// at `key` (a pair each when `pairs`).
pub(crate) fn reply_random<T: Typed>(
    ctx: &mut Ctx,
    key: &[u8],
    out: &mut Out,
    (n, pairs): (i64, bool),
    mut emit: impl FnMut(&T, &[usize], &mut Out),
) -> CmdResult {
    let len = read::<T>(ctx, key)?.map_or(0, T::len);
    if len == 0 || n == 0 {
        out.array(0);
        return Ok(());
    }
    let total = random_pick_count(len, n);
    // |n| is at most 2^62 with pairs (`random_count_args`): no overflow.
    out.array(if pairs && !out.resp3 {
        2 * total
    } else {
        total
    });
    random_picks(ctx, len, n, |ctx, picks| {
        emit(peek::<T>(ctx, key), picks, out)
    });
    Ok(())
}

/// How many members `random_picks` gives for `n` over `len`.
pub(crate) fn random_pick_count(len: usize, n: i64) -> usize {
    let count = n.unsigned_abs() as usize;
    if n < 0 {
        count
    } else {
        count.min(len)
    }
}

/// A position below `len` (> 0), uniform.
pub(crate) fn pick(ctx: &mut Ctx, len: usize) -> usize {
    (ctx.shard.random() % len as u64) as usize
}

/// HSCAN and SSCAN (key cursor [MATCH pattern] [COUNT count]): `step`
/// walks the `T` from the cursor, pushing what MATCH lets through (as
/// `Scan::matches` says) and returning the next cursor. Redis reads the
/// options only once it has found the key, so a missing key answers an
/// empty scan whatever they are.
pub(crate) fn scan<T: Typed>(
    ctx: &mut Ctx,
    args: &Args,
    out: &mut Out,
    step: impl FnOnce(&T, u64, &Scan, &mut Vec<Vec<u8>>) -> u64,
) -> CmdResult {
    let cursor = parse_cursor(args.get(2))?;
    let mut items = Vec::new();
    let next = match read::<T>(ctx, args.get(1))? {
        Some(coll) => step(
            coll,
            cursor,
            &Scan(parse_scan_opts(args, 3, false)?),
            &mut items,
        ),
        None => 0,
    };
    out.array(2);
    out.bulk(itoa::Buffer::new().format(next).as_bytes());
    out.array(items.len());
    for item in &items {
        out.bulk(item);
    }
    Ok(())
}

/// A *SCAN's options.
pub(crate) struct Scan(pub ScanOpts);

impl Scan {
    pub fn count(&self) -> usize {
        self.0.count
    }

    /// Whether `item` passes MATCH.
    pub fn matches(&self, item: &[u8]) -> bool {
        self.0
            .pattern
            .as_deref()
            .is_none_or(|p| p == b"*" || crate::glob::glob_match(p, item, false))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! What the families' tests share, and tests of the shared pieces.
    use crate::testing::{Harness, R};

    #[test]
    fn random_picks_come_in_batches_and_distinct_when_asked() {
        let mut h = Harness::new();
        let mut ctx = crate::shard::Ctx::new(&mut h.shard, 0);
        let mut batches = Vec::new();
        super::random_picks(&mut ctx, 7, -2500, |_, picks| {
            assert!(picks.iter().all(|&i| i < 7));
            batches.push(picks.len());
        });
        assert_eq!(batches, [1024, 1024, 452]);
        for (n, want) in [(3, 3), (7, 7), (50, 7)] {
            let mut seen = Vec::new();
            super::random_picks(&mut ctx, 7, n, |_, picks| seen.extend_from_slice(picks));
            seen.sort();
            seen.dedup();
            assert_eq!((seen.len(), super::random_pick_count(7, n)), (want, want));
        }
    }

    pub(crate) const WRONGTYPE: &str =
        "WRONGTYPE Operation against a key holding the wrong kind of value";

    pub(crate) fn b(s: &str) -> R {
        R::bulk(s)
    }

    pub(crate) fn arr(items: &[&str]) -> R {
        R::Arr(items.iter().map(|s| b(s)).collect())
    }

    /// A model test's step on the keyspace rather than one type: RENAME,
    /// COPY REPLACE, EXPIRE or PERSIST between keys `k0`..`k{nkeys}`, run
    /// against the engine and the model `m` (key → value), replies compared.
    /// These move a collection's block or clone it, which the type's own
    /// steps never do.
    pub(crate) fn keyspace_step<V: Clone>(
        h: &mut Harness,
        m: &mut std::collections::BTreeMap<String, V>,
        rng: &mut Rng,
        nkeys: usize,
    ) {
        let (a, b) = (
            format!("k{}", rng.next(nkeys)),
            format!("k{}", rng.next(nkeys)),
        );
        let (cmd, want) = match rng.next(4) {
            0 => {
                let want = match m.remove(&a) {
                    Some(v) => {
                        m.insert(b.clone(), v);
                        R::ok()
                    }
                    None => R::Err("ERR no such key".into()),
                };
                (vec!["RENAME", &a, &b], want)
            }
            1 if a == b => (
                vec!["COPY", &a, &b, "REPLACE"],
                R::Err("ERR source and destination objects are the same".into()),
            ),
            1 => {
                let copied = m.get(&a).cloned();
                let done = copied.is_some();
                if let Some(v) = copied {
                    m.insert(b.clone(), v);
                }
                (vec!["COPY", &a, &b, "REPLACE"], R::Int(done as i64))
            }
            2 => (
                vec!["EXPIRE", &a, "1000"],
                R::Int(m.contains_key(&a) as i64),
            ),
            _ => {
                let had_ttl = matches!(h.run(&["TTL", &a]), R::Int(t) if t >= 0);
                (vec!["PERSIST", &a], R::Int(had_ttl as i64))
            }
        };
        assert_eq!(h.run(&cmd), want, "{cmd:?}");
    }

    /// A small generator for the model tests, reproducible from its seed.
    pub(crate) struct Rng(pub u64);

    impl Rng {
        pub(crate) fn seeded(seed: u64) -> Rng {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }

        pub(crate) fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }
}
