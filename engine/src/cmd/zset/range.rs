//! The range commands of sorted sets: ZRANGE (BYSCORE BYLEX REV LIMIT
//! WITHSCORES) and the older forms it folds in (ZREVRANGE,
//! Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX), ZRANGESTORE, ZCOUNT, ZLEXCOUNT
//! and ZREMRANGEBYRANK/SCORE/LEX.
//!
//! Every range comes down to a `Window`, ranks `from..to` of the order
//! walked up or down: a score or lex bound is a count of the members
//! before it, which the tree answers in one walk from its root.

use super::reply_members;
use crate::args::Args;
use crate::cmd::collection::{drop_if_empty, read, store, write};
use crate::cmd::int_arg;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::types::{Coll, Zset};
use crate::value::parse_f64;

const NOT_FLOAT: CmdError = CmdError::Static("ERR min or max is not a float");
const NOT_LEX: CmdError = CmdError::Static("ERR min or max not valid string range item");

/// Ranks `from..to` of the order, replied highest first when `rev`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    from: usize,
    to: usize,
    rev: bool,
}

impl Window {
    const EMPTY: Window = Window {
        from: 0,
        to: 0,
        rev: false,
    };

    /// Ranks `start..=stop` as ZRANGE reads them (negative from the end),
    /// counted from the top when `rev`.
    fn of_ranks(start: i64, stop: i64, len: usize, rev: bool) -> Window {
        let n = len as i64;
        let start = if start < 0 { (n + start).max(0) } else { start };
        let stop = if stop < 0 { n + stop } else { stop };
        if start > stop || start >= n {
            return Window::EMPTY;
        }
        let (start, stop) = (start as usize, stop.min(n - 1) as usize);
        match rev {
            false => Window {
                from: start,
                to: stop + 1,
                rev,
            },
            true => Window {
                from: len - 1 - stop,
                to: len - start,
                rev,
            },
        }
    }

    /// The members of ranks `start..end` after LIMIT's `offset` (a negative
    /// one leaves none, as in Redis) and `limit` (negative: no limit), taken
    /// from the top when `rev`.
    fn limited(start: usize, end: usize, rev: bool, offset: i64, limit: i64) -> Window {
        if offset < 0 {
            return Window::EMPTY;
        }
        let n = end - start;
        let skip = usize::try_from(offset).unwrap_or(usize::MAX).min(n);
        let take = match usize::try_from(limit) {
            Ok(l) => l.min(n - skip),
            Err(_) => n - skip,
        };
        match rev {
            false => Window {
                from: start + skip,
                to: start + skip + take,
                rev,
            },
            true => Window {
                from: end - skip - take,
                to: end - skip,
                rev,
            },
        }
    }
}

/// A score range: `(` before a bound excludes it.
#[derive(Clone, Copy)]
struct ScoreRange {
    min: f64,
    minex: bool,
    max: f64,
    maxex: bool,
}

fn score_bound(a: &[u8]) -> Result<(f64, bool), CmdError> {
    let (ex, rest) = match a.split_first() {
        Some((b'(', rest)) => (true, rest),
        _ => (false, a),
    };
    Ok((parse_f64(rest).ok_or(NOT_FLOAT)?, ex))
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
        let ((min, minex), (max, maxex)) = (score_bound(min)?, score_bound(max)?);
        Ok(ScoreRange {
            min,
            minex,
            max,
            maxex,
        })
    }

    /// The ranks of the members in range: start..end.
    fn ranks(&self, z: &Zset) -> (usize, usize) {
        let start = z.count_while(|s, _| s < self.min || (self.minex && s == self.min));
        let end = z.count_while(|s, _| s < self.max || (!self.maxex && s == self.max));
        (start, end.max(start))
    }
}

