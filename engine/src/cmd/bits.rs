//! Bitmaps over string values (SETBIT, GETBIT, BITCOUNT, BITPOS) and LCS.
//!
//! Bit 0 is the most significant bit of the first byte, as in Redis; a
//! string reads as zero bits past its end.

use super::int_arg;
use super::string::{as_str, clamp_range, edit_str, keyword, read_str, MAX_STRING};
use crate::args::Args;
use crate::error::{CmdError, CmdResult};
use crate::reply::Out;
use crate::shard::Ctx;
use crate::spec::{CommandSpec, Exec, Route};
use crate::value::parse_i64;

/// A bit offset: not negative, and inside the largest string allowed.
fn bit_offset(arg: &[u8]) -> Result<usize, CmdError> {
    parse_i64(arg)
        .filter(|&n| n >= 0 && (n as u64 >> 3) < MAX_STRING)
        .map(|n| n as usize)
        .ok_or(CmdError::Static(
            "ERR bit offset is not an integer or out of range",
        ))
}

/// The mask of bit `offset` within its byte.
fn mask(offset: usize) -> u8 {
    0x80 >> (offset & 7)
}

/// SETBIT key offset 0|1: replies the bit's old value.
fn setbit(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let offset = bit_offset(args.get(2))?;
    let on = match parse_i64(args.get(3)) {
        Some(v @ (0 | 1)) => v == 1,
        _ => {
            return Err(CmdError::Static(
                "ERR bit is not an integer or out of range",
            ))
        }
    };
    let byte = offset >> 3;
    let (was, changed) = edit_str(ctx, args.get(1), |buf| {
        let grew = buf.len() <= byte;
        if grew {
            buf.resize(byte + 1, 0);
        }
        let was = buf[byte] & mask(offset) != 0;
        buf[byte] = if on {
            buf[byte] | mask(offset)
        } else {
            buf[byte] & !mask(offset)
        };
        (was, grew || was != on)
    })?;
    if changed {
        ctx.dirty(1);
    }
    out.int(was as i64);
    Ok(())
}

fn getbit(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let offset = bit_offset(args.get(2))?;
    let mut scratch = itoa::Buffer::new();
    let set = read_str(ctx, args.get(1))?
        .and_then(|s| s.as_bytes(&mut scratch).get(offset >> 3).copied())
        .is_some_and(|b| b & mask(offset) != 0);
    out.int(set as i64);
    Ok(())
}

/// The optional BYTE|BIT argument at `i`: true for BIT.
fn bit_unit(args: &Args, i: usize) -> Result<bool, CmdError> {
    if i >= args.len() || args.is(i, "BYTE") {
        Ok(false)
    } else if args.is(i, "BIT") {
        Ok(true)
    } else {
        Err(CmdError::Syntax)
    }
}

/// The bits `start..=end` cover in a string of `len` bytes, the ends counted
/// in bits or in whole bytes, Redis's way (negative from the end, clamped).
fn bit_range(start: i64, end: i64, len: usize, bits: bool) -> Option<(usize, usize)> {
    if bits {
        clamp_range(start, end, len as i64 * 8)
    } else {
        clamp_range(start, end, len as i64).map(|(s, e)| (s * 8, e * 8 + 7))
    }
}

fn popcount(bytes: &[u8]) -> u64 {
    let words = bytes.chunks_exact(8);
    let tail: u64 = words
        .remainder()
        .iter()
        .map(|b| b.count_ones() as u64)
        .sum();
    words
        .map(|w| u64::from_ne_bytes(w.try_into().expect("8 bytes")).count_ones() as u64)
        .sum::<u64>()
        + tail
}

/// Bits of the first byte before `lo` and of the last byte after `hi`.
fn edge_masks(lo: usize, hi: usize) -> (u8, u8) {
    (!(0xFF >> (lo & 7)) as u8, (0xFFu32 >> ((hi & 7) + 1)) as u8)
}

