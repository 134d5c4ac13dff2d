//! Eviction: which key goes when a shard is over its budget, by Redis's
//! policies and in Redis's way, so a team's tuning carries over.
//!
//! The LRU, LFU and TTL policies are approximated as Redis approximates
//! them: each eviction samples `maxmemory-samples` keys of every database
//! (a run of table slots from a random point) and offers each to a pool of
//! the 16 best candidates seen so far, kept across evictions; the best of
//! the pool that still exists goes. Scores, higher evicted first: idle
//! seconds on the LRU clock, 255 minus the decayed LFU counter, or how
//! soon the key expires. The random policies take the first key (with an
//! expiry, for `volatile-random`) after a random point, from each
//! database in turn.

use super::{lfu, Policy};
use crate::error::{CmdError, CmdResult};
use crate::shard::Shard;
use std::time::{Duration, Instant};

/// Candidates the pool keeps (Redis's EVPOOL_SIZE).
const POOL: usize = 16;
/// Rounds of sampling one eviction tries before it gives up (every round
/// samples every database; a round finds nothing only when the pool's keys
/// are all gone and the samples found no candidate).
const ROUNDS: usize = 16;
/// Slots a sample may look at per key it wants: tables are at least 70%
/// full, so 8 finds them; keys with an expiry may be rarer.
const SLOTS_PER_SAMPLE: usize = 8;
const SLOTS_PER_VOLATILE_SAMPLE: usize = 64;
/// Evictions between two looks at the clock.
const CLOCK_EVERY: u32 = 16;

pub const OOM: CmdError =
    CmdError::Static("OOM command not allowed when used memory > 'maxmemory'.");

struct Candidate {
    score: u64,
    db: usize,
    key: Vec<u8>,
}

/// The best candidates, ascending by score (the best last). Key buffers are
/// made up front and reused (as Redis caches an sds per pool slot), so an
/// eviction allocates nothing unless a key is longer than KEY_ROOM: an
/// eviction that allocated could free less than it takes.
pub(super) struct Pool {
    best: Vec<Candidate>,
    spare: Vec<Vec<u8>>,
}

const KEY_ROOM: usize = 64;

impl Default for Pool {
    fn default() -> Self {
        Pool {
            best: Vec::with_capacity(POOL),
            spare: (0..=POOL).map(|_| Vec::with_capacity(KEY_ROOM)).collect(),
        }
    }
}

impl Pool {
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if self.best.len() == POOL {
            if score <= self.best[0].score {
                return;
            }
            let worst = self.best.remove(0);
            self.spare.push(worst.key);
        }
        let mut buf = self.spare.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(key);
        let at = self.best.partition_point(|c| c.score < score);
        self.best.insert(
            at,
            Candidate {
                score,
                db,
                key: buf,
            },
        );
    }

    fn pop(&mut self) -> Option<Candidate> {
        self.best.pop()
    }

    fn recycle(&mut self, key: Vec<u8>) {
        self.spare.push(key);
    }

    pub(super) fn clear(&mut self) {
        while let Some(c) = self.best.pop() {
            self.spare.push(c.key);
        }
    }
}

/// Redis's evictionTimeLimitUs: how long one command's eviction may run
/// before the rest is left to the cron. `None`: no limit (tenacity 100).
fn time_limit(tenacity: u32) -> Option<Duration> {
    match tenacity {
        0..=10 => Some(Duration::from_micros(50 * tenacity as u64)),
        11..=99 => Some(Duration::from_micros(
            (500.0 * 1.15f64.powi(tenacity as i32 - 10)) as u64,
        )),
        _ => None,
    }
}

/// Seconds since `lru` on the 24-bit LRU clock, across one wrap.
pub fn idle_seconds(lru: u32, clock: u32) -> u32 {
    const MAX: u32 = (1 << 24) - 1;
    if clock >= lru {
        clock - lru
    } else {
        clock + (MAX - lru)
    }
}

