//! The counters: INCR, DECR, INCRBY, DECRBY on 64-bit integers and
//! INCRBYFLOAT in long double. A counter keeps its key's TTL, as Redis's
//! dbOverwrite does, and an integer result stays int-encoded.

use super::longdouble::LongDouble;
use super::{as_str, write_entry};
use crate::args::Args;
use crate::cmd::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::value::{parse_i64, StrVal, Value};

/// Replaces the counter at `key` with what `next` makes of its current
/// value (None when absent): in place, keeping the TTL, or as a new key.
/// `next` returns the reply, which `Counter::stored` turns into the value.
fn update<T: Counter>(
    ctx: &mut Ctx,
    key: &[u8],
    next: impl FnOnce(Option<StrVal>) -> Result<T, CmdError>,
) -> Result<T, CmdError> {
    let entry = write_entry(ctx, key)?;
    let current = match &entry {
        Some(e) => Some(as_str(e)?),
        None => None,
    };
    let result = next(current)?;
    let val = Value::Str(result.stored());
    match entry {
        Some(e) => e.set_value(val),
        None => {
            ctx.set(key, val, 0);
        }
    }
    ctx.dirty(1);
    Ok(result)
}

/// What a counter command stores: an integer stays int-encoded, a float's
/// text is stored as written.
trait Counter {
    fn stored(&self) -> StrVal<'_>;
}

impl Counter for i64 {
    fn stored(&self) -> StrVal<'_> {
        StrVal::Int(*self)
    }
}

impl Counter for String {
    fn stored(&self) -> StrVal<'_> {
        StrVal::raw(self.as_bytes())
    }
}

/// Adds `by` to the integer at `key` (0 when absent).
fn incr_by(ctx: &mut Ctx, args: &Args, out: &mut Out, by: i64) -> CmdResult {
    let n = update(ctx, args.get(1), |current| {
        let current = match current {
            Some(StrVal::Int(n)) => n,
            Some(s) => {
                parse_i64(s.as_bytes(&mut itoa::Buffer::new())).ok_or(CmdError::NotInteger)?
            }
            None => 0,
        };
        current.checked_add(by).ok_or(CmdError::Overflow)
    })?;
    out.int(n);
    Ok(())
}

pub(super) fn incr(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    incr_by(ctx, args, out, 1)
}

pub(super) fn decr(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    incr_by(ctx, args, out, -1)
}

pub(super) fn incrby(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let by = int_arg(args.get(2))?;
    incr_by(ctx, args, out, by)
}

pub(super) fn decrby(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let by = int_arg(args.get(2))?;
    let by = by
        .checked_neg()
        .ok_or(CmdError::Static("ERR decrement would overflow"))?;
    incr_by(ctx, args, out, by)
}

/// INCRBYFLOAT key increment. Redis adds in `long double` and stores the sum
/// printed with "%.17Lf" less its trailing zeros, so the arithmetic is done
/// in the same 80-bit format (see `longdouble`) to store the same text.
pub(super) fn incrbyfloat(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let text = update(ctx, args.get(1), |current| {
        let current = match current {
            Some(StrVal::Int(n)) => LongDouble::from_i64(n),
            Some(s) => {
                LongDouble::parse(s.as_bytes(&mut itoa::Buffer::new())).ok_or(CmdError::NotFloat)?
            }
            None => LongDouble::ZERO,
        };
        let by = LongDouble::parse(args.get(2)).ok_or(CmdError::NotFloat)?;
        float_sum(current, by)
    })?;
    out.bulk(text.as_bytes());
    Ok(())
}

/// `current + by` as INCRBYFLOAT and HINCRBYFLOAT store and reply it.
pub(crate) fn float_sum(current: LongDouble, by: LongDouble) -> Result<String, CmdError> {
    let sum = current.add(by).ok_or(CmdError::Static(
        "ERR increment would produce NaN or Infinity",
    ))?;
    Ok(sum.to_human())
}

#[cfg(test)]
mod tests {
    use crate::cmd::string::tests::{encoding, err, run, ttl_ms, NOT_INT};
    use crate::testing::{Harness, R};

