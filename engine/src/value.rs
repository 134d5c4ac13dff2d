//! Values as commands see them: borrowed views into an entry, and what a
//! command hands the table to store (`entry.rs` decides the encoding).

use crate::types::{Coll, Hash, List, Set, Zset};

/// A string value: an integer (Redis's `int` encoding) or bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrVal<'a> {
    Int(i64),
    Bytes(&'a [u8]),
}

impl<'a> StrVal<'a> {
    /// Stores `bytes` in its tightest encoding. Like Redis, a string is kept as
    /// an integer only when it reads back byte-for-byte the same (no "+1", "01").
    pub fn from_bytes(bytes: &'a [u8]) -> StrVal<'a> {
        match parse_canonical_i64(bytes) {
            Some(n) => StrVal::Int(n),
            None => StrVal::Bytes(bytes),
        }
    }

    /// Stores `bytes` as a string, never as an integer.
    pub fn raw(bytes: &'a [u8]) -> StrVal<'a> {
        StrVal::Bytes(bytes)
    }

    /// The string's bytes; integers are formatted into `scratch`.
    pub fn as_bytes<'s>(self, scratch: &'s mut itoa::Buffer) -> &'s [u8]
    where
        'a: 's,
    {
        match self {
            StrVal::Int(n) => scratch.format(n).as_bytes(),
            StrVal::Bytes(b) => b,
        }
    }

    pub fn to_vec(self) -> Vec<u8> {
        self.as_bytes(&mut itoa::Buffer::new()).to_vec()
    }

    pub fn len(self) -> usize {
        match self {
            StrVal::Int(n) => itoa::Buffer::new().format(n).len(),
            StrVal::Bytes(b) => b.len(),
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// A value of any type, borrowed from its entry.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Str(StrVal<'a>),
    Hash(&'a Hash),
    Set(&'a Set),
    List(&'a List),
    Zset(&'a Zset),
}

impl Value<'_> {
    /// TYPE's answer.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::List(_) => "list",
            Value::Zset(_) => "zset",
        }
    }

    /// An owned copy of a collection; None for a string.
    pub fn to_coll(self) -> Option<Coll> {
        match self {
            Value::Str(_) => None,
            Value::Hash(h) => Some(Coll::Hash(h.clone())),
            Value::Set(s) => Some(Coll::Set(s.clone())),
            Value::List(l) => Some(Coll::List(Box::new(l.clone()))),
            Value::Zset(z) => Some(Coll::Zset(z.clone())),
        }
    }
}

/// Parses an i64 written exactly as Redis would write it back: optional '-',
/// no leading zeros, no '+', no spaces, at most 20 bytes.
pub fn parse_canonical_i64(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 20 {
        return None;
    }
    let (neg, digits) = if b[0] == b'-' {
        (true, &b[1..])
    } else {
        (false, b)
    };
    if digits.is_empty() || (digits[0] == b'0' && (digits.len() > 1 || neg)) {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let digit = (d - b'0') as i64;
        n = if neg {
            n.checked_mul(10)?.checked_sub(digit)?
        } else {
            n.checked_mul(10)?.checked_add(digit)?
        };
    }
    Some(n)
}

/// Redis's string2ll: the strict integer form used for arguments.
pub fn parse_i64(b: &[u8]) -> Option<i64> {
    if b == b"0" {
        return Some(0);
    }
    parse_canonical_i64(b)
}

/// Redis's string2ld/strtold-style float parse for arguments: no spaces, no
/// NaN, finite or ±inf.
pub fn parse_f64(b: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(b).ok()?;
    if s.is_empty() || s.starts_with(char::is_whitespace) || s.ends_with(char::is_whitespace) {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => f64::INFINITY,
        "-inf" | "-infinity" => f64::NEG_INFINITY,
        _ => {
            if lower.contains("nan") || lower.contains("inf") {
                return None;
            }
            // Accept C's hex floats? Redis does via strtold; they are rare enough to refuse.
            lower.parse::<f64>().ok()?
        }
    };
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_encoding_only_when_canonical() {
        assert_eq!(StrVal::from_bytes(b"123"), StrVal::Int(123));
        assert_eq!(
            StrVal::from_bytes(b"-9223372036854775808"),
            StrVal::Int(i64::MIN)
        );
        for text in [&b"0123"[..], b"+1", b"-0", b"9223372036854775808"] {
            assert_eq!(StrVal::from_bytes(text), StrVal::Bytes(text));
        }
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(StrVal::Int(-12).len(), 3);
        assert_eq!(StrVal::Int(7).to_vec(), b"7");
    }

    #[test]
    fn floats_refuse_nan_and_spaces() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1e5"), Some(1e5));
    }
}
