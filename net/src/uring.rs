//! The shard's socket ring: an io_uring of our own for accepts, receives,
//! sends and the shard's timers, driven from inside the shard's glommio
//! executor, and the place the shard sleeps when it has nothing to do.
//!
//! Why not glommio's sockets: glommio's rings have no COOP_TASKRUN or
//! DEFER_TASKRUN, so every receive that completes while the shard is busy is
//! delivered with an inter-processor interrupt (measured: 0.7 reschedule IPIs
//! per unpipelined request, against none for redis-server's epoll). This ring
//! is set up with DEFER_TASKRUN: completions wait in the kernel until the
//! driver asks for them, in one `io_uring_enter` per pass for every socket.
//!
//! ```text
//!   conn task ── recv/send ──► SQE (slot index as user_data) ─┐
//!        ▲                                                    │ one enter per pass:
//!        └── wake ◄── slot Done ◄── CQE ◄── driver pass ◄─────┘ submit + reap
//!   receives: one multishot receive per connection, its CQEs queued in the
//!   connection's slot (Slot::Stream), the bytes in the shard's pool buffers
//!   (`pool`), copied out and the buffer given back when the task reads
//!   driver idle: a quiet pass, one turn for every queued task, a second quiet
//!   pass, then one io_uring_enter that waits for a completion, the doorbell's
//!   eventfd read, or the next timer
//! ```
//!
//! Why the shard sleeps here and not in glommio's park: parking costs glommio
//! a process-wide memory barrier (`membarrier`, an IPI to every CPU running
//! the server), its timer and preemption rings and two more syscalls, and the
//! wake-up came through an eventfd signalled from this ring's completions.
//! Sleeping in this ring wakes straight into the completion that ended the
//! sleep. It is safe because nothing else can make a task runnable while the
//! driver waits: every wake-up on a shard comes from this ring (completions,
//! timers, the doorbell), and the two that happen between tasks (a reply
//! handed from the mail task to a connection, a task spawned) `stir` the ring
//! so the driver takes another turn first. glommio's own timers are not used
//! on a shard: `Ring::sleep` replaces them. glommio's file I/O (direct-I/O
//! persistence) completes only when glommio's reactor runs, which a driver
//! that always yields or sleeps here never lets it do: whoever adds it must
//! have the driver step aside (await glommio) while such I/O is in flight.
//!
//! Buffers are moved into the ring's slot for as long as the kernel may touch
//! them and handed back with the result, so dropping an `Op` early never frees
//! memory under the kernel: its slot keeps the buffer until the CQE arrives.
//!
//! Here: the ring, its slots, submission and the driver's pass. Beside it:
//! `pool` (the multishot receives' buffers), `stream` (the receives
//! themselves, and how a connection falls back from them) and `sleep` (where
//! the driver sleeps, the gathering wait, and the shard's timers).

mod pool;
mod sleep;
pub use sleep::Sleep;

/// The most one multishot arrival brings (a pool buffer's size).
pub const STREAM_CHUNK: usize = pool::BUF_LEN;

use crate::post::Bell;
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use pool::Pool;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Entries in the submission queue; the completion queue is four times that,
/// so a pass with a receive and a send in flight for thousands of
/// connections does not overflow it (the kernel keeps any overflow, and a
/// pass collects it).
const SQ_ENTRIES: u32 = 4096;

/// `user_data` of the completions that are not an `Op`'s: the doorbell's
/// eventfd read and, on kernels without EXT_ARG, the sleep's timeout.
const BELL_READ: u64 = u64::MAX;
const SLEEP_TIMEOUT: u64 = u64::MAX - 1;
/// `user_data` of a cancellation's own completion (`Stream`'s drop).
const CANCEL: u64 = u64::MAX - 2;

/// `IORING_ENTER_GETEVENTS`: with DEFER_TASKRUN, the kernel runs our
/// deferred completions only inside an enter that carries it.
const ENTER_GETEVENTS: u32 = 1;

/// Sockets the ring can name by slot; more connections than this are named
/// by descriptor. The kernel's table costs 8 bytes a slot.
const FILE_SLOTS: u32 = 16384;

