//! Arrays made ready ahead of need, one memory page at a time.
//!
//! Why: on this kind of VM the first write to a page costs a fault of
//! 5-30 µs, so a split that takes two fresh 20 KiB slot arrays (10 pages)
//! or a directory doubling that takes several chunks stalls its insert for
//! up to a quarter of a millisecond, and a few together pass 1 ms. A
//! `Reserve` keeps `want` arrays written in full (so faulted in) before
//! anyone asks; the table calls `step` once per insert, which writes at
//! most one page. An array is allocated once at full length (`Filling`),
//! so the allocator never copies it and every page is first touched by a
//! step.

use super::array::{Array, Filling, PAGE};

pub(super) struct Reserve<T> {
    /// Elements per array.
    len: usize,
    /// Arrays to keep ready.
    want: usize,
    ready: Vec<Array<T>>,
    filling: Option<Filling<T>>,
    make: fn() -> T,
}

impl<T> Reserve<T> {
    pub fn new(len: usize, make: fn() -> T) -> Self {
        Reserve {
            len,
            want: 0,
            ready: Vec::new(),
            filling: None,
            make,
        }
    }

    /// Elements in each array this reserve hands out.
    pub fn array_len(&self) -> usize {
        self.len
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
        let per_page = (PAGE / std::mem::size_of::<T>().max(1)).max(1);
        let len = self.len;
        let filling = self.filling.get_or_insert_with(|| Filling::new(len));
        filling.fill(per_page * pages, self.make);
        if filling.is_done() {
            let done = self.filling.take().expect("being filled");
            self.ready.push(done.finish());
        }
    }

    /// A ready array, or a fresh one (faulted in now) if none is.
    pub fn take(&mut self) -> Array<T> {
        self.ready
            .pop()
            .unwrap_or_else(|| Array::new(self.len, self.make))
    }

    /// Keeps `array` (`make`'s values throughout, of this reserve's length)
    /// ready when the reserve is short; frees it otherwise.
    pub fn put_back(&mut self, array: Array<T>) {
        debug_assert_eq!(array.len(), self.len);
        if self.short() {
            self.ready.push(array);
        }
    }

    /// Bytes held by arrays not yet handed out.
    pub fn bytes(&self) -> usize {
        let filling = if self.filling.is_some() { self.len } else { 0 };
        (self.ready.len() * self.len + filling) * std::mem::size_of::<T>()
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
