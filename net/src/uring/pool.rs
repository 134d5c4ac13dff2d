//! The receive buffers a multishot receive takes from: a provided-buffer
//! ring (Linux 5.19) of POOL_BUFS buffers of BUF_LEN bytes, shared by every
//! connection of the shard.
//!
//! ```text
//!   kernel: data arrives on a socket → takes the buffer at the ring's head,
//!           writes it, posts a CQE naming the buffer (bid) and the length
//!   shard:  the connection copies the bytes out, then `recycle` puts the
//!           buffer back at the ring's tail (a store, no syscall)
//! ```
//!
//! The buffers are touched when the pool is made, so their memory is there
//! from start-up on (2 MiB a shard) and not counted against the keys a
//! server later stores. When every buffer is taken, a multishot receive ends
//! with ENOBUFS and its connection does one receive into its own buffer.

use io_uring::types::BufRingEntry;
use io_uring::IoUring;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, Ordering};

/// The buffer group multishot receives name.
pub const GROUP: u16 = 0;
/// Buffers in the ring (a power of two, at most 32768).
const POOL_BUFS: u16 = 256;
/// Bytes per buffer: a pipeline of 16 100-byte SETs fits in one.
pub const BUF_LEN: usize = 8 * 1024;

pub struct Pool {
    /// The ring the kernel reads buffers from: POOL_BUFS entries, the tail
    /// kept in the first entry's last field, in pages of its own.
    entries: NonNull<BufRingEntry>,
    data: Box<[u8]>,
    /// Buffers handed to the kernel so far (wrapping): the next entry to fill.
    pub(super) tail: u16,
}

fn ring_bytes() -> usize {
    POOL_BUFS as usize * std::mem::size_of::<BufRingEntry>()
}

impl Pool {
    /// A pool registered with `uring`; None when the kernel has no buffer
    /// rings (connections then receive into their own buffers only).
    pub fn register(uring: &IoUring) -> Option<Pool> {
        // SAFETY: an anonymous private mapping takes no pointer of ours.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                ring_bytes(),
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return None;
        }
        let mut data = vec![0u8; POOL_BUFS as usize * BUF_LEN].into_boxed_slice();
        for page in data.chunks_mut(4096) {
            // SAFETY: a write to a live byte; volatile so the page is faulted
            // in now even though it already reads as zero.
            unsafe { std::ptr::write_volatile(page.as_mut_ptr(), 0) };
        }
        let mut pool = Pool {
            entries: NonNull::new(addr.cast())?,
            data,
            tail: 0,
        };
        for bid in 0..POOL_BUFS {
            pool.put(bid);
        }
        pool.publish();
        // SAFETY: the ring stays mapped, and the buffers alive, until the
        // Pool is dropped, which Inner does after the IoUring.
        let registered = unsafe {
            uring
                .submitter()
                .register_buf_ring_with_flags(addr as u64, POOL_BUFS, GROUP, 0)
        };
        registered.ok().map(|_| pool)
    }

    /// The first `len` bytes of buffer `bid`.
    pub fn chunk(&self, bid: u16, len: usize) -> &[u8] {
        let at = bid as usize * BUF_LEN;
        &self.data[at..at + len.min(BUF_LEN)]
    }

    /// Gives buffer `bid` back to the kernel.
    pub fn recycle(&mut self, bid: u16) {
        self.put(bid);
        self.publish();
    }

    fn put(&mut self, bid: u16) {
        let addr = self.data[bid as usize * BUF_LEN..].as_ptr() as u64;
        let i = (self.tail & (POOL_BUFS - 1)) as usize;
        // SAFETY: i < POOL_BUFS, inside the mapping. The kernel reads an entry
        // only between the head and the published tail, which this is not yet.
        let entry = unsafe { &mut *self.entries.as_ptr().add(i) };
        entry.set_addr(addr);
        entry.set_len(BUF_LEN as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the entries put so far visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail field lives in the mapping, is 2-byte aligned, and
        // is only written here; the kernel reads it with an acquire load.
        let tail =
            unsafe { AtomicU16::from_ptr(BufRingEntry::tail(self.entries.as_ptr()) as *mut u16) };
        tail.store(self.tail, Ordering::Release);
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `register`; the ring that used it is gone.
        unsafe { libc::munmap(self.entries.as_ptr().cast(), ring_bytes()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_buffer_is_handed_out_once_with_its_own_memory() {
        let uring = IoUring::new(8).unwrap();
        let Some(pool) = Pool::register(&uring) else {
            return; // a kernel without buffer rings: nothing to check
        };
        let mut addrs: Vec<u64> = (0..POOL_BUFS as usize)
            // SAFETY: reads entries inside the mapping.
            .map(|i| unsafe { &*pool.entries.as_ptr().add(i) })
            .map(|e| {
                assert_eq!(e.len() as usize, BUF_LEN);
                assert_eq!(e.addr(), pool.chunk(e.bid(), 0).as_ptr() as u64);
                e.addr()
            })
            .collect();
        addrs.sort_unstable();
        addrs.dedup();
        assert_eq!(addrs.len(), POOL_BUFS as usize, "no buffer twice");
        assert_eq!(pool.tail, POOL_BUFS, "all published");
    }
}
