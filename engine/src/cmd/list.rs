//! The list family: LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LLEN, LINDEX,
//! LINSERT, LRANGE, LREM, LSET, LTRIM, LPOS, LMOVE, RPOPLPUSH and LMPOP.
//! The structure is `types::List` (a deque of packed nodes, `quicklist`),
//! its node size `ShardConf::list_fill` (list-max-listpack-size). Tests are
//! in `list/tests.rs`.
//!
//! Commands on several keys (LMOVE, RPOPLPUSH, LMPOP) are routed whole to
//! one shard (`Route::Keyed`): across shards they answer CROSSSLOT, as
//! MSETNX does, until cross-shard transactions exist. The blocking forms
//! (BLPOP ...) are not built: they answer the unknown-command error.

use crate::args::Args;
use crate::cmd::collection::{
    cardinality, drop_if_empty, mpop_args, positive, read, write, write_or_create,
};
use crate::cmd::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};
use crate::types::{Coll, End, List};
use crate::value::{parse_canonical_i64, StrVal};

fn new_list() -> Coll {
    Coll::List(Box::default())
}

fn bulk_item(out: &mut Out, item: StrVal<'_>) {
    match item {
        StrVal::Int(v) => out.bulk_int(v),
        StrVal::Bytes(b) => out.bulk(b),
    }
}

/// LEFT or RIGHT (LMOVE, LMPOP).
fn end_arg(a: &[u8]) -> Result<End, CmdError> {
    if a.eq_ignore_ascii_case(b"left") {
        Ok(End::Head)
    } else if a.eq_ignore_ascii_case(b"right") {
        Ok(End::Tail)
    } else {
        Err(CmdError::Syntax)
    }
}

/// LPUSH, RPUSH and (`existing`) LPUSHX, RPUSHX: the list's new length.
fn push(ctx: &mut Ctx, args: &Args, out: &mut Out, end: End, existing: bool) -> CmdResult {
    let key = args.get(1);
    let fill = ctx.shard.conf.list_fill;
    let list = if existing {
        match write::<List>(ctx, key)? {
            Some(l) => l,
            None => {
                out.int(0);
                return Ok(());
            }
        }
    } else {
        write_or_create::<List>(ctx, key, new_list)?
    };
    for item in args.iter().skip(2) {
        list.push(end, item, fill);
    }
    let len = list.len();
    ctx.dirty(args.len() as u64 - 2);
    out.int(len as i64);
    Ok(())
}

fn lpush(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    push(ctx, args, out, End::Head, false)
}

fn rpush(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    push(ctx, args, out, End::Tail, false)
}

fn lpushx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    push(ctx, args, out, End::Head, true)
}

fn rpushx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    push(ctx, args, out, End::Tail, true)
}

/// Replies up to `count` items from `end` of the list at `key` (an array,
/// in the order popped), removes them, and the key once empty.
fn pop_reply(ctx: &mut Ctx, key: &[u8], end: End, count: usize, out: &mut Out) -> CmdResult {
    let list = write::<List>(ctx, key)?.expect("the caller found the list");
    let n = count.min(list.len());
    out.array(n);
    match end {
        End::Head => list.iter().take(n).for_each(|i| bulk_item(out, i)),
        End::Tail => list.iter_rev().take(n).for_each(|i| bulk_item(out, i)),
    }
    list.drop_end(end, n);
    if list.is_empty() {
        ctx.delete(key);
    }
    ctx.dirty(n as u64);
    Ok(())
}

/// LPOP and RPOP key [count]: one item as a bulk string, or with a count
/// an array of up to that many (a null array for a missing key).
fn pop(ctx: &mut Ctx, args: &Args, out: &mut Out, end: End) -> CmdResult {
    let key = args.get(1);
    let count = match args.len() {
        2 => None,
        3 => Some(positive(
            args.get(2),
            "ERR value is out of range, must be positive",
        )?),
        _ => return Err(crate::cmd::arity_error(args.get(0))),
    };
    let Some(list) = write::<List>(ctx, key)? else {
        match count {
            Some(_) => out.null_array(),
            None => out.null(),
        }
        return Ok(());
    };
    match count {
        None => {
            // Replied from the node before it goes: no copy of the item.
            bulk_item(out, list.peek(end).expect("a stored list is never empty"));
            list.drop_end(end, 1);
            // Checked on the list in hand: a second lookup per pop is
            // what `drop_if_empty` would cost.
            if list.is_empty() {
                ctx.delete(key);
            }
            ctx.dirty(1);
            Ok(())
        }
        Some(count) => pop_reply(ctx, key, end, count, out),
    }
}

