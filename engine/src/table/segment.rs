//! One segment of the table: an open-addressing array of 8-byte slots with
//! Robin Hood linear probing.
//!
//! A slot is an `Option<Entry>`: the entry's address and a 19-bit tag cut
//! from the key's hash. The tag's top bits are the entry's home slot, the
//! rest a filter, so probing, inserting, deleting (backward shift) and
//! doubling the array read slots only; the only entry a lookup touches is
//! the one whose tag matches (about one in sixteen of those sharing its
//! home is a false match). Robin Hood keeps each run sorted by home, so a
//! miss stops at the first slot whose entry sits closer to its own home.

use crate::entry::{Entry, TAG_BITS};

/// Slots a segment grows to before it splits: 32 KiB of slots.
pub(super) const MAX_CAP: usize = 4096;
const MIN_CAP: usize = 8;

pub(super) struct Segment {
    /// How many of the hash's top bits all of this segment's keys share.
    pub depth: u32,
    len: u32,
    slots: Box<[Option<Entry>]>,
}

impl Segment {
    pub fn new(depth: u32) -> Segment {
        Segment {
            depth,
            len: 0,
            slots: Box::new([]),
        }
    }

    /// A segment over `slots` (all empty, a power-of-two count).
    pub fn with_slots(depth: u32, slots: Box<[Option<Entry>]>) -> Segment {
        debug_assert!(slots.len().is_power_of_two() && slots.iter().all(Option::is_none));
        Segment {
            depth,
            len: 0,
            slots,
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// True when one more entry would pass the load limit (7/8).
    pub fn is_full(&self) -> bool {
        (self.len() + 1) * 8 > self.capacity() * 7
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The slot an entry with `tag` would sit in if nothing were in its way.
    #[inline]
    fn home(&self, tag: u32) -> usize {
        home(tag, self.slots.len())
    }

    /// How far the entry in slot `i` sits from its home.
    #[inline]
    fn displacement(&self, i: usize, e: &Entry) -> usize {
        i.wrapping_sub(self.home(e.tag())) & self.mask()
    }

    /// The slot holding `key` (whose hash gave `tag`).
    #[inline]
    pub fn find(&self, tag: u32, key: &[u8]) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = self.home(tag);
        for dist in 0..self.slots.len() {
            let e = self.slots[i].as_ref()?;
            if e.tag() == tag && e.key() == key {
                return Some(i);
            }
            if self.displacement(i, e) < dist {
                return None;
            }
            i = (i + 1) & self.mask();
        }
        None
    }

    /// Starts loading the slot line where an entry with `tag` would be.
    #[inline]
    pub fn prefetch_home(&self, tag: u32) {
        if !self.slots.is_empty() {
            crate::entry::prefetch_line(&self.slots[self.home(tag)]);
        }
    }

    /// Starts loading the block of the entry with `tag` nearest its home
    /// (a tag match, not yet a key match: a hint may be wasted, never wrong).
    #[inline]
    pub fn prefetch_entry(&self, tag: u32) {
        if self.slots.is_empty() {
            return;
        }
        let mut i = self.home(tag);
        for _ in 0..4 {
            match &self.slots[i] {
                Some(e) if e.tag() == tag => return e.prefetch(),
                Some(_) => i = (i + 1) & self.mask(),
                None => return,
            }
        }
    }

    pub fn get(&self, i: usize) -> &Entry {
        self.slots[i].as_ref().expect("an occupied slot")
    }

    pub fn get_mut(&mut self, i: usize) -> &mut Entry {
        self.slots[i].as_mut().expect("an occupied slot")
    }

    /// Places an entry whose tag is set and whose key is absent; returns its
    /// slot. The caller has made room (`is_full` was false).
    pub fn insert(&mut self, entry: Entry) -> usize {
        debug_assert!(!self.is_full() || self.len() < self.capacity());
        self.len += 1;
        let (cap, mask) = (self.slots.len(), self.mask());
        let mut i = self.home(entry.tag());
        let (mut carry, mut dist) = (entry, 0);
        let mut placed = None;
        loop {
            match &mut self.slots[i] {
                slot @ None => {
                    *slot = Some(carry);
                    return placed.unwrap_or(i);
                }
                Some(e) => {
                    let theirs = i.wrapping_sub(home(e.tag(), cap)) & mask;
                    if theirs < dist {
                        // Robin Hood: the entry nearer its home moves on.
                        std::mem::swap(e, &mut carry);
                        placed.get_or_insert(i);
                        dist = theirs;
                    }
                }
            }
            i = (i + 1) & mask;
            dist += 1;
        }
    }

    /// Takes the entry out of slot `i`, shifting the rest of its run back.
    pub fn remove(&mut self, mut i: usize) -> Entry {
        let out = self.slots[i].take().expect("an occupied slot");
        self.len -= 1;
        let mask = self.mask();
        loop {
            let next = (i + 1) & mask;
            match &self.slots[next] {
                Some(e) if self.displacement(next, e) > 0 => {
                    self.slots[i] = self.slots[next].take();
                    i = next;
                }
                _ => return out,
            }
        }
    }

    /// Doubles a small segment's array (tags give every home: no key is read).
    pub fn grow(&mut self, slots: Box<[Option<Entry>]>) {
        debug_assert!(slots.len() > self.slots.len().max(MIN_CAP / 2));
        let old = std::mem::replace(&mut self.slots, slots);
        self.len = 0;
        for e in Vec::from(old).into_iter().flatten() {
            self.insert(e);
        }
    }

    /// The array size the next growth gives.
    pub fn next_capacity(&self) -> usize {
        (self.slots.len() * 2).max(MIN_CAP)
    }

    /// Moves every entry into `out` (emptying the segment).
    pub fn drain_into(&mut self, out: &mut Vec<Entry>) {
        out.extend(self.slots.iter_mut().filter_map(Option::take));
        self.len = 0;
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.slots.iter().flatten()
    }

    /// Removes the entries `remove` picks, handing each to `taken`.
    pub fn retain(&mut self, mut remove: impl FnMut(&Entry) -> bool, taken: &mut Vec<Entry>) {
        let mut i = 0;
        // A removal shifts the run after `i` back onto `i`, so `i` is looked
        // at again; an entry wrapping from slot 0 to the end is seen twice,
        // which is harmless (it was kept the first time).
        while i < self.slots.len() {
            match &self.slots[i] {
                Some(e) if remove(e) => taken.push(self.remove(i)),
                _ => i += 1,
            }
        }
    }

    /// Empty slots of `n` (the allocation a segment's array needs).
    pub fn empty_slots(n: usize) -> Box<[Option<Entry>]> {
        std::iter::repeat_with(|| None).take(n).collect()
    }
}

/// The home slot of `tag` in an array of `cap` slots (a power of two): the
/// tag's top bits.
#[inline]
fn home(tag: u32, cap: usize) -> usize {
    (tag >> (TAG_BITS - cap.trailing_zeros())) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{StrVal, Value};

    fn entry(i: u32, tag: u32) -> Entry {
        let mut e = Entry::new(
            format!("k{i}").as_bytes(),
            Value::Str(StrVal::Int(i as i64)),
            0,
            0,
        );
        e.set_tag(tag);
        e
    }

    #[test]
    fn colliding_homes_probe_remove_and_grow() {
        let mut s = Segment::with_slots(0, Segment::empty_slots(16));
        // Every tag here has home 0 or 1 in 16 slots, so runs wrap and shift.
        let tags: Vec<u32> = (0..14).map(|i| (i % 2) << (TAG_BITS - 4) | i).collect();
        for (i, &t) in tags.iter().enumerate() {
            assert!(!s.is_full());
            s.insert(entry(i as u32, t));
        }
        assert!(s.is_full());
        for (i, &t) in tags.iter().enumerate() {
            let at = s.find(t, format!("k{i}").as_bytes()).expect("found");
            assert_eq!(s.get(at).key(), format!("k{i}").as_bytes());
        }
        assert_eq!(s.find(tags[0], b"nope"), None);
        let at = s.find(tags[3], b"k3").unwrap();
        assert_eq!(s.remove(at).key(), b"k3");
        assert_eq!(s.find(tags[3], b"k3"), None);
        s.grow(Segment::empty_slots(32));
        assert_eq!(s.len(), 13);
        for (i, &t) in tags.iter().enumerate().filter(|(i, _)| *i != 3) {
            assert!(s.find(t, format!("k{i}").as_bytes()).is_some(), "k{i}");
        }
        let mut gone = Vec::new();
        s.retain(|e| e.key().ends_with(b"1"), &mut gone);
        assert_eq!(gone.len(), 2); // k1, k11
        assert_eq!(s.len(), 11);
        assert_eq!(s.iter().count(), 11);
    }
}