/// A lex bound: `-` and `+` are below and above everything, `[` includes
/// the string after it, `(` excludes it.
#[derive(Clone, Copy)]
enum Lex<'a> {
    Min,
    Max,
    In(&'a [u8]),
    Ex(&'a [u8]),
}

impl<'a> Lex<'a> {
    fn parse(a: &'a [u8]) -> Result<Lex<'a>, CmdError> {
        match a.split_first() {
            Some((b'-', [])) => Ok(Lex::Min),
            Some((b'+', [])) => Ok(Lex::Max),
            Some((b'[', rest)) => Ok(Lex::In(rest)),
            Some((b'(', rest)) => Ok(Lex::Ex(rest)),
            _ => Err(NOT_LEX),
        }
    }

    /// Whether `m` comes before a range that starts at this bound.
    fn before_start(self, m: &[u8]) -> bool {
        match self {
            Lex::Min => false,
            Lex::Max => true,
            Lex::In(x) => m < x,
            Lex::Ex(x) => m <= x,
        }
    }

    /// Whether `m` comes no later than a range that ends at this bound.
    fn up_to_end(self, m: &[u8]) -> bool {
        match self {
            Lex::Min => false,
            Lex::Max => true,
            Lex::In(x) => m <= x,
            Lex::Ex(x) => m < x,
        }
    }
}

/// A lex range, meant for a set whose members share one score (Redis's
/// caveat: otherwise what it returns is unspecified).
#[derive(Clone, Copy)]
struct LexRange<'a> {
    min: Lex<'a>,
    max: Lex<'a>,
}

impl<'a> LexRange<'a> {
    fn parse(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
        Ok(LexRange {
            min: Lex::parse(min)?,
            max: Lex::parse(max)?,
        })
    }

    fn ranks(&self, z: &Zset) -> (usize, usize) {
        let start = z.count_while(|_, m| self.min.before_start(m));
        let end = z.count_while(|_, m| self.max.up_to_end(m));
        (start, end.max(start))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    Rank,
    Score,
    Lex,
}

enum Bounds<'a> {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexRange<'a>),
}

/// A parsed ZRANGE (or one of its older forms).
struct Query<'a> {
    bounds: Bounds<'a>,
    rev: bool,
    offset: i64,
    limit: i64,
    scores: bool,
}

impl Query<'_> {
    fn window(&self, z: &Zset) -> Window {
        let (start, end) = match &self.bounds {
            Bounds::Rank(a, b) => return Window::of_ranks(*a, *b, z.len(), self.rev),
            Bounds::Score(r) => r.ranks(z),
            Bounds::Lex(r) => r.ranks(z),
        };
        Window::limited(start, end, self.rev, self.offset, self.limit)
    }
}

/// Parses a range whose bounds are at `at` and `at + 1`, options after.
/// `by` and `rev` are fixed by the older commands (their option is then a
/// syntax error) and read from the options by ZRANGE (None). A store takes
/// no WITHSCORES. Errors come in Redis's order: options, their conflicts,
/// then the bounds.
fn parse<'a>(
    args: &'a Args,
    at: usize,
    store: bool,
    by: Option<By>,
    rev: Option<bool>,
) -> Result<Query<'a>, CmdError> {
    let (mut by_opt, mut rev_opt) = (by, rev);
    let (mut offset, mut limit, mut scores) = (0, -1, false);
    let mut j = at + 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        if !store && args.is(j, "withscores") {
            scores = true;
        } else if args.is(j, "limit") && left >= 2 {
            offset = int_arg(args.get(j + 1))?;
            limit = int_arg(args.get(j + 2))?;
            j += 2;
        } else if rev_opt.is_none() && args.is(j, "rev") {
            rev_opt = Some(true);
        } else if by_opt.is_none() && args.is(j, "bylex") {
            by_opt = Some(By::Lex);
        } else if by_opt.is_none() && args.is(j, "byscore") {
            by_opt = Some(By::Score);
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let (by, rev) = (by_opt.unwrap_or(By::Rank), rev_opt.unwrap_or(false));
    if limit != -1 && by == By::Rank {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if scores && by == By::Lex {
        return Err(CmdError::Static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    // A reversed score or lex range is written max first.
    let (lo, hi) = match rev && by != By::Rank {
        true => (args.get(at + 1), args.get(at)),
        false => (args.get(at), args.get(at + 1)),
    };
    let bounds = match by {
        By::Rank => Bounds::Rank(int_arg(lo)?, int_arg(hi)?),
        By::Score => Bounds::Score(ScoreRange::parse(lo, hi)?),
        By::Lex => Bounds::Lex(LexRange::parse(lo, hi)?),
    };
    Ok(Query {
        bounds,
        rev,
        offset,
        limit,
        scores,
    })
}

/// ZRANGE and its older forms: `by` and `rev` as `parse` takes them.
fn range_generic(
    ctx: &mut Ctx,
    args: &Args,
    out: &mut Out,
    by: Option<By>,
    rev: Option<bool>,
) -> CmdResult {
    let q = parse(args, 2, false, by, rev)?;
    let Some(z) = read::<Zset>(ctx, args.get(1))? else {
        out.array(0);
        return Ok(());
    };
    let w = q.window(z);
    reply_members(out, &z.range(w.from, w.to, w.rev), q.scores, out.resp3);
    Ok(())
}

pub(super) fn zrange(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    range_generic(ctx, args, out, None, None)
}

pub(super) fn zrevrange(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    range_generic(ctx, args, out, Some(By::Rank), Some(true))
}

pub(super) fn zrangebyscore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    range_generic(ctx, args, out, Some(By::Score), Some(false))
}

pub(super) fn zrevrangebyscore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    range_generic(ctx, args, out, Some(By::Score), Some(true))
}

pub(super) fn zrangebylex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    range_generic(ctx, args, out, Some(By::Lex), Some(false))
}

