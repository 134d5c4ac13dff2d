//! INFO: Redis's sections and field names (exporters and dashboards parse
//! them), figures summed over every shard.

use crate::client::Clients;
use crate::memory::ratio;
use engine::shard::Stats;
use engine::{Registry, Shard};
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Default, Clone, Debug)]
pub struct NetStats {
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub reads: u64,
    pub writes: u64,
    pub rejected_calls: u64,
}

impl NetStats {
    pub fn reset(&mut self) {
        *self = NetStats::default();
    }
}

/// One shard's figures, as sent to the shard that answers INFO.
#[derive(Default, Clone, Debug)]
pub struct ShardStats {
    pub keys: Vec<(usize, usize)>,
    pub stats: Stats,
    /// Per command: calls, usec, rejected_calls, failed_calls.
    pub cmd: Vec<(u64, u64, u64, u64)>,
    pub errors: BTreeMap<String, u64>,
    pub clients: usize,
    pub connections_received: u64,
    pub rejected_connections: u64,
    pub net: NetStats,
    /// Each shard's memory figures, in shard order (INFO `shards`).
    pub mem: Vec<ShardMem>,
}

/// One shard's memory, as its own meter and tables see it.
#[derive(Default, Clone, Debug)]
pub struct ShardMem {
    pub id: usize,
    pub used: u64,
    pub budget: u64,
    pub keys: u64,
    pub evicted_keys: u64,
    pub lazyfree_pending_objects: u64,
    pub lazyfreed_objects: u64,
    /// Bytes each database's table holds itself (slots, directory).
    pub tables: Vec<u64>,
}

impl ShardStats {
    pub fn collect(eng: &Shard, clients: &Clients, net: &NetStats) -> Self {
        ShardStats {
            keys: eng
                .dbs
                .iter()
                .map(|d| (d.table.len(), d.volatile))
                .collect(),
            stats: eng.stats.clone(),
            cmd: eng.commandstats(),
            errors: eng.err_stats.clone(),
            clients: clients.len(),
            connections_received: clients.total_received,
            rejected_connections: clients.rejected,
            net: net.clone(),
            mem: vec![ShardMem {
                id: eng.id,
                used: eng.mem.used(),
                budget: eng.mem.budget,
                keys: eng.key_count() as u64,
                evicted_keys: eng.stats.evicted_keys,
                lazyfree_pending_objects: eng.mem.lazy.pending_objects() as u64,
                lazyfreed_objects: eng.mem.lazy.freed_objects,
                tables: eng
                    .dbs
                    .iter()
                    .map(|d| d.table.overhead_bytes() as u64)
                    .collect(),
            }],
        }
    }

    /// Every shard's figures, added up (INFO, MEMORY STATS and DOCTOR).
    pub async fn gather(state: &std::rc::Rc<crate::shard::ShardState>) -> ShardStats {
        let mut total = ShardStats::default();
        for r in state.call_all(|| crate::router::Op::Stats).await {
            if let crate::router::Reply::Stats(s) = r {
                total.add(&s);
            }
        }
        total
    }

    pub fn add(&mut self, o: &ShardStats) {
        if self.keys.len() < o.keys.len() {
            self.keys.resize(o.keys.len(), (0, 0));
        }
        for (a, b) in self.keys.iter_mut().zip(&o.keys) {
            a.0 += b.0;
            a.1 += b.1;
        }
        let s = &mut self.stats;
        s.keyspace_hits += o.stats.keyspace_hits;
        s.keyspace_misses += o.stats.keyspace_misses;
        s.expired_keys += o.stats.expired_keys;
        s.evicted_keys += o.stats.evicted_keys;
        s.dirty += o.stats.dirty;
        if self.cmd.len() < o.cmd.len() {
            self.cmd.resize(o.cmd.len(), (0, 0, 0, 0));
        }
        for (a, b) in self.cmd.iter_mut().zip(&o.cmd) {
            a.0 += b.0;
            a.1 += b.1;
            a.2 += b.2;
            a.3 += b.3;
        }
        for (k, v) in &o.errors {
            *self.errors.entry(k.clone()).or_default() += v;
        }
        self.clients += o.clients;
        self.connections_received += o.connections_received;
        self.rejected_connections += o.rejected_connections;
        self.net.net_input_bytes += o.net.net_input_bytes;
        self.net.net_output_bytes += o.net.net_output_bytes;
        self.net.reads += o.net.reads;
        self.net.writes += o.net.writes;
        self.mem.extend(o.mem.iter().cloned());
    }
}

/// What the INFO text needs beyond the shards' counters.
pub struct ServerFacts<'a> {
    pub memory: crate::memory::Picture,
    pub port: u16,
    pub hz: u32,
    pub maxclients: usize,
    pub maxmemory: u64,
    pub maxmemory_policy: &'a str,
    pub config_file: &'a str,
    pub uptime_secs: u64,
    pub nshards: usize,
}