/// BITCOUNT key [start end [BYTE|BIT]]
fn bitcount(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let mut scratch = itoa::Buffer::new();
    let Some(s) = read_str(ctx, args.get(1))? else {
        out.int(0);
        return Ok(());
    };
    let bytes = s.as_bytes(&mut scratch);
    let range = match args.len() {
        2 => bit_range(0, -1, bytes.len(), false),
        4 | 5 => {
            let (start, end) = (int_arg(args.get(2))?, int_arg(args.get(3))?);
            // Reversed negative ends count nothing, before the unit is even read.
            if start < 0 && end < 0 && start > end {
                None
            } else {
                bit_range(start, end, bytes.len(), bit_unit(args, 4)?)
            }
        }
        _ => return Err(CmdError::Syntax),
    };
    let count = range.map_or(0, |(lo, hi)| {
        let (first, last) = (lo / 8, hi / 8);
        let (before, after) = edge_masks(lo, hi);
        popcount(&bytes[first..=last]) - popcount(&[bytes[first] & before, bytes[last] & after])
    });
    out.int(count as i64);
    Ok(())
}

/// The first bit equal to `one` among bits `lo..=hi`.
fn find_bit(bytes: &[u8], lo: usize, hi: usize, one: bool) -> Option<usize> {
    let (before, after) = edge_masks(lo, hi);
    (lo / 8..=hi / 8).find_map(|i| {
        // Look for a set bit, in the byte or in its complement.
        let mut b = if one { bytes[i] } else { !bytes[i] };
        if i == lo / 8 {
            b &= !before;
        }
        if i == hi / 8 {
            b &= !after;
        }
        (b != 0).then(|| i * 8 + b.leading_zeros() as usize)
    })
}

