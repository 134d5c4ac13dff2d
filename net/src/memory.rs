//! Memory across shards: each shard's meter, the rebalancing of
//! `maxmemory` between shards, the allocator's figures, and the MEMORY
//! command.
//!
//! ```text
//!   every 100 ms, on shard 0, while maxmemory is set:
//!     ask every shard (mailboxes): used bytes, bytes evicted since last time
//!     other = jemalloc's stats.allocated − Σ used   (threads that are not shards)
//!     total = maxmemory − other
//!     demand_i = used_i + evicted_i   (a shard that evicted: it wants more)
//!              = used_i + reserve     (one that did not: room to take writes)
//!     Σ demand ≤ total: budget_i = demand_i + an equal share of what is left
//!     else: the shards that did not evict get their demand, the others
//!           share the rest in proportion to theirs
//!     a shard's budget grows only into what shrinking shards already gave back
//! ```
//!
//! So a shard that runs hot (every key behind one `{tag}`) borrows what the
//! cold ones do not use, the total stays within the limit, and nothing of
//! this runs per command: a command reads only its own shard's budget and
//! meter (engine's `memory` module).

use crate::router::{Op, Reply};
use crate::shard::ShardState;
use engine::memory::Meter;
use engine::{CmdError, Out};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How often shard 0 rebalances the budgets while a limit is set, and how
/// often it only notes the peak while none is (a wake-up of an idle shard
/// costs about 25 µs of CPU on a nested VM: not ten times a second for
/// nothing).
const REBALANCE: Duration = Duration::from_millis(100);
const PEAK_ONLY: Duration = Duration::from_secs(1);

/// Figures every shard may read: the peak of `used_memory` and what was
/// allocated once start-up was done. Touched by INFO, MEMORY and the
/// rebalancer, never per command.
#[derive(Default)]
pub struct ServerMem {
    pub peak: AtomicU64,
    pub startup: AtomicU64,
}

impl ServerMem {
    /// Notes a reading of `used_memory`; returns the peak so far.
    pub fn note(&self, used: u64) -> u64 {
        self.peak.fetch_max(used, Ordering::Relaxed).max(used)
    }
}

/// The calling thread's bytes held, from jemalloc's per-thread counters: a
/// shard is one thread, so this is what the shard holds. The pointers are
/// read once; each reading is two loads.
pub fn thread_meter() -> Meter {
    use tikv_jemalloc_ctl::thread::{allocatedp, deallocatedp};
    match (allocatedp::read(), deallocatedp::read()) {
        (Ok(a), Ok(d)) => Box::new(move || a.get().wrapping_sub(d.get()) as i64),
        // Not jemalloc (a test binary with another allocator): no figure.
        _ => Box::new(|| 0),
    }
}

/// jemalloc's figures: (allocated, active, resident).
pub fn allocator_bytes() -> (u64, u64, u64) {
    let _ = tikv_jemalloc_ctl::epoch::advance();
    let get = |r: tikv_jemalloc_ctl::Result<usize>| r.unwrap_or(0) as u64;
    (
        get(tikv_jemalloc_ctl::stats::allocated::read()),
        get(tikv_jemalloc_ctl::stats::active::read()),
        get(tikv_jemalloc_ctl::stats::resident::read()),
    )
}

pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    pages * page
}

/// One shard's answer to the rebalancer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemReport {
    /// Signed: see `engine::memory::Meter`.
    pub used: i64,
    pub evicted: u64,
    pub budget: u64,
}

