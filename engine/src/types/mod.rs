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
}
