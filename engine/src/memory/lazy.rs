//! Lazy free: what UNLINK, FLUSHALL ASYNC and the `lazyfree-lazy-*` paths
//! hand over instead of freeing at once, freed in bounded steps between the
//! shard's passes (`LazyFree::step`), on the shard's own thread.
//!
//! Why on the shard and not on a helper thread as Redis does: a shard's
//! memory figure is its thread's allocation counters (`Memory::used`), and a
//! free on another thread would never show in them; and the machine's cores
//! are the shards'. Why steps at all: a whole database is millions of frees,
//! and one large value is one free that jemalloc answers by purging every
//! page at once (measured here: 33 ms for a 512 MiB value, 4.3 ms for
//! 64 MiB, under a microsecond for 1 MiB). A large value's pages go back to
//! the kernel a few megabytes per `madvise` (0.65 ms for 8 MiB, the worst
//! step measured), and the final free then finds nothing left to purge
//! (70 µs); a database goes a few hundred keys at a time.

use crate::table::{Doomed, Entry, Table};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Values holding at least this many bytes in one allocation are freed in
/// steps; below it a free is cheap (jemalloc's oversize threshold is 8 MiB:
/// smaller allocations come from its arenas and are purged later, by decay).
pub const LAZY_MIN: usize = 8 << 20;
/// Tables and collections of at most this many keys or members are freed
/// at once (Redis's LAZYFREE_THRESHOLD counts elements the same way).
const SMALL_TABLE: usize = 64;
/// Keys of a doomed table (or members of a collection) freed between two
/// looks at the clock (about 50 µs of frees).
const FREE_STEP: usize = 256;
/// Bytes handed back to the kernel per `madvise`.
const RELEASE_STEP: usize = 2 << 20;

/// A queued value: a large string or a large collection.
struct Big {
    entry: Entry,
    /// Bytes of a string's large region already handed back.
    released: usize,
    /// What it held when queued (off `pending_bytes` once freed).
    bytes: u64,
}

#[derive(Default)]
pub struct LazyFree {
    big: VecDeque<Big>,
    tables: Vec<Doomed>,
    /// Bytes the queued large values hold (their memory is as good as
    /// gone for the eviction budget: it goes on the next steps).
    pub pending_bytes: u64,
    /// Objects freed through here since start (INFO's `lazyfreed_objects`).
    pub freed_objects: u64,
}

impl LazyFree {
    /// Objects still to free (INFO's `lazyfree_pending_objects`): each
    /// queued value and each key of each doomed table.
    pub fn pending_objects(&self) -> usize {
        self.big.len() + self.tables.iter().map(Doomed::len).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.big.is_empty() && self.tables.is_empty()
    }

    /// Frees `e` now (it is dropped here), or queues it when it holds a
    /// large region of its own.
    pub fn free(&mut self, mut e: Entry) {
        let large = e.large_region(LAZY_MIN).is_some()
            || e.coll_mut().is_some_and(|c| c.len() > SMALL_TABLE);
        if large {
            let bytes = e.mem_bytes() as u64;
            self.pending_bytes += bytes;
            self.big.push_back(Big {
                entry: e,
                released: 0,
                bytes,
            });
        }
    }

    /// Takes a whole table to free in steps (a small one goes at once).
    pub fn free_table(&mut self, t: Table) {
        if t.len() > SMALL_TABLE {
            self.tables.push(t.doom());
        }
    }

    /// Frees queued work until `budget` is spent (checked after each
    /// segment or release step); true while some remains.
    pub fn step(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < budget {
            if let Some(t) = self.tables.last_mut() {
                let before = t.len();
                let more = t.free_some(FREE_STEP);
                self.freed_objects += (before - t.len()) as u64;
                if !more {
                    self.tables.pop();
                }
                continue;
            }
            let Some(b) = self.big.front_mut() else {
                return false;
            };
            let more = match b.entry.coll_mut() {
                Some(c) => c.free_some(FREE_STEP),
                None => release_some(b),
            };
            if !more {
                let b = self.big.pop_front().expect("the front was there");
                self.pending_bytes -= b.bytes;
                self.freed_objects += 1;
            }
        }
        !self.is_empty()
    }
}

/// Hands the next RELEASE_STEP bytes of a queued value's pages back to the
/// kernel; false once they all are.
fn release_some(b: &mut Big) -> bool {
    let Some((start, len)) = b.entry.large_region(0) else {
        return false;
    };
    let page = page_size();
    // Whole pages strictly inside the region: the block's header and the
    // buffer's counts, before it, stay readable for the final free.
    let first = (start as usize).next_multiple_of(page);
    let end = (start as usize + len) / page * page;
    let from = first + b.released;
    if from >= end {
        return false;
    }
    let n = (end - from).min(RELEASE_STEP);
    // SAFETY: [from, from + n) lies inside an allocation this queue owns
    // alone (`large_region` checked no reply shares it), whose bytes nobody
    // reads again before it is freed; MADV_DONTNEED only swaps its pages
    // for zero pages.
    unsafe { libc::madvise(from as *mut libc::c_void, n, libc::MADV_DONTNEED) };
    b.released += n;
    true
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    }
}
