//! One segment of the table: an open-addressing array of 8-byte slots with
//! Robin Hood linear probing.
//!
//! A slot is an `Option<Entry>`: the entry's address and a 19-bit tag cut
//! from the key's hash. The tag, scaled to the array, is the entry's home
//! slot, and the whole tag a filter, so probing, inserting, deleting
//! (backward shift) and growing the array read slots only; the only entry a
//! lookup touches is the one whose tag matches (keys sharing a home share
//! all 19 bits about once in 2^19 / capacity, so 1 in 128 at 4096 slots).
//! Robin Hood keeps each run sorted by home, so a miss stops at the first
//! slot whose entry sits closer to its own home.
//!
//! Capacities, and why: a segment doubles from 8 slots to 2048, then grows
//! a page (512 slots) at a time to 4096, and a full 4096-slot segment
//! (3584 entries) splits into two of 2560 slots (about 1792 entries each).
//! Keys hash uniformly, so every segment of a table reaches each step at
//! about the same time: with doubling and halving the whole table swung
//! between 7/8 and 7/16 full (16 bytes of slots per key right after a
//! wave of splits). Now each step lowers the load by at most a sixth: past
//! the first split it stays between 0.70 (1792 / 2560) and 7/8 at every
//! size, 9.1 to 11.4 bytes of slots per key. The price is more growing:
//! about 4.5 slot moves per insert on top of a split's 2, all within one
//! 32 KiB array, none reading a key. A capacity that is not a power of two
//! costs a multiply (not a mask) for the home and a compare for the wrap.
//!
//! Beside each slot, half a byte: the entry's next three hash bits below
//! the segment's depth (`NextBits`), so a split learns which half most
//! entries go to without reading their keys. Reading a key there is a
//! cache and TLB miss on a block anywhere in the heap: measured on this
//! VM, that reading was 220 µs of a split's 280 on average and 900 µs of
//! the slowest one's 980 at 10 M keys. An entry's bits last three splits,
//! so about one entry in eight (those that came through the last three)
//! has run out when its segment fills. Those keys were written long ago
//! and cost 1-2 µs each to read here, so they are read ahead: once a
//! segment reaches MAX_CAP, each insert into it refills the bits of the
//! next two spent entries a cursor finds (450 inserts pass the whole
//! array once or twice), and the split reads only what the cursor missed.
//! The half byte adds 0.57 to 0.71 bytes per key.

use super::array::Array;
use crate::entry::{Entry, TAG_BITS};

/// Slots a segment grows to before it splits: 32 KiB of slots.
pub(super) const MAX_CAP: usize = 4096;
/// Slots in a page of memory: from `STEP_FROM` up, the growth step.
pub(super) const PAGE_SLOTS: usize = 512;

/// Slots past its home a prefetch looks for an entry in: a line's worth.
const PROBE_AHEAD: usize = 8;
/// Up to here an array doubles (small segments: the first of a table).
const STEP_FROM: usize = 2048;
/// The least capacity a split gives each half: 7/8 of MAX_CAP split in two
/// is 0.70 of it. (2048 would leave the halves already full.)
pub(super) const SPLIT_CAP: usize = 2560;
const MIN_CAP: usize = 8;
/// Slots each insert into a segment at MAX_CAP looks at to refill next
/// bits, and keys it reads at most: a segment takes 448 inserts from
/// MAX_CAP to its split, and about 400 of its entries have spent their
/// bits (clustered: a run of slots can hold a dozen), so the cursor goes
/// round its 4096 slots one to two times. A key read here was written long
/// ago and cost up to 15 µs on this VM, so the reads are what is spread.
const REFILL_SLOTS: usize = 32;
const REFILL_READS: usize = 2;

pub(super) type Slots = Array<Option<Entry>>;

/// Up to three of a hash's bits, next one first, for the splits to come: a
/// leading 1 marks where they start, so `0b1xyz` holds x, y and z and
/// `0b0001` holds none.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct NextBits(u8);

impl NextBits {
    /// The three bits of `h` after its top `depth` (which a segment of that
    /// depth's keys all share): the next three splits'.
    #[inline]
    pub fn of(h: u64, depth: u32) -> NextBits {
        NextBits(0b1000 | ((h << depth) >> 61) as u8)
    }

