//! SET and the commands that share its options or its TTL handling: SETNX,
//! SETEX, PSETEX, GETSET and GETEX.
//!
//! Expiry is stored as an absolute time: a relative EX/PX becomes Unix
//! milliseconds before it is stored, as Redis propagates it (PXAT).

use super::{as_str, keyword, reply_value, store};
use crate::args::Args;
use crate::cmd::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::value::StrVal;

/// SET's and GETEX's expiry options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ttl {
    Keep,
    Persist,
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl Ttl {
    /// The absolute expiry in Unix ms that `arg` asks for under this option
    /// (None for KEEPTTL and PERSIST), with Redis's checks: positive, and no
    /// overflow once made milliseconds since the epoch.
    fn expire_at(self, arg: &[u8], now: u64, cmd: &str) -> Result<Option<u64>, CmdError> {
        let (secs, absolute) = match self {
            Ttl::Keep | Ttl::Persist => return Ok(None),
            Ttl::Ex => (true, false),
            Ttl::Px => (false, false),
            Ttl::ExAt => (true, true),
            Ttl::PxAt => (false, true),
        };
        let n = int_arg(arg)?;
        let ms = Some(n)
            .filter(|&n| n > 0)
            .and_then(|n| if secs { n.checked_mul(1000) } else { Some(n) })
            .and_then(|ms| {
                if absolute {
                    Some(ms)
                } else {
                    ms.checked_add(now as i64)
                }
            });
        match ms {
            Some(ms) => Ok(Some(ms as u64)),
            None => Err(CmdError::InvalidExpire(cmd.into())),
        }
    }
}

#[derive(Default)]
struct SetOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    ttl: Option<Ttl>,
    /// The time argument of EX, PX, EXAT or PXAT.
    time: &'a [u8],
}

impl SetOpts<'_> {
    fn expire_at(&self, now: u64, cmd: &str) -> Result<Option<u64>, CmdError> {
        self.ttl
            .map_or(Ok(None), |ttl| ttl.expire_at(self.time, now, cmd))
    }
}

/// Parses SET's options (`for_set`) or GETEX's from argument `from` on, as
/// Redis's parseExtendedStringArgumentsOrReply does: only one expiry kind may
/// be given, though the same one may repeat (the last value wins).
fn parse_opts<'a>(args: &Args<'a>, from: usize, for_set: bool) -> Result<SetOpts<'a>, CmdError> {
    let mut o = SetOpts::default();
    let mut upper = [0u8; 16];
    let mut i = from;
    while i < args.len() {
        let word = keyword(args.get(i), &mut upper);
        i += 1;
        let ttl = match word {
            b"NX" if for_set && !o.xx => {
                o.nx = true;
                continue;
            }
            b"XX" if for_set && !o.nx => {
                o.xx = true;
                continue;
            }
            b"GET" if for_set => {
                o.get = true;
                continue;
            }
            b"KEEPTTL" if for_set => Ttl::Keep,
            b"PERSIST" if !for_set => Ttl::Persist,
            b"EX" => Ttl::Ex,
            b"PX" => Ttl::Px,
            b"EXAT" => Ttl::ExAt,
            b"PXAT" => Ttl::PxAt,
            _ => return Err(CmdError::Syntax),
        };
        if o.ttl.is_some_and(|had| had != ttl) {
            return Err(CmdError::Syntax);
        }
        if !matches!(ttl, Ttl::Keep | Ttl::Persist) {
            if i == args.len() {
                return Err(CmdError::Syntax);
            }
            o.time = args.get(i);
            i += 1;
        }
        o.ttl = Some(ttl);
    }
    Ok(o)
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
pub(super) fn set(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    if args.len() == 3 {
        // Plain SET, by far the most common: no option needs the old entry,
        // so skip the lookup and replace in one probe.
        store(ctx, key, StrVal::from_bytes(args.get(2)), 0);
        out.ok();
        return Ok(());
    }
    let o = parse_opts(args, 3, true)?;
    let new_expiry = o.expire_at(ctx.now(), "set")?;
    if o.get {
        reply_value(ctx, key, out)?;
    }
    let old_ttl = ctx.lookup(key).map(|e| e.expire_at());
    if (o.nx && old_ttl.is_some()) || (o.xx && old_ttl.is_none()) {
        if !o.get {
            out.null();
        }
        return Ok(());
    }
    let expire_at = match o.ttl {
        Some(Ttl::Keep) => old_ttl.unwrap_or(0),
        _ => new_expiry.unwrap_or(0),
    };
    store(ctx, key, StrVal::from_bytes(args.get(2)), expire_at);
    if !o.get {
        out.ok();
    }
    Ok(())
}

