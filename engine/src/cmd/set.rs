//! The set family: SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
//! SRANDMEMBER, SPOP, SMOVE and SSCAN here; the algebra (SINTER, SINTERCARD,
//! SUNION, SDIFF and their STORE forms) in `set/algebra.rs`; tests in
//! `set/tests.rs`. The structure is `types::Set`: an intset while every
//! member is an integer and there are at most `set-max-intset-entries`,
//! else a hashtable.
//!
//! Commands on several keys (SMOVE, the algebra) are routed whole to one
//! shard (`Route::Keyed`): across shards they answer CROSSSLOT, as MSETNX
//! does, until cross-shard transactions exist.

mod algebra;

use crate::args::Args;
use crate::cmd::collection::{
    cardinality, drop_if_empty, peek, pick, positive, random_count, random_pick_count,
    random_picks, read, remove_members, scan, write, write_or_create,
};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};
use crate::types::{Coll, Set};
use crate::value::StrVal;

/// set-max-intset-entries, capped as Redis caps it (an intset's own limit).
pub(crate) fn max_intset(ctx: &Ctx) -> usize {
    ctx.shard.conf.set_max_intset.min(1 << 30)
}

fn bulk_member(out: &mut Out, m: StrVal<'_>) {
    out.bulk(m.as_bytes(&mut itoa::Buffer::new()));
}

/// Replies the members as a set (`~` in RESP3).
fn reply_members<'a>(out: &mut Out, len: usize, members: impl Iterator<Item = StrVal<'a>>) {
    out.set(len);
    members.for_each(|m| bulk_member(out, m));
}

fn sadd(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let max = max_intset(ctx);
    let first = args.get(2);
    let set = write_or_create::<Set>(ctx, args.get(1), || Coll::Set(Set::for_member(first)))?;
    let mut added = 0;
    for m in args.iter().skip(2) {
        added += set.add(m, max) as i64;
    }
    ctx.dirty(added as u64);
    out.int(added);
    Ok(())
}

fn srem(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    remove_members::<Set>(ctx, args, out)
}

fn scard(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    cardinality::<Set>(ctx, args, out)
}

