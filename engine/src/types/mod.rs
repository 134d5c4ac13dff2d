//! The collection types' data structures, beside the key table: what a key
//! holds when it is not a string. Commands live in `cmd/` (one family file
//! per type); these modules know nothing of commands or replies.
//!
//! ```text
//!   Coll ─┬─ Hash ─┬─ Pack     field, value, ... in one buffer   "listpack"
//!         │        └─ Table    Dense: array + hash index          "hashtable"
//!         └─ Set ──┬─ Ints     sorted integers, 2/4/8 bytes each  "intset"
//!                  └─ Table    Dense                              "hashtable"
//! ```
//!
//! A `Coll` sits inside the key's block (see `entry/`), so a small
//! collection costs the block and its one compact buffer.

pub mod dense;
pub mod hash;
pub mod intset;
pub mod pack;
pub mod set;

pub use hash::{Hash, HashLimits};
pub use set::Set;

#[derive(Clone, Debug, PartialEq)]
pub enum Coll {
    Hash(Hash),
    Set(Set),
}

impl Coll {
    pub fn type_name(&self) -> &'static str {
        match self {
            Coll::Hash(_) => "hash",
            Coll::Set(_) => "set",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Coll::Hash(h) => h.encoding(),
            Coll::Set(s) => s.encoding(),
        }
    }

    /// Bytes held outside the key's block.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Coll::Hash(h) => h.heap_bytes(),
            Coll::Set(s) => s.heap_bytes(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Coll::Hash(h) => h.len(),
            Coll::Set(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frees up to `max` members; true while some remain. Dropping a
    /// collection of millions of members is millions of frees in one go:
    /// a lazy free (UNLINK, the lazyfree-lazy-* paths) can take it apart in
    /// bounded steps with this instead. A compact form is one buffer, freed
    /// in one step whatever its length.
    pub fn free_some(&mut self, max: usize) -> bool {
        match self {
            Coll::Hash(Hash::Table(t)) => t.pop_some(max),
            Coll::Set(Set::Table(t)) => t.pop_some(max),
            Coll::Hash(h) => *h = Hash::default(),
            Coll::Set(s) => *s = Set::default(),
        }
        !self.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_collection_is_freed_in_steps_a_compact_one_at_once() {
        let mut h = Hash::default();
        let tiny = HashLimits {
            max_entries: 0,
            max_value: 64,
        };
        for i in 0..250 {
            h.set(format!("f{i}").as_bytes(), b"v", tiny);
        }
        let mut big = Coll::Hash(h);
        let mut steps = 1;
        while big.free_some(100) {
            steps += 1;
        }
        assert_eq!((steps, big.len()), (3, 0));
        let mut small = Coll::Set(Set::for_member(b"1"));
        if let Coll::Set(s) = &mut small {
            s.add(b"1", 512);
            s.add(b"2", 512);
        }
        assert!(!small.free_some(1));
        assert!(small.is_empty());
    }
}
