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
//!
//! What lives where:
//!
//! ```text
//!  resp.rs                Limits, Frame, ProtoError; parse_command and needed_hint,
//!   │                     which pick the form by the first byte; strchr, used by both
//!   ├─ resp/multibulk.rs  `*…`: count and bulk headers, string2ll
//!   └─ resp/inline.rs     any other first byte: one line, cut by split_args
//! ```

use std::fmt;

// The fuzz target compiles this file alone through `#[path]`, and a file
// mounted that way looks for its children beside itself (in `src/`), not in
// `src/resp/`. Naming the paths makes both builds find the same files.
#[path = "resp/inline.rs"]
mod inline;
#[path = "resp/multibulk.rs"]
mod multibulk;

use self::inline::inline;
// Used by the config lexer; the fuzz build, which has no config, would warn.
#[allow(unused_imports)]
pub use self::inline::split_args;
use self::multibulk::{multibulk, Step};

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

/// Redis's `strchr` over its query buffer: the first `target` byte, unless a
/// NUL comes first, where C's string ends. Kept so that the same bytes get
/// the same answer as from Redis (its protocol-desync tests rely on it).
fn strchr(buf: &[u8], target: u8) -> Option<usize> {
    let i = buf.iter().position(|&b| b == target || b == 0)?;
    (buf[i] == target).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(super) type Parsed = Option<(usize, Vec<Vec<u8>>)>;

    pub(super) fn parse_with(buf: &[u8], limits: &Limits) -> Result<Parsed, ProtoError> {
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

    pub(super) fn parse(buf: &[u8]) -> Result<Parsed, ProtoError> {
        parse_with(buf, &Limits::default())
    }

    /// Arguments of a command that must parse whole from `buf`.
    pub(super) fn parse_whole(buf: &[u8]) -> Vec<Vec<u8>> {
        match parse(buf) {
            Ok(Some((n, args))) if n == buf.len() => args,
            other => panic!("{buf:?} gave {other:?}"),
        }
    }

    pub(super) fn strs(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    pub(super) fn encode(args: &[Vec<u8>]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    pub(super) fn small() -> Limits {
        Limits {
            max_bulk_len: 8,
            max_multibulk: 4,
            max_inline: 16,
        }
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

    pub(super) fn arg_bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            3 => any::<u8>(),
            1 => Just(b'\r'),
            1 => Just(b'\n'),
            1 => Just(b'$'),
            1 => Just(b'*'),
        ];
        prop::collection::vec(byte, 0..24)
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
    }
}
