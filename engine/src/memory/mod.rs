//! Memory limits: what a shard holds, its share of `maxmemory` (its
//! budget), eviction by Redis's eight policies, and lazy free.
//!
//! ```text
//!   maxmemory ─► net rebalances the shards' budgets every 100 ms, through
//!                their mailboxes (never per command): see net's `memory.rs`
//!   a denyoom command ─► Shard::make_room: while used > budget, evict one
//!                        key by the policy (evict.rs), for at most the
//!                        tenacity's time; then the shard's cron goes on
//!   used ─► the shard thread's own allocation counter (the meter)
//! ```
//!
//! Why a meter per thread: a shard is one thread that frees what it
//! allocated, so jemalloc's per-thread counters (`thread.allocated` minus
//! `thread.deallocated`, two plain loads through pointers jemalloc hands
//! out once) tell what the shard holds with no counter shared between
//! shards and nothing added to the data path: the meter is read only when
//! a limit is set, once per denyoom command. The engine does not know
//! jemalloc: the network layer hands it the meter. Unit tests hand it a
//! counting allocator's figure (`testing`).

pub mod evict;
pub mod lazy;
pub mod lfu;

use crate::table::Entry;
use lazy::LazyFree;
use lfu::LfuConf;

/// Redis's eviction policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    pub fn from_name(name: &str) -> Option<Policy> {
        Some(match name {
            "noeviction" => Policy::NoEviction,
            "allkeys-lru" => Policy::AllkeysLru,
            "allkeys-lfu" => Policy::AllkeysLfu,
            "allkeys-random" => Policy::AllkeysRandom,
            "volatile-lru" => Policy::VolatileLru,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-random" => Policy::VolatileRandom,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => return None,
        })
    }

    /// Whether entries' clock bits hold LFU counters (else LRU times).
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllkeysLfu | Policy::VolatileLfu)
    }

    /// Whether only keys with an expiry may be evicted.
    pub fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

/// Which deletions free lazily (Redis's `lazyfree-lazy-*`; UNLINK and
/// FLUSHALL ASYNC always do).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LazyConf {
    pub eviction: bool,
    pub expire: bool,
    /// Implicit deletes: a value overwritten by SET, RENAME's target, ...
    pub server_del: bool,
    /// DEL acts as UNLINK.
    pub user_del: bool,
    /// FLUSHALL and FLUSHDB without SYNC act as ASYNC.
    pub user_flush: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemConf {
    pub policy: Policy,
    /// Keys sampled per database per eviction (`maxmemory-samples`).
    pub samples: usize,
    /// `maxmemory-eviction-tenacity`, 0..=100.
    pub tenacity: u32,
    pub lfu: LfuConf,
    pub lazy: LazyConf,
}

impl Default for MemConf {
    fn default() -> Self {
        MemConf {
            policy: Policy::NoEviction,
            samples: 5,
            tenacity: 10,
            lfu: LfuConf::default(),
            lazy: LazyConf::default(),
        }
    }
}

/// Bytes the shard's thread holds: what it allocated minus what it freed.
/// Negative when it freed more than it allocated (memory another shard
/// allocated and handed over, a reply buffer say): signed, so a sum over
/// shards stays exact.
pub type Meter = Box<dyn Fn() -> i64>;

pub struct Memory {
    /// This shard's share of `maxmemory`, in bytes; 0: no limit.
    pub budget: u64,
    pub conf: MemConf,
    meter: Meter,
    pub lazy: LazyFree,
    pool: evict::Pool,
    /// Bytes evicted since the rebalancer last asked (`take_evicted`).
    evicted_bytes: u64,
    /// Eviction stopped at its time limit, or the budget fell, with memory
    /// still over: the shard's cron goes on evicting in steps.
    pub behind: bool,
    /// The database the random policies evict from next (round robin).
    next_db: usize,
}

impl Default for Memory {
    fn default() -> Self {
        Memory {
            budget: 0,
            conf: MemConf::default(),
            meter: Box::new(|| 0),
            lazy: LazyFree::default(),
            pool: evict::Pool::default(),
            evicted_bytes: 0,
            behind: false,
            next_db: 0,
        }
    }
}

impl Memory {
    pub fn set_meter(&mut self, meter: Meter) {
        self.meter = meter;
    }

    /// Bytes the shard holds now, as its budget is compared with (a
    /// negative count reads as none held).
    pub fn used(&self) -> u64 {
        (self.meter)().max(0) as u64
    }

    /// The meter's own figure, negative or not (for sums over shards).
    pub fn used_signed(&self) -> i64 {
        (self.meter)()
    }

    /// Whether the shard holds more than its budget, not counting what is
    /// queued for lazy free (it goes on the next steps).
    pub fn over(&self) -> bool {
        self.budget != 0 && self.used().saturating_sub(self.lazy.pending_bytes) > self.budget
    }

    /// Sets the budget (0: none). A budget that falls below what is held
    /// starts the cron's eviction in steps, as a lower `maxmemory` does.
    pub fn set_budget(&mut self, budget: u64) {
        self.budget = budget;
        self.behind = self.conf.policy != Policy::NoEviction && self.over();
    }

    /// Bytes evicted since the last call (the rebalancer's measure of how
    /// much more this shard would hold with a larger budget).
    pub fn take_evicted(&mut self) -> u64 {
        std::mem::take(&mut self.evicted_bytes)
    }

    /// Frees an entry a deletion took out of its table: now, or through the
    /// lazy-free queue when `lazy` and it is large.
    pub fn dispose(&mut self, e: Entry, lazy: bool) {
        if lazy {
            self.lazy.free(e);
        }
    }
}
