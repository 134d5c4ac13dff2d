//! A shard's data and the context a command runs in.
//!
//! A `Shard` owns every database's table for its slot range, its statistics
//! and its clock. Nothing in it is shared with another shard; the network
//! layer hands a `Ctx` to a handler for the length of one command.

use crate::memory::lazy::LAZY_MIN;
use crate::memory::{lfu, Memory};
use crate::spec::Registry;
use crate::table::{Entry, Table};
use crate::value::Value;
use std::rc::Rc;
use std::time::Instant;

#[derive(Default)]
pub struct Db {
    pub table: Table,
    /// Keys with an expiry (the active sweep runs only while this is non-zero).
    pub volatile: usize,
    sweep_seg: usize,
}

#[derive(Default, Clone, Debug)]
pub struct Stats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
    pub evicted_keys: u64,
    /// Writes since start (Redis's `dirty`).
    pub dirty: u64,
}

#[derive(Default, Clone, Debug)]
pub struct CmdStat {
    pub calls: u64,
    /// Time spent, in `clock::ticks` (see `Shard::commandstats` for µs).
    pub ticks: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
}

/// Settings a shard consults while running commands (CONFIG SET fans them out).
#[derive(Clone, Debug)]
pub struct ShardConf {
    pub active_expire: bool,
    pub debug_enabled: bool,
    /// hash-max-listpack-entries and hash-max-listpack-value.
    pub hash_limits: crate::types::HashLimits,
    /// set-max-intset-entries.
    pub set_max_intset: usize,
    /// list-max-listpack-size.
    pub list_fill: crate::types::Fill,
    /// zset-max-listpack-entries and zset-max-listpack-value.
    pub zset_limits: crate::types::ZsetLimits,
}

impl Default for ShardConf {
    fn default() -> Self {
        ShardConf {
            active_expire: true,
            debug_enabled: false,
            hash_limits: Default::default(),
            set_max_intset: 512,
            list_fill: Default::default(),
            zset_limits: Default::default(),
        }
    }
}

pub struct Shard {
    pub id: usize,
    pub nshards: usize,
    pub dbs: Vec<Db>,
    pub stats: Stats,
    pub cmd_stats: Vec<CmdStat>,
    /// Error replies by their first word (INFO errorstats).
    pub err_stats: std::collections::BTreeMap<String, u64>,
    pub conf: ShardConf,
    /// Budget, eviction policy, the meter and the lazy-free queue.
    pub mem: Memory,
    pub registry: Rc<Registry>,
    /// Unix milliseconds as of the current batch; set by the caller (injected
    /// time: tests move it by hand, the server sets it once per read).
    pub now_ms: u64,
    pub tick_rate: crate::clock::TickRate,
    rng: u64,
}

impl Shard {
    /// Starts loading the table memory reads of `keys` in `db` will touch
    /// (a hint for a pipeline of reads; see `Table::prefetch`).
    pub fn prefetch<K: AsRef<[u8]>>(&self, db: usize, keys: impl IntoIterator<Item = K>) {
        if let Some(d) = self.dbs.get(db) {
            d.table.prefetch(keys);
        }
    }

    pub fn new(id: usize, nshards: usize, databases: usize, registry: Rc<Registry>) -> Self {
        let ncmds = registry.len();
        Shard {
            id,
            nshards,
            dbs: (0..databases).map(|_| Db::default()).collect(),
            stats: Stats::default(),
            cmd_stats: vec![CmdStat::default(); ncmds],
            err_stats: Default::default(),
            conf: ShardConf::default(),
            mem: Memory::default(),
            registry,
            now_ms: 0,
            tick_rate: Default::default(),
            rng: 0x9E37_79B9_7F4A_7C15 ^ id as u64,
        }
    }

    /// The LRU clock Redis keeps: seconds, wrapping at 24 bits.
    pub fn lru_clock(&self) -> u32 {
        ((self.now_ms / 1000) & 0xFF_FFFF) as u32
    }

    /// Whether entries' clock bits hold LFU counters (an LFU policy is set).
    #[inline]
    pub fn lfu(&self) -> bool {
        self.mem.conf.policy.is_lfu()
    }

    /// What an access now does to a key's clock bits, prepared before the
    /// key is looked up (the lookup then borrows the table).
    pub fn touch(&mut self) -> Touch {
        let lfu = if self.lfu() {
            let rand = self.random();
            Some((lfu::minutes(self.now_ms), self.mem.conf.lfu, rand))
        } else {
            None
        };
        Touch {
            lru: self.lru_clock(),
            lfu,
        }
    }

