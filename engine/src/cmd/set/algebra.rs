//! SINTER, SINTERCARD, SUNION, SDIFF and the STORE forms.
//!
//! Every key is first looked up (lazy expiry, hit/miss counting, WRONGTYPE
//! if any is not a set), then the sets are borrowed together from the
//! table, read-only, and the result is built as a new `Set`: in an intset
//! while it can be, as Redis builds it, so a stored result has Redis's
//! encoding and a reply lists an all-integer result in ascending order.

use super::{max_intset, reply_members};
use crate::args::Args;
use crate::cmd::collection::{at_least_one, positive, store, Typed, NUMKEYS};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec};
use crate::types::{Coll, Set};

/// The sets at `keys` (None where a key is absent), checked first: a
/// key of another type fails the whole command. A store form looks its
/// sources up as writes (no hit/miss counting), as Redis does.
fn sets_of<'c>(
    ctx: &'c mut Ctx,
    keys: &[&[u8]],
    for_write: bool,
) -> Result<Vec<Option<&'c Set>>, CmdError> {
    for key in keys {
        let e = if for_write {
            ctx.lookup(key)
        } else {
            ctx.read(key)
        };
        if let Some(e) = e {
            Set::of(e.value()).ok_or(CmdError::WrongType)?;
        }
    }
    let table = &ctx.shard.dbs[ctx.db].table;
    Ok(keys
        .iter()
        .map(|key| table.get(key).and_then(|e| Set::of(e.value())))
        .collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Inter,
    Union,
    Diff,
}

/// The members of `op` over `sets`, built in a new set; an intersection
/// stops after `limit` members (0: no limit).
fn compute(sets: &[Option<&Set>], op: Op, limit: usize, max: usize) -> Set {
    let mut result = Set::new();
    match op {
        Op::Inter => {
            let Some(mut present) = sets.iter().copied().collect::<Option<Vec<&Set>>>() else {
                return result;
            };
            // Walk the smallest, test the others.
            present.sort_by_key(|s| s.len());
            for m in present[0].iter() {
                if present[1..].iter().all(|s| s.contains_val(m)) {
                    result.add_val(m, max);
                    if limit != 0 && result.len() >= limit {
                        break;
                    }
                }
            }
        }
        Op::Union => {
            for m in sets.iter().flatten().flat_map(|s| s.iter()) {
                result.add_val(m, max);
            }
        }
        Op::Diff => {
            let Some(first) = sets[0] else {
                return result;
            };
            let others: Vec<&Set> = sets[1..].iter().flatten().copied().collect();
            for m in first.iter() {
                if !others.iter().any(|s| s.contains_val(m)) {
                    result.add_val(m, max);
                }
            }
        }
    }
    result
}

/// SINTER, SUNION, SDIFF: keys from argument 1, a set reply.
fn reply_op(ctx: &mut Ctx, args: &Args, out: &mut Out, op: Op) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter().skip(1).collect();
    let max = max_intset(ctx);
    let sets = sets_of(ctx, &keys, false)?;
    let result = compute(&sets, op, 0, max);
    reply_members(out, result.len(), result.iter());
    Ok(())
}

/// The STORE forms: the result of the keys from argument 2 replaces the
/// destination (argument 1), which an empty result deletes.
fn store_op(ctx: &mut Ctx, args: &Args, out: &mut Out, op: Op) -> CmdResult {
    let keys: Vec<&[u8]> = args.iter().skip(2).collect();
    let max = max_intset(ctx);
    let sets = sets_of(ctx, &keys, true)?;
    let result = compute(&sets, op, 0, max);
    let len = result.len();
    if store(ctx, args.get(1), Coll::Set(result)) {
        ctx.dirty(1);
    }
    out.int(len as i64);
    Ok(())
}

fn sinter(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_op(ctx, args, out, Op::Inter)
}

fn sunion(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_op(ctx, args, out, Op::Union)
}

fn sdiff(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_op(ctx, args, out, Op::Diff)
}

fn sinterstore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    store_op(ctx, args, out, Op::Inter)
}

fn sunionstore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    store_op(ctx, args, out, Op::Union)
}

fn sdiffstore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    store_op(ctx, args, out, Op::Diff)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
fn sintercard(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let numkeys = at_least_one(args.get(1), NUMKEYS)?;
    if numkeys > args.len() - 2 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0;
    let mut i = 2 + numkeys;
    while i < args.len() {
        if args.is(i, "limit") && i + 1 < args.len() {
            limit = positive(args.get(i + 1), "ERR LIMIT can't be negative")?;
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let keys: Vec<&[u8]> = (2..2 + numkeys).map(|i| args.get(i)).collect();
    let max = max_intset(ctx);
    let sets = sets_of(ctx, &keys, false)?;
    out.int(compute(&sets, Op::Inter, limit, max).len() as i64);
    Ok(())
}

const READ: CommandSpec = CommandSpec {
    arity: -2,
    flags: "readonly",
    keys: (1, -1, 1),
    acl: "read set slow",
    ..super::SET
};

const STORE: CommandSpec = CommandSpec {
    arity: -3,
    flags: "write denyoom",
    keys: (1, -1, 1),
    acl: "write set slow",
    ..super::SET
};

pub(super) const SINTER: CommandSpec = CommandSpec {
    name: "sinter",
    exec: Exec::Shard(sinter),
    summary: "Returns the intersect of multiple sets.",
    ..READ
};

pub(super) const SINTERSTORE: CommandSpec = CommandSpec {
    name: "sinterstore",
    exec: Exec::Shard(sinterstore),
    summary: "Stores the intersect of multiple sets in a key.",
    ..STORE
};

pub(super) const SINTERCARD: CommandSpec = CommandSpec {
    name: "sintercard",
    arity: -3,
    flags: "readonly movablekeys",
    keys: (0, 0, 0),
    numkeys: 1,
    exec: Exec::Shard(sintercard),
    summary: "Returns the number of members of the intersect of multiple sets.",
    since: "7.0.0",
    ..READ
};

pub(super) const SUNION: CommandSpec = CommandSpec {
    name: "sunion",
    exec: Exec::Shard(sunion),
    summary: "Returns the union of multiple sets.",
    ..READ
};

pub(super) const SUNIONSTORE: CommandSpec = CommandSpec {
    name: "sunionstore",
    exec: Exec::Shard(sunionstore),
    summary: "Stores the union of multiple sets in a key.",
    ..STORE
};

pub(super) const SDIFF: CommandSpec = CommandSpec {
    name: "sdiff",
    exec: Exec::Shard(sdiff),
    summary: "Returns the difference of multiple sets.",
    ..READ
};

pub(super) const SDIFFSTORE: CommandSpec = CommandSpec {
    name: "sdiffstore",
    exec: Exec::Shard(sdiffstore),
    summary: "Stores the difference of multiple sets in a key.",
    ..STORE
};
