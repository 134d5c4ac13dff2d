//! Command families. Each file holds one family's handlers, its table (at the
//! bottom) and its tests.

pub mod bits;
pub mod collection;
pub mod expire;
pub mod hash;
pub mod keys;
pub mod keyspace;
pub mod list;
pub mod server;
pub mod set;
pub mod string;
pub mod zset;

use crate::args::Args;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::{Ctx, Shard};
use crate::spec::{CommandSpec, Exec, FLAG_DENYOOM};

/// The engine's command tables; the network layer adds its own.
pub fn tables() -> Vec<&'static [CommandSpec]> {
    vec![
        string::COMMANDS,
        bits::COMMANDS,
        keys::COMMANDS,
        keyspace::COMMANDS,
        expire::COMMANDS,
        server::COMMANDS,
        hash::COMMANDS,
        set::COMMANDS,
        list::COMMANDS,
        zset::COMMANDS,
        zset::ALGEBRA,
    ]
}

/// Runs command `id` (already resolved and arity-checked) on this shard,
/// writing its reply or its error into `out`, and counts it in commandstats.
pub fn execute(shard: &mut Shard, db: usize, id: u16, args: &Args, out: &mut Out) {
    let spec = shard.registry.spec(id);
    let Exec::Shard(handler) = spec.exec else {
        unreachable!("{} is run by the network layer", spec.name)
    };
    // With no limit set this is one load and a branch: the meter is read
    // only when a budget exists, and only for commands that may grow memory.
    if shard.mem.budget != 0 && shard.registry.flags(id) & FLAG_DENYOOM != 0 {
        if let Err(e) = shard.make_room() {
            reject(shard, id, &e, out);
            return;
        }
    }
    let start = crate::clock::ticks();
    let result = handler(&mut Ctx::new(shard, db), args, out);
    finish(shard, id, start, result, out);
}

/// Counts a command refused before it ran (as Redis's rejected_calls) and
/// writes its error.
fn reject(shard: &mut Shard, id: u16, e: &CmdError, out: &mut Out) {
    shard.cmd_stats[id as usize].rejected_calls += 1;
    let text = e.to_string();
    shard.count_error(&text);
    out.error(&text);
}

/// Counts a command that ran since `start` (ticks) in commandstats, and
/// writes its error, if it failed, into `out` and errorstats.
pub fn finish(shard: &mut Shard, id: u16, start: u64, result: CmdResult, out: &mut Out) {
    let stat = &mut shard.cmd_stats[id as usize];
    stat.calls += 1;
    stat.ticks += crate::clock::ticks().wrapping_sub(start);
    if let Err(e) = result {
        stat.failed_calls += 1;
        let text = e.to_string();
        shard.count_error(&text);
        out.error(&text);
    }
}

/// The arity error for a command as the client spelled it.
pub fn arity_error(name: &[u8]) -> CmdError {
    CmdError::Arity(String::from_utf8_lossy(name).to_lowercase())
}

/// Redis's unknown-command error, quoting up to the first arguments.
pub fn unknown_command(args: &Args) -> CmdError {
    let name = String::from_utf8_lossy(args.get(0)).into_owned();
    let mut quoted = String::new();
    for a in args.iter().skip(1) {
        let a = String::from_utf8_lossy(a);
        // Redis quotes each argument as '%.*s' truncated to 128 bytes.
        let a: String = a.chars().take(128).collect();
        quoted.push('\'');
        quoted.push_str(&a);
        quoted.push_str("' ");
    }
    let name: String = name.chars().take(128).collect();
    CmdError::UnknownCommand { name, args: quoted }
}

/// Parses an integer argument or fails with Redis's "not an integer" error.
pub fn int_arg(a: &[u8]) -> Result<i64, CmdError> {
    crate::value::parse_i64(a).ok_or(CmdError::NotInteger)
}

/// Parses a float argument or fails with Redis's "not a valid float" error.
pub fn float_arg(a: &[u8]) -> Result<f64, CmdError> {
    crate::value::parse_f64(a).ok_or(CmdError::NotFloat)
}