/// `IORING_RECVSEND_POLL_FIRST` (Linux 5.19), in a receive's ioprio.
const RECVSEND_POLL_FIRST: u16 = 1;

/// Memory the kernel may be writing into or reading from: it lives in the
/// slot until the operation's completion arrives.
#[derive(Default)]
pub enum Hold {
    #[default]
    Nothing,
    Buf(Vec<u8>),
    /// A receive's buffer, written from `at`.
    Recv(Vec<u8>, usize),
    Vectored(Box<Vectored>),
}

/// A reply sent with `sendmsg` from the reply buffer and the stored values'
/// own buffers. Boxed so the message header and the iovecs the kernel reads
/// keep their addresses while the slot moves.
pub struct Vectored {
    buf: Vec<u8>,
    _values: Vec<Rc<[u8]>>,
    iov: Vec<libc::iovec>,
    msg: libc::msghdr,
}

impl Hold {
    pub fn into_buf(self) -> Vec<u8> {
        match self {
            Hold::Buf(b) | Hold::Recv(b, _) => b,
            Hold::Vectored(v) => v.buf,
            Hold::Nothing => Vec::new(),
        }
    }

    pub fn is_vectored(&self) -> bool {
        matches!(self, Hold::Vectored(_))
    }
}

/// A socket as the ring's operations name it: by its slot in the ring's
/// registered files when it has one (the kernel then takes no reference to
/// the file per operation: `fget` was 1-1.4% of a request's server CPU), by
/// its descriptor otherwise.
#[derive(Clone, Copy, Debug)]
pub struct Sock {
    fd: RawFd,
    fixed: Option<u32>,
}

impl Sock {
    /// A socket the ring names by its descriptor.
    pub fn plain(fd: RawFd) -> Sock {
        Sock { fd, fixed: None }
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }
}

/// Puts the right kind of file reference in an opcode builder.
macro_rules! target {
    ($op:ident, $sock:expr $(, $arg:expr)*) => {
        match $sock.fixed {
            Some(i) => ::io_uring::opcode::$op::new(::io_uring::types::Fixed(i) $(, $arg)*),
            None => ::io_uring::opcode::$op::new(::io_uring::types::Fd($sock.fd) $(, $arg)*),
        }
    };
}

// After `target!`, which it uses.
mod stream;
pub use stream::{Received, Receiver, Stream};
use stream::{StreamSlot, MAX_QUEUED};