impl Shard {
    /// Runs before a command that may grow memory (flagged `denyoom`):
    /// evicts until the shard is within its budget. Under `noeviction`, or
    /// when nothing the policy may evict is left, the command is refused
    /// with Redis's OOM error. Past the tenacity's time limit the command
    /// runs and the cron evicts the rest in steps.
    pub fn make_room(&mut self) -> CmdResult {
        if !self.mem.over() {
            return Ok(());
        }
        if self.mem.conf.policy == Policy::NoEviction {
            return Err(OOM);
        }
        let limit = time_limit(self.mem.conf.tenacity);
        // The clock is read once CLOCK_EVERY keys have gone, not before: a
        // write that evicts one key (the common case) reads no clock.
        let mut start: Option<Instant> = None;
        let mut evicted = 0u32;
        loop {
            if !self.evict_one() {
                // Nothing left that the policy may evict. What waits in the
                // lazy-free queue is on its way out: free it for the time
                // the command may wait, and let the command run if some of
                // it is still to come.
                self.mem.behind = false;
                if !self.mem.lazy.is_empty() {
                    let spent = start.map_or(Duration::ZERO, |s| s.elapsed());
                    let left = limit.map_or(Duration::from_millis(1), |l| l.saturating_sub(spent));
                    if self.mem.lazy.step(left) || !self.mem.over() {
                        return Ok(());
                    }
                }
                return if self.mem.over() { Err(OOM) } else { Ok(()) };
            }
            if !self.mem.over() {
                return Ok(());
            }
            evicted += 1;
            if evicted.is_multiple_of(CLOCK_EVERY) {
                let since = *start.get_or_insert_with(Instant::now);
                if limit.is_some_and(|l| since.elapsed() >= l) {
                    self.mem.behind = true;
                    return Ok(());
                }
            }
        }
    }

    /// Work the shard does between passes, for at most `budget`: eviction
    /// left behind by `make_room` or a lower budget, then lazy free. True
    /// while some remains.
    pub fn housework(&mut self, budget: Duration) -> bool {
        let start = Instant::now();
        while self.mem.behind && start.elapsed() < budget {
            if !self.mem.over() || !self.evict_one() {
                self.mem.behind = false;
            }
        }
        let left = budget.saturating_sub(start.elapsed());
        if !left.is_zero() && !self.mem.lazy.is_empty() {
            self.mem.lazy.step(left);
        }
        self.housework_pending()
    }

    pub fn housework_pending(&self) -> bool {
        self.mem.behind || !self.mem.lazy.is_empty()
    }

    /// Evicts one key by the policy; false when the policy finds none.
    pub fn evict_one(&mut self) -> bool {
        match self.mem.conf.policy {
            Policy::NoEviction => false,
            Policy::AllkeysRandom => self.evict_random(false),
            Policy::VolatileRandom => self.evict_random(true),
            _ => self.evict_best(),
        }
    }

    /// Whether database `db` has keys the policy may evict.
    fn has_candidates(&self, db: usize, volatile: bool) -> bool {
        let d = &self.dbs[db];
        if volatile {
            d.volatile > 0
        } else {
            !d.table.is_empty()
        }
    }

    fn evict_best(&mut self) -> bool {
        let volatile = self.mem.conf.policy.volatile_only();
        for _ in 0..ROUNDS {
            let mut any = false;
            for db in 0..self.dbs.len() {
                if self.has_candidates(db, volatile) {
                    any = true;
                    self.sample_into_pool(db, volatile);
                }
            }
            if !any {
                self.mem.pool.clear();
                return false;
            }
            while let Some(c) = self.mem.pool.pop() {
                let gone = self.evict_key(c.db, &c.key, volatile);
                self.mem.pool.recycle(c.key);
                if gone {
                    return true;
                }
            }
        }
        // The samples kept missing: a table emptied by many evictions keeps
        // its slots, and a few keys in many slots are rarely sampled. Some
        // key can still go: walk for one rather than refuse the write.
        self.evict_first(volatile)
    }

