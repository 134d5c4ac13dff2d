//! Server configuration: the parameters, their defaults, and the three ways
//! values arrive: a redis.conf-style file, `--name value` arguments (the
//! shape of `redis-server`), and CONFIG GET / SET / REWRITE.
//!
//! Every parameter is one row of the `params!` table in `table.rs`: name, aliases,
//! kind (which fixes how a value is parsed, shown by CONFIG GET and written by
//! CONFIG REWRITE), default as text, and whether CONFIG SET may change it while
//! the server runs. The row's `get`/`put` tie it to one typed field of
//! [`Config`]; nothing else has to know the parameter exists.
//!
//! ```text
//!   file line ───┐                                  ┌──> Config field (typed)
//!   --name value ┼─> words ─> Spec::parse ─> Value ─┤      Spec::put
//!   CONFIG SET ──┘          (kind, range)           └──< CONFIG GET / REWRITE
//!                                                          Spec::get (text)
//! ```
//!
//! Pure data and functions, synchronous: no sockets, no shards. The only I/O is
//! reading the file at start-up and CONFIG REWRITE's replace-by-rename, which
//! the caller runs rarely and should serialise (one rewrite at a time).
//!
//! The module's parts: `table.rs` (the parameter table and how a value is
//! parsed), `lexer.rs` (words, integers and memory values as Redis reads and
//! writes them), `load.rs` (the file and the command line), `rewrite.rs`
//! (CONFIG REWRITE) and `error.rs` (the errors and their exact texts). This
//! file holds the typed [`Config`] and CONFIG GET / SET.

mod error;
mod lexer;
mod load;
mod rewrite;
mod table;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use engine::glob::glob_match;

pub use error::{ConfigError, Origin};
pub use lexer::{parse_memory, split_args};
pub use load::{early_flag, EarlyFlag};
pub use table::Param;
use table::{Spec, When, TABLE};

/// The typed configuration the server reads. Build it with
/// [`Config::from_args`] (or `Default`); change it with [`Config::set`].
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub port: u16,
    /// Addresses to listen on; empty means every address ([`Config::listen_addrs`]).
    pub bind: Vec<BindAddr>,
    pub protected_mode: bool,
    pub databases: usize,
    /// Empty: no password.
    pub requirepass: String,
    pub maxclients: u64,
    /// Idle client timeout in seconds; 0 never closes.
    pub timeout: u32,
    /// Seconds between TCP keepalive probes; 0 disables them.
    pub tcp_keepalive: u32,
    pub tcp_backlog: u32,
    /// Background ticks per second, kept within 1..=500 like Redis.
    pub hz: u32,
    pub proto_max_bulk_len: u64,
    pub client_query_buffer_limit: u64,
    pub enable_debug_command: DebugCommand,
    /// Bytes; 0 means no limit. Split across shards by the caller.
    pub maxmemory: u64,
    pub maxmemory_policy: EvictionPolicy,
    pub maxmemory_samples: u32,
    pub lfu_log_factor: u32,
    pub lfu_decay_time: u32,
    /// 0..=100: how long one command may spend evicting (Redis's curve).
    pub maxmemory_eviction_tenacity: u32,
    pub lazyfree_lazy_eviction: bool,
    pub lazyfree_lazy_expire: bool,
    pub lazyfree_lazy_server_del: bool,
    pub lazyfree_lazy_user_del: bool,
    pub lazyfree_lazy_user_flush: bool,
    /// jemalloc's background threads return freed pages to the kernel.
    pub jemalloc_bg_thread: bool,
    /// 1..=10: how much CPU the active expiry sweep may spend.
    pub active_expire_effort: u32,
    pub latency_tracking: bool,
    /// A hash is a listpack while it has at most this many fields...
    pub hash_max_listpack_entries: u64,
    /// ...and no field or value longer than this (bytes).
    pub hash_max_listpack_value: u64,
    /// A set of integers is an intset while it has at most this many.
    pub set_max_intset_entries: u64,
    /// A sorted set is a listpack while it has at most this many members...
    pub zset_max_listpack_entries: u64,
    /// ...and no member longer than this (bytes).
    pub zset_max_listpack_value: u64,
    /// A list node's limit: below 0 in bytes (-2: 8 KiB), above 0 in items.
    pub list_max_listpack_size: i64,
    /// Accepted and reported, without effect (lists are not compressed).
    pub list_compress_depth: u64,
    /// Microseconds; -1 disables the slow log, 0 logs every command.
    pub slowlog_log_slower_than: i64,
    pub slowlog_max_len: u64,
    pub loglevel: LogLevel,
    /// `None`: log to standard output.
    pub logfile: Option<PathBuf>,
    /// Working directory, always absolute.
    pub dir: PathBuf,
    /// 0: one shard per allowed CPU.
    pub shards: usize,
    /// CPUs to run shards on, sorted; empty means every CPU the process may use.
    pub cpus: Vec<usize>,
    /// The file given on the command line, made absolute (for CONFIG REWRITE
    /// and INFO's `config_file`). `None` when started without one.
    pub config_file: Option<PathBuf>,
}

