//! The connection loop: read, parse every complete command, route, reply.
//!
//! ```text
//!   read ──► parse pass ──► local key?  run inline, reply into `out`
//!                      └──► remote key? append to that shard's batch, mark `out`
//!            after the pass: one message per destination shard, await them,
//!            splice their replies in at the marks, one write for the whole batch
//! ```
//!
//! Per-shard order is kept (a shard's batch runs in request order), and
//! commands on different shards touch different keys, so they commute. A
//! command that needs the whole server (fan-outs, connection state) first
//! flushes the batch so it sees every earlier write.
//!
//! Memory first: a read holding a pipeline is parsed up to 32 commands ahead
//! of running them (`Ahead`), and their keys' slots and blocks are asked for
//! before the first runs; a ring pass that brings several connections'
//! reads asks for each one's first key before their tasks run
//! (`hint_arrivals`). Either way the cache misses overlap instead of each
//! command waiting for its own.

use crate::client::{ClientInfo, ReplyMode};
use crate::commands::{self, Flow};
use crate::resp::{self, Frame, Limits};
use crate::router::{merge, Op, Remote, Reply};
use crate::shard::ShardState;
use crate::uring::{self, Ring, Sock};
use engine::spec::{Exec, Route, FLAG_NOAUTH};
use engine::{cmd, Args, CmdError, Out, OwnedArgs};
use std::cell::RefCell;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::rc::Rc;

const READ_CHUNK: usize = 16 * 1024;
const KEEP_READ_BUFFER: usize = 256 * 1024;
/// The least room a receive is given: below it, what is left of a command
/// moves to the buffer's front, and if that is not enough the buffer grows.
/// One multishot arrival fits in it.
const MIN_RECV: usize = uring::STREAM_CHUNK;
/// Values sent from their own buffers in one `sendmsg`; each takes up to two
/// iovecs and the kernel takes at most IOV_MAX (1024). A batch with more is
/// copied into one buffer instead.
const MAX_SHARED_PER_SEND: usize = 500;

/// A connection's protocol state.
pub struct Conn {
    pub id: u64,
    pub db: usize,
    pub resp3: bool,
    pub authed: bool,
    pub reply: ReplyMode,
    pub info: Rc<RefCell<ClientInfo>>,
}

