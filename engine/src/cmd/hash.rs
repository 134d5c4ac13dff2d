//! The hash family: HSET, HSETNX, HMSET, HGET, HMGET, HDEL, HLEN, HSTRLEN,
//! HEXISTS, HKEYS, HVALS, HGETALL, HINCRBY, HINCRBYFLOAT, HRANDFIELD and
//! HSCAN. The structure is `types::Hash`; its encodings (listpack, then
//! hashtable) follow `ShardConf::hash_limits`. Tests are in `hash/tests.rs`.

use crate::args::Args;
use crate::cmd::collection::{
    cardinality, peek, pick, random_count_args, read, remove_members, reply_random, scan, write,
    write_or_create,
};
use crate::cmd::string::float_sum;
use crate::cmd::string::longdouble::LongDouble;
use crate::cmd::{arity_error, int_arg};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};
use crate::types::{Coll, Hash};
use crate::value::parse_i64;

fn new_hash() -> Coll {
    Coll::Hash(Hash::default())
}

/// A hash's field or value, or null.
fn bulk_or_null(out: &mut Out, v: Option<&[u8]>) {
    match v {
        Some(v) => out.bulk(v),
        None => out.null(),
    }
}

/// HSET key field value [field value ...] (the count of new fields) and
/// HMSET (OK).
fn hset_generic(ctx: &mut Ctx, args: &Args, out: &mut Out, hmset: bool) -> CmdResult {
    if args.len() % 2 == 1 {
        return Err(arity_error(args.get(0)));
    }
    let limits = ctx.shard.conf.hash_limits;
    let h = write_or_create::<Hash>(ctx, args.get(1), new_hash)?;
    let mut created = 0;
    for i in (2..args.len()).step_by(2) {
        created += h.set(args.get(i), args.get(i + 1), limits) as i64;
    }
    ctx.dirty((args.len() as u64 - 2) / 2);
    if hmset {
        out.ok();
    } else {
        out.int(created);
    }
    Ok(())
}

fn hset(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    hset_generic(ctx, args, out, false)
}

fn hmset(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    hset_generic(ctx, args, out, true)
}

fn hsetnx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (key, field) = (args.get(1), args.get(2));
    if write::<Hash>(ctx, key)?.is_some_and(|h| h.contains(field)) {
        out.int(0);
        return Ok(());
    }
    let limits = ctx.shard.conf.hash_limits;
    write_or_create::<Hash>(ctx, key, new_hash)?.set(field, args.get(3), limits);
    ctx.dirty(1);
    out.int(1);
    Ok(())
}

fn hget(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let h = read::<Hash>(ctx, args.get(1))?;
    bulk_or_null(out, h.and_then(|h| h.get(args.get(2))));
    Ok(())
}

fn hmget(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let h = read::<Hash>(ctx, args.get(1))?;
    out.array(args.len() - 2);
    for field in args.iter().skip(2) {
        bulk_or_null(out, h.and_then(|h| h.get(field)));
    }
    Ok(())
}

fn hdel(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    remove_members::<Hash>(ctx, args, out)
}

fn hlen(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    cardinality::<Hash>(ctx, args, out)
}

fn hstrlen(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let h = read::<Hash>(ctx, args.get(1))?;
    let len = h.and_then(|h| h.get(args.get(2))).map_or(0, <[u8]>::len);
    out.int(len as i64);
    Ok(())
}

fn hexists(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let h = read::<Hash>(ctx, args.get(1))?;
    out.int(h.is_some_and(|h| h.contains(args.get(2))) as i64);
    Ok(())
}

/// What HKEYS, HVALS and HGETALL reply with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Fields,
    Values,
    Both,
}

fn reply_all(ctx: &mut Ctx, args: &Args, out: &mut Out, part: Part) -> CmdResult {
    let h = read::<Hash>(ctx, args.get(1))?;
    let len = h.map_or(0, Hash::len);
    if part == Part::Both {
        out.map(len);
    } else {
        out.array(len);
    }
    for (f, v) in h.iter().flat_map(|h| h.iter()) {
        if part != Part::Values {
            out.bulk(f);
        }
        if part != Part::Fields {
            out.bulk(v);
        }
    }
    Ok(())
}

fn hkeys(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_all(ctx, args, out, Part::Fields)
}

fn hvals(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_all(ctx, args, out, Part::Values)
}

fn hgetall(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_all(ctx, args, out, Part::Both)
}

/// Replaces `field` of the hash at `key` with what `next` makes of its
/// current value (None when absent), creating the hash if need be. Nothing
/// is created when `next` fails.
fn update_field<T: AsRef<[u8]>>(
    ctx: &mut Ctx,
    key: &[u8],
    field: &[u8],
    next: impl FnOnce(Option<&[u8]>) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    let current = write::<Hash>(ctx, key)?.and_then(|h| h.get(field));
    let new = next(current)?;
    let limits = ctx.shard.conf.hash_limits;
    write_or_create::<Hash>(ctx, key, new_hash)?.set(field, new.as_ref(), limits);
    ctx.dirty(1);
    Ok(new)
}

fn hincrby(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let by = int_arg(args.get(3))?;
    let mut n = 0;
    update_field(ctx, args.get(1), args.get(2), |current| {
        let current = match current {
            Some(v) => parse_i64(v).ok_or(CmdError::Static("ERR hash value is not an integer"))?,
            None => 0,
        };
        n = current.checked_add(by).ok_or(CmdError::Overflow)?;
        Ok(itoa::Buffer::new().format(n).to_owned())
    })?;
    out.int(n);
    Ok(())
}

