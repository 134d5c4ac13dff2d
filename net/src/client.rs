//! The clients a shard owns: what CLIENT LIST shows and CLIENT KILL closes.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReplyMode {
    On,
    Off,
    /// Set by CLIENT REPLY SKIP: becomes `Skip` once that command is done.
    SkipNext,
    /// The current command's reply is dropped.
    Skip,
}

pub struct ClientInfo {
    pub id: u64,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Option<String>,
    pub db: usize,
    pub resp: u8,
    pub created: Instant,
    /// When the client last sent something (Unix ms, the shard's batch clock).
    pub last_active_ms: u64,
    pub last_cmd: &'static str,
    pub qbuf: usize,
    pub no_evict: bool,
    pub killed: bool,
}

impl ClientInfo {
    /// One CLIENT LIST / CLIENT INFO line, fields as Redis 7.0 prints them.
    pub fn line(&self) -> String {
        let now = Instant::now();
        let flags = if self.no_evict { "e" } else { "N" };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi=-1 \
             qbuf={} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 \
             events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            self.name.as_deref().unwrap_or(""),
            now.duration_since(self.created).as_secs(),
            crate::shard::unix_ms().saturating_sub(self.last_active_ms) / 1000,
            flags,
            self.db,
            self.qbuf,
            if self.last_cmd.is_empty() { "NULL" } else { &self.last_cmd },
            self.resp
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub ids: Option<Vec<u64>>,
    /// Only "normal" clients exist; other types list nothing.
    pub other_type: bool,
}

#[derive(Clone, Debug, Default)]
pub struct KillFilter {
    pub id: Option<u64>,
    pub addr: Option<String>,
    pub laddr: Option<String>,
    pub skip_id: Option<u64>,
    /// A TYPE other than normal, or a USER other than default: matches nobody.
    pub none: bool,
}

pub struct Clients {
    map: BTreeMap<u64, Rc<RefCell<ClientInfo>>>,
    next_seq: u64,
    shard: u64,
    nshards: u64,
    pub total_received: u64,
    pub rejected: u64,
}

impl Clients {
    pub fn new(shard: usize, nshards: usize) -> Self {
        Clients {
            map: BTreeMap::new(),
            next_seq: 1,
            shard: shard as u64,
            nshards: nshards as u64,
            total_received: 0,
            rejected: 0,
        }
    }

    /// Registers a new connection; ids are unique across shards (seq × shards + shard).
    pub fn add(&mut self, peer: SocketAddr, local: SocketAddr, fd: i32) -> Rc<RefCell<ClientInfo>> {
        let id = self.next_seq * self.nshards + self.shard;
        self.next_seq += 1;
        self.total_received += 1;
        let now = Instant::now();
        let info = Rc::new(RefCell::new(ClientInfo {
            id,
            addr: peer.to_string(),
            laddr: local.to_string(),
            fd,
            name: None,
            db: 0,
            resp: 2,
            created: now,
            last_active_ms: crate::shard::unix_ms(),
            last_cmd: "",
            qbuf: 0,
            no_evict: false,
            killed: false,
        }));
        self.map.insert(id, info.clone());
        info
    }

    pub fn remove(&mut self, id: u64) {
        self.map.remove(&id);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn list(&self, filter: &ListFilter) -> String {
        if filter.other_type {
            return String::new();
        }
        let mut out = String::new();
        for (id, c) in &self.map {
            if filter.ids.as_ref().is_some_and(|ids| !ids.contains(id)) {
                continue;
            }
            out.push_str(&c.borrow().line());
            out.push('\n');
        }
        out
    }

    /// Marks matching clients killed and shuts their sockets so a pending
    /// read wakes and the connection task ends. The client asking (`asker`)
    /// is only marked: its connection sends this reply first, then closes.
    pub fn kill(&self, f: &KillFilter, asker: Option<u64>) -> i64 {
        if f.none {
            return 0;
        }
        let mut n = 0;
        for (id, c) in &self.map {
            let mut c = c.borrow_mut();
            let hit = f.id.is_none_or(|x| x == *id)
                && f.addr.as_ref().is_none_or(|a| *a == c.addr)
                && f.laddr.as_ref().is_none_or(|a| *a == c.laddr)
                && f.skip_id != Some(*id);
            if hit && !c.killed {
                c.killed = true;
                if asker == Some(*id) {
                    n += 1;
                    continue;
                }
                shut(c.fd);
                n += 1;
            }
        }
        n
    }
}

impl Clients {
    /// Closes every client idle for more than `limit_ms` (Redis's `timeout`).
    pub fn close_idle(&self, now_ms: u64, limit_ms: u64) {
        for c in self.map.values() {
            let mut c = c.borrow_mut();
            if !c.killed && now_ms.saturating_sub(c.last_active_ms) > limit_ms {
                c.killed = true;
                shut(c.fd);
            }
        }
    }
}

/// Ends a connection's I/O: its pending receive completes with 0 and its
/// task closes the socket.
fn shut(fd: i32) {
    // SAFETY: fd belongs to a live connection of this shard (the connection
    // task closes it only after removing the client from the map).
    unsafe { libc::shutdown(fd, libc::SHUT_RDWR) };
}
