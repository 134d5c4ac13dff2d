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

mod pool;

/// The most one multishot arrival brings (a pool buffer's size).
pub const STREAM_CHUNK: usize = pool::BUF_LEN;

/// How far a stream's read grows a connection's buffer to take in all that
/// has arrived (`Stream::read`).
const READ_GROWTH: usize = 256 * 1024;

use crate::post::Bell;
use io_uring::{cqueue, opcode, squeue, types, IoUring};
use pool::Pool;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::os::fd::RawFd;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Entries in the submission queue; the completion queue is four times that,
/// so a pass with a receive and a send in flight for thousands of
/// connections does not overflow it (the kernel keeps any overflow, and a
/// pass collects it).
const SQ_ENTRIES: u32 = 4096;

/// The longest the driver sleeps with no timer due (a shard always has its
/// cron timers, so this only bounds a test's ring).
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// How long a sleeping shard lets completions gather before it wakes for
/// fewer than it expects (see `Ring::wait`), and the most it waits for.
const GATHER: Duration = Duration::from_micros(60);
const MAX_GATHER: usize = 32;
const MIN_GATHER_CONNS: u32 = 32;

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
            Some(i) => opcode::$op::new(types::Fixed(i) $(, $arg)*),
            None => opcode::$op::new(types::Fd($sock.fd) $(, $arg)*),
        }
    };
}

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

#[derive(Default)]
struct StreamSlot {
    waker: Option<Waker>,
    /// Completions not read yet: result and flags (the pool buffer's id).
    arrived: VecDeque<(i32, u32)>,
    /// The last completion came; the kernel posts nothing more here.
    ended: bool,
    /// The `Stream` was dropped: buffers that still arrive go straight back.
    orphaned: bool,
    /// It held MAX_QUEUED buffers unread and is being cancelled, so that one
    /// connection that is not reading cannot take the whole pool.
    throttled: bool,
}