pub(super) fn setnx(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let absent = !ctx.exists(key);
    if absent {
        store(ctx, key, StrVal::from_bytes(args.get(2)), 0);
    }
    out.int(absent as i64);
    Ok(())
}

/// SETEX and PSETEX: SET with a relative expiry in seconds or milliseconds.
fn set_with_ttl(ctx: &mut Ctx, args: &Args, out: &mut Out, ttl: Ttl, cmd: &str) -> CmdResult {
    let expire_at = ttl.expire_at(args.get(2), ctx.now(), cmd)?.unwrap_or(0);
    store(ctx, args.get(1), StrVal::from_bytes(args.get(3)), expire_at);
    out.ok();
    Ok(())
}

pub(super) fn setex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    set_with_ttl(ctx, args, out, Ttl::Ex, "setex")
}

pub(super) fn psetex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    set_with_ttl(ctx, args, out, Ttl::Px, "psetex")
}

pub(super) fn getset(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    reply_value(ctx, args.get(1), out)?;
    store(ctx, args.get(1), StrVal::from_bytes(args.get(2)), 0);
    Ok(())
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]
pub(super) fn getex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let key = args.get(1);
    let o = parse_opts(args, 2, false)?;
    let now = ctx.now();
    let Some(e) = ctx.read(key) else {
        out.null();
        return Ok(());
    };
    let had_ttl = e.expire_at() != 0;
    let s = as_str(e)?;
    // The value is checked before the time, so a missing key never errors.
    let expire_at = o.expire_at(now, "getex")?;
    out.bulk(s.as_bytes(&mut itoa::Buffer::new()));
    match (expire_at, o.ttl) {
        (Some(at), _) if at <= now => {
            ctx.delete_expired(key);
        }
        (Some(at), _) => {
            ctx.set_expire(key, at);
        }
        (None, Some(Ttl::Persist)) if had_ttl => {
            ctx.set_expire(key, 0);
        }
        _ => return Ok(()),
    }
    ctx.dirty(1);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cmd::string::tests::encoding;
    use crate::cmd::string::tests::{err, exists, run, ttl_ms, NOT_INT, SYNTAX};
    use crate::testing::{Harness, R};

    #[test]
    fn set_nx_xx_get() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SET foo 1 nx"), R::ok());
        assert_eq!(run(&mut h, "SET foo 2 NX"), R::Nil);
        assert_eq!(run(&mut h, "SET bar 1 xx"), R::Nil);
        assert!(!exists(&h, "bar"));
        assert_eq!(run(&mut h, "SET foo 2 XX"), R::ok());
        assert_eq!(run(&mut h, "GET foo"), R::bulk("2"));
        assert_eq!(run(&mut h, "SET foo bar2 GET"), R::bulk("2"));
        assert_eq!(run(&mut h, "SET new bar GET"), R::Nil);
        assert_eq!(run(&mut h, "GET new"), R::bulk("bar"));
        assert_eq!(run(&mut h, "SET foo baz GET XX"), R::bulk("bar2"));
        assert_eq!(run(&mut h, "SET none bar GET XX"), R::Nil);
        assert!(!exists(&h, "none"));
        assert_eq!(run(&mut h, "SET foo qux GET NX"), R::bulk("baz"));
        assert_eq!(run(&mut h, "GET foo"), R::bulk("baz"));
        assert_eq!(run(&mut h, "SET foo v nx NX get GET"), R::bulk("baz"));
    }

    #[test]
    fn set_and_getex_read_times_alike() {
        let mut h = Harness::new();
        let now = h.shard.now_ms;
        let cases = [
            ("EX 10".to_string(), 10_000),
            ("px 1500".into(), 1500),
            (
                format!("EXAT {}", now / 1000 + 20),
                20_000 - (now % 1000) as i64,
            ),
            (format!("pxat {}", now + 300), 300),
            // The same option twice: the last value wins.
            ("EX 10 EX 20".into(), 20_000),
        ];
        run(&mut h, "SET foo bar");
        for cmd in ["SET foo bar", "GETEX foo"] {
            for (opts, ttl) in &cases {
                run(&mut h, &format!("{cmd} {opts}"));
                assert_eq!(ttl_ms(&h, "foo"), Some(*ttl), "{cmd} {opts}");
            }
        }
    }

    #[test]
    fn keepttl_and_expiry() {
        let mut h = Harness::new();
        run(&mut h, "SET foo bar EX 20");
        // KEEPTTL keeps it; a plain SET drops it.
        assert_eq!(run(&mut h, "SET foo baz KEEPTTL"), R::ok());
        assert_eq!(ttl_ms(&h, "foo"), Some(20_000));
        assert_eq!(run(&mut h, "SET foo baz xx px 10000"), R::ok());
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000));
        run(&mut h, "SET foo baz");
        assert_eq!(ttl_ms(&h, "foo"), None);
        run(&mut h, "SET gone v KEEPTTL");
        assert_eq!(ttl_ms(&h, "gone"), None);
        // The key goes when its time comes.
        run(&mut h, "SET short v PX 100");
        h.advance(99);
        assert_eq!(run(&mut h, "GET short"), R::bulk("v"));
        h.advance(1);
        assert_eq!(run(&mut h, "GET short"), R::Nil);
    }

    #[test]
    fn set_with_a_past_time_leaves_no_key() {
        let mut h = Harness::new();
        run(&mut h, "SET foo old");
        let dirty = h.shard.stats.dirty;
        assert_eq!(run(&mut h, "SET foo new PXAT 1"), R::ok());
        assert!(!exists(&h, "foo"));
        assert_eq!(h.shard.stats.dirty, dirty + 1);
        run(&mut h, "SET foo old");
        assert_eq!(run(&mut h, "SET foo new EXAT 1 GET"), R::bulk("old"));
        assert!(!exists(&h, "foo"));
        assert_eq!(run(&mut h, "SET nokey v EXAT 1"), R::ok());
        assert!(!exists(&h, "nokey"));
    }

    #[test]
    fn set_option_errors() {
        let mut h = Harness::new();
        for bad in [
            "SET foo bar non-existing-option",
            "SET foo bar NX XX",
            "SET foo bar XX NX",
            "SET foo bar EX 10 PX 100",
            "SET foo bar EX 10 KEEPTTL",
            "SET foo bar KEEPTTL PXAT 10",
            "SET foo bar EXAT 10 EX 10",
            "SET foo bar PERSIST",
            "SET foo bar EX",
            "SET foo bar NX EX",
        ] {
            assert_eq!(run(&mut h, bad), err(SYNTAX), "{bad}");
        }
        let invalid = err("ERR invalid expire time in 'set' command");
        for bad in [
            "SET foo bar EX 0",
            "SET foo bar EX -1",
            "SET foo bar PX 0",
            "SET foo bar EXAT 0",
            "SET foo bar PXAT -5",
            "SET foo bar EX 9223372036854775807",
            "SET foo bar PX 9223372036854775807",
        ] {
            assert_eq!(run(&mut h, bad), invalid, "{bad}");
        }
        assert_eq!(run(&mut h, "SET foo bar EX 1.5"), err(NOT_INT));
        assert_eq!(run(&mut h, "SET foo bar EX abc"), err(NOT_INT));
        assert!(!exists(&h, "foo"));
        assert_eq!(
            run(&mut h, "SET foo"),
            err("ERR wrong number of arguments for 'set' command")
        );
    }

    #[test]
    fn setnx_setex_psetex() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SETNX novar foobared"), R::Int(1));
        assert_eq!(run(&mut h, "SETNX novar blabla"), R::Int(0));
        assert_eq!(run(&mut h, "GET novar"), R::bulk("foobared"));
        // A volatile key counts while it lives, and not once it is gone.
        run(&mut h, "SET x 10 PX 1000");
        assert_eq!(run(&mut h, "SETNX x 20"), R::Int(0));
        h.advance(1000);
        assert_eq!(run(&mut h, "SETNX x 20"), R::Int(1));
        assert_eq!(run(&mut h, "GET x"), R::bulk("20"));
        assert_eq!(ttl_ms(&h, "x"), None);

        assert_eq!(run(&mut h, "SETEX k 10 v"), R::ok());
        assert_eq!(ttl_ms(&h, "k"), Some(10_000));
        assert_eq!(run(&mut h, "PSETEX k 1500 w"), R::ok());
        assert_eq!(ttl_ms(&h, "k"), Some(1500));
        assert_eq!(run(&mut h, "GET k"), R::bulk("w"));
        assert_eq!(
            run(&mut h, "SETEX k 0 v"),
            err("ERR invalid expire time in 'setex' command")
        );
        assert_eq!(
            run(&mut h, "PSETEX k -1 v"),
            err("ERR invalid expire time in 'psetex' command")
        );
        assert_eq!(run(&mut h, "SETEX k ten v"), err(NOT_INT));
        assert_eq!(run(&mut h, "GET k"), R::bulk("w"));
    }

    #[test]
    fn getset_and_getdel() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "GETSET foo xyz"), R::Nil);
        assert_eq!(run(&mut h, "GET foo"), R::bulk("xyz"));
        run(&mut h, "SET foo bar EX 100");
        assert_eq!(run(&mut h, "GETSET foo 12"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), None);
        assert_eq!(encoding(&h, "foo"), "int");
        let dirty = h.shard.stats.dirty;
        assert_eq!(run(&mut h, "GETDEL foo"), R::bulk("12"));
        assert_eq!(run(&mut h, "GETDEL foo"), R::Nil);
        assert!(!exists(&h, "foo"));
        assert_eq!(h.shard.stats.dirty, dirty + 1);
    }

    #[test]
    fn getex_options() {
        let mut h = Harness::new();
        run(&mut h, "SET foo bar");
        assert_eq!(run(&mut h, "GETEX foo"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), None);
        assert_eq!(run(&mut h, "GETEX foo ex 10"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), Some(10_000));
        let dirty = h.shard.stats.dirty;
        assert_eq!(run(&mut h, "GETEX foo PERSIST"), R::bulk("bar"));
        assert_eq!(ttl_ms(&h, "foo"), None);
        run(&mut h, "GETEX foo PERSIST");
        assert_eq!(
            h.shard.stats.dirty,
            dirty + 1,
            "persisting a persistent key changes nothing"
        );
        // A time already past deletes the key after replying its value.
        assert_eq!(run(&mut h, "GETEX foo PXAT 1"), R::bulk("bar"));
        assert!(!exists(&h, "foo"));
        // A missing key is nil before the time is even read.
        assert_eq!(run(&mut h, "GETEX nokey EX 0"), R::Nil);
        run(&mut h, "SET foo bar");
        assert_eq!(
            run(&mut h, "GETEX foo EX 0"),
            err("ERR invalid expire time in 'getex' command")
        );
        assert_eq!(run(&mut h, "GETEX foo EX x"), err(NOT_INT));
        for bad in [
            "GETEX foo non-existent-option",
            "GETEX foo NX",
            "GETEX foo GET",
            "GETEX foo KEEPTTL",
            "GETEX foo PERSIST EX 10",
            "GETEX foo EX 10 PERSIST",
            "GETEX foo EX",
        ] {
            assert_eq!(run(&mut h, bad), err(SYNTAX), "{bad}");
        }
        assert_eq!(
            run(&mut h, "GETEX"),
            err("ERR wrong number of arguments for 'getex' command")
        );
    }
}
