//! The multibulk form, Redis's `processMultibulkBuffer`: a count header, then
//! that many bulk headers, each followed by its payload. Arguments are spans
//! into the read buffer; nothing is copied.
//!
//! ```text
//!  *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n
//!  └─┬──┘└─┬──┘└┬┘
//!    │     │    └ payload: span (8, 11) into the read buffer
//!    │     └ bulk header: `$` then a length read by `string2ll`
//!    └ count header: how many bulks follow; a count <= 0 is an empty command
//! ```
//!
//! A partial command ends the walk with a [`Step`] saying what is missing, so
//! [`parse_command`](super::parse_command) can answer "incomplete" and
//! [`needed_hint`](super::needed_hint) can say how far a payload reaches. The
//! Redis quirks kept here (unchecked line ends, `string2ll`, NULs hiding a
//! `\r`) are listed in the parent module's doc.

use super::{strchr, Limits, ProtoError};

/// How far a multibulk parse got.
pub(super) enum Step {
    /// The command ends at this offset.
    Done(usize),
    /// A header line is not all there yet.
    Header,
    /// A payload is not all there yet: `buf` must reach this length.
    Payload(usize),
}

/// `processMultibulkBuffer`: `buf[0]` is `*`. Each argument goes to `arg`.
pub(super) fn multibulk(
    buf: &[u8],
    limits: &Limits,
    mut arg: impl FnMut(u32, u32),
) -> Result<Step, ProtoError> {
    let Some(cr) = header_end(buf, 0, limits, ProtoError::TooBigMbulkCount)? else {
        return Ok(Step::Header);
    };
    // Redis 7.0 refuses counts past INT_MAX whatever the configured limit.
    let count = match string2ll(&buf[1..cr]) {
        Some(n) if n <= i64::from(i32::MAX) && (n <= 0 || n as u64 <= limits.max_multibulk) => n,
        _ => return Err(ProtoError::InvalidMultibulkLength),
    };
    let mut pos = cr + 2;
    for _ in 0..count.max(0) {
        let Some(cr) = header_end(buf, pos, limits, ProtoError::TooBigBulkCount)? else {
            return Ok(Step::Header);
        };
        if buf[pos] != b'$' {
            return Err(ProtoError::ExpectedDollar(buf[pos]));
        }
        let len = match string2ll(&buf[pos + 1..cr]) {
            Some(n) if n >= 0 && n as u64 <= limits.max_bulk_len => n as u64,
            _ => return Err(ProtoError::InvalidBulkLength),
        };
        let start = cr + 2;
        // Spans are u32 offsets: a command reaching past 4 GiB could not be
        // named, so it is refused at its header like an over-limit bulk.
        // (Only reachable when `max_bulk_len` is configured near 4 GiB.)
        if start as u64 + len + 2 > u64::from(u32::MAX) {
            return Err(ProtoError::InvalidBulkLength);
        }
        let end = start + len as usize;
        if buf.len() < end + 2 {
            return Ok(Step::Payload(end + 2));
        }
        arg(start as u32, end as u32);
        pos = end + 2;
    }
    Ok(Step::Done(pos))
}

/// Finds the `\r` ending the header line that starts at `pos`; `None` while
/// the line, and the one byte after its `\r` that Redis skips, are not all
/// there. No `\r` within `max_inline` bytes is the error `too_big`.
fn header_end(
    buf: &[u8],
    pos: usize,
    limits: &Limits,
    too_big: ProtoError,
) -> Result<Option<usize>, ProtoError> {
    let rest = &buf[pos..];
    match strchr(rest, b'\r') {
        None if rest.len() > limits.max_inline => Err(too_big),
        Some(cr) if cr + 2 <= rest.len() => Ok(Some(pos + cr)),
        _ => Ok(None),
    }
}

