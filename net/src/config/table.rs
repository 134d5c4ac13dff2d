//! The parameter table: one `params!` row per parameter (name, aliases, kind,
//! default, when it may change, and the `get`/`put` pair that ties it to its
//! [`Config`] field), and how a value of each kind is parsed.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use super::error::io_reason;
use super::lexer::{format_memory, parse_int, parse_memory, repr, split_args};
use super::{BindAddr, Config, DebugCommand, EvictionPolicy, LogLevel};

/// When a parameter may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    /// Only in the file or on the command line.
    Startup,
    /// Also with CONFIG SET.
    Runtime,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Int {
        min: i64,
        max: i64,
    },
    /// Bytes, written with Redis's units (`1k`, `1kb`, ... `1gb`).
    Memory {
        min: u64,
        max: u64,
    },
    Bool,
    Enum(&'static [&'static str]),
    Str,
    /// A non-empty path, made absolute when set (CONFIG GET shows it so, like Redis).
    Dir,
    /// Several words (`save`).
    Words,
    /// Several `bind` addresses.
    Bind,
    /// A Linux CPU list (`0-3,8`, tuning's syntax); empty for every allowed CPU.
    Cpus,
}

/// A parsed value, before `put` stores it in its typed field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Int(i64),
    Mem(u64),
    Bool(bool),
    Enum(usize),
    Str(String),
    Words(Vec<String>),
    Bind(Vec<BindAddr>),
    Cpus(Vec<usize>),
}

macro_rules! value_accessor {
    ($($fn:ident: $variant:ident -> $ty:ty;)*) => {
        impl Value {
            // A mismatch is a table bug (a `put` of the wrong kind); the
            // table test feeds every row its default, so it cannot ship.
            $(fn $fn(self) -> $ty {
                match self {
                    Value::$variant(v) => v,
                    other => unreachable!("config table: {other:?} is not {}", stringify!($variant)),
                }
            })*
        }
    };
}

value_accessor! {
    int: Int -> i64;
    mem: Mem -> u64;
    bool: Bool -> bool;
    index: Enum -> usize;
    string: Str -> String;
    bind: Bind -> Vec<BindAddr>;
    cpus: Cpus -> Vec<usize>;
}

pub(super) struct Spec {
    pub(super) param: Param,
    pub(super) name: &'static str,
    aliases: &'static [&'static str],
    pub(super) kind: Kind,
    default: &'static str,
    pub(super) when: When,
    /// `Some(why)`: only the default is accepted (a feature not built yet);
    /// any other valid value is refused with `why`.
    only_default: Option<&'static str>,
    /// The CONFIG GET text.
    pub(super) get: fn(&Config) -> String,
    pub(super) put: fn(&mut Config, Value),
}

macro_rules! opt {
    () => {
        None
    };
    ($e:expr) => {
        Some($e)
    };
}

macro_rules! params {
    ($(
        $id:ident {
            name: $name:literal,
            $(aliases: [$($alias:literal),* $(,)?],)?
            kind: $kind:expr,
            default: $default:literal,
            set: $when:ident,
            $(only_default: $why:literal,)?
            get: $get:expr,
            put: $put:expr $(,)?
        }
    )*) => {
        /// A configuration parameter: one row of the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Param { $($id,)* }

        pub(super) static TABLE: &[Spec] = &[$(
            Spec {
                param: Param::$id,
                name: $name,
                aliases: &[$($($alias),*)?],
                kind: {
                    use Kind::*;
                    $kind
                },
                default: $default,
                when: When::$when,
                only_default: opt!($($why)?),
                get: $get,
                put: $put,
            },
        )*];
    };
}

// Bounds named as in Redis's config.c, to compare rows against it.
const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;
const LONG_MAX: u64 = i64::MAX as u64;
const LLONG_MAX: i64 = i64::MAX;
const MB: u64 = 1 << 20;