/// The budgets for the next period (see the module doc). Never 0 (which
/// means "no limit" to a shard).
pub fn plan_budgets(maxmemory: u64, allocated: u64, reports: &[MemReport]) -> Vec<u64> {
    let n = reports.len().max(1) as u64;
    let held: i64 = reports.iter().map(|r| r.used).sum();
    let other = (allocated as i64).saturating_sub(held).max(0) as u64;
    let total = maxmemory.saturating_sub(other).max(n);
    // A shard that did not evict keeps what it holds and some room: a
    // budget at what it holds would leave a shard with no keys to evict
    // nothing to take a write with but the OOM error.
    let reserve = (maxmemory / 128 / n).max(1);
    let demand: Vec<u64> = reports
        .iter()
        .map(|r| held_by(r) + if r.evicted > 0 { r.evicted } else { reserve })
        .collect();
    let wanted: u64 = demand.iter().sum();
    let cold: u64 = reports
        .iter()
        .zip(&demand)
        .filter(|(r, _)| r.evicted == 0)
        .map(|(_, d)| d)
        .sum();
    let hot = wanted - cold;
    let share =
        |part: u64, of: u64, whole: u64| (part as u128 * of as u128 / whole.max(1) as u128) as u64;
    let target: Vec<u64> = if wanted <= total {
        let each = (total - wanted) / n;
        demand.iter().map(|d| d + each).collect()
    } else if cold < total {
        reports
            .iter()
            .zip(&demand)
            .map(|(r, &d)| {
                if r.evicted == 0 {
                    d
                } else {
                    share(d, total - cold, hot)
                }
            })
            .collect()
    } else {
        demand.iter().map(|&d| share(d, total, wanted)).collect()
    };
    // A shrinking shard still holds what it held until it has evicted: a
    // growing one may take only what is not held.
    let kept: u64 = reports
        .iter()
        .zip(&target)
        .filter(|(r, t)| **t < r.budget)
        .map(|(r, t)| held_by(r).max(*t))
        .sum();
    let grow_want: u64 = reports
        .iter()
        .zip(&target)
        .filter(|(r, t)| **t >= r.budget)
        .map(|(_, t)| *t)
        .sum();
    let room = total.saturating_sub(kept);
    reports
        .iter()
        .zip(&target)
        .map(|(r, &t)| {
            let b = if t < r.budget || grow_want <= room {
                t
            } else {
                share(room, t, grow_want)
            };
            b.max(1)
        })
        .collect()
}

/// What a shard holds as its budget sees it (a negative meter reads as 0).
fn held_by(r: &MemReport) -> u64 {
    r.used.max(0) as u64
}

/// Shard 0's loop: rebalances the budgets every REBALANCE while a limit is
/// set, and keeps the peak of `used_memory`.
pub async fn rebalance_loop(state: Rc<ShardState>) {
    let mut period = REBALANCE;
    loop {
        state.ring.sleep(period).await;
        let maxmemory = state.config.borrow().maxmemory;
        period = if maxmemory == 0 { PEAK_ONLY } else { REBALANCE };
        if maxmemory == 0 {
            let (allocated, _, _) = allocator_bytes();
            state.shared.mem.note(allocated);
            continue;
        }
        let reports: Vec<MemReport> = state
            .call_all(|| Op::MemReport)
            .await
            .into_iter()
            .filter_map(|r| match r {
                Reply::Mem(m) => Some(m),
                _ => None,
            })
            .collect();
        // A CONFIG SET may have changed the limit while the replies came.
        if reports.len() != state.nshards || state.config.borrow().maxmemory != maxmemory {
            continue;
        }
        // Read after the reports: read before, a shard's growth meanwhile
        // would hide the other threads' share.
        let (allocated, _, _) = allocator_bytes();
        state.shared.mem.note(allocated);
        let budgets = plan_budgets(maxmemory, allocated, &reports);
        let mut pending = Vec::with_capacity(budgets.len());
        for (s, b) in budgets.into_iter().enumerate() {
            pending.push(state.send(s, Op::Budget(b)).await);
        }
        for p in pending {
            state.wait(p).await;
        }
    }
}

/// MEMORY DOCTOR, MALLOC-STATS, PURGE, STATS, USAGE and HELP.
pub async fn memory_cmd(
    state: &Rc<ShardState>,
    db: usize,
    args: &engine::Args<'_>,
    out: &mut Out,
) -> Result<(), CmdError> {
    let sub = String::from_utf8_lossy(args.get(1)).to_lowercase();
    match (sub.as_str(), args.len()) {
        ("usage", n) if n >= 3 => {
            let mut i = 3;
            while i < n {
                if args.is(i, "SAMPLES") && i + 1 < n {
                    engine::cmd::int_arg(args.get(i + 1))?;
                    i += 2;
                } else {
                    return Err(CmdError::Syntax);
                }
            }
            let key = args.get(2).to_vec();
            let owner = state.owner(&key);
            match state
                .call(owner, Op::MemoryUsage { db: db as u8, key })
                .await
            {
                Reply::Count(n) if n >= 0 => out.int(n),
                _ => out.null(),
            }
        }
        ("stats", 2) => stats(state, out).await,
        ("doctor", 2) => {
            let text = doctor(state).await;
            out.verbatim(text.as_bytes());
        }
        ("malloc-stats", 2) => {
            let mut text = Vec::new();
            let _ = tikv_jemalloc_ctl::stats_print::stats_print(&mut text, Default::default());
            out.verbatim(&text);
        }
        ("purge", 2) => {
            purge();
            out.ok();
        }
        ("help", 2) => out.help(&[
            "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
            "HELP",
            "    Prints this help.",
        ]),
        _ => return Err(CmdError::bad_subcommand("MEMORY", args.get(1))),
    }
    Ok(())
}

