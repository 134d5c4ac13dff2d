//! A hash: field → value. Small ones are a `Pack` of field, value, field,
//! value ... in insertion order (Redis's `listpack` encoding); one that
//! passes either limit in `HashLimits` becomes a `Dense` table
//! (`hashtable`) and stays one, as in Redis.

use super::dense::Dense;
use super::pack::{Pack, Span};

/// When a hash leaves its compact form (`hash-max-listpack-entries`,
/// `hash-max-listpack-value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashLimits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for HashLimits {
    fn default() -> Self {
        HashLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Hash {
    Pack(Pack),
    Table(Box<Dense<Box<[u8]>>>),
}

impl Default for Hash {
    fn default() -> Self {
        Hash::Pack(Pack::default())
    }
}

impl Hash {
    pub fn len(&self) -> usize {
        match self {
            Hash::Pack(p) => p.len() / 2,
            Hash::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// OBJECT ENCODING's name.
    pub fn encoding(&self) -> &'static str {
        match self {
            Hash::Pack(_) => "listpack",
            Hash::Table(_) => "hashtable",
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Hash::Pack(p) => p.heap_bytes(),
            Hash::Table(t) => std::mem::size_of::<Dense<Box<[u8]>>>() + t.heap_bytes(),
        }
    }

    /// The spans of a field and its value in a pack.
    fn find_in(p: &Pack, field: &[u8]) -> Option<(Span, Span)> {
        let mut spans = p.spans();
        while let (Some(f), Some(v)) = (spans.next(), spans.next()) {
            if p.bytes(f) == field {
                return Some((f, v));
            }
        }
        None
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            Hash::Pack(p) => Hash::find_in(p, field).map(|(_, v)| p.bytes(v)),
            Hash::Table(t) => t.get(field).map(|v| &**v),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true when the field is new. A field or
    /// value longer than `limits.max_value`, or one field too many, turns a
    /// pack into a table first.
    pub fn set(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        if let Hash::Pack(p) = self {
            let too_long = field.len().max(value.len()) > limits.max_value;
            match Hash::find_in(p, field) {
                Some((_, v)) if !too_long => {
                    p.replace(v, value);
                    return false;
                }
                None if !too_long && p.len() / 2 < limits.max_entries => {
                    p.push(&[field, value]);
                    return true;
                }
                _ => self.convert_to_table(),
            }
        }
        let Hash::Table(t) = self else {
            unreachable!("made a table above")
        };
        t.insert(field, value.into()).is_none()
    }

    fn convert_to_table(&mut self) {
        let Hash::Pack(p) = self else { return };
        let p = std::mem::take(p);
        let mut t = Dense::with_capacity(p.len() / 2 + 1);
        let mut items = p.iter();
        while let (Some(f), Some(v)) = (items.next(), items.next()) {
            t.insert(f, v.into());
        }
        *self = Hash::Table(Box::new(t));
    }

    /// Removes `field`; true when it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            Hash::Pack(p) => match Hash::find_in(p, field) {
                Some((f, _)) => {
                    p.remove(f, 2);
                    true
                }
                None => false,
            },
            Hash::Table(t) => t.remove(field).is_some(),
        }
    }

    /// Every field and value: in insertion order for a pack, in table
    /// order for a table.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            Hash::Pack(p) => {
                let mut items = p.iter();
                Box::new(std::iter::from_fn(move || {
                    Some((items.next()?, items.next()?))
                }))
            }
            Hash::Table(t) => Box::new(t.iter().map(|(k, v)| (k, &**v))),
        }
    }

    /// The `i`th field and value (below `len()`), for a random pick: O(1)
    /// in a table, a walk of at most a pack's few entries otherwise.
    pub fn nth(&self, i: usize) -> (&[u8], &[u8]) {
        match self {
            Hash::Pack(_) => self.iter().nth(i).expect("i is below len"),
            Hash::Table(t) => {
                let (k, v) = t.at(i);
                (k, v)
            }
        }
    }

    /// One HSCAN step from `cursor`: a pack is returned whole (cursor 0
    /// next, as Redis does for its compact encodings), a table in steps of
    /// about `count` (see `Dense::scan`).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &[u8])) -> u64 {
        match self {
            Hash::Pack(_) => {
                self.iter().for_each(|(f, v)| visit(f, v));
                0
            }
            Hash::Table(t) => t.scan(cursor, count, |f, v| visit(f, v)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_becomes_a_table_past_either_limit_and_stays_one() {
        let limits = HashLimits {
            max_entries: 3,
            max_value: 8,
        };
        let mut h = Hash::default();
        for f in ["a", "b", "c"] {
            assert!(h.set(f.as_bytes(), b"v", limits));
        }
        assert!(!h.set(b"a", b"w", limits));
        assert_eq!((h.encoding(), h.len()), ("listpack", 3));
        assert!(h.set(b"d", b"v", limits));
        assert_eq!((h.encoding(), h.len()), ("hashtable", 4));
        assert_eq!(h.get(b"a"), Some(&b"w"[..]));
        for f in ["a", "b", "c"] {
            assert!(h.remove(f.as_bytes()));
        }
        assert_eq!(h.encoding(), "hashtable");

        let mut long = Hash::default();
        long.set(b"f", b"short", limits);
        assert!(!long.set(b"f", b"a longer value", limits));
        assert_eq!(long.encoding(), "hashtable");
        let mut long_field = Hash::default();
        long_field.set(b"a field name too long", b"v", limits);
        assert_eq!(long_field.encoding(), "hashtable");
    }

    #[test]
    fn both_forms_answer_alike() {
        let small = HashLimits::default();
        let tiny = HashLimits {
            max_entries: 0,
            max_value: 64,
        };
        let (mut p, mut t) = (Hash::default(), Hash::default());
        for i in 0..50 {
            let (f, v) = (format!("f{}", i % 20), format!("v{i}"));
            assert_eq!(
                p.set(f.as_bytes(), v.as_bytes(), small),
                t.set(f.as_bytes(), v.as_bytes(), tiny)
            );
            if i % 7 == 0 {
                let gone = format!("f{}", i % 5);
                assert_eq!(p.remove(gone.as_bytes()), t.remove(gone.as_bytes()));
            }
        }
        assert_eq!((p.encoding(), t.encoding()), ("listpack", "hashtable"));
        assert_eq!(p.len(), t.len());
        for (f, v) in p.iter() {
            assert_eq!(t.get(f), Some(v));
        }
        let mut scanned = 0;
        let mut cursor = 0;
        loop {
            cursor = t.scan(cursor, 3, |_, _| scanned += 1);
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(scanned, t.len());
        assert_eq!(p.nth(0), p.iter().next().unwrap());
    }
}