    pub fn random(&mut self) -> u64 {
        // xorshift64*: enough for RANDOMKEY and sampling, and reproducible per shard.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Per-command figures with time in microseconds: (calls, usec, rejected, failed).
    pub fn commandstats(&self) -> Vec<(u64, u64, u64, u64)> {
        self.cmd_stats
            .iter()
            .map(|c| {
                (
                    c.calls,
                    self.tick_rate.to_usec(c.ticks),
                    c.rejected_calls,
                    c.failed_calls,
                )
            })
            .collect()
    }

    /// Counts an error reply in errorstats.
    pub fn count_error(&mut self, text: &str) {
        let code = text.split(' ').next().unwrap_or("ERR");
        match self.err_stats.get_mut(code) {
            Some(n) => *n += 1,
            None => {
                self.err_stats.insert(code.to_string(), 1);
            }
        }
    }

    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(|d| d.table.len()).sum()
    }

    /// One tick of the active expiry sweep: walks whole segments of each
    /// database with volatile keys, removing expired entries, and stops once
    /// `budget` has been spent (checked between segments, each ≤ 1792 entries,
    /// so a tick overruns its budget by at most one segment's walk).
    pub fn active_expire(&mut self, budget: std::time::Duration) -> usize {
        if !self.conf.active_expire {
            return 0;
        }
        let start = Instant::now();
        let now = self.now_ms;
        let lazy = self.mem.conf.lazy.expire;
        let mut removed = 0;
        let Shard { dbs, mem, .. } = self;
        for db in dbs.iter_mut() {
            if db.volatile == 0 {
                continue;
            }
            let segs = db.table.segments();
            for _ in 0..segs {
                db.sweep_seg = (db.sweep_seg + 1) % db.table.segments();
                let gone = db
                    .table
                    .sweep_segment(db.sweep_seg, |e| due(e.expire_at(), now));
                db.volatile -= gone.len();
                removed += gone.len();
                gone.into_iter().for_each(|e| mem.dispose(e, lazy));
                if start.elapsed() >= budget {
                    self.stats.expired_keys += removed as u64;
                    return removed;
                }
            }
        }
        self.stats.expired_keys += removed as u64;
        removed
    }
}

/// A key's clock bits after an access: the LRU clock now, or, under an LFU
/// policy, its counter stepped (`Shard::touch`).
#[derive(Clone, Copy)]
pub struct Touch {
    lru: u32,
    /// The minutes clock, the counter's settings and the step's random draw.
    lfu: Option<(u32, lfu::LfuConf, u64)>,
}

impl Touch {
    /// The bits of a key created now: the LRU clock, or a new LFU counter.
    pub fn fresh(self) -> u32 {
        match self.lfu {
            Some((now_min, ..)) => lfu::fresh(now_min),
            None => self.lru,
        }
    }

    /// The bits of an existing key whose bits were `old`.
    pub fn apply(self, old: u32) -> u32 {
        match self.lfu {
            Some((now_min, conf, rand)) => lfu::touched(old, now_min, conf, rand),
            None => self.lru,
        }
    }
}

/// Whether an expiry (absolute ms, 0 for none) has passed at `now`.
#[inline]
fn due(expire_at: u64, now: u64) -> bool {
    expire_at != 0 && expire_at <= now
}

/// What a handler sees: the shard, the selected database, and the time.
pub struct Ctx<'a> {
    pub shard: &'a mut Shard,
    pub db: usize,
}

impl<'a> Ctx<'a> {
    pub fn new(shard: &'a mut Shard, db: usize) -> Self {
        Ctx { shard, db }
    }

    pub fn now(&self) -> u64 {
        self.shard.now_ms
    }

    pub fn db(&mut self) -> &mut Db {
        &mut self.shard.dbs[self.db]
    }

    /// Removes `key` if its time has passed; true when it did.
    fn expire_if_due(&mut self, key: &[u8]) -> bool {
        let now = self.shard.now_ms;
        let db = &mut self.shard.dbs[self.db];
        let is_due = matches!(db.table.get(key), Some(e) if due(e.expire_at(), now));
        if is_due {
            let e = db.table.remove(key).expect("the key was just found");
            db.volatile -= 1;
            self.shard.stats.expired_keys += 1;
            let lazy = self.shard.mem.conf.lazy.expire;
            self.shard.mem.dispose(e, lazy);
        }
        is_due
    }

    /// Looks a key up for a write or an existence check: no hit/miss
    /// counting. One probe; an expired entry is removed and reads as absent.
    pub fn lookup(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.shard.now_ms;
        let Shard {
            dbs, stats, mem, ..
        } = &mut *self.shard;
        let db = &mut dbs[self.db];
        match db.table.get_live(key, now) {
            Ok(e) => Some(e),
            Err(expired) => {
                if let Some(e) = expired {
                    db.volatile -= 1;
                    stats.expired_keys += 1;
                    mem.dispose(e, mem.conf.lazy.expire);
                }
                None
            }
        }
    }

