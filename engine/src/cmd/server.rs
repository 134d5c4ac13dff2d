//! Server commands that run on a shard without keys: PING, ECHO, TIME,
//! COMMAND, and DBSIZE's shard part.

use crate::args::Args;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Merge, Route};

fn ping(_ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    match args.len() {
        1 => out.simple("PONG"),
        2 => out.bulk(args.get(1)),
        _ => return Err(crate::cmd::arity_error(args.get(0))),
    }
    Ok(())
}

fn echo(_ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    out.bulk(args.get(1));
    Ok(())
}

fn time(ctx: &mut Ctx, _args: &Args, out: &mut Out) -> CmdResult {
    // Wall-clock microseconds, not the shard's cached batch time.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let _ = ctx;
    out.array(2);
    out.bulk_int(now.as_secs() as i64);
    out.bulk_int(now.subsec_micros() as i64);
    Ok(())
}

fn dbsize(ctx: &mut Ctx, _args: &Args, out: &mut Out) -> CmdResult {
    let n = ctx.db().table.len();
    out.int(n as i64);
    Ok(())
}

/// One COMMAND INFO entry, Redis 7's ten fields.
fn command_entry(spec: &CommandSpec, out: &mut Out) {
    out.array(10);
    out.bulk_str(spec.name);
    out.int(spec.arity as i64);
    let flags: Vec<&str> = spec.flags.split_whitespace().collect();
    out.set(flags.len());
    flags.iter().for_each(|f| out.simple(f));
    out.int(spec.keys.0 as i64);
    out.int(spec.keys.1 as i64);
    out.int(spec.keys.2 as i64);
    let acl: Vec<&str> = spec.acl.split_whitespace().collect();
    out.set(acl.len());
    acl.iter().for_each(|c| out.simple(&format!("@{c}")));
    out.array(0); // tips
    out.array(0); // key specs
    out.array(0); // subcommands
}

fn command(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let registry = ctx.shard.registry.clone();
    if args.len() == 1 {
        out.array(registry.len());
        registry.iter().for_each(|s| command_entry(s, out));
        return Ok(());
    }
    let sub = String::from_utf8_lossy(args.get(1)).to_lowercase();
    match sub.as_str() {
        "count" if args.len() == 2 => out.int(registry.len() as i64),
        "info" => {
            if args.len() == 2 {
                out.array(registry.len());
                registry.iter().for_each(|s| command_entry(s, out));
            } else {
                out.array(args.len() - 2);
                for name in args.iter().skip(2) {
                    match registry.lookup(name) {
                        Some(id) => command_entry(registry.spec(id), out),
                        None => out.null_array(),
                    }
                }
            }
        }
        "docs" => {
            let specs: Vec<&CommandSpec> = if args.len() == 2 {
                registry.iter().collect()
            } else {
                args.iter()
                    .skip(2)
                    .filter_map(|n| registry.lookup(n))
                    .map(|id| registry.spec(id))
                    .collect()
            };
            out.map(specs.len());
            for s in specs {
                out.bulk_str(s.name);
                out.map(3);
                out.bulk_str("summary");
                out.bulk_str(s.summary);
                out.bulk_str("since");
                out.bulk_str(s.since);
                out.bulk_str("group");
                out.bulk_str(s.group);
            }
        }
        "list" => {
            let names: Vec<&str> = match args.len() {
                2 => registry.iter().map(|s| s.name).collect(),
                5 if args.is(2, "FILTERBY") => {
                    let value = String::from_utf8_lossy(args.get(4)).to_lowercase();
                    if args.is(3, "ACLCAT") {
                        registry
                            .iter()
                            .filter(|s| s.acl.split_whitespace().any(|c| c == value))
                            .map(|s| s.name)
                            .collect()
                    } else if args.is(3, "PATTERN") {
                        registry
                            .iter()
                            .filter(|s| {
                                crate::glob::glob_match(args.get(4), s.name.as_bytes(), true)
                            })
                            .map(|s| s.name)
                            .collect()
                    } else if args.is(3, "MODULE") {
                        Vec::new()
                    } else {
                        return Err(CmdError::Syntax);
                    }
                }
                _ => return Err(CmdError::Syntax),
            };
            out.array(names.len());
            names.iter().for_each(|n| out.bulk_str(n));
        }
        "getkeys" if args.len() >= 3 => {
            let Some(id) = registry.lookup(args.get(2)) else {
                return Err(CmdError::Static("ERR Invalid command specified"));
            };
            let spec = registry.spec(id);
            let argc = args.len() - 2;
            if !spec.arity_ok(argc) {
                return Err(CmdError::Static(
                    "ERR Invalid number of arguments specified for command",
                ));
            }
            let inner = Args::new(args.buf(), &args.spans()[2..]);
            let keys: Vec<usize> = spec.key_positions_in(&inner).collect();
            if keys.is_empty() {
                return Err(CmdError::Static("ERR The command has no key arguments"));
            }
            out.array(keys.len());
            keys.iter().for_each(|&k| out.bulk(args.get(k + 2)));
        }
        "help" if args.len() == 2 => {
            let lines = [
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "HELP",
                "    Print this help.",
            ];
            out.help(&lines);
        }
        _ => return Err(CmdError::bad_subcommand("COMMAND", args.get(1))),
    }
    Ok(())
}

