//! Cross-shard messages and the merging of replies that come back.
//!
//! A connection's home shard sends one `Request` per destination shard per
//! read (a batch of commands), or one per shard for a fan-out; the owner runs
//! it and answers with a `Response`. Messages are typed data; arguments are
//! copied once, when they hop.
//!
//! The shards' mailboxes (`post`) carry them; a mailbox never fills, so a
//! shard sending a response never waits on a peer that is itself sending one.

use engine::spec::Merge;
use engine::{Args, Out, OwnedArgs};

/// One command for another shard, as the home shard resolved it; its
/// arguments are the next `nargs` in its batch's buffer.
pub struct RemoteCmd {
    pub id: u16,
    pub db: u8,
    pub resp3: bool,
    pub nargs: u32,
}

/// Commands for one shard, their arguments copied back to back into one
/// buffer, with the buffers their replies are to be written into. The owner
/// sends the whole batch back emptied with the replies (`Reply::Exec`), and
/// a connection keeps it for its next hop to that shard: once a connection
/// has made a round trip, a hop allocates nothing on either shard. The
/// buffers are sized for a pipeline's worth up front, so they rarely grow.
/// Commands a batch has room for from the start: a 16-deep pipeline's.
pub const BATCH_CMDS: usize = 16;

#[derive(Default)]
pub struct Remote {
    args: OwnedArgs,
    cmds: Vec<RemoteCmd>,
    /// Where the owner writes the replies, and where each ends.
    pub reply: Vec<u8>,
    pub ends: Vec<u32>,
}

impl Remote {
    pub fn one(id: u16, db: usize, resp3: bool, args: &Args) -> Remote {
        let mut e = Remote::default();
        e.push(id, db, resp3, args.iter());
        e
    }

    pub fn push<'a>(
        &mut self,
        id: u16,
        db: usize,
        resp3: bool,
        args: impl Iterator<Item = &'a [u8]>,
    ) {
        if self.cmds.is_empty() {
            self.cmds.reserve(BATCH_CMDS);
            self.args.spans.reserve(BATCH_CMDS * 2);
            self.args.buf.reserve(BATCH_CMDS * 32);
        }
        let before = self.args.spans.len();
        args.for_each(|a| self.args.push(a));
        self.cmds.push(RemoteCmd {
            id,
            db: db as u8,
            resp3,
            nargs: (self.args.spans.len() - before) as u32,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.cmds.is_empty()
    }

    /// Forgets the commands, keeping the buffers' memory.
    pub fn clear(&mut self) {
        self.args.buf.clear();
        self.args.spans.clear();
        self.cmds.clear();
    }

    pub fn len(&self) -> usize {
        self.cmds.len()
    }

    /// Each command with its arguments, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&RemoteCmd, Args<'_>)> {
        let mut at = 0;
        self.cmds.iter().map(move |c| {
            let spans = &self.args.spans[at..at + c.nargs as usize];
            at += c.nargs as usize;
            (c, Args::new(&self.args.buf, spans))
        })
    }
}

pub enum Op {
    /// Run these commands in order; reply with their encoded replies.
    Exec(Remote),
    /// This shard's counters for INFO.
    Stats,
    /// This shard's CLIENT LIST lines matching the filter.
    ClientList(crate::client::ListFilter),
    /// Close this shard's clients matching the filter (the asking client,
    /// by id, closes after its reply); reply with how many.
    ClientKill(crate::client::KillFilter, u64),
    /// One SCAN step over this shard's part of database `db`.
    Scan {
        db: u8,
        pos: u64,
        count: usize,
        pattern: Option<Vec<u8>>,
        type_filter: Option<Vec<u8>>,
    },
    /// A random key of database `db`, if it has any.
    RandomKey { db: u8 },
    /// Apply changed settings (CONFIG SET, DEBUG SET-ACTIVE-EXPIRE).
    Configure(crate::shard::Setting),
    /// CONFIG RESETSTAT.
    ResetStats,
    /// What this shard holds and has evicted, for the budget rebalancer.
    MemReport,
    /// This shard's new share of `maxmemory`.
    Budget(u64),
    /// MEMORY USAGE of a key of database `db` (Count, or -1 when absent).
    MemoryUsage { db: u8, key: Vec<u8> },
}