// Ranges are Redis 7.0's. Startup-only where Redis allows CONFIG SET says why.
params! {
    // Each shard owns its own SO_REUSEPORT listener; moving every one of
    // them at runtime is not built, so refuse rather than pretend.
    Port {
        name: "port", kind: Int { min: 0, max: 65535 }, default: "6379", set: Startup,
        get: |c| c.port.to_string(), put: |c, v| c.port = v.int() as u16 }
    // Startup only: same reason as port.
    Bind {
        name: "bind", kind: Bind, default: "127.0.0.1", set: Startup,
        get: |c| c.bind.iter().map(BindAddr::to_string).collect::<Vec<_>>().join(" "),
        put: |c, v| c.bind = v.bind() }
    ProtectedMode {
        name: "protected-mode", kind: Bool, default: "yes", set: Runtime,
        get: |c| yes_no(c.protected_mode), put: |c, v| c.protected_mode = v.bool() }
    Databases {
        name: "databases", kind: Int { min: 1, max: INT_MAX }, default: "16", set: Startup,
        get: |c| c.databases.to_string(), put: |c, v| c.databases = v.int() as usize }
    Requirepass {
        name: "requirepass", kind: Str, default: "", set: Runtime,
        get: |c| c.requirepass.clone(), put: |c, v| c.requirepass = v.string() }
    Maxclients {
        name: "maxclients", kind: Int { min: 1, max: UINT_MAX }, default: "10000", set: Runtime,
        get: |c| c.maxclients.to_string(), put: |c, v| c.maxclients = v.int() as u64 }
    Timeout {
        name: "timeout", kind: Int { min: 0, max: INT_MAX }, default: "0", set: Runtime,
        get: |c| c.timeout.to_string(), put: |c, v| c.timeout = v.int() as u32 }
    TcpKeepalive {
        name: "tcp-keepalive", kind: Int { min: 0, max: INT_MAX }, default: "300", set: Runtime,
        get: |c| c.tcp_keepalive.to_string(), put: |c, v| c.tcp_keepalive = v.int() as u32 }
    TcpBacklog {
        name: "tcp-backlog", kind: Int { min: 0, max: INT_MAX }, default: "511", set: Startup,
        get: |c| c.tcp_backlog.to_string(), put: |c, v| c.tcp_backlog = v.int() as u32 }
    // Redis accepts any value and clamps it: hz is a hint.
    Hz {
        name: "hz", kind: Int { min: 0, max: INT_MAX }, default: "10", set: Runtime,
        get: |c| c.hz.to_string(), put: |c, v| c.hz = v.int().clamp(1, 500) as u32 }
    ProtoMaxBulkLen {
        name: "proto-max-bulk-len", kind: Memory { min: MB, max: LONG_MAX }, default: "512mb",
        set: Runtime,
        get: |c| c.proto_max_bulk_len.to_string(), put: |c, v| c.proto_max_bulk_len = v.mem() }
    ClientQueryBufferLimit {
        name: "client-query-buffer-limit", kind: Memory { min: MB, max: LONG_MAX }, default: "1gb",
        set: Runtime,
        get: |c| c.client_query_buffer_limit.to_string(),
        put: |c, v| c.client_query_buffer_limit = v.mem() }
    EnableDebugCommand {
        name: "enable-debug-command", kind: Enum(DebugCommand::NAMES), default: "no", set: Startup,
        get: |c| c.enable_debug_command.name().into(),
        put: |c, v| c.enable_debug_command = DebugCommand::from_index(v.index()) }
    Maxmemory {
        name: "maxmemory", kind: Memory { min: 0, max: u64::MAX }, default: "0", set: Runtime,
        get: |c| c.maxmemory.to_string(), put: |c, v| c.maxmemory = v.mem() }
    MaxmemoryPolicy {
        name: "maxmemory-policy", kind: Enum(EvictionPolicy::NAMES), default: "noeviction",
        set: Runtime,
        get: |c| c.maxmemory_policy.name().into(),
        put: |c, v| c.maxmemory_policy = EvictionPolicy::from_index(v.index()) }
    MaxmemorySamples {
        name: "maxmemory-samples", kind: Int { min: 1, max: INT_MAX }, default: "5", set: Runtime,
        get: |c| c.maxmemory_samples.to_string(), put: |c, v| c.maxmemory_samples = v.int() as u32 }
    LfuLogFactor {
        name: "lfu-log-factor", kind: Int { min: 0, max: INT_MAX }, default: "10", set: Runtime,
        get: |c| c.lfu_log_factor.to_string(), put: |c, v| c.lfu_log_factor = v.int() as u32 }
    LfuDecayTime {
        name: "lfu-decay-time", kind: Int { min: 0, max: INT_MAX }, default: "1", set: Runtime,
        get: |c| c.lfu_decay_time.to_string(), put: |c, v| c.lfu_decay_time = v.int() as u32 }
    MaxmemoryEvictionTenacity {
        name: "maxmemory-eviction-tenacity", kind: Int { min: 0, max: 100 }, default: "10",
        set: Runtime,
        get: |c| c.maxmemory_eviction_tenacity.to_string(),
        put: |c, v| c.maxmemory_eviction_tenacity = v.int() as u32 }
    LazyfreeLazyEviction {
        name: "lazyfree-lazy-eviction", kind: Bool, default: "no", set: Runtime,
        get: |c| yes_no(c.lazyfree_lazy_eviction), put: |c, v| c.lazyfree_lazy_eviction = v.bool() }
    LazyfreeLazyExpire {
        name: "lazyfree-lazy-expire", kind: Bool, default: "no", set: Runtime,
        get: |c| yes_no(c.lazyfree_lazy_expire), put: |c, v| c.lazyfree_lazy_expire = v.bool() }
    LazyfreeLazyServerDel {
        name: "lazyfree-lazy-server-del", kind: Bool, default: "no", set: Runtime,
        get: |c| yes_no(c.lazyfree_lazy_server_del),
        put: |c, v| c.lazyfree_lazy_server_del = v.bool() }
    LazyfreeLazyUserDel {
        name: "lazyfree-lazy-user-del", kind: Bool, default: "no", set: Runtime,
        get: |c| yes_no(c.lazyfree_lazy_user_del), put: |c, v| c.lazyfree_lazy_user_del = v.bool() }
    LazyfreeLazyUserFlush {
        name: "lazyfree-lazy-user-flush", kind: Bool, default: "no", set: Runtime,
        get: |c| yes_no(c.lazyfree_lazy_user_flush),
        put: |c, v| c.lazyfree_lazy_user_flush = v.bool() }
    JemallocBgThread {
        name: "jemalloc-bg-thread", kind: Bool, default: "yes", set: Runtime,
        get: |c| yes_no(c.jemalloc_bg_thread), put: |c, v| c.jemalloc_bg_thread = v.bool() }
    ActiveExpireEffort {
        name: "active-expire-effort", kind: Int { min: 1, max: 10 }, default: "1", set: Runtime,
        get: |c| c.active_expire_effort.to_string(),
        put: |c, v| c.active_expire_effort = v.int() as u32 }
    LatencyTracking {
        name: "latency-tracking", kind: Bool, default: "yes", set: Runtime,
        get: |c| yes_no(c.latency_tracking), put: |c, v| c.latency_tracking = v.bool() }
    SlowlogLogSlowerThan {
        name: "slowlog-log-slower-than", kind: Int { min: -1, max: LLONG_MAX }, default: "10000",
        set: Runtime,
        get: |c| c.slowlog_log_slower_than.to_string(),
        put: |c, v| c.slowlog_log_slower_than = v.int() }
    SlowlogMaxLen {
        name: "slowlog-max-len", kind: Int { min: 0, max: LLONG_MAX }, default: "128", set: Runtime,
        get: |c| c.slowlog_max_len.to_string(), put: |c, v| c.slowlog_max_len = v.int() as u64 }
    // The encodings of small collections. 128 is redis.conf's value (a
    // redis-server started without a file uses 512); ElastiCache's too.
    HashMaxListpackEntries {
        name: "hash-max-listpack-entries", aliases: ["hash-max-ziplist-entries"],
        kind: Int { min: 0, max: LLONG_MAX }, default: "128", set: Runtime,
        get: |c| c.hash_max_listpack_entries.to_string(),
        put: |c, v| c.hash_max_listpack_entries = v.int() as u64 }
    HashMaxListpackValue {
        name: "hash-max-listpack-value", aliases: ["hash-max-ziplist-value"],
        kind: Memory { min: 0, max: LONG_MAX }, default: "64", set: Runtime,
        get: |c| c.hash_max_listpack_value.to_string(),
        put: |c, v| c.hash_max_listpack_value = v.mem() }
    SetMaxIntsetEntries {
        name: "set-max-intset-entries", kind: Int { min: 0, max: LLONG_MAX }, default: "512",
        set: Runtime,
        get: |c| c.set_max_intset_entries.to_string(),
        put: |c, v| c.set_max_intset_entries = v.int() as u64 }
    ZsetMaxListpackEntries {
        name: "zset-max-listpack-entries", aliases: ["zset-max-ziplist-entries"],
        kind: Int { min: 0, max: LLONG_MAX }, default: "128", set: Runtime,
        get: |c| c.zset_max_listpack_entries.to_string(),
        put: |c, v| c.zset_max_listpack_entries = v.int() as u64 }
    ZsetMaxListpackValue {
        name: "zset-max-listpack-value", aliases: ["zset-max-ziplist-value"],
        kind: Memory { min: 0, max: LONG_MAX }, default: "64", set: Runtime,
        get: |c| c.zset_max_listpack_value.to_string(),
        put: |c, v| c.zset_max_listpack_value = v.mem() }
    // Redis's quicklist fill: below 0 a node's byte limit (-2: 8 KiB),
    // above 0 its item limit; Redis clamps what it reads to -5..=32767, and
    // so does the list (`types::Fill`).
    ListMaxListpackSize {
        name: "list-max-listpack-size", aliases: ["list-max-ziplist-size"],
        kind: Int { min: INT_MIN, max: INT_MAX }, default: "-2", set: Runtime,
        get: |c| c.list_max_listpack_size.to_string(),
        put: |c, v| c.list_max_listpack_size = v.int() }
    // Accepted without effect: lists are never compressed (see the README's
    // list of such parameters). Refusing it would break clients and test
    // suites that set it; what a list holds and answers is the same either
    // way, only its memory differs.
    ListCompressDepth {
        name: "list-compress-depth", kind: Int { min: 0, max: INT_MAX }, default: "0",
        set: Runtime,
        get: |c| c.list_compress_depth.to_string(),
        put: |c, v| c.list_compress_depth = v.int() as u64 }
    Loglevel {
        name: "loglevel", kind: Enum(LogLevel::NAMES), default: "notice", set: Runtime,
        get: |c| c.loglevel.name().into(),
        put: |c, v| c.loglevel = LogLevel::from_index(v.index()) }
    Logfile {
        name: "logfile", kind: Str, default: "", set: Startup,
        get: |c| c.logfile.as_deref().map(path_text).unwrap_or_default(),
        put: |c, v| c.logfile = Some(v.string()).filter(|s| !s.is_empty()).map(PathBuf::from) }
    Dir {
        name: "dir", kind: Dir, default: ".", set: Startup,
        get: |c| path_text(&c.dir), put: |c, v| c.dir = PathBuf::from(v.string()) }
    Daemonize {
        name: "daemonize", kind: Bool, default: "no", set: Startup,
        only_default: "ringcache does not fork: run it in the foreground under a supervisor \
                       (systemd, a container runtime) instead of 'daemonize yes'",
        get: |_| "no".into(), put: |_, _| {} }
    Appendonly {
        name: "appendonly", kind: Bool, default: "no", set: Runtime,
        only_default: "persistence is not built yet: ringcache accepts only 'appendonly no'",
        get: |_| "no".into(), put: |_, _| {} }
    Save {
        name: "save", kind: Words, default: "", set: Runtime,
        only_default: "snapshots are not built yet: ringcache accepts only 'save \"\"'",
        get: |_| String::new(), put: |_, _| {} }
    Shards {
        name: "shards", kind: Int { min: 0, max: 4096 }, default: "0", set: Startup,
        get: |c| c.shards.to_string(), put: |c, v| c.shards = v.int() as usize }
    Cpus {
        name: "cpus", kind: Cpus, default: "", set: Startup,
        get: |c| tuning::format_cpu_list(&c.cpus), put: |c, v| c.cpus = v.cpus() }
}