/// Turns jemalloc's background threads on or off (`jemalloc-bg-thread`, on
/// by default as in Redis): they purge freed pages by jemalloc's decay
/// curve off the shards' threads, so RSS comes back after a large free
/// even on a shard that then sits idle (decay otherwise runs only inside
/// allocator calls).
pub fn set_background_thread(on: bool) {
    let _ = tikv_jemalloc_ctl::background_thread::write(on);
}

/// Hands every arena's dirty pages back to the kernel now.
pub fn purge() {
    // MALLCTL_ARENAS_ALL: every arena.
    let name = b"arena.4096.purge\0";
    // SAFETY: a void mallctl: no old or new value is read or written.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

/// The whole server's memory picture: the allocator's figures and every
/// shard's.
pub struct Picture {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub rss: u64,
    pub peak: u64,
    pub startup: u64,
    /// The tables themselves (slots, directories), over every shard.
    pub tables: u64,
    pub per_db_tables: Vec<u64>,
    pub keys: u64,
}

impl Picture {
    pub fn overhead(&self) -> u64 {
        self.startup + self.tables
    }

    pub fn dataset(&self) -> u64 {
        self.allocated.saturating_sub(self.overhead())
    }

    pub fn frag(&self) -> f64 {
        ratio(self.rss, self.allocated)
    }
}

pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

pub fn picture(state: &ShardState, stats: &crate::info::ShardStats) -> Picture {
    let (allocated, active, resident) = allocator_bytes();
    let peak = state.shared.mem.note(allocated);
    let mut per_db_tables = vec![0u64; stats.keys.len()];
    for s in &stats.mem {
        for (t, b) in per_db_tables.iter_mut().zip(&s.tables) {
            *t += b;
        }
    }
    Picture {
        allocated,
        active,
        resident,
        rss: rss_bytes(),
        peak,
        startup: state.shared.mem.startup.load(Ordering::Relaxed),
        tables: per_db_tables.iter().sum(),
        per_db_tables,
        keys: stats.keys.iter().map(|k| k.0 as u64).sum(),
    }
}

async fn stats(state: &Rc<ShardState>, out: &mut Out) {
    let total = crate::info::ShardStats::gather(state).await;
    let p = picture(state, &total);
    let dbs: Vec<(usize, u64)> = p
        .per_db_tables
        .iter()
        .enumerate()
        .filter(|(i, _)| total.keys[*i].0 > 0)
        .map(|(i, b)| (i, *b))
        .collect();
    let per_key = p.dataset().checked_div(p.keys).unwrap_or(0);
    let ints: [(&str, u64); 8] = [
        ("peak.allocated", p.peak),
        ("total.allocated", p.allocated),
        ("startup.allocated", p.startup),
        ("overhead.total", p.overhead()),
        ("keys.count", p.keys),
        ("keys.bytes-per-key", per_key),
        ("dataset.bytes", p.dataset()),
        ("allocator.allocated", p.allocated),
    ];
    let tail: [(&str, u64); 3] = [
        ("allocator.active", p.active),
        ("allocator.resident", p.resident),
        ("fragmentation.bytes", p.rss.saturating_sub(p.allocated)),
    ];
    out.map(ints.len() + tail.len() + 3 + dbs.len());
    for (name, v) in ints.iter().chain(&tail) {
        out.bulk_str(name);
        out.int(*v as i64);
    }
    let floats = [
        (
            "dataset.percentage",
            100.0 * ratio(p.dataset(), p.allocated.saturating_sub(p.startup)),
        ),
        ("peak.percentage", 100.0 * ratio(p.allocated, p.peak)),
        ("fragmentation", p.frag()),
    ];
    for (name, v) in floats {
        out.bulk_str(name);
        out.double(v);
    }
    for (db, bytes) in dbs {
        out.bulk_str(&format!("db.{db}"));
        out.map(1);
        out.bulk_str("overhead.hashtable.main");
        out.int(bytes as i64);
    }
}

async fn doctor(state: &Rc<ShardState>) -> String {
    let total = crate::info::ShardStats::gather(state).await;
    let p = picture(state, &total);
    if p.allocated < 5 << 20 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues \
                detector can't be used in these conditions. Please, leave for your mission on \
                Earth and fill it with some data. The new Sam and I will be back to our \
                programming as soon as I finished rebooting."
            .into();
    }
    let mut issues = Vec::new();
    if p.peak as f64 > p.allocated as f64 * 1.5 {
        issues.push(format!(
            " * Peak memory: this instance once held {} bytes, more than 150% of the {} it \
             holds now. The allocator keeps some of what a peak took, which shows as \
             fragmentation; it is reused as data grows again, and MEMORY PURGE hands what \
             is free back to the kernel now.",
            p.peak, p.allocated
        ));
    }
    // The allocator's own pages against what it hands out: the process's
    // RSS also holds code, stacks and the rings' buffers, which are not
    // fragmentation.
    let frag = ratio(p.resident, p.allocated);
    if frag > 1.4 && p.resident - p.allocated > 10 << 20 {
        issues.push(format!(
            " * High fragmentation: the allocator holds {frag:.2} times what it hands out. \
             After a peak this is expected; otherwise the workload fragments memory (many \
             sizes freed and allocated in turn). MEMORY PURGE returns dirty pages now; \
             jemalloc's background threads return them over time."
        ));
    }
    if issues.is_empty() {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account \
                for what occurs on this base."
            .into();
    }
    format!(
        "Sam, I detected a few issues in this ringcache instance memory:\n\n{}\n\n\
         I'm here to keep you safe, Sam. I want to help you.\n",
        issues.join("\n\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(used: u64, evicted: u64, budget: u64) -> MemReport {
        MemReport {
            used: used as i64,
            evicted,
            budget,
        }
    }

    #[test]
    fn room_left_is_shared_and_a_hot_shard_borrows_from_a_cold_one() {
        // Both fit: each gets its demand (what it holds and a reserve of
        // 1000 / 128 / 2 = 3) and half of what is left.
        assert_eq!(
            plan_budgets(1000, 300, &[r(100, 0, 500), r(200, 0, 500)]),
            vec![450, 550]
        );
        // Shard 0 evicts while shard 1 sits nearly empty: shard 0 gets
        // what shard 1 does not use but its reserve, the sum stays at the limit.
        let b = plan_budgets(1000, 520, &[r(500, 600, 500), r(20, 0, 500)]);
        assert_eq!(b, vec![977, 23]);
        // A cold shard whose own memory grew past its budget keeps it (and
        // gets its reserve as the hot one gives back).
        let b = plan_budgets(1000, 1000, &[r(960, 50, 977), r(40, 0, 23)]);
        assert_eq!(b, vec![957, 40]);
    }

    #[test]
    fn other_threads_memory_comes_off_the_total() {
        // 100 bytes are held by threads that are not shards.
        let b = plan_budgets(1000, 400, &[r(150, 0, 500), r(150, 0, 500)]);
        assert_eq!(b, vec![450, 450]);
        // Even when they hold more than the limit, no budget is 0 (no limit).
        assert_eq!(plan_budgets(10, 100, &[r(5, 0, 5), r(5, 0, 5)]), vec![1, 1]);
    }

    #[test]
    fn a_growing_shard_waits_for_a_shrinking_one_to_give_back() {
        // Shard 1 was given 800 and holds 800; shard 0 now evicts hard, and
        // so does shard 1. Until shard 1 has come down, shard 0 may only
        // take what is unused.
        let b = plan_budgets(1000, 1000, &[r(200, 600, 200), r(800, 10, 800)]);
        assert!(b[1] < 800, "{b:?}");
        assert!(b[0] + 800 <= 1000, "{b:?}");
        // Once it has, shard 0 gets its share.
        let later = plan_budgets(1000, 200 + b[1], &[r(200, 600, b[0]), r(b[1], 10, b[1])]);
        assert!(later[0] > b[0], "{later:?}");
        assert!(later.iter().sum::<u64>() <= 1000);
    }
}