pub(super) fn zrevrangebylex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    range_generic(ctx, args, out, Some(By::Lex), Some(true))
}

/// Builds a sorted set of `items` in the form their number and lengths
/// suit (Redis's zsetTypeCreate), for the STORE commands.
pub(crate) fn build(ctx: &Ctx, items: &[(Vec<u8>, f64)]) -> Zset {
    let limits = ctx.shard.conf.zset_limits;
    let longest = items.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
    let mut z = Zset::for_size(items.len(), longest, limits);
    for (m, s) in items {
        z.set(m, *s, limits);
    }
    z
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
pub(super) fn zrangestore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let q = parse(args, 3, true, None, None)?;
    let items: Vec<(Vec<u8>, f64)> = match read::<Zset>(ctx, args.get(2))? {
        Some(z) => {
            let w = q.window(z);
            let range = z.range(w.from, w.to, w.rev);
            range.into_iter().map(|(m, s)| (m.to_vec(), s)).collect()
        }
        None => Vec::new(),
    };
    let z = build(ctx, &items);
    if store(ctx, args.get(1), Coll::Zset(z)) {
        ctx.dirty(1);
    }
    out.int(items.len() as i64);
    Ok(())
}

/// ZCOUNT key min max
pub(super) fn zcount(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let r = ScoreRange::parse(args.get(2), args.get(3))?;
    let (start, end) = read::<Zset>(ctx, args.get(1))?.map_or((0, 0), |z| r.ranks(z));
    out.int((end - start) as i64);
    Ok(())
}

/// ZLEXCOUNT key min max
pub(super) fn zlexcount(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let r = LexRange::parse(args.get(2), args.get(3))?;
    let (start, end) = read::<Zset>(ctx, args.get(1))?.map_or((0, 0), |z| r.ranks(z));
    out.int((end - start) as i64);
    Ok(())
}

/// ZREMRANGEBY*: removes the members `window` picks from the set at
/// `key`, deleting the key once empty; replies how many went.
fn remove_window(
    ctx: &mut Ctx,
    args: &Args,
    out: &mut Out,
    window: impl FnOnce(&Zset) -> Window,
) -> CmdResult {
    let key = args.get(1);
    let mut removed = 0;
    if let Some(z) = write::<Zset>(ctx, key)? {
        let w = window(z);
        let gone: Vec<Vec<u8>> = z
            .range(w.from, w.to, false)
            .into_iter()
            .map(|(m, _)| m.to_vec())
            .collect();
        for m in &gone {
            z.remove(m);
        }
        removed = gone.len();
        drop_if_empty(ctx, key);
    }
    ctx.dirty(removed as u64);
    out.int(removed as i64);
    Ok(())
}

pub(super) fn zremrangebyrank(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let (start, stop) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
    remove_window(ctx, args, out, |z| {
        Window::of_ranks(start, stop, z.len(), false)
    })
}

pub(super) fn zremrangebyscore(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let r = ScoreRange::parse(args.get(2), args.get(3))?;
    remove_window(ctx, args, out, |z| {
        let (from, to) = r.ranks(z);
        Window::limited(from, to, false, 0, -1)
    })
}

pub(super) fn zremrangebylex(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let r = LexRange::parse(args.get(2), args.get(3))?;
    remove_window(ctx, args, out, |z| {
        let (from, to) = r.ranks(z);
        Window::limited(from, to, false, 0, -1)
    })
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn windows_follow_redis_index_rules() {
        let w = |from, to, rev| Window { from, to, rev };
        assert_eq!(Window::of_ranks(0, -1, 5, false), w(0, 5, false));
        assert_eq!(Window::of_ranks(-100, 1, 5, false), w(0, 2, false));
        assert_eq!(Window::of_ranks(1, 100, 5, true), w(0, 4, true));
        assert_eq!(Window::of_ranks(3, 2, 5, false), Window::EMPTY);
        assert_eq!(Window::of_ranks(5, 9, 5, false), Window::EMPTY);
        assert_eq!(Window::limited(2, 8, false, 1, 2), w(3, 5, false));
        assert_eq!(Window::limited(2, 8, true, 1, 2), w(5, 7, true));
        assert_eq!(Window::limited(2, 8, false, 4, -1), w(6, 8, false));
        assert_eq!(Window::limited(2, 8, false, 10, 3), w(8, 8, false));
        assert_eq!(Window::limited(2, 8, false, -1, 3), Window::EMPTY);
    }
}