    /// Whether every bit is taken (or the slot is empty).
    #[inline]
    pub fn is_spent(self) -> bool {
        self.0 <= 1
    }

    /// Takes the next bit; None once all are taken.
    #[inline]
    pub fn pop(&mut self) -> Option<u64> {
        // The marker's position, which is how many bits are left.
        let left = 7u32.checked_sub(self.0.leading_zeros())?;
        if left == 0 {
            return None;
        }
        let rest = left - 1;
        let bit = (self.0 >> rest) & 1;
        self.0 = (self.0 & ((1 << rest) - 1)) | (1 << rest);
        Some(u64::from(bit))
    }
}

/// One `NextBits` per slot, two to a byte.
struct Nibbles(Array<u8>);

impl Nibbles {
    fn new(slots: usize) -> Nibbles {
        Nibbles(Array::new(slots.div_ceil(2), || 0))
    }

    #[inline]
    fn get(&self, i: usize) -> NextBits {
        NextBits((self.0[i / 2] >> (i % 2 * 4)) & 0xf)
    }

    #[inline]
    fn set(&mut self, i: usize, bits: NextBits) {
        let shift = i % 2 * 4;
        let byte = &mut self.0[i / 2];
        *byte = (*byte & !(0xf << shift)) | (bits.0 << shift);
    }
}

pub(super) struct Segment {
    /// How many of the hash's top bits all of this segment's keys share.
    pub depth: u32,
    len: u32,
    slots: Slots,
    /// Each slot's entry's `NextBits`.
    next: Nibbles,
    /// Where `refill` looks next.
    refill_at: u16,
}

impl Segment {
    pub fn new(depth: u32) -> Segment {
        Segment {
            depth,
            len: 0,
            slots: Array::empty(),
            next: Nibbles(Array::empty()),
            refill_at: 0,
        }
    }

