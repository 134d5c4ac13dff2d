//! Where a shard sleeps, and its timers: the driver's wait in
//! `io_uring_enter` when a whole turn found no work (`Ring::wait`), the
//! gathering wait that lets completions from busy clients pile up first,
//! and `Ring::sleep`, the timers that wake it (glommio's are not used on a
//! shard: see the ring's module doc).

use super::{Ring, BELL_READ, SLEEP_TIMEOUT};
use io_uring::{opcode, types};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The longest the driver sleeps with no timer due (a shard always has its
/// cron timers, so this only bounds a test's ring).
pub(super) const MAX_SLEEP: Duration = Duration::from_secs(1);

/// How long a sleeping shard lets completions gather before it wakes for
/// fewer than it expects (see `Ring::wait`), and the most it waits for.
const GATHER: Duration = Duration::from_micros(60);
pub(super) const MAX_GATHER: usize = 32;
const MIN_GATHER_CONNS: u32 = 32;

impl Ring {
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
    pub(super) fn fire_timers(&self) -> usize {
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

    /// After a sleep: a wake-up that found as many completions as it waited
    /// for may wait for twice as many next time; any other waits for as
    /// many as it found (one each: no gathering).
    pub(super) fn learn(&self, found: usize) {
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
    pub(super) fn wait(&self) {
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

pub(super) fn next_gather(want: usize, found: usize) -> usize {
    let next = if want > 1 && found >= want {
        want * 2
    } else {
        found
    };
    next.clamp(1, MAX_GATHER)
}