fn sismember(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let set = read::<Set>(ctx, args.get(1))?;
    out.int(set.is_some_and(|s| s.contains(args.get(2))) as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let set = read::<Set>(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for m in args.iter().skip(2) {
        out.int(set.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn smembers(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    match read::<Set>(ctx, args.get(1))? {
        Some(set) => reply_members(out, set.len(), set.iter()),
        None => out.set(0),
    }
    Ok(())
}

/// SRANDMEMBER key [count]: a count below 0 picks -count members with
/// repeats, in random order; above 0, min(count, len) distinct ones.
fn srandmember(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let n = match args.len() {
        2 => None,
        3 => Some(random_count(args.get(2))?),
        _ => return Err(CmdError::Syntax),
    };
    // Positions are drawn before the set is borrowed: the draws need the
    // shard's generator (see `peek`).
    let len = read::<Set>(ctx, key)?.map_or(0, Set::len);
    let Some(n) = n else {
        if len == 0 {
            out.null();
        } else {
            let i = pick(ctx, len);
            bulk_member(out, peek::<Set>(ctx, key).nth(i));
        }
        return Ok(());
    };
    if len == 0 || n == 0 {
        out.array(0);
        return Ok(());
    }
    out.array(random_pick_count(len, n));
    random_picks(ctx, len, n, |ctx, picks| {
        let set = peek::<Set>(ctx, key);
        picks.iter().for_each(|&i| bulk_member(out, set.nth(i)));
    });
    Ok(())
}

/// SPOP key [count]: removes and replies random members (a set reply with
/// a count, which all of a smaller set answers whole).
fn spop(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let count = match args.len() {
        2 => None,
        // Redis's getPositiveLong: one error for negative and not a number.
        3 => Some(positive(
            args.get(2),
            "ERR value is out of range, must be positive",
        )?),
        _ => return Err(CmdError::Syntax),
    };
    let len = write::<Set>(ctx, key)?.map_or(0, |s| s.len());
    match count {
        None if len == 0 => out.null(),
        None => {
            let i = pick(ctx, len);
            let set = write::<Set>(ctx, key)?.expect("found above");
            out.bulk(&set.remove_nth(i));
            ctx.dirty(1);
        }
        Some(count) if len == 0 || count == 0 => out.set(0),
        Some(count) if count >= len => {
            let set = write::<Set>(ctx, key)?.expect("found above");
            reply_members(out, len, set.iter());
            ctx.delete(key);
            ctx.dirty(len as u64);
        }
        Some(count) => {
            out.set(count);
            for left in (len - count + 1..=len).rev() {
                let i = pick(ctx, left);
                let set = write::<Set>(ctx, key)?.expect("found above");
                out.bulk(&set.remove_nth(i));
            }
            ctx.dirty(count as u64);
        }
    }
    drop_if_empty(ctx, key);
    Ok(())
}

/// SMOVE source destination member
fn smove(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (src, dst, member) = (args.get(1), args.get(2), args.get(3));
    // A missing source answers 0 before any type is checked, as in Redis.
    if !ctx.exists(src) {
        out.int(0);
        return Ok(());
    }
    write::<Set>(ctx, src)?;
    write::<Set>(ctx, dst)?;
    if src == dst {
        let found = write::<Set>(ctx, src)?.is_some_and(|s| s.contains(member));
        out.int(found as i64);
        return Ok(());
    }
    let removed = write::<Set>(ctx, src)?.is_some_and(|s| s.remove(member));
    if !removed {
        out.int(0);
        return Ok(());
    }
    drop_if_empty(ctx, src);
    let max = max_intset(ctx);
    let set = write_or_create::<Set>(ctx, dst, || Coll::Set(Set::for_member(member)))?;
    let added = set.add(member, max);
    ctx.dirty(1 + added as u64);
    out.int(1);
    Ok(())
}

/// SSCAN key cursor [MATCH pattern] [COUNT count]
fn sscan(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    scan::<Set>(ctx, args, out, |set, cursor, opts, items| {
        set.scan(cursor, opts.count(), |m| {
            let m = m.to_vec();
            if opts.matches(&m) {
                items.push(m);
            }
        })
    })
}

const SET: CommandSpec = CommandSpec {
    keys: (1, 1, 1),
    route: Route::Keyed,
    group: "set",
    since: "1.0.0",
    ..CommandSpec::DEFAULT
};

const READ_FAST: CommandSpec = CommandSpec {
    flags: "readonly fast",
    acl: "read set fast",
    ..SET
};

const READ_SLOW: CommandSpec = CommandSpec {
    flags: "readonly",
    acl: "read set slow",
    ..SET
};

const WRITE_FAST: CommandSpec = CommandSpec {
    flags: "write fast",
    acl: "write set fast",
    ..SET
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: "write denyoom fast",
        exec: Exec::Shard(sadd),
        summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        exec: Exec::Shard(srem),
        summary: "Removes one or more members from a set. Deletes the set if the last member was removed.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        exec: Exec::Shard(scard),
        summary: "Returns the number of members in a set.",
        ..READ_FAST
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        exec: Exec::Shard(sismember),
        summary: "Determines whether a member belongs to a set.",
        ..READ_FAST
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        exec: Exec::Shard(smismember),
        summary: "Determines whether multiple members belong to a set.",
        since: "6.2.0",
        ..READ_FAST
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        exec: Exec::Shard(smembers),
        summary: "Returns all members of a set.",
        ..READ_SLOW
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        exec: Exec::Shard(srandmember),
        summary: "Get one or multiple random members from a set",
        ..READ_SLOW
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        exec: Exec::Shard(spop),
        summary: "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        keys: (1, 2, 1),
        exec: Exec::Shard(smove),
        summary: "Moves a member from one set to another.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "sscan",
        arity: -3,
        exec: Exec::Shard(sscan),
        summary: "Iterates over members of a set.",
        since: "2.8.0",
        ..READ_SLOW
    },
    algebra::SINTER,
    algebra::SINTERSTORE,
    algebra::SINTERCARD,
    algebra::SUNION,
    algebra::SUNIONSTORE,
    algebra::SDIFF,
    algebra::SDIFFSTORE,
];

#[cfg(test)]
mod tests;