/// BITPOS key 0|1 [start [end [BYTE|BIT]]]
fn bitpos(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    let one = match int_arg(args.get(2))? {
        v @ (0 | 1) => v == 1,
        _ => return Err(CmdError::Static("ERR The bit argument must be 1 or 0.")),
    };
    let mut scratch = itoa::Buffer::new();
    // A missing key is an endless run of zeros.
    let Some(s) = read_str(ctx, args.get(1))? else {
        out.int(if one { -1 } else { 0 });
        return Ok(());
    };
    let bytes = s.as_bytes(&mut scratch);
    let range = match args.len() {
        3 => bit_range(0, -1, bytes.len(), false),
        4..=6 => {
            let start = int_arg(args.get(3))?;
            let bits = bit_unit(args, 5)?;
            let end = if args.len() > 4 {
                int_arg(args.get(4))?
            } else {
                -1
            };
            bit_range(start, end, bytes.len(), bits)
        }
        _ => return Err(CmdError::Syntax),
    };
    let pos = match range {
        None => -1,
        Some((lo, hi)) => match find_bit(bytes, lo, hi, one) {
            Some(p) => p as i64,
            // Without an explicit end the string goes on as zeros: the
            // first clear bit is the one just past it.
            None if !one && args.len() < 5 => hi as i64 + 1,
            None => -1,
        },
    };
    out.int(pos);
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]
fn lcs(ctx: &mut Ctx, args: &Args, out: &mut Out) -> CmdResult {
    // Both keys are looked up (and counted) before either is judged.
    let mut copy = |key| {
        ctx.read(key)
            .map(|e| as_str(&mut e.val).map(|s| s.to_vec()))
    };
    let (a, b) = (copy(args.get(1)), copy(args.get(2)));
    let (Ok(a), Ok(b)) = (a.unwrap_or(Ok(Vec::new())), b.unwrap_or(Ok(Vec::new()))) else {
        return Err(CmdError::Static(
            "ERR The specified keys must contain string values",
        ));
    };
    let (mut len_only, mut idx, mut with_len, mut min_len) = (false, false, false, 0);
    let mut upper = [0u8; 16];
    let mut i = 3;
    while i < args.len() {
        match keyword(args.get(i), &mut upper) {
            b"IDX" => idx = true,
            b"LEN" => len_only = true,
            b"WITHMATCHLEN" => with_len = true,
            b"MINMATCHLEN" if i + 1 < args.len() => {
                min_len = int_arg(args.get(i + 1))?.max(0) as usize;
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if len_only && idx {
        return Err(CmdError::Static(
            "ERR If you want both the length and indexes, please just use IDX.",
        ));
    }
    let cells = (a.len() as u64 + 1) * (b.len() as u64 + 1);
    if cells * 4 > MAX_STRING {
        return Err(CmdError::Static(
            "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    }
    let table = LcsTable::new(&a, &b);
    if len_only {
        out.int(table.at(a.len(), b.len()) as i64);
        return Ok(());
    }
    let (text, runs) = table.walk_back(&a, &b);
    if !idx {
        out.bulk(&text);
        return Ok(());
    }
    let runs: Vec<_> = runs.into_iter().filter(|r| r.len >= min_len).collect();
    out.map(2);
    out.bulk_str("matches");
    out.array(runs.len());
    for r in &runs {
        out.array(2 + with_len as usize);
        for (start, len) in [(r.a, r.len), (r.b, r.len)] {
            out.array(2);
            out.int(start as i64);
            out.int((start + len - 1) as i64);
        }
        if with_len {
            out.int(r.len as i64);
        }
    }
    out.bulk_str("len");
    out.int(table.at(a.len(), b.len()) as i64);
    Ok(())
}

/// A run of the common subsequence that is contiguous in both strings.
struct Run {
    a: usize,
    b: usize,
    len: usize,
}

/// The dynamic-programming table: cell (i, j) holds the LCS length of the
/// first i bytes of a and the first j bytes of b.
struct LcsTable {
    cells: Vec<u32>,
    width: usize,
}

impl LcsTable {
    fn new(a: &[u8], b: &[u8]) -> LcsTable {
        let width = b.len() + 1;
        let mut cells = vec![0u32; (a.len() + 1) * width];
        for i in 1..=a.len() {
            for j in 1..=b.len() {
                cells[i * width + j] = if a[i - 1] == b[j - 1] {
                    cells[(i - 1) * width + j - 1] + 1
                } else {
                    cells[(i - 1) * width + j].max(cells[i * width + j - 1])
                };
            }
        }
        LcsTable { cells, width }
    }

    fn at(&self, i: usize, j: usize) -> u32 {
        self.cells[i * self.width + j]
    }

    /// Walks back from the end as Redis does (on a tie it drops a byte of b),
    /// giving the subsequence and its runs, last run first.
    fn walk_back(&self, a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<Run>) {
        let (mut i, mut j) = (a.len(), b.len());
        let mut text = Vec::with_capacity(self.at(i, j) as usize);
        let mut runs = Vec::new();
        let mut run: Option<Run> = None;
        while i > 0 && j > 0 {
            if a[i - 1] == b[j - 1] {
                text.push(a[i - 1]);
                (i, j) = (i - 1, j - 1);
                // A match right after a match is always the run's next byte back.
                let len = run.map_or(0, |r| r.len) + 1;
                run = Some(Run { a: i, b: j, len });
            } else {
                if self.at(i - 1, j) > self.at(i, j - 1) {
                    i -= 1;
                } else {
                    j -= 1;
                }
                runs.extend(run.take());
            }
        }
        runs.extend(run);
        text.reverse();
        (text, runs)
    }
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "setbit",
        arity: 4,
        flags: "write denyoom",
        keys: (1, 1, 1),
        acl: "write bitmap slow",
        route: Route::Keyed,
        exec: Exec::Shard(setbit),
        group: "bitmap",
        summary: "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
        since: "2.2.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "getbit",
        arity: 3,
        flags: "readonly fast",
        keys: (1, 1, 1),
        acl: "read bitmap fast",
        route: Route::Keyed,
        exec: Exec::Shard(getbit),
        group: "bitmap",
        summary: "Returns a bit value by offset.",
        since: "2.2.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitcount",
        arity: -2,
        flags: "readonly",
        keys: (1, 1, 1),
        acl: "read bitmap slow",
        route: Route::Keyed,
        exec: Exec::Shard(bitcount),
        group: "bitmap",
        summary: "Counts the number of set bits (population counting) in a string.",
        since: "2.6.0",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "bitpos",
        arity: -3,
        flags: "readonly",
        keys: (1, 1, 1),
        acl: "read bitmap slow",
        route: Route::Keyed,
        exec: Exec::Shard(bitpos),
        group: "bitmap",
        summary: "Finds the first set (1) or clear (0) bit in a string.",
        since: "2.8.7",
        ..CommandSpec::DEFAULT
    },
    CommandSpec {
        name: "lcs",
        arity: -3,
        flags: "readonly",
        keys: (1, 2, 1),
        acl: "read string slow",
        route: Route::Keyed,
        exec: Exec::Shard(lcs),
        group: "string",
        summary: "Finds the longest common substring.",
        since: "7.0.0",
        ..CommandSpec::DEFAULT
    },
];
