//! Multishot receives: one receive per connection that the kernel keeps
//! armed, each arrival landing in a buffer of the shard's pool (`pool`) and
//! queued in the connection's slot until its task reads it.
//!
//! ```text
//!   kernel ── arrival ──► pool buffer + CQE (F_MORE) ─► reap: Slot::Stream.arrived
//!   conn task: Stream::read ── copies arrivals into its buffer, recycles them
//!   end: no F_MORE (EOF, -ENOBUFS, cancelled at MAX_QUEUED) ─► Receiver starts
//!        another stream, or receives once into the connection's own buffer
//! ```

use super::{pool, push, take_slot, Inner, Ring, Slot, Sock, CANCEL};
use io_uring::{cqueue, opcode};
use std::collections::VecDeque;
use std::future::Future;
use std::task::{Poll, Waker};

/// How far a stream's read grows a connection's buffer to take in all that
/// has arrived (`Stream::read`).
const READ_GROWTH: usize = 256 * 1024;

#[derive(Default)]
pub(super) struct StreamSlot {
    pub(super) waker: Option<Waker>,
    /// Completions not read yet: result and flags (the pool buffer's id).
    pub(super) arrived: VecDeque<(i32, u32)>,
    /// The last completion came; the kernel posts nothing more here.
    pub(super) ended: bool,
    /// The `Stream` was dropped: buffers that still arrive go straight back.
    pub(super) orphaned: bool,
    /// It held MAX_QUEUED buffers unread and is being cancelled, so that one
    /// connection that is not reading cannot take the whole pool.
    pub(super) throttled: bool,
}

/// Pool buffers one stream may hold unread (128 KiB of the pool's 2 MiB):
/// past that it is cancelled, the socket's data waits in the kernel (the
/// client feels TCP's back-pressure), and the connection starts a new
/// stream when it has read what it holds. What arrives within the pass
/// that sees it still comes: a flooding connection was cut off holding
/// 28-67 buffers.
pub(super) const MAX_QUEUED: usize = 16;

impl Ring {
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
}

/// A multishot receive (`Ring::recv_stream`), read with `read`.
pub struct Stream<'r> {
    ring: &'r Ring,
    pub(super) idx: u32,
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
    pub(super) stream: Option<Stream<'r>>,
    /// The last stream ended for want of pool buffers: receive once into
    /// the connection's buffer before starting another.
    pub(super) plain_next: bool,
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