/// MEMORY USAGE's figure for `key`: its table slot, its block, and a large
/// value's own buffer (the network layer runs MEMORY; SAMPLES concerns
/// nested values, which strings do not have). `None` when absent.
pub fn memory_usage(ctx: &mut Ctx, key: &[u8]) -> Option<usize> {
    let e = ctx.lookup(key)?;
    Some(std::mem::size_of::<crate::table::Entry>() + e.mem_bytes())
}

/// FUNCTION: the functions library. Scripting is not built yet, so no
/// subcommand can add a library; FLUSH (which Redis's own test harness sends
/// before every unit) empties a library that is always empty, and the rest
/// answer Redis's unknown-subcommand error until the scripting issue lands.
fn function(_ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let flush = args.is(1, "FLUSH")
        && (args.len() == 2 || (args.len() == 3 && (args.is(2, "ASYNC") || args.is(2, "SYNC"))));
    if flush {
        out.ok();
        return Ok(());
    }
    Err(CmdError::bad_subcommand("FUNCTION", args.get(1)))
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "function",
        arity: -2,
        flags: "noscript write",
        acl: "write slow scripting",
        route: Route::AllShards(Merge::AllOk),
        exec: Exec::Shard(function),
        group: "scripting",
        summary: "A container for function commands.",
        since: "7.0.0",
        subcommands: &["flush"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: "fast",
        acl: "fast connection",
        exec: Exec::Shard(ping),
        group: "connection",
        summary: "Returns the server's liveliness response.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: "fast",
        acl: "fast connection",
        exec: Exec::Shard(echo),
        group: "connection",
        summary: "Returns the given string.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: "loading stale fast",
        acl: "fast",
        exec: Exec::Shard(time),
        group: "server",
        summary: "Returns the server time.",
        since: "2.6.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: "loading stale",
        acl: "slow connection",
        exec: Exec::Shard(command),
        group: "server",
        summary: "Returns detailed information about all commands.",
        since: "2.8.13",
        subcommands: &["count", "info", "docs", "list", "getkeys", "help"],
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: "readonly fast",
        acl: "keyspace read fast",
        route: Route::AllShards(Merge::SumInt),
        exec: Exec::Shard(dbsize),
        group: "server",
        summary: "Returns the number of keys in the database.",
        ..CommandSpec::DEFAULT
    },
];

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, R};

    #[test]
    fn ping_echo_command() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["PING"]), R::Simple("PONG".into()));
        assert_eq!(h.run(&["PING", "hi"]), R::bulk("hi"));
        assert!(h.run(&["PING", "a", "b"]).is_err());
        assert_eq!(h.run(&["ECHO", "x"]), R::bulk("x"));
        assert_eq!(
            h.run(&["COMMAND", "GETKEYS", "GET", "k"]),
            R::Arr(vec![R::bulk("k")])
        );
        // Keys counted by an argument: LIMIT and its value are not keys.
        assert_eq!(
            h.run(&[
                "COMMAND",
                "GETKEYS",
                "SINTERCARD",
                "2",
                "a",
                "b",
                "LIMIT",
                "1"
            ]),
            R::Arr(vec![R::bulk("a"), R::bulk("b")])
        );
        assert_eq!(
            h.run(&["COMMAND", "GETKEYS", "SMOVE", "a", "b", "m"]),
            R::Arr(vec![R::bulk("a"), R::bulk("b")])
        );
        assert!(matches!(h.run(&["COMMAND", "COUNT"]), R::Int(n) if n > 3));
        assert_eq!(
            h.run(&["COMMAND", "GETKEYS", "PING"]),
            R::Err("ERR The command has no key arguments".into())
        );
    }
}
