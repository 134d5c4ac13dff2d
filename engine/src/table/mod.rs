//! The per-shard key table: extendible hashing over small open-addressing
//! segments of 8-byte slots.
//!
//! ```text
//!   directory (2^global_depth u32 ids, top bits of the hash; chunks of 4096)
//!   [0][1][2][3] ...
//!    |  |  \  /
//!   seg seg seg      each: depth ≤ global_depth, ≤ 4096 slots, ≤ 7/8 full
//!    │               (past the first split, ≥ 0.70 full at every size)
//!    │
//!    [slot][slot][ ][slot]...   slot = Entry: address + 19-bit tag (8 bytes)
//!    [bits][bits][ ][bits]...   the next 3 hash bits for splits (4 bits)
//!      │
//!      └─▶ one block: header, expiry if any, key, value (entry.rs)
//! ```
//!
//! Why: a single hash table doubles by copying every entry, which pauses a
//! shard for seconds at 10 M keys. Here a segment first grows its own
//! array up to 4096 slots (moving slots only: tags give their homes), then
//! splits in two, moving at most ~3600 slots; the next hash bit each needs
//! is kept beside its slot, refilled ahead of the split for the one key
//! in eight whose bits ran out (`segment.rs` says why, and why the steps
//! are a page, not a doubling). The directory doubles by adding chunks and
//! rewriting u32 ids in place. The memory those steps need (slot arrays of
//! 20 to 32 KiB, directory chunks) is written ahead of time, one page per
//! insert (`reserve.rs`), so no insert takes a burst of first-touch page
//! faults.
//!
//! Hash bits: the directory and SCAN's cursor use the top ones, the slot
//! tag the low 19 (scaled to a segment's capacity, they pick the home slot).
//!
//! Each segment covers one contiguous range of the hash space, which gives
//! SCAN a stable cursor: a position in hash space. Keys at or past the
//! cursor are still to come however segments split in between, so a key
//! present for the whole scan is returned.

mod array;
mod dir;
mod reserve;
mod segment;

pub use crate::entry::Entry;
use crate::entry::TAG_BITS;
use dir::{Directory, CHUNK};
use reserve::Reserve;
use segment::{split_capacity, NextBits, Segment, Slots, MAX_CAP, PAGE_SLOTS, SPLIT_CAP};
use std::hash::BuildHasher;

/// Cursor positions use the hash's top 48 bits.
const POS_BITS: u32 = 48;
pub const POS_END: u64 = 1 << POS_BITS;
/// Entries a sample reads in one run (see `Table::sample`): a default
/// eviction sample (`maxmemory-samples` 5) is one run.
const SAMPLE_RUN: usize = 8;
/// Keys one `prefetch` call looks at (a pipeline's worth).
pub const PREFETCH_KEYS: usize = 32;
/// Segments per chunk of the segment list (which grows by chunks, never by
/// copying).
const SEG_CHUNK: usize = 128;
/// How many blocks ahead a split asks for (of the keys it reads).
const PREFETCH_AHEAD: usize = 16;
/// Slot arrays kept ready once segments near SPLIT_CAP: segments fill in
/// near lockstep, so splits come in bursts, and a split takes two arrays
/// of SPLIT_CAP; this many splits' worth is kept.
const SPARE_SPLITS: usize = 2;
/// Arrays kept ready of each size above SPLIT_CAP (a grow takes one, and
/// grows, which read no key, are short).
const SPARE_GROWS: usize = 1;
/// The array sizes kept ready: SPLIT_CAP to MAX_CAP, a page apart.
const SPARE_SIZES: usize = (MAX_CAP - SPLIT_CAP) / PAGE_SLOTS + 1;

#[inline]
fn tag_of(h: u64) -> u32 {
    (h & ((1 << TAG_BITS) - 1)) as u32
}

pub struct Table {
    dir: Directory,
    segs: Vec<Vec<Segment>>,
    nsegs: usize,
    len: usize,
    hasher: foldhash::fast::FixedState,
    /// One per size, SPLIT_CAP first.
    spare_slots: Vec<Reserve<Option<Entry>>>,
    spare_dir: Reserve<u32>,
    /// A split's entries in transit, and which of them it reads (kept to
    /// avoid allocating per split).
    scratch: Vec<(Entry, NextBits)>,
    unread: Vec<u16>,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub fn new() -> Self {
        Self::with_hasher(foldhash::fast::FixedState::with_seed(0x5eed_cafe_f00d))
    }