/// Commands for other shards gathered during one parse pass.
#[derive(Default)]
pub struct Batch {
    per_shard: Vec<Remote>,
    /// (offset in `out` where the reply goes, shard), in request order.
    marks: Vec<(usize, usize)>,
    /// Where local and remote replies are spliced together (then swapped
    /// with the connection's reply buffer), kept from batch to batch.
    spliced: Vec<u8>,
    /// `flush`'s messages in flight and the replies they brought, by shard:
    /// kept, like the rest, so that a hop allocates nothing.
    pending: Vec<(usize, crate::shard::Pending)>,
    replies: Vec<Option<ShardReplies>>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

/// Serves one accepted socket until it closes; dropping `stream` at the end
/// closes the fd once no operation on it is in flight.
pub async fn serve(state: Rc<ShardState>, stream: TcpStream) {
    let peer = match stream.peer_addr() {
        Ok(p) => p,
        Err(_) => return,
    };
    let local = stream.local_addr().unwrap_or(peer);
    let _ = stream.set_nodelay(true);
    let fd = stream.as_raw_fd();
    let info = state.clients.borrow_mut().add(peer, local, fd);
    let sock = state.ring.register(fd);
    let id = info.borrow().id;
    let requirepass = !state.config.borrow().requirepass.is_empty();
    let mut conn = Conn {
        id,
        db: 0,
        resp3: false,
        authed: !requirepass,
        reply: ReplyMode::On,
        info,
    };
    if protected_refusal(&state, &peer) {
        let msg = PROTECTED_MODE_ERROR.as_bytes().to_vec();
        let _ = state.ring.send(sock, msg, 0).await;
    } else {
        run(&state, sock, &mut conn).await;
    }
    state.ring.release(sock);
    state.clients.borrow_mut().remove(id);
    state
        .shared
        .connected
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    drop(stream);
}

const PROTECTED_MODE_ERROR: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and \
no password is set for the default user. In this mode connections are only accepted from the loopback interface. \
If you want to connect from external computers to Redis you may adopt one of the following solutions: \
1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface \
by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible \
from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable \
the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then \
restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' \
option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things \
in order for the server to start accepting connections from the outside.\r\n";

fn protected_refusal(state: &ShardState, peer: &std::net::SocketAddr) -> bool {
    let config = state.config.borrow();
    config.protected_mode && config.requirepass.is_empty() && !peer.ip().is_loopback()
}

/// The read-execute-reply loop. A batch's reply is queued and goes out in
/// the next ring pass; the loop then waits for what the client sends next
/// (a multishot receive keeps watching the socket, see `uring::Receiver`),
/// and collects the send, long done by then, before that batch writes into
/// `out`.
async fn run(state: &Rc<ShardState>, sock: Sock, conn: &mut Conn) {
    let ring = &*state.ring;
    // Commands are read from `rbuf[start..filled]`; what is before `start`
    // has been run. The unread rest moves to the front only when the room
    // after it runs short: a large value arrives over many receives, and
    // moving its head after each one copied it again and again.
    let mut rbuf = vec![0u8; READ_CHUNK];
    let (mut start, mut filled) = (0, 0);
    let mut spans: Vec<(u32, u32)> = Vec::with_capacity(16);
    let mut scratch = Vec::new();
    let mut ahead = Ahead::default();
    let mut out = Out::new(false);
    let mut batch = Batch::default();
    let mut sending: Option<(uring::Op<'_>, usize)> = None;
    let mut receiver = uring::Receiver::default();
    let mut active_ms = 0;
    loop {
        if rbuf.len() - filled < MIN_RECV {
            if start > 0 {
                rbuf.copy_within(start..filled, 0);
                (start, filled) = (0, filled - start);
            }
            if rbuf.len() - filled < MIN_RECV {
                rbuf.resize(rbuf.len() * 2, 0);
            }
        }
        // Every command read so far has been answered: a client that waits
        // for its answers before sending more has sent nothing yet, so the
        // receive waits for data before it tries to read.
        let expect_empty = sending.is_some() && filled == 0;
        let res = receiver
            .recv(ring, sock, &mut rbuf, filled, expect_empty)
            .await;
        // The reply went out in the pass that queued this receive, so by now
        // it is collected without waiting: the task wakes once per batch.
        if let Some(send) = sending.take() {
            match collect_send(ring, sock, send).await {
                Some(buf) => out.buf = buf,
                None => return,
            }
        }
        if res <= 0 {
            return;
        }
        let n = res as usize;
        filled += n;
        ring.count_active(&mut active_ms);
        let now = ring.now_ms();
        {
            let mut info = conn.info.borrow_mut();
            if info.killed {
                return;
            }
            info.last_active_ms = now;
        }
        let (limits, qbuf_limit) = {
            let c = state.config.borrow();
            (
                Limits {
                    max_bulk_len: c.proto_max_bulk_len,
                    ..Limits::default()
                },
                c.client_query_buffer_limit,
            )
        };
        state.engine.borrow_mut().now_ms = now;
        let mut pos = start;
        let mut flow = Flow::Continue;
        ahead.clear();
        while flow == Flow::Continue {
            // Commands parsed ahead run first, in order.
            if let Some(cmd) = ahead.next() {
                if !cmd.spans.is_empty() {
                    let args = Args::new(&rbuf[cmd.at..filled], cmd.spans);
                    flow = dispatch(state, conn, &args, &mut out, &mut batch).await;
                }
                pos = cmd.at + cmd.used;
                continue;
            }
            match resp::parse_command(&rbuf[pos..filled], &limits, &mut spans, &mut scratch) {
                Ok(None) => break,
                Ok(Some((used, Frame::Multibulk))) if pos + used < filled => {
                    // More commands in this read (a pipeline): parse the
                    // next ones, and start loading their keys' memory so the
                    // cache misses overlap. A lone command skips this (the
                    // arrival hint covers it).
                    ahead.fill(
                        state,
                        conn.db,
                        &rbuf[..filled],
                        Parsed {
                            at: pos,
                            used,
                            spans: &spans,
                        },
                        &limits,
                    );
                }
                Ok(Some((used, frame))) => {
                    let args = match frame {
                        Frame::Multibulk => Args::new(&rbuf[pos..filled], &spans),
                        Frame::Inline => Args::new(&scratch, &spans),
                    };
                    if !spans.is_empty() {
                        flow = dispatch(state, conn, &args, &mut out, &mut batch).await;
                    }
                    pos += used;
                }
                Err(e) => {
                    flush(state, &mut batch, &mut out).await;
                    // Raw bytes: Redis echoes a non-ASCII byte in "expected '$'" as is.
                    out.buf.push(b'-');
                    e.write_text(&mut out.buf);
                    out.buf.extend_from_slice(b"\r\n");
                    state.engine.borrow_mut().count_error("ERR");
                    flow = Flow::Close;
                }
            }
        }
        flush(state, &mut batch, &mut out).await;
        if pos == filled {
            (start, filled) = (0, 0);
        } else {
            start = pos;
        }
        {
            let mut net = state.net.borrow_mut();
            net.net_input_bytes += n as u64;
            net.net_output_bytes += out.len() as u64;
            net.reads += 1;
            net.writes += !out.is_empty() as u64;
        }
        let unread = filled - start;
        conn.info.borrow_mut().qbuf = unread;
        if !out.is_empty() {
            if out.shared.len() > MAX_SHARED_PER_SEND {
                out.flatten();
            }
            let len = out.len();
            let buf = std::mem::take(&mut out.buf);
            let op = if out.shared.is_empty() {
                ring.send(sock, buf, 0)
            } else {
                ring.send_vectored(sock, buf, std::mem::take(&mut out.shared))
            };
            sending = Some((op, len));
        }
        if flow == Flow::Close || unread as u64 > qbuf_limit || conn.info.borrow().killed {
            if let Some(send) = sending.take() {
                collect_send(ring, sock, send).await;
            }
            return;
        }
        // Keep a buffer grown for large values (a 64 KiB SET needs 128 KiB)
        // rather than grow it again for the next one; give back more than that.
        if filled == 0 && rbuf.len() > KEEP_READ_BUFFER {
            rbuf.truncate(READ_CHUNK);
            rbuf.shrink_to_fit();
        }
    }
}

/// Waits for a reply to be sent whole and returns its buffer, emptied, for
/// the next batch; `None` if the socket failed.
async fn collect_send(
    ring: &Ring,
    sock: Sock,
    (mut op, len): (uring::Op<'_>, usize),
) -> Option<Vec<u8>> {
    let mut sent = 0;
    loop {
        let (res, hold) = op.await;
        let vectored = hold.is_vectored();
        let mut buf = hold.into_buf();
        if res <= 0 {
            return None;
        }
        sent += res as usize;
        if sent < len && vectored {
            // Only an error cuts a MSG_WAITALL sendmsg short: give up.
            return None;
        }
        if sent >= len {
            buf.clear();
            if buf.capacity() > 1 << 20 {
                buf.shrink_to(64 * 1024);
            }
            return Some(buf);
        }
        // With MSG_WAITALL the kernel retries partial sends itself: a short
        // result means the socket failed part way, and this send fails too.
        op = ring.send(sock, buf, sent);
    }
}

/// One command parsed in a read buffer: where it starts, how many bytes it
/// takes, and its arguments' spans (relative to its start).
struct Parsed<'a> {
    at: usize,
    used: usize,
    spans: &'a [(u32, u32)],
}

/// A pipeline's commands parsed ahead of running them, so that their keys'
/// memory can be asked for first; the main loop's parse state is apart
/// (its spans hold the command being run).
#[derive(Default)]
struct Ahead {
    spans: Vec<(u32, u32)>,
    scratch: Vec<u8>,
    /// Each command: where it starts in the read buffer, its length, and
    /// its arguments' spans (relative to its start) in `queued_spans`.
    queued: Vec<(usize, usize, std::ops::Range<usize>)>,
    queued_spans: Vec<(u32, u32)>,
    next: usize,
}

impl Ahead {
    fn clear(&mut self) {
        self.queued.clear();
        self.queued_spans.clear();
        self.next = 0;
    }

    /// The next command parsed ahead.
    fn next(&mut self) -> Option<Parsed<'_>> {
        let (at, used, spans) = self.queued.get(self.next)?.clone();
        self.next += 1;
        Some(Parsed {
            at,
            used,
            spans: &self.queued_spans[spans],
        })
    }

    /// Queues `first` (a multibulk command already parsed) and the complete
    /// multibulk commands after it, `PREFETCH_KEYS` at most, and hints the
    /// table about the first argument of each (the key, for the commands
    /// that have one). An inline command, an incomplete one or an error ends
    /// the run: the main loop parses it itself.
    fn fill(
        &mut self,
        state: &ShardState,
        db: usize,
        buf: &[u8],
        first: Parsed<'_>,
        limits: &Limits,
    ) {
        self.clear();
        let mut at = first.at + first.used;
        self.queue(first);
        let mut spans = std::mem::take(&mut self.spans);
        while self.queued.len() < engine::table::PREFETCH_KEYS {
            match resp::parse_command(&buf[at..], limits, &mut spans, &mut self.scratch) {
                Ok(Some((used, Frame::Multibulk))) => {
                    self.queue(Parsed {
                        at,
                        used,
                        spans: &spans,
                    });
                    at += used;
                }
                _ => break,
            }
        }
        self.spans = spans;
        let keys = self.queued.iter().filter_map(|(at, _, spans)| {
            Args::new(&buf[*at..], &self.queued_spans[spans.clone()]).arg(1)
        });
        state.engine.borrow().prefetch(db, keys);
    }

    fn queue(&mut self, cmd: Parsed<'_>) {
        let from = self.queued_spans.len();
        self.queued_spans.extend_from_slice(cmd.spans);
        self.queued
            .push((cmd.at, cmd.used, from..self.queued_spans.len()));
    }

    /// The first argument of the first command in `buf`, if it is whole.
    fn first_key<'b>(&mut self, buf: &'b [u8], limits: &Limits) -> Option<&'b [u8]> {
        match resp::parse_command(buf, limits, &mut self.spans, &mut self.scratch) {
            // Sliced by hand: `Args` would tie the key to `self.spans`.
            Ok(Some((_, Frame::Multibulk))) => {
                let &(start, end) = self.spans.get(1)?;
                Some(&buf[start as usize..end as usize])
            }
            _ => None,
        }
    }
}