pub struct Request {
    pub id: u64,
    pub op: Op,
}

pub enum Reply {
    /// Encoded replies back to back; `ends[i]` is where reply i ends; and
    /// the batch they answer, emptied, for its buffers to be used again.
    Exec {
        out: Vec<u8>,
        ends: Vec<u32>,
        spent: Remote,
    },
    Stats(Box<crate::info::ShardStats>),
    Text(String),
    Count(i64),
    Scan {
        keys: Vec<Vec<u8>>,
        next: u64,
    },
    Key(Option<Vec<u8>>),
    Mem(crate::memory::MemReport),
    Done,
}

/// Merges the per-shard parts of one command's reply into `out`.
/// A part that is an error wins (the first one, in shard order).
pub fn merge(merge: Merge, parts: &[&[u8]], keys_per_part: &[Vec<usize>], out: &mut Out) {
    if let Some(err) = parts.iter().find(|p| p.first() == Some(&b'-')) {
        out.raw(err);
        return;
    }
    match merge {
        Merge::AllOk => out.ok(),
        Merge::SumInt => out.int(parts.iter().map(|p| read_int(p)).sum()),
        Merge::Concat => {
            let elems: Vec<&[u8]> = parts.iter().flat_map(|p| array_elements(p)).collect();
            out.array(elems.len());
            elems.iter().for_each(|e| out.raw(e));
        }
        Merge::ByKey => {
            let total: usize = keys_per_part.iter().map(|k| k.len()).sum();
            let mut slots: Vec<&[u8]> = vec![&[]; total];
            for (part, positions) in parts.iter().zip(keys_per_part) {
                for (elem, &pos) in array_elements(part).into_iter().zip(positions) {
                    slots[pos] = elem;
                }
            }
            out.array(total);
            slots.iter().for_each(|e| out.raw(e));
        }
    }
}

fn header(b: &[u8]) -> (i64, usize) {
    let end = b.windows(2).position(|w| w == b"\r\n").unwrap_or(b.len());
    let n = std::str::from_utf8(&b[1..end])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (n, end + 2)
}

fn read_int(b: &[u8]) -> i64 {
    header(b).0
}

/// The length of the encoded reply at the front of `b` (any RESP2/3 type).
fn element_len(b: &[u8]) -> usize {
    let (n, hdr) = header(b);
    match b[0] {
        b'$' | b'=' | b'!' if n >= 0 => hdr + n as usize + 2,
        b'*' | b'~' | b'%' | b'>' if n > 0 => {
            let count = if b[0] == b'%' { 2 * n } else { n };
            let mut used = hdr;
            for _ in 0..count {
                used += element_len(&b[used..]);
            }
            used
        }
        _ => hdr,
    }
}

/// The encoded elements of an array reply.
fn array_elements(b: &[u8]) -> Vec<&[u8]> {
    let (n, mut used) = header(b);
    let mut elems = Vec::with_capacity(n.max(0) as usize);
    for _ in 0..n.max(0) {
        let len = element_len(&b[used..]);
        elems.push(&b[used..used + len]);
        used += len;
    }
    elems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_in_key_order_and_sums() {
        let mut out = Out::new(false);
        let a: &[u8] = b"*2\r\n$1\r\na\r\n$-1\r\n";
        let b: &[u8] = b"*1\r\n$2\r\nbb\r\n";
        merge(Merge::ByKey, &[a, b], &[vec![0, 2], vec![1]], &mut out);
        assert_eq!(out.buf, b"*3\r\n$1\r\na\r\n$2\r\nbb\r\n$-1\r\n");
        let mut out = Out::new(false);
        merge(Merge::SumInt, &[b":2\r\n", b":3\r\n"], &[], &mut out);
        assert_eq!(out.buf, b":5\r\n");
        let mut out = Out::new(false);
        merge(Merge::AllOk, &[b"+OK\r\n", b"-ERR x\r\n"], &[], &mut out);
        assert_eq!(out.buf, b"-ERR x\r\n");
    }
}
