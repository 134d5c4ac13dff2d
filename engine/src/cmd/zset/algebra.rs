//! The algebra of sorted sets: ZUNION, ZINTER, ZDIFF, ZINTERCARD and the
//! STORE forms, and ZMPOP. A plain set may be an input, each member with
//! score 1, as in Redis.
//!
//! Their keys are routed whole to one shard (`Route::Keyed`, the keys
//! counted by numkeys plus a STORE's destination): across shards they
//! answer CROSSSLOT, as MSETNX does, until cross-shard transactions exist.

use super::range::build;
use super::{pop, reply_members, reply_scored};
use crate::args::Args;
use crate::cmd::collection::{mpop_args, positive, store, write};
use crate::cmd::{float_arg, int_arg};
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec};
use crate::types::zset::order;
use crate::types::{Coll, Set, Zset};
use crate::value::Value;
use std::collections::HashMap;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Folds `v` into `acc`; a sum of opposite infinities is 0, as in Redis.
    fn fold(self, acc: &mut f64, v: f64) {
        match self {
            Aggregate::Sum => {
                *acc += v;
                if acc.is_nan() {
                    *acc = 0.0;
                }
            }
            Aggregate::Min => *acc = acc.min(v),
            Aggregate::Max => *acc = acc.max(v),
        }
    }
}

/// One input key: a sorted set, a set (scores 1) or nothing.
#[derive(Clone, Copy)]
enum Input<'a> {
    Zset(&'a Zset),
    Set(&'a Set),
    Missing,
}

impl Input<'_> {
    fn len(self) -> usize {
        match self {
            Input::Zset(z) => z.len(),
            Input::Set(s) => s.len(),
            Input::Missing => 0,
        }
    }

    fn score(self, member: &[u8]) -> Option<f64> {
        match self {
            Input::Zset(z) => z.score(member),
            Input::Set(s) => s.contains(member).then_some(1.0),
            Input::Missing => None,
        }
    }

    fn members(self) -> Vec<(Vec<u8>, f64)> {
        match self {
            Input::Zset(z) => z.iter().map(|(m, s)| (m.to_vec(), s)).collect(),
            Input::Set(s) => s.iter().map(|m| (m.to_vec(), 1.0)).collect(),
            Input::Missing => Vec::new(),
        }
    }
}

/// The inputs at `keys`, each checked to be a sorted set or a set (a
/// read: hits and misses counted), then borrowed together.
fn inputs_of<'c>(ctx: &'c mut Ctx, keys: &[&[u8]]) -> Result<Vec<Input<'c>>, CmdError> {
    for key in keys {
        if let Some(e) = ctx.read(key) {
            if !matches!(e.value(), Value::Zset(_) | Value::Set(_)) {
                return Err(CmdError::WrongType);
            }
        }
    }
    let table = &ctx.shard.dbs[ctx.db].table;
    Ok(keys
        .iter()
        .map(|key| match table.get(key).map(|e| e.value()) {
            Some(Value::Zset(z)) => Input::Zset(z),
            Some(Value::Set(s)) => Input::Set(s),
            _ => Input::Missing,
        })
        .collect())
}

/// What the options after the keys ask for.
struct Opts {
    weights: Vec<f64>,
    aggregate: Aggregate,
    scores: bool,
    limit: usize,
}