enum Slot {
    Free,
    Waiting(Option<Waker>, Hold),
    Done(i32, Hold),
    /// The `Op` was dropped: keep the memory until the kernel lets go of it.
    Orphaned(#[allow(dead_code)] Hold),
    /// A multishot receive: one completion per arrival, until one comes
    /// without IORING_CQE_F_MORE.
    Stream(StreamSlot),
}

/// What a pass's arrival hint is shown: a receive's slot, or the pool
/// buffer a multishot receive filled.
#[derive(Clone, Copy)]
enum Arrival {
    Slot(u32),
    Pooled(u16, u32),
}

struct Inner {
    uring: IoUring,
    /// Buffers for multishot receives (dropped after `uring`, which uses them).
    pool: Option<Pool>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// The doorbell's eventfd read is in the ring (it ends a sleep).
    bell_armed: bool,
    /// The receives the last reap completed with data.
    arrived: Vec<Arrival>,
    /// Streams `reap` found holding MAX_QUEUED buffers, to cancel.
    throttle: Vec<u32>,
    /// Registered-file slots never used, from `files_next` up to
    /// `files_cap` (0: the kernel has no sparse file table), and freed ones.
    files_next: u32,
    files_cap: u32,
    files_free: Vec<u32>,
}

/// What `on_arrivals` is given: the bytes each receive brought.
pub type ArrivalHint = Box<dyn FnMut(&[&[u8]])>;

/// The most arrivals one hint is given (more wait for their own tasks).
pub const MAX_HINTED: usize = 32;

pub struct Ring {
    inner: RefCell<Inner>,
    /// This shard's doorbell for mail from other shards (`post`): checked
    /// every pass, and rung through the eventfd when the shard sleeps.
    bell: Arc<Bell>,
    mail: Cell<bool>,
    mail_waker: RefCell<Option<Waker>>,
    /// Wall-clock milliseconds, read once per pass for every command it
    /// serves (what Redis caches per event-loop turn as `server.mstime`).
    now_ms: Cell<u64>,
    /// Where the doorbell's eventfd read lands (the value is not used).
    bell_buf: Box<std::cell::UnsafeCell<u64>>,
    eventfd: RawFd,
    /// Pending `sleep`s: deadline and the task to wake, by key.
    timers: RefCell<Vec<(u64, Instant, Option<Waker>)>>,
    next_timer: Cell<u64>,
    /// Bumped by every wake-up that does not come from a completion, so the
    /// driver knows a turn of the task queue did something.
    stirred: Cell<u64>,
    /// Whether `submit_with_args` takes a timeout (EXT_ARG, Linux 5.11).
    ext_arg: bool,
    /// Whether receives may ask to wait first (Linux 5.19: a ring built
    /// with COOP_TASKRUN or DEFER_TASKRUN).
    poll_first: bool,
    /// Whether connections receive with multishot receives (a buffer pool,
    /// Linux 6.0); turned off when the kernel refuses one.
    multishot: Cell<bool>,
    /// How many completions the next sleep waits for (1: wake on the first),
    /// learnt from how many each wake-up found; `woke` marks the pass after
    /// a sleep, whose count is the lesson.
    gather: Cell<usize>,
    woke: Cell<bool>,
    /// Connections that received something in the current millisecond
    /// (`active`, as of `window`) and in the one before (`active_before`):
    /// gathering is for many busy clients, not many idle ones.
    window: Cell<u64>,
    active: Cell<u32>,
    active_before: Cell<u32>,
    stopped: Cell<bool>,
    hint: RefCell<Option<ArrivalHint>>,
}

impl Ring {
    /// A ring for the calling thread (DEFER_TASKRUN ties it to its creator).
    /// Falls back to COOP_TASKRUN (kernel 5.19) and then to a plain ring
    /// (5.6) so older kernels run, at the IPI cost described above.
    pub fn new() -> io::Result<Rc<Ring>> {
        let (uring, poll_first) = build()?;
        // SAFETY: eventfd takes no pointers; the fd is owned by the Ring.
        let eventfd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
        if eventfd < 0 {
            return Err(io::Error::last_os_error());
        }
        let ext_arg = uring.params().is_feature_ext_arg();
        // A table of sockets the ring can name by slot (Linux 5.19); without
        // one every socket is named by its descriptor.
        let files_cap = match uring.submitter().register_files_sparse(FILE_SLOTS) {
            Ok(()) => FILE_SLOTS,
            Err(_) => 0,
        };
        let pool = Pool::register(&uring);
        let multishot = Cell::new(pool.is_some());
        Ok(Rc::new(Ring {
            inner: RefCell::new(Inner {
                uring,
                pool,
                slots: Vec::new(),
                free: Vec::new(),
                bell_armed: false,
                arrived: Vec::new(),
                throttle: Vec::new(),
                files_next: 0,
                files_cap,
                files_free: Vec::new(),
            }),
            bell: Arc::new(Bell::new(eventfd)),
            mail: Cell::new(false),
            mail_waker: RefCell::new(None),
            now_ms: Cell::new(crate::shard::unix_ms()),
            bell_buf: Box::new(std::cell::UnsafeCell::new(0)),
            eventfd,
            timers: RefCell::new(Vec::new()),
            next_timer: Cell::new(0),
            stirred: Cell::new(0),
            ext_arg,
            poll_first,
            multishot,
            gather: Cell::new(1),
            woke: Cell::new(false),
            window: Cell::new(0),
            active: Cell::new(0),
            active_before: Cell::new(0),
            stopped: Cell::new(false),
            hint: RefCell::new(None),
        }))
    }