/// Every section, in Redis's order; `INFO` and `INFO default` leave out
/// those only `all` / `everything` (or their own name) ask for.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "commandstats",
    "errorstats",
    "keyspace",
    "shards",
];
const ALL_ONLY: &[&str] = &["commandstats", "shards"];

/// Which sections `INFO args...` asks for, in Redis's order.
pub fn sections(args: &[Vec<u8>]) -> Vec<&'static str> {
    let default = || SECTIONS.iter().filter(|s| !ALL_ONLY.contains(s));
    let mut want: Vec<&str> = Vec::new();
    if args.is_empty() {
        want.extend(default());
    }
    for a in args {
        let a = String::from_utf8_lossy(a).to_lowercase();
        match a.as_str() {
            "default" => want.extend(default()),
            "all" | "everything" => want.extend(SECTIONS),
            other => {
                if let Some(s) = SECTIONS.iter().find(|s| **s == other) {
                    want.push(s);
                }
            }
        }
    }
    SECTIONS
        .iter()
        .copied()
        .filter(|s| want.contains(s))
        .collect()
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / 1024.0 / 1024.0)
    } else {
        format!("{:.2}G", b / 1024.0 / 1024.0 / 1024.0)
    }
}

fn rusage() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(ru.ru_stime), t(ru.ru_utime))
}

