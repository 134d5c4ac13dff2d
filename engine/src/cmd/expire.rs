//! Key expiry: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX XX GT LT), TTL,
//! PTTL, EXPIRETIME, PEXPIRETIME and PERSIST.
//!
//! An expiry is stored as absolute Unix milliseconds (`Entry::expire_at`,
//! 0 = none), so a relative time is turned into an absolute one once, here,
//! and what is logged or replicated later never drifts with replay time.

use crate::args::Args;
use crate::cmd::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};

/// What the time argument of an EXPIRE-family command counts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unit {
    Seconds,
    Millis,
}

/// The NX | XX | GT | LT conditions on a key's current expiry.
#[derive(Default)]
struct Cond {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

impl Cond {
    /// Parses the options after the time, with Redis's texts and checks in its order.
    fn parse(args: &Args) -> Result<Cond, CmdError> {
        let mut c = Cond::default();
        for opt in args.iter().skip(3) {
            let flag = match opt.to_ascii_lowercase().as_slice() {
                b"nx" => &mut c.nx,
                b"xx" => &mut c.xx,
                b"gt" => &mut c.gt,
                b"lt" => &mut c.lt,
                _ => {
                    let opt = String::from_utf8_lossy(opt);
                    return Err(CmdError::Other(format!("ERR Unsupported option {opt}")));
                }
            };
            *flag = true;
        }
        if c.nx && (c.xx || c.gt || c.lt) {
            return Err(CmdError::Static(
                "ERR NX and XX, GT or LT options at the same time are not compatible",
            ));
        }
        if c.gt && c.lt {
            return Err(CmdError::Static(
                "ERR GT and LT options at the same time are not compatible",
            ));
        }
        Ok(c)
    }

    /// Whether the new expiry `when` may replace `current` (None = the key has none).
    /// A key without an expiry counts as living forever: GT never beats it, LT always does.
    fn allows(&self, current: Option<i64>, when: i64) -> bool {
        match current {
            None => !(self.xx || self.gt),
            Some(cur) => !(self.nx || (self.gt && when <= cur) || (self.lt && when >= cur)),
        }
    }
}

/// EXPIRE key seconds, PEXPIRE key ms, EXPIREAT key unix-s, PEXPIREAT key unix-ms,
/// each with [NX | XX | GT | LT]. `relative` adds the current time; `name` is
/// the command as Redis names it in the overflow error. A time that is already
/// past deletes the key (and still answers 1), as Redis does on a primary.
fn expire_generic(
    ctx: &mut Ctx,
    args: &Args,
    out: &mut Out,
    name: &str,
    unit: Unit,
    relative: bool,
) -> CmdResult {
    let cond = Cond::parse(args)?;
    let when = int_arg(args.get(2))?;
    let invalid = || CmdError::InvalidExpire(name.to_string());
    let when = match unit {
        Unit::Seconds => when.checked_mul(1000).ok_or_else(invalid)?,
        Unit::Millis => when,
    };
    let now = ctx.now();
    let when = if relative {
        when.checked_add(now as i64).ok_or_else(invalid)?
    } else {
        when
    };
    let key = args.get(1);
    let Some(e) = ctx.lookup(key) else {
        out.int(0);
        return Ok(());
    };
    let current = (e.expire_at() != 0).then_some(e.expire_at() as i64);
    if !cond.allows(current, when) {
        out.int(0);
        return Ok(());
    }
    if when <= now as i64 {
        ctx.delete_expired(key);
    } else {
        ctx.set_expire(key, when as u64);
    }
    ctx.dirty(1);
    out.int(1);
    Ok(())
}

fn expire(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, "expire", Unit::Seconds, true)
}

fn pexpire(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, "pexpire", Unit::Millis, true)
}

fn expireat(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, "expireat", Unit::Seconds, false)
}

fn pexpireat(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    expire_generic(ctx, args, out, "pexpireat", Unit::Millis, false)
}

/// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 when the key is missing, -1 when it
/// has no expiry, else the time left (`absolute` = false) or the expiry itself,
/// in `unit`. Seconds are rounded to nearest, as Redis does.
fn ttl_generic(ctx: &mut Ctx, args: &Args, out: &mut Out, unit: Unit, absolute: bool) -> CmdResult {
    let now = ctx.now() as i64;
    let reply = match ctx.lookup_notouch(args.get(1)).map(|e| e.expire_at()) {
        None => -2,
        Some(0) => -1,
        Some(at) => {
            let ms = if absolute { at as i64 } else { at as i64 - now }.max(0);
            match unit {
                Unit::Millis => ms,
                // Widened so an expiry near i64::MAX rounds as Redis's build does instead of overflowing.
                Unit::Seconds => ((ms as i128 + 500) / 1000) as i64,
            }
        }
    };
    out.int(reply);
    Ok(())
}