    /// Has `hint` shown, in every pass that completed two or more receives,
    /// what they brought, before any of their tasks runs: the shard starts
    /// loading the memory their commands will touch, so those cache misses
    /// overlap instead of each task waiting for its own in turn (what
    /// pipeline look-ahead does within one connection, done across them).
    /// The hint must not use the ring.
    pub fn on_arrivals(&self, hint: ArrivalHint) {
        *self.hint.borrow_mut() = Some(hint);
    }

    /// Notes a wake-up that did not come through this ring (a reply handed
    /// from one task to another, a task spawned): the driver takes one more
    /// turn before it sleeps.
    pub fn stir(&self) {
        self.stirred.set(self.stirred.get() + 1);
    }

    /// Ends `drive` at its next turn (tests; a server's shards run until exit).
    pub fn stop(&self) {
        self.stopped.set(true);
    }

    pub fn bell(&self) -> Arc<Bell> {
        self.bell.clone()
    }

    /// Resolves once mail has arrived since the last time it resolved.
    pub fn mail(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(|cx| {
            if self.mail.replace(false) {
                return Poll::Ready(());
            }
            *self.mail_waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    /// Hands the doorbell to the mail task when it has been rung.
    fn check_mail(&self) -> bool {
        if !self.bell.answer() {
            return false;
        }
        self.mail.set(true);
        if let Some(w) = self.mail_waker.borrow_mut().take() {
            w.wake();
        }
        true
    }

    /// Counts a connection that has just received, once per millisecond;
    /// `last` is the connection's own note of the last one it was counted in.
    pub fn count_active(&self, last: &mut u64) {
        let now = self.now_ms.get();
        if self.window.get() != now {
            let fresh = self.window.get() + 1 == now;
            self.active_before
                .set(if fresh { self.active.get() } else { 0 });
            self.active.set(0);
            self.window.set(now);
        }
        if *last != now {
            *last = now;
            self.active.set(self.active.get() + 1);
        }
    }

    /// Connections that received this millisecond or the one before; none
    /// when the last count is older (a burst that ended does not count).
    fn busy_connections(&self) -> u32 {
        if self.window.get() + 1 >= self.now_ms.get() {
            self.active.get().max(self.active_before.get())
        } else {
            0
        }
    }

    /// The time of the current pass.
    pub fn now_ms(&self) -> u64 {
        self.now_ms.get()
    }

    /// Registers `fd` so the ring's operations name it by slot, when a slot
    /// is free; `release` must be called before the descriptor is closed.
    pub fn register(&self, fd: RawFd) -> Sock {
        let mut inner = self.inner.borrow_mut();
        let slot = match inner.files_free.pop() {
            Some(i) => i,
            None if inner.files_next < inner.files_cap => {
                inner.files_next += 1;
                inner.files_next - 1
            }
            None => return Sock::plain(fd),
        };
        match inner.uring.submitter().register_files_update(slot, &[fd]) {
            Ok(_) => Sock {
                fd,
                fixed: Some(slot),
            },
            Err(_) => {
                inner.files_free.push(slot);
                Sock::plain(fd)
            }
        }
    }

    /// Gives `sock`'s slot back. Operations still in flight keep the
    /// socket open until they complete; closing the descriptor then ends it.
    pub fn release(&self, sock: Sock) {
        let Some(slot) = sock.fixed else { return };
        let mut inner = self.inner.borrow_mut();
        if inner
            .uring
            .submitter()
            .register_files_update(slot, &[-1])
            .is_ok()
        {
            inner.files_free.push(slot);
        }
    }

    /// Receives into `buf[at..]`. `expect_empty` says the socket almost
    /// surely has nothing yet (the peer is waiting for the reply just sent):
    /// the kernel then skips its first attempt, a receive that would find
    /// nothing, and goes straight to waiting (IORING_RECVSEND_POLL_FIRST).
    pub fn recv(&self, sock: Sock, mut buf: Vec<u8>, at: usize, expect_empty: bool) -> Op<'_> {
        debug_assert!(at < buf.len());
        // SAFETY (for the kernel's write): the pointer stays valid because the
        // Vec moves into the slot and is not touched until the CQE arrives.
        let ptr = unsafe { buf.as_mut_ptr().add(at) };
        let len = (buf.len() - at).min(u32::MAX as usize) as u32;
        let ioprio = if expect_empty && self.poll_first {
            RECVSEND_POLL_FIRST
        } else {
            0
        };
        let sqe = target!(Recv, sock, ptr, len).ioprio(ioprio).build();
        self.submit(sqe, Hold::Recv(buf, at))
    }

    /// Sends `buf[..len]` whole: MSG_WAITALL makes the kernel retry short
    /// sends on a stream socket, so the result is `len` or an error.
    pub fn send(&self, sock: Sock, buf: Vec<u8>, from: usize) -> Op<'_> {
        // SAFETY: as in `recv`, the Vec lives in the slot until completion.
        let ptr = unsafe { buf.as_ptr().add(from) };
        let len = (buf.len() - from).min(u32::MAX as usize) as u32;
        let sqe = target!(Send, sock, ptr, len)
            .flags(libc::MSG_WAITALL | libc::MSG_NOSIGNAL)
            .build();
        self.submit(sqe, Hold::Buf(buf))
    }

    /// Sends `buf` with each `(offset, value)` spliced in at its offset, in
    /// one `sendmsg`, whole (MSG_WAITALL) or an error.
    pub fn send_vectored(
        &self,
        sock: Sock,
        buf: Vec<u8>,
        values: Vec<(usize, Rc<[u8]>)>,
    ) -> Op<'_> {
        let mut iov = Vec::with_capacity(values.len() * 2 + 1);
        let mut prev = 0;
        let piece = |s: &[u8]| libc::iovec {
            iov_base: s.as_ptr() as *mut libc::c_void,
            iov_len: s.len(),
        };
        for (at, v) in &values {
            if *at > prev {
                iov.push(piece(&buf[prev..*at]));
            }
            iov.push(piece(v));
            prev = *at;
        }
        if buf.len() > prev {
            iov.push(piece(&buf[prev..]));
        }
        // SAFETY: an all-zero msghdr is valid (no name, no control data).
        let mut held = Box::new(Vectored {
            buf,
            _values: values.into_iter().map(|(_, v)| v).collect(),
            iov,
            msg: unsafe { std::mem::zeroed() },
        });
        held.msg.msg_iov = held.iov.as_mut_ptr();
        held.msg.msg_iovlen = held.iov.len() as _;
        // SAFETY (for the kernel's reads): the header, the iovecs and every
        // buffer they point into live in the boxed Hold until the CQE.
        let sqe = target!(SendMsg, sock, &held.msg)
            .flags((libc::MSG_WAITALL | libc::MSG_NOSIGNAL) as u32)
            .build();
        self.submit(sqe, Hold::Vectored(held))
    }

