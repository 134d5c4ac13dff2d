//! The inline form, Redis's `processInlineBuffer`: one line ended by `\n` or
//! `\r\n`, cut into arguments the way `sdssplitargs` cuts them, quotes and
//! escapes included. Unescaping changes the bytes, so arguments are written
//! to `scratch` and their spans index it.
//!
//! ```text
//!  read buffer   SET "a b" 'it\'s'\r\n
//!  scratch       SETa bit's
//!  spans         (0, 3) (3, 6) (6, 10)
//! ```
//!
//! [`split_args`] is public on its own: the config file's lexer cuts its
//! lines with it too, so a config line and an inline command read alike.

use super::{strchr, Limits, ProtoError};

/// `processInlineBuffer`: a line ended by `\n` or `\r\n`, split like
/// `sdssplitargs`. Returns the bytes consumed.
pub(super) fn inline(
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
    use crate::resp::tests::{arg_bytes, parse, parse_whole};
    use proptest::prelude::*;

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
