//! The string family: GET, SET and the rest of Redis's string commands.

use crate::args::Args;
use crate::error::CmdResult;
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};
use crate::value::{StrVal, Value};

fn get(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    match ctx.read(args.get(1)) {
        None => out.null(),
        Some(e) => match &e.val {
            Value::Str(s) => out.bulk(s.as_bytes(&mut itoa::Buffer::new())),
        },
    }
    Ok(())
}

fn set(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    ctx.set(args.get(1), Value::Str(StrVal::from_bytes(args.get(2))), 0);
    ctx.dirty(1);
    out.ok();
    Ok(())
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "get",
        arity: 2,
        flags: "readonly fast",
        keys: (1, 1, 1),
        acl: "read string fast",
        route: Route::Keyed,
        exec: Exec::Shard(get),
        group: "string",
        summary: "Returns the string value of a key.",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: "write denyoom",
        keys: (1, 1, 1),
        acl: "write string slow",
        route: Route::Keyed,
        exec: Exec::Shard(set),
        group: "string",
        summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        ..CommandSpec::DEFAULT
    },
];

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, R};

    #[test]
    fn set_then_get() {
        let mut h = Harness::new();
        assert_eq!(h.run(&["SET", "k", "v"]), R::ok());
        assert_eq!(h.run(&["GET", "k"]), R::bulk("v"));
        assert_eq!(h.run(&["GET", "nope"]), R::Nil);
    }
}