/// One `bind` address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindAddr {
    pub ip: IpAddr,
    /// Written with a `-` prefix: skip it when the address is not available
    /// (Redis 7's `-::1`, for hosts without IPv6).
    pub optional: bool,
    /// Written `*` / `::*`: every address of that family (ip is unspecified).
    pub wildcard: bool,
}

impl fmt::Display for BindAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.optional {
            f.write_str("-")?;
        }
        match (self.wildcard, self.ip) {
            (true, IpAddr::V4(_)) => f.write_str("*"),
            (true, IpAddr::V6(_)) => f.write_str("::*"),
            (false, ip) => write!(f, "{ip}"),
        }
    }
}

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant,)* }

        impl $name {
            /// Accepted names, in Redis's order (its error message lists them so).
            pub const NAMES: &'static [&'static str] = &[$($text,)*];
            const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn name(self) -> &'static str {
                Self::NAMES[self as usize]
            }

            fn from_index(i: usize) -> Self {
                Self::ALL[i]
            }
        }
    };
}

named_enum! {
    /// `maxmemory-policy`: Redis's eviction policy names.
    EvictionPolicy {
        VolatileLru = "volatile-lru",
        VolatileLfu = "volatile-lfu",
        VolatileRandom = "volatile-random",
        VolatileTtl = "volatile-ttl",
        AllkeysLru = "allkeys-lru",
        AllkeysLfu = "allkeys-lfu",
        AllkeysRandom = "allkeys-random",
        NoEviction = "noeviction",
    }
}

named_enum! {
    /// `loglevel`, least to most severe.
    LogLevel { Debug = "debug", Verbose = "verbose", Notice = "notice", Warning = "warning", }
}

named_enum! {
    /// `enable-debug-command`: no, yes, or only from loopback connections.
    DebugCommand { No = "no", Yes = "yes", Local = "local", }
}

/// A parameter whose value CONFIG SET changed (setting the value it already
/// had is not a change). The caller reads the new value from the [`Config`]
/// and fans it out, e.g. `maxmemory` split across shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub param: Param,
}

impl Default for Config {
    /// Every parameter at its table default.
    fn default() -> Self {
        // Placeholders: the loop overwrites every field from the table, so
        // each default is written in one place only.
        let mut cfg = Config {
            port: 0,
            bind: Vec::new(),
            protected_mode: false,
            databases: 0,
            requirepass: String::new(),
            maxclients: 0,
            timeout: 0,
            tcp_keepalive: 0,
            tcp_backlog: 0,
            hz: 0,
            proto_max_bulk_len: 0,
            client_query_buffer_limit: 0,
            enable_debug_command: DebugCommand::No,
            maxmemory: 0,
            maxmemory_policy: EvictionPolicy::NoEviction,
            maxmemory_samples: 0,
            lfu_log_factor: 0,
            lfu_decay_time: 0,
            maxmemory_eviction_tenacity: 0,
            lazyfree_lazy_eviction: false,
            lazyfree_lazy_expire: false,
            lazyfree_lazy_server_del: false,
            lazyfree_lazy_user_del: false,
            lazyfree_lazy_user_flush: false,
            jemalloc_bg_thread: false,
            active_expire_effort: 0,
            latency_tracking: false,
            hash_max_listpack_entries: 0,
            hash_max_listpack_value: 0,
            set_max_intset_entries: 0,
            zset_max_listpack_entries: 0,
            zset_max_listpack_value: 0,
            list_max_listpack_size: 0,
            list_compress_depth: 0,
            slowlog_log_slower_than: 0,
            slowlog_max_len: 0,
            loglevel: LogLevel::Notice,
            logfile: None,
            dir: PathBuf::new(),
            shards: 0,
            cpus: Vec::new(),
            config_file: None,
        };
        for spec in TABLE {
            (spec.put)(&mut cfg, spec.default_value());
        }
        cfg
    }
}