    /// Accepts one connection; the result is the new socket's fd.
    pub fn accept(&self, fd: RawFd) -> Op<'_> {
        let sqe = opcode::Accept::new(types::Fd(fd), std::ptr::null_mut(), std::ptr::null_mut())
            .flags(libc::SOCK_CLOEXEC)
            .build();
        self.submit(sqe, Hold::Nothing)
    }

    /// Whether connections should receive with `recv_stream`.
    pub fn multishot(&self) -> bool {
        self.multishot.get()
    }

    fn submit(&self, sqe: squeue::Entry, hold: Hold) -> Op<'_> {
        let mut inner = self.inner.borrow_mut();
        let idx = take_slot(&mut inner, Slot::Waiting(None, hold));
        push(&mut inner, sqe.user_data(idx as u64));
        Op {
            ring: self,
            idx,
            done: false,
        }
    }

    /// One pass: submit what is queued, run the kernel's deferred work and
    /// hand out every completion. Returns whether anything happened.
    fn pass(&self) -> bool {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        let (queued, kernel_has_more) = {
            let sq = inner.uring.submission();
            // TASKRUN: deferred completions wait to be run; CQ_OVERFLOW:
            // completions that did not fit the queue wait to be copied in.
            (sq.len(), sq.taskrun() || sq.cq_overflow())
        };
        self.now_ms.set(crate::shard::unix_ms());
        if queued > 0 || kernel_has_more {
            // SAFETY: no extended argument is passed.
            let r = unsafe {
                inner.uring.submitter().enter::<libc::sigset_t>(
                    queued as u32,
                    0,
                    ENTER_GETEVENTS,
                    None,
                )
            };
            if let Err(e) = r {
                if !matches!(
                    e.raw_os_error(),
                    Some(libc::EINTR | libc::EBUSY | libc::EAGAIN)
                ) {
                    panic!("io_uring_enter failed: {e}");
                }
            }
        }
        let reaped = reap(inner);
        if inner.arrived.len() >= 2 {
            if let Some(hint) = self.hint.borrow_mut().as_mut() {
                let mut bufs: [&[u8]; MAX_HINTED] = [&[]; MAX_HINTED];
                let mut n = 0;
                for &a in inner.arrived.iter().take(MAX_HINTED) {
                    bufs[n] = match (a, &inner.slots[..], &inner.pool) {
                        (Arrival::Slot(idx), slots, _) => match &slots[idx as usize] {
                            Slot::Done(res, Hold::Recv(buf, at)) => &buf[*at..at + *res as usize],
                            _ => continue,
                        },
                        (Arrival::Pooled(bid, len), _, Some(pool)) => pool.chunk(bid, len as usize),
                        (Arrival::Pooled(..), _, None) => continue,
                    };
                    n += 1;
                }
                hint(&bufs[..n]);
            }
        }
        inner.arrived.clear();
        for idx in std::mem::take(&mut inner.throttle) {
            // Still that stream (a slot freed since may hold a new one).
            let live = |st: &StreamSlot| st.throttled && !st.ended && !st.orphaned;
            if matches!(&inner.slots[idx as usize], Slot::Stream(st) if live(st)) {
                let cancel = opcode::AsyncCancel::new(idx as u64).build();
                push(inner, cancel.user_data(CANCEL));
            }
        }
        if self.woke.replace(false) {
            self.learn(reaped);
        }
        // Deliberately after the borrow of `inner` ends: a woken timer's task
        // may submit.
        reaped > 0 || queued > 0 || self.fire_timers() > 0
    }

    /// Runs the ring for as long as the shard lives: a pass and a turn for
    /// every other task while there is work, and a sleep in the ring when a
    /// whole turn found none.
    pub async fn drive(self: Rc<Self>) {
        while !self.stopped.get() {
            if self.pass() | self.check_mail() {
                futures_lite::future::yield_now().await;
                continue;
            }
            // A quiet pass. Let every task queued behind us run once: if
            // none of them submitted, got a reply or spawned, nothing on this
            // shard can run until the kernel or another shard says so.
            let seen = self.stirred.get();
            futures_lite::future::yield_now().await;
            if self.pass() | self.check_mail() || self.stirred.get() != seen {
                continue;
            }
            self.wait();
        }
    }
}