impl Param {
    pub(super) fn spec(self) -> &'static Spec {
        &TABLE[self as usize]
    }

    /// Finds a parameter by name or alias, ignoring case. A linear scan: the
    /// table is small and CONFIG is not on the data path.
    pub fn lookup(name: &[u8]) -> Option<Param> {
        TABLE
            .iter()
            .find(|s| s.names().any(|n| n.as_bytes().eq_ignore_ascii_case(name)))
            .map(|s| s.param)
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether CONFIG SET may change it.
    pub fn is_runtime(self) -> bool {
        self.spec().when == When::Runtime
    }

    /// Whether its value must be redacted from SLOWLOG, MONITOR and logs.
    pub fn is_sensitive(self) -> bool {
        matches!(self, Param::Requirepass)
    }
}

impl Spec {
    pub(super) fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// Parses a value given as words: one for most kinds, several for lists.
    pub(super) fn parse(&self, words: &[Vec<u8>]) -> Result<Value, Cow<'static, str>> {
        let value = self.parse_kind(words)?;
        match self.only_default {
            Some(why) if value != self.default_value() => Err(why.into()),
            _ => Ok(value),
        }
    }

    pub(super) fn default_value(&self) -> Value {
        self.parse_kind(&[self.default.as_bytes().to_vec()])
            .unwrap_or_else(|e| panic!("config table: default of {} is invalid: {e}", self.name))
    }

    fn parse_kind(&self, words: &[Vec<u8>]) -> Result<Value, Cow<'static, str>> {
        match self.kind {
            Kind::Words => Ok(Value::Words(
                list_words(words)?
                    .iter()
                    .map(|w| utf8(w).map(str::to_owned))
                    .collect::<Result<_, _>>()?,
            )),
            Kind::Bind => parse_bind(&list_words(words)?).map(Value::Bind),
            _ => match words {
                [word] => parse_one(self.kind, word),
                _ => Err("wrong number of arguments".into()),
            },
        }
    }

    /// The line CONFIG REWRITE writes for this parameter.
    pub(super) fn config_line(&self, cfg: &Config) -> String {
        let text = (self.get)(cfg);
        let value = match self.kind {
            Kind::Memory { .. } => text.parse().map(format_memory).unwrap_or(text),
            Kind::Str | Kind::Dir => repr(text.as_bytes()),
            _ if text.is_empty() => "\"\"".into(),
            _ => text,
        };
        format!("{} {value}", self.name)
    }
}