fn ttl(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    ttl_generic(ctx, args, out, Unit::Seconds, false)
}

fn pttl(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    ttl_generic(ctx, args, out, Unit::Millis, false)
}

fn expiretime(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    ttl_generic(ctx, args, out, Unit::Seconds, true)
}

fn pexpiretime(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    ttl_generic(ctx, args, out, Unit::Millis, true)
}

/// PERSIST key: 1 when an expiry was removed, 0 when the key is missing or has none.
fn persist(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let volatile = matches!(ctx.lookup(key), Some(e) if e.expire_at() != 0);
    if volatile {
        ctx.set_expire(key, 0);
        ctx.dirty(1);
    }
    out.int(volatile as i64);
    Ok(())
}

/// Every command here takes one key at position 1 and runs on its shard.
const KEY1: CommandSpec = CommandSpec {
    keys: (1, 1, 1),
    route: Route::Keyed,
    group: "generic",
    ..CommandSpec::DEFAULT
};

const SET_EXPIRY: CommandSpec = CommandSpec {
    arity: -3,
    flags: "write fast",
    acl: "keyspace write fast",
    ..KEY1
};

const READ_EXPIRY: CommandSpec = CommandSpec {
    arity: 2,
    flags: "readonly fast",
    acl: "keyspace read fast",
    ..KEY1
};

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "expire",
        exec: Exec::Shard(expire),
        summary: "Sets the expiration time of a key in seconds.",
        ..SET_EXPIRY
    },
    CommandSpec {
        name: "pexpire",
        exec: Exec::Shard(pexpire),
        summary: "Sets the expiration time of a key in milliseconds.",
        since: "2.6.0",
        ..SET_EXPIRY
    },
    CommandSpec {
        name: "expireat",
        exec: Exec::Shard(expireat),
        summary: "Sets the expiration time of a key to a Unix timestamp.",
        since: "1.2.0",
        ..SET_EXPIRY
    },
    CommandSpec {
        name: "pexpireat",
        exec: Exec::Shard(pexpireat),
        summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
        since: "2.6.0",
        ..SET_EXPIRY
    },
    CommandSpec {
        name: "ttl",
        exec: Exec::Shard(ttl),
        summary: "Returns the expiration time in seconds of a key.",
        ..READ_EXPIRY
    },
    CommandSpec {
        name: "pttl",
        exec: Exec::Shard(pttl),
        summary: "Returns the expiration time in milliseconds of a key.",
        since: "2.6.0",
        ..READ_EXPIRY
    },
    CommandSpec {
        name: "expiretime",
        exec: Exec::Shard(expiretime),
        summary: "Returns the expiration time of a key as a Unix timestamp.",
        since: "7.0.0",
        ..READ_EXPIRY
    },
    CommandSpec {
        name: "pexpiretime",
        exec: Exec::Shard(pexpiretime),
        summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.",
        since: "7.0.0",
        ..READ_EXPIRY
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: "write fast",
        acl: "keyspace write fast",
        exec: Exec::Shard(persist),
        summary: "Removes the expiration time of a key.",
        since: "2.2.0",
        ..KEY1
    },
];

#[cfg(test)]
mod tests {
    use crate::testing::{Harness, R};

    fn err(text: &str) -> R {
        R::Err(text.into())
    }

    /// A harness holding `foo` = `bar`, with `ttl_s` seconds to live when given.
    fn with_foo(ttl_s: Option<&str>) -> Harness {
        let mut h = Harness::new();
        h.run(&["SET", "foo", "bar"]);
        if let Some(s) = ttl_s {
            assert_eq!(h.run(&["EXPIRE", "foo", s]), R::Int(1));
        }
        h
    }