/// Has the shard's ring show each pass's arrivals (see `Ring::on_arrivals`)
/// so the first key of each is loaded before any of their tasks runs.
/// Database 0's table is the one hinted: a connection's database is its
/// task's, and most clients never SELECT (for the others a hint is wasted,
/// never wrong).
///
/// Measured, pipeline 1 with 50 clients: `Segment::find` was 9% of the
/// server's CPU, waiting for each key's slot and then its block.
pub fn hint_arrivals(state: &Rc<ShardState>) {
    let weak = Rc::downgrade(state);
    let mut ahead = Ahead::default();
    let limits = Limits::default();
    state.ring.on_arrivals(Box::new(move |bufs: &[&[u8]]| {
        let Some(state) = weak.upgrade() else {
            return;
        };
        if let Ok(engine) = state.engine.try_borrow() {
            engine.prefetch(0, bufs.iter().filter_map(|b| ahead.first_key(b, &limits)));
        };
    }));
}

/// Resolves one command and runs it or queues it for its shard.
async fn dispatch(
    state: &Rc<ShardState>,
    conn: &mut Conn,
    args: &Args<'_>,
    out: &mut Out,
    batch: &mut Batch,
) -> Flow {
    out.resp3 = conn.resp3;
    let mark = out.buf.len();
    let flow = route(state, conn, args, out, batch).await;
    // CLIENT REPLY OFF/SKIP: drop what this command wrote (remote commands
    // run synchronously in those modes, so nothing is pending past `mark`).
    match conn.reply {
        ReplyMode::On => {}
        ReplyMode::Off => out.truncate(mark),
        ReplyMode::SkipNext => conn.reply = ReplyMode::Skip,
        ReplyMode::Skip => {
            out.truncate(mark);
            conn.reply = ReplyMode::On;
        }
    }
    flow
}