fn lpop(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    pop(ctx, args, out, End::Head)
}

fn rpop(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    pop(ctx, args, out, End::Tail)
}

fn llen(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    cardinality::<List>(ctx, args, out)
}

/// LINDEX key index: the type is checked before the index is read.
fn lindex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let Some(list) = read::<List>(ctx, args.get(1))? else {
        out.null();
        return Ok(());
    };
    match list.get(int_arg(args.get(2))?) {
        Some(item) => bulk_item(out, item),
        None => out.null(),
    }
    Ok(())
}

/// LSET key index element
fn lset(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let fill = ctx.shard.conf.list_fill;
    let list = write::<List>(ctx, args.get(1))?.ok_or(CmdError::NoSuchKey)?;
    let i = list
        .index(int_arg(args.get(2))?)
        .ok_or(CmdError::OutOfRange)?;
    list.set(i, args.get(3), fill);
    ctx.dirty(1);
    out.ok();
    Ok(())
}

/// LINSERT key BEFORE|AFTER pivot element: the new length, -1 when the
/// pivot is not there, 0 when the key is not.
fn linsert(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let after = if args.is(2, "after") {
        true
    } else if args.is(2, "before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let fill = ctx.shard.conf.list_fill;
    let Some(list) = write::<List>(ctx, args.get(1))? else {
        out.int(0);
        return Ok(());
    };
    let pivot = args.get(3);
    let want = parse_canonical_i64(pivot);
    let Some(at) = list
        .iter()
        .position(|item| crate::types::list::matches(item, pivot, want))
    else {
        out.int(-1);
        return Ok(());
    };
    list.insert(at + after as usize, args.get(4), fill);
    let len = list.len();
    ctx.dirty(1);
    out.int(len as i64);
    Ok(())
}

/// Redis's range rule (LRANGE, LTRIM): negative indexes count from the
/// tail; the inclusive range clamped to the list, None when empty.
fn clamp_range(start: i64, stop: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let start = if start < 0 { len + start } else { start }.max(0);
    let stop = if stop < 0 { len + stop } else { stop };
    if start > stop || start >= len {
        return None;
    }
    Some((start as usize, stop.min(len - 1) as usize))
}

/// LRANGE key start stop
fn lrange(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (start, stop) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    let range = read::<List>(ctx, args.get(1))?.map(|l| (l, clamp_range(start, stop, l.len())));
    match range {
        Some((list, Some((from, to)))) => {
            out.array(to - from + 1);
            for item in list.iter_from(from).take(to - from + 1) {
                bulk_item(out, item);
            }
        }
        _ => out.array(0),
    }
    Ok(())
}

/// LTRIM key start stop: keeps the range, deletes the key when it is empty.
fn ltrim(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (start, stop) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    let key = args.get(1);
    if let Some(list) = write::<List>(ctx, key)? {
        let len = list.len();
        let (head, tail) = match clamp_range(start, stop, len) {
            Some((from, to)) => (from, len - 1 - to),
            None => (len, 0),
        };
        list.drop_end(End::Head, head);
        list.drop_end(End::Tail, tail);
        if list.is_empty() {
            ctx.delete(key);
        }
        ctx.dirty((head + tail) as u64);
    }
    out.ok();
    Ok(())
}

/// LREM key count element: count > 0 removes from the head, < 0 from the
/// tail, 0 all of them.
fn lrem(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let count = int_arg(args.get(2))?;
    let key = args.get(1);
    let fill = ctx.shard.conf.list_fill;
    let Some(list) = write::<List>(ctx, key)? else {
        out.int(0);
        return Ok(());
    };
    let from = if count < 0 { End::Tail } else { End::Head };
    let max = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_matching(args.get(3), from, max, fill);
    if list.is_empty() {
        ctx.delete(key);
    }
    ctx.dirty(removed as u64);
    out.int(removed as i64);
    Ok(())
}

/// LPOS's options.
struct PosOpts {
    /// Which match to start from (1: the first), from `from`'s end.
    rank: usize,
    from: End,
    /// None: reply one index; Some(0): every match.
    count: Option<usize>,
    /// Items to look at, 0 for all.
    maxlen: usize,
}

fn lpos_opts(args: &Args) -> Result<PosOpts, CmdError> {
    let mut opts = PosOpts {
        rank: 1,
        from: End::Head,
        count: None,
        maxlen: 0,
    };
    let mut i = 3;
    while i < args.len() {
        let value = args.arg(i + 1).ok_or(CmdError::Syntax)?;
        if args.is(i, "rank") {
            let rank = int_arg(value)?;
            if rank == 0 {
                return Err(CmdError::Static(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the \
                     second ... or use negative to start from the end of the list",
                ));
            }
            opts.from = if rank < 0 { End::Tail } else { End::Head };
            opts.rank = usize::try_from(rank.unsigned_abs()).unwrap_or(usize::MAX);
        } else if args.is(i, "count") {
            opts.count = Some(positive(value, "ERR COUNT can't be negative")?);
        } else if args.is(i, "maxlen") {
            opts.maxlen = positive(value, "ERR MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        i += 2;
    }
    Ok(opts)
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: the
/// index (as LINDEX counts) of matches, searched from the head, or from
/// the tail for a negative rank.
fn lpos(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let opts = lpos_opts(args)?;
    let Some(list) = read::<List>(ctx, args.get(1))? else {
        match opts.count {
            Some(_) => out.array(0),
            None => out.null(),
        }
        return Ok(());
    };
    let elem = args.get(2);
    let want = parse_canonical_i64(elem);
    let len = list.len();
    let scan = if opts.maxlen == 0 { len } else { opts.maxlen };
    let items: Box<dyn Iterator<Item = StrVal<'_>>> = match opts.from {
        End::Head => Box::new(list.iter()),
        End::Tail => Box::new(list.iter_rev()),
    };
    let limit = match opts.count {
        None => 1,
        Some(0) => usize::MAX,
        Some(n) => n,
    };
    let found: Vec<i64> = items
        .take(scan)
        .enumerate()
        .filter(|(_, item)| crate::types::list::matches(*item, elem, want))
        .skip(opts.rank - 1)
        .take(limit)
        .map(|(i, _)| match opts.from {
            End::Head => i as i64,
            End::Tail => (len - 1 - i) as i64,
        })
        .collect();
    match opts.count {
        Some(_) => {
            out.array(found.len());
            found.iter().for_each(|&i| out.int(i));
        }
        None => match found.first() {
            Some(&i) => out.int(i),
            None => out.null(),
        },
    }
    Ok(())
}

/// LMOVE and RPOPLPUSH: pops from `from` of `src`, pushes to `to` of
/// `dst` (the same list rotates), replies the item; null when `src` is
/// missing. Both keys' types are checked before anything moves.
fn move_item(ctx: &mut Ctx, args: &Args, out: &mut Out, from: End, to: End) -> CmdResult {
    let (src, dst) = (args.get(1), args.get(2));
    if write::<List>(ctx, src)?.is_none() {
        out.null();
        return Ok(());
    }
    write::<List>(ctx, dst)?;
    let fill = ctx.shard.conf.list_fill;
    let item = write::<List>(ctx, src)?
        .and_then(|l| l.pop(from))
        .expect("a stored list is never empty");
    // The source is dropped only after the push: when it is also the
    // destination, the item goes back into it.
    write_or_create::<List>(ctx, dst, new_list)?.push(to, &item, fill);
    drop_if_empty(ctx, src);
    ctx.dirty(1);
    out.bulk(&item);
    Ok(())
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT
fn lmove(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (from, to) = (end_arg(args.get(3))?, end_arg(args.get(4))?);
    move_item(ctx, args, out, from, to)
}

fn rpoplpush(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    move_item(ctx, args, out, End::Tail, End::Head)
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]: pops from the
/// first key holding a list; replies [key, [items]], or a null array.
fn lmpop(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (numkeys, end, count) = mpop_args(args, end_arg)?;
    for k in 2..2 + numkeys {
        let key = args.get(k);
        if write::<List>(ctx, key)?.is_some() {
            out.array(2);
            out.bulk(key);
            return pop_reply(ctx, key, end, count, out);
        }
    }
    out.null_array();
    Ok(())
}

const LIST: CommandSpec = CommandSpec {
    keys: (1, 1, 1),
    route: Route::Keyed,
    group: "list",
    since: "1.0.0",
    ..CommandSpec::DEFAULT
};

const PUSH: CommandSpec = CommandSpec {
    arity: -3,
    flags: "write denyoom fast",
    acl: "write list fast",
    ..LIST
};

const POP: CommandSpec = CommandSpec {
    arity: -2,
    flags: "write fast",
    acl: "write list fast",
    ..LIST
};

const READ_SLOW: CommandSpec = CommandSpec {
    flags: "readonly",
    acl: "read list slow",
    ..LIST
};

const WRITE_SLOW: CommandSpec = CommandSpec {
    flags: "write",
    acl: "write list slow",
    ..LIST
};

const MOVE: CommandSpec = CommandSpec {
    keys: (1, 2, 1),
    flags: "write denyoom",
    acl: "write list slow",
    ..LIST
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "lpush",
        exec: Exec::Shard(lpush),
        summary: "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        ..PUSH
    },
    CommandSpec {
        name: "rpush",
        exec: Exec::Shard(rpush),
        summary: "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        ..PUSH
    },
    CommandSpec {
        name: "lpushx",
        exec: Exec::Shard(lpushx),
        summary: "Prepends one or more elements to a list only when the list exists.",
        since: "2.2.0",
        ..PUSH
    },
    CommandSpec {
        name: "rpushx",
        exec: Exec::Shard(rpushx),
        summary: "Appends an element to a list only when the list exists.",
        since: "2.2.0",
        ..PUSH
    },
    CommandSpec {
        name: "lpop",
        exec: Exec::Shard(lpop),
        summary: "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        ..POP
    },
    CommandSpec {
        name: "rpop",
        exec: Exec::Shard(rpop),
        summary: "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
        ..POP
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: "readonly fast",
        acl: "read list fast",
        exec: Exec::Shard(llen),
        summary: "Returns the length of a list.",
        ..LIST
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        exec: Exec::Shard(lindex),
        summary: "Returns an element from a list by its index.",
        ..READ_SLOW
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: "write denyoom",
        exec: Exec::Shard(linsert),
        summary: "Inserts an element before or after another element in a list.",
        since: "2.2.0",
        ..WRITE_SLOW
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        exec: Exec::Shard(lrange),
        summary: "Returns a range of elements from a list.",
        ..READ_SLOW
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        exec: Exec::Shard(lrem),
        summary: "Removes elements from a list. Deletes the list if the last element was removed.",
        ..WRITE_SLOW
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: "write denyoom",
        exec: Exec::Shard(lset),
        summary: "Sets the value of an element in a list by its index.",
        ..WRITE_SLOW
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        exec: Exec::Shard(ltrim),
        summary: "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        ..WRITE_SLOW
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        exec: Exec::Shard(lpos),
        summary: "Returns the index of matching elements in a list.",
        since: "6.0.6",
        ..READ_SLOW
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        exec: Exec::Shard(lmove),
        summary: "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
        since: "6.2.0",
        ..MOVE
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        exec: Exec::Shard(rpoplpush),
        summary: "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
        since: "1.2.0",
        ..MOVE
    },
    CommandSpec {
        name: "lmpop",
        arity: -4,
        flags: "write movablekeys",
        keys: (0, 0, 0),
        numkeys: 1,
        exec: Exec::Shard(lmpop),
        summary: "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        since: "7.0.0",
        ..WRITE_SLOW
    },
];

#[cfg(test)]
mod tests;
