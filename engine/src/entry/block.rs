//! The raw allocation behind an `Entry`: one block of bytes that describes
//! its own layout in its first 8 bytes, so a table slot can hold a thin
//! pointer and still know how much to free.
//!
//! ```text
//!   0        4       6       8
//!   [meta u32][klen16][vlen16] [expire u64]? [klen u32]? [desc] [key] [value]
//!    │                          only with TTL  key ≥ 64 KiB
//!    └ lru (24 bits) | kind (2) | TTL | LONG_KEY | COLL
//!
//!   desc by kind:  Int     i64 (8)         value: none
//!                  Embed   none            value: vlen16 bytes, exactly
//!                  Grow    len u64 (8)     value: len bytes, then spare room
//!                  Shared  Rc<[u8]> (16)   value: none (bytes in the Rc)
//!                  Coll    types::Coll     value: none (COLL set, kind bits 0)
//! ```
//!
//! Every string field is read and written as bytes (`from_le_bytes`), so
//! nothing for strings depends on alignment past the allocation's own 8.
//! A collection's descriptor is a live `Coll` that commands borrow in
//! place, so it must be 8-aligned: it is, because the header and the
//! expiry are 8 bytes each and a collection's long-key length field is
//! widened to 8 (`Shape::desc_at`).
//!
//! Why a flag bit (28) and not a wider kind field: bits 24-27 were all
//! taken, and the string layout must not change for the new kinds.
//! `from_bits` reads COLL as a third kind bit, so decoding a string's kind
//! is still one index into five, no extra branch.

use crate::types::Coll;
use std::alloc::{alloc, dealloc, handle_alloc_error, realloc, Layout};
use std::ptr::NonNull;

pub(super) const HEADER: usize = 8;
const ALIGN: usize = 8;

pub(super) const LRU_MASK: u32 = 0xFF_FFFF;
const KIND_SHIFT: u32 = 24;
const KIND_MASK: u32 = 0b11 << KIND_SHIFT;
const TTL: u32 = 1 << 26;
const LONG_KEY: u32 = 1 << 27;
/// The descriptor is a `Coll` (a hash or a set), not a string.
const COLL: u32 = 1 << 28;
/// A collection's descriptor: a `Coll`, padded to whole words.
pub(super) const COLL_DESC: usize = std::mem::size_of::<Coll>().next_multiple_of(8);
const _: () = assert!(std::mem::align_of::<Coll>() <= ALIGN);
/// `klen16` holding this means the key length is in the `klen u32` field.
const KLEN16_LONG: usize = 0xFFFF;

/// A grown string's block is rounded up to a power of two below this, and to
/// a multiple of it above (Redis's sds grows the same way), so repeated
/// APPENDs reallocate O(log n) times. The rounding is a function of the
/// length alone, so the block's size is always known from its header.
const GROW_STEP: usize = 1 << 20;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Int = 0,
    Embed = 1,
    Grow = 2,
    Shared = 3,
    /// A hash or a set: marked by the COLL bit (its kind bits are 0).
    Coll = 4,
}

impl Kind {
    fn from_bits(meta: u32) -> Kind {
        // The COLL bit joins the two kind bits as a third (a collection's
        // kind bits are 0, so it reads as 4): one index, no extra branch
        // on a string's path.
        let coll = (meta & COLL) >> (COLL.trailing_zeros() - 2);
        match coll | (meta & KIND_MASK) >> KIND_SHIFT {
            0 => Kind::Int,
            1 => Kind::Embed,
            2 => Kind::Grow,
            3 => Kind::Shared,
            _ => Kind::Coll,
        }
    }

    fn desc_len(self) -> usize {
        match self {
            Kind::Int | Kind::Grow => 8,
            Kind::Embed => 0,
            Kind::Shared => 16,
            Kind::Coll => COLL_DESC,
        }
    }
}