fn reject(state: &ShardState, out: &mut Out, id: Option<u16>, e: CmdError) {
    let text = e.to_string();
    let mut eng = state.engine.borrow_mut();
    eng.count_error(&text);
    if let Some(id) = id {
        eng.cmd_stats[id as usize].rejected_calls += 1;
    }
    out.error(&text);
}

async fn route(
    state: &Rc<ShardState>,
    conn: &mut Conn,
    args: &Args<'_>,
    out: &mut Out,
    batch: &mut Batch,
) -> Flow {
    let Some(id) = state.registry.lookup(args.get(0)) else {
        reject(state, out, None, cmd::unknown_command(args));
        return Flow::Continue;
    };
    let spec = state.registry.spec(id);
    if !spec.arity_ok(args.len()) {
        reject(state, out, Some(id), cmd::arity_error(args.get(0)));
        return Flow::Continue;
    }
    if !conn.authed && state.registry.flags(id) & FLAG_NOAUTH == 0 {
        reject(state, out, Some(id), CmdError::NoAuth);
        return Flow::Continue;
    }
    conn.info.borrow_mut().last_cmd = spec.name;
    let sync = conn.reply != ReplyMode::On;
    match (spec.route, spec.exec) {
        (Route::Conn, Exec::Conn(op)) => {
            flush(state, batch, out).await;
            commands::run(state, conn, op, id, args, out).await
        }
        (Route::Cursor, _) if state.nshards > 1 => {
            flush(state, batch, out).await;
            commands::run(state, conn, commands::SCAN, id, args, out).await
        }
        (Route::AnyShard, _) if state.nshards > 1 => {
            flush(state, batch, out).await;
            commands::run(state, conn, commands::RANDOMKEY, id, args, out).await
        }
        (Route::Local | Route::Cursor | Route::AnyShard, _) => {
            run_local(state, conn.db, id, args, out);
            Flow::Continue
        }
        // One shard owns every key: no slot to compute.
        (Route::Keyed, _) if state.nshards == 1 => {
            run_local(state, conn.db, id, args, out);
            Flow::Continue
        }
        (Route::Keyed, _) => {
            let mut owner = None;
            for pos in spec.key_positions_in(args) {
                let o = state.owner(args.get(pos));
                if owner.is_some_and(|prev| prev != o) {
                    reject(state, out, Some(id), CmdError::CrossSlot);
                    return Flow::Continue;
                }
                owner = Some(o);
            }
            match owner {
                None => run_local(state, conn.db, id, args, out),
                Some(o) if o == state.id => run_local(state, conn.db, id, args, out),
                Some(o) if sync => {
                    let cmd = Remote::one(id, conn.db, conn.resp3, args);
                    if let Reply::Exec { out: bytes, .. } = state.call(o, Op::Exec(cmd)).await {
                        out.raw(&bytes);
                    }
                }
                Some(o) => {
                    if batch.per_shard.is_empty() {
                        batch.per_shard.resize_with(state.nshards, Remote::default);
                    }
                    batch.per_shard[o].push(id, conn.db, conn.resp3, args.iter());
                    // Marks are offsets in plain bytes: no shared value before one.
                    out.flatten();
                    batch.marks.push((out.buf.len(), o));
                }
            }
            Flow::Continue
        }
        (Route::Split(how), _) => {
            split(state, conn, id, how, args, out, batch).await;
            Flow::Continue
        }
        (Route::AllShards(how), _) => {
            flush(state, batch, out).await;
            let replies = state
                .call_all(|| Op::Exec(Remote::one(id, conn.db, conn.resp3, args)))
                .await;
            let parts: Vec<&[u8]> = replies.iter().map(exec_bytes).collect();
            merge(how, &parts, &[], out);
            Flow::Continue
        }
        (Route::Conn, Exec::Shard(_)) => {
            unreachable!("{}: Conn route needs a Conn exec", spec.name)
        }
    }
}

