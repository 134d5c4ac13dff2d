//! A set. While every member is an integer and there are at most
//! `set-max-intset-entries` of them it is an `IntSet` (Redis's `intset`);
//! otherwise a `Dense` table (`hashtable`), for good, as in Redis 7.0,
//! which has no listpack sets.

use super::dense::Dense;
use super::intset::IntSet;
use crate::value::{parse_i64, StrVal};

#[derive(Clone, Debug, PartialEq)]
pub enum Set {
    Ints(IntSet),
    Table(Box<Dense<()>>),
}

impl Default for Set {
    fn default() -> Self {
        Set::new()
    }
}

impl Set {
    /// An empty set in the form that suits `first`, its first member
    /// (Redis's setTypeCreate).
    pub fn for_member(first: &[u8]) -> Set {
        match parse_i64(first) {
            Some(_) => Set::Ints(IntSet::default()),
            None => Set::Table(Box::new(Dense::with_capacity(1))),
        }
    }

    /// An empty intset, which a first string member turns into a table:
    /// what SINTERSTORE and its kin build their result in, as Redis does.
    pub fn new() -> Set {
        Set::Ints(IntSet::default())
    }

    pub fn len(&self) -> usize {
        match self {
            Set::Ints(s) => s.len(),
            Set::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Set::Ints(_) => "intset",
            Set::Table(_) => "hashtable",
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Set::Ints(s) => s.heap_bytes(),
            Set::Table(t) => std::mem::size_of::<Dense<()>>() + t.heap_bytes(),
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(member).is_some_and(|v| s.contains(v)),
            Set::Table(t) => t.find(member).is_some(),
        }
    }

    /// Whether `member` (taken from another set) is in this one.
    pub fn contains_val(&self, member: StrVal<'_>) -> bool {
        match (self, member) {
            (Set::Ints(s), StrVal::Int(v)) => s.contains(v),
            (_, StrVal::Bytes(b)) => self.contains(b),
            (Set::Table(t), StrVal::Int(v)) => {
                t.find(itoa::Buffer::new().format(v).as_bytes()).is_some()
            }
        }
    }

    /// Adds `member` (taken from another set); true when it is new.
    pub fn add_val(&mut self, member: StrVal<'_>, max_intset: usize) -> bool {
        match (&mut *self, member) {
            (Set::Ints(s), StrVal::Int(v)) if s.contains(v) => false,
            (Set::Ints(s), StrVal::Int(v)) if s.len() < max_intset => s.insert(v),
            _ => self.add(member.as_bytes(&mut itoa::Buffer::new()), max_intset),
        }
    }

    /// Adds `member`; true when it is new. A member that is not an integer,
    /// or one past `max_intset`, turns an intset into a table first.
    pub fn add(&mut self, member: &[u8], max_intset: usize) -> bool {
        if let Set::Ints(s) = self {
            match parse_i64(member) {
                Some(v) if s.contains(v) => return false,
                Some(v) if s.len() < max_intset => return s.insert(v),
                _ => self.convert_to_table(),
            }
        }
        let Set::Table(t) = self else {
            unreachable!("made a table above")
        };
        t.insert(member, ()).is_none()
    }

    fn convert_to_table(&mut self) {
        let Set::Ints(s) = self else { return };
        let s = std::mem::take(s);
        let mut t = Dense::with_capacity(s.len() + 1);
        let mut scratch = itoa::Buffer::new();
        for v in s.iter() {
            t.insert(scratch.format(v).as_bytes(), ());
        }
        *self = Set::Table(Box::new(t));
    }

    /// Removes `member`; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            Set::Ints(s) => parse_i64(member).is_some_and(|v| s.remove(v)),
            Set::Table(t) => t.remove(member).is_some(),
        }
    }

    /// The `i`th member (below `len()`), O(1) in either form.
    pub fn nth(&self, i: usize) -> StrVal<'_> {
        match self {
            Set::Ints(s) => StrVal::Int(s.get(i)),
            Set::Table(t) => StrVal::Bytes(t.at(i).0),
        }
    }

    /// Removes and returns the `i`th member, as bytes.
    pub fn remove_nth(&mut self, i: usize) -> Vec<u8> {
        match self {
            Set::Ints(s) => StrVal::Int(s.remove_at(i)).to_vec(),
            Set::Table(t) => t.swap_remove_at(i).0.into_vec(),
        }
    }

    /// Every member: ascending for an intset, in table order otherwise.
    pub fn iter(&self) -> Box<dyn Iterator<Item = StrVal<'_>> + '_> {
        match self {
            Set::Ints(s) => Box::new(s.iter().map(StrVal::Int)),
            Set::Table(t) => Box::new(t.iter().map(|(k, _)| StrVal::Bytes(k))),
        }
    }

    /// One SSCAN step (see `Hash::scan`).
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(StrVal<'_>)) -> u64 {
        match self {
            Set::Ints(_) => {
                self.iter().for_each(visit);
                0
            }
            Set::Table(t) => t.scan(cursor, count, |k, _| visit(StrVal::Bytes(k))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intset_becomes_a_table_on_a_string_or_past_its_limit() {
        let mut s = Set::for_member(b"1");
        for m in ["3", "1", "2", "2"] {
            s.add(m.as_bytes(), 4);
        }
        assert_eq!((s.encoding(), s.len()), ("intset", 3));
        let members: Vec<Vec<u8>> = s.iter().map(StrVal::to_vec).collect();
        assert_eq!(members, vec![b"1".to_vec(), b"2".to_vec(), b"3".to_vec()]);
        assert!(s.add(b"4", 4));
        assert_eq!(s.encoding(), "intset");
        assert!(s.add(b"5", 4));
        assert_eq!((s.encoding(), s.len()), ("hashtable", 5));
        assert!(s.contains(b"1") && s.contains(b"5"));

        let mut s = Set::for_member(b"1");
        s.add(b"1", 512);
        assert!(s.add(b"01", 512), "not canonical: a string");
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"1") && s.contains(b"01"));
        assert_eq!(Set::for_member(b"a").encoding(), "hashtable");
    }

    #[test]
    fn members_taken_from_another_set_compare_across_forms() {
        let mut ints = Set::new();
        let mut table = Set::for_member(b"x");
        for m in ["1", "2", "300000"] {
            ints.add(m.as_bytes(), 512);
            table.add(m.as_bytes(), 512);
        }
        for m in ints.iter() {
            assert!(table.contains_val(m) && ints.contains_val(m));
        }
        for m in table.iter() {
            assert!(ints.contains_val(m));
        }
        assert!(!ints.contains_val(StrVal::Bytes(b"x")));
        let mut out = Set::new();
        assert!(out.add_val(StrVal::Int(7), 512) && !out.add_val(StrVal::Bytes(b"7"), 512));
        assert_eq!(out.encoding(), "intset");
        assert!(out.add_val(StrVal::Int(8), 1));
        assert_eq!(out.encoding(), "hashtable");
    }

    #[test]
    fn members_that_are_not_integers_are_never_in_an_intset() {
        let mut s = Set::for_member(b"10");
        s.add(b"10", 512);
        assert!(!s.contains(b"010") && !s.contains(b"x"));
        assert!(!s.remove(b"+10"));
        assert_eq!(s.nth(0), StrVal::Int(10));
        assert_eq!(s.remove_nth(0), b"10");
        assert!(s.is_empty());
    }
}
