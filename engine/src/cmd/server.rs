//! Server commands that run on a shard: DBSIZE's and FLUSHDB's shard part,
//! PING, ECHO, TIME, COMMAND, DEBUG's shard parts.

use crate::args::Args;
use crate::error::CmdResult;
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};

fn dbsize(ctx: &mut Ctx, _args: &Args, out: &mut Out) -> CmdResult {
    let n = ctx.db().table.len();
    out.int(n as i64);
    Ok(())
}

pub static COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "dbsize",
    arity: 1,
    flags: "readonly fast",
    acl: "keyspace read fast",
    route: Route::AllShards(Merge::SumInt),
    exec: Exec::Shard(dbsize),
    group: "server",
    summary: "Returns the number of keys in the database.",
    ..CommandSpec::DEFAULT
}];