/// Where each part of a block lies: everything but the bytes themselves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Shape {
    pub kind: Kind,
    pub ttl: bool,
    pub klen: usize,
    /// Value bytes held in the block (Embed, Grow); 0 for Int and Shared.
    pub vlen: usize,
}

impl Shape {
    fn long_key(&self) -> bool {
        self.klen >= KLEN16_LONG
    }

    pub fn ttl_at(&self) -> usize {
        HEADER
    }

    /// The first byte after the header and the expiry: what moves as a unit
    /// when an expiry is added or dropped.
    pub fn tail_at(&self) -> usize {
        HEADER + if self.ttl { 8 } else { 0 }
    }

    pub fn desc_at(&self) -> usize {
        let klen32 = match self.kind {
            // Keeps the `Coll` that follows 8-aligned.
            Kind::Coll => 8,
            _ => 4,
        };
        self.tail_at() + if self.long_key() { klen32 } else { 0 }
    }

    pub fn key_at(&self) -> usize {
        self.desc_at() + self.kind.desc_len()
    }

    pub fn val_at(&self) -> usize {
        self.key_at() + self.klen
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.val_at() + self.vlen
    }

    /// The allocation's size: exactly what is used, except for a grown string.
    pub fn size(&self) -> usize {
        let used = self.used();
        match self.kind {
            Kind::Grow if used <= GROW_STEP => used.next_power_of_two(),
            Kind::Grow => used.div_ceil(GROW_STEP) * GROW_STEP,
            _ => used,
        }
    }

    fn layout(&self) -> Layout {
        Layout::from_size_align(self.size(), ALIGN).expect("block size fits a Layout")
    }

    /// The header's flags for this shape (the LRU bits are the caller's).
    fn flags(&self) -> u32 {
        let kind = match self.kind {
            Kind::Coll => COLL,
            k => (k as u32) << KIND_SHIFT,
        };
        kind | if self.ttl { TTL } else { 0 } | if self.long_key() { LONG_KEY } else { 0 }
    }

    /// Writes the header and the long key length; the rest is the caller's.
    pub fn write_header(&self, buf: &mut [u8], lru: u32) {
        let meta = (lru & LRU_MASK) | self.flags();
        buf[0..4].copy_from_slice(&meta.to_le_bytes());
        let klen16 = self.klen.min(KLEN16_LONG) as u16;
        buf[4..6].copy_from_slice(&klen16.to_le_bytes());
        let vlen16 = if self.kind == Kind::Embed {
            self.vlen as u16
        } else {
            0
        };
        buf[6..8].copy_from_slice(&vlen16.to_le_bytes());
        if self.long_key() {
            let at = self.tail_at();
            buf[at..at + 4].copy_from_slice(&(self.klen as u32).to_le_bytes());
        }
    }
}

pub(super) fn read_u64(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

pub(super) fn write_u64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

/// Allocates a block for `shape`, zero-filled: the byte views an `Entry`
/// hands out then never see uninitialised memory (spare room included).
pub(super) fn alloc_block(shape: &Shape) -> NonNull<u8> {
    let layout = shape.layout();
    // SAFETY: the layout's size is at least HEADER (8), never zero.
    let raw = unsafe { alloc(layout) };
    let ptr = NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(layout));
    // SAFETY: `ptr` is valid for `layout.size()` freshly allocated bytes.
    unsafe { ptr.as_ptr().write_bytes(0, layout.size()) };
    ptr
}

/// Frees a block.
///
/// # Safety
/// `ptr` came from `alloc_block`/`realloc_block` with a shape of the same
/// size as `shape`, and is not used again.
pub(super) unsafe fn free_block(ptr: NonNull<u8>, shape: &Shape) {
    // SAFETY: the caller guarantees the layout matches the allocation.
    unsafe { dealloc(ptr.as_ptr(), shape.layout()) }
}