fn exec_bytes(r: &Reply) -> &[u8] {
    match r {
        Reply::Exec { out, .. } => out,
        _ => b"-ERR shard unavailable\r\n",
    }
}

pub fn run_local(state: &ShardState, db: usize, id: u16, args: &Args, out: &mut Out) {
    cmd::execute(&mut state.engine.borrow_mut(), db, id, args, out);
}

/// A multi-key command whose keys may span shards: each shard gets the
/// command with its own keys (and their values, for MSET), parts merged back.
async fn split(
    state: &Rc<ShardState>,
    conn: &Conn,
    id: u16,
    how: engine::spec::Merge,
    args: &Args<'_>,
    out: &mut Out,
    batch: &mut Batch,
) {
    let spec = state.registry.spec(id);
    let home = state.id;
    let local = state.nshards == 1
        || spec
            .key_positions(args.len())
            .all(|p| state.owner(args.get(p)) == home);
    if local {
        run_local(state, conn.db, id, args, out);
        return;
    }
    let step = spec.keys.2.max(1) as usize;
    let positions: Vec<usize> = spec.key_positions(args.len()).collect();
    flush(state, batch, out).await;
    let mut parts: Vec<Option<(OwnedArgs, Vec<usize>)>> =
        (0..state.nshards).map(|_| None).collect();
    for (n, &p) in positions.iter().enumerate() {
        let o = state.owner(args.get(p));
        let (sub, keys) = parts[o].get_or_insert_with(|| {
            let mut sub = OwnedArgs::default();
            for i in 0..spec.keys.0 as usize {
                sub.push(args.get(i));
            }
            (sub, Vec::new())
        });
        for i in p..(p + step).min(args.len()) {
            sub.push(args.get(i));
        }
        keys.push(n);
    }
    let mut pending = Vec::new();
    let mut key_groups = Vec::new();
    for (shard, part) in parts.into_iter().enumerate() {
        if let Some((sub, keys)) = part {
            let exec = Remote::one(id, conn.db, conn.resp3, &sub.args());
            pending.push(state.send(shard, Op::Exec(exec)).await);
            key_groups.push(keys);
        }
    }
    let mut replies = Vec::with_capacity(pending.len());
    for p in pending {
        replies.push(state.wait(p).await);
    }
    let bytes: Vec<&[u8]> = replies.iter().map(exec_bytes).collect();
    merge(how, &bytes, &key_groups, out);
}

