//! The large form of hashes and sets: members in one dense array, found
//! through a hash index of positions into it.
//!
//! ```text
//!   index (hashbrown, u32 positions)     items
//!   [ 2][  ][ 0][  ][ 1] ...  ───────▶   [0: key, value][1: key, value][2: ...]
//! ```
//!
//! Why this shape and not a plain hash map:
//! - a random member (SPOP, SRANDMEMBER, HRANDFIELD) is one index into the
//!   array, O(1) and uniform, where a hash map offers only a walk;
//! - SSCAN/HSCAN need a cursor that keeps Redis's guarantee (a member present
//!   for the whole scan is returned) while members come and go. A removal
//!   moves the last member into the hole (`swap_remove`), and a scan walks
//!   positions from the end down, so the cursor is "positions below this are
//!   still to visit": a member that moves only ever moves down from the end.
//!   If it had not been visited it still will be; if it had, it may be seen
//!   twice, which SCAN allows. New members go to the end, past the cursor,
//!   and may be missed, which SCAN also allows.

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// What a member carries besides its name: a hash field's value, or nothing
/// for a set.
pub trait Payload: Clone {
    /// Heap bytes it holds.
    fn heap_bytes(&self) -> usize;
}

impl Payload for () {
    fn heap_bytes(&self) -> usize {
        0
    }
}

impl Payload for Box<[u8]> {
    fn heap_bytes(&self) -> usize {
        self.len()
    }
}

#[derive(Clone)]
pub struct Dense<V> {
    items: Vec<(Box<[u8]>, V)>,
    index: HashTable<u32>,
    /// Seeded per table: members are client data, so their hashes must not
    /// be predictable (a flood of colliding names would make every probe slow).
    hasher: foldhash::fast::RandomState,
    /// Bytes the names and payloads hold on the heap, kept as they change
    /// so MEMORY USAGE does not walk the members.
    heap: usize,
}

impl<V: Payload> Dense<V> {
    pub fn with_capacity(n: usize) -> Self {
        Dense {
            items: Vec::with_capacity(n),
            index: HashTable::with_capacity(n),
            hasher: Default::default(),
            heap: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes held on the heap: both arrays, names and payloads.
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * std::mem::size_of::<(Box<[u8]>, V)>()
            + self.index.allocation_size()
            + self.heap
    }

    /// The position of `key`.
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let h = self.hasher.hash_one(key);
        self.index
            .find(h, |&i| &*self.items[i as usize].0 == key)
            .map(|&i| i as usize)
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.find(key).map(|i| &self.items[i].1)
    }

    /// The member at position `i` (below `len()`).
    pub fn at(&self, i: usize) -> (&[u8], &V) {
        let (k, v) = &self.items[i];
        (k, v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> + '_ {
        self.items.iter().map(|(k, v)| (&**k, v))
    }

    /// Adds `key` or replaces its payload; the old payload when it had one.
    pub fn insert(&mut self, key: &[u8], val: V) -> Option<V> {
        // One hash and one probe, found or not (HSET and SADD's path).
        let h = self.hasher.hash_one(key);
        let Dense {
            items,
            index,
            hasher,
            heap,
        } = self;
        let slot = index.entry(
            h,
            |&j| &*items[j as usize].0 == key,
            |&j| hasher.hash_one(&*items[j as usize].0),
        );
        *heap += val.heap_bytes();
        match slot {
            Entry::Occupied(found) => {
                let old = std::mem::replace(&mut items[*found.get() as usize].1, val);
                *heap -= old.heap_bytes();
                Some(old)
            }
            Entry::Vacant(free) => {
                free.insert(items.len() as u32);
                items.push((key.into(), val));
                *heap += key.len();
                None
            }
        }
    }

    /// Removes `key`; its payload when it was there.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let h = self.hasher.hash_one(key);
        let items = &self.items;
        let found = self
            .index
            .find_entry(h, |&j| &*items[j as usize].0 == key)
            .ok()?;
        let (i, _) = found.remove();
        Some(self.fill_hole(i as usize).1)
    }

    /// Removes the member at position `i`; the last member takes its place.
    pub fn swap_remove_at(&mut self, i: usize) -> (Box<[u8]>, V) {
        let h = self.hasher.hash_one(&*self.items[i].0);
        if let Ok(slot) = self.index.find_entry(h, |&j| j as usize == i) {
            slot.remove();
        }
        self.fill_hole(i)
    }

