//! The sorted set family: ZADD, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE,
//! ZRANK, ZREVRANK, ZPOPMIN, ZPOPMAX, ZRANDMEMBER and ZSCAN here; the
//! range commands (ZRANGE and its older forms, ZRANGESTORE, ZCOUNT,
//! ZLEXCOUNT, ZREMRANGEBY*) in `zset/range.rs`; ZUNION, ZINTER, ZDIFF,
//! ZINTERCARD, the STORE forms and ZMPOP in `zset/algebra.rs` (with their
//! own table, `ALGEBRA`); tests in `zset/tests.rs`.
//! The structure is `types::Zset`: a listpack while it fits
//! `ShardConf::zset_limits`, else a tree Redis would call a skiplist.
//!
//! The blocking BZPOPMIN, BZPOPMAX and BZMPOP are not here yet: they answer
//! unknown command rather than pretend to block.

mod algebra;
mod range;

pub use algebra::COMMANDS as ALGEBRA;

use crate::args::Args;
use crate::cmd::collection::{
    cardinality, drop_if_empty, peek, pick, positive, random_count_args, read, remove_members,
    reply_random, scan, write, write_or_create,
};
use crate::cmd::float_arg;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};
use crate::types::{Coll, Zset};

/// A member and its score: RESP2 flat, RESP3 as a pair when `nested`.
fn reply_scored(out: &mut Out, (m, s): (&[u8], f64), nested: bool) {
    if nested {
        out.array(2);
    }
    out.bulk(m);
    out.double(s);
}

/// Members with or without their scores, as the range and pop commands
/// reply: RESP2 one flat array, RESP3 an array of pairs when `nested`.
fn reply_members(out: &mut Out, items: &[(&[u8], f64)], scores: bool, nested: bool) {
    match (scores, nested) {
        (false, _) => out.array(items.len()),
        (true, false) => out.array(2 * items.len()),
        (true, true) => out.array(items.len()),
    }
    for &item in items {
        if scores {
            reply_scored(out, item, nested);
        } else {
            out.bulk(item.0);
        }
    }
}

