//! Server configuration: the parameters, their defaults, and the three ways
//! values arrive: a redis.conf-style file, `--name value` arguments (the
//! shape of `redis-server`), and CONFIG GET / SET / REWRITE.
//!
//! Every parameter is one row of the `params!` table below: name, aliases,
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

use std::borrow::Cow;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use engine::glob::glob_match;

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
    /// 1..=10: how much CPU the active expiry sweep may spend.
    pub active_expire_effort: u32,
    pub latency_tracking: bool,
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

/// When a parameter may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// Only in the file or on the command line.
    Startup,
    /// Also with CONFIG SET.
    Runtime,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
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
enum Value {
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

struct Spec {
    param: Param,
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    default: &'static str,
    when: When,
    /// `Some(why)`: only the default is accepted (a feature not built yet);
    /// any other valid value is refused with `why`.
    only_default: Option<&'static str>,
    /// The CONFIG GET text.
    get: fn(&Config) -> String,
    put: fn(&mut Config, Value),
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

        static TABLE: &[Spec] = &[$(
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
    fn spec(self) -> &'static Spec {
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

/// A parameter whose value CONFIG SET changed (setting the value it already
/// had is not a change). The caller reads the new value from the [`Config`]
/// and fans it out, e.g. `maxmemory` split across shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed {
    pub param: Param,
}

impl Spec {
    fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// Parses a value given as words: one for most kinds, several for lists.
    fn parse(&self, words: &[Vec<u8>]) -> Result<Value, Cow<'static, str>> {
        let value = self.parse_kind(words)?;
        match self.only_default {
            Some(why) if value != self.default_value() => Err(why.into()),
            _ => Ok(value),
        }
    }

    fn default_value(&self) -> Value {
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
    fn config_line(&self, cfg: &Config) -> String {
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

fn utf8(word: &[u8]) -> Result<&str, Cow<'static, str>> {
    std::str::from_utf8(word).map_err(|_| "argument must be valid UTF-8".into())
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.into()
}

fn path_text(p: &Path) -> String {
    // Paths only come from parsed UTF-8 words, so this is lossless.
    p.to_string_lossy().into_owned()
}

/// An integer the way Redis's `string2ll` takes it: optional `-`, digits, no
/// `+`, no spaces, no leading zeros.
fn parse_int(s: &[u8]) -> Option<i64> {
    let digits = s.strip_prefix(b"-").unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.iter().all(u8::is_ascii_digit)
        && (digits[0] != b'0' || s == b"0");
    if !canonical {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// A memory value like Redis's `memtoull`: digits then an optional unit, case
/// insensitive: `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`. `None` if
/// malformed or it does not fit in 64 bits.
pub fn parse_memory(s: &[u8]) -> Option<u64> {
    let split = s
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.is_empty() {
        return None;
    }
    std::str::from_utf8(digits)
        .ok()?
        .parse::<u64>()
        .ok()?
        .checked_mul(mul)
}

/// Bytes in the largest binary unit that divides them exactly, as CONFIG
/// REWRITE writes them (`1gb`, `512mb`, `3kb`, `1000`).
fn format_memory(bytes: u64) -> String {
    for (unit, shift) in [("gb", 30), ("mb", 20), ("kb", 10)] {
        if bytes != 0 && bytes.trailing_zeros() >= shift {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
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

/// Splits a line into words like Redis's `sdssplitargs` (config lines,
/// inline commands): blanks separate words; `"..."` takes `\n \r \t \b \a`,
/// `\xHH` and `\<any>` escapes; `'...'` takes only `\'`. `None` for
/// unbalanced quotes or a closing quote followed by something other than a
/// blank.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    // The same splitter as inline commands: one implementation of sdssplitargs.
    let (mut spans, mut scratch) = (Vec::new(), Vec::new());
    crate::resp::split_args(line, &mut spans, &mut scratch).ok()?;
    Some(
        spans
            .iter()
            .map(|&(a, b)| scratch[a as usize..b as usize].to_vec())
            .collect(),
    )
}

/// Quotes bytes the way Redis's `sdscatrepr` does, so [`split_args`] reads
/// them back unchanged.
fn repr(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for &b in s {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
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
            active_expire_effort: 0,
            latency_tracking: false,
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

/// Flags the caller handles before [`Config::from_args`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EarlyFlag {
    /// `-v` / `--version` as the only argument (as redis-server).
    Version,
    /// `-h` / `--help` as the only argument.
    Help,
    /// `--check` anywhere: report on the host for this configuration and exit.
    /// `from_args` ignores the flag, so the caller can still parse the rest.
    Check,
}

pub fn early_flag(args: &[String]) -> Option<EarlyFlag> {
    match args {
        [one] if one == "-v" || one == "--version" => Some(EarlyFlag::Version),
        [one] if one == "-h" || one == "--help" => Some(EarlyFlag::Help),
        _ if args.iter().any(|a| a == "--check") => Some(EarlyFlag::Check),
        _ => None,
    }
}

/// Deep enough for any real layout; stops a file that includes itself.
const MAX_INCLUDE_DEPTH: usize = 16;

const REWRITE_SIGNATURE: &str = "# Generated by CONFIG REWRITE";

impl Config {
    /// Builds the configuration from `redis-server`-shaped arguments (without
    /// the program name): an optional config file path first (any argument
    /// not starting with `-`), then `--name value [value ...]` options, which
    /// win over the file. An option's values run until the next `--` argument,
    /// but its first value is taken as is even if it starts with `--`.
    pub fn from_args(args: &[String]) -> Result<Config, ConfigError> {
        let mut cfg = Config::default();
        let (file, options) = match args.split_first() {
            Some((first, rest)) if !first.starts_with('-') => (Some(first), rest),
            _ => (None, args),
        };
        if let Some(file) = file {
            let path = std::path::absolute(file).map_err(|e| ConfigError::Open {
                path: PathBuf::from(file),
                reason: io_reason(&e),
            })?;
            cfg.load_file(&path, 0)?;
            cfg.config_file = Some(path);
        }
        for words in option_directives(options)? {
            cfg.apply_directive(&words)
                .map_err(|reason| ConfigError::Load {
                    origin: Origin::Args,
                    text: shown_args(&words),
                    reason: reason.into_owned(),
                })?;
        }
        Ok(cfg)
    }

    fn load_file(&mut self, path: &Path, depth: usize) -> Result<(), ConfigError> {
        let text = fs::read(path).map_err(|e| ConfigError::Open {
            path: path.to_owned(),
            reason: io_reason(&e),
        })?;
        self.load_text(&text, path, depth)
    }

    /// Applies a config file's text; later lines win over earlier ones.
    fn load_text(&mut self, text: &[u8], path: &Path, depth: usize) -> Result<(), ConfigError> {
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.trim_ascii();
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let error = |reason: Cow<'static, str>| ConfigError::Load {
                origin: Origin::File {
                    path: path.to_owned(),
                    line: n + 1,
                    included: depth > 0,
                },
                text: String::from_utf8_lossy(line).into_owned(),
                reason: reason.into_owned(),
            };
            let words = split_args(line)
                .ok_or_else(|| error("Unbalanced quotes in configuration line".into()))?;
            match words.as_slice() {
                [] => continue,
                [name, file] if name.eq_ignore_ascii_case(b"include") => {
                    if depth >= MAX_INCLUDE_DEPTH {
                        return Err(error(
                            "include nesting is too deep (does a file include itself?)".into(),
                        ));
                    }
                    for included in
                        include_paths(utf8(file).map_err(error)?).map_err(|e| error(e.into()))?
                    {
                        self.load_file(&included, depth + 1)?;
                    }
                }
                _ => self.apply_directive(&words).map_err(error)?,
            }
        }
        Ok(())
    }

    /// One `name value...` directive from a file line or the command line.
    fn apply_directive(&mut self, words: &[Vec<u8>]) -> Result<(), Cow<'static, str>> {
        let spec = Param::lookup(&words[0])
            .ok_or("Bad directive or wrong number of arguments")?
            .spec();
        let value = spec.parse(&words[1..])?;
        (spec.put)(self, value);
        Ok(())
    }

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

    /// CONFIG REWRITE: rewrites the file the server started with (`None`:
    /// started without one) to hold the current values. Like Redis: comments
    /// and unrelated lines stay; a parameter's first line is replaced in place
    /// and its repeats dropped; parameters not in the file are appended when
    /// they differ from their default (`dir` always, as Redis); lines the
    /// server no longer understands are kept as `# ??? ` comments. The new
    /// text goes to a temporary file that is renamed over the old one.
    pub fn rewrite(&self, path: Option<&Path>) -> Result<(), ConfigError> {
        let path = path.ok_or(ConfigError::NoConfigFile)?;
        let old = match fs::read(path) {
            Ok(old) => old,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ConfigError::Rewrite(io_reason(&e))),
        };
        replace_file(path, &self.rewritten(&old)).map_err(|e| ConfigError::Rewrite(io_reason(&e)))
    }

    fn rewritten(&self, old: &[u8]) -> Vec<u8> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut at: Vec<Vec<usize>> = vec![Vec::new(); TABLE.len()]; // lines per parameter
        let mut signed = false;
        let old = old.strip_suffix(b"\n").unwrap_or(old);
        for raw in old.split(|&b| b == b'\n').filter(|_| !old.is_empty()) {
            let line = raw.trim_ascii();
            if line.is_empty() || line[0] == b'#' {
                signed |= line == REWRITE_SIGNATURE.as_bytes();
                lines.push(line.to_vec());
                continue;
            }
            let name = split_args(line)
                .and_then(|w| w.into_iter().next())
                .unwrap_or_default();
            if let Some(p) = Param::lookup(&name) {
                at[p as usize].push(lines.len());
                lines.push(line.to_vec());
            } else if name.eq_ignore_ascii_case(b"include") {
                lines.push(line.to_vec());
            } else {
                lines.push([b"# ??? ".as_slice(), line].concat());
            }
        }
        let defaults = Config::default();
        for spec in TABLE {
            let new_line = spec.config_line(self).into_bytes();
            let slots = &at[spec.param as usize];
            if let Some((&first, repeats)) = slots.split_first() {
                lines[first] = new_line;
                for &i in repeats {
                    lines[i].clear();
                }
            } else if matches!(spec.kind, Kind::Dir) || (spec.get)(self) != (spec.get)(&defaults) {
                if !signed {
                    lines.push(REWRITE_SIGNATURE.as_bytes().to_vec());
                    signed = true;
                }
                lines.push(new_line);
            }
        }
        let mut out = Vec::new();
        let mut was_empty = false;
        for line in lines {
            // Runs of blank lines (some left by dropped repeats) become one.
            if line.is_empty() && was_empty {
                continue;
            }
            was_empty = line.is_empty();
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
        out
    }
}

/// Splits `--name value...` arguments into directives, the way redis-server
/// turns them into config lines.
fn option_directives(args: &[String]) -> Result<Vec<Vec<Vec<u8>>>, ConfigError> {
    let error = |text: &str, reason: &str| ConfigError::Load {
        origin: Origin::Args,
        text: text.to_owned(),
        reason: reason.to_owned(),
    };
    let mut directives: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut wants_value = false;
    for (i, arg) in args.iter().enumerate() {
        if wants_value || !arg.starts_with("--") {
            let Some(directive) = directives.last_mut() else {
                return Err(error(arg, "Bad directive or wrong number of arguments"));
            };
            directive.push(arg.as_bytes().to_vec());
            wants_value = false;
            continue;
        }
        if arg == "--check" {
            continue; // see EarlyFlag::Check
        }
        // "--port 6380" in one argument is a name and its value.
        let mut words = split_args(&arg.as_bytes()[2..])
            .ok_or_else(|| error(arg, "Unbalanced quotes in configuration line"))?;
        if words.is_empty() {
            return Err(error(arg, "Bad directive or wrong number of arguments"));
        }
        wants_value = words.len() == 1;
        let next_is_option = match args.get(i + 1) {
            Some(next) => next.starts_with("--"),
            None => true,
        };
        if wants_value && words[0].eq_ignore_ascii_case(b"save") && next_is_option {
            // A bare `--save` means `--save ""` (redis-server keeps this for
            // command lines generated from an empty list).
            words.push(Vec::new());
            wants_value = false;
        }
        directives.push(words);
    }
    Ok(directives)
}

/// How a command-line directive is shown in an error: `port "abc"`.
fn shown_args(words: &[Vec<u8>]) -> String {
    let mut shown = String::from_utf8_lossy(&words[0]).into_owned();
    for w in &words[1..] {
        shown.push(' ');
        shown.push_str(&repr(w));
    }
    shown
}

/// The files an `include` names: the path itself, or, when its file name has
/// glob characters, the matching files of its directory in name order (none
/// is fine, so an empty conf.d works, as in Redis).
fn include_paths(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains(['*', '?', '[']) {
        return Ok(vec![path.to_owned()]);
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if dir.to_string_lossy().contains(['*', '?', '[']) {
        return Err("include: glob characters are supported in the file name only".into());
    }
    let mut found = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => {
            return Err(format!(
                "include: can't read '{}': {}",
                dir.display(),
                io_reason(&e)
            ))
        }
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        if glob_match(name.as_bytes(), file.as_encoded_bytes(), false) {
            found.push(dir.join(file));
        }
    }
    found.sort();
    Ok(found)
}

/// Writes `content` to a temporary file beside `path`, syncs it, and renames
/// it over `path`, so a crash leaves the old file or the new one, never half
/// of one. Keeps the old file's permissions (it may hold `requirepass`).
fn replace_file(path: &Path, content: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        ".{}.rewrite-{}-{nanos}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mode = fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(content)?;
        file.set_permissions(fs::Permissions::from_mode(mode))?; // `mode` above is cut by the umask
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(dir)?.sync_all() // make the rename itself durable
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// An I/O error as `strerror` words it (Redis's replies carry that text).
fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

/// Where a refused directive came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File {
        path: PathBuf,
        line: usize,
        included: bool,
    },
    Args,
}

/// A configuration error. `Display` is the exact text to print (start-up
/// errors, to stderr) or to reply after `-` (CONFIG errors, which carry their
/// `ERR` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A directive of the file or the command line was refused: Redis's
    /// `*** FATAL CONFIG FILE ERROR ***` block.
    Load {
        origin: Origin,
        text: String,
        reason: String,
    },
    /// The config file (or an included one) can't be read.
    Open { path: PathBuf, reason: String },
    /// CONFIG SET of a name no parameter has.
    UnknownOption(String),
    /// CONFIG SET refused a parameter or its value.
    SetFailed { name: String, reason: String },
    /// CONFIG REWRITE when started without a config file.
    NoConfigFile,
    /// CONFIG REWRITE could not read or replace the file.
    Rewrite(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Load {
                origin,
                text,
                reason,
            } => {
                f.write_str("\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n")?;
                match origin {
                    Origin::File {
                        line,
                        included: false,
                        ..
                    } => writeln!(f, "Reading the configuration file, at line {line}")?,
                    Origin::File {
                        path,
                        line,
                        included: true,
                    } => writeln!(
                        f,
                        "Reading the included configuration file {}, at line {line}",
                        path.display()
                    )?,
                    Origin::Args => writeln!(f, "Reading the command line arguments")?,
                }
                write!(f, ">>> '{text}'\n{reason}")
            }
            ConfigError::Open { path, reason } => {
                write!(
                    f,
                    "Fatal error, can't open config file '{}': {reason}",
                    path.display()
                )
            }
            ConfigError::UnknownOption(name) => {
                write!(
                    f,
                    "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
                )
            }
            ConfigError::SetFailed { name, reason } => {
                write!(
                    f,
                    "ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"
                )
            }
            ConfigError::NoConfigFile => {
                f.write_str("ERR The server is running without a config file")
            }
            ConfigError::Rewrite(reason) => write!(f, "ERR Rewriting config file: {reason}"),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for engine::CmdError {
    fn from(e: ConfigError) -> Self {
        engine::CmdError::Other(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn load(text: &str) -> Result<Config, String> {
        let mut cfg = Config::default();
        let path = Path::new("/etc/ringcache.conf");
        cfg.load_text(text.as_bytes(), path, 0)
            .map(|()| cfg)
            .map_err(|e| e.to_string())
    }

    fn set(cfg: &mut Config, pairs: &[(&str, &str)]) -> Result<Vec<Param>, String> {
        let pairs: Vec<(&[u8], &[u8])> = pairs
            .iter()
            .map(|(k, v)| (k.as_bytes(), v.as_bytes()))
            .collect();
        let changed = cfg.set(&pairs).map_err(|e| e.to_string())?;
        Ok(changed.into_iter().map(|c| c.param).collect())
    }

    fn get(cfg: &Config, patterns: &[&str]) -> Vec<(String, String)> {
        let patterns: Vec<&[u8]> = patterns.iter().map(|p| p.as_bytes()).collect();
        cfg.get(&patterns)
    }

    fn get1(cfg: &Config, name: &str) -> String {
        match get(cfg, &[name]).as_slice() {
            [(_, value)] => value.clone(),
            other => panic!("{name}: {other:?}"),
        }
    }

    fn file_error(line: usize, text: &str, reason: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n\
             Reading the configuration file, at line {line}\n>>> '{text}'\n{reason}"
        )
    }

    fn args_error(text: &str, reason: &str) -> String {
        format!(
            "\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n\
             Reading the command line arguments\n>>> '{text}'\n{reason}"
        )
    }

    fn cwd() -> String {
        path_text(&std::env::current_dir().unwrap())
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let name = format!("ringcache-config-{tag}-{}-{nanos}", std::process::id());
            let dir = std::env::temp_dir().join(name);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

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
    fn memory_units_like_redis() {
        let cases: &[(&str, Option<u64>)] = &[
            ("0", Some(0)),
            ("100", Some(100)),
            ("100b", Some(100)),
            ("1k", Some(1000)),
            ("1kb", Some(1024)),
            ("2M", Some(2_000_000)),
            ("2mb", Some(2 << 20)),
            ("1g", Some(1_000_000_000)),
            ("1GB", Some(1 << 30)),
            ("1Gb", Some(1 << 30)),
            ("", None),
            ("kb", None),
            ("-1", None),
            ("1.5mb", None),
            ("1tb", None),
            (" 1", None),
            ("18446744073709551615", Some(u64::MAX)),
            ("18446744073709551616", None),
            ("18446744073709551615kb", None),
        ];
        for &(text, want) in cases {
            assert_eq!(parse_memory(text.as_bytes()), want, "{text:?}");
        }
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_memory(1024), "1kb");
        assert_eq!(format_memory(3 << 20), "3mb");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory((1 << 30) + 1024), "1048577kb");
    }

    #[test]
    fn integers_are_strict_like_string2ll() {
        assert_eq!(parse_int(b"0"), Some(0));
        assert_eq!(parse_int(b"-1"), Some(-1));
        assert_eq!(parse_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "-0",
            "010",
            "+1",
            " 1",
            "1 ",
            "1k",
            "9223372036854775808",
        ] {
            assert_eq!(parse_int(bad.as_bytes()), None, "{bad:?}");
        }
    }

    fn words(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|ws| {
            ws.into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect()
        })
    }

    #[test]
    fn split_args_like_sdssplitargs() {
        assert_eq!(words("  port   7000  "), Some(strings(&["port", "7000"])));
        assert_eq!(words(""), Some(vec![]));
        assert_eq!(words(" \t "), Some(vec![]));
        assert_eq!(
            words(r#"requirepass "a b""#),
            Some(strings(&["requirepass", "a b"]))
        );
        assert_eq!(words(r#""""#), Some(strings(&[""])));
        assert_eq!(
            words(r#""\n\t\r\a\b\"\\\x41\q""#),
            Some(strings(&["\n\t\r\x07\x08\"\\Aq"]))
        );
        assert_eq!(words(r#""\x4""#), Some(strings(&["x4"])));
        assert_eq!(words(r"'it\'s' 'a\nb'"), Some(strings(&["it's", r"a\nb"])));
        assert_eq!(words(r#"a"b c"d"#), None);
        assert_eq!(words(r#"a"b c" d"#), Some(strings(&["ab c", "d"])));
        for bad in [
            r#""unterminated"#,
            "'open",
            r#""closed"glued"#,
            "'x'y",
            r#""ends\""#,
        ] {
            assert_eq!(words(bad), None, "{bad}");
        }
    }

    #[test]
    fn repr_reads_back() {
        let nasty: &[u8] = b"a \"quoted\" \\ line\n\t\x07\x08\x00\xff\r end";
        let quoted = repr(nasty);
        assert_eq!(split_args(quoted.as_bytes()), Some(vec![nasty.to_vec()]));
        assert_eq!(repr(b"p w\""), r#""p w\"""#);
    }

    #[test]
    fn args_only() {
        let cfg = Config::from_args(&[]).unwrap();
        assert_eq!(cfg, Config::default());
        let cfg = Config::from_args(&strings(&[
            "--port",
            "7001",
            "--bind",
            "127.0.0.1",
            "-::1",
            "--maxmemory",
            "2mb",
            "--maxmemory-policy",
            "ALLKEYS-LRU",
            "--requirepass",
            "--starts-with-dashes",
            "--check",
            "--save",
        ]))
        .unwrap();
        assert_eq!(cfg.port, 7001);
        assert_eq!(get1(&cfg, "bind"), "127.0.0.1 -::1");
        assert_eq!(
            cfg.bind[1],
            BindAddr {
                ip: "::1".parse().unwrap(),
                optional: true,
                wildcard: false
            }
        );
        assert_eq!(cfg.maxmemory, 2 << 20);
        assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllkeysLru);
        assert_eq!(cfg.requirepass, "--starts-with-dashes");
        assert_eq!(cfg.config_file, None);
        // A name and its value in one argument; `--save` followed by another option.
        let cfg = Config::from_args(&strings(&["--port 6380", "--save", "--hz", "20"])).unwrap();
        assert_eq!((cfg.port, cfg.hz), (6380, 20));
        // A list in one argument is split again.
        let cfg = Config::from_args(&strings(&["--bind", "* -::*"])).unwrap();
        assert_eq!(get1(&cfg, "bind"), "* -::*");
        assert!(cfg.bind.iter().all(|b| b.wildcard && b.ip.is_unspecified()));
    }

    #[test]
    fn args_errors() {
        let err = |list: &[&str]| Config::from_args(&strings(list)).unwrap_err().to_string();
        let integer = "argument couldn't be parsed into an integer";
        assert_eq!(
            err(&["--port", "abc"]),
            args_error(r#"port "abc""#, integer)
        );
        assert_eq!(
            err(&["--port 70000"]),
            args_error(
                r#"port "70000""#,
                "argument must be between 0 and 65535 inclusive"
            )
        );
        let bad = "Bad directive or wrong number of arguments";
        assert_eq!(err(&["--nosuch", "1"]), args_error(r#"nosuch "1""#, bad));
        assert_eq!(err(&["-x"]), args_error("-x", bad));
        assert_eq!(err(&["--"]), args_error("--", bad));
        assert_eq!(
            err(&["--port"]),
            args_error("port", "wrong number of arguments")
        );
        assert_eq!(
            err(&["--port", "1", "2"]),
            args_error(r#"port "1" "2""#, "wrong number of arguments")
        );
        assert!(err(&["--daemonize", "yes"]).ends_with("ringcache does not fork: run it in the foreground under a supervisor (systemd, a container runtime) instead of 'daemonize yes'"));
        assert!(err(&["--appendonly", "yes"])
            .ends_with("persistence is not built yet: ringcache accepts only 'appendonly no'"));
        assert!(err(&["--save", "900 1"])
            .ends_with("snapshots are not built yet: ringcache accepts only 'save \"\"'"));
        assert_eq!(
            err(&["/nonexistent/ringcache.conf"]),
            "Fatal error, can't open config file '/nonexistent/ringcache.conf': No such file or directory"
        );
    }

    #[test]
    fn file_then_args() {
        let tmp = TempDir::new("args");
        let file = tmp.file(
            "ringcache.conf",
            "port 7000\nmaxmemory 1mb\nloglevel debug\n",
        );
        let cfg = Config::from_args(&[
            file.to_string_lossy().into_owned(),
            "--port".into(),
            "7001".into(),
        ])
        .unwrap();
        assert_eq!(
            (cfg.port, cfg.maxmemory, cfg.loglevel),
            (7001, 1 << 20, LogLevel::Debug)
        );
        assert_eq!(cfg.config_file.as_deref(), Some(file.as_path()));
    }

    #[test]
    fn file_syntax() {
        let cfg = load(concat!(
            "# a comment\n",
            "\n",
            "   # an indented comment\n",
            "PORT 7000\r\n",
            "\tport 7002   \n",
            "requirepass \"pa ss\\\"word\"\n",
            "logfile '/var/log/ringcache.log'\n",
            "MAXMEMORY-POLICY Allkeys-LFU\n",
            "bind \"127.0.0.1 ::1\"\n",
            "maxmemory 1GB\n",
            "hz 1000\n",
            "cpus 0-2,5\n",
            "shards 4\n",
            "save \"\"\n",
            "appendonly no\n",
            "daemonize no\n",
            "enable-debug-command local\n",
        ))
        .unwrap();
        assert_eq!(cfg.port, 7002, "the last line wins");
        assert_eq!(cfg.requirepass, "pa ss\"word");
        assert_eq!(cfg.logfile, Some(PathBuf::from("/var/log/ringcache.log")));
        assert_eq!(cfg.maxmemory_policy, EvictionPolicy::AllkeysLfu);
        assert_eq!(get1(&cfg, "bind"), "127.0.0.1 ::1");
        assert_eq!(cfg.maxmemory, 1 << 30);
        assert_eq!(cfg.hz, 500, "clamped like Redis");
        assert_eq!(
            (cfg.cpus.clone(), get1(&cfg, "cpus")),
            (vec![0, 1, 2, 5], "0-2,5".into())
        );
        assert_eq!(cfg.shards, 4);
        assert_eq!(cfg.enable_debug_command, DebugCommand::Local);
        assert_eq!(load("hz 0").unwrap().hz, 1);
        assert_eq!(load("bind \"\"").unwrap().bind, vec![]);
        assert_eq!(load("bind \"\"").unwrap().listen_addrs().len(), 2);
        assert_eq!(path_text(&load("dir .").unwrap().dir), cwd());
    }

    #[test]
    fn file_errors() {
        let text = "# comment\nport 7000\nnosuch-directive yes\n";
        let bad = "Bad directive or wrong number of arguments";
        assert_eq!(
            load(text).unwrap_err(),
            file_error(3, "nosuch-directive yes", bad)
        );
        let cases: &[(&str, &str)] = &[
            ("maxmemory 10zb", "argument must be a memory value"),
            ("maxmemory -1", "argument must be a memory value"),
            ("proto-max-bulk-len 1kb", "argument must be between 1048576 and 9223372036854775807 inclusive"),
            ("port 1 2", "wrong number of arguments"),
            ("port", "wrong number of arguments"),
            ("port 70000", "argument must be between 0 and 65535 inclusive"),
            ("timeout soon", "argument couldn't be parsed into an integer"),
            ("protected-mode maybe", "argument must be 'yes' or 'no'"),
            ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning"),
            ("requirepass \"abc", "Unbalanced quotes in configuration line"),
            ("requirepass \"\\xff\"", "argument must be valid UTF-8"),
            ("appendonly maybe", "argument must be 'yes' or 'no'"),
            ("appendonly yes", "persistence is not built yet: ringcache accepts only 'appendonly no'"),
            ("save 900 1", "snapshots are not built yet: ringcache accepts only 'save \"\"'"),
            ("bind 1.2.3.999", "invalid bind address '1.2.3.999': expected an IPv4 or IPv6 address, '*' or '::*', optionally prefixed with '-'"),
            ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
            ("include a b", bad),
        ];
        for &(line, reason) in cases {
            assert_eq!(
                load(line).unwrap_err(),
                file_error(1, line, reason),
                "{line}"
            );
        }
        assert!(load("cpus 3-1").unwrap_err().contains("runs backwards"));
        assert_eq!(
            load("dir \"\"").unwrap_err(),
            file_error(1, "dir \"\"", "argument must be a directory path")
        );
    }

    #[test]
    fn includes() {
        let tmp = TempDir::new("include");
        tmp.file("conf.d/10-port.conf", "port 7100\n");
        tmp.file("conf.d/20-port.conf", "port 7200\nmaxmemory 5mb\n");
        tmp.file("conf.d/skipped.txt", "nonsense\n");
        let base = tmp.file("base.conf", "loglevel warning\n");
        let main = tmp.file(
            "main.conf",
            &format!(
                "include {}\ninclude {}/conf.d/*.conf\ninclude {}/empty.d/*.conf\nhz 20\n",
                base.display(),
                tmp.0.display(),
                tmp.0.display()
            ),
        );
        let cfg = Config::from_args(&[main.to_string_lossy().into_owned()]).unwrap();
        assert_eq!(
            (cfg.loglevel, cfg.port, cfg.maxmemory, cfg.hz),
            (LogLevel::Warning, 7200, 5 << 20, 20)
        );

        let broken = tmp.file("broken.conf", "\nport x\n");
        let main = tmp.file("main2.conf", &format!("include {}\n", broken.display()));
        let err = Config::from_args(&[main.to_string_lossy().into_owned()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "\n*** FATAL CONFIG FILE ERROR (ringcache) ***\n\
                 Reading the included configuration file {}, at line 2\n>>> 'port x'\n\
                 argument couldn't be parsed into an integer",
                broken.display()
            )
        );

        let selfish = tmp.0.join("self.conf");
        fs::write(&selfish, format!("include {}\n", selfish.display())).unwrap();
        let err = Config::from_args(&[selfish.to_string_lossy().into_owned()]).unwrap_err();
        assert!(err
            .to_string()
            .ends_with("include nesting is too deep (does a file include itself?)"));
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
            strings(&["maxmemory", "maxmemory-policy", "maxmemory-samples"])
        );
        assert_eq!(
            names(&["MAXMEMORY-*"]),
            strings(&["maxmemory-policy", "maxmemory-samples"])
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

    #[test]
    fn rewrite_keeps_the_file_shape() {
        let tmp = TempDir::new("rewrite");
        let text = concat!(
            "# ringcache test config\n",
            "port 7000\n",
            "\n",
            "# memory\n",
            "maxmemory 1mb\n",
            "\n",
            "\n",
            "MAXMEMORY 2mb\n",
            "# end\n",
        );
        let path = tmp.file("ringcache.conf", text);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let mut cfg = Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
        assert_eq!(cfg.maxmemory, 2 << 20);
        set(
            &mut cfg,
            &[
                ("maxmemory", "3mb"),
                ("loglevel", "warning"),
                ("requirepass", "p w\""),
            ],
        )
        .unwrap();
        cfg.rewrite(cfg.config_file.as_deref()).unwrap();
        let want = format!(
            "# ringcache test config\nport 7000\n\n# memory\nmaxmemory 3mb\n\n# end\n\
             # Generated by CONFIG REWRITE\nrequirepass \"p w\\\"\"\nloglevel warning\ndir \"{}\"\n",
            cwd()
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), want);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "keeps the mode: the file holds requirepass");
        let left: Vec<_> = fs::read_dir(&tmp.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from("ringcache.conf")],
            "no temporary file left"
        );
        // The rewritten file loads back to the same configuration, and a
        // second rewrite changes nothing (the signature is not repeated).
        let again = Config::from_args(&[path.to_string_lossy().into_owned()]).unwrap();
        assert_eq!(again, cfg);
        again.rewrite(again.config_file.as_deref()).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), want);
    }

    #[test]
    fn rewrite_edge_cases() {
        let cfg = Config::default();
        assert_eq!(
            cfg.rewrite(None).unwrap_err().to_string(),
            "ERR The server is running without a config file"
        );
        // Lines it no longer understands become comments; includes stay.
        let old = b"nosuch 1\ninclude /etc/other.conf\n'unbalanced\nhz 10\n";
        let out = String::from_utf8(cfg.rewritten(old)).unwrap();
        let want = format!(
            "# ??? nosuch 1\ninclude /etc/other.conf\n# ??? 'unbalanced\nhz 10\n\
             # Generated by CONFIG REWRITE\ndir \"{}\"\n",
            cwd()
        );
        assert_eq!(out, want);
        // A missing file is created; memory values get Redis's units.
        let tmp = TempDir::new("rewrite-new");
        let path = tmp.0.join("new.conf");
        let mut cfg = Config::default();
        set(
            &mut cfg,
            &[
                ("maxmemory", "1073741824"),
                ("proto-max-bulk-len", "1000000000"),
            ],
        )
        .unwrap();
        cfg.rewrite(Some(&path)).unwrap();
        let want = format!(
            "# Generated by CONFIG REWRITE\nproto-max-bulk-len 1000000000\nmaxmemory 1gb\ndir \"{}\"\n",
            cwd()
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), want);
        let err = cfg
            .rewrite(Some(Path::new("/nonexistent-dir/x.conf")))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ERR Rewriting config file: No such file or directory"
        );
    }

    #[test]
    fn early_flags() {
        assert_eq!(early_flag(&strings(&["-v"])), Some(EarlyFlag::Version));
        assert_eq!(
            early_flag(&strings(&["--version"])),
            Some(EarlyFlag::Version)
        );
        assert_eq!(early_flag(&strings(&["-h"])), Some(EarlyFlag::Help));
        assert_eq!(early_flag(&strings(&["--help"])), Some(EarlyFlag::Help));
        assert_eq!(
            early_flag(&strings(&["x.conf", "--check"])),
            Some(EarlyFlag::Check)
        );
        assert_eq!(early_flag(&strings(&["--port", "1"])), None);
        assert_eq!(early_flag(&strings(&["--port", "1", "--version"])), None);
    }

    #[test]
    fn errors_become_command_errors() {
        let e: engine::CmdError = ConfigError::UnknownOption("x".into()).into();
        assert_eq!(
            e.to_string(),
            "ERR Unknown option or number of arguments for CONFIG SET - 'x'"
        );
    }
}