    #[test]
    fn incr_and_decr() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "INCR novar"), R::Int(1));
        assert_eq!(run(&mut h, "GET novar"), R::bulk("1"));
        assert_eq!(run(&mut h, "INCR novar"), R::Int(2));
        run(&mut h, "SET novar 100 EX 50");
        assert_eq!(run(&mut h, "INCR novar"), R::Int(101));
        assert_eq!(encoding(&h, "novar"), "int");
        assert_eq!(ttl_ms(&h, "novar"), Some(50_000));
        run(&mut h, "SET novar 17179869184");
        assert_eq!(run(&mut h, "INCR novar"), R::Int(17179869185));
        assert_eq!(run(&mut h, "INCRBY novar 17179869184"), R::Int(34359738369));
        run(&mut h, "SET novar 17179869184");
        assert_eq!(run(&mut h, "DECRBY novar 17179869185"), R::Int(-1));
        assert_eq!(run(&mut h, "DECR novar"), R::Int(-2));
        for bad in ["    11", "11    ", "  11  ", "1.5", "", "0x10", "+1", "01"] {
            h.run(&["SET", "novar", bad]);
            assert_eq!(run(&mut h, "INCR novar"), err(NOT_INT), "{bad:?}");
        }
        run(&mut h, "SET x 0");
        assert_eq!(
            run(&mut h, "DECRBY x -9223372036854775808"),
            err("ERR decrement would overflow")
        );
        assert_eq!(run(&mut h, "INCRBY x abc"), err(NOT_INT));
        run(&mut h, "SET x 9223372036854775807");
        let overflow = err("ERR increment or decrement would overflow");
        assert_eq!(run(&mut h, "INCR x"), overflow);
        run(&mut h, "SET x -9223372036854775808");
        assert_eq!(run(&mut h, "DECR x"), overflow);
        assert_eq!(run(&mut h, "INCRBY x 9223372036854775807"), R::Int(-1));
        run(&mut h, "SET x 10abc");
        assert_eq!(run(&mut h, "INCRBY x abc"), err(NOT_INT));
        assert_eq!(run(&mut h, "GET x"), R::bulk("10abc"));
    }

    #[test]
    fn incrbyfloat() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "INCRBYFLOAT novar 1"), R::bulk("1"));
        assert_eq!(run(&mut h, "INCRBYFLOAT novar 0.25"), R::bulk("1.25"));
        assert_eq!(run(&mut h, "GET novar"), R::bulk("1.25"));
        run(&mut h, "SET novar 1.5 EX 100");
        assert_eq!(run(&mut h, "INCRBYFLOAT novar 1.5"), R::bulk("3"));
        assert_eq!(encoding(&h, "novar"), "embstr");
        assert_eq!(ttl_ms(&h, "novar"), Some(100_000));
        run(&mut h, "SET novar 17179869184");
        assert_eq!(
            run(&mut h, "INCRBYFLOAT novar 1.5"),
            R::bulk("17179869185.5")
        );
        run(&mut h, "SET novar 17179869184");
        assert_eq!(
            run(&mut h, "INCRBYFLOAT novar 17179869184"),
            R::bulk("34359738368")
        );
        run(&mut h, "SET foo 1");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo -1.1"), R::bulk("-0.1"));
        // Redis works in long double: these are its replies, not f64's.
        run(&mut h, "DEL foo");
        run(&mut h, "INCRBYFLOAT foo 0.1");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo 0.2"), R::bulk("0.3"));
        assert_eq!(
            run(&mut h, "INCRBYFLOAT m 1000.1"),
            R::bulk("1000.09999999999999998")
        );
        run(&mut h, "DEL foo");
        run(&mut h, &format!("INCRBYFLOAT foo {}", 1.0 / 41.0));
        assert_eq!(
            run(&mut h, &format!("INCRBYFLOAT foo {}", -1.0 / 41.0)),
            R::bulk("0")
        );
        assert_eq!(run(&mut h, "GET foo"), R::bulk("0"));

        let not_float = err("ERR value is not a valid float");
        for bad in ["    11", "11    ", " 11 ", "abc", "nan"] {
            h.run(&["SET", "novar", bad]);
            assert_eq!(run(&mut h, "INCRBYFLOAT novar 1.0"), not_float, "{bad:?}");
        }
        run(&mut h, "SET foo 1");
        run(&mut h, "SETRANGE foo 2 2");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo 1"), not_float);
        run(&mut h, "SET foo 0");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo x"), not_float);
        let nan_inf = err("ERR increment would produce NaN or Infinity");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo +inf"), nan_inf);
        run(&mut h, "SET foo inf");
        assert_eq!(run(&mut h, "INCRBYFLOAT foo -inf"), nan_inf);
        assert_eq!(run(&mut h, "GET foo"), R::bulk("inf"));
    }
}