/// Pool buffers one stream may hold unread (128 KiB of the pool's 2 MiB):
/// past that it is cancelled, the socket's data waits in the kernel (the
/// client feels TCP's back-pressure), and the connection starts a new
/// stream when it has read what it holds. What arrives within the pass
/// that sees it still comes: a flooding connection was cut off holding
/// 28-67 buffers.
const MAX_QUEUED: usize = 16;

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

    /// Resolves once `d` has passed. The shard's timers live here rather
    /// than in glommio, whose timers only fire when glommio's reactor runs,
    /// which a shard that sleeps in this ring never lets it do.
    pub fn sleep(&self, d: Duration) -> Sleep<'_> {
        let key = self.next_timer.get();
        self.next_timer.set(key + 1);
        Sleep {
            ring: self,
            key,
            deadline: Instant::now() + d,
        }
    }

    /// Wakes every timer that is due; returns how many.
    fn fire_timers(&self) -> usize {
        let mut timers = self.timers.borrow_mut();
        if timers.is_empty() {
            return 0;
        }
        let now = Instant::now();
        let mut fired = 0;
        for (_, deadline, waker) in timers.iter_mut() {
            if *deadline <= now {
                if let Some(w) = waker.take() {
                    w.wake();
                    fired += 1;
                }
            }
        }
        fired
    }

    /// How long the driver may sleep: until the next timer, at most MAX_SLEEP.
    fn sleep_for(&self) -> Duration {
        let now = Instant::now();
        self.timers
            .borrow()
            .iter()
            .filter(|(_, _, w)| w.is_some())
            .map(|(_, d, _)| d.saturating_duration_since(now))
            .min()
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP)
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

    /// Starts a multishot receive on `sock`: from now on every arrival is
    /// put in a pool buffer and queued for the `Stream`, with no operation
    /// to queue per receive. See `Stream::read` for how it ends.
    pub fn recv_stream(&self, sock: Sock) -> Stream<'_> {
        let sqe = target!(RecvMulti, sock, pool::GROUP).build();
        let mut inner = self.inner.borrow_mut();
        let idx = take_slot(&mut inner, Slot::Stream(StreamSlot::default()));
        push(&mut inner, sqe.user_data(idx as u64));
        Stream { ring: self, idx }
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

    /// After a sleep: a wake-up that found as many completions as it waited
    /// for may wait for twice as many next time; any other waits for as
    /// many as it found (one each: no gathering).
    fn learn(&self, found: usize) {
        self.gather.set(next_gather(self.gather.get(), found));
    }

    /// Blocks the shard's thread in `io_uring_enter` until a completion (a
    /// socket, the doorbell's eventfd read) or the next timer.
    ///
    /// Why it gathers: a shard that wakes for every request arriving from a
    /// busy client pays a wake-up each (on a VM, a halt exit and an IPI,
    /// billed partly to the client that sends), where a shard kept busy
    /// would have found several waiting. With DEFER_TASKRUN the kernel can
    /// hold the wake-up until `gather` completions are queued: arrivals then
    /// cost the sender no IPI and this shard one wake-up per batch. The wait
    /// for a batch is cut at GATHER (60 µs); `learn` keeps it at 1 when
    /// wake-ups find one completion each, and it is off unless
    /// MIN_GATHER_CONNS connections received in the last millisecond or so:
    /// a few clients are bound by the round trip, which any wait lengthens.
    /// Mail from another shard counts as one completion, so while a shard
    /// gathers, a hop to it may wait up to GATHER too.
    ///
    /// Measured at pipeline 1, 50 clients (cpu-per-request, same run as
    /// redis-server): waking on the first completion, CPU per request 0.89×
    /// and ops/s 0.92×; spinning 10-100 µs before sleeping, 0.99-1.05× and
    /// 0.94-0.99×; gathering, 0.86-0.88× and 1.03-1.05×. With 10 clients
    /// gathering cost 7% of ops/s, and with 4 busy clients among 60 idle
    /// connections 28% (when gated on operations in flight), hence
    /// MIN_GATHER_CONNS counts connections that receive.
    ///
    /// How long to gather: arrivals from 50 unpipelined clients come every
    /// ~6 µs, so a wait asking for more is cut at GATHER, which sets the
    /// batch. Its replies then go out in one burst, which wakes the client
    /// once (an IPI on a VM, billed to the sender) instead of once per few
    /// replies. Measured 2026-11-26, same runs as redis-server: 30 µs,
    /// 0.86-0.89× CPU per request; 60 µs, 0.76-0.78× with ops/s 1.04-1.05×,
    /// p50 at 50 clients 0.167 → 0.175 ms and p99 0.37 → 0.41 ms, loadbench
    /// p99.9 still under redis-server's; 100 µs, 0.75×, but loadbench p99.9
    /// over redis-server's in one of two runs. At 200 clients 60 µs was
    /// better in every figure (p99 1.18 → 0.84 ms).
    fn wait(&self) {
        self.woke.set(true);
        if !self.arm_bell() {
            return;
        }
        let mut inner = self.inner.borrow_mut();
        // No more than can come (one per operation in flight), and only
        // with many connections receiving (this millisecond or the last): a
        // few clients are bound by the round trip, which a gathering wait
        // lengthens, however many idle connections there are besides.
        let in_flight = inner.slots.len() - inner.free.len();
        let want = if self.busy_connections() >= MIN_GATHER_CONNS {
            self.gather.get().min(in_flight)
        } else {
            1
        };
        if want > 1 && self.ext_arg {
            if !self.bell.may_sleep() {
                return;
            }
            let ts = types::Timespec::from(GATHER);
            let args = types::SubmitArgs::new().timespec(&ts);
            let r = inner.uring.submitter().submit_with_args(want, &args);
            self.bell.awake();
            let timed_out = entered(r);
            let found = !inner.uring.completion().is_empty() || inner.uring.submission().taskrun();
            if found || !timed_out {
                return;
            }
            // Nothing came at all: sleep until something does.
        }
        drop(inner);
        self.block();
    }

    /// Puts the doorbell's eventfd read in the ring, if it is not there, so
    /// mail ends a sleep. False when the queue is full (then do not sleep).
    fn arm_bell(&self) -> bool {
        let mut inner = self.inner.borrow_mut();
        if inner.bell_armed {
            return true;
        }
        let sqe = opcode::Read::new(types::Fd(self.eventfd), self.bell_buf.get().cast(), 8)
            .build()
            .user_data(BELL_READ);
        // SAFETY: the 8-byte target lives in the Ring, which outlives the
        // ring's operations (dropping the IoUring ends them).
        if unsafe { inner.uring.submission().push(&sqe) }.is_err() {
            return false;
        }
        inner.bell_armed = true;
        true
    }

    /// Waits for the first completion or the next timer.
    fn block(&self) {
        let timeout = self.sleep_for();
        let mut guard = self.inner.borrow_mut();
        let inner = &mut *guard;
        if !self.bell.may_sleep() {
            return;
        }
        let ts = types::Timespec::from(timeout);
        let r = if self.ext_arg {
            let args = types::SubmitArgs::new().timespec(&ts);
            inner.uring.submitter().submit_with_args(1, &args)
        } else {
            // Completes at the deadline or with the first other completion
            // (count 1), so timeouts do not pile up across wake-ups.
            let sqe = opcode::Timeout::new(&ts)
                .count(1)
                .build()
                .user_data(SLEEP_TIMEOUT);
            // SAFETY: `ts` outlives the enter below, which is the only time
            // the kernel reads it (it copies the timespec at submission).
            let pushed = unsafe { inner.uring.submission().push(&sqe) }.is_ok();
            if pushed {
                inner.uring.submit_and_wait(1)
            } else {
                Ok(0)
            }
        };
        self.bell.awake();
        entered(r);
    }
}