/// A list given as one word is split again (`--bind "a b"`, CONFIG SET bind
/// "a b"); a single empty word is the empty list (`save ""`).
fn list_words(words: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Cow<'static, str>> {
    match words {
        [one] if one.is_empty() => Ok(Vec::new()),
        [one] => split_args(one).ok_or_else(|| "Unbalanced quotes in configuration line".into()),
        _ => Ok(words.to_vec()),
    }
}

fn parse_one(kind: Kind, word: &[u8]) -> Result<Value, Cow<'static, str>> {
    Ok(match kind {
        Kind::Int { min, max } => {
            let n = parse_int(word).ok_or("argument couldn't be parsed into an integer")?;
            if n < min || n > max {
                return Err(format!("argument must be between {min} and {max} inclusive").into());
            }
            Value::Int(n)
        }
        Kind::Memory { min, max } => {
            let n = parse_memory(word).ok_or("argument must be a memory value")?;
            if n < min || n > max {
                return Err(format!("argument must be between {min} and {max} inclusive").into());
            }
            Value::Mem(n)
        }
        Kind::Bool => match word.to_ascii_lowercase().as_slice() {
            b"yes" => Value::Bool(true),
            b"no" => Value::Bool(false),
            _ => return Err("argument must be 'yes' or 'no'".into()),
        },
        Kind::Enum(names) => match names
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(word))
        {
            Some(i) => Value::Enum(i),
            None => {
                let names = names.join(", ");
                return Err(format!("argument(s) must be one of the following: {names}").into());
            }
        },
        Kind::Str => Value::Str(utf8(word)?.to_owned()),
        Kind::Dir => {
            let dir = utf8(word)?;
            if dir.is_empty() {
                return Err("argument must be a directory path".into());
            }
            let path = std::path::absolute(dir).map_err(|e| io_reason(&e))?;
            Value::Str(path_text(&path))
        }
        Kind::Cpus => match utf8(word)? {
            "" => Value::Cpus(Vec::new()),
            list => Value::Cpus(tuning::parse_cpu_list(list)?),
        },
        Kind::Words | Kind::Bind => unreachable!("list kinds are parsed by Spec::parse_kind"),
    })
}