/// Redis's `string2ll`: strict decimal, as the parent module's doc says.
fn string2ll(s: &[u8]) -> Option<i64> {
    // 21 is LONG_STR_SIZE: a longer string is refused before reading it.
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) {
        return None;
    }
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        // -(2^63) is the one magnitude that fits only as a negative.
        (v <= 1 << 63).then(|| 0u64.wrapping_sub(v) as i64)
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::tests::{arg_bytes, encode, parse, parse_whole, parse_with, small, strs};
    use crate::resp::{parse_command, Frame};
    use proptest::prelude::*;

    #[test]
    fn multibulk_spans_index_the_buffer() {
        let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n";
        let (mut spans, mut scratch) = (Vec::new(), Vec::new());
        let got = parse_command(buf, &Limits::default(), &mut spans, &mut scratch);
        assert_eq!(got, Ok(Some((buf.len(), Frame::Multibulk))));
        assert_eq!(spans, [(8, 11), (17, 18), (24, 28)]);
        assert_eq!(parse_whole(buf), strs(&["SET", "k", "a\r\nb"]));
        assert_eq!(parse_whole(b"*1\r\n$0\r\n\r\n"), strs(&[""]));
    }

    #[test]
    fn multibulk_length_errors() {
        let limits = Limits {
            max_multibulk: u64::MAX,
            ..Limits::default()
        };
        for (buf, limits) in [
            (&b"*3000000000\r\n"[..], Limits::default()),
            (b"*1048577\r\n", Limits::default()),
            (b"*2147483648\r\n", limits.clone()), // INT_MAX caps any limit
            (b"*5\r\n", small()),
            (b"*abc\r\n", Limits::default()),
            (b"*\r\n", Limits::default()),
            (b"*+1\r\n", Limits::default()),
            (b"*01\r\n", Limits::default()),
            (b"*-0\r\n", Limits::default()),
            (b"* 1\r\n", Limits::default()),
            (b"*1\n$4\r\nPING\r\n", Limits::default()), // `\r` found past the line
            (b"*99999999999999999999\r\n", Limits::default()),
        ] {
            assert_eq!(
                parse_with(buf, &limits),
                Err(ProtoError::InvalidMultibulkLength),
                "{buf:?}"
            );
        }
        assert_eq!(parse_with(b"*2147483647\r\n", &limits), Ok(None));
        assert_eq!(
            ProtoError::InvalidMultibulkLength.to_string(),
            "ERR Protocol error: invalid multibulk length"
        );
    }

    #[test]
    fn bulk_length_errors() {
        for buf in [
            &b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"[..],
            b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n",
            b"*1\r\n$-1\r\n",
            b"*1\r\n$\r\n",
            b"*1\r\n$+4\r\n",
            b"*1\r\n$04\r\n",
            b"*1\r\n$536870913\r\n", // proto-max-bulk-len + 1
        ] {
            assert_eq!(parse(buf), Err(ProtoError::InvalidBulkLength), "{buf:?}");
        }
        assert_eq!(parse(b"*1\r\n$536870912\r\n"), Ok(None));
        assert_eq!(parse_with(b"*1\r\n$8\r\n", &small()), Ok(None));
        let err = parse_with(b"*1\r\n$9\r\n", &small());
        assert_eq!(err, Err(ProtoError::InvalidBulkLength));
        assert_eq!(
            ProtoError::InvalidBulkLength.to_string(),
            "ERR Protocol error: invalid bulk length"
        );
    }

    #[test]
    fn huge_bulk_is_refused_at_its_header() {
        // 2 GB declared, nothing of it sent: refused before any buffering.
        let buf = b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n";
        assert_eq!(parse(buf), Err(ProtoError::InvalidBulkLength));
        // Even with no limit configured, a command past 4 GiB has no u32 spans.
        let unlimited = Limits {
            max_bulk_len: u64::MAX,
            ..Limits::default()
        };
        let buf = b"*1\r\n$5000000000\r\n";
        assert_eq!(
            parse_with(buf, &unlimited),
            Err(ProtoError::InvalidBulkLength)
        );
    }

    #[test]
    fn expected_dollar_errors() {
        let cases: [(&[u8], u8, &str); 4] = [
            (b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", b'f', "f"),
            (b"*1\r\nfoo\r\n", b'f', "f"),
            (b"*1\r\n\r\n", b'\r', " "), // CR and LF are printed as spaces
            (b"*1\r\n\n\r\n", b'\n', " "),
        ];
        for (buf, byte, shown) in cases {
            let err = parse(buf).unwrap_err();
            assert_eq!(err, ProtoError::ExpectedDollar(byte));
            let text = format!("ERR Protocol error: expected '$', got '{shown}'");
            assert_eq!(err.to_string(), text);
            let mut bytes = Vec::new();
            err.write_text(&mut bytes);
            assert_eq!(bytes, text.as_bytes());
        }
        // A non-ASCII byte is written raw, as Redis does.
        let err = parse(b"*1\r\n\xff\r\n").unwrap_err();
        let mut bytes = Vec::new();
        err.write_text(&mut bytes);
        assert_eq!(bytes, b"ERR Protocol error: expected '$', got '\xff'");
    }

    #[test]
    fn line_ends_after_headers_and_payloads_are_not_checked() {
        // Redis skips these bytes unread; so do we.
        assert_eq!(parse_whole(b"*1\rX$4\rYPINGxy"), strs(&["PING"]));
    }

    #[test]
    fn lengths_read_like_string2ll() {
        assert_eq!(string2ll(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(string2ll(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b"9223372036854775808"[..],
            b"-9223372036854775809",
            b"18446744073709551616",
            b"000000000000000000001",
            b"-",
            b"1 ",
        ] {
            assert_eq!(string2ll(bad), None, "{bad:?}");
        }
    }

    fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(arg_bytes(), 1..6)
    }

    /// Feeds `stream` in chunks cut at `cuts` to a connection-like loop that
    /// drains each command it parses; returns the commands seen.
    fn feed(stream: &[u8], cuts: &[usize], limits: &Limits) -> Vec<Vec<Vec<u8>>> {
        let mut points: Vec<usize> = cuts.to_vec();
        points.push(stream.len());
        points.sort_unstable();
        let (mut buf, mut seen, mut from) = (Vec::new(), Vec::new(), 0);
        for to in points {
            buf.extend_from_slice(&stream[from..to]);
            from = to;
            while let Some((n, args)) = parse_with(&buf, limits).unwrap() {
                seen.push(args);
                buf.drain(..n);
            }
        }
        assert!(buf.is_empty(), "left over: {buf:?}");
        seen
    }

    proptest! {
        #[test]
        fn split_encodings_parse_like_whole(
            commands in prop::collection::vec(command(), 1..5),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let stream: Vec<u8> = commands.iter().flat_map(|c| encode(c)).collect();
            let first = encode(&commands[0]);
            for end in 0..first.len() {
                prop_assert_eq!(parse(&first[..end]), Ok(None));
            }
            prop_assert_eq!(parse(&stream).unwrap().unwrap(), (first.len(), commands[0].clone()));
            let cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
            prop_assert_eq!(feed(&stream, &[], &Limits::default()), commands.clone());
            prop_assert_eq!(feed(&stream, &cuts, &Limits::default()), commands);
        }
    }
}