/// A timer on the ring (`Ring::sleep`).
pub struct Sleep<'r> {
    ring: &'r Ring,
    key: u64,
    deadline: Instant,
}

impl Future for Sleep<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut timers = self.ring.timers.borrow_mut();
        let at = timers.iter().position(|t| t.0 == self.key);
        if Instant::now() >= self.deadline {
            if let Some(i) = at {
                timers.swap_remove(i);
            }
            return Poll::Ready(());
        }
        match at {
            Some(i) => timers[i].2 = Some(cx.waker().clone()),
            None => timers.push((self.key, self.deadline, Some(cx.waker().clone()))),
        }
        Poll::Pending
    }
}

impl Drop for Sleep<'_> {
    fn drop(&mut self) {
        let mut timers = self.ring.timers.borrow_mut();
        if let Some(i) = timers.iter().position(|t| t.0 == self.key) {
            timers.swap_remove(i);
        }
    }
}

/// The result of a waiting `io_uring_enter`: true when it timed out.
/// Interrupted or busy is a normal wake-up; anything else is a broken ring.
fn entered(r: io::Result<usize>) -> bool {
    match r {
        Ok(_) => false,
        Err(e) => match e.raw_os_error() {
            Some(libc::ETIME) => true,
            Some(libc::EINTR | libc::EBUSY | libc::EAGAIN) => false,
            _ => panic!("io_uring_enter failed: {e}"),
        },
    }
}

fn next_gather(want: usize, found: usize) -> usize {
    let next = if want > 1 && found >= want {
        want * 2
    } else {
        found
    };
    next.clamp(1, MAX_GATHER)
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

/// A multishot receive (`Ring::recv_stream`), read with `read`.
pub struct Stream<'r> {
    ring: &'r Ring,
    idx: u32,
}

/// What a `Stream` read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// This many bytes, appended to the buffer.
    Data(usize),
    /// The stream is over: 0 at end of file, `-errno` (`-ENOBUFS`: the pool
    /// ran dry), or 1 when the kernel ended it after data for reasons of its
    /// own or the ring did (MAX_QUEUED). The connection receives on by other
    /// means or ends.
    End(i32),
}