    #[test]
    fn expire_sets_and_resets_the_ttl_and_the_key_goes_at_its_time() {
        let mut h = with_foo(Some("5"));
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(5));
        assert_eq!(h.run(&["EXPIRE", "foo", "10"]), R::Int(1));
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(10));
        h.advance(9_999);
        assert_eq!(h.run(&["PTTL", "foo"]), R::Int(1));
        assert_eq!(h.run(&["GET", "foo"]), R::bulk("bar"));
        h.advance(1);
        assert_eq!(h.run(&["GET", "foo"]), R::Nil);
        assert_eq!(h.run(&["EXISTS", "foo"]), R::Int(0));
    }

    #[test]
    fn ttl_rounds_to_the_nearest_second() {
        let mut h = with_foo(None);
        h.run(&["PEXPIRE", "foo", "1499"]);
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(1));
        h.run(&["PEXPIRE", "foo", "1500"]);
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(2));
    }

    #[test]
    fn absolute_forms_and_expiretime() {
        let mut h = with_foo(None);
        let now_s = h.shard.now_ms / 1000;
        let at = (now_s + 100).to_string();
        assert_eq!(h.run(&["EXPIREAT", "foo", &at]), R::Int(1));
        assert_eq!(h.run(&["EXPIRETIME", "foo"]), R::Int(now_s as i64 + 100));
        let at_ms = (h.shard.now_ms + 1234).to_string();
        assert_eq!(h.run(&["PEXPIREAT", "foo", &at_ms]), R::Int(1));
        assert_eq!(
            h.run(&["PEXPIRETIME", "foo"]),
            R::Int(at_ms.parse().unwrap())
        );
        assert_eq!(h.run(&["PTTL", "foo"]), R::Int(1234));
    }

    #[test]
    fn no_expiry_is_minus_one_and_no_key_minus_two() {
        let mut h = with_foo(None);
        for cmd in ["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"] {
            assert_eq!(h.run(&[cmd, "foo"]), R::Int(-1), "{cmd}");
            assert_eq!(h.run(&[cmd, "nokey"]), R::Int(-2), "{cmd}");
        }
    }

    #[test]
    fn a_time_in_the_past_deletes_the_key() {
        let mut h = with_foo(None);
        assert_eq!(h.run(&["EXPIRE", "foo", "-10"]), R::Int(1));
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(-2));
        h.run(&["SET", "foo", "bar"]);
        assert_eq!(h.run(&["EXPIREAT", "foo", "1"]), R::Int(1));
        assert_eq!(h.run(&["EXISTS", "foo"]), R::Int(0));
        h.run(&["SET", "foo", "bar"]);
        assert_eq!(
            h.run(&["PEXPIREAT", "foo", "-9223372036854770000"]),
            R::Int(1)
        );
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(-2));
        assert_eq!(h.shard.dbs[0].volatile, 0);
    }

    #[test]
    fn expire_on_a_missing_or_expired_key_is_zero_and_does_not_resurrect() {
        let mut h = with_foo(None);
        assert_eq!(h.run(&["EXPIRE", "none", "100"]), R::Int(0));
        h.run(&["PEXPIRE", "foo", "500"]);
        h.advance(1000);
        assert_eq!(h.run(&["EXPIRE", "foo", "10"]), R::Int(0));
        assert_eq!(h.run(&["EXISTS", "foo"]), R::Int(0));
        for opt in ["NX", "XX", "GT", "LT"] {
            assert_eq!(h.run(&["EXPIRE", "none", "100", opt]), R::Int(0));
        }
    }

    #[test]
    fn overflowing_times_are_refused_and_leave_the_key_alone() {
        let mut h = with_foo(None);
        let invalid = err("ERR invalid expire time in 'expire' command");
        for t in [
            "9223370399119966",
            "9223372036854776",
            "10000000000000000",
            "18446744073709561",
            "-9223372036854776",
            "-9999999999999999",
        ] {
            assert_eq!(h.run(&["EXPIRE", "foo", t]), invalid, "{t}");
        }
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(-1));
        assert_eq!(
            h.run(&["PEXPIRE", "foo", "9223372036854770000"]),
            err("ERR invalid expire time in 'pexpire' command")
        );
        assert_eq!(
            h.run(&["EXPIREAT", "foo", "9223372036854776"]),
            err("ERR invalid expire time in 'expireat' command")
        );
        assert_eq!(
            h.run(&["EXPIRE", "foo", ""]),
            err("ERR value is not an integer or out of range")
        );
    }

    #[test]
    fn far_future_expiry_works_and_rounds_like_redis() {
        let mut h = with_foo(None);
        assert_eq!(
            h.run(&["PEXPIREAT", "foo", "9223372036854770000"]),
            R::Int(1)
        );
        h.run(&["PEXPIREAT", "foo", "9223372036854775807"]);
        assert_eq!(h.run(&["EXPIRETIME", "foo"]), R::Int(9223372036854776));
        assert_eq!(h.run(&["PEXPIRETIME", "foo"]), R::Int(9223372036854775807));
    }

    #[test]
    fn nx_xx_gt_lt() {
        /// (existing ttl, new ttl, options, reply, ttl after)
        type Case = (
            Option<&'static str>,
            &'static str,
            &'static [&'static str],
            i64,
            i64,
        );
        let cases: &[Case] = &[
            (Some("100"), "200", &["NX"], 0, 100),
            (None, "200", &["NX"], 1, 200),
            (Some("100"), "200", &["XX"], 1, 200),
            (None, "200", &["XX"], 0, -1),
            (Some("100"), "200", &["GT"], 1, 200),
            (Some("200"), "100", &["GT"], 0, 200),
            (Some("100"), "100", &["GT"], 0, 100),
            (None, "200", &["GT"], 0, -1),
            (Some("100"), "200", &["LT"], 0, 100),
            (Some("200"), "100", &["LT"], 1, 100),
            (None, "100", &["LT"], 1, 100),
            (Some("200"), "100", &["LT", "XX"], 1, 100),
            (None, "200", &["lt", "xx"], 0, -1),
            (Some("100"), "-10", &["LT"], 1, -2),
            (None, "-10", &["LT"], 1, -2),
        ];
        for (i, (before, new, opts, reply, after)) in cases.iter().enumerate() {
            let mut h = with_foo(*before);
            let mut cmd = vec!["EXPIRE", "foo", new];
            cmd.extend_from_slice(opts);
            assert_eq!(h.run(&cmd), R::Int(*reply), "case {i}");
            assert_eq!(h.run(&["TTL", "foo"]), R::Int(*after), "case {i}");
        }
    }

    #[test]
    fn option_errors() {
        let mut h = with_foo(None);
        let nx = err("ERR NX and XX, GT or LT options at the same time are not compatible");
        for opts in [["NX", "XX"], ["NX", "GT"], ["LT", "NX"]] {
            assert_eq!(h.run(&["EXPIRE", "foo", "200", opts[0], opts[1]]), nx);
        }
        assert_eq!(
            h.run(&["EXPIRE", "foo", "200", "LT", "GT"]),
            err("ERR GT and LT options at the same time are not compatible")
        );
        assert_eq!(
            h.run(&["EXPIRE", "foo", "200", "AB"]),
            err("ERR Unsupported option AB")
        );
        // Options are checked before the time, as in Redis.
        assert_eq!(
            h.run(&["PEXPIRE", "foo", "abc", "XX", "ab"]),
            err("ERR Unsupported option ab")
        );
        assert_eq!(h.run(&["EXPIRE", "foo", "200", "NX", "NX"]), R::Int(1));
        assert_eq!(
            h.run(&["EXPIRE", "foo"]),
            err("ERR wrong number of arguments for 'expire' command")
        );
    }

    #[test]
    fn persist_removes_only_an_existing_expiry() {
        let mut h = with_foo(Some("50"));
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(50));
        assert_eq!(h.run(&["PERSIST", "foo"]), R::Int(1));
        assert_eq!(h.run(&["TTL", "foo"]), R::Int(-1));
        assert_eq!(h.run(&["PERSIST", "foo"]), R::Int(0));
        assert_eq!(h.run(&["PERSIST", "nokey"]), R::Int(0));
        assert_eq!(h.run(&["GET", "foo"]), R::bulk("bar"));
        assert_eq!(h.shard.dbs[0].volatile, 0);
    }

    #[test]
    fn ttl_does_not_touch_the_lru_clock() {
        let mut h = with_foo(Some("100"));
        h.advance(5_000);
        let hits = h.shard.stats.keyspace_hits;
        h.run(&["TTL", "foo"]);
        h.run(&["PTTL", "nokey"]);
        assert_eq!(h.shard.stats.keyspace_hits, hits + 1);
        assert_eq!(h.run(&["OBJECT", "IDLETIME", "foo"]), R::Int(5));
    }

    #[test]
    fn writes_are_counted_as_dirty() {
        let mut h = with_foo(None);
        let d = h.shard.stats.dirty;
        h.run(&["EXPIRE", "foo", "10"]);
        h.run(&["EXPIRE", "foo", "10", "NX"]);
        h.run(&["PERSIST", "foo"]);
        assert_eq!(h.shard.stats.dirty, d + 2);
    }
}