/// The ring, and whether the kernel is 5.19 or newer (it took COOP_TASKRUN).
fn build() -> io::Result<(IoUring, bool)> {
    let mut defer = IoUring::builder();
    defer
        .setup_cqsize(SQ_ENTRIES * 4)
        .setup_single_issuer()
        .setup_defer_taskrun()
        .setup_taskrun_flag();
    if let Ok(r) = defer.build(SQ_ENTRIES) {
        return Ok((r, true));
    }
    let mut coop = IoUring::builder();
    coop.setup_cqsize(SQ_ENTRIES * 4)
        .setup_coop_taskrun()
        .setup_taskrun_flag();
    if let Ok(r) = coop.build(SQ_ENTRIES) {
        return Ok((r, true));
    }
    let plain = IoUring::builder()
        .setup_cqsize(SQ_ENTRIES * 4)
        .build(SQ_ENTRIES)?;
    Ok((plain, false))
}

/// A free slot, holding `slot` now.
fn take_slot(inner: &mut Inner, slot: Slot) -> u32 {
    match inner.free.pop() {
        Some(i) => {
            inner.slots[i as usize] = slot;
            i
        }
        None => {
            inner.slots.push(slot);
            (inner.slots.len() - 1) as u32
        }
    }
}

/// Queues `sqe`; whatever memory it names must be held (by its slot) until
/// its completion.
fn push(inner: &mut Inner, sqe: squeue::Entry) {
    // SAFETY: the caller holds the entry's buffers until its CQE.
    while unsafe { inner.uring.submission().push(&sqe) }.is_err() {
        // Queue full: hand what is queued to the kernel and retry.
        if let Err(e) = inner.uring.submit() {
            if e.raw_os_error() != Some(libc::EBUSY) {
                panic!("io_uring submit failed: {e}");
            }
            let _ = inner.uring.submitter().submit_and_wait(1);
            reap(inner);
            inner.arrived.clear();
        }
    }
}