/// A shard's replies to one batch: the bytes, where each reply ends, and
/// how many have been spliced in so far.
struct ShardReplies {
    out: Vec<u8>,
    ends: Vec<u32>,
    next: usize,
}

/// Sends the gathered batches, one message per shard, and splices the
/// replies in at their marks.
pub async fn flush(state: &Rc<ShardState>, batch: &mut Batch, out: &mut Out) {
    if batch.is_empty() {
        return;
    }
    for (shard, cmds) in batch.per_shard.iter_mut().enumerate() {
        if !cmds.is_empty() {
            let cmds = std::mem::take(cmds);
            batch
                .pending
                .push((shard, state.send(shard, Op::Exec(cmds)).await));
        }
    }
    let replies = &mut batch.replies;
    replies.clear();
    replies.resize_with(state.nshards, || None);
    for (shard, p) in batch.pending.drain(..) {
        if let Reply::Exec { out, ends, spent } = state.wait(p).await {
            // The emptied batch's buffers serve this connection's next hop.
            batch.per_shard[shard] = spent;
            replies[shard] = Some(ShardReplies { out, ends, next: 0 });
        }
    }
    // Shared values written since the last mark sit after it: copying them
    // in here moves no mark.
    out.flatten();
    let one_shard = batch.marks.iter().all(|m| m.1 == batch.marks[0].1);
    if one_shard && out.buf.is_empty() {
        // Every reply came from one shard and none was made here: the
        // shard's buffer is the reply, and ours goes to it for the next hop.
        let shard = batch.marks[0].1;
        if let Some(r) = replies[shard].take() {
            let back = &mut batch.per_shard[shard];
            back.reply = std::mem::replace(&mut out.buf, r.out);
            back.ends = r.ends;
            batch.marks.clear();
            return;
        }
    }
    let local = &out.buf;
    let spliced = &mut batch.spliced;
    spliced.clear();
    spliced.reserve(local.len() + replies.iter().flatten().map(|r| r.out.len()).sum::<usize>());
    let mut prev = 0;
    for &(at, shard) in &batch.marks {
        spliced.extend_from_slice(&local[prev..at]);
        prev = at;
        match replies[shard].as_mut() {
            Some(r) => {
                let start = if r.next == 0 {
                    0
                } else {
                    r.ends[r.next - 1] as usize
                };
                spliced.extend_from_slice(&r.out[start..r.ends[r.next] as usize]);
                r.next += 1;
            }
            None => spliced.extend_from_slice(b"-ERR shard unavailable\r\n"),
        }
    }
    spliced.extend_from_slice(&local[prev..]);
    std::mem::swap(&mut out.buf, spliced);
    for (shard, r) in replies.iter_mut().enumerate() {
        if let Some(r) = r.take() {
            batch.per_shard[shard].reply = r.out;
            batch.per_shard[shard].ends = r.ends;
        }
    }
    batch.marks.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_key_is_the_first_commands_first_argument_when_whole() {
        let mut ahead = Ahead::default();
        let limits = Limits::default();
        let two = b"*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n*2\r\n$3\r\nGET\r\n$1\r\nz\r\n";
        assert_eq!(ahead.first_key(two, &limits), Some(&b"key:1"[..]));
        assert_eq!(
            ahead.first_key(b"*2\r\n$3\r\nGET\r\n$5\r\nke", &limits),
            None
        );
        assert_eq!(ahead.first_key(b"*1\r\n$4\r\nPING\r\n", &limits), None);
        assert_eq!(ahead.first_key(b"GET inline\r\n", &limits), None);
        assert_eq!(ahead.first_key(b"*x\r\n", &limits), None);
    }
}