/// A weighted score; 0 where the product is not a number (0 × inf).
fn weighted(w: f64, s: f64) -> f64 {
    let v = w * s;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// The result of `op` over `inputs`, in order; with `limit` > 0 an
/// intersection stops once it has that many.
fn compute(inputs: &[Input], op: Op, o: &Opts) -> Vec<(Vec<u8>, f64)> {
    let mut srcs: Vec<(Input, f64)> = inputs
        .iter()
        .copied()
        .zip(o.weights.iter().copied())
        .collect();
    if op != Op::Diff {
        // Smallest first: an intersection walks the smallest only.
        srcs.sort_by_key(|(i, _)| i.len());
    }
    let mut result: Vec<(Vec<u8>, f64)> = match op {
        Op::Inter => {
            let (first, w) = srcs[0];
            let mut found = Vec::new();
            for (m, s) in first.members() {
                let mut acc = weighted(w, s);
                let all = srcs[1..].iter().all(|&(i, w)| match i.score(&m) {
                    Some(v) => {
                        o.aggregate.fold(&mut acc, weighted(w, v));
                        true
                    }
                    None => false,
                });
                if all {
                    found.push((m, acc));
                    if o.limit > 0 && found.len() >= o.limit {
                        break;
                    }
                }
            }
            found
        }
        Op::Union => {
            let mut acc: HashMap<Vec<u8>, f64> = HashMap::new();
            for &(i, w) in &srcs {
                for (m, s) in i.members() {
                    let v = weighted(w, s);
                    acc.entry(m)
                        .and_modify(|a| o.aggregate.fold(a, v))
                        .or_insert(v);
                }
            }
            acc.into_iter().collect()
        }
        Op::Diff => {
            let (first, _) = srcs[0];
            let mut left = first.members();
            left.retain(|(m, _)| srcs[1..].iter().all(|(i, _)| i.score(m).is_none()));
            left
        }
    };
    result.sort_by(|a, b| order((a.1, &a.0), (b.1, &b.0)));
    result
}

/// The numkeys at `at` and the keys it counts, checked as Redis checks
/// them for these commands.
fn keys_at<'a>(args: &'a Args, at: usize) -> Result<Vec<&'a [u8]>, CmdError> {
    let n = int_arg(args.get(at))?;
    if n < 1 {
        let name = String::from_utf8_lossy(args.get(0)).to_lowercase();
        return Err(CmdError::Other(format!(
            "ERR at least 1 input key is needed for '{name}' command"
        )));
    }
    if n as u64 > (args.len() - at - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    Ok((at + 1..=at + n as usize).map(|i| args.get(i)).collect())
}