pub fn render(sections: &[&str], t: &ShardStats, f: &ServerFacts, registry: &Registry) -> String {
    let mut o = String::new();
    for (i, s) in sections.iter().enumerate() {
        if i > 0 {
            o.push_str("\r\n");
        }
        match *s {
            "server" => {
                let uname = uname();
                let _ = write!(
                    o,
                    "# Server\r\nredis_version:7.0.15\r\nringcache_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n\
                     redis_build_id:0\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nmonotonic_clock:POSIX clock_gettime\r\n\
                     multiplexing_api:io_uring\r\natomicvar_api:none\r\ngcc_version:0.0.0\r\nprocess_id:{}\r\nprocess_supervised:no\r\n\
                     run_id:{:040x}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\n\
                     hz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\nshards:{}\r\n",
                    env!("CARGO_PKG_VERSION"),
                    uname,
                    std::process::id(),
                    std::process::id() as u128 * 0x9E37_79B9_7F4A_7C15,
                    f.port,
                    crate::shard::unix_ms() * 1000,
                    f.uptime_secs,
                    f.uptime_secs / 86400,
                    f.hz,
                    f.hz,
                    (crate::shard::unix_ms() / 1000) & 0xFF_FFFF,
                    std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                    f.config_file,
                    f.nshards
                );
            }
            "clients" => {
                let _ = write!(
                    o,
                    "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\n\
                     client_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\n\
                     tracking_clients:0\r\nclients_in_timeout_table:0\r\n",
                    t.clients, f.maxclients
                );
            }
            "memory" => {
                let m = &f.memory;
                let lazy_pending: u64 = t.mem.iter().map(|s| s.lazyfree_pending_objects).sum();
                let lazyfreed: u64 = t.mem.iter().map(|s| s.lazyfreed_objects).sum();
                let _ = write!(
                    o,
                    "# Memory\r\nused_memory:{}\r\nused_memory_human:{}\r\nused_memory_rss:{}\r\n\
                     used_memory_rss_human:{}\r\nused_memory_peak:{}\r\nused_memory_peak_human:{}\r\n\
                     used_memory_peak_perc:{:.2}%\r\nused_memory_overhead:{}\r\nused_memory_startup:{}\r\n\
                     used_memory_dataset:{}\r\nused_memory_dataset_perc:{:.2}%\r\n\
                     allocator_allocated:{}\r\nallocator_active:{}\r\nallocator_resident:{}\r\n\
                     maxmemory:{}\r\nmaxmemory_human:{}\r\nmaxmemory_policy:{}\r\n\
                     allocator_frag_ratio:{:.2}\r\nallocator_frag_bytes:{}\r\n\
                     allocator_rss_ratio:{:.2}\r\nallocator_rss_bytes:{}\r\n\
                     rss_overhead_ratio:{:.2}\r\nrss_overhead_bytes:{}\r\n\
                     mem_fragmentation_ratio:{:.2}\r\nmem_fragmentation_bytes:{}\r\n\
                     mem_allocator:jemalloc\r\nlazyfree_pending_objects:{}\r\nlazyfreed_objects:{}\r\n",
                    m.allocated,
                    human(m.allocated),
                    m.rss,
                    human(m.rss),
                    m.peak,
                    human(m.peak),
                    100.0 * ratio(m.allocated, m.peak),
                    m.overhead(),
                    m.startup,
                    m.dataset(),
                    100.0 * ratio(m.dataset(), m.allocated.saturating_sub(m.startup)),
                    m.allocated,
                    m.active,
                    m.resident,
                    f.maxmemory,
                    human(f.maxmemory),
                    f.maxmemory_policy,
                    ratio(m.active, m.allocated),
                    m.active as i64 - m.allocated as i64,
                    ratio(m.resident, m.active),
                    m.resident as i64 - m.active as i64,
                    ratio(m.rss, m.resident),
                    m.rss as i64 - m.resident as i64,
                    m.frag(),
                    m.rss as i64 - m.allocated as i64,
                    lazy_pending,
                    lazyfreed,
                );
            }
            "persistence" => {
                o.push_str(
                    "# Persistence\r\nloading:0\r\nasync_loading:0\r\nrdb_changes_since_last_save:0\r\n\
                     rdb_bgsave_in_progress:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\n\
                     aof_rewrite_in_progress:0\r\naof_last_write_status:ok\r\n",
                );
            }
            "stats" => {
                let commands: u64 = t.cmd.iter().map(|c| c.0).sum();
                let errors: u64 = t.errors.values().sum();
                let _ = write!(
                    o,
                    "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\n\
                     total_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\nrejected_connections:{}\r\n\
                     expired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nevicted_keys:{}\r\n\
                     keyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:0\r\npubsub_patterns:0\r\n\
                     latest_fork_usec:0\r\ntotal_forks:0\r\ntotal_error_replies:{}\r\ntotal_reads_processed:{}\r\n\
                     total_writes_processed:{}\r\n",
                    t.connections_received,
                    commands,
                    t.net.net_input_bytes,
                    t.net.net_output_bytes,
                    t.rejected_connections,
                    t.stats.expired_keys,
                    t.stats.evicted_keys,
                    t.stats.keyspace_hits,
                    t.stats.keyspace_misses,
                    errors,
                    t.net.reads,
                    t.net.writes
                );
            }
            "replication" => {
                o.push_str(
                    "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\n\
                     master_replid:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n\
                     repl_backlog_active:0\r\n",
                );
            }
            "cpu" => {
                let (sys, user) = rusage();
                let _ = write!(
                    o,
                    "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:0.000000\r\n\
                     used_cpu_user_children:0.000000\r\n"
                );
            }
            "commandstats" => {
                o.push_str("# Commandstats\r\n");
                for (id, &(calls, usec, rejected, failed)) in t.cmd.iter().enumerate() {
                    if calls == 0 && rejected == 0 && failed == 0 {
                        continue;
                    }
                    let name = registry.spec(id as u16).name;
                    let per = if calls > 0 {
                        usec as f64 / calls as f64
                    } else {
                        0.0
                    };
                    let _ = write!(
                        o,
                        "cmdstat_{name}:calls={calls},usec={usec},usec_per_call={per:.2},\
                         rejected_calls={rejected},failed_calls={failed}\r\n"
                    );
                }
            }
            "errorstats" => {
                o.push_str("# Errorstats\r\n");
                for (code, n) in &t.errors {
                    let _ = write!(o, "errorstat_{code}:count={n}\r\n");
                }
            }
            "keyspace" => {
                o.push_str("# Keyspace\r\n");
                for (db, (keys, expires)) in t.keys.iter().enumerate() {
                    if *keys > 0 {
                        let _ = write!(o, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
                    }
                }
            }
            "shards" => {
                o.push_str("# Shards\r\n");
                for m in &t.mem {
                    let _ = write!(
                        o,
                        "shard{}:used_memory={},budget={},keys={},evicted_keys={},\
                         lazyfree_pending_objects={}\r\n",
                        m.id, m.used, m.budget, m.keys, m.evicted_keys, m.lazyfree_pending_objects
                    );
                }
            }
            _ => {}
        }
    }
    o
}

fn uname() -> String {
    // SAFETY: uname fills the struct we pass.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return "Linux".into();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.machine)
    )
}

#[cfg(test)]
mod tests {
    use super::sections;

    fn ask(words: &[&str]) -> Vec<&'static str> {
        sections(
            &words
                .iter()
                .map(|w| w.as_bytes().to_vec())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn default_leaves_out_commandstats_and_all_keeps_order() {
        assert!(!ask(&[]).contains(&"commandstats"));
        assert_eq!(ask(&[]), ask(&["default"]));
        assert!(ask(&["all"]).contains(&"commandstats"));
        assert_eq!(ask(&["keyspace", "CPU"]), vec!["cpu", "keyspace"]);
        assert_eq!(
            ask(&["cpu", "all"]).iter().filter(|s| **s == "cpu").count(),
            1
        );
        assert!(ask(&["sentinel"]).is_empty());
    }
}