pub(super) fn utf8(word: &[u8]) -> Result<&str, Cow<'static, str>> {
    std::str::from_utf8(word).map_err(|_| "argument must be valid UTF-8".into())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

pub(super) fn path_text(p: &Path) -> String {
    // Paths only come from parsed UTF-8 words, so this is lossless.
    p.to_string_lossy().into_owned()
}

/// Redis's limit (CONFIG_BINDADDR_MAX).
const MAX_BIND_ADDRS: usize = 16;

fn parse_bind(words: &[Vec<u8>]) -> Result<Vec<BindAddr>, Cow<'static, str>> {
    if words.len() > MAX_BIND_ADDRS {
        return Err("Too many bind addresses specified.".into());
    }
    words
        .iter()
        .map(|w| {
            let word = utf8(w)?;
            parse_bind_addr(word).ok_or_else(|| {
                format!(
                    "invalid bind address '{word}': expected an IPv4 or IPv6 address, \
                     '*' or '::*', optionally prefixed with '-'"
                )
                .into()
            })
        })
        .collect()
}

fn parse_bind_addr(word: &str) -> Option<BindAddr> {
    let (optional, rest) = match word.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let (ip, wildcard) = match rest {
        "*" => (IpAddr::V4(Ipv4Addr::UNSPECIFIED), true),
        "::*" => (IpAddr::V6(Ipv6Addr::UNSPECIFIED), true),
        _ => (rest.parse().ok()?, false),
    };
    Some(BindAddr {
        ip,
        optional,
        wildcard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_are_consistent() {
        let defaults = Config::default();
        let mut names = std::collections::HashSet::new();
        for (i, spec) in TABLE.iter().enumerate() {
            assert_eq!(spec.param as usize, i, "{}", spec.name);
            for name in spec.names() {
                assert_eq!(name, name.to_ascii_lowercase());
                assert!(names.insert(name), "{name} declared twice");
            }
            // `put` takes the kind `parse` makes, and `get` reads back what
            // `put` stored, in a form `parse` accepts again.
            let text = (spec.get)(&defaults);
            let value = spec.parse(&[text.clone().into_bytes()]).unwrap();
            let mut cfg = defaults.clone();
            (spec.put)(&mut cfg, value);
            assert_eq!((spec.get)(&cfg), text, "{}", spec.name);
            assert_eq!(Param::lookup(spec.name.as_bytes()), Some(spec.param));
        }
    }
}