/// Moves every completion into its slot and wakes the waiting `Op`s.
fn reap(inner: &mut Inner) -> usize {
    let Inner {
        uring,
        pool,
        slots,
        free,
        bell_armed,
        arrived,
        throttle,
        ..
    } = inner;
    let mut n = 0;
    for cqe in uring.completion() {
        n += 1;
        match cqe.user_data() {
            BELL_READ => {
                *bell_armed = false;
                continue;
            }
            SLEEP_TIMEOUT | CANCEL => continue,
            _ => {}
        }
        let idx = cqe.user_data() as usize;
        if let Slot::Stream(st) = &mut slots[idx] {
            let (res, flags) = (cqe.result(), cqe.flags());
            let ended = !cqueue::more(flags);
            if st.orphaned {
                if let (Some(bid), Some(pool)) = (cqueue::buffer_select(flags), pool.as_mut()) {
                    pool.recycle(bid);
                }
                if ended {
                    slots[idx] = Slot::Free;
                    free.push(idx as u32);
                }
                continue;
            }
            if res > 0 {
                if let Some(bid) = cqueue::buffer_select(flags) {
                    arrived.push(Arrival::Pooled(bid, res as u32));
                }
            }
            st.arrived.push_back((res, flags));
            st.ended = ended;
            if !ended && !st.throttled && st.arrived.len() >= MAX_QUEUED {
                st.throttled = true;
                throttle.push(idx as u32);
            }
            if let Some(w) = st.waker.take() {
                w.wake();
            }
            continue;
        }
        match std::mem::replace(&mut slots[idx], Slot::Free) {
            Slot::Waiting(waker, hold) => {
                if matches!(hold, Hold::Recv(..)) && cqe.result() > 0 {
                    arrived.push(Arrival::Slot(idx as u32));
                }
                slots[idx] = Slot::Done(cqe.result(), hold);
                if let Some(w) = waker {
                    w.wake();
                }
            }
            Slot::Orphaned(_) => free.push(idx as u32),
            other => slots[idx] = other,
        }
    }
    n
}

/// One operation in flight. Resolves to the kernel's result (bytes, fd, or
/// `-errno`) and the memory it held.
pub struct Op<'r> {
    ring: &'r Ring,
    idx: u32,
    done: bool,
}

impl Future for Op<'_> {
    type Output = (i32, Hold);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut inner = self.ring.inner.borrow_mut();
        let idx = self.idx as usize;
        match &mut inner.slots[idx] {
            Slot::Waiting(waker, _) => {
                if !waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *waker = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Slot::Done(..) => {
                let Slot::Done(res, hold) = std::mem::replace(&mut inner.slots[idx], Slot::Free)
                else {
                    unreachable!()
                };
                inner.free.push(self.idx);
                drop(inner);
                self.done = true;
                Poll::Ready((res, hold))
            }
            Slot::Free | Slot::Orphaned(_) | Slot::Stream(_) => {
                unreachable!("op polled after completion")
            }
        }
    }
}

impl Drop for Op<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let mut inner = self.ring.inner.borrow_mut();
        let idx = self.idx as usize;
        match std::mem::replace(&mut inner.slots[idx], Slot::Free) {
            Slot::Waiting(_, hold) => inner.slots[idx] = Slot::Orphaned(hold),
            // Completed but never collected: the memory can go now.
            Slot::Done(..) => inner.free.push(self.idx),
            other => inner.slots[idx] = other,
        }
    }
}

#[cfg(test)]
mod tests;