impl Config {
    /// The addresses to listen on: `bind`, or every address (`* -::*`, as
    /// Redis does) when `bind` is empty.
    pub fn listen_addrs(&self) -> Vec<BindAddr> {
        if !self.bind.is_empty() {
            return self.bind.clone();
        }
        let v4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        let v6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
        vec![
            BindAddr {
                ip: v4,
                optional: false,
                wildcard: true,
            },
            BindAddr {
                ip: v6,
                optional: true,
                wildcard: true,
            },
        ]
    }

    /// CONFIG GET: `(name, value)` for every parameter a pattern matches (glob,
    /// case-insensitive; a pattern without `*?[` is an exact name or alias),
    /// each parameter once, in table order. Values in Redis's formats: memory
    /// as plain bytes, booleans `yes`/`no`, lists space-joined.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut hit = vec![false; TABLE.len()];
        for pattern in patterns {
            if !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'[')) {
                if let Some(p) = Param::lookup(pattern) {
                    hit[p as usize] = true;
                }
                continue;
            }
            for spec in TABLE {
                if spec
                    .names()
                    .any(|n| glob_match(pattern, n.as_bytes(), true))
                {
                    hit[spec.param as usize] = true;
                }
            }
        }
        TABLE
            .iter()
            .filter(|s| hit[s.param as usize])
            .map(|s| (s.name.to_owned(), (s.get)(self)))
            .collect()
    }

    /// CONFIG SET `name value [name value ...]`: all or nothing. Names are
    /// checked first, in order (unknown, startup-only, repeated), then values;
    /// the first problem is the error, with Redis 7's text. Returns the
    /// parameters whose value changed.
    pub fn set(&mut self, pairs: &[(&[u8], &[u8])]) -> Result<Vec<Changed>, ConfigError> {
        let mut specs: Vec<&Spec> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let shown = || String::from_utf8_lossy(name).into_owned();
            let spec = Param::lookup(name)
                .ok_or_else(|| ConfigError::UnknownOption(shown()))?
                .spec();
            let failed = |reason: &str| ConfigError::SetFailed {
                name: shown(),
                reason: reason.into(),
            };
            if spec.when == When::Startup {
                return Err(failed("can't set immutable config"));
            }
            if specs.iter().any(|s| s.param == spec.param) {
                return Err(failed("duplicate parameter"));
            }
            specs.push(spec);
        }
        // Values go into a copy that replaces `self` only if every one is
        // valid: a Config is a few dozen words, so the copy is the simplest
        // way to be atomic.
        let mut next = self.clone();
        for (spec, (_, value)) in specs.iter().zip(pairs) {
            let value = spec
                .parse(&[value.to_vec()])
                .map_err(|reason| ConfigError::SetFailed {
                    name: spec.name.to_owned(),
                    reason: reason.into_owned(),
                })?;
            (spec.put)(&mut next, value);
        }
        let changed = specs
            .iter()
            .filter(|s| (s.get)(&next) != (s.get)(self))
            .map(|s| Changed { param: s.param })
            .collect();
        *self = next;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::table::path_text;
    use super::testutil::*;
    use super::*;

    #[test]
    fn defaults_match_redis() {
        let cfg = Config::default();
        assert_eq!(cfg.port, 6379);
        assert_eq!(get1(&cfg, "bind"), "127.0.0.1");
        assert!(cfg.protected_mode);
        assert_eq!(cfg.databases, 16);
        assert_eq!(cfg.requirepass, "");
        assert_eq!(
            (cfg.maxclients, cfg.timeout, cfg.tcp_keepalive),
            (10000, 0, 300)
        );
        assert_eq!((cfg.tcp_backlog, cfg.hz), (511, 10));
        assert_eq!(cfg.proto_max_bulk_len, 512 << 20);
        assert_eq!(cfg.client_query_buffer_limit, 1 << 30);
        assert_eq!(cfg.enable_debug_command, DebugCommand::No);
        assert_eq!(
            (cfg.maxmemory, cfg.maxmemory_policy),
            (0, EvictionPolicy::NoEviction)
        );
        assert_eq!(
            (
                cfg.maxmemory_samples,
                cfg.lfu_log_factor,
                cfg.lfu_decay_time
            ),
            (5, 10, 1)
        );
        assert_eq!(cfg.active_expire_effort, 1);
        assert!(cfg.latency_tracking);
        assert_eq!(
            (
                cfg.hash_max_listpack_entries,
                cfg.hash_max_listpack_value,
                cfg.set_max_intset_entries
            ),
            (128, 64, 512)
        );
        assert_eq!(
            (cfg.zset_max_listpack_entries, cfg.zset_max_listpack_value),
            (128, 64)
        );
        assert_eq!(
            (cfg.list_max_listpack_size, cfg.list_compress_depth),
            (-2, 0)
        );
        assert_eq!(
            (cfg.slowlog_log_slower_than, cfg.slowlog_max_len),
            (10000, 128)
        );
        assert_eq!(
            (cfg.loglevel, cfg.logfile.clone()),
            (LogLevel::Notice, None)
        );
        assert_eq!(path_text(&cfg.dir), cwd());
        assert_eq!(
            (cfg.shards, cfg.cpus.clone(), cfg.config_file.clone()),
            (0, vec![], None)
        );
        assert_eq!(get1(&cfg, "proto-max-bulk-len"), "536870912");
        assert_eq!(get1(&cfg, "daemonize"), "no");
        assert_eq!(get1(&cfg, "appendonly"), "no");
        assert_eq!(get1(&cfg, "save"), "");
        assert_eq!(get1(&cfg, "enable-debug-command"), "no");
    }

    #[test]
    fn get_patterns() {
        let cfg = Config::default();
        assert_eq!(
            get(&cfg, &["port"]),
            vec![("port".to_string(), "6379".to_string())]
        );
        assert_eq!(
            get(&cfg, &["PORT"]),
            vec![("port".to_string(), "6379".to_string())]
        );
        let names = |patterns: &[&str]| -> Vec<String> {
            get(&cfg, patterns)
                .into_iter()
                .map(|(name, _)| name)
                .collect()
        };
        assert_eq!(
            names(&["maxmemory*"]),
            strings(&[
                "maxmemory",
                "maxmemory-policy",
                "maxmemory-samples",
                "maxmemory-eviction-tenacity"
            ])
        );
        assert_eq!(
            names(&["MAXMEMORY-*"]),
            strings(&[
                "maxmemory-policy",
                "maxmemory-samples",
                "maxmemory-eviction-tenacity"
            ])
        );
        assert_eq!(
            names(&["port", "p?rt", "PORT", "[p]ort"]),
            strings(&["port"])
        );
        assert_eq!(
            names(&["slowlog-*", "*-len"]),
            strings(&[
                "proto-max-bulk-len",
                "slowlog-log-slower-than",
                "slowlog-max-len"
            ])
        );
        assert_eq!(
            names(&["nosuch", "no?such", "port*x"]),
            Vec::<String>::new()
        );
        assert_eq!(names(&["*"]).len(), TABLE.len());
        assert_eq!(get1(&cfg, "protected-mode"), "yes");
        assert_eq!(get1(&cfg, "client-query-buffer-limit"), "1073741824");
        assert_eq!(get1(&cfg, "dir"), cwd());
    }

    #[test]
    fn set_applies_and_reports_changes() {
        let mut cfg = Config::default();
        let changed = set(
            &mut cfg,
            &[
                ("maxmemory", "100mb"),
                ("MAXMEMORY-POLICY", "allkeys-lru"),
                ("hz", "10"),
            ],
        );
        assert_eq!(
            changed.unwrap(),
            vec![Param::Maxmemory, Param::MaxmemoryPolicy],
            "hz kept its value"
        );
        assert_eq!(
            (cfg.maxmemory, cfg.maxmemory_policy),
            (100 << 20, EvictionPolicy::AllkeysLru)
        );
        assert_eq!(get1(&cfg, "maxmemory"), "104857600");
        assert_eq!(set(&mut cfg, &[("hz", "1000")]).unwrap(), vec![Param::Hz]);
        assert_eq!(cfg.hz, 500);
        assert_eq!(
            set(&mut cfg, &[("requirepass", "s3cret")]).unwrap(),
            vec![Param::Requirepass]
        );
        assert!(Param::lookup(b"RequirePass").is_some_and(Param::is_sensitive));
        assert_eq!(
            set(&mut cfg, &[("appendonly", "no"), ("save", "")]).unwrap(),
            vec![]
        );
        assert_eq!(
            set(&mut cfg, &[("slowlog-log-slower-than", "-1")]).unwrap(),
            vec![Param::SlowlogLogSlowerThan]
        );
        assert_eq!(cfg.slowlog_log_slower_than, -1);
        assert!(Param::Maxmemory.is_runtime() && !Param::Port.is_runtime());
        assert_eq!(Param::Maxmemory.name(), "maxmemory");
    }

    #[test]
    fn set_errors_like_redis_7() {
        let mut cfg = Config::default();
        let failed = |name: &str, reason: &str| {
            format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
        };
        let unknown = "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'";
        assert_eq!(set(&mut cfg, &[("nosuch", "1")]).unwrap_err(), unknown);
        let immutable = "can't set immutable config";
        for name in [
            "port",
            "bind",
            "databases",
            "dir",
            "daemonize",
            "shards",
            "cpus",
            "logfile",
            "tcp-backlog",
            "enable-debug-command",
        ] {
            assert_eq!(
                set(&mut cfg, &[(name, "1")]).unwrap_err(),
                failed(name, immutable)
            );
        }
        assert_eq!(
            set(&mut cfg, &[("Port", "1")]).unwrap_err(),
            failed("Port", immutable),
            "the name as sent"
        );
        assert_eq!(
            set(&mut cfg, &[("maxmemory", "1"), ("MAXMEMORY", "2")]).unwrap_err(),
            failed("MAXMEMORY", "duplicate parameter")
        );
        // The first problem in argument order wins, names before values.
        assert_eq!(
            set(&mut cfg, &[("port", "1"), ("nosuch", "1")]).unwrap_err(),
            failed("port", immutable)
        );
        assert_eq!(
            set(&mut cfg, &[("nosuch", "1"), ("port", "1")]).unwrap_err(),
            unknown
        );
        assert_eq!(
            set(&mut cfg, &[("hz", "x"), ("nosuch", "1")]).unwrap_err(),
            unknown
        );
        let cases: &[(&str, &str, &str)] = &[
            ("MAXMEMORY", "abc", "argument must be a memory value"),
            ("timeout", "1x", "argument couldn't be parsed into an integer"),
            ("protected-mode", "maybe", "argument must be 'yes' or 'no'"),
            ("maxmemory-samples", "0", "argument must be between 1 and 2147483647 inclusive"),
            ("active-expire-effort", "11", "argument must be between 1 and 10 inclusive"),
            ("maxclients", "0", "argument must be between 1 and 4294967295 inclusive"),
            ("maxmemory-policy", "lru", "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
            ("appendonly", "yes", "persistence is not built yet: ringcache accepts only 'appendonly no'"),
            ("save", "3600 1", "snapshots are not built yet: ringcache accepts only 'save \"\"'"),
        ];
        for &(name, value, reason) in cases {
            let canonical = name.to_ascii_lowercase();
            assert_eq!(
                set(&mut cfg, &[(name, value)]).unwrap_err(),
                failed(&canonical, reason),
                "{name}"
            );
        }
        assert_eq!(cfg, Config::default(), "failed sets change nothing");
    }

    #[test]
    fn set_is_all_or_nothing() {
        let mut cfg = Config::default();
        let before = cfg.clone();
        let err = set(
            &mut cfg,
            &[
                ("maxmemory", "1mb"),
                ("loglevel", "warning"),
                ("timeout", "bad"),
            ],
        );
        assert_eq!(err.unwrap_err(), "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer");
        assert_eq!(cfg, before);
        set(
            &mut cfg,
            &[
                ("maxmemory", "1mb"),
                ("loglevel", "warning"),
                ("timeout", "5"),
            ],
        )
        .unwrap();
        assert_eq!(
            (cfg.maxmemory, cfg.loglevel, cfg.timeout),
            (1 << 20, LogLevel::Warning, 5)
        );
    }
}
