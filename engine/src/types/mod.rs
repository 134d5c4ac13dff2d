//! The collection types' data structures, beside the key table: what a key
//! holds when it is not a string. Commands live in `cmd/` (one family file
//! per type); these modules know nothing of commands or replies.
//!
//! ```text
//!   Coll ─┬─ Hash ─┬─ Pack     field, value, ... in one buffer   "listpack"
//!         │        └─ Table    Dense: array + hash index          "hashtable"
//!         ├─ Set ──┬─ Ints     sorted integers, 2/4/8 bytes each  "intset"
//!         │        └─ Table    Dense                              "hashtable"
//!         ├─ List ──── Box<List>: a deque of packed nodes        "quicklist"
//!         └─ Zset ─┬─ Pack     member, score, ... in order        "listpack"
//!                  └─ Tree     treap with subtree sizes + index   "skiplist"
//! ```
//!
//! A `Coll` sits inside the key's block (see `entry/`), so a small hash or
//! set costs the block and its one compact buffer. A list is boxed: its
//! deque and length take 40 bytes, which would grow every `Coll` (and so
//! every collection's block) past its 40; Redis 7.0's own small list is
//! three allocations (object, quicklist, node) besides its listpack.

pub mod dense;
pub mod hash;
pub mod intset;
pub mod list;
pub mod pack;
pub mod set;
pub mod zset;

pub use hash::{Hash, HashLimits};
pub use list::{End, Fill, List};
pub use set::Set;
pub use zset::{Zset, ZsetLimits};

#[derive(Clone, Debug, PartialEq)]
pub enum Coll {
    Hash(Hash),
    Set(Set),
    List(Box<List>),
    Zset(Zset),
}

// Every collection's block holds a `Coll`: a variant that grew it would
// grow them all (why `List` is boxed).
const _: () = assert!(std::mem::size_of::<Coll>() == 40);

impl Coll {
    pub fn type_name(&self) -> &'static str {
        match self {
            Coll::Hash(_) => "hash",
            Coll::Set(_) => "set",
            Coll::List(_) => "list",
            Coll::Zset(_) => "zset",
        }
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            Coll::Hash(h) => h.encoding(),
            Coll::Set(s) => s.encoding(),
            Coll::List(_) => "quicklist",
            Coll::Zset(z) => z.encoding(),
        }
    }

    /// Bytes held outside the key's block.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Coll::Hash(h) => h.heap_bytes(),
            Coll::Set(s) => s.heap_bytes(),
            Coll::List(l) => std::mem::size_of::<List>() + l.heap_bytes(),
            Coll::Zset(z) => z.heap_bytes(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Coll::Hash(h) => h.len(),
            Coll::Set(s) => s.len(),
            Coll::List(l) => l.len(),
            Coll::Zset(z) => z.len(),
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
            Coll::List(l) => l.free_some(max),
            Coll::Zset(z) => z.free_some(max),
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
        let mut list = List::default();
        for i in 0..5_000 {
            list.push(End::Tail, format!("item-{i}").as_bytes(), Fill::default());
        }
        let mut list = Coll::List(Box::new(list));
        let held = list.heap_bytes();
        assert!(held > 5_000 * 7, "{held}");
        let mut steps = 1;
        while list.free_some(1_000) {
            steps += 1;
        }
        assert!((3..=5).contains(&steps), "{steps}");
    }
}