    /// A segment over `slots` (all empty).
    pub fn with_slots(depth: u32, slots: Slots) -> Segment {
        debug_assert!(slots.iter().all(Option::is_none));
        Segment {
            depth,
            len: 0,
            next: Nibbles::new(slots.len()),
            slots,
            refill_at: 0,
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
        !has_room(self.len(), self.capacity())
    }

    /// The slot an entry with `tag` would sit in if nothing were in its way.
    #[inline]
    fn home(&self, tag: u32) -> usize {
        home(tag, self.slots.len())
    }

    /// How far the entry in slot `i` sits from its home.
    #[inline]
    fn displacement(&self, i: usize, e: &Entry) -> usize {
        distance(self.home(e.tag()), i, self.slots.len())
    }

    /// The slot holding `key` (whose hash gave `tag`).
    #[inline]
    pub fn find(&self, tag: u32, key: &[u8]) -> Option<usize> {
        let cap = self.slots.len();
        if cap == 0 {
            return None;
        }
        let mut i = home(tag, cap);
        for dist in 0..cap {
            let e = self.slots[i].as_ref()?;
            if e.tag() == tag && e.key() == key {
                return Some(i);
            }
            if self.displacement(i, e) < dist {
                return None;
            }
            i = next(i, cap);
        }
        None
    }

    /// Starts loading the slot line where an entry with `tag` would be.
    #[inline]
    pub fn prefetch_home(&self, tag: u32) {
        let cap = self.slots.len();
        if cap == 0 {
            return;
        }
        let home = self.home(tag);
        let first = &self.slots[home] as *const Option<Entry>;
        crate::entry::prefetch_line(first);
        // A full segment's entries sit a few slots past home on average (4.5
        // probes at 7/8 load): when those run into the next line, load it too.
        let last = &self.slots[(home + PROBE_AHEAD - 1).min(cap - 1)] as *const Option<Entry>;
        if (last as usize) / 64 != (first as usize) / 64 {
            crate::entry::prefetch_line(last);
        }
    }

    /// Starts loading the block of the entry with `tag` nearest its home
    /// (a tag match, not yet a key match: a hint may be wasted, never wrong).
    #[inline]
    pub fn prefetch_entry(&self, tag: u32) {
        if let Some(e) = self.by_tag(tag) {
            e.prefetch_block();
        }
    }

    /// The same entry's large-value buffer, once its block has arrived.
    #[inline]
    pub fn prefetch_shared(&self, tag: u32) {
        if let Some(e) = self.by_tag(tag) {
            e.prefetch_shared();
        }
    }

    /// Starts loading the next bits where an entry with `tag` would be
    /// placed (an insert's one read beyond the slot line a lookup loaded).
    #[inline]
    pub fn prefetch_next_bits(&self, tag: u32) {
        if !self.slots.is_empty() {
            crate::entry::prefetch_line(&self.next.0[self.home(tag) / 2]);
        }
    }

    /// The entry with `tag` nearest its home, probing as `find` does (a
    /// tag match is not yet a key match) but no further than PROBE_AHEAD
    /// slots, the ones `prefetch_home` loads.
    #[inline]
    fn by_tag(&self, tag: u32) -> Option<&Entry> {
        let cap = self.slots.len();
        if cap == 0 {
            return None;
        }
        let mut i = home(tag, cap);
        for dist in 0..PROBE_AHEAD.min(cap) {
            let e = self.slots[i].as_ref()?;
            if e.tag() == tag {
                return Some(e);
            }
            if self.displacement(i, e) < dist {
                return None;
            }
            i = next(i, cap);
        }
        None
    }

    /// The entry in slot `i`, if any (sampling reads slots in place).
    pub fn slot(&self, i: usize) -> Option<&Entry> {
        self.slots[i].as_ref()
    }

    pub fn get(&self, i: usize) -> &Entry {
        self.slots[i].as_ref().expect("an occupied slot")
    }

    pub fn get_mut(&mut self, i: usize) -> &mut Entry {
        self.slots[i].as_mut().expect("an occupied slot")
    }

    /// Places an entry whose tag is set and whose key is absent, with its
    /// next hash bits; returns its slot. The caller has made room
    /// (`is_full` was false).
    pub fn insert(&mut self, entry: Entry, bits: NextBits) -> usize {
        debug_assert!(self.len() < self.capacity());
        self.len += 1;
        let cap = self.slots.len();
        let mut i = home(entry.tag(), cap);
        let (mut carry, mut carry_bits, mut dist) = (entry, bits, 0);
        let mut placed = None;
        loop {
            match &mut self.slots[i] {
                slot @ None => {
                    *slot = Some(carry);
                    self.next.set(i, carry_bits);
                    return placed.unwrap_or(i);
                }
                Some(e) => {
                    let theirs = distance(home(e.tag(), cap), i, cap);
                    if theirs < dist {
                        // Robin Hood: the entry nearer its home moves on.
                        std::mem::swap(e, &mut carry);
                        let here = self.next.get(i);
                        self.next.set(i, carry_bits);
                        carry_bits = here;
                        placed.get_or_insert(i);
                        dist = theirs;
                    }
                }
            }
            i = next(i, cap);
            dist += 1;
        }
    }

    /// Takes the entry out of slot `i`, shifting the rest of its run back.
    pub fn remove(&mut self, mut i: usize) -> Entry {
        let out = self.slots[i].take().expect("an occupied slot");
        self.len -= 1;
        let cap = self.slots.len();
        loop {
            let after = next(i, cap);
            match &self.slots[after] {
                Some(e) if self.displacement(after, e) > 0 => {
                    self.slots[i] = self.slots[after].take();
                    self.next.set(i, self.next.get(after));
                    i = after;
                }
                _ => return out,
            }
        }
    }

    /// Moves every entry into a larger array (tags give every home: no key
    /// is read). Returns the old array, empty.
    pub fn grow(&mut self, slots: Slots) -> Slots {
        debug_assert!(slots.len() > self.slots.len());
        let old_next = std::mem::replace(&mut self.next, Nibbles::new(slots.len()));
        let mut old = std::mem::replace(&mut self.slots, slots);
        self.len = 0;
        for (i, slot) in old.iter_mut().enumerate() {
            if let Some(e) = slot.take() {
                self.insert(e, old_next.get(i));
            }
        }
        old
    }

    /// The segment's array, once drained.
    pub fn into_slots(self) -> Slots {
        debug_assert_eq!(self.len, 0);
        self.slots
    }

    /// The segment's array with whatever it still holds (a doomed table's).
    pub fn into_entries(self) -> Slots {
        self.slots
    }

    /// The array size the next growth gives.
    pub fn next_capacity(&self) -> usize {
        let cap = self.slots.len();
        if cap < STEP_FROM {
            (cap * 2).max(MIN_CAP)
        } else {
            (cap + PAGE_SLOTS).min(MAX_CAP)
        }
    }

    /// Moves every entry, with its next hash bits, into `out` (emptying the
    /// segment).
    pub fn drain_into(&mut self, out: &mut Vec<(Entry, NextBits)>) {
        let next = &self.next;
        out.extend(
            self.slots
                .iter_mut()
                .enumerate()
                .filter_map(|(i, slot)| Some((slot.take()?, next.get(i)))),
        );
        self.len = 0;
    }

    /// Once the segment is at MAX_CAP (its next step is a split), refills
    /// the next bits of up to `REFILL_READS` entries that have none left,
    /// reading their keys (`hash` hashes one), looking at `REFILL_SLOTS`
    /// slots at most.
    pub fn refill(&mut self, hash: impl Fn(&[u8]) -> u64) {
        let cap = self.capacity();
        if cap != MAX_CAP {
            return;
        }
        let (mut i, mut reads) = (usize::from(self.refill_at), 0);
        for _ in 0..REFILL_SLOTS {
            if let Some(e) = &self.slots[i] {
                if self.next.get(i).is_spent() {
                    self.next.set(i, NextBits::of(hash(e.key()), self.depth));
                    reads += 1;
                }
            }
            i = next(i, cap);
            if reads == REFILL_READS {
                break;
            }
        }
        self.refill_at = i as u16;
    }

    /// Each entry with its next bits.
    #[cfg(test)]
    pub fn with_next_bits(&self) -> impl Iterator<Item = (&Entry, NextBits)> {
        (self.slots.iter().enumerate()).filter_map(|(i, e)| Some((e.as_ref()?, self.next.get(i))))
    }

    /// Bytes of the slot array and the next bits beside it.
    pub fn bytes(&self) -> usize {
        self.capacity() * std::mem::size_of::<Option<Entry>>() + self.next.0.len()
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
    pub fn empty_slots(n: usize) -> Slots {
        Array::new(n, || None)
    }
}

/// Whether `len` entries leave room for one more under the load limit (7/8)
/// in `cap` slots.
#[inline]
fn has_room(len: usize, cap: usize) -> bool {
    (len + 1) * 8 <= cap * 7
}

/// The capacity for one half of a split holding `len` entries: SPLIT_CAP,
/// or a page more at a time while that would leave it full (a skewed
/// split). MAX_CAP at most: a half that fills it is split again.
pub(super) fn split_capacity(len: usize) -> usize {
    let mut cap = SPLIT_CAP;
    while cap < MAX_CAP && !has_room(len, cap) {
        cap += PAGE_SLOTS;
    }
    cap
}

/// The home slot of `tag` in an array of `cap` slots: the tag scaled to
/// the array (a multiply and a shift, "fastrange"; no division on the
/// lookup path). It grows with the tag, so runs sorted by home stay sorted
/// in any larger array; for a power-of-two `cap` it is the tag's top bits.
#[inline]
fn home(tag: u32, cap: usize) -> usize {
    (tag as usize * cap) >> TAG_BITS
}

/// The slot after `i`, wrapping at the end.
#[inline]
fn next(i: usize, cap: usize) -> usize {
    if i + 1 == cap {
        0
    } else {
        i + 1
    }
}

/// How far slot `i` lies past slot `from`, wrapping at the end.
#[inline]
fn distance(from: usize, i: usize, cap: usize) -> usize {
    if i >= from {
        i - from
    } else {
        i + cap - from
    }
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

    /// The next bits test entry `k{i}` is inserted with.
    fn bits(i: u32) -> NextBits {
        NextBits::of(u64::from(i % 8) << 61, 0)
    }

    /// The `i` of test entry `k{i}`.
    fn index(e: &Entry) -> u32 {
        std::str::from_utf8(&e.key()[1..]).unwrap().parse().unwrap()
    }

    /// Each slot's next bits are its entry's (they move with it).
    fn check_bits(s: &Segment) {
        for (e, b) in s.with_next_bits() {
            let i = index(e);
            assert_eq!(b, bits(i), "k{i}");
        }
    }

    #[test]
    fn next_bits_come_out_in_order_three_then_none() {
        let h = 0b1011_0110u64 << 56;
        let mut b = NextBits::of(h, 2); // bits 2, 3, 4 from the top: 1, 1, 0
        assert_eq!(
            (b.pop(), b.pop(), b.pop(), b.pop()),
            (Some(1), Some(1), Some(0), None)
        );
        assert!(b.is_spent() && NextBits(0).is_spent() && !NextBits::of(h, 0).is_spent());
        assert_eq!(b.pop(), None);
        let mut top = NextBits::of(u64::MAX, 61); // the last three bits
        assert_eq!(
            (top.pop(), top.pop(), top.pop()),
            (Some(1), Some(1), Some(1))
        );
        // Two to a byte: neighbours do not disturb each other.
        let mut n = Nibbles::new(5);
        for i in 0..5 {
            n.set(i, bits(i as u32 + 3));
        }
        n.set(2, NextBits(1));
        let got: Vec<NextBits> = (0..5).map(|i| n.get(i)).collect();
        assert_eq!(got, [bits(3), bits(4), NextBits(1), bits(6), bits(7)]);
    }

    #[test]
    fn a_prefetch_finds_every_entry_within_a_line_of_its_home() {
        // A segment filled to the load limit with tags crowding a few homes:
        // entries sit up to many slots past home, as a full segment's do.
        let tag_of = |i: u32| (i % 16) << (TAG_BITS - 4) | i;
        let mut s = Segment::with_slots(0, Segment::empty_slots(512));
        let n = 512 * 7 / 8;
        for i in 0..n as u32 {
            s.insert(entry(i, tag_of(i)), bits(i));
        }
        let mut checked = 0;
        for i in 0..n as u32 {
            let tag = tag_of(i);
            let at = s.find(tag, format!("k{i}").as_bytes()).expect("present");
            let found = s.by_tag(tag).map(|e| e.tag());
            if s.displacement(at, s.get(at)) < PROBE_AHEAD {
                assert_eq!(found, Some(tag), "k{i} sits within the prefetched slots");
                checked += 1;
            } else {
                assert_eq!(found, None, "k{i} is past them: no wasted load");
            }
        }
        assert!(checked > 0 && checked < n, "both cases occur: {checked}");
        // An absent tag whose home starts a long run: the scan gives up
        // after the prefetched slots.
        let absent = 3 << (TAG_BITS - 4) | 1000;
        assert!(s.find(absent, b"nope").is_none() && s.by_tag(absent).is_none());
    }

    #[test]
    fn refill_reads_only_spent_entries_and_only_at_the_top_size() {
        let mut s = Segment::with_slots(5, Segment::empty_slots(MAX_CAP));
        for i in 0..40u32 {
            s.insert(
                entry(i, i << 9),
                if i % 2 == 0 { NextBits(1) } else { bits(i) },
            );
        }
        let read = std::cell::Cell::new(0);
        let hash = |_: &[u8]| {
            read.set(read.get() + 1);
            u64::MAX >> 5 // after 5 bits: 1, 1, 1
        };
        s.refill(hash);
        assert_eq!(read.get(), REFILL_READS, "a few reads per insert");
        for _ in 0..MAX_CAP / REFILL_SLOTS + 10 {
            s.refill(hash);
        }
        assert_eq!(read.get(), 20, "the 20 spent entries, once each");
        for (e, b) in s.with_next_bits() {
            let i = index(e);
            assert_eq!(
                b,
                if i.is_multiple_of(2) {
                    NextBits(0b1111)
                } else {
                    bits(i)
                }
            );
        }
        let mut small = Segment::with_slots(5, Segment::empty_slots(SPLIT_CAP));
        small.insert(entry(0, 0), NextBits(1));
        small.refill(hash);
        assert_eq!(read.get(), 20, "no refill below MAX_CAP");
    }

    #[test]
    fn colliding_homes_probe_remove_and_grow() {
        let mut s = Segment::with_slots(0, Segment::empty_slots(16));
        // Every tag here has home 0 or 1 in 16 slots, so runs wrap and shift.
        let tags: Vec<u32> = (0..14).map(|i| (i % 2) << (TAG_BITS - 4) | i).collect();
        for (i, &t) in tags.iter().enumerate() {
            assert!(!s.is_full());
            s.insert(entry(i as u32, t), bits(i as u32));
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
        check_bits(&s);
        s.grow(Segment::empty_slots(32));
        check_bits(&s);
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

    /// Every entry findable, and each run in Robin Hood order: an entry
    /// sits at most one slot further from its home than the one before it.
    fn check(s: &Segment, keys: &[(u32, u32)]) {
        let cap = s.capacity();
        for (i, slot) in s.slots.iter().enumerate() {
            let (Some(a), Some(b)) = (slot, &s.slots[next(i, cap)]) else {
                continue;
            };
            assert!(s.displacement(next(i, cap), b) <= s.displacement(i, a) + 1);
        }
        for &(i, t) in keys {
            let at = s.find(t, format!("k{i}").as_bytes()).expect("found");
            assert_eq!(s.get(at).key(), format!("k{i}").as_bytes());
        }
        assert_eq!(s.iter().count(), keys.len());
        check_bits(s);
    }

    #[test]
    fn homes_scale_the_tag_in_order() {
        let top = (1 << TAG_BITS) - 1;
        for cap in [8, 512, 2048, 2560, 3072, 3584, 4096] {
            assert_eq!((home(0, cap), home(top, cap)), (0, cap - 1));
            let homes: Vec<usize> = (0..=top).step_by(97).map(|t| home(t, cap)).collect();
            assert!(homes.windows(2).all(|w| w[0] <= w[1]), "{cap}");
            if cap.is_power_of_two() {
                let bits = cap.trailing_zeros();
                assert!((0..=top)
                    .step_by(97)
                    .all(|t| home(t, cap) == (t >> (TAG_BITS - bits)) as usize));
            }
        }
    }

    #[test]
    fn page_sized_arrays_wrap_grow_and_shift() {
        // Tags spread over the array, plus a cluster at the very end whose
        // run wraps to slot 0, in a 2560-slot array grown a page at a time.
        let top = (1u32 << TAG_BITS) - 1;
        let mut keys: Vec<(u32, u32)> = Vec::new();
        let mut s = Segment::with_slots(0, Segment::empty_slots(SPLIT_CAP));
        let mut i = 0u32;
        while !s.is_full() {
            let t = match i % 4 {
                0 => top - i % 64,
                _ => i.wrapping_mul(2_654_435_761) >> 13,
            };
            s.insert(entry(i, t), bits(i));
            keys.push((i, t));
            i += 1;
        }
        assert_eq!(s.len(), SPLIT_CAP * 7 / 8);
        assert!(
            s.slots[0]
                .as_ref()
                .is_some_and(|e| home(e.tag(), SPLIT_CAP) > 0),
            "a run wraps"
        );
        check(&s, &keys);
        assert_eq!(s.find(top, b"nope"), None);
        // Remove every fifth, then grow to the top, checking each step.
        for &(i, t) in keys.iter().step_by(5) {
            let at = s.find(t, format!("k{i}").as_bytes()).expect("there");
            s.remove(at);
        }
        keys = keys
            .into_iter()
            .enumerate()
            .filter(|(n, _)| n % 5 != 0)
            .map(|(_, k)| k)
            .collect();
        check(&s, &keys);
        let mut caps = vec![s.capacity()];
        while s.capacity() < MAX_CAP {
            s.grow(Segment::empty_slots(s.next_capacity()));
            caps.push(s.capacity());
            check(&s, &keys);
        }
        assert_eq!(caps, [2560, 3072, 3584, 4096]);
    }

    #[test]
    fn split_halves_are_sized_for_what_they_hold() {
        assert_eq!(split_capacity(0), SPLIT_CAP);
        assert_eq!(split_capacity(1792), SPLIT_CAP); // an even split: 0.70 full
        assert_eq!(split_capacity(2240), 3072); // 2560 would be full
        assert_eq!(split_capacity(MAX_CAP * 7 / 8), MAX_CAP); // splits again
        let mut s = Segment::new(0);
        let caps: Vec<usize> = std::iter::from_fn(|| {
            (s.capacity() < MAX_CAP).then(|| {
                s.grow(Segment::empty_slots(s.next_capacity()));
                s.capacity()
            })
        })
        .collect();
        assert_eq!(
            caps,
            [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 2560, 3072, 3584, 4096]
        );
    }
}
