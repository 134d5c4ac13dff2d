//! Arrays made ready ahead of need, one memory page at a time.
//!
//! Why: on this kind of VM the first write to a page costs a fault of
//! 5-30 µs, so a split that takes a fresh 32 KiB slot array (8 pages) or a
//! directory doubling that takes several chunks stalls its insert for up to
//! a quarter of a millisecond, and a few together pass 1 ms. A `Reserve`
//! keeps `want` arrays written in full (so faulted in) before anyone asks;
//! the table calls `step` once per insert, which writes at most one page.
//! An array is built by pushing into a `Vec` allocated once at full
//! capacity, so the allocator never copies it and every page is first
//! touched by a step.

const PAGE: usize = 4096;

pub(super) struct Reserve<T> {
    /// Elements per array.
    len: usize,
    /// Arrays to keep ready.
    want: usize,
    ready: Vec<Box<[T]>>,
    filling: Vec<T>,
    make: fn() -> T,
}

impl<T> Reserve<T> {
    pub fn new(len: usize, make: fn() -> T) -> Self {
        Reserve {
            len,
            want: 0,
            ready: Vec::new(),
            filling: Vec::new(),
            make,
        }
    }

    /// Sets how many arrays to keep ready.
    pub fn want(&mut self, n: usize) {
        self.want = n;
    }

    /// Whether a `step` would do anything.
    pub fn short(&self) -> bool {
        self.ready.len() < self.want
    }

    /// Writes one more page of the array being prepared (two when none is
    /// ready, to catch up after a burst of takes).
    pub fn step(&mut self) {
        if !self.short() {
            return;
        }
        let pages = if self.ready.is_empty() { 2 } else { 1 };
        if self.filling.capacity() == 0 {
            self.filling = Vec::with_capacity(self.len);
        }
        let per_page = (PAGE / std::mem::size_of::<T>().max(1)).max(1);
        let n = (per_page * pages).min(self.len - self.filling.len());
        let make = self.make;
        self.filling.extend(std::iter::repeat_with(make).take(n));
        if self.filling.len() == self.len {
            let done = std::mem::take(&mut self.filling);
            self.ready.push(done.into_boxed_slice());
        }
    }

    /// A ready array, or a fresh one (faulted in now) if none is.
    pub fn take(&mut self) -> Box<[T]> {
        self.ready.pop().unwrap_or_else(|| {
            let make = self.make;
            std::iter::repeat_with(make).take(self.len).collect()
        })
    }

    /// Bytes held by arrays not yet handed out.
    pub fn bytes(&self) -> usize {
        (self.ready.len() * self.len + self.filling.capacity()) * std::mem::size_of::<T>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_fill_arrays_a_page_at_a_time() {
        let mut r: Reserve<u64> = Reserve::new(2048, || 7);
        r.step();
        assert_eq!(r.bytes(), 0, "nothing wanted yet");
        r.want(1);
        r.step(); // two pages: 1024 of 2048
        assert!(r.short());
        r.step(); // one page... still none ready, so two: done
        assert!(!r.short());
        let a = r.take();
        assert_eq!(a.len(), 2048);
        assert!(a.iter().all(|&x| x == 7));
        assert!(r.short());
        assert_eq!(r.take().len(), 2048, "a fresh one when none is ready");
    }
}
