//! The per-shard key table: extendible hashing over small hashbrown tables.
//!
//! ```text
//!   directory (2^global_depth slots, indexed by the hash's top bits)
//!   [0][1][2][3] ...
//!    |  |  \  /
//!   seg seg seg        each segment: depth ≤ global_depth, ≤ SEG_MAX entries
//! ```
//!
//! Why: a single hash table doubles by copying every entry, which pauses a
//! shard for seconds at 10 M keys. Here a full segment splits in two (moving
//! at most SEG_MAX / 2 entries) and the directory doubles by copying only u32
//! ids. A segment's own buckets double at most once between splits (1024 to
//! 2048), so the largest single step is small: on a VM where a page fault
//! costs ~5 µs, allocating a segment's buckets is a few dozen faults.
//!
//! Each segment covers one contiguous range of the hash space, which gives SCAN
//! a stable cursor: a position in hash space. Keys at or past the cursor are
//! still to come however segments split in between, so a key present for the
//! whole scan is returned.

use crate::key::Key;
use crate::value::Value;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Entries per segment before it splits: 7/8 of 2048 buckets, hashbrown's
/// load limit, so a segment never grows past 2048 buckets (128 KiB).
const SEG_MAX: usize = 1792;
/// Cursor positions use the hash's top 48 bits.
const POS_BITS: u32 = 48;
pub const POS_END: u64 = 1 << POS_BITS;

pub struct Entry {
    pub key: Key,
    pub val: Value,
    /// Absolute expiry in Unix milliseconds; 0 when the key has none.
    pub expire_at: u64,
    /// Last access, in the shard's LRU clock (seconds).
    pub lru: u32,
}

/// The hash a segment's hashbrown table sees. The directory consumes the top
/// bits of `h`, so inside one segment they are all alike; hashbrown takes its
/// 7-bit tag from the top bits and its bucket index from the low ones, so
/// feeding it `h` as is would give every entry of a segment the same tag (a
/// full key compare per probe). Rotating by 32 puts random bits at both ends
/// for any directory depth up to 32 - 13 (8192 buckets).
#[inline]
fn seg_hash(h: u64) -> u64 {
    h.rotate_left(32)
}

struct Segment {
    depth: u32,
    map: HashTable<Entry>,
}

pub struct Table {
    dir: Vec<u32>,
    segs: Vec<Segment>,
    global_depth: u32,
    len: usize,
    hasher: foldhash::fast::FixedState,
}

impl Default for Table {
    fn default() -> Self {
        Self::new()
    }
}

