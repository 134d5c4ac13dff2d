//! Stored values. Strings keep Redis's three encodings: an integer, a short
//! string inline in the entry (no allocation), and a heap buffer for longer ones.

/// Strings up to this many bytes live inline in the entry.
pub const INLINE_MAX: usize = 22;

/// 24 bytes, so a table entry (key 24, value 24, expiry 8, LRU 4) fits one
/// 64-byte cache line.
#[derive(Clone, Debug)]
pub enum StrVal {
    Int(i64),
    Inline {
        len: u8,
        bytes: [u8; INLINE_MAX],
    },
    /// Written whole (SET and friends): exactly its bytes, no spare capacity.
    Heap(Box<[u8]>),
    /// Edited in place (APPEND, SETRANGE, SETBIT): spare capacity makes
    /// repeated growth amortized, as Redis's sds does.
    Growable(Box<Vec<u8>>),
}

impl StrVal {
    /// Stores `bytes` in its tightest encoding. Like Redis, a string is kept as
    /// an integer only when it reads back byte-for-byte the same (no "+1", "01").
    pub fn from_bytes(bytes: &[u8]) -> StrVal {
        if let Some(n) = parse_canonical_i64(bytes) {
            return StrVal::Int(n);
        }
        Self::raw(bytes)
    }

    /// Stores `bytes` as a string, never as an integer.
    pub fn raw(bytes: &[u8]) -> StrVal {
        if bytes.len() <= INLINE_MAX {
            let mut inline = [0u8; INLINE_MAX];
            inline[..bytes.len()].copy_from_slice(bytes);
            StrVal::Inline {
                len: bytes.len() as u8,
                bytes: inline,
            }
        } else {
            StrVal::Heap(bytes.into())
        }
    }

    pub fn from_vec(v: Vec<u8>) -> StrVal {
        if v.len() <= INLINE_MAX {
            Self::raw(&v)
        } else {
            StrVal::Heap(v.into_boxed_slice())
        }
    }

    /// An empty string ready for in-place edits.
    pub fn growable() -> StrVal {
        StrVal::Growable(Box::default())
    }

    /// The string's bytes; integers are formatted into `scratch`.
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut itoa::Buffer) -> &'a [u8] {
        match self {
            StrVal::Int(n) => scratch.format(*n).as_bytes(),
            StrVal::Inline { len, bytes } => &bytes[..*len as usize],
            StrVal::Heap(v) => v,
            StrVal::Growable(v) => v,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        self.as_bytes(&mut itoa::Buffer::new()).to_vec()
    }

    pub fn len(&self) -> usize {
        match self {
            StrVal::Int(n) => itoa::Buffer::new().format(*n).len(),
            StrVal::Inline { len, .. } => *len as usize,
            StrVal::Heap(v) => v.len(),
            StrVal::Growable(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name for this encoding.
    pub fn encoding(&self) -> &'static str {
        match self {
            StrVal::Int(_) => "int",
            StrVal::Inline { .. } => "embstr",
            StrVal::Heap(_) | StrVal::Growable(_) => "raw",
        }
    }

    /// Turns the value into a growable buffer for in-place edits (APPEND, SETRANGE).
    pub fn make_mut(&mut self) -> &mut Vec<u8> {
        if !matches!(self, StrVal::Growable(_)) {
            *self = StrVal::Growable(Box::new(self.to_vec()));
        }
        match self {
            StrVal::Growable(v) => v,
            _ => unreachable!(),
        }
    }

    /// Heap bytes owned beyond the entry itself (for memory accounting).
    pub fn heap_bytes(&self) -> usize {
        match self {
            StrVal::Heap(v) => v.len(),
            StrVal::Growable(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
            _ => 0,
        }
    }
}

/// A value of any type. Only strings exist so far; the data-type issues add the rest.
#[derive(Clone, Debug)]
pub enum Value {
    Str(StrVal),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding(),
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Value::Str(s) => s.heap_bytes(),
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
        assert!(matches!(StrVal::from_bytes(b"123"), StrVal::Int(123)));
        assert!(matches!(
            StrVal::from_bytes(b"-9223372036854775808"),
            StrVal::Int(i64::MIN)
        ));
        assert!(matches!(StrVal::from_bytes(b"0123"), StrVal::Inline { .. }));
        assert!(matches!(StrVal::from_bytes(b"+1"), StrVal::Inline { .. }));
        assert!(matches!(StrVal::from_bytes(b"-0"), StrVal::Inline { .. }));
        assert!(matches!(
            StrVal::from_bytes(b"9223372036854775808"),
            StrVal::Inline { .. }
        ));
        assert!(matches!(StrVal::from_bytes(&[b'x'; 23]), StrVal::Heap(_)));
        assert_eq!(parse_i64(b"0"), Some(0));
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
