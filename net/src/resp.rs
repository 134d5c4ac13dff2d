//! RESP request parsing: one command at a time from the front of a
//! connection's read buffer, read the way Redis 7.0's `processInputBuffer`
//! reads it (`processMultibulkBuffer` / `processInlineBuffer` in
//! networking.c), with the same error texts.
//!
//! ```text
//!  read buffer   *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n  PING "a b"\r\n   *2\r\n$3\r\nGE…
//!                └────────── Multibulk ──────────────┘  └─ Inline ───┘   └ incomplete: Ok(None)
//!  Multibulk:  spans (start, end) index the read buffer: no copy
//!  Inline:     arguments are unescaped into `scratch`; spans index `scratch`
//! ```
//!
//! A first byte of `*` selects the multibulk form, any other byte the inline
//! form, as in Redis. The parser keeps no state between calls: on `Ok(None)`
//! the caller reads more and calls again on the same bytes. `spans` and
//! `scratch` belong to the connection and are reused, so a command costs no
//! allocation once they have grown. A command that arrives over many reads is
//! re-scanned from its start on each call; the cost is one step per argument
//! header already there, never per payload byte, and [`needed_hint`] lets the
//! caller read a large payload in one go.
//!
//! Redis's quirks are kept on purpose, so that clients and Redis's own tests
//! see the same answers from us as from Redis:
//! - The byte after a header's `\r` and the two bytes after a bulk payload are
//!   skipped, never checked (Redis does not verify the `\n` / trailing CRLF).
//! - Redis looks for line ends with `strchr` on its NUL-terminated buffer, so a
//!   NUL byte before the line end hides it: the command stays incomplete until
//!   the buffer passes `max_inline`, then fails as "too big". See `strchr` below.
//! - Lengths follow `string2ll`: optional `-`, no `+`, no leading zeros, no
//!   spaces, at most 20 characters.
//! - A multibulk count `<= 0` is an empty command, skipped without a reply.
//!
//! Not applied here: Redis's "unauthenticated multibulk/bulk length" limits
//! (count > 10, bulk > 16384 before AUTH), which need the connection's state.

use std::fmt;

/// Size limits, named after the Redis settings they mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `proto-max-bulk-len`: a longer bulk is an invalid bulk length.
    pub max_bulk_len: u64,
    /// Largest multibulk count accepted; whatever it is set to, counts past
    /// `INT_MAX` are refused as in Redis 7.0. The default, 1024*1024, is the
    /// cap of Redis before 7.0; 7.0 itself has only `INT_MAX`.
    pub max_multibulk: u64,
    /// `PROTO_INLINE_MAX_SIZE`: how much may be buffered without finding the
    /// end of an inline line or of a multibulk/bulk header.
    pub max_inline: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bulk_len: 512 * 1024 * 1024,
            max_multibulk: 1024 * 1024,
            max_inline: 64 * 1024,
        }
    }
}

/// Which buffer a parsed command's spans index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// Spans index the `buf` given to [`parse_command`].
    Multibulk,
    /// Spans index `scratch`.
    Inline,
}

/// A protocol error. Redis replies with it and closes the connection after
/// the reply; so should the caller. `Display` is the exact text after `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtoError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    /// The byte found where a bulk header's `$` should be.
    ExpectedDollar(u8),
    TooBigMbulkCount,
    TooBigBulkCount,
    TooBigInline,
    UnbalancedQuotes,
}

impl ProtoError {
    /// The reply text as bytes. Equal to `Display` except for
    /// [`ProtoError::ExpectedDollar`] with a non-ASCII byte, which Redis writes
    /// raw (not valid UTF-8, so `Display` cannot).
    pub fn write_text(&self, out: &mut Vec<u8>) {
        match *self {
            ProtoError::ExpectedDollar(b) if !b.is_ascii() => {
                out.extend_from_slice(b"ERR Protocol error: expected '$', got '");
                out.push(b);
                out.push(b'\'');
            }
            _ => out.extend_from_slice(self.to_string().as_bytes()),
        }
    }
}

