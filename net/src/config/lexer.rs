//! Words and numbers as Redis reads and writes them in config lines:
//! `sdssplitargs` and `sdscatrepr`, `string2ll`, and memory values with units.

/// An integer the way Redis's `string2ll` takes it: optional `-`, digits, no
/// `+`, no spaces, no leading zeros.
pub(super) fn parse_int(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || s == b"0");
    if !canonical {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// A memory value like Redis's `memtoull`: digits then an optional unit, case
/// insensitive: `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`. `None` if
/// malformed or it does not fit in 64 bits.
pub fn parse_memory(s: &[u8]) -> Option<u64> {
    let split = s
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse::<u64>()
        .ok()?
        .checked_mul(mul)
}

/// Bytes in the largest binary unit that divides them exactly, as CONFIG
/// REWRITE writes them (`1gb`, `512mb`, `3kb`, `1000`).
pub(super) fn format_memory(bytes: u64) -> String {
    for (unit, shift) in [("gb", 30), ("mb", 20), ("kb", 10)] {
        if bytes != 0 && bytes.trailing_zeros() >= shift {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// Splits a line into words like Redis's `sdssplitargs` (config lines,
/// inline commands): blanks separate words; `"..."` takes `\n \r \t \b \a`,
/// `\xHH` and `\<any>` escapes; `'...'` takes only `\'`. `None` for
/// unbalanced quotes or a closing quote followed by something other than a
/// blank.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // The same splitter as inline commands: one implementation of sdssplitargs.
    let (mut spans, mut scratch) = (Vec::new(), Vec::new());
    crate::resp::split_args(line, &mut spans, &mut scratch).ok()?;
    Some(
        spans
            .iter()
            .map(|&(a, b)| scratch[a as usize..b as usize].to_vec())
            .collect(),
    )
}

/// Quotes bytes the way Redis's `sdscatrepr` does, so [`split_args`] reads
/// them back unchanged.
pub(super) fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::strings;
    use super::*;

    #[test]
    fn memory_units_like_redis() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("100", Some(100)),
            ("100b", Some(100)),
            ("1k", Some(1000)),
            ("1kb", Some(1024)),
            ("2M", Some(2_000_000)),
            ("2mb", Some(2 << 20)),
            ("1g", Some(1_000_000_000)),
            ("1GB", Some(1 << 30)),
            ("1Gb", Some(1 << 30)),
            ("", None),
            ("kb", None),
            ("-1", None),
            ("1.5mb", None),
            ("1tb", None),
            (" 1", None),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("18446744073709551615kb", None),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_memory(text.as_bytes()), want, "{text:?}");
        }
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_memory(1024), "1kb");
        assert_eq!(format_memory(3 << 20), "3mb");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory((1 << 30) + 1024), "1048577kb");
    }

    #[test]
    fn integers_are_strict_like_string2ll() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-1"), Some(-1));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "-0",
            "010",
            "+1",
            " 1",
            "1 ",
            "1k",
            "9223372036854775808",
        ] {
            assert_eq!(parse_int(bad.as_bytes()), None, "{bad:?}");
        }
    }

    fn words(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|ws| {
            ws.into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect()
        })
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        assert_eq!(words("  port   7000  "), Some(strings(&["port", "7000"])));
        assert_eq!(words(""), Some(vec![]));
        assert_eq!(words(" \t "), Some(vec![]));
        assert_eq!(
            words(r#"requirepass "a b""#),
            Some(strings(&["requirepass", "a b"]))
        );
        assert_eq!(words(r#""""#), Some(strings(&[""])));
        assert_eq!(
            words(r#""\n\t\r\a\b\"\\\x41\q""#),
            Some(strings(&["\n\t\r\x07\x08\"\\Aq"]))
        );
        assert_eq!(words(r#""\x4""#), Some(strings(&["x4"])));
        assert_eq!(words(r"'it\'s' 'a\nb'"), Some(strings(&["it's", r"a\nb"])));
        assert_eq!(words(r#"a"b c"d"#), None);
        assert_eq!(words(r#"a"b c" d"#), Some(strings(&["ab c", "d"])));
        for bad in [
            r#""unterminated"#,
            "'open",
            r#""closed"glued"#,
            "'x'y",
            r#""ends\""#,
        ] {
            assert_eq!(words(bad), None, "{bad}");
        }
    }

    #[test]
    fn repr_reads_back() {
        let nasty: &[u8] = b"a \"quoted\" \\ line\n\t\x07\x08\x00\xff\r end";
        let quoted = repr(nasty);
        assert_eq!(split_args(quoted.as_bytes()), Some(vec![nasty.to_vec()]));
        assert_eq!(repr(b"p w\""), r#""p w\"""#);
    }
}