/// Resizes a block whose shape goes from `old` to `new`; bytes past the
/// old size come zeroed. The header is the caller's to rewrite.
///
/// # Safety
/// `ptr` is a live block allocated with `old`'s size; it must not be used
/// after this returns (use the pointer returned).
pub(super) unsafe fn realloc_block(ptr: NonNull<u8>, old: &Shape, new: &Shape) -> NonNull<u8> {
    let (old_size, new_size) = (old.size(), new.size());
    if old_size == new_size {
        return ptr;
    }
    let layout = new.layout();
    // SAFETY: per the caller, `ptr` was allocated with `old.layout()`; the
    // new size is non-zero and fits a Layout (checked by `layout()`).
    let raw = unsafe { realloc(ptr.as_ptr(), old.layout(), new_size) };
    let ptr = NonNull::new(raw).unwrap_or_else(|| handle_alloc_error(layout));
    if new_size > old_size {
        // SAFETY: the block is now `new_size` bytes; this zeroes the new part.
        unsafe {
            ptr.as_ptr()
                .add(old_size)
                .write_bytes(0, new_size - old_size)
        };
    }
    ptr
}

/// Reads a block's shape from its header.
///
/// # Safety
/// `ptr` is a live block whose header has been written.
pub(super) unsafe fn read_shape(ptr: NonNull<u8>) -> Shape {
    let at = |offset: usize, len: usize| {
        // SAFETY: per the caller the block is live; the offsets read below
        // lie inside any block whose header says they exist.
        unsafe { std::slice::from_raw_parts(ptr.as_ptr().add(offset), len) }
    };
    let head = at(0, HEADER);
    let meta = u32::from_le_bytes(head[0..4].try_into().expect("4 bytes"));
    let mut shape = Shape {
        kind: Kind::from_bits(meta),
        ttl: meta & TTL != 0,
        klen: u16::from_le_bytes(head[4..6].try_into().expect("2 bytes")) as usize,
        vlen: u16::from_le_bytes(head[6..8].try_into().expect("2 bytes")) as usize,
    };
    if meta & LONG_KEY != 0 {
        let ext = at(shape.tail_at(), 4);
        shape.klen = u32::from_le_bytes(ext.try_into().expect("4 bytes")) as usize;
    }
    if shape.kind == Kind::Grow {
        shape.vlen = read_u64(at(shape.desc_at(), 8), 0) as usize;
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_16_byte_key_and_100_byte_value_fit_128_bytes() {
        let s = Shape {
            kind: Kind::Embed,
            ttl: false,
            klen: 16,
            vlen: 100,
        };
        assert_eq!(s.size(), 124);
        let with_ttl = Shape { ttl: true, ..s };
        assert_eq!(with_ttl.size(), 132);
    }

    #[test]
    fn shapes_read_back_from_the_header() {
        for shape in [
            Shape {
                kind: Kind::Grow,
                ttl: true,
                klen: 70_000,
                vlen: 3,
            },
            Shape {
                kind: Kind::Embed,
                ttl: false,
                klen: 0,
                vlen: 0,
            },
            Shape {
                kind: Kind::Shared,
                ttl: true,
                klen: 9,
                vlen: 0,
            },
            Shape {
                kind: Kind::Coll,
                ttl: true,
                klen: 70_000,
                vlen: 0,
            },
        ] {
            let ptr = alloc_block(&shape);
            // SAFETY: a fresh block of `shape.size()` bytes, freed below.
            let buf = unsafe { std::slice::from_raw_parts_mut(ptr.as_ptr(), shape.size()) };
            shape.write_header(buf, 0xABCDEF);
            if shape.kind == Kind::Grow {
                write_u64(buf, shape.desc_at(), shape.vlen as u64);
            }
            assert_eq!(
                u32::from_le_bytes(buf[0..4].try_into().unwrap()) & LRU_MASK,
                0xABCDEF
            );
            // SAFETY: the header was just written; the block is freed once.
            unsafe {
                assert_eq!(read_shape(ptr), shape);
                if shape.kind == Kind::Coll {
                    assert_eq!(shape.desc_at() % ALIGN, 0, "a Coll is 8-aligned");
                }
                free_block(ptr, &shape);
            }
        }
    }
}