/// Reads the options from `from` on: WEIGHTS and AGGREGATE (not for a
/// difference or a count), WITHSCORES (not for a store or a count), LIMIT
/// (a count only).
fn parse_opts(
    args: &Args,
    from: usize,
    n: usize,
    op: Op,
    store: bool,
    card: bool,
) -> Result<Opts, CmdError> {
    let mut o = Opts {
        weights: vec![1.0; n],
        aggregate: Aggregate::Sum,
        scores: false,
        limit: 0,
    };
    let mut j = from;
    while j < args.len() {
        let left = args.len() - j;
        let algebra = op != Op::Diff && !card;
        if algebra && left > n && args.is(j, "weights") {
            for (k, w) in o.weights.iter_mut().enumerate() {
                *w = float_arg(args.get(j + 1 + k))
                    .map_err(|_| CmdError::Static("ERR weight value is not a float"))?;
            }
            j += 1 + n;
        } else if algebra && left >= 2 && args.is(j, "aggregate") {
            o.aggregate = match () {
                _ if args.is(j + 1, "sum") => Aggregate::Sum,
                _ if args.is(j + 1, "min") => Aggregate::Min,
                _ if args.is(j + 1, "max") => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if !store && !card && args.is(j, "withscores") {
            o.scores = true;
            j += 1;
        } else if card && left >= 2 && args.is(j, "limit") {
            o.limit = positive(args.get(j + 1), "ERR LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(o)
}

/// ZUNION, ZINTER and ZDIFF numkeys key [key ...] [options] [WITHSCORES]
fn reply_op(ctx: &mut Ctx, args: &Args, out: &mut Out, op: Op) -> CmdResult {
    let keys = keys_at(args, 1)?;
    let inputs = inputs_of(ctx, &keys)?;
    let o = parse_opts(args, 2 + keys.len(), keys.len(), op, false, false)?;
    let result = compute(&inputs, op, &o);
    let items: Vec<(&[u8], f64)> = result.iter().map(|(m, s)| (&m[..], *s)).collect();
    reply_members(out, &items, o.scores, out.resp3);
    Ok(())
}

/// ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE dst numkeys key [key ...] [options]
fn store_op(ctx: &mut Ctx, args: &Args, out: &mut Out, op: Op) -> CmdResult {
    let keys = keys_at(args, 2)?;
    let inputs = inputs_of(ctx, &keys)?;
    let o = parse_opts(args, 3 + keys.len(), keys.len(), op, true, false)?;
    let result = compute(&inputs, op, &o);
    let z = build(ctx, &result);
    if store(ctx, args.get(1), Coll::Zset(z)) {
        ctx.dirty(1);
    }
    out.int(result.len() as i64);
    Ok(())
}

fn zunion(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_op(ctx, args, out, Op::Union)
}

fn zinter(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_op(ctx, args, out, Op::Inter)
}

fn zdiff(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_op(ctx, args, out, Op::Diff)
}

fn zunionstore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    store_op(ctx, args, out, Op::Union)
}

fn zinterstore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    store_op(ctx, args, out, Op::Inter)
}

fn zdiffstore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    store_op(ctx, args, out, Op::Diff)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit]
fn zintercard(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let keys = keys_at(args, 1)?;
    let inputs = inputs_of(ctx, &keys)?;
    let o = parse_opts(args, 2 + keys.len(), keys.len(), Op::Inter, false, true)?;
    out.int(compute(&inputs, Op::Inter, &o).len() as i64);
    Ok(())
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]: pops from the first
/// of the keys that holds a sorted set; replies its name and the members
/// popped as pairs (in RESP2 too), or a null array when none does.
fn zmpop(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (numkeys, max, count) = mpop_args(args, |w| match () {
        _ if w.eq_ignore_ascii_case(b"min") => Ok(false),
        _ if w.eq_ignore_ascii_case(b"max") => Ok(true),
        _ => Err(CmdError::Syntax),
    })?;
    for k in 2..2 + numkeys {
        let key = args.get(k);
        if write::<Zset>(ctx, key)?.is_some() {
            let popped = pop(ctx, key, count, max);
            out.array(2);
            out.bulk(key);
            out.array(popped.len());
            for (m, s) in &popped {
                reply_scored(out, (m, *s), true);
            }
            return Ok(());
        }
    }
    out.null_array();
    Ok(())
}

const READ: CommandSpec = CommandSpec {
    arity: -3,
    flags: "readonly movablekeys",
    keys: (0, 0, 0),
    numkeys: 1,
    acl: "read sortedset slow",
    since: "6.2.0",
    ..super::ZSET
};

const STORE: CommandSpec = CommandSpec {
    arity: -4,
    flags: "write denyoom movablekeys",
    keys: (1, 1, 1),
    numkeys: 2,
    acl: "write sortedset slow",
    since: "2.0.0",
    ..super::ZSET
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "zunion",
        exec: Exec::Shard(zunion),
        summary: "Returns the union of multiple sorted sets.",
        ..READ
    },
    CommandSpec {
        name: "zinter",
        exec: Exec::Shard(zinter),
        summary: "Returns the intersect of multiple sorted sets.",
        ..READ
    },
    CommandSpec {
        name: "zdiff",
        exec: Exec::Shard(zdiff),
        summary: "Returns the difference between multiple sorted sets.",
        ..READ
    },
    CommandSpec {
        name: "zintercard",
        exec: Exec::Shard(zintercard),
        summary: "Returns the number of members of the intersect of multiple sorted sets.",
        since: "7.0.0",
        ..READ
    },
    CommandSpec {
        name: "zunionstore",
        exec: Exec::Shard(zunionstore),
        summary: "Stores the union of multiple sorted sets in a key.",
        ..STORE
    },
    CommandSpec {
        name: "zinterstore",
        exec: Exec::Shard(zinterstore),
        summary: "Stores the intersect of multiple sorted sets in a key.",
        ..STORE
    },
    CommandSpec {
        name: "zdiffstore",
        exec: Exec::Shard(zdiffstore),
        summary: "Stores the difference of multiple sorted sets in a key.",
        since: "6.2.0",
        ..STORE
    },
    CommandSpec {
        name: "zmpop",
        arity: -4,
        flags: "write movablekeys",
        acl: "write sortedset slow",
        exec: Exec::Shard(zmpop),
        summary: "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
        since: "7.0.0",
        ..READ
    },
];