    fn with_hasher(hasher: foldhash::fast::FixedState) -> Self {
        let mut first = Vec::with_capacity(SEG_CHUNK);
        first.push(Segment::new(0));
        Table {
            dir: Directory::new(),
            segs: vec![first],
            nsegs: 1,
            len: 0,
            hasher,
            spare_slots: (0..SPARE_SIZES)
                .map(|i| Reserve::new(SPLIT_CAP + i * PAGE_SLOTS, || None))
                .collect(),
            spare_dir: Reserve::new(CHUNK, || 0),
            scratch: Vec::new(),
            unread: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn seg(&self, id: usize) -> &Segment {
        &self.segs[id / SEG_CHUNK][id % SEG_CHUNK]
    }

    fn seg_mut(&mut self, id: usize) -> &mut Segment {
        &mut self.segs[id / SEG_CHUNK][id % SEG_CHUNK]
    }

    #[inline]
    fn seg_of(&self, h: u64) -> usize {
        self.dir.get(self.dir.index(h)) as usize
    }

    /// The segment and slot holding `key`, if any.
    #[inline]
    fn find(&self, key: &[u8]) -> (usize, Option<usize>) {
        let h = self.hash(key);
        let s = self.seg_of(h);
        (s, self.seg(s).find(tag_of(h), key))
    }

    /// Starts loading what reads of `keys` will touch: first every key's
    /// slot line, then, those lines arriving meanwhile, each key's block,
    /// then each large value's buffer. A pipeline's cache misses then
    /// overlap instead of queueing one behind the other (a GET otherwise
    /// waits for its slot, then for its block, then for its buffer's count).
    /// Measured, 4 KiB GETs at pipeline 16: 0.59× redis-server's CPU per
    /// request without the third step, 0.50× with it.
    /// Looks at the first PREFETCH_KEYS of `keys`.
    pub fn prefetch<K: AsRef<[u8]>>(&self, keys: impl IntoIterator<Item = K>) {
        let mut hashes = [0u64; PREFETCH_KEYS];
        let mut n = 0;
        for (h, k) in hashes.iter_mut().zip(keys) {
            *h = self.hash(k.as_ref());
            self.seg(self.seg_of(*h)).prefetch_home(tag_of(*h));
            n += 1;
        }
        for &h in &hashes[..n] {
            self.seg(self.seg_of(h)).prefetch_entry(tag_of(h));
        }
        // Third, large values' buffers: this reads each block, waiting for
        // the first to arrive while the others come in behind it.
        for &h in &hashes[..n] {
            self.seg(self.seg_of(h)).prefetch_shared(tag_of(h));
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let (s, i) = self.find(key);
        i.map(|i| self.seg(s).get(i))
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (s, i) = self.find(key);
        i.map(|i| self.seg_mut(s).get_mut(i))
    }

    /// One probe for a read: the live entry, or `Err(Some(entry))` when the
    /// key was there but its time (Unix ms) had passed: removed, and handed
    /// back for the caller to count and free.
    pub fn get_live(&mut self, key: &[u8], now: u64) -> Result<&mut Entry, Option<Entry>> {
        let (s, Some(i)) = self.find(key) else {
            return Err(None);
        };
        let at = self.seg(s).get(i).expire_at();
        if at != 0 && at <= now {
            let e = self.seg_mut(s).remove(i);
            self.len -= 1;
            return Err(Some(e));
        }
        Ok(self.seg_mut(s).get_mut(i))
    }

    /// Inserts a new entry; the caller has checked the key is absent.
    pub fn insert_new(&mut self, mut entry: Entry) -> &mut Entry {
        let h = self.hash(entry.key());
        entry.set_tag(tag_of(h));
        self.place(h, entry)
    }

    /// Finds `key`, or inserts the entry `make` builds. True when it was found.
    pub fn upsert(&mut self, key: &[u8], make: impl FnOnce() -> Entry) -> (&mut Entry, bool) {
        let h = self.hash(key);
        let s = self.seg_of(h);
        if let Some(i) = self.seg(s).find(tag_of(h), key) {
            return (self.seg_mut(s).get_mut(i), true);
        }
        // Its line comes in while the entry is built.
        self.seg(s).prefetch_next_bits(tag_of(h));
        let mut entry = make();
        debug_assert_eq!(entry.key(), key);
        entry.set_tag(tag_of(h));
        (self.place(h, entry), false)
    }

    /// Puts a tagged entry for hash `h` into its segment, making room first.
    fn place(&mut self, h: u64, entry: Entry) -> &mut Entry {
        self.prefault_step();
        let s = self.make_room(h);
        self.len += 1;
        let hasher = self.hasher;
        let seg = self.seg_mut(s);
        seg.refill(|key| hasher.hash_one(key));
        let i = seg.insert(entry, NextBits::of(h, seg.depth));
        seg.get_mut(i)
    }

    /// The segment for `h`, grown or split until it has room for one more.
    fn make_room(&mut self, h: u64) -> usize {
        loop {
            let s = self.seg_of(h);
            let seg = self.seg(s);
            if !seg.is_full() {
                return s;
            }
            if seg.capacity() < MAX_CAP {
                self.grow(s);
            } else {
                self.split(s, h);
            }
        }
    }

    /// Grows segment `s`'s array (it is below MAX_CAP).
    fn grow(&mut self, s: usize) {
        let cap = self.seg(s).next_capacity();
        if cap >= MAX_CAP / 2 {
            // The large sizes are near: start keeping their arrays ready.
            for r in &mut self.spare_slots {
                let split = r.array_len() == SPLIT_CAP;
                r.want(if split { 2 * SPARE_SPLITS } else { SPARE_GROWS });
            }
        }
        let slots = self.take_slots(cap);
        let old = self.seg_mut(s).grow(slots);
        self.recycle(old);
    }

    /// An empty slot array of `cap` slots, a ready one if it is a size kept.
    fn take_slots(&mut self, cap: usize) -> Slots {
        match self.spare_slots.iter_mut().find(|r| r.array_len() == cap) {
            Some(r) => r.take(),
            None => Segment::empty_slots(cap),
        }
    }

    /// Keeps an emptied array ready if its size is kept and short, else
    /// frees it: already resident, it spares the reserve its page steps and
    /// the allocator a round trip.
    fn recycle(&mut self, slots: Slots) {
        debug_assert!(slots.iter().all(Option::is_none));
        if let Some(r) = self
            .spare_slots
            .iter_mut()
            .find(|r| r.array_len() == slots.len())
        {
            r.put_back(slots);
        }
    }

    /// Writes one page of memory the next grow, split or directory doubling
    /// needs.
    fn prefault_step(&mut self) {
        match self.spare_slots.iter_mut().find(|r| r.short()) {
            Some(r) => r.step(),
            None => self.spare_dir.step(),
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (s, i) = self.find(key);
        let e = self.seg_mut(s).remove(i?);
        self.len -= 1;
        Some(e)
    }

    pub fn clear(&mut self) {
        *self = Table::with_hasher(self.hasher);
    }

    /// Splits full segment `s` (which hash `h` maps to) on its next hash bit.
    fn split(&mut self, s: usize, h: u64) {
        let depth = self.seg(s).depth;
        if depth == self.dir.depth() {
            self.dir.double(&mut self.spare_dir);
            self.spare_dir.want(self.dir.chunks_next_doubling());
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.reserve(MAX_CAP);
        self.seg_mut(s).drain_into(&mut scratch);
        // Which half each entry goes to: its next hash bit, kept beside its
        // slot, or, for the few entries whose bits ran out and were not
        // refilled ahead, read from the key (then refilled), in a tight
        // pass with the blocks a few entries ahead already on their way, so
        // the cache misses overlap.
        let mut goes = [0u64; MAX_CAP / 64];
        let mut unread = std::mem::take(&mut self.unread);
        for (i, (_, bits)) in scratch.iter_mut().enumerate() {
            match bits.pop() {
                Some(b) => goes[i / 64] |= b << (i % 64),
                None => unread.push(i as u16),
            }
        }
        for &i in unread.iter().take(PREFETCH_AHEAD) {
            scratch[usize::from(i)].0.prefetch();
        }
        for (n, &i) in unread.iter().enumerate() {
            if let Some(&ahead) = unread.get(n + PREFETCH_AHEAD) {
                scratch[usize::from(ahead)].0.prefetch();
            }
            let (e, bits) = &mut scratch[usize::from(i)];
            *bits = NextBits::of(self.hasher.hash_one(e.key()), depth);
            let b = bits.pop().expect("three fresh bits");
            goes[usize::from(i) / 64] |= b << (i % 64);
        }
        unread.clear();
        self.unread = unread;
        // Each half gets an array sized for what it holds (SPLIT_CAP, 0.70
        // full, unless the split is skewed); the old one is recycled.
        let ones: usize = goes.iter().map(|w| w.count_ones() as usize).sum();
        let mut moved = Segment::with_slots(depth + 1, self.take_slots(split_capacity(ones)));
        let mut kept = Segment::with_slots(
            depth + 1,
            self.take_slots(split_capacity(scratch.len() - ones)),
        );
        for (i, (e, bits)) in scratch.drain(..).enumerate() {
            if goes[i / 64] >> (i % 64) & 1 == 1 {
                moved.insert(e, bits);
            } else {
                kept.insert(e, bits);
            }
        }
        self.scratch = scratch;
        let old = std::mem::replace(self.seg_mut(s), kept);
        self.recycle(old.into_slots());
        let new_id = self.push_segment(moved);
        // The old segment's directory slots are one aligned run; its upper
        // half (next bit 1) now points at the new segment.
        let shift = self.dir.depth() - depth;
        let span = 1usize << shift;
        let start = if depth == 0 {
            0
        } else {
            ((h >> (64 - depth)) as usize) << shift
        };
        self.dir.fill(start + span / 2..start + span, new_id);
    }

    fn push_segment(&mut self, seg: Segment) -> u32 {
        if self.segs.last().expect("a chunk").len() == SEG_CHUNK {
            self.segs.push(Vec::with_capacity(SEG_CHUNK));
        }
        self.segs.last_mut().expect("a chunk").push(seg);
        self.nsegs += 1;
        (self.nsegs - 1) as u32
    }

    /// Visits entries in hash order from cursor position `pos` until at least
    /// `count` have been seen (whole hash values are never split across
    /// calls). Returns the next position, or `POS_END` when the scan is done.
    pub fn scan(&self, mut pos: u64, count: usize, mut f: impl FnMut(&Entry)) -> u64 {
        let mut seen = 0;
        let mut batch: Vec<(u64, &Entry)> = Vec::new();
        while pos < POS_END && seen < count {
            let seg = self.seg(self.seg_of(pos << (64 - POS_BITS)));
            let span = POS_END >> seg.depth;
            let seg_end = (pos / span + 1) * span;
            batch.clear();
            batch.extend(
                seg.iter()
                    .map(|e| (self.hash(e.key()) >> (64 - POS_BITS), e))
                    .filter(|(p, _)| *p >= pos),
            );
            batch.sort_unstable_by_key(|(p, _)| *p);
            let mut next = seg_end;
            for (i, &(p, e)) in batch.iter().enumerate() {
                if seen >= count && p != batch[i - 1].0 {
                    next = p;
                    break;
                }
                f(e);
                seen += 1;
            }
            pos = next;
        }
        pos
    }

    /// Number of segments (the unit the expiry sweep walks).
    pub fn segments(&self) -> usize {
        self.nsegs
    }

    /// Removes the entries of segment `s` for which `expired` says so,
    /// returning them so the caller can count and notify.
    pub fn sweep_segment(&mut self, s: usize, expired: impl FnMut(&Entry) -> bool) -> Vec<Entry> {
        let mut out = Vec::new();
        if s < self.nsegs {
            self.seg_mut(s).retain(expired, &mut out);
            self.len -= out.len();
        }
        out
    }

    fn all_segments(&self) -> impl Iterator<Item = &Segment> {
        self.segs.iter().flatten()
    }

    /// The `n`-th entry of the table in segment order (n < len), for RANDOMKEY.
    pub fn nth(&self, mut n: usize) -> Option<&Entry> {
        for seg in self.all_segments() {
            if n < seg.len() {
                return seg.iter().nth(n);
            }
            n -= seg.len();
        }
        None
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.all_segments().flat_map(Segment::iter)
    }

    /// Hands `f` the entries found from a random point (`r` picks the
    /// segment and the slot), slot after slot and on into the next
    /// segments, until `f` answers false or `max_slots` slots were looked
    /// at: eviction's sample. Segments hold similar numbers of keys (each
    /// is at least 70% full past the first split), so every key is about
    /// as likely to be the first one found.
    ///
    /// Entries are handed over in runs of up to SAMPLE_RUN, every block of
    /// a run asked for (prefetched) before the first is read: a sample's
    /// blocks are random memory, and their misses then overlap instead of
    /// queueing (eviction reads each one's clock).
    pub fn sample(&self, r: u64, max_slots: usize, mut f: impl FnMut(&Entry) -> bool) {
        if self.len == 0 {
            return;
        }
        let mut s = (r % self.nsegs as u64) as usize;
        let mut at = (r >> 32) as usize;
        let mut looked = 0;
        let mut run: [Option<&Entry>; SAMPLE_RUN] = [None; SAMPLE_RUN];
        while looked < max_slots {
            let seg = self.seg(s);
            let cap = seg.capacity();
            at = if cap == 0 { 0 } else { at % cap };
            while at < cap && looked < max_slots {
                let mut n = 0;
                while n < SAMPLE_RUN && at < cap && looked < max_slots {
                    if let Some(e) = seg.slot(at) {
                        e.prefetch();
                        run[n] = Some(e);
                        n += 1;
                    }
                    at += 1;
                    looked += 1;
                }
                for e in run[..n].iter().flatten() {
                    if !f(e) {
                        return;
                    }
                }
            }
            // An empty first segment still counts, so a walk always ends.
            looked += (cap == 0) as usize;
            s = (s + 1) % self.nsegs;
            at = 0;
        }
    }

    /// The table's entries, to be freed a segment at a time (lazy free):
    /// everything else the table holds is freed now.
    pub fn doom(self) -> Doomed {
        let len = self.len;
        let Table { segs, .. } = self;
        Doomed {
            segs: segs.into_iter().flatten().collect(),
            current: None,
            len,
        }
    }

    /// Bytes the table itself holds (slots, directory, segment list, arrays
    /// kept ready), not the entries' blocks.
    pub fn overhead_bytes(&self) -> usize {
        let slots: usize = self.all_segments().map(Segment::bytes).sum();
        slots
            + self.dir.bytes()
            + self.segs.len() * SEG_CHUNK * std::mem::size_of::<Segment>()
            + self.spare_slots.iter().map(Reserve::bytes).sum::<usize>()
            + self.spare_dir.bytes()
            + self.scratch.capacity() * std::mem::size_of::<(Entry, NextBits)>()
            + self.unread.capacity() * 2
    }
}

/// A table's segments, waiting to be freed (see `Table::doom`), a few
/// hundred entries at a time: freeing an entry reads its block (cold, so
/// about 200 ns each, measured freeing 10 M keys), so a whole segment of
/// thousands would be one step of most of a millisecond.
pub struct Doomed {
    segs: Vec<Segment>,
    /// The array being freed, and the next slot to look at.
    current: Option<(Slots, usize)>,
    len: usize,
}

/// Blocks asked for ahead of the one being freed.
const FREE_AHEAD: usize = 8;

impl Doomed {
    /// Entries still to free.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Frees up to `max` entries; false once none is left.
    pub fn free_some(&mut self, max: usize) -> bool {
        let mut freed = 0;
        while freed < max {
            let (slots, at) = match &mut self.current {
                Some(c) => c,
                None => match self.segs.pop() {
                    Some(seg) => self.current.insert((seg.into_entries(), 0)),
                    None => return false,
                },
            };
            if *at >= slots.len() {
                self.current = None;
                continue;
            }
            if let Some(Some(e)) = slots.get(*at + FREE_AHEAD) {
                e.prefetch();
            }
            if slots[*at].take().is_some() {
                freed += 1;
                self.len -= 1;
            }
            *at += 1;
        }
        self.len > 0 || self.current.is_some() || !self.segs.is_empty()
    }
}

#[cfg(test)]
mod tests;
