//! The keyspace family: DEL, EXISTS, TYPE, expiry, RENAME, SCAN's shard part, ...

use crate::args::Args;
use crate::error::CmdResult;
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};

fn del(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let mut n = 0;
    for key in args.iter().skip(1) {
        n += ctx.delete(key) as i64;
    }
    ctx.dirty(n as u64);
    out.int(n);
    Ok(())
}

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "del",
    arity: -2,
    flags: "write",
    keys: (1, -1, 1),
    acl: "keyspace write slow",
    route: Route::Split(Merge::SumInt),
    exec: Exec::Shard(del),
    group: "generic",
    summary: "Deletes one or more keys.",
    ..CommandSpec::DEFAULT
}];