/// ZADD's options.
#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
/// and ZINCRBY key increment member (`incr`).
fn zadd_generic(ctx: &mut Ctx, args: &Args, out: &mut Out, incr: bool) -> CmdResult {
    let mut f = AddFlags {
        incr,
        ..AddFlags::default()
    };
    let mut at = 2;
    while at < args.len() {
        let flag = match () {
            _ if args.is(at, "nx") => &mut f.nx,
            _ if args.is(at, "xx") => &mut f.xx,
            _ if args.is(at, "ch") => &mut f.ch,
            _ if args.is(at, "incr") => &mut f.incr,
            _ if args.is(at, "gt") => &mut f.gt,
            _ if args.is(at, "lt") => &mut f.lt,
            _ => break,
        };
        *flag = true;
        at += 1;
    }
    let pairs = args.len() - at;
    if pairs % 2 == 1 || pairs == 0 {
        return Err(CmdError::Syntax);
    }
    if f.nx && f.xx {
        return Err(CmdError::Static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (f.gt || f.lt) && f.nx || f.gt && f.lt {
        return Err(CmdError::Static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && pairs > 2 {
        return Err(CmdError::Static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    // Every score is checked before anything changes: all or nothing.
    let scores = (at..args.len())
        .step_by(2)
        .map(|i| float_arg(args.get(i)))
        .collect::<Result<Vec<f64>, _>>()?;
    let key = args.get(1);
    let limits = ctx.shard.conf.zset_limits;
    let (mut added, mut updated, mut processed, mut last) = (0, 0, 0, 0.0);
    let mut failed = None;
    // XX needs the key there; otherwise one lookup finds or makes it.
    if !f.xx || write::<Zset>(ctx, key)?.is_some() {
        let first = args.get(at + 1);
        let z = write_or_create::<Zset>(ctx, key, || Coll::Zset(Zset::for_first(first, limits)))?;
        for (j, &score) in scores.iter().enumerate() {
            let member = args.get(at + 1 + 2 * j);
            let new = match z.score(member) {
                Some(_) if f.nx => continue,
                None if f.xx => continue,
                Some(cur) => {
                    let new = if f.incr { cur + score } else { score };
                    if new.is_nan() {
                        failed = Some(CmdError::Static(
                            "ERR resulting score is not a number (NaN)",
                        ));
                        break;
                    }
                    if (f.lt && new >= cur) || (f.gt && new <= cur) {
                        continue;
                    }
                    if new != cur {
                        z.set(member, new, limits);
                        updated += 1;
                    }
                    new
                }
                None => {
                    z.set(member, score, limits);
                    added += 1;
                    score
                }
            };
            processed += 1;
            last = new;
        }
        // A key made here gets its first member: only XX skips a new
        // member, and only one already there can make a NaN. So no check
        // for an empty key is needed.
    }
    ctx.dirty(added + updated);
    if let Some(e) = failed {
        return Err(e);
    }
    if f.incr {
        if processed > 0 {
            out.double(last);
        } else {
            out.null();
        }
    } else {
        out.int((if f.ch { added + updated } else { added }) as i64);
    }
    Ok(())
}

fn zadd(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    zadd_generic(ctx, args, out, false)
}

fn zincrby(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    zadd_generic(ctx, args, out, true)
}

fn zrem(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    remove_members::<Zset>(ctx, args, out)
}

fn zcard(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    cardinality::<Zset>(ctx, args, out)
}

fn double_or_null(out: &mut Out, d: Option<f64>) {
    match d {
        Some(d) => out.double(d),
        None => out.null(),
    }
}

fn zscore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let z = read::<Zset>(ctx, args.get(1))?;
    double_or_null(out, z.and_then(|z| z.score(args.get(2))));
    Ok(())
}

fn zmscore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let z = read::<Zset>(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        double_or_null(out, z.and_then(|z| z.score(m)));
    }
    Ok(())
}

/// ZRANK and ZREVRANK (`rev`).
fn rank_generic(ctx: &mut Ctx, args: &Args, out: &mut Out, rev: bool) -> CmdResult {
    let z = read::<Zset>(ctx, args.get(1))?;
    match z.and_then(|z| Some((z.rank(args.get(2))?, z.len()))) {
        Some((r, len)) => out.int(if rev { len - 1 - r } else { r } as i64),
        None => out.null(),
    }
    Ok(())
}

fn zrank(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    rank_generic(ctx, args, out, false)
}

fn zrevrank(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    rank_generic(ctx, args, out, true)
}

/// Removes up to `count` members from the low end (the high end when
/// `max`) of the set at `key`, which is there, deleting the key once
/// empty; what was removed, in the order removed.
pub(crate) fn pop(ctx: &mut Ctx, key: &[u8], count: usize, max: bool) -> Vec<(Vec<u8>, f64)> {
    let Ok(Some(z)) = write::<Zset>(ctx, key) else {
        return Vec::new();
    };
    let n = count.min(z.len());
    let (from, to) = if max { (z.len() - n, z.len()) } else { (0, n) };
    let popped: Vec<(Vec<u8>, f64)> = z
        .range(from, to, max)
        .into_iter()
        .map(|(m, s)| (m.to_vec(), s))
        .collect();
    for (m, _) in &popped {
        z.remove(m);
    }
    drop_if_empty(ctx, key);
    ctx.dirty(popped.len() as u64);
    popped
}

/// ZPOPMIN and ZPOPMAX key [count]
fn pop_generic(ctx: &mut Ctx, args: &Args, out: &mut Out, max: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.len() {
        3 => Some(positive(
            args.get(2),
            "ERR value is out of range, must be positive",
        )?),
        _ => None,
    };
    let key = args.get(1);
    if write::<Zset>(ctx, key)?.is_none() || count == Some(0) {
        out.array(0);
        return Ok(());
    }
    let popped = pop(ctx, key, count.unwrap_or(1), max);
    let items: Vec<(&[u8], f64)> = popped.iter().map(|(m, s)| (&m[..], *s)).collect();
    // One member (no count) is a flat pair in RESP3 too.
    reply_members(out, &items, true, out.resp3 && count.is_some());
    Ok(())
}

fn zpopmin(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    pop_generic(ctx, args, out, false)
}

fn zpopmax(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    pop_generic(ctx, args, out, true)
}

/// ZRANDMEMBER key [count [WITHSCORES]]
fn zrandmember(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    if args.len() == 2 {
        let len = read::<Zset>(ctx, key)?.map_or(0, Zset::len);
        if len == 0 {
            out.null();
            return Ok(());
        }
        let i = pick(ctx, len);
        out.bulk(peek::<Zset>(ctx, key).nth(i).0);
        return Ok(());
    }
    let (n, scores) = random_count_args(args, "withscores")?;
    reply_random::<Zset>(ctx, key, out, (n, scores), |z, picks, out| {
        // A pack's nth is a walk: list it once per batch.
        let items: Vec<(&[u8], f64)> = match z {
            Zset::Pack(_) => z.iter().collect(),
            Zset::Tree(_) => Vec::new(),
        };
        for &i in picks {
            let item = if items.is_empty() { z.nth(i) } else { items[i] };
            if scores {
                reply_scored(out, item, out.resp3);
            } else {
                out.bulk(item.0);
            }
        }
    })
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count]
fn zscan(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    scan::<Zset>(ctx, args, out, |z, cursor, opts, items| {
        z.scan(cursor, opts.count(), |m, s| {
            if opts.matches(m) {
                items.push(m.to_vec());
                items.push(crate::reply::format_double(s).into_bytes());
            }
        })
    })
}

const ZSET: CommandSpec = CommandSpec {
    keys: (1, 1, 1),
    route: Route::Keyed,
    group: "sorted-set",
    since: "1.2.0",
    ..CommandSpec::DEFAULT
};

const READ_FAST: CommandSpec = CommandSpec {
    flags: "readonly fast",
    acl: "read sortedset fast",
    ..ZSET
};

const READ: CommandSpec = CommandSpec {
    flags: "readonly",
    acl: "read sortedset slow",
    ..ZSET
};

const WRITE_FAST: CommandSpec = CommandSpec {
    flags: "write denyoom fast",
    acl: "write sortedset fast",
    ..ZSET
};

const WRITE: CommandSpec = CommandSpec {
    flags: "write",
    acl: "write sortedset slow",
    ..ZSET
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zadd",
        arity: -4,
        exec: Exec::Shard(zadd),
        summary: "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        exec: Exec::Shard(zincrby),
        summary: "Increments the score of a member in a sorted set.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: "write fast",
        exec: Exec::Shard(zrem),
        summary: "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        exec: Exec::Shard(zcard),
        summary: "Returns the number of members in a sorted set.",
        ..READ_FAST
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        exec: Exec::Shard(zscore),
        summary: "Returns the score of a member in a sorted set.",
        ..READ_FAST
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        exec: Exec::Shard(zmscore),
        summary: "Returns the score of one or more members in a sorted set.",
        since: "6.2.0",
        ..READ_FAST
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        exec: Exec::Shard(zrank),
        summary: "Returns the index of a member in a sorted set ordered by ascending scores.",
        since: "2.0.0",
        ..READ_FAST
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        exec: Exec::Shard(zrevrank),
        summary: "Returns the index of a member in a sorted set ordered by descending scores.",
        since: "2.0.0",
        ..READ_FAST
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        exec: Exec::Shard(zpopmin),
        summary: "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        since: "5.0.0",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        exec: Exec::Shard(zpopmax),
        summary: "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        since: "5.0.0",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "zrandmember",
        arity: -2,
        exec: Exec::Shard(zrandmember),
        summary: "Returns one or more random members from a sorted set.",
        since: "6.2.0",
        ..READ
    },
    CommandSpec {
        name: "zscan",
        arity: -3,
        exec: Exec::Shard(zscan),
        summary: "Iterates over members and scores of a sorted set.",
        since: "2.8.0",
        ..READ
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        exec: Exec::Shard(range::zcount),
        summary: "Returns the count of members in a sorted set that have scores within a range.",
        since: "2.0.0",
        ..READ_FAST
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        exec: Exec::Shard(range::zlexcount),
        summary: "Returns the number of members in a sorted set within a lexicographical range.",
        since: "2.8.9",
        ..READ_FAST
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        exec: Exec::Shard(range::zrange),
        summary: "Returns members in a sorted set within a range of indexes.",
        ..READ
    },
    CommandSpec {
        name: "zrangestore",
        arity: -5,
        keys: (1, 2, 1),
        flags: "write denyoom",
        acl: "write sortedset slow",
        exec: Exec::Shard(range::zrangestore),
        summary: "Stores a range of members from sorted set in a key.",
        since: "6.2.0",
        ..ZSET
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        exec: Exec::Shard(range::zrevrange),
        summary: "Returns members in a sorted set within a range of indexes in reverse order.",
        ..READ
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        exec: Exec::Shard(range::zrangebyscore),
        summary: "Returns members in a sorted set within a range of scores.",
        ..READ
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        exec: Exec::Shard(range::zrevrangebyscore),
        summary: "Returns members in a sorted set within a range of scores in reverse order.",
        since: "2.2.0",
        ..READ
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        exec: Exec::Shard(range::zrangebylex),
        summary: "Returns members in a sorted set within a lexicographical range.",
        since: "2.8.9",
        ..READ
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        exec: Exec::Shard(range::zrevrangebylex),
        summary: "Returns members in a sorted set within a lexicographical range in reverse order.",
        since: "2.8.9",
        ..READ
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        exec: Exec::Shard(range::zremrangebyrank),
        summary: "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
        since: "2.0.0",
        ..WRITE
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        exec: Exec::Shard(range::zremrangebyscore),
        summary: "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
        ..WRITE
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        exec: Exec::Shard(range::zremrangebylex),
        summary: "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
        since: "2.8.9",
        ..WRITE
    },
];

#[cfg(test)]
mod tests;