/// HINCRBYFLOAT: long double arithmetic and formatting, as INCRBYFLOAT.
fn hincrbyfloat(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let by = LongDouble::parse(args.get(3)).ok_or(CmdError::NotFloat)?;
    if matches!(by, LongDouble::Inf { .. }) {
        return Err(CmdError::Static("ERR value is NaN or Infinity"));
    }
    let text = update_field(ctx, args.get(1), args.get(2), |current| {
        let current = match current {
            Some(v) => {
                LongDouble::parse(v).ok_or(CmdError::Static("ERR hash value is not a float"))?
            }
            None => LongDouble::ZERO,
        };
        float_sum(current, by)
    })?;
    out.bulk(text.as_bytes());
    Ok(())
}

/// One field, with its value when `values`: RESP2 flat, RESP3 as a pair.
fn reply_pair(out: &mut Out, (f, v): (&[u8], &[u8]), values: bool) {
    if values && out.resp3 {
        out.array(2);
    }
    out.bulk(f);
    if values {
        out.bulk(v);
    }
}

/// HRANDFIELD key [count [WITHVALUES]]
fn hrandfield(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    if args.len() == 2 {
        let len = read::<Hash>(ctx, key)?.map_or(0, Hash::len);
        if len == 0 {
            out.null();
            return Ok(());
        }
        let i = pick(ctx, len);
        out.bulk(peek::<Hash>(ctx, key).nth(i).0);
        return Ok(());
    }
    let count = random_count_args(args, "withvalues")?;
    reply_random::<Hash>(ctx, key, out, count, |h, picks, out| {
        // A pack's nth is a walk: list it once per batch.
        let items: Vec<(&[u8], &[u8])> = match h {
            Hash::Pack(_) => h.iter().collect(),
            Hash::Table(_) => Vec::new(),
        };
        for &i in picks {
            let pair = if items.is_empty() { h.nth(i) } else { items[i] };
            reply_pair(out, pair, count.1);
        }
    })
}

/// HSCAN key cursor [MATCH pattern] [COUNT count]
fn hscan(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    scan::<Hash>(ctx, args, out, |h, cursor, opts, items| {
        h.scan(cursor, opts.count(), |f, v| {
            if opts.matches(f) {
                items.push(f.to_vec());
                items.push(v.to_vec());
            }
        })
    })
}

const HASH: CommandSpec = CommandSpec {
    keys: (1, 1, 1),
    route: Route::Keyed,
    group: "hash",
    since: "2.0.0",
    ..CommandSpec::DEFAULT
};

const READ_FAST: CommandSpec = CommandSpec {
    flags: "readonly fast",
    acl: "read hash fast",
    ..HASH
};

const WRITE_FAST: CommandSpec = CommandSpec {
    flags: "write denyoom fast",
    acl: "write hash fast",
    ..HASH
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "hset",
        arity: -4,
        exec: Exec::Shard(hset),
        summary: "Creates or modifies the value of a field in a hash.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        exec: Exec::Shard(hmset),
        summary: "Sets the values of multiple fields.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        exec: Exec::Shard(hsetnx),
        summary: "Sets the value of a field in a hash only when the field doesn't exist.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        exec: Exec::Shard(hget),
        summary: "Returns the value of a field in a hash.",
        ..READ_FAST
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        exec: Exec::Shard(hmget),
        summary: "Returns the values of all fields in a hash.",
        ..READ_FAST
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: "write fast",
        acl: "write hash fast",
        exec: Exec::Shard(hdel),
        summary: "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
        ..HASH
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        exec: Exec::Shard(hlen),
        summary: "Returns the number of fields in a hash.",
        ..READ_FAST
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        exec: Exec::Shard(hstrlen),
        summary: "Returns the length of the value of a field.",
        since: "3.2.0",
        ..READ_FAST
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        exec: Exec::Shard(hexists),
        summary: "Determines whether a field exists in a hash.",
        ..READ_FAST
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: "readonly",
        acl: "read hash slow",
        exec: Exec::Shard(hkeys),
        summary: "Returns all fields in a hash.",
        ..HASH
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: "readonly",
        acl: "read hash slow",
        exec: Exec::Shard(hvals),
        summary: "Returns all values in a hash.",
        ..HASH
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: "readonly",
        acl: "read hash slow",
        exec: Exec::Shard(hgetall),
        summary: "Returns all fields and values in a hash.",
        ..HASH
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        exec: Exec::Shard(hincrby),
        summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        exec: Exec::Shard(hincrbyfloat),
        summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        since: "2.6.0",
        ..WRITE_FAST
    },
    CommandSpec {
        name: "hrandfield",
        arity: -2,
        flags: "readonly",
        acl: "read hash slow",
        exec: Exec::Shard(hrandfield),
        summary: "Returns one or more random fields from a hash.",
        since: "6.2.0",
        ..HASH
    },
    CommandSpec {
        name: "hscan",
        arity: -3,
        flags: "readonly",
        acl: "read hash slow",
        exec: Exec::Shard(hscan),
        summary: "Iterates over fields and values of a hash.",
        since: "2.8.0",
        ..HASH
    },
];

#[cfg(test)]
mod tests;