impl fmt::Display for ProtoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match *self {
            ProtoError::InvalidMultibulkLength => "invalid multibulk length",
            ProtoError::InvalidBulkLength => "invalid bulk length",
            ProtoError::ExpectedDollar(b) => {
                // Redis formats this one with addReplyErrorFormat, which turns
                // CR and LF into spaces. Non-ASCII: see `write_text`.
                let got = match b {
                    b'\r' | b'\n' => ' ',
                    _ => char::from(b),
                };
                return write!(f, "ERR Protocol error: expected '$', got '{got}'");
            }
            ProtoError::TooBigMbulkCount => "too big mbulk count string",
            ProtoError::TooBigBulkCount => "too big bulk count string",
            ProtoError::TooBigInline => "too big inline request",
            ProtoError::UnbalancedQuotes => "unbalanced quotes in request",
        };
        write!(f, "ERR Protocol error: {text}")
    }
}

impl std::error::Error for ProtoError {}

/// Parses one command from the front of `buf`.
///
/// - `Ok(None)`: incomplete; read more and call again with the same bytes.
/// - `Ok(Some((consumed, frame)))`: the command took `consumed` bytes and
///   `spans` (cleared first) hold its arguments as `(start, end)` ranges into
///   `buf` ([`Frame::Multibulk`]) or `scratch` ([`Frame::Inline`]). Zero spans
///   is an empty command ("\r\n", "*0\r\n", "*-1\r\n") to skip without a reply.
/// - `Err(e)`: reply `-{e}` and close the connection, as Redis does.
pub fn parse_command(
    buf: &[u8],
    limits: &Limits,
    spans: &mut Vec<(u32, u32)>,
    scratch: &mut Vec<u8>,
) -> Result<Option<(usize, Frame)>, ProtoError> {
    spans.clear();
    scratch.clear();
    match buf.first() {
        None => Ok(None),
        Some(b'*') => match multibulk(buf, limits, |start, end| spans.push((start, end)))? {
            Step::Done(consumed) => Ok(Some((consumed, Frame::Multibulk))),
            Step::Header | Step::Payload(_) => {
                spans.clear();
                Ok(None)
            }
        },
        Some(_) => Ok(inline(buf, limits, spans, scratch)?.map(|n| (n, Frame::Inline))),
    }
}

/// For a buffer on which [`parse_command`] returned `Ok(None)`: when the parse
/// stopped inside a bulk payload whose length is known, the length `buf` must
/// reach before parsing can go on (the end of that payload and its CRLF).
/// The caller can reserve that much once, and for a large argument read just
/// that much (as Redis does past `PROTO_MBULK_BIG_ARG`). `None` otherwise.
pub fn needed_hint(buf: &[u8], limits: &Limits) -> Option<usize> {
    if buf.first() != Some(&b'*') {
        return None;
    }
    match multibulk(buf, limits, |_, _| {}) {
        Ok(Step::Payload(needed)) => Some(needed),
        _ => None,
    }
}

/// How far a multibulk parse got.
enum Step {
    /// The command ends at this offset.
    Done(usize),
    /// A header line is not all there yet.
    Header,
    /// A payload is not all there yet: `buf` must reach this length.
    Payload(usize),
}