impl<'r> Stream<'r> {
    /// Waits for data, then appends what has arrived to `buf` from `filled`
    /// and gives those pool buffers back: all of it while `buf` may grow to
    /// READ_GROWTH, at least one arrival otherwise (`buf` does not grow for
    /// one when it has `STREAM_CHUNK` bytes of room). Data comes first: an
    /// end is reported by the read after.
    ///
    /// Why take it all: a pipeline of large SETs (16 of 4 KiB) that is run
    /// in one go is answered in one send; run a few commands per read, it
    /// took several. Measured, 4 KiB SET+GET at pipeline 16: 3.7 µs of
    /// server CPU per request taking all, 5.0 taking what fits.
    pub fn read<'a>(
        &'a mut self,
        buf: &'a mut Vec<u8>,
        filled: usize,
    ) -> impl Future<Output = Received> + use<'a, 'r> {
        std::future::poll_fn(move |cx| {
            let mut guard = self.ring.inner.borrow_mut();
            let Inner { slots, pool, .. } = &mut *guard;
            let Slot::Stream(st) = &mut slots[self.idx as usize] else {
                unreachable!("a stream's slot holds a stream")
            };
            let mut n = 0;
            while let Some(&(res, flags)) = st.arrived.front() {
                // An end waits for the next read; so do chunks that would
                // grow the buffer past READ_GROWTH once something was read
                // (a flood does not balloon it).
                let need = filled + n + res.max(0) as usize;
                if res <= 0 || (n > 0 && need > buf.len() && need > READ_GROWTH) {
                    break;
                }
                st.arrived.pop_front();
                let (Some(bid), Some(pool)) = (cqueue::buffer_select(flags), pool.as_mut()) else {
                    continue;
                };
                let chunk = pool.chunk(bid, res as usize);
                let at = filled + n;
                if buf.len() < at + chunk.len() {
                    let doubled = (buf.len() * 2).min(READ_GROWTH);
                    buf.resize((at + chunk.len()).max(doubled), 0);
                }
                buf[at..at + chunk.len()].copy_from_slice(chunk);
                n += chunk.len();
                pool.recycle(bid);
            }
            if n > 0 {
                return Poll::Ready(Received::Data(n));
            }
            match st.arrived.front() {
                // The ring cancelled it (MAX_QUEUED): start another.
                Some(&(res, _)) if res == -libc::ECANCELED && st.throttled => {
                    Poll::Ready(Received::End(1))
                }
                Some(&(res, _)) => {
                    if res == -libc::EINVAL {
                        // A kernel without multishot receives (before 6.0).
                        self.ring.multishot.set(false);
                    }
                    Poll::Ready(Received::End(res))
                }
                None if st.ended => Poll::Ready(Received::End(1)),
                None => {
                    st.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        let mut guard = self.ring.inner.borrow_mut();
        let inner = &mut *guard;
        let idx = self.idx as usize;
        let Slot::Stream(st) = &mut inner.slots[idx] else {
            return;
        };
        // Buffers taken and not read go back.
        for (_, flags) in st.arrived.drain(..) {
            if let (Some(bid), Some(pool)) = (cqueue::buffer_select(flags), inner.pool.as_mut()) {
                pool.recycle(bid);
            }
        }
        if st.ended {
            inner.slots[idx] = Slot::Free;
            inner.free.push(self.idx);
            return;
        }
        // Still armed: cancel it, and free the slot when its last
        // completion comes (`reap`).
        st.orphaned = true;
        push(
            inner,
            opcode::AsyncCancel::new(idx as u64)
                .build()
                .user_data(CANCEL),
        );
    }
}

/// How a connection receives: from a multishot receive while the ring can
/// give it one (no operation queued per receive: the kernel keeps watching
/// the socket), one receive into its own buffer at a time otherwise.
#[derive(Default)]
pub struct Receiver<'r> {
    stream: Option<Stream<'r>>,
    /// The last stream ended for want of pool buffers: receive once into
    /// the connection's buffer before starting another.
    plain_next: bool,
}

impl<'r> Receiver<'r> {
    /// Appends what arrives next to `rbuf[filled..]`, which has room for a
    /// plain receive (`filled < rbuf.len()`) and grows for a stream's.
    /// Returns the bytes added, 0 at end of file, or `-errno`.
    pub async fn recv(
        &mut self,
        ring: &'r Ring,
        sock: Sock,
        rbuf: &mut Vec<u8>,
        filled: usize,
        expect_empty: bool,
    ) -> i32 {
        loop {
            if !ring.multishot() || std::mem::take(&mut self.plain_next) {
                let op = ring.recv(sock, std::mem::take(rbuf), filled, expect_empty);
                let (res, hold) = op.await;
                *rbuf = hold.into_buf();
                return res;
            }
            let stream = self.stream.get_or_insert_with(|| ring.recv_stream(sock));
            match stream.read(rbuf, filled).await {
                Received::Data(n) => return n as i32,
                Received::End(res) => {
                    self.stream = None;
                    match res {
                        0 => return 0,
                        // Ended by the kernel after data: start another.
                        1 => {}
                        // No pool buffer, or no multishot in this kernel.
                        e if e == -libc::ENOBUFS || e == -libc::EINVAL => self.plain_next = true,
                        e => return e,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;

    /// Runs `f` on an executor with a ring whose driver runs beside it, and
    /// stops the ring when `f` is done.
    fn with_driven_ring(
        f: impl FnOnce(Rc<Ring>) -> Pin<Box<dyn Future<Output = ()>>> + Send + 'static,
    ) {
        glommio::LocalExecutorBuilder::default()
            .spawn(move || async move {
                let ring = Ring::new().unwrap();
                glommio::spawn_local(ring.clone().drive()).detach();
                f(ring.clone()).await;
                ring.stop();
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn gathering_grows_when_batches_fill_and_stops_for_a_lone_client() {
        assert_eq!(next_gather(1, 1), 1, "one per wake-up: no gathering");
        assert_eq!(next_gather(1, 0), 1);
        assert_eq!(next_gather(1, 6), 6, "a wake-up found six");
        assert_eq!(next_gather(6, 6), 12, "filled: wait for more");
        assert_eq!(next_gather(24, 30), MAX_GATHER);
        assert_eq!(next_gather(12, 3), 3, "cut short: wait for what came");
    }

    #[test]
    fn busy_connections_are_counted_once_per_millisecond() {
        let ring = Ring::new().unwrap();
        let mut conns = [0u64; 40];
        ring.now_ms.set(1000);
        for c in conns.iter_mut() {
            ring.count_active(c);
            ring.count_active(c);
        }
        assert_eq!(ring.active.get(), 40);
        ring.now_ms.set(1001);
        ring.count_active(&mut conns[0]);
        assert_eq!((ring.active.get(), ring.active_before.get()), (1, 40));
        assert_eq!(ring.busy_connections(), 40);
        // Nobody since: a burst that ended is not busy.
        ring.now_ms.set(1003);
        assert_eq!(ring.busy_connections(), 0);
        // A quiet gap: the millisecond before this one had nobody.
        ring.now_ms.set(1005);
        ring.count_active(&mut conns[0]);
        assert_eq!((ring.active.get(), ring.active_before.get()), (1, 0));
    }

    #[test]
    fn a_sleeping_ring_wakes_for_its_bell_and_its_timers() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                let started = Instant::now();
                ring.sleep(Duration::from_millis(20)).await;
                assert!(started.elapsed() >= Duration::from_millis(20));
                // Nothing in flight: the driver sleeps in the ring until
                // another thread rings the bell.
                let bell = ring.bell();
                let ringer = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    bell.ring();
                });
                let started = Instant::now();
                ring.mail().await;
                assert!(started.elapsed() >= Duration::from_millis(15));
                assert!(
                    started.elapsed() < MAX_SLEEP,
                    "woken by the bell, not the cap"
                );
                ringer.join().unwrap();
            })
        });
    }

    #[test]
    fn accept_receive_and_send_through_the_ring() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                let listener = crate::listen::listen([127, 0, 0, 1].into(), 0, 8).unwrap();
                let addr = listener.local_addr().unwrap();
                let client = std::thread::spawn(move || {
                    let mut c = std::net::TcpStream::connect(addr).unwrap();
                    c.write_all(b"ping").unwrap();
                    let mut back = [0u8; 4];
                    c.read_exact(&mut back).unwrap();
                    back
                });
                let (fd, _) = ring.accept(listener.as_raw_fd()).await;
                assert!(fd >= 0, "accept: {fd}");
                // Named by a registered slot, which is given back and reused.
                let sock = ring.register(fd);
                assert!(sock.fixed.is_some(), "this kernel has sparse file tables");
                let (n, hold) = ring.recv(sock, vec![0u8; 64], 0, false).await;
                let buf = hold.into_buf();
                assert_eq!(&buf[..n as usize], b"ping");
                let (sent, _) = ring.send(sock, b"pong".to_vec(), 0).await;
                assert_eq!(sent, 4);
                assert_eq!(&client.join().unwrap(), b"pong");
                ring.release(sock);
                assert_eq!(ring.register(fd).fixed, sock.fixed);
                // SAFETY: fd is the accepted socket, closed once.
                unsafe { libc::close(fd) };
            })
        });
    }

    /// Runs passes of `ring` (no driver) until `done`, for up to 100 ms.
    fn pass_until(ring: &Ring, done: impl Fn() -> bool) {
        for _ in 0..100 {
            ring.pass();
            if done() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// What a `hinted_ring`'s hint has been shown.
    type Seen = Rc<RefCell<Vec<Vec<u8>>>>;

    /// A ring (no driver) whose arrival hint keeps a copy of every arrival.
    fn hinted_ring() -> (Rc<Ring>, Seen) {
        let ring = Ring::new().unwrap();
        let seen = Seen::default();
        let log = seen.clone();
        ring.on_arrivals(Box::new(move |bufs: &[&[u8]]| {
            log.borrow_mut().extend(bufs.iter().map(|b| b.to_vec()));
        }));
        (ring, seen)
    }

    fn sorted(seen: &Seen) -> Vec<Vec<u8>> {
        let mut got = seen.borrow().clone();
        got.sort();
        got
    }

    fn socket_pairs(
        n: usize,
    ) -> Vec<(
        std::os::unix::net::UnixStream,
        std::os::unix::net::UnixStream,
    )> {
        (0..n)
            .map(|_| std::os::unix::net::UnixStream::pair().unwrap())
            .collect()
    }

    #[test]
    fn a_pass_shows_its_arrivals_before_their_tasks_run() {
        let (ring, seen) = hinted_ring();
        let pairs = socket_pairs(3);
        for (i, (a, _)) in pairs.iter().enumerate() {
            (&*a).write_all(format!("new{i}").as_bytes()).unwrap();
        }
        // The third buffer holds two bytes kept from an earlier read.
        let mut kept = vec![0u8; 64];
        kept[..2].copy_from_slice(b"ab");
        let ops: Vec<Op<'_>> = vec![
            ring.recv(Sock::plain(pairs[0].1.as_raw_fd()), vec![0u8; 64], 0, false),
            ring.recv(Sock::plain(pairs[1].1.as_raw_fd()), vec![0u8; 64], 0, false),
            ring.recv(Sock::plain(pairs[2].1.as_raw_fd()), kept, 2, false),
        ];
        pass_until(&ring, || !seen.borrow().is_empty());
        assert_eq!(
            sorted(&seen),
            [b"new0".to_vec(), b"new1".to_vec(), b"new2".to_vec()]
        );
        drop(ops);
        // One arrival alone is left to its task.
        seen.borrow_mut().clear();
        (&pairs[0].0).write_all(b"solo").unwrap();
        let op = ring.recv(Sock::plain(pairs[0].1.as_raw_fd()), vec![0u8; 64], 0, false);
        pass_until(&ring, || {
            matches!(ring.inner.borrow().slots[op.idx as usize], Slot::Done(..))
        });
        assert!(matches!(
            ring.inner.borrow().slots[op.idx as usize],
            Slot::Done(4, _)
        ));
        assert!(seen.borrow().is_empty());
    }

    /// The byte at offset `i` of what `flood` sends.
    fn pattern(i: usize) -> u8 {
        (i % 251) as u8
    }

    /// Sends `total` bytes of `pattern` on `a` from a thread of its own.
    fn flood(a: std::os::unix::net::UnixStream, total: usize) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            let data: Vec<u8> = (0..total).map(pattern).collect();
            for piece in data.chunks(16 * 1024) {
                (&a).write_all(piece).unwrap();
            }
        })
    }

    /// A receiver for `sock` with its stream started.
    fn streaming(ring: &Ring, sock: Sock) -> Receiver<'_> {
        Receiver {
            stream: Some(ring.recv_stream(sock)),
            plain_next: false,
        }
    }

    /// Receives `total` bytes through `receiver` and checks every one.
    async fn receive_all<'r>(
        ring: &'r Ring,
        receiver: &mut Receiver<'r>,
        sock: Sock,
        total: usize,
    ) {
        let mut buf = vec![0u8; 4096];
        let mut filled = 0;
        while filled < total {
            if buf.len() - filled < STREAM_CHUNK {
                buf.resize(buf.len() * 2, 0);
            }
            let n = receiver.recv(ring, sock, &mut buf, filled, false).await;
            assert!(n > 0, "receive: {n}");
            filled += n as usize;
        }
        assert_eq!(filled, total);
        assert!(buf[..total]
            .iter()
            .enumerate()
            .all(|(i, &v)| v == pattern(i)));
    }

    /// Sleeps on `ring` until `done`, for up to 2 s.
    async fn sleep_until(ring: &Ring, done: impl Fn() -> bool) {
        for _ in 0..2000 {
            if done() {
                return;
            }
            ring.sleep(Duration::from_millis(1)).await;
        }
    }

    #[test]
    fn a_connection_that_does_not_read_cannot_take_the_whole_pool() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                const TOTAL: usize = 1 << 20;
                let writer = flood(a, TOTAL);
                let sock = Sock::plain(b.as_raw_fd());
                let mut receiver = streaming(&ring, sock);
                let idx = receiver.stream.as_ref().unwrap().idx as usize;
                let stopped = || match &ring.inner.borrow().slots[idx] {
                    Slot::Stream(st) => st.ended.then_some(st.arrived.len()),
                    _ => None,
                };
                sleep_until(&ring, || stopped().is_some()).await;
                // Cut off well short of the pool: past MAX_QUEUED it holds only
                // what arrived within the pass that saw it (measured: 28-67).
                let held = stopped().expect("the stream was cut off");
                assert!(held < 128, "held {held} of 256 buffers");
                // Another connection still receives from the pool.
                let (c, d) = std::os::unix::net::UnixStream::pair().unwrap();
                let mut other = ring.recv_stream(Sock::plain(d.as_raw_fd()));
                (&c).write_all(b"still served").unwrap();
                let mut buf = vec![0u8; 64];
                assert_eq!(other.read(&mut buf, 0).await, Received::Data(12));
                // And the first one gets everything, in order.
                receive_all(&ring, &mut receiver, sock, TOTAL).await;
                writer.join().unwrap();
            })
        });
    }

    #[test]
    fn a_pass_shows_what_streams_brought_too() {
        let (ring, seen) = hinted_ring();
        let pairs = socket_pairs(2);
        let streams: Vec<Stream<'_>> = pairs
            .iter()
            .map(|(_, b)| ring.recv_stream(Sock::plain(b.as_raw_fd())))
            .collect();
        ring.pass(); // the receives are in the kernel before anything arrives
        for (i, (a, _)) in pairs.iter().enumerate() {
            (&*a).write_all(format!("pooled{i}").as_bytes()).unwrap();
        }
        pass_until(&ring, || !seen.borrow().is_empty());
        assert_eq!(sorted(&seen), [b"pooled0".to_vec(), b"pooled1".to_vec()]);
        drop(streams);
    }

    #[test]
    fn a_dropped_receive_keeps_its_buffer_until_the_kernel_is_done() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                let (_a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                let early = ring.recv(Sock::plain(b.as_raw_fd()), vec![0u8; 64], 0, false);
                drop(early);
                // The kernel still owns slot 0 and its buffer: a new op takes another slot.
                let second = ring.recv(Sock::plain(b.as_raw_fd()), vec![0u8; 64], 0, false);
                assert_eq!(second.idx, 1);
                assert!(matches!(ring.inner.borrow().slots[0], Slot::Orphaned(_)));
                // SAFETY: b is open; shutting it ends both pending receives.
                unsafe { libc::shutdown(b.as_raw_fd(), libc::SHUT_RDWR) };
                assert_eq!(second.await.0, 0);
                for _ in 0..100 {
                    if matches!(ring.inner.borrow().slots[0], Slot::Free) {
                        break;
                    }
                    ring.sleep(Duration::from_millis(1)).await;
                }
                let inner = ring.inner.borrow();
                assert!(inner.slots.iter().all(|s| matches!(s, Slot::Free)));
                assert_eq!(inner.free.len(), 2);
            })
        });
    }

    #[test]
    fn a_stream_reads_arrivals_in_order_and_ends_at_end_of_file() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                assert!(ring.multishot(), "this kernel has multishot receives");
                let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                let mut stream = ring.recv_stream(Sock::plain(b.as_raw_fd()));
                let mut buf = vec![0u8; 4];
                (&a).write_all(b"hello ").unwrap();
                assert_eq!(stream.read(&mut buf, 0).await, Received::Data(6));
                (&a).write_all(b"world").unwrap();
                assert_eq!(stream.read(&mut buf, 6).await, Received::Data(5));
                assert_eq!(&buf[..11], b"hello world", "grown to fit, in order");
                drop(a);
                assert_eq!(stream.read(&mut buf, 11).await, Received::End(0));
                drop(stream);
                let inner = ring.inner.borrow();
                assert!(inner.slots.iter().all(|s| matches!(s, Slot::Free)));
                drop(inner);
            })
        });
    }

    #[test]
    fn a_dropped_stream_is_cancelled_and_its_buffers_come_back() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                let stream = ring.recv_stream(Sock::plain(b.as_raw_fd()));
                (&a).write_all(b"never read").unwrap();
                let queued = || match &ring.inner.borrow().slots[stream.idx as usize] {
                    Slot::Stream(st) => st.arrived.len(),
                    _ => 0,
                };
                for _ in 0..1000 {
                    if queued() > 0 {
                        break;
                    }
                    ring.sleep(Duration::from_millis(1)).await;
                }
                assert_eq!(queued(), 1);
                let tail = ring.inner.borrow().pool.as_ref().unwrap().tail;
                drop(stream);
                assert_eq!(
                    ring.inner.borrow().pool.as_ref().unwrap().tail,
                    tail.wrapping_add(1),
                    "the unread buffer went back"
                );
                for _ in 0..100 {
                    if ring
                        .inner
                        .borrow()
                        .slots
                        .iter()
                        .all(|s| matches!(s, Slot::Free))
                    {
                        break;
                    }
                    ring.sleep(Duration::from_millis(1)).await;
                }
                assert!(ring
                    .inner
                    .borrow()
                    .slots
                    .iter()
                    .all(|s| matches!(s, Slot::Free)));
            })
        });
    }

    #[test]
    fn receivers_whose_pool_runs_dry_go_on_without_losing_a_byte() {
        with_driven_ring(|ring| {
            Box::pin(async move {
                // Sixteen connections that do not read hold more than the
                // pool has, even cut off past MAX_QUEUED each.
                const TOTAL: usize = 1 << 20;
                let mut conns = Vec::new();
                for _ in 0..16 {
                    let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
                    let sock = Sock::plain(b.as_raw_fd());
                    conns.push((flood(a, TOTAL), streaming(&ring, sock), sock, b));
                }
                let dry = || {
                    let inner = ring.inner.borrow();
                    inner.slots.iter().any(|s| match s {
                        Slot::Stream(st) if st.ended => {
                            st.arrived.back().map(|c| c.0) == Some(-libc::ENOBUFS)
                        }
                        _ => false,
                    })
                };
                sleep_until(&ring, dry).await;
                assert!(dry(), "the pool ran dry and a stream ended");
                for (writer, mut receiver, sock, _b) in conns {
                    receive_all(&ring, &mut receiver, sock, TOTAL).await;
                    writer.join().unwrap();
                }
            })
        });
    }
}