    /// Takes out the member at position `i`, whose index entry is already
    /// gone, moving the last member into its place.
    fn fill_hole(&mut self, i: usize) -> (Box<[u8]>, V) {
        let last = self.items.len() - 1;
        if i != last {
            let h = self.hasher.hash_one(&*self.items[last].0);
            if let Some(pos) = self.index.find_mut(h, |&j| j as usize == last) {
                *pos = i as u32;
            }
        }
        let (k, v) = self.items.swap_remove(i);
        self.heap -= k.len() + v.heap_bytes();
        self.shrink_if_sparse();
        (k, v)
    }

    /// Removes up to `n` members from the end (positions never move for
    /// the rest), giving memory back as it goes; for freeing a large table
    /// in bounded steps.
    pub fn pop_some(&mut self, n: usize) {
        for _ in 0..n.min(self.items.len()) {
            let last = self.items.len() - 1;
            self.swap_remove_at(last);
        }
    }

    /// Gives memory back once three quarters of it are unused.
    fn shrink_if_sparse(&mut self) {
        let len = self.items.len();
        if self.items.capacity() > 64 && len < self.items.capacity() / 4 {
            self.items.shrink_to(len * 2);
            let Dense {
                items,
                index,
                hasher,
                ..
            } = self;
            index.shrink_to(len * 2, |&j| hasher.hash_one(&*items[j as usize].0));
        }
    }

    /// One step of a scan (see the module doc): visits up to `count`
    /// positions below `cursor` (0: from the end), from the top down, and
    /// returns the next cursor, 0 when done.
    pub fn scan(&self, cursor: u64, count: usize, mut visit: impl FnMut(&[u8], &V)) -> u64 {
        let len = self.items.len() as u64;
        let top = if cursor == 0 { len } else { cursor.min(len) };
        let bottom = top.saturating_sub(count.max(1) as u64);
        for i in (bottom..top).rev() {
            let (k, v) = &self.items[i as usize];
            visit(k, v);
        }
        bottom
    }
}

impl<V: Payload + PartialEq> PartialEq for Dense<V> {
    /// The same members, whatever their positions.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl<V: Payload + std::fmt::Debug> std::fmt::Debug for Dense<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.items
                    .iter()
                    .map(|(k, v)| (String::from_utf8_lossy(k), v)),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn set_of(n: u32) -> Dense<()> {
        let mut d = Dense::with_capacity(0);
        for i in 0..n {
            d.insert(format!("m{i}").as_bytes(), ());
        }
        d
    }

    #[test]
    fn insert_find_remove_keep_the_index_true() {
        let mut d: Dense<Box<[u8]>> = Dense::with_capacity(0);
        assert_eq!(d.insert(b"a", b"1"[..].into()), None);
        assert_eq!(d.insert(b"b", b"2"[..].into()), None);
        assert_eq!(d.insert(b"c", b"3"[..].into()), None);
        assert_eq!(d.insert(b"a", b"x"[..].into()).as_deref(), Some(&b"1"[..]));
        assert_eq!(d.remove(b"a").as_deref(), Some(&b"x"[..]));
        assert_eq!(d.remove(b"a"), None);
        // "c" moved into "a"'s place and is still found there.
        assert_eq!(d.find(b"c"), Some(0));
        assert_eq!(d.get(b"b").map(|v| &v[..]), Some(&b"2"[..]));
        assert_eq!(d.len(), 2);
        assert_eq!(d.heap, 4);
    }

    #[test]
    fn removals_give_memory_back() {
        let mut d = set_of(10_000);
        let full = d.heap_bytes();
        for i in 0..9_990 {
            assert!(d.remove(format!("m{i}").as_bytes()).is_some());
        }
        assert!(d.heap_bytes() < full / 50, "{} of {full}", d.heap_bytes());
        for i in 9_990..10_000 {
            assert!(d.find(format!("m{i}").as_bytes()).is_some());
        }
    }

    #[test]
    fn popping_from_the_end_keeps_the_rest_findable() {
        let mut d = set_of(100);
        d.pop_some(30);
        assert_eq!(d.len(), 70);
        assert!(d.find(b"m69").is_some() && d.find(b"m70").is_none());
        d.pop_some(1_000);
        assert!(d.is_empty());
    }

    #[test]
    fn a_scan_under_removals_returns_every_member_that_stayed() {
        let mut d = set_of(1_000);
        let mut seen = BTreeSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, 10, |k, _| {
                seen.insert(k.to_vec());
            });
            // Remove a member in each step, some seen and some not yet.
            let victim = format!("m{}", (step * 37) % 1_000);
            if (step * 37) % 1_000 % 3 == 0 {
                d.remove(victim.as_bytes());
            }
            step += 1;
            if cursor == 0 {
                break;
            }
        }
        for (k, _) in d.iter() {
            assert!(seen.contains(k), "{}", String::from_utf8_lossy(k));
        }
    }
}