/// `processMultibulkBuffer`: `buf[0]` is `*`. Each argument goes to `arg`.
fn multibulk(
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

/// `processInlineBuffer`: a line ended by `\n` or `\r\n`, split like
/// `sdssplitargs`. Returns the bytes consumed.
fn inline(
    buf: &[u8],
    limits: &Limits,
    spans: &mut Vec<(u32, u32)>,
    scratch: &mut Vec<u8>,
) -> Result<Option<usize>, ProtoError> {
    let Some(nl) = strchr(buf, b'\n') else {
        if buf.len() > limits.max_inline {
            return Err(ProtoError::TooBigInline);
        }
        return Ok(None);
    };
    // Redis takes no limit on a line whose end has arrived; our spans do.
    if nl > u32::MAX as usize {
        return Err(ProtoError::TooBigInline);
    }
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    split_args(&buf[..line_end], spans, scratch)?;
    Ok(Some(nl + 1))
}

/// Redis's `strchr` over its query buffer: the first `target` byte, unless a
/// NUL comes first, where C's string ends. Kept so that the same bytes get
/// the same answer as from Redis (its protocol-desync tests rely on it).
fn strchr(buf: &[u8], target: u8) -> Option<usize> {
    let i = buf.iter().position(|&b| b == target || b == 0)?;
    (buf[i] == target).then_some(i)
}

/// Redis's `string2ll`: strict decimal, as described in the module doc.
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

/// C's `isspace` in the C locale.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// `sdssplitargs`: `foo "a b\x41\n" 'it\'s'` → `foo`, `a bA⏎`, `it's`.
/// Unquoted tokens end at space, tab, CR, LF (leading blanks are anything
/// `isspace`); a quote may open mid-token (`ab"c d"` is `abc d`); a closing
/// quote must be followed by a blank or the line end, and an unclosed quote
/// is an error. Arguments are appended to `scratch`.
pub fn split_args(
    line: &[u8],
    spans: &mut Vec<(u32, u32)>,
    scratch: &mut Vec<u8>,
) -> Result<(), ProtoError> {
    // Read like the C string Redis splits: 0 past the end (and at a NUL,
    // though `strchr` already keeps NULs out of a line).
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let closes = |next: u8| next == 0 || is_space(next);
    let mut p = 0;
    loop {
        while is_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Ok(());
        }
        let start = scratch.len() as u32;
        let (mut in_double, mut in_single, mut done) = (false, false, false);
        while !done {
            let c = at(p);
            if in_double {
                if c == b'\\'
                    && at(p + 1) == b'x'
                    && at(p + 2).is_ascii_hexdigit()
                    && at(p + 3).is_ascii_hexdigit()
                {
                    scratch.push(hex_value(at(p + 2)) * 16 + hex_value(at(p + 3)));
                    p += 3;
                } else if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    scratch.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if !closes(at(p + 1)) {
                        return Err(ProtoError::UnbalancedQuotes);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(ProtoError::UnbalancedQuotes);
                } else {
                    scratch.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    scratch.push(b'\'');
                } else if c == b'\'' {
                    if !closes(at(p + 1)) {
                        return Err(ProtoError::UnbalancedQuotes);
                    }
                    done = true;
                } else if c == 0 {
                    return Err(ProtoError::UnbalancedQuotes);
                } else {
                    scratch.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => done = true,
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => scratch.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        spans.push((start, scratch.len() as u32));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Parsed = Option<(usize, Vec<Vec<u8>>)>;

    fn parse_with(buf: &[u8], limits: &Limits) -> Result<Parsed, ProtoError> {
        let (mut spans, mut scratch) = (Vec::new(), Vec::new());
        let parsed = parse_command(buf, limits, &mut spans, &mut scratch)?;
        Ok(parsed.map(|(consumed, frame)| {
            assert!(consumed > 0 && consumed <= buf.len());
            let base = match frame {
                Frame::Multibulk => buf,
                Frame::Inline => &scratch[..],
            };
            let args = spans
                .iter()
                .map(|&(s, e)| base[s as usize..e as usize].to_vec());
            (consumed, args.collect())
        }))
    }

    fn parse(buf: &[u8]) -> Result<Parsed, ProtoError> {
        parse_with(buf, &Limits::default())
    }

    /// Arguments of a command that must parse whole from `buf`.
    fn parse_whole(buf: &[u8]) -> Vec<Vec<u8>> {
        match parse(buf) {
            Ok(Some((n, args))) if n == buf.len() => args,
            other => panic!("{buf:?} gave {other:?}"),
        }
    }

    fn strs(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn encode(args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    fn small() -> Limits {
        Limits {
            max_bulk_len: 8,
            max_multibulk: 4,
            max_inline: 16,
        }
    }

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
    fn pipelined_commands_mixing_forms() {
        let mut buf = encode(&strs(&["PING"]));
        buf.extend_from_slice(b"ECHO \"hi there\"\r\n\r\n*-1\r\nGET k\n");
        buf.extend_from_slice(&encode(&strs(&["GET", "k"])));
        buf.extend_from_slice(b"*2\r\n$3\r\nGE");
        let mut seen = Vec::new();
        let mut rest = &buf[..];
        while let Some((n, args)) = parse(rest).unwrap() {
            seen.push(args);
            rest = &rest[n..];
        }
        assert_eq!(rest, b"*2\r\n$3\r\nGE");
        let want = [
            strs(&["PING"]),
            strs(&["ECHO", "hi there"]),
            vec![],
            vec![],
            strs(&["GET", "k"]),
            strs(&["GET", "k"]),
        ];
        assert_eq!(seen, want);
    }

    #[test]
    fn empty_commands_have_no_arguments() {
        for buf in [
            &b"\r\n"[..],
            b"\n",
            b"   \t\r\n",
            b"*0\r\n",
            b"*-1\r\n",
            b"*-10\r\n",
        ] {
            assert_eq!(parse(buf), Ok(Some((buf.len(), vec![]))), "{buf:?}");
        }
    }

    #[test]
    fn incomplete_until_the_last_byte() {
        for buf in [
            &b"*"[..],
            b"*1",
            b"*1\r", // Redis wants the byte after `\r` too
            b"*1\r\n$",
            b"*1\r\n$4\r",
            b"*1\r\n$4\r\nPING",
            b"*1\r\n$4\r\nPING\r",
            b"PING",
            b"PING\r",
            b"",
        ] {
            assert_eq!(parse(buf), Ok(None), "{buf:?}");
        }
        let limits = Limits {
            max_multibulk: 1024 * 1024,
            ..small()
        };
        assert_eq!(parse_with(b"*1048576\r\n", &limits), Ok(None));
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
    fn too_big_headers_and_lines() {
        let limits = Limits::default();
        let mut mbulk = vec![b'*'];
        mbulk.resize(64 * 1024, b'1');
        assert_eq!(parse_with(&mbulk, &limits), Ok(None));
        mbulk.push(b'1');
        assert_eq!(
            parse_with(&mbulk, &limits),
            Err(ProtoError::TooBigMbulkCount)
        );

        let mut bulk = b"*1\r\n$".to_vec();
        bulk.resize(4 + 64 * 1024 + 1, b'1');
        assert_eq!(parse_with(&bulk, &limits), Err(ProtoError::TooBigBulkCount));
        assert_eq!(parse_with(&bulk[..bulk.len() - 1], &limits), Ok(None));

        let mut line = vec![b'a'; 64 * 1024];
        assert_eq!(parse_with(&line, &limits), Ok(None));
        line.push(b'a');
        assert_eq!(parse_with(&line, &limits), Err(ProtoError::TooBigInline));
        // A line whose end has arrived has no length limit, as in Redis.
        line.push(b'\n');
        assert_eq!(parse_with(&line, &limits).unwrap().unwrap().1.len(), 1);

        for (err, text) in [
            (ProtoError::TooBigMbulkCount, "too big mbulk count string"),
            (ProtoError::TooBigBulkCount, "too big bulk count string"),
            (ProtoError::TooBigInline, "too big inline request"),
            (ProtoError::UnbalancedQuotes, "unbalanced quotes in request"),
        ] {
            assert_eq!(err.to_string(), format!("ERR Protocol error: {text}"));
        }
    }

    #[test]
    fn nul_hides_the_line_end_like_strchr() {
        for buf in [&b"PI\0NG\r\n"[..], b"*1\0\r\n", b"*1\r\n$\x004\r\nPING\r\n"] {
            assert_eq!(parse(buf), Ok(None), "{buf:?}");
        }
        let stuck = b"\0AAAAAAAAAAAAAAAA\n";
        assert_eq!(parse_with(stuck, &small()), Err(ProtoError::TooBigInline));
        let stuck = b"*\0AAAAAAAAAAAAAAAA\r\n";
        assert_eq!(
            parse_with(stuck, &small()),
            Err(ProtoError::TooBigMbulkCount)
        );
        let stuck = b"*1\r\n$\0AAAAAAAAAAAAAAAA\r\n";
        assert_eq!(
            parse_with(stuck, &small()),
            Err(ProtoError::TooBigBulkCount)
        );
        // Inside a bulk payload a NUL is just a byte.
        assert_eq!(parse_whole(b"*1\r\n$3\r\na\0b\r\n"), [b"a\0b".to_vec()]);
    }

    #[test]
    fn line_ends_after_headers_and_payloads_are_not_checked() {
        // Redis skips these bytes unread; so do we.
        assert_eq!(parse_whole(b"*1\rX$4\rYPINGxy"), strs(&["PING"]));
    }

    #[test]
    fn inline_splitting_follows_sdssplitargs() {
        let cases: [(&[u8], &[&[u8]]); 14] = [
            (b"set \"a b\" 'c d'\r\n", &[b"set", b"a b", b"c d"]),
            (
                b"\"\\x41\\x4a\\n\\r\\t\\b\\a\\\"\\\\\\q\"\n",
                &[b"AJ\n\r\t\x08\x07\"\\q"],
            ),
            (b"\"\\xzz\" \"\\x4\"\n", &[b"xzz", b"x4"]),
            (b"'it\\'s' 'a\\nb'\n", &[b"it's", b"a\\nb"]),
            (b"ab\"cd ef\"\n", &[b"abcd ef"]),
            (b"\"\" ''\n", &[b"", b""]),
            (b"\x0bfoo\x0cbar\n", &[b"foo\x0cbar"]),
            (b"\"a\"\x0b'b'\x0c\n", &[b"a", b"b"]),
            (b"a\rb\n", &[b"a", b"b"]),
            (b"foo\r\r\n", &[b"foo"]),
            (b"  GET   k  \r\n", &[b"GET", b"k"]),
            (b"\xff\xfe bin\n", &[b"\xff\xfe", b"bin"]),
            (b"a\tb\n", &[b"a", b"b"]),
            (b"PING\n", &[b"PING"]),
        ];
        for (buf, want) in cases {
            assert_eq!(parse_whole(buf), want, "{:?}", String::from_utf8_lossy(buf));
        }
    }

    #[test]
    fn unbalanced_quotes() {
        for buf in [
            &b"set \"\"\"test-key\"\"\" test-value\r\n"[..],
            b"\"foo\n",
            b"'foo\n",
            b"\"foo\"bar\n",
            b"'a'b\n",
            b"\"a\\\"\n",
            b"\"trailing\\\n",
        ] {
            assert_eq!(parse(buf), Err(ProtoError::UnbalancedQuotes), "{buf:?}");
        }
    }

    #[test]
    fn hint_names_the_end_of_a_partial_payload() {
        let mut buf = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\nabc".to_vec();
        let header = buf.len() - 3;
        assert_eq!(parse(&buf), Ok(None));
        assert_eq!(
            needed_hint(&buf, &Limits::default()),
            Some(header + 100_002)
        );
        buf.truncate(header - 1);
        assert_eq!(needed_hint(&buf, &Limits::default()), None);
        assert_eq!(
            needed_hint(b"*1\r\n$4\r\nPING\r\n", &Limits::default()),
            None
        );
        assert_eq!(needed_hint(b"PING", &Limits::default()), None);
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

    fn arg_bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            3 => any::<u8>(),
            1 => Just(b'\r'),
            1 => Just(b'\n'),
            1 => Just(b'$'),
            1 => Just(b'*'),
        ];
        prop::collection::vec(byte, 0..24)
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

    /// `sdscatrepr`-style quoting, which `sdssplitargs` reads back.
    fn quote(arg: &[u8]) -> Vec<u8> {
        let mut out = vec![b'"'];
        for &b in arg {
            match b {
                b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x20..=0x7e => out.push(b),
                _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            }
        }
        out.push(b'"');
        out
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(
            bytes in prop::collection::vec(
                prop_oneof![
                    4 => any::<u8>(),
                    2 => prop::sample::select(&b"*$\r\n\"' \\x0123456789-"[..]),
                ],
                0..200,
            ),
            tight in any::<bool>(),
        ) {
            let limits = if tight { small() } else { Limits::default() };
            let (mut spans, mut scratch) = (Vec::new(), Vec::new());
            let mut rest = &bytes[..];
            while let Ok(Some((n, frame))) =
                parse_command(rest, &limits, &mut spans, &mut scratch)
            {
                prop_assert!(n > 0 && n <= rest.len());
                let len = match frame {
                    Frame::Multibulk => n,
                    Frame::Inline => scratch.len(),
                };
                for &(s, e) in &spans {
                    prop_assert!(s <= e && e as usize <= len);
                }
                rest = &rest[n..];
            }
            let _ = needed_hint(rest, &limits);
        }

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

        #[test]
        fn inline_round_trip(
            args in prop::collection::vec("[A-Za-z0-9_:.{}-]{1,12}", 1..8),
            gaps in prop::collection::vec(prop::sample::select(vec![" ", "  ", "\t", " \t "]), 8),
            crlf in any::<bool>(),
        ) {
            let mut line = String::new();
            for (arg, gap) in args.iter().zip(&gaps) {
                line.push_str(arg);
                line.push_str(gap);
            }
            line.push_str(if crlf { "\r\n" } else { "\n" });
            let want: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
            prop_assert_eq!(parse_whole(line.as_bytes()), want);
        }

        #[test]
        fn quoted_inline_round_trip(args in prop::collection::vec(arg_bytes(), 1..6)) {
            let mut line = Vec::new();
            for arg in &args {
                line.extend_from_slice(&quote(arg));
                line.push(b' ');
            }
            line.extend_from_slice(b"\r\n");
            prop_assert_eq!(parse_whole(&line), args);
        }
    }
}
