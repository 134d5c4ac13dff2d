//! A fixed-length heap array (a `Box<[T]>` in all but its allocation) that
//! is page-aligned once it is large, and can be built a page at a time.
//!
//! Why aligned: jemalloc starts an allocation of 16 KiB or more at a random
//! cache line of a page-padded extent (its "cache-oblivious" layout), so a
//! 32 KiB slot array touches 9 pages, not 8: an eighth more resident memory
//! for every segment. An allocation aligned to a page gets no offset, and
//! its pad page is never written.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

pub(super) const PAGE: usize = 4096;
/// From this size jemalloc serves an allocation from its own extent (a
/// "large" one), the kind that is given a random offset unless aligned.
const LARGE: usize = 16 * 1024;

pub(super) struct Array<T> {
    ptr: NonNull<T>,
    len: usize,
    /// Owns `len` values of T.
    _owns: PhantomData<T>,
}

fn layout<T>(len: usize) -> Layout {
    let bytes = len * std::mem::size_of::<T>();
    let align = if bytes >= LARGE {
        PAGE
    } else {
        std::mem::align_of::<T>()
    };
    Layout::from_size_align(bytes, align).expect("an array's size fits a Layout")
}

impl<T> Array<T> {
    /// `len` values from `make`.
    pub fn new(len: usize, make: fn() -> T) -> Self {
        let mut f = Filling::new(len);
        f.fill(len, make);
        f.finish()
    }

    /// The array of no elements (allocates nothing).
    pub fn empty() -> Self {
        Array {
            ptr: NonNull::dangling(),
            len: 0,
            _owns: PhantomData,
        }
    }
}

impl<T> Deref for Array<T> {
    type Target = [T];

    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: `ptr` holds `len` initialised values (dangling and 0 when
        // empty, which a slice allows), owned by `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> DerefMut for Array<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `deref`; `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> Drop for Array<T> {
    fn drop(&mut self) {
        // SAFETY: the `len` values are initialised and ours; the allocation
        // (when there is one) was made with `layout::<T>(len)`.
        unsafe {
            std::ptr::drop_in_place(&mut **self as *mut [T]);
            if layout::<T>(self.len).size() > 0 {
                dealloc(self.ptr.as_ptr().cast(), layout::<T>(self.len));
            }
        }
    }
}

/// An array being built: allocated at its full length, its first `done`
/// values written. A page not yet written is not yet resident.
pub(super) struct Filling<T> {
    ptr: NonNull<T>,
    len: usize,
    done: usize,
    _owns: PhantomData<T>,
}

impl<T> Filling<T> {
    pub fn new(len: usize) -> Self {
        let lay = layout::<T>(len);
        let ptr = if lay.size() == 0 {
            NonNull::dangling()
        } else {
            // SAFETY: the layout's size is not zero.
            let p = unsafe { alloc(lay) };
            NonNull::new(p.cast()).unwrap_or_else(|| handle_alloc_error(lay))
        };
        Filling {
            ptr,
            len,
            done: 0,
            _owns: PhantomData,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done == self.len
    }

    /// Writes up to `n` more values.
    pub fn fill(&mut self, n: usize, make: fn() -> T) {
        let end = (self.done + n).min(self.len);
        for i in self.done..end {
            // SAFETY: `i < len`, inside the allocation; the slot is not yet
            // initialised, so nothing is overwritten without a drop.
            unsafe { self.ptr.as_ptr().add(i).write(make()) };
            // Counted one by one: if `make` panics, Drop frees what is written.
            self.done = i + 1;
        }
    }

    /// The array, once every value is written.
    pub fn finish(self) -> Array<T> {
        assert!(self.is_done(), "an array handed out whole");
        let me = std::mem::ManuallyDrop::new(self);
        Array {
            ptr: me.ptr,
            len: me.len,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Filling<T> {
    fn drop(&mut self) {
        // SAFETY: the first `done` values are initialised and ours; the
        // allocation was made with `layout::<T>(len)`.
        unsafe {
            let written = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.done);
            std::ptr::drop_in_place(written);
            if layout::<T>(self.len).size() > 0 {
                dealloc(self.ptr.as_ptr().cast(), layout::<T>(self.len));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn large_arrays_start_on_a_page() {
        for len in [0usize, 1, 8, 100, 2047, 2048, 2560, 4096] {
            let a: Array<u64> = Array::new(len, || 3);
            assert_eq!(a.len(), len);
            assert!(a.iter().all(|&x| x == 3));
            if len * 8 >= LARGE {
                assert_eq!(a.as_ptr() as usize % PAGE, 0, "{len} u64s");
            }
        }
        let e: Array<u32> = Array::empty();
        assert!(e.is_empty());
    }

    /// Counts its drops (only the test below makes any).
    struct Counted(#[allow(dead_code)] u64);
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    impl Drop for Counted {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn values_are_dropped_once_whole_or_half_built() {
        drop(Array::new(3000, || Counted(7)));
        assert_eq!(DROPS.load(Ordering::Relaxed), 3000);
        let mut half = Filling::new(3000);
        half.fill(1000, || Counted(7));
        assert!(!half.is_done());
        drop(half);
        assert_eq!(DROPS.load(Ordering::Relaxed), 4000);
    }
}
