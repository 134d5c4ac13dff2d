//! A small list of byte strings in one contiguous buffer: the compact form
//! of a hash while it is small (Redis's listpack plays this part).
//!
//! ```text
//!   [len][bytes][len][bytes] ...      len: LEB128, 1 byte below 128
//! ```
//!
//! Why: a hash of ten short fields is one allocation of ~200 bytes instead
//! of a table plus two allocations per field; a scan of it is a walk over
//! one or two cache lines, which at these sizes beats hashing. Operations
//! are O(n), so a collection moves to a real table past a size limit.
//!
//! The buffer is kept at its exact size (`reserve_exact`, `shrink_to_fit`
//! after removals): spare capacity would be memory a small key pays for
//! and never uses.

#[derive(Clone, Default, Debug, PartialEq, Eq)]
pub struct Pack {
    buf: Vec<u8>,
    /// Strings held (a hash holds two per field).
    count: u32,
}

/// Reads the LEB128 length at `at`: (length, bytes it took).
pub(super) fn read_len(buf: &[u8], at: usize) -> (usize, usize) {
    let mut n = 0usize;
    let mut used = 0;
    loop {
        let b = buf[at + used];
        n |= ((b & 0x7F) as usize) << (7 * used);
        used += 1;
        if b & 0x80 == 0 {
            return (n, used);
        }
    }
}

/// `n` in LEB128: the bytes, and how many of them are used.
pub(super) fn encode_len(mut n: usize) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut used = 0;
    loop {
        let low = (n & 0x7F) as u8;
        n >>= 7;
        out[used] = if n == 0 { low } else { low | 0x80 };
        used += 1;
        if n == 0 {
            return (out, used);
        }
    }
}

fn write_len(out: &mut Vec<u8>, n: usize) {
    let (bytes, used) = encode_len(n);
    out.extend_from_slice(&bytes[..used]);
}

fn len_size(n: usize) -> usize {
    encode_len(n).1
}

/// Where one string lies in the buffer: its length prefix starts at
/// `start`, its bytes are `data..end`.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub start: usize,
    pub data: usize,
    pub end: usize,
}

impl Pack {
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The buffer's bytes (what the pack costs besides its header).
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// The strings in order, with where each lies.
    pub fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            if at >= self.buf.len() {
                return None;
            }
            let (len, used) = read_len(&self.buf, at);
            let span = Span {
                start: at,
                data: at + used,
                end: at + used + len,
            };
            at = span.end;
            Some(span)
        })
    }

    pub fn bytes(&self, span: Span) -> &[u8] {
        &self.buf[span.data..span.end]
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.spans().map(|s| self.bytes(s))
    }

    /// Appends strings at the end.
    pub fn push(&mut self, items: &[&[u8]]) {
        let add: usize = items.iter().map(|s| len_size(s.len()) + s.len()).sum();
        self.buf.reserve_exact(add);
        for s in items {
            write_len(&mut self.buf, s.len());
            self.buf.extend_from_slice(s);
        }
        self.count += items.len() as u32;
    }

    /// Inserts strings before the one at `before` (None: at the end).
    pub fn insert(&mut self, before: Option<Span>, items: &[&[u8]]) {
        let Some(before) = before else {
            return self.push(items);
        };
        let mut bytes = Vec::with_capacity(items.iter().map(|s| len_size(s.len()) + s.len()).sum());
        for s in items {
            write_len(&mut bytes, s.len());
            bytes.extend_from_slice(s);
        }
        self.buf.reserve_exact(bytes.len());
        self.buf.splice(before.start..before.start, bytes);
        self.count += items.len() as u32;
    }

    /// Replaces the string at `span` with `with`: in place when the two
    /// encode to the same length (a counter's new value usually does).
    pub fn replace(&mut self, span: Span, with: &[u8]) {
        let (prefix, used) = encode_len(with.len());
        let prefix = &prefix[..used];
        let (old_len, new_len) = (span.end - span.start, used + with.len());
        if old_len == new_len {
            self.buf[span.start..span.start + used].copy_from_slice(prefix);
            self.buf[span.start + used..span.end].copy_from_slice(with);
            return;
        }
        self.buf.reserve_exact(new_len.saturating_sub(old_len));
        let bytes = prefix.iter().chain(with).copied();
        self.buf.splice(span.start..span.end, bytes);
        if new_len < old_len {
            self.buf.shrink_to_fit();
        }
    }

    /// Removes the `n` strings that begin with the one at `from`.
    pub fn remove(&mut self, from: Span, n: usize) {
        let mut end = from.end;
        for _ in 1..n {
            let (len, used) = read_len(&self.buf, end);
            end += used + len;
        }
        self.buf.drain(from.start..end);
        self.buf.shrink_to_fit();
        self.count -= n as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_every_length_read_back() {
        let long = vec![b'x'; 20_000];
        let items: Vec<&[u8]> = vec![b"", b"a", &long[..127], &long[..128], &long, b"tail"];
        let mut p = Pack::default();
        p.push(&items);
        assert_eq!(p.len(), items.len());
        assert_eq!(p.iter().collect::<Vec<_>>(), items);
        assert_eq!(p.heap_bytes(), p.buf.len(), "kept at its exact size");
    }

    #[test]
    fn replace_and_remove_keep_the_rest() {
        let mut p = Pack::default();
        p.push(&[b"f1", b"v1", b"f2", b"v2", b"f3", b"v3"]);
        let second_value = p.spans().nth(3).unwrap();
        p.replace(second_value, &[b'y'; 300]);
        let first_value = p.spans().nth(1).unwrap();
        p.replace(first_value, b"w2");
        let got: Vec<Vec<u8>> = p.iter().map(<[u8]>::to_vec).collect();
        assert_eq!(got[3], vec![b'y'; 300]);
        assert_eq!(got[4], b"f3");
        let second_field = p.spans().nth(2).unwrap();
        p.remove(second_field, 2);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![b"f1", b"w2", b"f3", b"v3"]
        );
        assert_eq!(p.len(), 4);
        assert_eq!(p.heap_bytes(), 12, "exact size after both");
        let third = p.spans().nth(2).unwrap();
        p.insert(Some(third), &[b"f2", b"v2"]);
        p.insert(None, &[b"f4"]);
        assert_eq!(
            p.iter().collect::<Vec<_>>(),
            vec![&b"f1"[..], b"w2", b"f2", b"v2", b"f3", b"v3", b"f4"]
        );
        assert_eq!(p.len(), 7);
        assert_eq!(len_size(0), 1);
        assert_eq!(len_size(127), 1);
        assert_eq!(len_size(128), 2);
    }
}