impl Table {
    pub fn new() -> Self {
        Table {
            dir: vec![0],
            segs: vec![Segment {
                depth: 0,
                map: HashTable::new(),
            }],
            global_depth: 0,
            len: 0,
            hasher: foldhash::fast::FixedState::with_seed(0x5eed_cafe_f00d),
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

    /// Finds the segment for hash `h` and the hash its hashbrown table uses.
    fn locate(&self, key: &[u8]) -> (u64, usize, u64) {
        let h = self.hash(key);
        (h, self.seg_of(h), seg_hash(h))
    }

    fn seg_of(&self, h: u64) -> usize {
        let idx = if self.global_depth == 0 {
            0
        } else {
            (h >> (64 - self.global_depth)) as usize
        };
        self.dir[idx] as usize
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let (_, s, sh) = self.locate(key);
        self.segs[s].map.find(sh, |e| &*e.key == key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let (_, s, sh) = self.locate(key);
        self.segs[s].map.find_mut(sh, |e| &*e.key == key)
    }

    /// One probe for a read: the live entry, or `Err(true)` when the key was
    /// there but its time (Unix ms) had passed and it has just been removed.
    pub fn get_live(&mut self, key: &[u8], now: u64) -> Result<&mut Entry, bool> {
        let (_, s, sh) = self.locate(key);
        match self.segs[s].map.find_entry(sh, |e| &*e.key == key) {
            Ok(found) if found.get().expire_at != 0 && found.get().expire_at <= now => {
                found.remove();
                self.len -= 1;
                Err(true)
            }
            Ok(found) => Ok(found.into_mut()),
            Err(_) => Err(false),
        }
    }

    /// Inserts a new entry; the caller has checked the key is absent.
    pub fn insert_new(&mut self, entry: Entry) -> &mut Entry {
        let (h, mut s, sh) = self.locate(&entry.key);
        if self.segs[s].map.len() >= SEG_MAX {
            self.split(s);
            s = self.seg_of(h);
        }
        self.len += 1;
        let hasher = self.hasher;
        self.segs[s]
            .map
            .insert_unique(sh, entry, move |e| seg_hash(hasher.hash_one(&*e.key)))
            .into_mut()
    }

    /// Finds `key`, or inserts the entry `make` builds. True when it was found.
    pub fn upsert(&mut self, key: &[u8], make: impl FnOnce() -> Entry) -> (&mut Entry, bool) {
        let (h, mut s, sh) = self.locate(key);
        if self.segs[s].map.len() >= SEG_MAX {
            self.split(s);
            s = self.seg_of(h);
        }
        let hasher = self.hasher;
        match self.segs[s].map.entry(
            sh,
            |e| &*e.key == key,
            move |e| seg_hash(hasher.hash_one(&*e.key)),
        ) {
            hashbrown::hash_table::Entry::Occupied(o) => (o.into_mut(), true),
            hashbrown::hash_table::Entry::Vacant(v) => {
                self.len += 1;
                (v.insert(make()).into_mut(), false)
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let (_, s, sh) = self.locate(key);
        match self.segs[s].map.find_entry(sh, |e| &*e.key == key) {
            Ok(found) => {
                self.len -= 1;
                Some(found.remove().0)
            }
            Err(_) => None,
        }
    }

    pub fn clear(&mut self) {
        *self = Table {
            hasher: self.hasher,
            ..Table::new()
        };
    }

    fn split(&mut self, s: usize) {
        let depth = self.segs[s].depth;
        if depth == self.global_depth {
            // Double the directory: each slot becomes two adjacent slots.
            self.dir = self.dir.iter().flat_map(|&id| [id, id]).collect();
            self.global_depth += 1;
        }
        let new_id = self.segs.len() as u32;
        let bit = 63 - depth;
        let hasher = self.hasher;
        let mut moved = HashTable::with_capacity(SEG_MAX / 2);
        let old = &mut self.segs[s];
        old.depth = depth + 1;
        for e in old
            .map
            .extract_if(|e| (hasher.hash_one(&*e.key) >> bit) & 1 == 1)
        {
            let h = hasher.hash_one(&*e.key);
            moved.insert_unique(seg_hash(h), e, move |e| seg_hash(hasher.hash_one(&*e.key)));
        }
        self.segs.push(Segment {
            depth: depth + 1,
            map: moved,
        });
        // Directory slots of the old segment whose next bit is 1 now point at the new one.
        let shift = self.global_depth - depth - 1;
        for (i, id) in self.dir.iter_mut().enumerate() {
            if *id == s as u32 && (i >> shift) & 1 == 1 {
                *id = new_id;
            }
        }
    }

    /// Visits entries in hash order from cursor position `pos` until at least
    /// `count` have been seen (whole hash values are never split across
    /// calls). Returns the next position, or `POS_END` when the scan is done.
    pub fn scan(&self, mut pos: u64, count: usize, mut f: impl FnMut(&Entry)) -> u64 {
        let mut seen = 0;
        let mut batch: Vec<(u64, &Entry)> = Vec::new();
        while pos < POS_END && seen < count {
            let idx = if self.global_depth == 0 {
                0
            } else {
                (pos >> (POS_BITS - self.global_depth)) as usize
            };
            let seg = &self.segs[self.dir[idx] as usize];
            let span = POS_END >> seg.depth;
            let seg_end = (pos / span + 1) * span;
            batch.clear();
            batch.extend(
                seg.map
                    .iter()
                    .map(|e| (self.hash(&e.key) >> (64 - POS_BITS), e))
                    .filter(|(p, _)| *p >= pos),
            );
            batch.sort_unstable_by_key(|(p, _)| *p);
            let mut next = seg_end;
            let mut i = 0;
            while i < batch.len() {
                if seen >= count && batch[i].0 != batch[i - 1].0 {
                    next = batch[i].0;
                    break;
                }
                f(batch[i].1);
                seen += 1;
                i += 1;
            }
            pos = next;
        }
        pos
    }

    /// Number of segments (the unit the expiry sweep walks).
    pub fn segments(&self) -> usize {
        self.segs.len()
    }

    /// Removes the entries of segment `s` for which `expired` says so,
    /// returning them so the caller can count and notify.
    pub fn sweep_segment(
        &mut self,
        s: usize,
        mut expired: impl FnMut(&Entry) -> bool,
    ) -> Vec<Entry> {
        let mut out = Vec::new();
        let Some(seg) = self.segs.get_mut(s) else {
            return out;
        };
        let mut keys = Vec::new();
        for e in seg.map.iter() {
            if expired(e) {
                keys.push(e.key.clone());
            }
        }
        for k in keys {
            if let Some(e) = self.remove(&k) {
                out.push(e);
            }
        }
        out
    }

    /// The `n`-th entry of the table in directory order (n < len), for RANDOMKEY.
    pub fn nth(&self, mut n: usize) -> Option<&Entry> {
        for seg in &self.segs {
            if n < seg.map.len() {
                return seg.map.iter().nth(n);
            }
            n -= seg.map.len();
        }
        None
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.segs.iter().flat_map(|s| s.map.iter())
    }

    /// Bytes the table itself holds (buckets and directory), not keys' and values' heap.
    pub fn overhead_bytes(&self) -> usize {
        let per_bucket = std::mem::size_of::<Entry>() + 1;
        self.segs
            .iter()
            .map(|s| s.map.capacity() * per_bucket)
            .sum::<usize>()
            + self.dir.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::StrVal;

    fn entry(k: &[u8]) -> Entry {
        Entry {
            key: k.into(),
            val: Value::Str(StrVal::raw(b"v")),
            expire_at: 0,
            lru: 0,
        }
    }

    #[test]
    fn an_entry_fills_one_cache_line() {
        assert_eq!(std::mem::size_of::<Entry>(), 64);
    }

    #[test]
    fn grows_by_splitting_and_finds_everything() {
        let mut t = Table::new();
        for i in 0..50_000u32 {
            t.insert_new(entry(format!("key:{i}").as_bytes()));
        }
        assert_eq!(t.len(), 50_000);
        assert!(t.segments() > 4);
        for i in 0..50_000u32 {
            assert!(
                t.get(format!("key:{i}").as_bytes()).is_some(),
                "lost key:{i}"
            );
        }
        assert!(t.remove(b"key:7").is_some());
        assert!(t.get(b"key:7").is_none());
        assert_eq!(t.len(), 49_999);
    }

    #[test]
    fn scan_returns_every_key_once_even_across_splits() {
        let mut t = Table::new();
        for i in 0..10_000u32 {
            t.insert_new(entry(format!("a:{i}").as_bytes()));
        }
        let mut seen = std::collections::HashSet::new();
        let mut pos = 0;
        let mut extra = 0u32;
        loop {
            let mut got = Vec::new();
            pos = t.scan(pos, 100, |e| got.push(e.key.to_vec()));
            for k in got {
                assert!(seen.insert(k), "returned twice");
            }
            // Keep growing the table mid-scan so segments split under the cursor.
            for _ in 0..50 {
                t.insert_new(entry(format!("b:{extra}").as_bytes()));
                extra += 1;
            }
            if pos == POS_END {
                break;
            }
        }
        for i in 0..10_000u32 {
            assert!(seen.contains(format!("a:{i}").as_bytes()), "missed a:{i}");
        }
    }
}
