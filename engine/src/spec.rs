//! The command table: one declarative line per command (name, arity, flags,
//! key positions, ACL categories, how it is routed and what runs it), from
//! which COMMAND, arity errors and key routing all derive. Each family file
//! ends with its own table; `Registry` joins them and resolves a name once.

use crate::args::Args;
use crate::error::CmdResult;
use crate::reply::Out;
use crate::shard::Ctx;

pub type Handler = fn(&mut Ctx, &Args, &mut Out) -> CmdResult;

/// How a merged reply is assembled from each shard's part.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Merge {
    /// Every part is `+OK` (or the first error wins).
    AllOk,
    /// Parts are integers, summed.
    SumInt,
    /// Parts are arrays, concatenated.
    Concat,
    /// Parts are arrays holding one reply per key, put back in key order.
    ByKey,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Route {
    /// Needs the connection or the whole server: the network layer runs it.
    Conn,
    /// Touches no key: runs on the connection's home shard.
    Local,
    /// All keys must live on one shard (else CROSSSLOT): runs there.
    Keyed,
    /// Keys may span shards: split per shard, run each part there, merge.
    Split(Merge),
    /// Runs on every shard, parts merged.
    AllShards(Merge),
    /// SCAN: runs on the shard its cursor names (the handler serves one shard).
    Cursor,
    /// RANDOMKEY: runs on a random shard that has keys (the handler serves one shard).
    AnyShard,
}

#[derive(Clone, Copy)]
pub enum Exec {
    Shard(Handler),
    /// Run by the network layer; the number is its own id for the command.
    Conn(u16),
}

pub struct CommandSpec {
    /// Lowercase, as COMMAND reports it.
    pub name: &'static str,
    /// Redis arity: N means exactly N arguments (name included), -N at least N.
    pub arity: i32,
    /// Space separated Redis command flags (write readonly denyoom fast ...).
    pub flags: &'static str,
    /// Key positions: first, last (-1 = last argument), step; 0,0,0 = no keys.
    pub keys: (i32, i32, i32),
    /// Space separated ACL categories without the '@'.
    pub acl: &'static str,
    pub route: Route,
    pub exec: Exec,
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    /// Lowercase subcommand names, for COMMAND output (`container|sub`).
    pub subcommands: &'static [&'static str],
}

impl CommandSpec {
    /// Fields a table line leaves out: `CommandSpec { name: .., ..CommandSpec::DEFAULT }`.
    pub const DEFAULT: CommandSpec = CommandSpec {
        name: "",
        arity: 1,
        flags: "",
        keys: (0, 0, 0),
        acl: "",
        route: Route::Local,
        exec: Exec::Conn(u16::MAX),
        group: "generic",
        summary: "",
        since: "1.0.0",
        subcommands: &[],
    };
}

pub const FLAG_WRITE: u32 = 1;
pub const FLAG_READONLY: u32 = 2;
pub const FLAG_DENYOOM: u32 = 4;
pub const FLAG_NOAUTH: u32 = 8;
pub const FLAG_FAST: u32 = 16;
pub const FLAG_ADMIN: u32 = 32;

impl CommandSpec {
    pub fn flag_bits(&self) -> u32 {
        self.flags.split_whitespace().fold(0, |bits, f| {
            bits | match f {
                "write" => FLAG_WRITE,
                "readonly" => FLAG_READONLY,
                "denyoom" => FLAG_DENYOOM,
                "no_auth" => FLAG_NOAUTH,
                "fast" => FLAG_FAST,
                "admin" => FLAG_ADMIN,
                _ => 0,
            }
        })
    }

    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    /// Positions of the keys in a command with `argc` arguments.
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, last, step) = self.keys;
        let argc = argc as i32;
        let (first, end, step) = if first <= 0 || first >= argc {
            (0, 0, 1)
        } else {
            let last = if last < 0 {
                argc + last
            } else {
                last.min(argc - 1)
            };
            (first, last + 1, step.max(1))
        };
        (first..end).step_by(step as usize).map(|i| i as usize)
    }
}

/// Every command, and a name → index map built once per shard.
///
/// A name is resolved for every command a client sends, so the map is an
/// open-addressed table of indexes keyed by a case-blind hash of the name:
/// no lowercased copy, one probe and a case-blind compare for a known
/// command (a general hash map cost 2.5% of a pipelined GET's server CPU).
pub struct Registry {
    specs: Vec<&'static CommandSpec>,
    flags: Vec<u32>,
    /// Index + 1 of the command whose name hashes to each slot (0: empty),
    /// probed linearly; the length is a power of two, at least four times
    /// the number of commands.
    by_name: Vec<u16>,
}

/// A hash of `name` that ignores ASCII case (FNV-1a over each byte with the
/// case bit set: a name and its case variants differ only in that bit).
fn name_hash(name: &[u8]) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for &b in name {
        h = (h ^ (b | 0x20) as u32).wrapping_mul(0x0100_0193);
    }
    (h ^ (h >> 15)) as usize
}

impl Registry {
    pub fn new(tables: &[&'static [CommandSpec]]) -> Self {
        let specs: Vec<&'static CommandSpec> = tables.iter().flat_map(|t| t.iter()).collect();
        let flags = specs.iter().map(|s| s.flag_bits()).collect();
        let mut by_name = vec![0u16; (specs.len() * 4).next_power_of_two()];
        let mask = by_name.len() - 1;
        for (i, s) in specs.iter().enumerate() {
            let mut at = name_hash(s.name.as_bytes()) & mask;
            while by_name[at] != 0 {
                let other = specs[by_name[at] as usize - 1].name;
                assert!(
                    !other.eq_ignore_ascii_case(s.name),
                    "command {} declared twice",
                    s.name
                );
                at = (at + 1) & mask;
            }
            by_name[at] = i as u16 + 1;
        }
        Registry {
            specs,
            flags,
            by_name,
        }
    }

    /// Resolves a command name (any case) to its index.
    pub fn lookup(&self, name: &[u8]) -> Option<u16> {
        let mask = self.by_name.len() - 1;
        let mut at = name_hash(name) & mask;
        loop {
            let id = self.by_name[at].checked_sub(1)?;
            if self.specs[id as usize]
                .name
                .as_bytes()
                .eq_ignore_ascii_case(name)
            {
                return Some(id);
            }
            at = (at + 1) & mask;
        }
    }

    pub fn spec(&self, id: u16) -> &'static CommandSpec {
        self.specs[id as usize]
    }

    pub fn flags(&self, id: u16) -> u32 {
        self.flags[id as usize]
    }

    pub fn len(&self) -> usize {
        self.specs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static CommandSpec> + '_ {
        self.specs.iter().copied()
    }
}