    /// Looks a key up for a read: counts a hit or a miss and touches its
    /// LRU clock (or, under an LFU policy, its access counter).
    pub fn read(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let now = self.shard.now_ms;
        let touch = self.shard.touch();
        let Shard {
            dbs, stats, mem, ..
        } = &mut *self.shard;
        let db = &mut dbs[self.db];
        match db.table.get_live(key, now) {
            Ok(e) => {
                stats.keyspace_hits += 1;
                e.set_lru(touch.apply(e.lru()));
                Some(e)
            }
            Err(expired) => {
                if let Some(e) = expired {
                    db.volatile -= 1;
                    stats.expired_keys += 1;
                    mem.dispose(e, mem.conf.lazy.expire);
                }
                stats.keyspace_misses += 1;
                None
            }
        }
    }

    pub fn exists(&mut self, key: &[u8]) -> bool {
        self.lookup(key).is_some()
    }

    /// Sets `key` to `val` with absolute expiry `expire_at` (0 = none),
    /// replacing whatever was there.
    pub fn set(&mut self, key: &[u8], val: Value<'_>, expire_at: u64) -> &mut Entry {
        let touch = self.shard.touch();
        let clock = touch.fresh();
        let now = self.shard.now_ms;
        let Shard {
            dbs, stats, mem, ..
        } = &mut *self.shard;
        let db = &mut dbs[self.db];
        let (e, found) = db
            .table
            .upsert(key, || Entry::new(key, val, expire_at, clock));
        if found {
            // Replacing an entry whose time had passed expires it first, as Redis counts it.
            if due(e.expire_at(), now) {
                stats.expired_keys += 1;
            }
            db.volatile -= (e.expire_at() != 0) as usize;
            // An overwrite keeps the key's access count, as Redis's does.
            let clock = touch.apply(e.lru());
            if mem.conf.lazy.server_del && e.large_region(LAZY_MIN).is_some() {
                let mut fresh = Entry::new(key, val, expire_at, clock);
                fresh.set_tag(e.tag());
                mem.dispose(std::mem::replace(e, fresh), true);
            } else {
                e.reset(val, expire_at, clock);
            }
        }
        db.volatile += (expire_at != 0) as usize;
        e
    }

    /// Changes the expiry of an existing key (0 = persist). False if absent.
    pub fn set_expire(&mut self, key: &[u8], expire_at: u64) -> bool {
        let db = &mut self.shard.dbs[self.db];
        match db.table.get_mut(key) {
            Some(e) => {
                let old = e.expire_at();
                e.set_expire_at(expire_at);
                db.volatile = db.volatile - (old != 0) as usize + (expire_at != 0) as usize;
                true
            }
            None => false,
        }
    }

    /// Deletes a key (expired keys count as absent). True when it existed.
    /// A large value is freed at once; see `unlink` and `delete_implicit`.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        self.delete_as(key, false)
    }

    /// Deletes a key as UNLINK does: a large value goes to the lazy-free
    /// queue and is freed in steps between passes.
    pub fn unlink(&mut self, key: &[u8]) -> bool {
        self.delete_as(key, true)
    }

    /// A deletion the client did not ask for by name (a key replaced by
    /// RENAME, MOVE, COPY REPLACE, ...): lazy under `lazyfree-lazy-server-del`.
    pub fn delete_implicit(&mut self, key: &[u8]) -> bool {
        let lazy = self.shard.mem.conf.lazy.server_del;
        self.delete_as(key, lazy)
    }

    /// Deletes a key whose expiry a command set in the past (EXPIRE, SET EX,
    /// GETEX): lazy under `lazyfree-lazy-expire`, as Redis frees it.
    pub fn delete_expired(&mut self, key: &[u8]) -> bool {
        let lazy = self.shard.mem.conf.lazy.expire;
        self.delete_as(key, lazy)
    }

    fn delete_as(&mut self, key: &[u8], lazy: bool) -> bool {
        self.expire_if_due(key);
        let Shard { dbs, mem, .. } = &mut *self.shard;
        let db = &mut dbs[self.db];
        match db.table.remove(key) {
            Some(e) => {
                db.volatile -= (e.expire_at() != 0) as usize;
                mem.dispose(e, lazy);
                true
            }
            None => false,
        }
    }

    /// Removes and returns the entry (used by RENAME, MOVE, GETDEL).
    pub fn take(&mut self, key: &[u8]) -> Option<Entry> {
        self.expire_if_due(key);
        let db = &mut self.shard.dbs[self.db];
        let e = db.table.remove(key)?;
        db.volatile -= (e.expire_at() != 0) as usize;
        Some(e)
    }

    /// Inserts an entry taken from elsewhere, into database `db`, replacing any.
    pub fn put_entry(&mut self, db: usize, entry: Entry) {
        let saved = self.db;
        self.db = db;
        self.delete_implicit(entry.key());
        self.db = saved;
        let db = &mut self.shard.dbs[db];
        db.volatile += (entry.expire_at() != 0) as usize;
        db.table.insert_new(entry);
    }

    /// Counts `n` changes for Redis's `dirty` figure.
    pub fn dirty(&mut self, n: u64) {
        self.shard.stats.dirty += n;
    }
}
