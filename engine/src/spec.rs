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
    /// For a command whose keys are counted by an argument (SINTERCARD
    /// numkeys key ...): that argument's position; the keys follow it.
    /// 0: none (`keys` says where they are).
    pub numkeys: u8,
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
        numkeys: 0,
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

    /// Positions of the keys in `args`: those `key_positions` gives, then
    /// for a command with `numkeys` as many as that argument says (none
    /// when it is not a positive integer: the command refuses it anyway).
    /// ZUNIONSTORE has both: its destination, then the counted keys.
    pub fn key_positions_in(&self, args: &Args) -> impl Iterator<Item = usize> {
        let (first, end, step) = self.key_range(args.len());
        let counted = if self.numkeys > 0 {
            let at = self.numkeys as usize;
            let n = args
                .arg(at)
                .and_then(crate::value::parse_i64)
                .filter(|&n| n > 0)
                .unwrap_or(0) as usize;
            let first = at + 1;
            first..first.saturating_add(n).min(args.len()).max(first)
        } else {
            0..0
        };
        (first..end).step_by(step).chain(counted)
    }

    /// Positions of the keys in a command with `argc` arguments, as `keys`
    /// gives them (for a `numkeys` command, not the counted ones: see `key_positions_in`).
    pub fn key_positions(&self, argc: usize) -> impl Iterator<Item = usize> {
        let (first, end, step) = self.key_range(argc);
        (first..end).step_by(step)
    }

    /// `keys` as a range over `argc` arguments: (first, end, step).
    fn key_range(&self, argc: usize) -> (usize, usize, usize) {
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
        (first as usize, end as usize, step as usize)
    }
}

/// Every command, and a name → index map built once per shard.
///
/// A name is resolved for every command a client sends, so the map is an
/// open-addressed table keyed by the name lowercased a word at a time: one
/// multiply to hash it, and one to three word compares for a known command
/// (a general hash map, which wants a lowercased copy and hashes a byte at a
/// time, cost 2.5% of a pipelined GET's server CPU).
pub struct Registry {
    specs: Vec<&'static CommandSpec>,
    flags: Vec<u32>,
    /// Probed linearly; a power of two long, at least twice the commands.
    by_name: Vec<NameSlot>,
}

/// The longest name `Registry` resolves: three words.
const MAX_NAME: usize = 24;

#[derive(Clone, Copy, Default)]
struct NameSlot {
    /// The name, lowercased, zero-padded, as little-endian words.
    words: [u64; 3],
    len: u8,
    /// Index + 1 of the command (0: empty).
    id: u16,
}

/// `name` lowercased into words, or `None` when no command could have it
/// (longer than MAX_NAME or not ASCII).
#[inline]
fn name_words(name: &[u8]) -> Option<[u64; 3]> {
    if name.len() > MAX_NAME {
        return None;
    }
    // Built in registers: bytes copied to the stack and read back as words
    // stall the read behind the byte stores (28% of the lookup's samples).
    let mut words = [0u64; 3];
    for (i, &b) in name.iter().enumerate() {
        words[i / 8] |= u64::from(b) << (8 * (i % 8));
    }
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if (words[0] | words[1] | words[2]) & HIGH != 0 {
        return None;
    }
    // Per byte (all below 0x80, so no carry crosses bytes): the high bit of
    // b + 0x3F is set from 'A' up, that of b + 0x25 from '[' up; where only
    // the first is, the byte is a capital, and 0x20 makes it small.
    Some(words.map(|w| {
        let upper = (w + 0x3F3F_3F3F_3F3F_3F3F) & !(w + 0x2525_2525_2525_2525) & HIGH;
        w | (upper >> 2)
    }))
}

fn name_hash(words: &[u64; 3], len: usize) -> usize {
    let mixed = words[0] ^ words[1].rotate_left(21) ^ words[2].rotate_left(42) ^ len as u64;
    (mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize
}

/// Where the name `words` (`len` bytes) sits in `table`, or the empty slot
/// that ends its probe.
#[inline]
fn slot_for(table: &[NameSlot], words: &[u64; 3], len: usize) -> usize {
    let mask = table.len() - 1;
    let mut at = name_hash(words, len) & mask;
    loop {
        let slot = &table[at];
        // Word by word: a 16-byte compare of words just built in registers
        // makes the compiler store them and stall reloading.
        let differ =
            (slot.words[0] ^ words[0]) | (slot.words[1] ^ words[1]) | (slot.words[2] ^ words[2]);
        if slot.id == 0 || (differ == 0 && slot.len as usize == len) {
            return at;
        }
        at = (at + 1) & mask;
    }
}

impl Registry {
    pub fn new(tables: &[&'static [CommandSpec]]) -> Self {
        let specs: Vec<&'static CommandSpec> = tables.iter().flat_map(|t| t.iter()).collect();
        let flags = specs.iter().map(|s| s.flag_bits()).collect();
        let mut by_name = vec![NameSlot::default(); (specs.len() * 2).next_power_of_two()];
        for (i, s) in specs.iter().enumerate() {
            let name = s.name.as_bytes();
            let words = name_words(name).expect("command names are short and ASCII");
            let at = slot_for(&by_name, &words, name.len());
            assert!(by_name[at].id == 0, "command {} declared twice", s.name);
            by_name[at] = NameSlot {
                words,
                len: name.len() as u8,
                id: i as u16 + 1,
            };
        }
        Registry {
            specs,
            flags,
            by_name,
        }
    }

    /// Resolves a command name (any case) to its index.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<u16> {
        let words = name_words(name)?;
        let slot = &self.by_name[slot_for(&self.by_name, &words, name.len())];
        slot.id.checked_sub(1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased_a_word_at_a_time_exactly_as_bytewise() {
        for b in 0u8..0x80 {
            // Every ASCII byte, in each position of each word.
            for at in [0, 7, 8, 15, 16, 23] {
                let mut name = [b'x'; 24];
                name[at] = b;
                let mut want = [0u64; 3];
                for (w, chunk) in want.iter_mut().zip(name.to_ascii_lowercase().chunks(8)) {
                    *w = u64::from_le_bytes(chunk.try_into().unwrap());
                }
                assert_eq!(name_words(&name), Some(want), "byte {b:#x} at {at}");
            }
        }
        assert_eq!(name_words(b"g\xc5t"), None, "not ASCII: no command");
        assert_eq!(name_words(&[b'a'; MAX_NAME + 1]), None);
        assert_eq!(name_words(b""), Some([0; 3]));
    }
}
