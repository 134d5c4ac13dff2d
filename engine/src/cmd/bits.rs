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
    let (was, changed) = edit_str(ctx, args.get(1), byte + 1, |buf, old_len| {
        let grew = old_len <= byte;
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
    let mut copy = |key| ctx.read(key).map(|e| as_str(e).map(|s| s.to_vec()));
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

#[cfg(test)]
mod tests {
    use crate::cmd::string::tests::{encoding, err, run};
    use crate::testing::{Harness, R};

    fn set_bytes(h: &mut Harness, key: &str, bytes: &[u8]) {
        let args = crate::args::OwnedArgs::from_slices(&[&b"SET"[..], key.as_bytes(), bytes]);
        let mut out = crate::reply::Out::new(false);
        let id = h.shard.registry.lookup(b"SET").expect("SET");
        crate::cmd::execute(&mut h.shard, h.db, id, &args.args(), &mut out);
        assert_eq!(out.buf, b"+OK\r\n");
    }

    fn get_bytes(h: &mut Harness, key: &str) -> Vec<u8> {
        match run(h, &format!("GET {key}")) {
            R::Bulk(b) => b,
            other => panic!("GET {key}: {other:?}"),
        }
    }

    /// Ones in `bytes` between bit `lo` and bit `hi`, counted one by one.
    fn model_count(bytes: &[u8], lo: usize, hi: usize) -> i64 {
        (lo..=hi)
            .filter(|&i| bytes[i / 8] & (0x80 >> (i % 8)) != 0)
            .count() as i64
    }

    #[test]
    fn setbit_and_getbit() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "SETBIT mykey 1 1"), R::Int(0));
        assert_eq!(get_bytes(&mut h, "mykey"), [0b0100_0000]);
        assert_eq!(encoding(&h, "mykey"), "raw");
        run(&mut h, "SET mykey @");
        assert_eq!(run(&mut h, "SETBIT mykey 2 1"), R::Int(0));
        assert_eq!(get_bytes(&mut h, "mykey"), [0b0110_0000]);
        assert_eq!(run(&mut h, "SETBIT mykey 1 0"), R::Int(1));
        assert_eq!(get_bytes(&mut h, "mykey"), [0b0010_0000]);
        // "1" is 0b00110001.
        run(&mut h, "SET mykey 1");
        assert_eq!(run(&mut h, "SETBIT mykey 6 1"), R::Int(0));
        assert_eq!(get_bytes(&mut h, "mykey"), [0b0011_0011]);
        assert_eq!(run(&mut h, "SETBIT mykey 2 0"), R::Int(1));
        assert_eq!(get_bytes(&mut h, "mykey"), [0b0001_0011]);
        assert_eq!(run(&mut h, "SETBIT mykey 20 1"), R::Int(0));
        assert_eq!(get_bytes(&mut h, "mykey"), [0b0001_0011, 0, 0b0000_1000]);

        assert_eq!(run(&mut h, "GETBIT nokey 0"), R::Int(0));
        run(&mut h, "SET mykey `");
        let bits: Vec<R> = [0, 1, 2, 3, 8, 100, 10000]
            .iter()
            .map(|i| run(&mut h, &format!("GETBIT mykey {i}")))
            .collect();
        assert_eq!(bits, [0, 1, 1, 0, 0, 0, 0].map(R::Int));
        run(&mut h, "SET mykey 1");
        let bits: Vec<R> = (0..4)
            .map(|i| run(&mut h, &format!("GETBIT mykey {i}")))
            .collect();
        assert_eq!(bits, [0, 0, 1, 1].map(R::Int));
        assert_eq!(encoding(&h, "mykey"), "int");
    }

    #[test]
    fn setbit_errors_and_dirty() {
        let mut h = Harness::new();
        let offset = err("ERR bit offset is not an integer or out of range");
        let bit = err("ERR bit is not an integer or out of range");
        assert_eq!(run(&mut h, "SETBIT mykey 4294967296 1"), offset);
        assert_eq!(run(&mut h, "SETBIT mykey -1 1"), offset);
        assert_eq!(run(&mut h, "SETBIT mykey x 1"), offset);
        assert_eq!(run(&mut h, "GETBIT mykey 4294967296"), offset);
        for v in ["-1", "2", "10", "20", "x"] {
            assert_eq!(run(&mut h, &format!("SETBIT mykey 0 {v}")), bit);
        }
        assert_eq!(run(&mut h, "GETBIT mykey 0"), R::Int(0));
        let dirty = |h: &Harness| h.shard.stats.dirty;
        let d0 = dirty(&h);
        run(&mut h, "SETBIT foo 0 0");
        assert_eq!(dirty(&h), d0 + 1, "creating the key");
        run(&mut h, "SETBIT foo 0 0");
        assert_eq!(dirty(&h), d0 + 1, "no change");
        for v in [1, 1, 0, 0] {
            run(&mut h, &format!("SETBIT foo 0 {v}"));
        }
        assert_eq!(dirty(&h), d0 + 3);
        run(&mut h, "SETBIT foo 90 0");
        assert_eq!(dirty(&h), d0 + 4, "growing the string");
    }

    #[test]
    fn setbit_matches_a_model() {
        let mut h = Harness::new();
        let mut model = Vec::new();
        let mut seed = 7u64;
        for _ in 0..500 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let (offset, on) = ((seed >> 33) as usize % 2048, (seed >> 20) & 1);
            if model.len() <= offset / 8 {
                model.resize(offset / 8 + 1, 0u8);
            }
            let was = model[offset / 8] & (0x80 >> (offset % 8)) != 0;
            model[offset / 8] =
                (model[offset / 8] & !(0x80 >> (offset % 8))) | ((on as u8) << (7 - offset % 8));
            assert_eq!(
                run(&mut h, &format!("SETBIT k {offset} {on}")),
                R::Int(was as i64)
            );
        }
        assert_eq!(get_bytes(&mut h, "k"), model);
    }

    #[test]
    fn bitcount() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "BITCOUNT no-key"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT no-key 0 1000 bit"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT no-key 0"), R::Int(0));
        run(&mut h, "SET str xxxx");
        assert_eq!(run(&mut h, "BITCOUNT str 4 10"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT str 32 87 bit"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT str -6 -7"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT str -6 -15 bit"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT str -6 -7 nonsense"), R::Int(0));
        for vec in [&b""[..], b"\xaa", b"\x00\x00\xff", b"foobar", b"123"] {
            set_bytes(&mut h, "str", vec);
            let count = vec.iter().map(|b| b.count_ones() as i64).sum();
            assert_eq!(run(&mut h, "BITCOUNT str"), R::Int(count));
            assert_eq!(run(&mut h, "BITCOUNT str 0 -1 bit"), R::Int(count));
        }
        let s = b"foobar";
        run(&mut h, "SET s foobar");
        for (range, lo, hi) in [
            ("0 -1", 0, 47),
            ("1 -2", 8, 39),
            ("0 1000", 0, 47),
            ("0 -1 bit", 0, 47),
            ("10 14 bit", 10, 14),
            ("3 14 bit", 3, 14),
            ("3 29 bit", 3, 29),
            ("10 -34 bit", 10, 14),
            ("3 -34 bit", 3, 14),
            ("3 -19 bit", 3, 29),
            ("0 1000 bit", 0, 47),
            ("5 5 bit", 5, 5),
        ] {
            let reply = run(&mut h, &format!("BITCOUNT s {range}"));
            assert_eq!(reply, R::Int(model_count(s, lo, hi)), "{range}");
        }
        assert_eq!(run(&mut h, "BITCOUNT s -2 1"), R::Int(0));
        assert_eq!(run(&mut h, "BITCOUNT s -2 1 bit"), R::Int(0));
        run(&mut h, "SET str ab");
        assert_eq!(run(&mut h, "BITCOUNT str 1 -1"), R::Int(3));
        run(&mut h, "SET str __PPxxxxxxxxxxxxxxxxRR__");
        assert_eq!(run(&mut h, "BITCOUNT str 2 -3"), R::Int(74));
        assert_eq!(run(&mut h, "BITCOUNT s 0"), err("ERR syntax error"));
        assert_eq!(run(&mut h, "BITCOUNT s 0 1 hello"), err("ERR syntax error"));
        assert_eq!(run(&mut h, "BITCOUNT s 0 1 bit 2"), err("ERR syntax error"));
        assert_eq!(
            run(&mut h, "BITCOUNT s 0 x"),
            err("ERR value is not an integer or out of range")
        );
        run(&mut h, "SETBIT foo 0 1");
        assert_eq!(run(&mut h, "BITCOUNT foo 0 4294967296"), R::Int(1));
    }

    #[test]
    fn bitpos() {
        let mut h = Harness::new();
        assert_eq!(run(&mut h, "BITPOS str 0"), R::Int(0));
        assert_eq!(run(&mut h, "BITPOS str 0 0 -1 bit"), R::Int(0));
        assert_eq!(run(&mut h, "BITPOS str 1"), R::Int(-1));
        assert_eq!(run(&mut h, "BITPOS str 1 0 -1"), R::Int(-1));
        let cases: &[(&[u8], &str, i64)] = &[
            (b"\xff\xf0\x00", "0", 12),
            (b"\xff\xf0\x00", "0 0 -1 bit", 12),
            (b"\x00\x0f\x00", "1", 12),
            (b"\x00\x0f\x00", "1 0 -1 bit", 12),
            (b"\xff\xf0\x00", "0 1", 12),
            (b"\xff\xf0\x00", "0 1 -1 bit", 12),
            (b"\x00\x0f\xff", "1 1", 12),
            (b"\x00\x0f\xff", "1 1 -1 bit", 12),
            (b"\x00\xff\x00", "0 0 -1", 0),
            (b"\x00\xff\x00", "0 1 -1", 16),
            (b"\x00\xff\x00", "0 2 200", 16),
            (b"\x00\xff\x00", "0 1 1", -1),
            (b"\x00\xff\x00", "0 8 -1 bit", 16),
            (b"\x00\xff\x00", "0 16 200 bit", 16),
            (b"\x00\xff\x00", "0 8 8 bit", -1),
            (b"\x00\xff\x00", "1 0 -1", 8),
            (b"\x00\xff\x00", "1 2 -1", -1),
            (b"\x00\xff\x00", "1 1 1", 8),
            (b"\x00\xff\x00", "1 16 -1 bit", -1),
            (b"\x00\xff\x00", "1 8 8 bit", 8),
            (b"\x00\xff\x00", "1 -10 -20", -1),
            (b"\x00\xff\x00", "0 -10 -20", 0),
            (b"\xff\xff\xff", "0", 24),
            (b"\xff\xff\xff", "0 0", 24),
            (b"\xff\xff\xff", "0 0 -1", -1),
            (b"\xff\xff\xff", "0 0 -1 bit", -1),
            (b"\xff\xff\xff", "0 2 1", -1),
            (b"", "0", -1),
            (b"", "1 0 -1 bit", -1),
        ];
        for &(bytes, query, want) in cases {
            set_bytes(&mut h, "str", bytes);
            assert_eq!(
                run(&mut h, &format!("BITPOS str {query}")),
                R::Int(want),
                "{bytes:?} {query}"
            );
        }
        let mut long = vec![0xffu8; 27];
        long.push(0x0f);
        set_bytes(&mut h, "str", &long);
        for start in 0..9 {
            assert_eq!(run(&mut h, &format!("BITPOS str 0 {start}")), R::Int(216));
            let bit = start * 8 + 1;
            assert_eq!(
                run(&mut h, &format!("BITPOS str 0 {bit} -1 bit")),
                R::Int(216)
            );
        }
        assert_eq!(
            run(&mut h, "BITPOS str 2"),
            err("ERR The bit argument must be 1 or 0.")
        );
        assert_eq!(
            run(&mut h, "BITPOS str x"),
            err("ERR value is not an integer or out of range")
        );
        assert_eq!(
            run(&mut h, "BITPOS str 0 0 -1 bits"),
            err("ERR syntax error")
        );
        assert_eq!(
            run(&mut h, "BITPOS str 0 0 -1 bit 1"),
            err("ERR syntax error")
        );
        assert_eq!(run(&mut h, "BITPOS nokey 1 x y z w"), R::Int(-1));
    }

    const RNA1: &str = "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
    const RNA2: &str = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

    /// A match as Redis writes it: [[a_start, a_end], [b_start, b_end], len?].
    fn m(a: (i64, i64), b: (i64, i64), len: Option<i64>) -> R {
        let pair = |(s, e)| R::Arr(vec![R::Int(s), R::Int(e)]);
        let mut v = vec![pair(a), pair(b)];
        v.extend(len.map(R::Int));
        R::Arr(v)
    }

    #[test]
    fn lcs() {
        let mut h = Harness::new();
        run(&mut h, &format!("SET virus1 {RNA1}"));
        run(&mut h, &format!("SET virus2 {RNA2}"));
        let lcs = &RNA2[13..];
        assert_eq!(run(&mut h, "LCS virus1 virus2"), R::bulk(lcs));
        assert_eq!(
            run(&mut h, "LCS virus1 virus2 LEN"),
            R::Int(lcs.len() as i64)
        );
        let spans = [
            ((238, 238), (239, 239), 1),
            ((236, 236), (238, 238), 1),
            ((229, 230), (236, 237), 2),
            ((224, 224), (235, 235), 1),
            ((1, 222), (13, 234), 222),
        ];
        let idx = |with_len: bool, min: i64| {
            let matches = spans
                .iter()
                .filter(|s| s.2 >= min)
                .map(|&(a, b, n)| m(a, b, with_len.then_some(n)))
                .collect();
            R::Arr(vec![
                R::bulk("matches"),
                R::Arr(matches),
                R::bulk("len"),
                R::Int(227),
            ])
        };
        assert_eq!(run(&mut h, "LCS virus1 virus2 IDX"), idx(false, 0));
        assert_eq!(
            run(&mut h, "LCS virus1 virus2 IDX WITHMATCHLEN"),
            idx(true, 0)
        );
        assert_eq!(
            run(&mut h, "LCS virus1 virus2 IDX WITHMATCHLEN MINMATCHLEN 5"),
            idx(true, 5)
        );
        assert_eq!(
            run(&mut h, "LCS virus1 virus2 idx minmatchlen -3"),
            idx(false, 0)
        );

        run(&mut h, "SET a ohmytext");
        run(&mut h, "SET b mynewtext");
        assert_eq!(run(&mut h, "LCS a b"), R::bulk("mytext"));
        assert_eq!(run(&mut h, "LCS a nokey"), R::bulk(""));
        assert_eq!(run(&mut h, "LCS nokey b LEN"), R::Int(0));
        let empty = R::Arr(vec![
            R::bulk("matches"),
            R::Arr(vec![]),
            R::bulk("len"),
            R::Int(0),
        ]);
        assert_eq!(run(&mut h, "LCS nokey b IDX"), empty);
        assert_eq!(
            run(&mut h, "LCS a b IDX LEN"),
            err("ERR If you want both the length and indexes, please just use IDX.")
        );
        assert_eq!(run(&mut h, "LCS a b FOO"), err("ERR syntax error"));
        assert_eq!(run(&mut h, "LCS a b MINMATCHLEN"), err("ERR syntax error"));
        assert_eq!(
            run(&mut h, "LCS a b MINMATCHLEN x"),
            err("ERR value is not an integer or out of range")
        );
        h.resp3 = true;
        assert!(h
            .raw(&["LCS", "a", "b", "IDX"])
            .starts_with(b"%2\r\n$7\r\nmatches\r\n"));
    }
}