    /// Evicts the first key the policy may take, walking whole tables.
    fn evict_first(&mut self, volatile: bool) -> bool {
        for db in 0..self.dbs.len() {
            if !self.has_candidates(db, volatile) {
                continue;
            }
            // Every slot once (a segment has at most 4096).
            let all = self.dbs[db].table.segments() * 4096;
            if self.evict_first_found(db, 0, all, volatile) == Some(true) {
                return true;
            }
        }
        false
    }

    /// Evicts the first key the policy may take found walking `max_slots`
    /// slots of `db` from the point `r` picks: `None` when the walk found
    /// none, else whether it went.
    fn evict_first_found(
        &mut self,
        db: usize,
        r: u64,
        max_slots: usize,
        volatile: bool,
    ) -> Option<bool> {
        let mut key = self.mem.pool.spare.pop().unwrap_or_default();
        key.clear();
        let mut found = false;
        self.dbs[db].table.sample(r, max_slots, |e| {
            if volatile && e.expire_at() == 0 {
                return true;
            }
            key.extend_from_slice(e.key());
            found = true;
            false
        });
        let gone = found.then(|| self.evict_key(db, &key, volatile));
        self.mem.pool.recycle(key);
        gone
    }

    /// Offers `maxmemory-samples` keys of database `db` to the pool.
    fn sample_into_pool(&mut self, db: usize, volatile: bool) {
        let r = self.random();
        let clock = self.lru_clock();
        let now_min = lfu::minutes(self.now_ms);
        let Shard { dbs, mem, .. } = self;
        let (policy, want, lfu_conf) = (mem.conf.policy, mem.conf.samples.max(1), mem.conf.lfu);
        let per = if volatile {
            SLOTS_PER_VOLATILE_SAMPLE
        } else {
            SLOTS_PER_SAMPLE
        };
        let mut seen = 0;
        dbs[db].table.sample(r, want.saturating_mul(per), |e| {
            let at = e.expire_at();
            if volatile && at == 0 {
                return true;
            }
            let score = match policy {
                Policy::VolatileTtl => u64::MAX - at,
                p if p.is_lfu() => 255 - lfu::decayed(e.lru(), now_min, lfu_conf) as u64,
                _ => idle_seconds(e.lru(), clock) as u64,
            };
            mem.pool.offer(score, db, e.key());
            seen += 1;
            seen < want
        });
    }

    fn evict_random(&mut self, volatile: bool) -> bool {
        let ndbs = self.dbs.len();
        for _ in 0..ndbs {
            let db = self.mem.next_db % ndbs;
            self.mem.next_db = db + 1;
            if !self.has_candidates(db, volatile) {
                continue;
            }
            for _ in 0..ROUNDS {
                let r = self.random();
                if let Some(gone) =
                    self.evict_first_found(db, r, SLOTS_PER_VOLATILE_SAMPLE, volatile)
                {
                    return gone;
                }
            }
        }
        false
    }

    /// Deletes `key` of `db` as an eviction, if it is still there (and
    /// still has an expiry, when only those may go).
    fn evict_key(&mut self, db: usize, key: &[u8], volatile: bool) -> bool {
        let d = &mut self.dbs[db];
        if volatile && d.table.get(key).is_none_or(|e| e.expire_at() == 0) {
            return false;
        }
        let Some(e) = d.table.remove(key) else {
            return false;
        };
        d.volatile -= (e.expire_at() != 0) as usize;
        self.stats.evicted_keys += 1;
        self.mem.evicted_bytes += e.mem_bytes() as u64;
        let lazy = self.mem.conf.lazy.eviction;
        self.mem.dispose(e, lazy);
        true
    }
}

#[cfg(test)]
mod tests;
